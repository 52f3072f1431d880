//! The audit: what went in, what each rule let through, what came out, and the hashes
//! that let a reviewer check it.

use crate::export::{write_quarantine, Format, HashingWriter, ZoneWriter};
use crate::ingest::{InputSummary, Landing};
use crate::pii::Salt;
use crate::policy::{Policy, Preset};
use crate::zones::{Findings, Zone, Zones};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;

/// The policy as the audit records it: the knobs, and where the salt came from (never the
/// salt itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPolicy {
    /// `strict`, `rubric` or `custom`.
    pub preset: String,
    /// The knobs.
    #[serde(flatten)]
    pub knobs: Policy,
    /// `given` when the user supplied the salt (outputs can be reproduced), `random`
    /// otherwise; absent when no pseudonyms were made.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salt: Option<String>,
}

/// Rows in one zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneCount {
    /// Number of rows.
    pub rows: u64,
}

/// Quarantine totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineSummary {
    /// Records quarantined in all.
    pub total: u64,
    /// How many records each reason quarantined.
    pub by_reason: BTreeMap<String, u64>,
}

/// One file written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputSummary {
    /// File name, e.g. `machine_learning_curated.parquet`.
    pub name: String,
    /// Rows (records) in it.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
}

/// The audit, as written to `audit.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    /// The stedi-core version that made it.
    pub version: String,
    /// The policy the zones were built with.
    pub policy: AuditPolicy,
    /// Each input file, in processing order.
    pub inputs: Vec<InputSummary>,
    /// Rows per zone, for all eight.
    pub zones: BTreeMap<Zone, ZoneCount>,
    /// What the filters found.
    pub findings: Findings,
    /// Quarantine totals.
    pub quarantine: QuarantineSummary,
    /// Every file written, in writing order.
    pub outputs: Vec<OutputSummary>,
}

impl Audit {
    /// The audit of a run, before any output is written.
    pub fn new(landing: &Landing, zones: &Zones, policy: &Policy, salt_given: bool) -> Audit {
        let mut by_reason = BTreeMap::new();
        for q in &landing.quarantine {
            *by_reason.entry(q.reason.clone()).or_default() += 1;
        }
        Audit {
            version: crate::version().to_string(),
            policy: AuditPolicy {
                preset: policy
                    .matching_preset()
                    .map_or("custom", |p| match p {
                        Preset::Strict => "strict",
                        Preset::Rubric => "rubric",
                    })
                    .to_string(),
                knobs: *policy,
                salt: (policy.pii == crate::policy::Pii::Pseudonymize)
                    .then(|| if salt_given { "given" } else { "random" }.to_string()),
            },
            inputs: landing.inputs.clone(),
            zones: Zone::ALL
                .into_iter()
                .map(|z| {
                    (
                        z,
                        ZoneCount {
                            rows: zones.rows(landing, z) as u64,
                        },
                    )
                })
                .collect(),
            findings: zones.findings.clone(),
            quarantine: QuarantineSummary {
                total: landing.quarantine.len() as u64,
                by_reason,
            },
            outputs: Vec::new(),
        }
    }

    /// Rows in a zone.
    pub fn rows(&self, zone: Zone) -> u64 {
        self.zones.get(&zone).map_or(0, |z| z.rows)
    }

    /// The audit as pretty-printed JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("the audit is plain data");
        s.push('\n');
        s
    }
}

/// Everything a run writes: the eight zones in one format, `quarantine.jsonl`, then
/// `audit.json` listing the others with their hashes, and `report.html` showing it. `open`
/// gives a writer for a file name, and each file is written before the next is opened;
/// the CLI opens files, the browser collects bytes. Returns the audit.
pub fn write_run<W: Write + Send>(
    landing: &Landing,
    zones: &Zones,
    policy: &Policy,
    salt: &Salt,
    salt_given: bool,
    format: Format,
    open: &mut dyn FnMut(&str) -> std::io::Result<W>,
) -> Result<Audit> {
    write_run_each(
        landing,
        zones,
        policy,
        salt,
        salt_given,
        format,
        &mut opening(open),
    )
}

/// `each` for [`write_run_each`] from `open`: a file is closed by dropping its writer.
fn opening<'o, W: Write + Send>(
    open: &'o mut dyn FnMut(&str) -> std::io::Result<W>,
) -> impl FnMut(&str, &mut WriteFile<'_>) -> Result<()> + 'o {
    move |name, write| {
        let mut file = open(name).map_err(|e| Error::export(name, e))?;
        write(&mut file)
    }
}

/// How many files [`write_run`] writes: the zones, the quarantine, the audit, the report.
pub const RUN_FILES: usize = Zone::ALL.len() + 3;

/// Writes a file: given the writer it goes to, writes all of it.
pub type WriteFile<'a> = dyn FnMut(&mut (dyn Write + Send)) -> Result<()> + 'a;

/// Takes each file of a run with its name: opens it, has it written, closes it.
pub type EachFile<'a> = dyn FnMut(&str, &mut WriteFile<'_>) -> Result<()> + 'a;

/// [`write_run`]'s files, in its order, each handed to `each` with its name and the
/// writing of its bytes: `each` opens the file, calls the writing with it, and closes
/// it, so a file can be closed by more than a drop (an entry of a zip archive, whose end
/// is written after its data). Returns the audit.
pub fn write_run_each(
    landing: &Landing,
    zones: &Zones,
    policy: &Policy,
    salt: &Salt,
    salt_given: bool,
    format: Format,
    each: &mut EachFile<'_>,
) -> Result<Audit> {
    let mut audit = Audit::new(landing, zones, policy, salt_given);
    let files = RunFiles::new(landing, policy, salt, format);
    for (i, name) in files.names.iter().enumerate() {
        let mut summary = None;
        each(name, &mut |file| {
            summary = Some(files.write(zones, i, file)?);
            Ok(())
        })?;
        audit.outputs.push(summary.ok_or_else(|| unwritten(name))?);
    }
    finish_run(audit, each)
}

/// A file `each` opened but did not write: the run would be incomplete.
fn unwritten(name: &str) -> Error {
    Error::export(
        name,
        std::io::Error::other("the file was opened but never written"),
    )
}

/// Builds the zones and writes [`write_run`]'s files on `threads` threads (the files are
/// then all opened first): the landing zones and the quarantine, which need no zones, are
/// written while the zones are built. The bytes are the same for any number of threads.
/// Native only: the browser has no threads. Returns the zones and the audit.
#[allow(clippy::too_many_arguments)]
pub fn build_and_write_threads<W: Write + Send>(
    landing: &Landing,
    policy: &Policy,
    salt: &Salt,
    salt_given: bool,
    format: Format,
    threads: usize,
    open: &mut dyn FnMut(&str) -> std::io::Result<W>,
) -> Result<(Zones, Audit)> {
    let files = RunFiles::new(landing, policy, salt, format);
    if threads <= 1 {
        let zones = Zones::build(landing, policy);
        let audit = write_run(landing, &zones, policy, salt, salt_given, format, open)?;
        return Ok((zones, audit));
    }
    let mut opened = Vec::with_capacity(files.names.len());
    for name in &files.names {
        opened.push(Some(open(name).map_err(|e| Error::export(name, e))?));
    }
    // The jobs, taken in this order by whichever thread is free: build the zones; write
    // the files that need none, largest first; write the others, largest first (an order
    // known once the zones are: the thread that built them puts it beside them).
    let no_zones = Zones::default();
    let size = |zones: &Zones, i: usize| {
        Zone::ALL.get(i).map_or(landing.quarantine.len(), |z| {
            zones.rows(landing, *z) * files.writer(zones).schema(*z).fields().len()
        })
    };
    let by_size = |zones: &Zones, mut files: Vec<usize>| {
        files.sort_by_key(|i| std::cmp::Reverse(size(zones, *i)));
        files
    };
    let (first, then): (Vec<usize>, Vec<usize>) =
        (0..files.names.len()).partition(|i| Zone::ALL.get(*i).is_none_or(|z| z.is_landing()));
    let first = by_size(&no_zones, first);
    let jobs = 1 + first.len() + then.len();
    let built: std::sync::OnceLock<Option<(Zones, Vec<usize>)>> = std::sync::OnceLock::new();
    // Set under the lock, so that a thread that found it unset is waiting before it is.
    let (lock, readied) = (std::sync::Mutex::new(()), std::sync::Condvar::new());
    let set = |zones: Option<(Zones, Vec<usize>)>| {
        let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let _ = built.set(zones);
        drop(guard);
        readied.notify_all();
    };
    let opened: Vec<std::sync::Mutex<Option<W>>> =
        opened.into_iter().map(std::sync::Mutex::new).collect();
    let take = |i: usize| {
        opened[i]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("each file is written once")
    };
    let done = crate::threads::map_in_order((0..jobs).collect(), threads, |_, job| {
        if job == 0 {
            // Threads waiting for the zones must not wait forever if building them panics.
            let zones = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                Zones::build(landing, policy)
            }));
            return match zones {
                Ok(zones) => {
                    let order = by_size(&zones, then.clone());
                    set(Some((zones, order)));
                    None
                }
                Err(panic) => {
                    set(None);
                    std::panic::resume_unwind(panic)
                }
            };
        }
        if let Some(&i) = first.get(job - 1) {
            return Some((i, files.write(&no_zones, i, take(i))));
        }
        drop(
            readied
                .wait_while(lock.lock().unwrap_or_else(|e| e.into_inner()), |_| {
                    built.get().is_none()
                })
                .unwrap_or_else(|e| e.into_inner()),
        );
        let (zones, order) = built.get()?.as_ref()?;
        let i = order[job - 1 - first.len()];
        Some((i, files.write(zones, i, take(i))))
    });
    let Some(Some((zones, _))) = built.into_inner() else {
        unreachable!("the zones were built, or building them panicked")
    };
    let mut summaries: Vec<Option<Result<OutputSummary>>> =
        files.names.iter().map(|_| None).collect();
    for (i, summary) in done.into_iter().flatten() {
        summaries[i] = Some(summary);
    }
    let mut audit = Audit::new(landing, &zones, policy, salt_given);
    for summary in summaries.into_iter().flatten() {
        audit.outputs.push(summary?);
    }
    let audit = finish_run(audit, &mut opening(open))?;
    Ok((zones, audit))
}

/// The files of a run besides audit.json and report.html: the zones, then the quarantine.
struct RunFiles<'a> {
    landing: &'a Landing,
    policy: &'a Policy,
    salt: &'a Salt,
    format: Format,
    names: Vec<String>,
}

impl<'a> RunFiles<'a> {
    fn new(landing: &'a Landing, policy: &'a Policy, salt: &'a Salt, format: Format) -> Self {
        let names = Zone::ALL
            .iter()
            .map(|z| format.file_name(*z))
            .chain(["quarantine.jsonl".to_string()])
            .collect();
        RunFiles {
            landing,
            policy,
            salt,
            format,
            names,
        }
    }

    fn writer<'z>(&self, zones: &'z Zones) -> ZoneWriter<'z>
    where
        'a: 'z,
    {
        ZoneWriter {
            landing: self.landing,
            zones,
            pii: self.policy.pii,
            salt: self.salt,
        }
    }

    /// Writes file `i` (the landing zones and the quarantine need no `zones`).
    fn write<W: Write + Send>(&self, zones: &Zones, i: usize, file: W) -> Result<OutputSummary> {
        let name = &self.names[i];
        let mut hashing = HashingWriter::new(file);
        let rows = match Zone::ALL.get(i) {
            Some(zone) => self.writer(zones).write(*zone, self.format, &mut hashing)?,
            None => write_quarantine(&self.landing.quarantine, &mut hashing)?,
        };
        hashing.flush().map_err(|e| Error::export(name, e))?;
        let (sha256, bytes, _) = hashing.finish();
        Ok(OutputSummary {
            name: name.clone(),
            rows,
            bytes,
            sha256,
        })
    }
}

/// Writes audit.json and report.html after the other files.
fn finish_run(audit: Audit, each: &mut EachFile<'_>) -> Result<Audit> {
    for (name, text) in [
        ("audit.json", audit.to_json()),
        ("report.html", crate::report::render(&audit)),
    ] {
        let mut written = false;
        each(name, &mut |file| {
            written = true;
            file.write_all(text.as_bytes())
                .and_then(|()| file.flush())
                .map_err(|e| Error::export(name, e))
        })?;
        if !written {
            return Err(unwritten(name));
        }
    }
    Ok(audit)
}

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
    write_run_threads(landing, zones, policy, salt, salt_given, format, 1, open)
}

/// [`write_run`] with the zones and the quarantine written on `threads` threads (the files
/// are then all opened first). The bytes are the same for any number of threads. Native
/// only: the browser has no threads, give it 1.
#[allow(clippy::too_many_arguments)]
pub fn write_run_threads<W: Write + Send>(
    landing: &Landing,
    zones: &Zones,
    policy: &Policy,
    salt: &Salt,
    salt_given: bool,
    format: Format,
    threads: usize,
    open: &mut dyn FnMut(&str) -> std::io::Result<W>,
) -> Result<Audit> {
    let mut audit = Audit::new(landing, zones, policy, salt_given);
    let writer = ZoneWriter {
        landing,
        zones,
        pii: policy.pii,
        salt,
    };
    // The files besides audit.json and report.html: the zones, then the quarantine.
    let names: Vec<String> = Zone::ALL
        .iter()
        .map(|z| format.file_name(*z))
        .chain(["quarantine.jsonl".to_string()])
        .collect();
    let write = |i: usize, file: W| -> Result<OutputSummary> {
        let name = &names[i];
        let mut hashing = HashingWriter::new(file);
        let rows = match Zone::ALL.get(i) {
            Some(zone) => writer.write(*zone, format, &mut hashing)?,
            None => write_quarantine(&landing.quarantine, &mut hashing)?,
        };
        hashing.flush().map_err(|e| Error::export(name, e))?;
        let (sha256, bytes, _) = hashing.finish();
        Ok(OutputSummary {
            name: name.clone(),
            rows,
            bytes,
            sha256,
        })
    };
    let opened = |open: &mut dyn FnMut(&str) -> std::io::Result<W>, name: &str| {
        open(name).map_err(|e| Error::export(name, e))
    };
    if threads <= 1 {
        // Each file written before the next is opened (the browser's zip relies on it).
        for (i, name) in names.iter().enumerate() {
            let file = opened(open, name)?;
            audit.outputs.push(write(i, file)?);
        }
    } else {
        let files = names
            .iter()
            .map(|n| opened(open, n))
            .collect::<Result<Vec<W>>>()?;
        // Largest first (rows times columns), so that no thread is left with a big zone
        // when the others are done; the summaries keep the order of `names`.
        let size = |i: usize| {
            Zone::ALL.get(i).map_or(landing.quarantine.len(), |z| {
                zones.rows(landing, *z) * writer.schema(*z).fields().len()
            })
        };
        let mut order: Vec<usize> = (0..names.len()).collect();
        order.sort_by_key(|i| std::cmp::Reverse(size(*i)));
        let mut files: Vec<Option<W>> = files.into_iter().map(Some).collect();
        let largest_first: Vec<(usize, W)> = order
            .iter()
            .map(|i| (*i, files[*i].take().expect("each file is taken once")))
            .collect();
        let done = crate::threads::map_in_order(largest_first, threads, |_, (i, file)| {
            (i, write(i, file))
        });
        let mut summaries: Vec<Option<Result<OutputSummary>>> =
            names.iter().map(|_| None).collect();
        for (i, summary) in done {
            summaries[i] = Some(summary);
        }
        for summary in summaries.into_iter().flatten() {
            audit.outputs.push(summary?);
        }
    }
    for (name, text) in [
        ("audit.json", audit.to_json()),
        ("report.html", crate::report::render(&audit)),
    ] {
        let mut file = open(name).map_err(|e| Error::export(name, e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| Error::export(name, e))?;
    }
    Ok(audit)
}

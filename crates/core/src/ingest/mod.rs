//! Ingest: detect each file's source, parse its records, quarantine the bad ones, and
//! gather the accepted ones column-wise into the landing zones.
//!
//! [`FileReader`] is a push parser: `feed` it chunks of one file, then `finish` it into a
//! [`FileBatch`]. [`Landing::from_batches`] merges batches in file-name order, whatever
//! order they were read in.

mod record;
mod split;

pub use record::Field;
pub use split::MAX_RECORD_BYTES;

use record::RawRecord;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use split::{Piece, Splitter};
use std::collections::BTreeMap;
use std::io::Write;

/// Where a record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Customer records from the STEDI website.
    Customer,
    /// Phone accelerometer readings.
    Accelerometer,
    /// Step Trainer distance readings.
    StepTrainer,
}

impl Source {
    /// All sources, in detection order.
    pub const ALL: [Source; 3] = [Source::Customer, Source::Accelerometer, Source::StepTrainer];

    /// The source's name, as used in zone names.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Customer => "customer",
            Source::Accelerometer => "accelerometer",
            Source::StepTrainer => "step_trainer",
        }
    }

    /// The two keys that identify a record of this source.
    pub fn identifying_fields(self) -> (Field, Field) {
        match self {
            Source::Customer => (Field::Email, Field::SerialNumber),
            Source::Accelerometer => (Field::User, Field::Timestamp),
            Source::StepTrainer => (Field::SensorReadingTime, Field::SerialNumber),
        }
    }
}

impl std::str::FromStr for Source {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        Source::ALL
            .into_iter()
            .find(|src| src.as_str() == s)
            .ok_or_else(|| crate::Error::InvalidOption {
                option: "source",
                value: s.to_string(),
                expected: "customer, accelerometer, step_trainer",
            })
    }
}

/// Strings interned to dense ids, so zones hold integers, not text.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    ids: FxHashMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
}

impl Interner {
    /// The id of `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        let id = u32::try_from(self.strings.len()).expect("fewer than 4 billion distinct strings");
        self.strings.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    /// The string with this id.
    pub fn get(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }

    /// The id of `s`, if it was interned.
    pub fn lookup(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    /// How many distinct strings there are.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Whether no string was interned.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

/// One customer record. `email` and `serial` are interned ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    /// customerName
    pub name: Option<Box<str>>,
    /// email (interned)
    pub email: u32,
    /// phone, as text
    pub phone: Option<Box<str>>,
    /// birthDay
    pub birth_day: Option<Box<str>>,
    /// serialNumber (interned)
    pub serial: u32,
    /// registrationDate, epoch ms
    pub registration: Option<i64>,
    /// lastUpdateDate, epoch ms
    pub last_update: Option<i64>,
    /// shareWithResearchAsOfDate: the consent to research, epoch ms
    pub research_consent: Option<i64>,
    /// shareWithPublicAsOfDate
    pub public_consent: Option<i64>,
    /// shareWithFriendsAsOfDate
    pub friends_consent: Option<i64>,
}

/// Accelerometer readings, column-wise.
#[derive(Debug, Default, Clone)]
pub struct Accelerometer {
    /// user (interned email)
    pub user: Vec<u32>,
    /// timestamp, epoch ms
    pub timestamp: Vec<i64>,
    /// x
    pub x: Vec<f64>,
    /// y
    pub y: Vec<f64>,
    /// z
    pub z: Vec<f64>,
}

impl Accelerometer {
    /// Number of readings.
    pub fn len(&self) -> usize {
        self.user.len()
    }
    /// Whether there are no readings.
    pub fn is_empty(&self) -> bool {
        self.user.is_empty()
    }
}

/// Step Trainer readings, column-wise.
#[derive(Debug, Default, Clone)]
pub struct StepTrainer {
    /// sensorReadingTime, epoch ms
    pub time: Vec<i64>,
    /// serialNumber (interned)
    pub serial: Vec<u32>,
    /// distanceFromObject
    pub distance: Vec<i64>,
}

impl StepTrainer {
    /// Number of readings.
    pub fn len(&self) -> usize {
        self.time.len()
    }
    /// Whether there are no readings.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }
}

/// A record that could not be accepted, kept with where it came from and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantined {
    /// The file's name.
    pub file: String,
    /// 1-based line where the record starts.
    pub line: u64,
    /// The file's source, when one could be told.
    pub source: Option<Source>,
    /// One line saying what is wrong.
    pub reason: String,
    /// The record's text, cut at 1 KiB.
    pub raw: String,
}

/// Longest raw text kept for a quarantined record.
pub const RAW_LIMIT: usize = 1024;

fn raw_text(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(RAW_LIMIT)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if bytes.len() > RAW_LIMIT {
        // A multi-byte character cut in two shows as U+FFFD; that is fine for a preview.
        text.push('…');
    }
    text
}

/// What one input file gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSummary {
    /// The file's name (no folders: the same in the CLI and the browser).
    pub name: String,
    /// Size in bytes, as stored (compressed for `.gz`).
    pub bytes: u64,
    /// SHA-256 of the stored bytes, lowercase hex.
    pub sha256: String,
    /// The source detected (or chosen by the user); `None` when no record told it.
    pub source: Option<Source>,
    /// Whether the user chose the source rather than detection.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub source_chosen: bool,
    /// Records read: accepted + quarantined.
    pub records: u64,
    /// Records accepted into the landing zone.
    pub accepted: u64,
    /// Records quarantined.
    pub quarantined: u64,
    /// Keys no field of the source matches, with how many records had each.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub unknown_keys: BTreeMap<String, u64>,
    /// Problems with the file as a whole (truncated gzip or array, unknown source).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub problems: Vec<String>,
}

/// One file's records, parsed and checked, waiting to be merged into the landing zones.
#[derive(Debug, Clone)]
pub struct FileBatch {
    /// Counts and hash.
    pub summary: InputSummary,
    strings: Interner,
    customers: Vec<Customer>,
    accelerometer: Accelerometer,
    step_trainer: StepTrainer,
    quarantine: Vec<Quarantined>,
}

impl FileBatch {
    /// The records quarantined from this file.
    pub fn quarantine(&self) -> &[Quarantined] {
        &self.quarantine
    }
}

/// Accepted records and the quarantine of one file, as they are parsed.
#[derive(Debug, Default)]
struct Collector {
    name: String,
    source: Option<Source>,
    chosen: bool,
    /// Records seen before any told the file's source: (line, raw bytes).
    pending: Vec<(u64, Vec<u8>)>,
    strings: Interner,
    customers: Vec<Customer>,
    accelerometer: Accelerometer,
    step_trainer: StepTrainer,
    quarantine: Vec<Quarantined>,
    records: u64,
    unknown_keys: BTreeMap<String, u64>,
}

impl Collector {
    fn quarantine(&mut self, line: u64, raw: &[u8], reason: String) {
        self.quarantine.push(Quarantined {
            file: self.name.clone(),
            line,
            source: self.source,
            reason,
            raw: raw_text(raw),
        });
    }

    fn piece(&mut self, piece: Piece<'_>) {
        self.records += 1;
        match piece {
            Piece::Bad(line, raw, reason) => self.quarantine(line, raw, reason.to_string()),
            Piece::Record(line, raw) => self.record(line, raw),
        }
    }

    fn record(&mut self, line: u64, raw: &[u8]) {
        let record = match RawRecord::parse(raw) {
            Ok(r) => r,
            Err(reason) => return self.quarantine(line, raw, reason),
        };
        let source = match self.source {
            Some(s) => s,
            None => match record.detect() {
                Some(s) => {
                    self.source = Some(s);
                    self.flush_pending();
                    s
                }
                None => {
                    self.pending.push((line, raw.to_vec()));
                    return;
                }
            },
        };
        if let Err(reason) = self.accept(source, &record) {
            let reason = match record.detect() {
                Some(other) if other != source => format!(
                    "a {} record in a file of {} records ({reason})",
                    other.as_str(),
                    source.as_str()
                ),
                _ => reason,
            };
            return self.quarantine(line, raw, reason);
        }
        for key in &record.unknown_keys {
            *self.unknown_keys.entry(key.to_string()).or_default() += 1;
        }
        let known = Field::of(source);
        for field in Source::ALL.iter().flat_map(|s| Field::of(*s)) {
            if record.has(*field) && !known.contains(field) {
                *self
                    .unknown_keys
                    .entry(field.name().to_string())
                    .or_default() += 1;
            }
        }
    }

    fn flush_pending(&mut self) {
        for (line, raw) in std::mem::take(&mut self.pending) {
            self.record(line, &raw);
        }
    }

    fn accept(&mut self, source: Source, r: &RawRecord<'_>) -> Result<(), String> {
        use Field::*;
        match source {
            Source::Customer => {
                let email = r.string(Email)?;
                let serial = r.string(SerialNumber)?;
                let customer = Customer {
                    name: r.opt_string(CustomerName, false)?.map(Into::into),
                    email: 0,
                    phone: r.opt_string(Phone, true)?.map(Into::into),
                    birth_day: r.opt_string(BirthDay, false)?.map(Into::into),
                    serial: 0,
                    registration: r.opt_int(RegistrationDate)?,
                    last_update: r.opt_int(LastUpdateDate)?,
                    research_consent: r.opt_int(ShareWithResearchAsOfDate)?,
                    public_consent: r.opt_int(ShareWithPublicAsOfDate)?,
                    friends_consent: r.opt_int(ShareWithFriendsAsOfDate)?,
                };
                let email = self.strings.intern(email);
                let serial = self.strings.intern(serial);
                self.customers.push(Customer {
                    email,
                    serial,
                    ..customer
                });
            }
            Source::Accelerometer => {
                let user = r.string(User)?;
                let (timestamp, x, y, z) =
                    (r.int(Timestamp)?, r.number(X)?, r.number(Y)?, r.number(Z)?);
                let a = &mut self.accelerometer;
                a.user.push(self.strings.intern(user));
                a.timestamp.push(timestamp);
                a.x.push(x);
                a.y.push(y);
                a.z.push(z);
            }
            Source::StepTrainer => {
                let time = r.int(SensorReadingTime)?;
                let serial = r.string(SerialNumber)?;
                let distance = r.int(DistanceFromObject)?;
                let s = &mut self.step_trainer;
                s.time.push(time);
                s.serial.push(self.strings.intern(serial));
                s.distance.push(distance);
            }
        }
        Ok(())
    }

    fn accepted(&self) -> u64 {
        (self.customers.len() + self.accelerometer.len() + self.step_trainer.len()) as u64
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads one file, pushed in chunks. Never fails: bad records are quarantined.
///
/// ```
/// use stedi_core::ingest::{FileReader, Source};
/// let mut reader = FileReader::new("steps.json", None);
/// reader.feed(br#"{"sensorReadingTime":1,"serialNumber":"s","distanceFromObject":2}"#);
/// reader.feed(b"\nnot json\n");
/// let batch = reader.finish();
/// assert_eq!(batch.summary.source, Some(Source::StepTrainer));
/// assert_eq!((batch.summary.records, batch.summary.accepted, batch.summary.quarantined), (2, 1, 1));
/// ```
#[derive(Debug)]
pub struct FileReader {
    hasher: Sha256,
    bytes: u64,
    /// The first bytes, until we know whether the file is gzip.
    head: Vec<u8>,
    gzip: Option<flate2::write::MultiGzDecoder<Vec<u8>>>,
    decided: bool,
    problems: Vec<String>,
    splitter: Splitter,
    collector: Collector,
}

impl FileReader {
    /// A reader for the file `name`; `source` overrides detection when given.
    pub fn new(name: impl Into<String>, source: Option<Source>) -> Self {
        FileReader {
            hasher: Sha256::new(),
            bytes: 0,
            head: Vec::new(),
            gzip: None,
            decided: false,
            problems: Vec::new(),
            splitter: Splitter::default(),
            collector: Collector {
                name: name.into(),
                source,
                chosen: source.is_some(),
                ..Collector::default()
            },
        }
    }

    /// Reads the next chunk of the file's bytes.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
        if !self.decided {
            self.head.extend_from_slice(chunk);
            if self.head.len() < GZIP_MAGIC.len() {
                return;
            }
            self.decided = true;
            if self.head.starts_with(&GZIP_MAGIC) {
                self.gzip = Some(flate2::write::MultiGzDecoder::new(Vec::new()));
            }
            let head = std::mem::take(&mut self.head);
            self.decode(&head);
        } else {
            self.decode(chunk);
        }
    }

    fn decode(&mut self, chunk: &[u8]) {
        let collector = &mut self.collector;
        let mut emit = |p: Piece<'_>| collector.piece(p);
        match &mut self.gzip {
            None => self.splitter.feed(chunk, &mut emit),
            Some(gz) => {
                if let Err(e) = gz.write_all(chunk) {
                    if self.problems.is_empty() {
                        self.problems.push(format!(
                            "the gzip data is damaged ({e}); records after the damage were not read"
                        ));
                    }
                }
                let out = std::mem::take(gz.get_mut());
                self.splitter.feed(&out, &mut emit);
            }
        }
    }

    /// Ends the file: flushes the last record and returns everything it gave.
    pub fn finish(mut self) -> FileBatch {
        if !self.decided {
            self.decided = true;
            let head = std::mem::take(&mut self.head);
            self.decode(&head);
        }
        if let Some(gz) = &mut self.gzip {
            if gz.try_finish().is_err() && self.problems.is_empty() {
                self.problems.push(
                    "the gzip data ends early: the file looks truncated; the records before the cut were read"
                        .to_string(),
                );
            }
            let out = std::mem::take(gz.get_mut());
            let collector = &mut self.collector;
            self.splitter.feed(&out, &mut |p| collector.piece(p));
        }
        let collector = &mut self.collector;
        if let Some(note) = self.splitter.finish(&mut |p| collector.piece(p)) {
            self.problems.push(note.to_string());
        }
        let mut c = self.collector;
        if c.source.is_none() && !c.pending.is_empty() {
            self.problems.push(
                "no record has the keys of a known source (customer: email + serialNumber; \
                 accelerometer: user + timestamp; step_trainer: sensorReadingTime + serialNumber); \
                 choose the file's source to read it"
                    .to_string(),
            );
            for (line, raw) in std::mem::take(&mut c.pending) {
                c.quarantine(line, &raw, "the file's source is unknown".to_string());
            }
        }
        // Quarantine in line order, whatever order records were decided in.
        c.quarantine.sort_by_key(|q| q.line);
        for q in &mut c.quarantine {
            q.source = c.source;
        }
        let summary = InputSummary {
            name: c.name.clone(),
            bytes: self.bytes,
            sha256: hex::encode(self.hasher.finalize()),
            source: c.source,
            source_chosen: c.chosen,
            records: c.records,
            accepted: c.accepted(),
            quarantined: c.quarantine.len() as u64,
            unknown_keys: std::mem::take(&mut c.unknown_keys),
            problems: self.problems,
        };
        debug_assert_eq!(summary.records, summary.accepted + summary.quarantined);
        FileBatch {
            summary,
            strings: c.strings,
            customers: c.customers,
            accelerometer: c.accelerometer,
            step_trainer: c.step_trainer,
            quarantine: c.quarantine,
        }
    }
}

/// Reads a whole file held in memory (tests, small files).
pub fn read_bytes(name: &str, source: Option<Source>, bytes: &[u8]) -> FileBatch {
    let mut reader = FileReader::new(name, source);
    reader.feed(bytes);
    reader.finish()
}

/// The three landing zones: every accepted record, in processing order.
#[derive(Debug, Default, Clone)]
pub struct Landing {
    /// Emails and serial numbers.
    pub strings: Interner,
    /// customer_landing
    pub customers: Vec<Customer>,
    /// accelerometer_landing
    pub accelerometer: Accelerometer,
    /// step_trainer_landing
    pub step_trainer: StepTrainer,
    /// One summary per input, in processing order.
    pub inputs: Vec<InputSummary>,
    /// Every quarantined record, in processing order.
    pub quarantine: Vec<Quarantined>,
}

impl Landing {
    /// Merges file batches in file-name order (ties: by content hash), so the result never
    /// depends on the order in which files were read or dropped.
    pub fn from_batches(batches: Vec<FileBatch>) -> Landing {
        Landing::merge(&batches)
    }

    /// Like [`Landing::from_batches`], keeping the batches (the browser re-merges them when
    /// a file is added or removed).
    pub fn merge<'a>(batches: impl IntoIterator<Item = &'a FileBatch>) -> Landing {
        let mut batches: Vec<&FileBatch> = batches.into_iter().collect();
        batches.sort_by(|a, b| {
            (&a.summary.name, &a.summary.sha256).cmp(&(&b.summary.name, &b.summary.sha256))
        });
        let mut landing = Landing::default();
        for batch in batches {
            let remap: Vec<u32> = batch
                .strings
                .strings
                .iter()
                .map(|s| landing.strings.intern(s))
                .collect();
            landing
                .customers
                .extend(batch.customers.iter().map(|c| Customer {
                    email: remap[c.email as usize],
                    serial: remap[c.serial as usize],
                    ..c.clone()
                }));
            let (a, from) = (&mut landing.accelerometer, &batch.accelerometer);
            a.user.extend(from.user.iter().map(|u| remap[*u as usize]));
            a.timestamp.extend_from_slice(&from.timestamp);
            a.x.extend_from_slice(&from.x);
            a.y.extend_from_slice(&from.y);
            a.z.extend_from_slice(&from.z);
            let (s, from) = (&mut landing.step_trainer, &batch.step_trainer);
            s.time.extend_from_slice(&from.time);
            s.serial
                .extend(from.serial.iter().map(|u| remap[*u as usize]));
            s.distance.extend_from_slice(&from.distance);
            landing.quarantine.extend_from_slice(&batch.quarantine);
            landing.inputs.push(batch.summary.clone());
        }
        landing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CUSTOMER: &str = r#"{"customerName":"A B","email":"a@x","phone":8015551212,"birthDay":"1900-01-01","serialNumber":"s1","registrationDate":1,"lastUpdateDate":2,"shareWithResearchAsOfDate":3}"#;

    #[test]
    fn source_is_detected_from_keys_not_names() {
        let b = read_bytes("accelerometer.json", None, CUSTOMER.as_bytes());
        assert_eq!(b.summary.source, Some(Source::Customer));
        let c = &b.customers[0];
        assert_eq!(c.phone.as_deref(), Some("8015551212"));
        assert_eq!((c.research_consent, c.public_consent), (Some(3), None));
    }

    #[test]
    fn records_before_the_first_identifying_one_wait_for_it() {
        let input = "{\"timestamp\":1}\n{\"user\":\"u\",\"timestamp\":2,\"x\":0,\"y\":0,\"z\":0}\n";
        let b = read_bytes("f", None, input.as_bytes());
        assert_eq!(b.summary.source, Some(Source::Accelerometer));
        assert_eq!((b.summary.accepted, b.summary.quarantined), (1, 1));
        assert_eq!(b.quarantine[0].reason, "missing required field 'user'");
        assert_eq!(b.quarantine[0].source, Some(Source::Accelerometer));
    }

    #[test]
    fn a_file_of_no_known_source_is_quarantined_whole_and_says_what_to_do() {
        let b = read_bytes("f", None, b"{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(b.summary.source, None);
        assert_eq!(b.summary.quarantined, 2);
        assert!(b.summary.problems[0].contains("choose the file's source"));
        let chosen = read_bytes("f", Some(Source::StepTrainer), b"{\"a\":1}\n");
        assert_eq!(
            chosen.quarantine[0].reason,
            "missing required field 'sensorReadingTime'"
        );
    }

    #[test]
    fn a_record_of_another_source_says_so() {
        let input = format!(
            "{{\"sensorReadingTime\":1,\"serialNumber\":\"s\",\"distanceFromObject\":2}}\n{CUSTOMER}\n"
        );
        let b = read_bytes("f", None, input.as_bytes());
        assert_eq!(b.summary.quarantined, 1);
        assert!(b.quarantine[0]
            .reason
            .starts_with("a customer record in a file of step_trainer records"));
        assert_eq!(b.quarantine[0].line, 2);
    }

    #[test]
    fn unknown_keys_are_counted() {
        let b = read_bytes(
            "f",
            None,
            b"{\"user\":\"u\",\"timestamp\":2,\"x\":0,\"y\":0,\"z\":0,\"extra\":1,\"email\":\"e\"}\n",
        );
        assert_eq!(b.summary.unknown_keys.get("extra"), Some(&1));
        assert_eq!(b.summary.unknown_keys.get("email"), Some(&1));
    }

    #[test]
    fn gzip_is_detected_by_content_and_can_arrive_in_tiny_chunks() {
        use flate2::write::GzEncoder;
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(CUSTOMER.as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        let mut r = FileReader::new("c.json", None);
        for b in &bytes {
            r.feed(std::slice::from_ref(b));
        }
        let batch = r.finish();
        assert_eq!(batch.summary.accepted, 1);
        assert_eq!(batch.summary.bytes, bytes.len() as u64);
        let truncated = read_bytes("c.json.gz", None, &bytes[..bytes.len() - 12]);
        assert!(
            truncated.summary.problems[0].contains("truncated"),
            "{:?}",
            truncated.summary
        );
        assert_eq!(
            truncated.summary.records,
            truncated.summary.accepted + truncated.summary.quarantined
        );
    }

    #[test]
    fn merge_order_is_file_name_order() {
        let a = read_bytes(
            "b.json",
            None,
            b"{\"sensorReadingTime\":2,\"serialNumber\":\"y\",\"distanceFromObject\":2}",
        );
        let b = read_bytes(
            "a.json",
            None,
            b"{\"sensorReadingTime\":1,\"serialNumber\":\"x\",\"distanceFromObject\":1}",
        );
        let one = Landing::from_batches(vec![a.clone(), b.clone()]);
        let two = Landing::from_batches(vec![b, a]);
        assert_eq!(one.step_trainer.time, vec![1, 2]);
        assert_eq!(two.step_trainer.time, vec![1, 2]);
        assert_eq!(one.strings.get(one.step_trainer.serial[0]), "x");
    }
}

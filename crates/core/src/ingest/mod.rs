//! Ingest: detect each file's source, parse its records, quarantine the bad ones, and
//! gather the accepted ones column-wise into the landing zones.
//!
//! [`FileReader`] is a push parser: `feed` it chunks of one file, then `finish` it into a
//! [`FileBatch`]. [`Landing::from_batches`] merges batches in file-name order, whatever
//! order they were read in.
//!
//! Every byte of a file ends up in an accepted record, a quarantined one, a blank line,
//! or a problem of the file as a whole, and for every file records read = accepted +
//! quarantined. Where the product contract leaves a choice, the reader makes this one:
//! - Duplicate keys in one object (also `timestamp` beside `timeStamp`): the last wins,
//!   as in serde_json.
//! - A record must be UTF-8 throughout, even in the values of ignored keys: bytes are
//!   never replaced, since a replaced byte would silently change an email or a serial.
//!   NUL bytes, `NaN` and `Infinity` are quarantined with reasons of their own.
//! - A last record cut off by the end of the file (or of its gzip data) is quarantined
//!   as truncated, and the file's problems name its line; a whole last line without a
//!   newline is accepted.
//! - A file that is not text at all (an image, an archive, UTF-16 text) is one
//!   quarantined record, told by its first bytes; the file has no known source.
//! - Limits: a record may be [`MAX_RECORD_BYTES`] long (longer ones are quarantined
//!   without being held whole), gzip data is inflated a few KiB at a time (a small
//!   "gzip bomb" cannot fill memory), and at most [`MAX_UNKNOWN_KEYS`] distinct unknown
//!   keys are counted per file.

pub(crate) mod codec;
mod record;
mod scan;
mod split;

pub use record::Field;
pub use split::MAX_RECORD_BYTES;

use record::RawRecord;
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

    /// The source a file's name says, if it names one (`customer-1691348231425.json`):
    /// a guess, not the detection, which reads the records.
    pub fn named(file_name: &str) -> Option<Source> {
        let name = file_name.to_ascii_lowercase();
        Source::ALL.into_iter().find(|s| name.contains(s.as_str()))
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
    /// Every string, one after another in the order of their ids: one allocation for
    /// all of them (a customer file has two distinct strings per record).
    text: String,
    /// Where each string ends in `text`, by id.
    ends: Vec<usize>,
    /// The ids, found by their string's hash.
    ids: hashbrown::HashTable<u32>,
    /// The id last given: a file's readings come a user or a device at a time, so the
    /// string is usually the one before, told by comparing instead of hashing.
    last: Option<u32>,
}

/// The hash the interner files a string under, by its bytes.
fn hash_of(s: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(s)
}

/// String `id` of the strings laid out in `text` as `ends` says.
fn string_at<'t>(text: &'t str, ends: &[usize], id: u32) -> &'t str {
    let id = id as usize;
    let start = match id {
        0 => 0,
        _ => ends[id - 1],
    };
    &text[start..ends[id]]
}

impl Interner {
    /// The id of `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> u32 {
        let id = self.intern_as(s.as_bytes(), |_| Ok(s));
        id.expect("a str is UTF-8")
    }

    /// The id of the text `bytes` hold, adding it if new; `None` when they are not UTF-8.
    /// Only bytes not seen before are checked: those of a string seen are text.
    pub fn intern_bytes(&mut self, bytes: &[u8]) -> Option<u32> {
        self.intern_as(bytes, std::str::from_utf8).ok()
    }

    /// The id of `bytes`, adding them (as the text `text` makes of them) if new.
    fn intern_as<'b>(
        &mut self,
        bytes: &'b [u8],
        text: impl FnOnce(&'b [u8]) -> Result<&'b str, std::str::Utf8Error>,
    ) -> Result<u32, std::str::Utf8Error> {
        if let Some(last) = self.last.filter(|id| self.get(*id).as_bytes() == bytes) {
            return Ok(last);
        }
        let (all, ends) = (&self.text, &self.ends);
        let at = |id: &u32| string_at(all, ends, *id).as_bytes();
        let id = match self
            .ids
            .entry(hash_of(bytes), |id| at(id) == bytes, |id| hash_of(at(id)))
        {
            hashbrown::hash_table::Entry::Occupied(found) => *found.get(),
            hashbrown::hash_table::Entry::Vacant(room) => {
                let s = text(bytes)?;
                let id =
                    u32::try_from(self.ends.len()).expect("fewer than 4 billion distinct strings");
                room.insert(id);
                self.text.push_str(s);
                self.ends.push(self.text.len());
                id
            }
        };
        self.last = Some(id);
        Ok(id)
    }

    /// Makes room for `strings` more strings of `bytes` bytes in all.
    pub fn reserve(&mut self, strings: usize, bytes: usize) {
        self.text.reserve(bytes);
        self.ends.reserve(strings);
        let (text, ends) = (&self.text, &self.ends);
        self.ids
            .reserve(strings, |id| hash_of(string_at(text, ends, *id).as_bytes()));
    }

    /// The string with this id.
    pub fn get(&self, id: u32) -> &str {
        string_at(&self.text, &self.ends, id)
    }

    /// Every string, in the order of their ids.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.ends.len() as u32).map(|id| self.get(id))
    }

    /// The id of `s`, if it was interned.
    pub fn lookup(&self, s: &str) -> Option<u32> {
        self.ids
            .find(hash_of(s.as_bytes()), |id| self.get(*id) == s)
            .copied()
    }

    /// How many distinct strings there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no string was interned.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// One customer record. `email` and `serial` are interned ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    fn push(&mut self, user: u32, timestamp: i64, x: f64, y: f64, z: f64) {
        self.user.push(user);
        self.timestamp.push(timestamp);
        self.x.push(x);
        self.y.push(y);
        self.z.push(z);
    }

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
    fn push(&mut self, time: i64, serial: u32, distance: i64) {
        self.time.push(time);
        self.serial.push(serial);
        self.distance.push(distance);
    }

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
    /// Distinct unknown keys past [`MAX_UNKNOWN_KEYS`], not counted.
    unknown_keys_dropped: bool,
    /// The last record, cut off by the end of the file.
    cut: Option<u64>,
    oversized: Tally,
    other_source: Tally,
}

/// Records of one kind of trouble: how many, and the first line.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    count: u64,
    first_line: u64,
}

impl Tally {
    fn note(&mut self, line: u64) {
        // Records can be decided out of line order (those waiting for the source).
        self.first_line = if self.count == 0 {
            line
        } else {
            self.first_line.min(line)
        };
        self.count += 1;
    }
}

/// Most distinct unknown keys counted per file: a file whose every record has keys of
/// its own would otherwise fill the audit.
pub const MAX_UNKNOWN_KEYS: usize = 1000;

/// Reason for the last record of a file when it stops in the middle.
pub const CUT_RECORD: &str = "the file ends inside this record: it looks truncated";

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
            Piece::Bad(line, raw, reason) => {
                if reason == split::OVERSIZED {
                    self.oversized.note(line);
                }
                self.quarantine(line, raw, reason.to_string())
            }
            Piece::Record(line, raw) => self.record(line, raw, false),
            Piece::Last(line, raw) => self.record(line, raw, true),
        }
    }

    /// Checks one record; `last` when nothing followed it, so running out of bytes
    /// means the file was cut.
    fn record(&mut self, line: u64, raw: &[u8], last: bool) {
        if self.source.is_some_and(|source| self.laid_out(source, raw)) {
            return;
        }
        let mut record = RawRecord::default();
        match record.read(raw) {
            Ok(()) => {}
            Err(e) if last && e.ends_early => {
                self.cut = Some(line);
                return self.quarantine(line, raw, CUT_RECORD.to_string());
            }
            Err(e) => return self.quarantine(line, raw, e.reason),
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
                Some(other) if other != source => {
                    self.other_source.note(line);
                    let article = match other {
                        Source::Accelerometer => "an",
                        _ => "a",
                    };
                    format!(
                        "{article} {} record in a file of {} records ({reason})",
                        other.as_str(),
                        source.as_str()
                    )
                }
                _ => reason,
            };
            return self.quarantine(line, raw, reason);
        }
        // Keys of other sources' fields count as unknown in this one's records.
        let others = record.present() & !Field::bits(source);
        if others == 0 && record.unknown_keys.is_empty() {
            return;
        }
        let mut keys: Vec<&str> = record.unknown_keys.iter().map(|k| &**k).collect();
        keys.extend(
            Field::all()
                .filter(|f| others & (1 << *f as usize) != 0)
                .map(|f| f.name()),
        );
        if keys.len() > 1 {
            // A key repeated in one record counts once for that record.
            keys.sort_unstable();
            keys.dedup();
        }
        for key in keys {
            if let Some(n) = self.unknown_keys.get_mut(key) {
                *n += 1;
            } else if self.unknown_keys.len() < MAX_UNKNOWN_KEYS {
                self.unknown_keys.insert(key.to_string(), 1);
            } else {
                self.unknown_keys_dropped = true;
            }
        }
    }

    fn flush_pending(&mut self) {
        for (line, raw) in std::mem::take(&mut self.pending) {
            self.record(line, &raw, false);
        }
    }

    /// Takes a reading laid out as the spec writes its source's records (see
    /// [`scan::accelerometer`]) straight into the columns; `false` for any other record,
    /// which is read the long way. The outcome is the same either way.
    fn laid_out(&mut self, source: Source, raw: &[u8]) -> bool {
        match source {
            Source::Accelerometer => scan::accelerometer(raw)
                .and_then(|(user, timestamp, x, y, z)| {
                    let user = self.strings.intern_bytes(user)?;
                    self.accelerometer.push(user, timestamp, x, y, z);
                    Some(())
                })
                .is_some(),
            Source::StepTrainer => scan::step_trainer(raw)
                .and_then(|(time, serial, distance)| {
                    let serial = self.strings.intern_bytes(serial)?;
                    self.step_trainer.push(time, serial, distance);
                    Some(())
                })
                .is_some(),
            Source::Customer => false,
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
                let user = self.strings.intern(user);
                self.accelerometer.push(user, timestamp, x, y, z);
            }
            Source::StepTrainer => {
                let time = r.int(SensorReadingTime)?;
                let serial = r.string(SerialNumber)?;
                let distance = r.int(DistanceFromObject)?;
                let serial = self.strings.intern(serial);
                self.step_trainer.push(time, serial, distance);
            }
        }
        Ok(())
    }

    fn accepted(&self) -> u64 {
        (self.customers.len() + self.accelerometer.len() + self.step_trainer.len()) as u64
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Compressed bytes inflated at a time: deflate expands at most about 1,000 times, so
/// this bounds the memory a small "gzip bomb" can take before its records are cut. The
/// steps start at fixed offsets of the file: from damaged data the decoder gives more or
/// less before its error depending on how its input was cut, so it must always be cut
/// the same way.
const GZIP_STEP: usize = 4096;

/// Bytes looked at to tell a file that is not text at all.
const SNIFF_BYTES: usize = 16;

/// A kind of file that is not JSON text, known by its first bytes.
struct NotText {
    magic: &'static [u8],
    /// The quarantine reason for the whole file.
    reason: &'static str,
    /// What to do, for the file's problem.
    advice: &'static str,
}

const LOAD_JSON: &str = "load the JSON export instead";
const DECOMPRESS: &str = "decompress it (or compress it with gzip) and load it again";

/// Files people drop by mistake, and encodings the reader cannot read. They are
/// quarantined whole, as one record: cutting a PNG at its newline bytes would count
/// records that never existed.
const NOT_TEXT: &[NotText] = &[
    NotText {
        magic: b"\x89PNG\r\n\x1a\n",
        reason: "not JSON text: the file is a PNG image",
        advice: LOAD_JSON,
    },
    NotText {
        magic: b"\xff\xd8\xff",
        reason: "not JSON text: the file is a JPEG image",
        advice: LOAD_JSON,
    },
    NotText {
        magic: b"GIF8",
        reason: "not JSON text: the file is a GIF image",
        advice: LOAD_JSON,
    },
    NotText {
        magic: b"%PDF-",
        reason: "not JSON text: the file is a PDF document",
        advice: LOAD_JSON,
    },
    NotText {
        magic: b"PAR1",
        reason: "not JSON text: the file is a Parquet file",
        advice: LOAD_JSON,
    },
    NotText {
        magic: b"SQLite format 3\0",
        reason: "not JSON text: the file is an SQLite database",
        advice: LOAD_JSON,
    },
    NotText {
        magic: b"PK\x03\x04",
        reason: "not JSON text: the file is a ZIP archive",
        advice: "extract it and load the JSON files inside",
    },
    NotText {
        magic: b"7z\xbc\xaf\x27\x1c",
        reason: "not JSON text: the file is a 7-Zip archive",
        advice: "extract it and load the JSON files inside",
    },
    NotText {
        magic: &GZIP_MAGIC,
        reason: "not JSON text: the file is gzip-compressed twice",
        advice: "decompress it once and load the result",
    },
    NotText {
        magic: b"\xfd7zXZ\0",
        reason: "not JSON text: the file is xz-compressed",
        advice: DECOMPRESS,
    },
    NotText {
        magic: b"\x28\xb5\x2f\xfd",
        reason: "not JSON text: the file is zstd-compressed",
        advice: DECOMPRESS,
    },
    NotText {
        magic: b"BZh",
        reason: "not JSON text: the file is bzip2-compressed",
        advice: DECOMPRESS,
    },
];

/// Told by its byte-order mark, or by ASCII text with a NUL beside every character.
const UTF16: NotText = NotText {
    magic: b"",
    reason: "not UTF-8 text: the file is UTF-16 (or UTF-32) text",
    advice: "save it as UTF-8 and load it again",
};

impl NotText {
    fn sniff(head: &[u8]) -> Option<&'static NotText> {
        if let Some(kind) = NOT_TEXT.iter().find(|k| head.starts_with(k.magic)) {
            // "BZh" alone could start a line of text; the digit and block magic cannot.
            let bzip2 = kind.magic == b"BZh";
            if !bzip2
                || head.get(3).is_some_and(u8::is_ascii_digit) && head[4..].starts_with(b"1AY&SY")
            {
                return Some(kind);
            }
        }
        let utf16_ascii = |nul: usize| {
            head.len() >= 4
                && head
                    .chunks_exact(2)
                    .all(|pair| pair[nul] == 0 && pair[1 - nul] != 0 && pair[1 - nul].is_ascii())
        };
        match head {
            [0xff, 0xfe, ..] | [0xfe, 0xff, ..] => Some(&UTF16),
            _ if utf16_ascii(0) || utf16_ascii(1) => Some(&UTF16),
            _ => None,
        }
    }
}

/// What the (decompressed) bytes are, once their first bytes are seen.
#[derive(Debug)]
enum Content {
    /// Fewer than [`SNIFF_BYTES`] seen: held until the kind is known.
    Sniffing(Vec<u8>),
    /// Text, going to the splitter.
    Text,
    /// Not text: only the first [`RAW_LIMIT`] bytes are kept, for the quarantine.
    NotText(&'static NotText, Vec<u8>),
}

impl std::fmt::Debug for NotText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason)
    }
}

/// Reads one file, pushed in chunks. Never fails and never panics on its bytes: bad
/// records are quarantined, and a problem with the file as a whole is a line in
/// [`InputSummary::problems`].
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
    /// `None` when the caller hashes the bytes itself ([`HashedElsewhere`]).
    hasher: Option<Sha256>,
    bytes: u64,
    /// The first bytes, until we know whether the file is gzip.
    head: Vec<u8>,
    gzip: Option<flate2::write::MultiGzDecoder<Vec<u8>>>,
    decided: bool,
    /// The gzip data was damaged: the rest of the file is hashed, not read.
    gzip_damaged: bool,
    /// Compressed bytes short of a whole [`GZIP_STEP`], waiting for more.
    gzip_pending: Vec<u8>,
    content: Content,
    problems: Vec<String>,
    splitter: Splitter,
    collector: Collector,
    /// The most bytes one inflate step gave.
    #[cfg(test)]
    most_inflated: usize,
}

impl FileReader {
    /// A reader for the file `name`; `source` overrides detection when given.
    pub fn new(name: impl Into<String>, source: Option<Source>) -> Self {
        FileReader {
            hasher: Some(Sha256::new()),
            bytes: 0,
            head: Vec::new(),
            gzip: None,
            decided: false,
            gzip_damaged: false,
            gzip_pending: Vec::new(),
            content: Content::Sniffing(Vec::new()),
            problems: Vec::new(),
            splitter: Splitter::default(),
            collector: Collector {
                name: name.into(),
                source,
                chosen: source.is_some(),
                ..Collector::default()
            },
            #[cfg(test)]
            most_inflated: 0,
        }
    }

    /// Reads the next chunk of the file's bytes.
    pub fn feed(&mut self, chunk: &[u8]) {
        if let Some(hasher) = &mut self.hasher {
            hasher.update(chunk);
        }
        self.bytes += chunk.len() as u64;
        if !self.decided {
            let enough = |b: &[u8]| b.len() >= GZIP_MAGIC.len();
            let Some(head) = split::start_of(&mut self.head, chunk, enough) else {
                return;
            };
            self.decided = true;
            if head.starts_with(&GZIP_MAGIC) {
                self.gzip = Some(flate2::write::MultiGzDecoder::new(Vec::new()));
            }
            self.decode(&head);
        } else {
            self.decode(chunk);
        }
    }

    fn decode(&mut self, chunk: &[u8]) {
        if self.gzip.is_none() {
            return self.content(chunk);
        }
        let mut rest = chunk;
        if !self.gzip_pending.is_empty() {
            let take = (GZIP_STEP - self.gzip_pending.len()).min(rest.len());
            self.gzip_pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.gzip_pending.len() < GZIP_STEP {
                return;
            }
            let step = std::mem::take(&mut self.gzip_pending);
            self.inflate(&step);
        }
        let mut steps = rest.chunks_exact(GZIP_STEP);
        for step in &mut steps {
            self.inflate(step);
        }
        self.gzip_pending.extend_from_slice(steps.remainder());
    }

    /// Inflates one step of gzip data into records.
    fn inflate(&mut self, step: &[u8]) {
        let Some(gz) = self.gzip.as_mut().filter(|_| !self.gzip_damaged) else {
            return;
        };
        if let Err(e) = gz.write_all(step) {
            self.gzip_damaged = true;
            self.problems.push(format!(
                "the gzip data is damaged ({e}): the records before the damage were read, \
                 the rest of the file was not; compress the file again"
            ));
        }
        let out = std::mem::take(gz.get_mut());
        #[cfg(test)]
        {
            self.most_inflated = self.most_inflated.max(out.len());
        }
        self.content(&out);
    }

    /// Takes decoded bytes: held until the file's kind is known, then cut into records.
    fn content(&mut self, bytes: &[u8]) {
        match &mut self.content {
            Content::Text => self.text(bytes),
            Content::NotText(_, kept) => {
                let room = RAW_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(&bytes[..room.min(bytes.len())]);
            }
            Content::Sniffing(held) => {
                let enough = |b: &[u8]| b.len() >= SNIFF_BYTES;
                if let Some(head) = split::start_of(held, bytes, enough) {
                    self.sniff(&head);
                }
            }
        }
    }

    /// Decides what the file holds from `head`, its first bytes (all of them when the
    /// file is shorter than [`SNIFF_BYTES`]), and reads them as that.
    fn sniff(&mut self, head: &[u8]) {
        // Only the first bytes: the head holds as much as the first chunks brought.
        match NotText::sniff(&head[..head.len().min(SNIFF_BYTES)]) {
            Some(kind) => {
                self.content = Content::NotText(kind, Vec::new());
                self.content(head);
            }
            None => {
                self.content = Content::Text;
                self.text(head);
            }
        }
    }

    fn text(&mut self, bytes: &[u8]) {
        let collector = &mut self.collector;
        self.splitter.feed(bytes, &mut |p| collector.piece(p));
    }

    /// Ends the file: flushes the last record and returns everything it gave.
    pub fn finish(mut self) -> FileBatch {
        let sha256 = self
            .hasher
            .take()
            .map(|h| hex::encode(h.finalize()))
            .unwrap_or_default();
        self.finish_with(sha256)
    }

    fn finish_with(mut self, sha256: String) -> FileBatch {
        if !self.decided {
            self.decided = true;
            let head = std::mem::take(&mut self.head);
            self.decode(&head);
        }
        let last_step = std::mem::take(&mut self.gzip_pending);
        self.inflate(&last_step);
        if let Some(gz) = self.gzip.as_mut().filter(|_| !self.gzip_damaged) {
            let ended = gz.try_finish();
            let out = std::mem::take(gz.get_mut());
            if ended.is_err() {
                self.problems.push(
                    "the gzip data ends early: the file looks truncated (the records before \
                     the cut were read); copy or download it again"
                        .to_string(),
                );
            }
            self.content(&out);
        }
        // A file shorter than the sniff is decided on what there is.
        if let Content::Sniffing(held) = &mut self.content {
            let head = std::mem::take(held);
            self.sniff(&head);
        }
        let collector = &mut self.collector;
        if let Content::NotText(kind, kept) = &self.content {
            collector.piece(Piece::Bad(1, kept, kind.reason));
            self.problems.insert(
                0,
                format!(
                    "{}: it was quarantined whole, as one record; {}",
                    kind.reason, kind.advice
                ),
            );
        }
        if let Some(note) = self.splitter.finish(&mut |p| collector.piece(p)) {
            self.problems.push(note.to_string());
        }
        let mut c = self.collector;
        if let Some(line) = c.cut {
            self.problems.push(format!(
                "line {line} ends mid-record: the file looks truncated (the records before \
                 it were read); copy or export it again to read the rest"
            ));
        }
        let t = c.oversized;
        if t.count > 0 {
            self.problems.push(format!(
                "{} record(s) longer than the 16 MiB limit were quarantined, the first at line \
                 {}: check that the file's lines end in LF or CRLF, or split the records",
                t.count, t.first_line
            ));
        }
        let t = c.other_source;
        if let (true, Some(source)) = (t.count > 0, c.source) {
            self.problems.push(format!(
                "{} record(s) of another source were quarantined, the first at line {}: \
                 this file was read as {} records; put each source in a file of its own",
                t.count,
                t.first_line,
                source.as_str()
            ));
        }
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
        } else if c.source.is_none() && c.records > 0 {
            self.problems.push(
                "no record could be read as a JSON object, so the file's source is unknown: \
                 check that it is JSON Lines or a JSON array of customer, accelerometer or \
                 step_trainer records"
                    .to_string(),
            );
        }
        if c.records == 0 && self.problems.is_empty() {
            self.problems.push(if self.bytes == 0 {
                "the file is empty: there is nothing to read".to_string()
            } else if self.splitter.is_array() {
                "the JSON array is empty: there is nothing to read".to_string()
            } else {
                "the file has only blank lines: there is nothing to read".to_string()
            });
        }
        if c.unknown_keys_dropped {
            self.problems.push(format!(
                "the records have more than {MAX_UNKNOWN_KEYS} distinct unknown keys; only the \
                 first {MAX_UNKNOWN_KEYS} are counted in the audit"
            ));
        }
        // Quarantine in line order, whatever order records were decided in.
        c.quarantine.sort_by_key(|q| q.line);
        for q in &mut c.quarantine {
            q.source = c.source;
        }
        let summary = InputSummary {
            name: c.name.clone(),
            bytes: self.bytes,
            sha256,
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

/// A [`FileReader`] whose caller hashes the file's bytes: the browser's own SHA-256 runs
/// in native code, several times faster than SHA-256 compiled to WebAssembly.
///
/// ```
/// use sha2::{Digest, Sha256};
/// use stedi_core::ingest::{FileReader, HashedElsewhere};
/// let bytes = br#"{"sensorReadingTime":1,"serialNumber":"s","distanceFromObject":2}"#;
/// let mut here = FileReader::new("steps.json", None);
/// let mut elsewhere = HashedElsewhere::new("steps.json", None);
/// here.feed(bytes);
/// elsewhere.feed(bytes);
/// let hashed = elsewhere.finish(Sha256::digest(bytes).into());
/// assert_eq!(hashed.summary, here.finish().summary);
/// ```
#[derive(Debug)]
pub struct HashedElsewhere(FileReader);

impl HashedElsewhere {
    /// A reader for the file `name`; `source` overrides detection when given.
    pub fn new(name: impl Into<String>, source: Option<Source>) -> Self {
        let mut reader = FileReader::new(name, source);
        reader.hasher = None;
        HashedElsewhere(reader)
    }

    /// Reads the next chunk of the file's bytes.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.0.feed(chunk);
    }

    /// Ends the file, whose bytes' SHA-256 is `sha256`.
    pub fn finish(self, sha256: [u8; 32]) -> FileBatch {
        self.0.finish_with(hex::encode(sha256))
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
    /// The rows each input holds, in the order of `inputs`.
    spans: Vec<Rows>,
    /// Files were added out of order or removed since the strings were numbered as
    /// merging the files afresh numbers them; see [`Landing::settle`].
    unsettled: bool,
}

/// Rows in each landing column: those one input holds, or a landing in all.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rows {
    /// customer_landing
    pub customers: usize,
    /// accelerometer_landing
    pub readings: usize,
    /// step_trainer_landing
    pub steps: usize,
    /// The quarantine.
    pub quarantine: usize,
}

impl Rows {
    fn of(batch: &FileBatch) -> Rows {
        Rows {
            customers: batch.customers.len(),
            readings: batch.accelerometer.user.len(),
            steps: batch.step_trainer.time.len(),
            quarantine: batch.quarantine.len(),
        }
    }

    /// The rows a file's summary counts: its accepted records are its source's.
    pub fn counted(input: &InputSummary) -> Rows {
        let accepted = input.accepted as usize;
        let of = |source: Source| match input.source == Some(source) {
            true => accepted,
            false => 0,
        };
        Rows {
            customers: of(Source::Customer),
            readings: of(Source::Accelerometer),
            steps: of(Source::StepTrainer),
            quarantine: input.quarantined as usize,
        }
    }

    /// The rows a landing will hold once files still being read are added, as far as the
    /// files `read` tell: theirs, and for each file still being read (its source, if
    /// known, its name and its size in bytes) as many rows per byte as the files of its
    /// source read so far that are gzipped as it is (by their names), with one percent
    /// to spare. A file whose source is not known, or like none of the files read,
    /// counts none.
    pub fn expected<'a, 'n>(
        read: impl IntoIterator<Item = &'a InputSummary>,
        unread: impl IntoIterator<Item = (Option<Source>, &'n str, u64)>,
    ) -> Rows {
        fn gzipped(name: &str) -> bool {
            let name = name.as_bytes();
            name.len() >= 3 && name[name.len() - 3..].eq_ignore_ascii_case(b".gz")
        }
        // The bytes and rows of the files read, by source and whether gzipped.
        let mut kinds: Vec<((Source, bool), u64, Rows)> = Vec::new();
        let mut rows = Rows::default();
        for summary in read {
            let counted = Rows::counted(summary);
            rows = rows.plus(&counted);
            let Some(source) = summary.source else {
                continue;
            };
            let kind = (source, gzipped(&summary.name));
            match kinds.iter_mut().find(|(k, ..)| *k == kind) {
                Some((_, bytes, like)) => {
                    *bytes += summary.bytes;
                    *like = like.plus(&counted);
                }
                None => kinds.push((kind, summary.bytes, counted)),
            }
        }
        for (source, name, bytes) in unread {
            let Some(source) = source else {
                continue;
            };
            let kind = (source, gzipped(name));
            let Some((_, like_bytes, like)) = kinds.iter().find(|(k, ..)| *k == kind) else {
                continue;
            };
            if *like_bytes == 0 {
                continue;
            }
            let per_byte = 1.01 * bytes as f64 / *like_bytes as f64;
            let scaled = |n: usize| (n as f64 * per_byte).ceil() as usize;
            rows = rows.plus(&Rows {
                customers: scaled(like.customers),
                readings: scaled(like.readings),
                steps: scaled(like.steps),
                quarantine: scaled(like.quarantine),
            });
        }
        rows
    }

    /// The rows of both.
    pub fn plus(self, other: &Rows) -> Rows {
        Rows {
            customers: self.customers + other.customers,
            readings: self.readings + other.readings,
            steps: self.steps + other.steps,
            quarantine: self.quarantine + other.quarantine,
        }
    }
}

/// Puts `items` into `v` at `at`: appended when `at` is the end, as it nearly always is.
fn put<T>(v: &mut Vec<T>, at: usize, items: impl Iterator<Item = T>) {
    if at == v.len() {
        v.extend(items);
    } else {
        v.splice(at..at, items);
    }
}

impl Landing {
    /// Merges file batches in file-name order (ties: by content hash), so the result never
    /// depends on the order in which files were read or dropped.
    pub fn from_batches(mut batches: Vec<FileBatch>) -> Landing {
        batches.sort_by(|a, b| {
            (&a.summary.name, &a.summary.sha256).cmp(&(&b.summary.name, &b.summary.sha256))
        });
        let mut landing = Landing::default();
        // Every column sized once: no growth copies, and no spare capacity kept.
        landing.reserve(batches.iter().map(|b| &b.summary));
        for batch in batches {
            landing.insert(landing.inputs.len(), batch);
        }
        landing
    }

    /// Like [`Landing::from_batches`], leaving the batches to the caller.
    pub fn merge<'a>(batches: impl IntoIterator<Item = &'a FileBatch>) -> Landing {
        Landing::from_batches(batches.into_iter().cloned().collect())
    }

    /// Adds one file's batch where its name puts it, so that the landing is the one
    /// [`Landing::merge`] gives for all the files (once [`Landing::settle`]d). The browser
    /// adds each batch as it arrives and keeps no other copy of it.
    pub fn add(&mut self, batch: FileBatch) {
        fn key(s: &InputSummary) -> (&str, &str) {
            (&s.name, &s.sha256)
        }
        let new = key(&batch.summary);
        let at = self.inputs.partition_point(|s| key(s) <= new);
        if at < self.inputs.len() {
            self.unsettled = true;
        }
        self.insert(at, batch);
    }

    /// Makes room for the rows of files about to be added, as their summaries count them,
    /// so that adding them copies no column and leaves no spare room.
    pub fn reserve<'a>(&mut self, inputs: impl IntoIterator<Item = &'a InputSummary>) {
        let more = inputs.into_iter().fold(Rows::default(), |rows, input| {
            rows.plus(&Rows::counted(input))
        });
        let exact = self.rows().plus(&more);
        self.make_room(more, exact);
    }

    /// Makes room for a file about to be added, as its summary counts its rows, when it
    /// is added as it is read, before the other files' rows are known: a column without
    /// room for it is sized for the `expected` rows of all the files (so that the files
    /// after it copy no column when the expectation holds), or, when the expectation
    /// fell short, for half as much again as it needs (so that a column is copied a few
    /// times, not once per file).
    pub fn room_for(&mut self, input: &InputSummary, expected: Rows) {
        self.make_room(Rows::counted(input), expected);
    }

    /// Makes room in each column for `more` rows: a column without it is sized for
    /// `expected` rows when that is enough, else for half as much again as it needs.
    fn make_room(&mut self, more: Rows, expected: Rows) {
        fn grow<T>(v: &mut Vec<T>, more: usize, expected: usize) {
            let needed = v.len() + more;
            if needed <= v.capacity() {
                return;
            }
            let size = match expected >= needed {
                true => expected,
                false => needed + needed / 2,
            };
            // Room for more than is needed is a guess: without memory for it, no more.
            if v.try_reserve_exact(size - v.len()).is_err() {
                v.reserve_exact(more);
            }
        }
        let e = expected;
        grow(&mut self.customers, more.customers, e.customers);
        let a = &mut self.accelerometer;
        grow(&mut a.user, more.readings, e.readings);
        grow(&mut a.timestamp, more.readings, e.readings);
        grow(&mut a.x, more.readings, e.readings);
        grow(&mut a.y, more.readings, e.readings);
        grow(&mut a.z, more.readings, e.readings);
        let s = &mut self.step_trainer;
        grow(&mut s.time, more.steps, e.steps);
        grow(&mut s.serial, more.steps, e.steps);
        grow(&mut s.distance, more.steps, e.steps);
        grow(&mut self.quarantine, more.quarantine, e.quarantine);
    }

    /// The rows in each column.
    pub fn rows(&self) -> Rows {
        Rows {
            customers: self.customers.len(),
            readings: self.accelerometer.user.len(),
            steps: self.step_trainer.time.len(),
            quarantine: self.quarantine.len(),
        }
    }

    /// Takes the input at `index` (in the order of `inputs`) and all its rows out.
    pub fn remove(&mut self, index: usize) -> InputSummary {
        let from = self.spans[..index].iter().fold(Rows::default(), Rows::plus);
        let span = self.spans.remove(index);
        let rows = |at: usize, n: usize| at..at + n;
        self.customers.drain(rows(from.customers, span.customers));
        let (a, r) = (&mut self.accelerometer, rows(from.readings, span.readings));
        a.user.drain(r.clone());
        a.timestamp.drain(r.clone());
        a.x.drain(r.clone());
        a.y.drain(r.clone());
        a.z.drain(r);
        let (s, r) = (&mut self.step_trainer, rows(from.steps, span.steps));
        s.time.drain(r.clone());
        s.serial.drain(r.clone());
        s.distance.drain(r);
        self.quarantine
            .drain(rows(from.quarantine, span.quarantine));
        // Its strings may be used by no other input.
        self.unsettled = true;
        self.inputs.remove(index)
    }

    /// Numbers the strings as merging the inputs afresh would (in the order the inputs
    /// first use them), dropping those no input uses any more. Zones are built from a
    /// settled landing: some outputs follow the strings' order.
    pub fn settle(&mut self) {
        if !self.unsettled {
            return;
        }
        let old = std::mem::take(&mut self.strings);
        let mut remap = vec![u32::MAX; old.len()];
        let mut strings = Interner::default();
        let mut renumber = |id: &mut u32| {
            let new = &mut remap[*id as usize];
            if *new == u32::MAX {
                *new = strings.intern(old.get(*id));
            }
            *id = *new;
        };
        // A file holds one source's records, so walking its rows meets its strings in
        // the order reading it did.
        let mut at = Rows::default();
        for span in &self.spans {
            for c in &mut self.customers[at.customers..at.customers + span.customers] {
                renumber(&mut c.email);
                renumber(&mut c.serial);
            }
            self.accelerometer.user[at.readings..at.readings + span.readings]
                .iter_mut()
                .for_each(&mut renumber);
            self.step_trainer.serial[at.steps..at.steps + span.steps]
                .iter_mut()
                .for_each(&mut renumber);
            at = at.plus(span);
        }
        self.strings = strings;
        self.unsettled = false;
    }

    /// Puts a batch's rows in as input `at`; its customers and quarantine move in whole.
    fn insert(&mut self, at: usize, batch: FileBatch) {
        // Added at the end (files read in name order), the rows go after all the others:
        // no need to sum the spans of the files before.
        let from = if at == self.spans.len() {
            self.rows()
        } else {
            self.spans[..at].iter().fold(Rows::default(), Rows::plus)
        };
        let span = Rows::of(&batch);
        let remap: Vec<u32> = batch
            .strings
            .iter()
            .map(|s| self.strings.intern(s))
            .collect();
        let id = |u: &u32| remap[*u as usize];
        put(
            &mut self.customers,
            from.customers,
            batch.customers.into_iter().map(|c| Customer {
                email: id(&c.email),
                serial: id(&c.serial),
                ..c
            }),
        );
        let (a, b, r) = (&mut self.accelerometer, &batch.accelerometer, from.readings);
        put(&mut a.user, r, b.user.iter().map(id));
        put(&mut a.timestamp, r, b.timestamp.iter().copied());
        put(&mut a.x, r, b.x.iter().copied());
        put(&mut a.y, r, b.y.iter().copied());
        put(&mut a.z, r, b.z.iter().copied());
        let (s, b, r) = (&mut self.step_trainer, &batch.step_trainer, from.steps);
        put(&mut s.time, r, b.time.iter().copied());
        put(&mut s.serial, r, b.serial.iter().map(id));
        put(&mut s.distance, r, b.distance.iter().copied());
        put(
            &mut self.quarantine,
            from.quarantine,
            batch.quarantine.into_iter(),
        );
        self.inputs.insert(at, batch.summary);
        self.spans.insert(at, span);
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
    fn a_laid_out_reading_that_is_not_utf8_is_quarantined_as_such() {
        // Laid out as the spec writes readings, but a name's bytes are not UTF-8: the
        // short way checks only the names, so it must decline it there.
        for (source, line) in [
            (
                Source::Accelerometer,
                &b"{\"user\":\"a\xff@t\",\"timestamp\":2,\"x\":0,\"y\":0,\"z\":0}"[..],
            ),
            (
                Source::StepTrainer,
                b"{\"sensorReadingTime\":1,\"serialNumber\":\"s\xc3\",\"distanceFromObject\":2}",
            ),
        ] {
            let mut input = line.to_vec();
            input.extend_from_slice(b"\n");
            let b = read_bytes("f", Some(source), &input);
            assert_eq!((b.summary.accepted, b.summary.quarantined), (0, 1));
            assert_eq!(b.quarantine[0].reason, record::NOT_UTF8);
        }
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
    fn the_interner_gives_a_string_its_id_whatever_came_before() {
        let mut strings = Interner::default();
        let ids: Vec<u32> = ["a", "a", "b", "a", "b", "b", "c"]
            .iter()
            .map(|s| strings.intern(s))
            .collect();
        assert_eq!(ids, [0, 0, 1, 0, 1, 1, 2]);
        assert_eq!(
            (strings.get(1), strings.lookup("c"), strings.len()),
            ("b", Some(2), 3)
        );
    }

    proptest::proptest! {
        #[test]
        fn interned_ids_are_the_order_of_first_sight(
            seen in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        proptest::strategy::Strategy::prop_map(
                            "[a-c]{0,3}|[é€x]{1,2}",
                            String::into_bytes
                        ),
                        // Mostly not UTF-8: given as bytes, never interned.
                        proptest::collection::vec(proptest::prelude::any::<u8>(), 1..3),
                    ],
                    proptest::prelude::any::<bool>(),
                ),
                0..300,
            ),
            reserve in 0usize..40,
        ) {
            let mut strings = Interner::default();
            strings.reserve(reserve, reserve * 3);
            // The reference: a list searched from the start.
            let mut first: Vec<&str> = Vec::new();
            for (bytes, as_bytes) in &seen {
                let Ok(s) = std::str::from_utf8(bytes) else {
                    proptest::prop_assert_eq!(strings.intern_bytes(bytes), None);
                    continue;
                };
                let want = match first.iter().position(|f| *f == s) {
                    Some(at) => at,
                    None => {
                        first.push(s);
                        first.len() - 1
                    }
                };
                let id = match as_bytes {
                    true => strings.intern_bytes(bytes),
                    false => Some(strings.intern(s)),
                };
                proptest::prop_assert_eq!(id, Some(want as u32));
            }
            proptest::prop_assert_eq!(strings.len(), first.len());
            proptest::prop_assert_eq!(strings.iter().collect::<Vec<_>>(), first.clone());
            for (id, s) in first.iter().enumerate() {
                proptest::prop_assert_eq!(strings.get(id as u32), *s);
                proptest::prop_assert_eq!(strings.lookup(s), Some(id as u32));
            }
            proptest::prop_assert_eq!(strings.lookup("never interned"), None);
        }
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

    const STEP: &str = r#"{"sensorReadingTime":1,"serialNumber":"s","distanceFromObject":2}"#;

    #[test]
    fn a_cut_last_record_is_quarantined_as_truncated_and_its_line_named() {
        let b = read_bytes(
            "f",
            None,
            format!("{STEP}\n{STEP}\n{{\"sensorRead").as_bytes(),
        );
        assert_eq!((b.summary.accepted, b.summary.quarantined), (2, 1));
        assert_eq!(
            (b.quarantine[0].line, &*b.quarantine[0].reason),
            (3, CUT_RECORD)
        );
        assert!(b.summary.problems[0].starts_with("line 3 ends mid-record"));
        // A whole last line without a newline is no cut, and a bad one keeps its reason.
        let b = read_bytes("f", None, format!("{STEP}\n{STEP}").as_bytes());
        assert_eq!((b.summary.accepted, b.summary.problems.len()), (2, 0));
        let b = read_bytes("f", None, format!("{STEP}\n{{\"a\":}}").as_bytes());
        assert_eq!(b.quarantine[0].reason, "invalid JSON: expected value");
    }

    // Regression: a file cut inside its byte-order mark was "not UTF-8" instead of cut.
    #[test]
    fn a_file_cut_inside_a_multibyte_character_is_a_cut_record() {
        for bytes in [&b"\xEF"[..], b"\xEF\xBB", b"{\"user\":\"Zo\xc3"] {
            let b = read_bytes("f", None, bytes);
            assert_eq!(b.quarantine[0].reason, CUT_RECORD, "{bytes:?}");
        }
    }

    #[test]
    fn a_png_renamed_json_is_one_quarantined_record_of_no_known_source() {
        let png =
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\n\n";
        let mut r = FileReader::new("photo.json", None);
        for b in png {
            r.feed(std::slice::from_ref(b));
        }
        let b = r.finish();
        assert_eq!(b.summary.source, None);
        assert_eq!((b.summary.records, b.summary.quarantined), (1, 1));
        assert_eq!(
            b.quarantine[0].reason,
            "not JSON text: the file is a PNG image"
        );
        assert!(b.summary.problems[0].contains("load the JSON export instead"));
        assert!(b.summary.problems[1].contains("source is unknown"));
    }

    #[test]
    fn utf16_text_is_named_with_or_without_a_byte_order_mark() {
        for bytes in [&b"\xff\xfe{\0}\0"[..], b"{\0\"\0}\0", b"\0{\0}"] {
            let b = read_bytes("f", None, bytes);
            assert_eq!(b.summary.quarantined, 1);
            assert!(
                b.quarantine[0].reason.contains("UTF-16"),
                "{:?}",
                b.quarantine
            );
        }
        // One NUL early on is damage to one record, not another encoding.
        let b = read_bytes("f", None, format!("{{\0{STEP}\n{STEP}\n").as_bytes());
        assert_eq!((b.summary.accepted, b.summary.quarantined), (1, 1));
    }

    // Regression (found by fuzzing): damaged gzip gave more or fewer records depending on
    // how the file was cut into chunks.
    #[test]
    fn damaged_gzip_reads_the_same_whatever_the_chunking() {
        // The fuzzer's input: gzip data whose deflate stream breaks after a few bytes.
        let bytes = hex::decode(
            "1f8b080000000000fe006a29ceb13c601084d19e63fc75903233b163e700946e666960c756648413\
             c90e0d1177279c20335baf000000000000000000000000000000000000000af5da9d8fe3cb7299df\
             facff1782d87edefd3ed511259124692599246525952467297257746b2ca929591acb3646d24f759\
             726f249b2c4e614e364bb6af9308f540a1211888102282a108000000000000000000a122188c1032",
        );
        let bytes = bytes.unwrap();
        let whole = read_bytes("f.gz", None, &bytes);
        assert!(whole.summary.problems[0].contains("damaged"));
        for size in [1, 2, 3, 7, 64] {
            let mut r = FileReader::new("f.gz", None);
            for chunk in bytes.chunks(size) {
                r.feed(chunk);
            }
            let chunked = r.finish();
            assert_eq!(chunked.summary, whole.summary, "{size}-byte chunks");
            assert_eq!(chunked.quarantine, whole.quarantine, "{size}-byte chunks");
        }
    }

    // Regression (found by fuzzing): UTF-16 was told from all the bytes of the first
    // chunks, so a file read differently fed whole and fed in small chunks.
    #[test]
    fn utf16_is_told_from_the_first_bytes_whatever_the_chunking() {
        let bytes = b"9\x006\x008\x000\x000\x000\x000\x000\x00,\x00\"\x00s\x00\xac\n{}\n";
        let whole = read_bytes("f", None, bytes);
        let mut r = FileReader::new("f", None);
        for chunk in bytes.chunks(SNIFF_BYTES) {
            r.feed(chunk);
        }
        let chunked = r.finish();
        assert_eq!(whole.summary, chunked.summary);
        assert_eq!(whole.quarantine[0].reason, UTF16.reason);
    }

    #[test]
    fn a_file_with_nothing_to_read_says_so() {
        for (bytes, says) in [
            (&b""[..], "the file is empty"),
            (b"\n \r\n", "only blank lines"),
            (b" [ ]\n", "the JSON array is empty"),
        ] {
            let b = read_bytes("f", None, bytes);
            assert_eq!(b.summary.records, 0);
            assert!(b.summary.problems[0].contains(says), "{:?}", b.summary);
        }
    }

    #[test]
    fn a_file_of_unreadable_records_is_of_no_known_source_and_says_so() {
        let b = read_bytes("f", None, b"id,name\n1,a\n");
        assert_eq!((b.summary.source, b.summary.quarantined), (None, 2));
        assert!(b.summary.problems[0].contains("no record could be read as a JSON object"));
    }

    #[test]
    fn records_of_another_source_are_counted_in_a_problem_with_the_first_line() {
        let input = format!("{STEP}\n{CUSTOMER}\n{STEP}\n{CUSTOMER}\n");
        let b = read_bytes("f", None, input.as_bytes());
        assert_eq!(b.summary.quarantined, 2);
        let problem = &b.summary.problems[0];
        assert!(
            problem.starts_with("2 record(s) of another source"),
            "{problem}"
        );
        assert!(problem.contains("first at line 2"), "{problem}");
    }

    #[test]
    fn an_oversized_record_is_named_by_line_with_what_to_do() {
        let mut input = format!("{STEP}\n").into_bytes();
        input.resize(input.len() + MAX_RECORD_BYTES + 1, b' ');
        input.extend_from_slice(format!("\n{STEP}\n").as_bytes());
        let b = read_bytes("f", None, &input);
        assert_eq!((b.summary.accepted, b.summary.quarantined), (2, 1));
        assert_eq!(b.quarantine[0].line, 2);
        let problem = &b.summary.problems[0];
        assert!(problem.contains("first at line 2"), "{problem}");
        assert!(problem.contains("LF or CRLF"), "{problem}");
    }

    #[test]
    fn an_unknown_key_repeated_in_a_record_counts_once() {
        let b = read_bytes(
            "f",
            None,
            b"{\"user\":\"u\",\"timestamp\":2,\"x\":0,\"y\":0,\"z\":0,\"extra\":1,\"extra\":2}\n",
        );
        assert_eq!(b.summary.unknown_keys.get("extra"), Some(&1));
    }

    #[test]
    fn distinct_unknown_keys_are_capped_and_the_cap_is_said() {
        let mut input = String::new();
        for i in 0..MAX_UNKNOWN_KEYS + 5 {
            input.push_str(&format!(
                "{{\"sensorReadingTime\":1,\"serialNumber\":\"s\",\"distanceFromObject\":2,\"k{i}\":0}}\n"
            ));
        }
        let b = read_bytes("f", None, input.as_bytes());
        assert_eq!(b.summary.accepted, MAX_UNKNOWN_KEYS as u64 + 5);
        assert_eq!(b.summary.unknown_keys.len(), MAX_UNKNOWN_KEYS);
        assert!(b.summary.problems[0].contains("distinct unknown keys"));
    }

    #[test]
    fn damaged_gzip_stops_reading_and_says_what_to_do() {
        use flate2::write::GzEncoder;
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
        for _ in 0..1000 {
            writeln!(gz, "{STEP}").unwrap();
        }
        let mut bytes = gz.finish().unwrap();
        // A second member whose header is broken (compression method 7).
        bytes.extend_from_slice(b"\x1f\x8b\x07\0more bytes that are never read");
        bytes.extend_from_slice(&bytes.clone());
        let b = read_bytes("f.gz", None, &bytes);
        let s = &b.summary;
        assert_eq!((s.records, s.accepted), (1000, 1000));
        assert_eq!(s.problems.len(), 1, "{s:?}");
        assert!(s.problems[0].contains("damaged"), "{s:?}");
    }

    #[test]
    fn a_gzip_bomb_is_inflated_in_bounded_steps() {
        use flate2::write::GzEncoder;
        let member = |bytes: &[u8]| {
            let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(bytes).unwrap();
            gz.finish().unwrap()
        };
        let mut bomb = member(format!("{STEP}\n").as_bytes());
        let blank = member(&vec![b' '; 1 << 20]);
        for _ in 0..16 {
            bomb.extend_from_slice(&blank);
        }
        let mut r = FileReader::new("f.gz", None);
        r.feed(&bomb);
        // 16 MiB came out of one chunk, a few MiB at a time.
        assert!(r.most_inflated <= 5 << 20, "{}", r.most_inflated);
        assert_eq!(r.finish().summary.accepted, 1);
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

    #[test]
    fn files_given_room_as_they_come_copy_a_column_only_when_the_expectation_falls_short() {
        let files: Vec<FileBatch> = (0..12u8)
            .map(|i| {
                let text = small_file(1, &[i % 6, 1, 2, 3], false);
                read_bytes(&format!("f{i:02}.json"), None, text.as_bytes())
            })
            .collect();
        let all = files
            .iter()
            .fold(Rows::default(), |r, f| r.plus(&Rows::counted(&f.summary)));
        // Expected right: the first file sizes the columns for all, none is copied after.
        let mut landing = Landing::default();
        let mut places = std::collections::BTreeSet::new();
        for file in &files {
            landing.room_for(&file.summary, all);
            places.insert(landing.accelerometer.x.as_ptr());
            landing.add(file.clone());
        }
        assert_eq!(places.len(), 1);
        assert_eq!(landing.accelerometer.x.capacity(), all.readings);
        assert_eq!(landing.rows(), all);
        assert_eq!(
            landing_text(&landing),
            landing_text(&Landing::merge(&files))
        );
        // Expected nothing: each copy leaves room for half as much again, so a few in all.
        let mut landing = Landing::default();
        let mut copies = 0;
        for file in &files {
            let before = landing.accelerometer.x.capacity();
            landing.room_for(&file.summary, Rows::default());
            copies += usize::from(landing.accelerometer.x.capacity() != before);
            landing.add(file.clone());
        }
        assert!(landing.accelerometer.x.capacity() >= all.readings);
        assert!(copies <= 8, "{copies} copies of a column for 12 files");
        assert_eq!(
            landing_text(&landing),
            landing_text(&Landing::merge(&files))
        );
        // Expected more than memory holds: room for the file alone.
        let mut landing = Landing::default();
        let huge = Rows {
            readings: usize::MAX / 16,
            ..Rows::default()
        };
        landing.room_for(&files[0].summary, huge);
        let alone = Rows::counted(&files[0].summary).readings;
        assert_eq!(landing.accelerometer.x.capacity(), alone);
    }

    #[test]
    fn the_rows_expected_follow_the_files_read_of_each_source() {
        let file = |name: &str, source: u8, who: &[u8]| {
            let text = small_file(source, who, true);
            read_bytes(name, None, text.as_bytes())
        };
        let readings = file("accelerometer-1.json", 1, &[1, 2, 3, 4]);
        let steps = file("step_trainer-1.json", 2, &[1, 2]);
        let (r, s) = (&readings.summary, &steps.summary);
        let read = [r, s];
        // As large as a file read: as many rows, one percent more (rounded up).
        let got = Rows::expected(read, [(Some(Source::Accelerometer), "a.json", r.bytes)]);
        let just = Rows::counted(r).plus(&Rows::counted(s));
        let more = |n: usize| (n as f64 * 1.01).ceil() as usize;
        assert_eq!(got.readings, 4 + more(4));
        assert_eq!(got.quarantine, 2 + more(1));
        assert_eq!((got.steps, got.customers), (just.steps, 0));
        // Twice as large as the step trainer file: twice its rows.
        let got = Rows::expected(read, [(Some(Source::StepTrainer), "s.json", 2 * s.bytes)]);
        assert_eq!(got.steps, 2 + more(4));
        // Unknown, of a source not read yet, or gzipped unlike those read: none.
        let got = Rows::expected(
            read,
            [
                (None, "a.json", 100),
                (Some(Source::Customer), "c.json", 100),
                (Some(Source::StepTrainer), "s.json.GZ", 100),
            ],
        );
        assert_eq!(got, just);
        assert_eq!(
            Source::named("Step_Trainer-1691348231724.json"),
            Some(Source::StepTrainer)
        );
        assert_eq!(Source::named("data.json"), None);
    }

    /// Everything a landing holds, strings by their ids, as text to compare.
    fn landing_text(l: &Landing) -> String {
        let strings: Vec<&str> = (0..l.strings.len() as u32)
            .map(|i| l.strings.get(i))
            .collect();
        format!(
            "{strings:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            l.customers, l.accelerometer, l.step_trainer, l.inputs, l.quarantine, l.spans
        )
    }

    /// A small file of one source whose records use people `who`, with a bad line.
    fn small_file(source: u8, who: &[u8], bad: bool) -> String {
        let mut lines: Vec<String> = who
            .iter()
            .enumerate()
            .map(|(i, p)| match source % 3 {
                0 => format!(
                    r#"{{"customerName":"N","email":"p{p}@x","phone":"1","birthDay":"1900-01-01","serialNumber":"s{}","registrationDate":{i},"lastUpdateDate":2,"shareWithResearchAsOfDate":3}}"#,
                    p % 3
                ),
                1 => format!(r#"{{"user":"p{p}@x","timestamp":{i},"x":0.5,"y":{p},"z":1}}"#),
                _ => format!(
                    r#"{{"sensorReadingTime":{i},"serialNumber":"s{p}","distanceFromObject":{p}}}"#
                ),
            })
            .collect();
        if bad {
            lines.insert(lines.len() / 2, "{not json".into());
        }
        lines.join("\n")
    }

    proptest::proptest! {
        #[test]
        fn files_added_in_any_order_and_removed_give_the_merged_landing(
            files in proptest::collection::vec(
                (0u8..3, 0u8..3, proptest::collection::vec(0u8..6, 0..5), proptest::bool::ANY),
                1..7,
            ),
            order in proptest::collection::vec(proptest::num::usize::ANY, 7),
            removed in proptest::collection::vec(proptest::bool::ANY, 7),
        ) {
            // Names from a small set, so that some tie and their hashes decide.
            let batches: Vec<FileBatch> = files
                .iter()
                .map(|(name, source, who, bad)| {
                    read_bytes(&format!("f{name}.json"), None, small_file(*source, who, *bad).as_bytes())
                })
                .collect();
            for batch in &batches {
                proptest::prop_assert_eq!(Rows::counted(&batch.summary), Rows::of(batch));
            }
            let mut arrival: Vec<usize> = (0..batches.len()).collect();
            for (i, o) in order.iter().enumerate().take(batches.len()) {
                arrival.swap(i, o % batches.len());
            }
            let mut landing = Landing::default();
            for i in &arrival {
                landing.add(batches[*i].clone());
            }
            // Take some out again, then put one of them back.
            let mut kept: Vec<&FileBatch> = batches.iter().collect();
            for (i, batch) in batches.iter().enumerate() {
                if removed[i] {
                    let at = landing.inputs.iter().position(|s| *s == batch.summary).unwrap();
                    landing.remove(at);
                    let at = kept.iter().position(|b| b.summary == batch.summary).unwrap();
                    kept.remove(at);
                }
            }
            if let Some(back) = batches.iter().enumerate().find(|(i, _)| removed[*i]) {
                landing.add(back.1.clone());
                kept.push(back.1);
            }
            landing.settle();
            proptest::prop_assert_eq!(landing_text(&landing), landing_text(&Landing::merge(kept)));
        }
    }
}

//! Export: zones as JSON Lines, CSV or Parquet through Arrow, and the quarantine file.

use crate::ingest::{Landing, Quarantined};
use crate::pii::Salt;
use crate::policy::Pii;
use crate::zones::{Zone, Zones};
use crate::{Error, Result};
use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::sync::Arc;

/// Rows per Arrow batch: bounds memory while writing large zones.
const BATCH_ROWS: usize = 64 * 1024;

/// An output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JSON Lines, `.jsonl`.
    Jsonl,
    /// CSV with a header row, `.csv`.
    Csv,
    /// Parquet with snappy compression, `.parquet`.
    Parquet,
}

impl Format {
    /// All formats.
    pub const ALL: [Format; 3] = [Format::Jsonl, Format::Csv, Format::Parquet];

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// The file name of a zone in this format, e.g. `customer_trusted.csv`.
    pub fn file_name(self, zone: Zone) -> String {
        format!("{}.{}", zone.as_str(), self.extension())
    }
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Format::ALL
            .into_iter()
            .find(|f| f.extension() == s)
            .ok_or_else(|| Error::InvalidOption {
                option: "--format",
                value: s.to_string(),
                expected: "jsonl, csv, parquet",
            })
    }
}

/// A zone ready to be written: the landing data, the zone rows, and how PII is handled.
#[derive(Debug, Clone, Copy)]
pub struct ZoneWriter<'a> {
    /// The landing zones.
    pub landing: &'a Landing,
    /// The trusted and curated zones.
    pub zones: &'a Zones,
    /// PII handling in machine_learning_curated.
    pub pii: Pii,
    /// The salt for `Pii::Pseudonymize`.
    pub salt: &'a Salt,
}

fn field(name: &str, data_type: DataType, nullable: bool) -> Field {
    Field::new(name, data_type, nullable)
}

fn customer_schema() -> SchemaRef {
    use DataType::{Int64, Utf8};
    Arc::new(Schema::new(vec![
        field("customerName", Utf8, true),
        field("email", Utf8, false),
        field("phone", Utf8, true),
        field("birthDay", Utf8, true),
        field("serialNumber", Utf8, false),
        field("registrationDate", Int64, true),
        field("lastUpdateDate", Int64, true),
        field("shareWithResearchAsOfDate", Int64, true),
        field("shareWithPublicAsOfDate", Int64, true),
        field("shareWithFriendsAsOfDate", Int64, true),
    ]))
}

fn accelerometer_fields() -> Vec<Field> {
    use DataType::{Float64, Int64, Utf8};
    vec![
        field("user", Utf8, false),
        field("timestamp", Int64, false),
        field("x", Float64, false),
        field("y", Float64, false),
        field("z", Float64, false),
    ]
}

fn step_fields() -> Vec<Field> {
    use DataType::{Int64, Utf8};
    vec![
        field("sensorReadingTime", Int64, false),
        field("serialNumber", Utf8, false),
        field("distanceFromObject", Int64, false),
    ]
}

impl<'a> ZoneWriter<'a> {
    /// The zone's column schema.
    pub fn schema(&self, zone: Zone) -> SchemaRef {
        match zone {
            Zone::CustomerLanding | Zone::CustomerTrusted | Zone::CustomerCurated => {
                customer_schema()
            }
            Zone::AccelerometerLanding | Zone::AccelerometerTrusted => {
                Arc::new(Schema::new(accelerometer_fields()))
            }
            Zone::StepTrainerLanding | Zone::StepTrainerTrusted => {
                Arc::new(Schema::new(step_fields()))
            }
            Zone::MachineLearningCurated => {
                let mut fields = step_fields();
                fields.extend(accelerometer_fields());
                if self.pii == Pii::Drop {
                    fields.retain(|f| f.name() != "user" && f.name() != "serialNumber");
                }
                Arc::new(Schema::new(fields))
            }
        }
    }

    fn rows(&self, zone: Zone) -> usize {
        self.zones.rows(self.landing, zone)
    }

    /// The zone's rows `[from, to)` as an Arrow batch.
    pub fn batch(
        &self,
        zone: Zone,
        from: usize,
        to: usize,
        pseudonyms: &mut Pseudonyms,
    ) -> RecordBatch {
        let l = self.landing;
        let all = || (from..to).map(|i| i as u32);
        let columns: Vec<ArrayRef> = match zone {
            Zone::CustomerLanding => customer_columns(l, all()),
            Zone::CustomerTrusted => {
                customer_columns(l, self.zones.customer_trusted[from..to].iter().copied())
            }
            Zone::CustomerCurated => {
                customer_columns(l, self.zones.customer_curated[from..to].iter().copied())
            }
            Zone::AccelerometerLanding => {
                accelerometer_columns(l, all(), &mut |id| l.strings.get(id).to_string())
            }
            Zone::AccelerometerTrusted => accelerometer_columns(
                l,
                self.zones.accelerometer_trusted[from..to].iter().copied(),
                &mut |id| l.strings.get(id).to_string(),
            ),
            Zone::StepTrainerLanding => {
                step_columns(l, all(), &mut |id| l.strings.get(id).to_string())
            }
            Zone::StepTrainerTrusted => step_columns(
                l,
                self.zones.step_trainer_trusted[from..to].iter().copied(),
                &mut |id| l.strings.get(id).to_string(),
            ),
            Zone::MachineLearningCurated => {
                let pairs = &self.zones.machine_learning_curated[from..to];
                let mut name = |id: u32| pseudonyms.name(l, self.pii, self.salt, id);
                let mut columns = step_columns(l, pairs.iter().map(|p| p.0), &mut name);
                columns.extend(accelerometer_columns(
                    l,
                    pairs.iter().map(|p| p.1),
                    &mut name,
                ));
                if self.pii == Pii::Drop {
                    // serialNumber is column 1 and user column 3.
                    columns.remove(3);
                    columns.remove(1);
                }
                columns
            }
        };
        RecordBatch::try_new(self.schema(zone), columns).expect("columns match the zone schema")
    }

    /// Writes a whole zone in a format; returns the number of rows written.
    pub fn write(&self, zone: Zone, format: Format, out: impl Write + Send) -> Result<u64> {
        let name = format.file_name(zone);
        let err = |e: arrow_schema::ArrowError| Error::export(&name, e);
        let rows = self.rows(zone);
        let mut pseudonyms = Pseudonyms::default();
        let batches = (0..rows.max(1)).step_by(BATCH_ROWS).map(|from| {
            let to = (from + BATCH_ROWS).min(rows);
            self.batch(zone, from, to, &mut pseudonyms)
        });
        match format {
            Format::Jsonl => {
                let mut w = arrow_json::LineDelimitedWriter::new(out);
                for b in batches {
                    w.write(&b).map_err(err)?;
                }
                w.finish().map_err(err)?;
            }
            Format::Csv => {
                let mut w = arrow_csv::WriterBuilder::new().with_header(true).build(out);
                for b in batches {
                    w.write(&b).map_err(err)?;
                }
            }
            Format::Parquet => {
                let props = parquet::file::properties::WriterProperties::builder()
                    .set_compression(parquet::basic::Compression::SNAPPY)
                    .build();
                let mut w =
                    parquet::arrow::ArrowWriter::try_new(out, self.schema(zone), Some(props))
                        .map_err(|e| Error::export(&name, e))?;
                for b in batches {
                    w.write(&b).map_err(|e| Error::export(&name, e))?;
                }
                w.close().map_err(|e| Error::export(&name, e))?;
            }
        }
        Ok(rows as u64)
    }
}

/// Names of emails and serials as written: kept, or pseudonymized once per distinct value.
#[derive(Debug, Default)]
pub struct Pseudonyms {
    cache: Vec<Option<Box<str>>>,
}

impl Pseudonyms {
    pub(crate) fn name(&mut self, landing: &Landing, pii: Pii, salt: &Salt, id: u32) -> String {
        let value = landing.strings.get(id);
        if pii != Pii::Pseudonymize {
            return value.to_string();
        }
        if self.cache.len() <= id as usize {
            self.cache.resize(landing.strings.len(), None);
        }
        self.cache[id as usize]
            .get_or_insert_with(|| salt.pseudonym(value).into())
            .to_string()
    }
}

fn strings(values: impl Iterator<Item = Option<String>>) -> ArrayRef {
    let mut b = StringBuilder::new();
    for v in values {
        b.append_option(v);
    }
    Arc::new(b.finish())
}

fn ints(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    let mut b = Int64Builder::new();
    for v in values {
        b.append_option(v);
    }
    Arc::new(b.finish())
}

fn floats(values: impl Iterator<Item = f64>) -> ArrayRef {
    let mut b = Float64Builder::new();
    for v in values {
        b.append_value(v);
    }
    Arc::new(b.finish())
}

fn customer_columns(l: &Landing, rows: impl Iterator<Item = u32>) -> Vec<ArrayRef> {
    let rows: Vec<_> = rows.map(|i| &l.customers[i as usize]).collect();
    let text = |f: fn(&crate::ingest::Customer) -> Option<&str>| {
        strings(rows.iter().map(|c| f(c).map(str::to_string)))
    };
    let id = |f: fn(&crate::ingest::Customer) -> u32| {
        strings(rows.iter().map(|c| Some(l.strings.get(f(c)).to_string())))
    };
    let int = |f: fn(&crate::ingest::Customer) -> Option<i64>| ints(rows.iter().map(|c| f(c)));
    vec![
        text(|c| c.name.as_deref()),
        id(|c| c.email),
        text(|c| c.phone.as_deref()),
        text(|c| c.birth_day.as_deref()),
        id(|c| c.serial),
        int(|c| c.registration),
        int(|c| c.last_update),
        int(|c| c.research_consent),
        int(|c| c.public_consent),
        int(|c| c.friends_consent),
    ]
}

fn accelerometer_columns(
    l: &Landing,
    rows: impl Iterator<Item = u32>,
    name: &mut dyn FnMut(u32) -> String,
) -> Vec<ArrayRef> {
    let a = &l.accelerometer;
    let rows: Vec<usize> = rows.map(|i| i as usize).collect();
    vec![
        strings(rows.iter().map(|i| Some(name(a.user[*i])))),
        ints(rows.iter().map(|i| Some(a.timestamp[*i]))),
        floats(rows.iter().map(|i| a.x[*i])),
        floats(rows.iter().map(|i| a.y[*i])),
        floats(rows.iter().map(|i| a.z[*i])),
    ]
}

fn step_columns(
    l: &Landing,
    rows: impl Iterator<Item = u32>,
    name: &mut dyn FnMut(u32) -> String,
) -> Vec<ArrayRef> {
    let s = &l.step_trainer;
    let rows: Vec<usize> = rows.map(|i| i as usize).collect();
    vec![
        ints(rows.iter().map(|i| Some(s.time[*i]))),
        strings(rows.iter().map(|i| Some(name(s.serial[*i])))),
        ints(rows.iter().map(|i| Some(s.distance[*i]))),
    ]
}

/// Writes the quarantine as JSON Lines, one object per record.
pub fn write_quarantine(quarantine: &[Quarantined], mut out: impl Write) -> Result<u64> {
    let err = |e: std::io::Error| Error::export("quarantine.jsonl", e);
    for q in quarantine {
        serde_json::to_writer(&mut out, q).map_err(|e| Error::export("quarantine.jsonl", e))?;
        out.write_all(b"\n").map_err(err)?;
    }
    out.flush().map_err(err)?;
    Ok(quarantine.len() as u64)
}

/// A writer that hashes and counts what passes through it.
#[derive(Debug)]
pub struct HashingWriter<W> {
    inner: W,
    hasher: sha2::Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        use sha2::Digest;
        HashingWriter {
            inner,
            hasher: sha2::Sha256::new(),
            bytes: 0,
        }
    }

    /// The SHA-256 (lowercase hex) and size of everything written, and the inner writer.
    pub fn finish(self) -> (String, u64, W) {
        use sha2::Digest;
        (hex::encode(self.hasher.finalize()), self.bytes, self.inner)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

//! Export: zones as JSON Lines and CSV (written row by row, as Arrow would write them),
//! Parquet through Arrow, and the quarantine file.

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

mod part;
mod text;

pub use part::CuratedPart;

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
    pub fn batch(&self, names: &Names, zone: Zone, from: usize, to: usize) -> RecordBatch {
        let schema = self.schema(zone);
        let mut columns: Vec<Column> = schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Utf8 => Column::Text(StringBuilder::new()),
                DataType::Int64 => Column::Int(Int64Builder::new()),
                _ => Column::Float(Float64Builder::new()),
            })
            .collect();
        for pos in from..to {
            for (column, cell) in columns.iter_mut().zip(self.row(names, zone, pos).iter()) {
                match (column, *cell) {
                    (Column::Text(b), Cell::Text(v)) => b.append_option(v),
                    (Column::Int(b), Cell::Int(v)) => b.append_option(v),
                    (Column::Float(b), Cell::Float(v)) => b.append_value(v),
                    _ => unreachable!("rows are typed as the zone schema"),
                }
            }
        }
        let columns = columns
            .into_iter()
            .map(|c| -> ArrayRef {
                match c {
                    Column::Text(mut b) => Arc::new(b.finish()),
                    Column::Int(mut b) => Arc::new(b.finish()),
                    Column::Float(mut b) => Arc::new(b.finish()),
                }
            })
            .collect();
        RecordBatch::try_new(schema, columns).expect("columns match the zone schema")
    }

    /// The cells of the zone's row at `pos`, in the order of its schema's columns.
    pub(crate) fn row<'s>(&'s self, names: &'s Names, zone: Zone, pos: usize) -> Row<'s> {
        let l = self.landing;
        let z = self.zones;
        let customer = |i: u32| {
            let c = &l.customers[i as usize];
            Row::from([
                Cell::Text(c.name.as_deref()),
                Cell::Text(Some(l.strings.get(c.email))),
                Cell::Text(c.phone.as_deref()),
                Cell::Text(c.birth_day.as_deref()),
                Cell::Text(Some(l.strings.get(c.serial))),
                Cell::Int(c.registration),
                Cell::Int(c.last_update),
                Cell::Int(c.research_consent),
                Cell::Int(c.public_consent),
                Cell::Int(c.friends_consent),
            ])
        };
        let (a, s) = (&l.accelerometer, &l.step_trainer);
        let reading = |i: u32, user: &'s str| {
            let i = i as usize;
            [
                Cell::Text(Some(user)),
                Cell::Int(Some(a.timestamp[i])),
                Cell::Float(a.x[i]),
                Cell::Float(a.y[i]),
                Cell::Float(a.z[i]),
            ]
        };
        let step = |i: u32, serial: &'s str| {
            let i = i as usize;
            [
                Cell::Int(Some(s.time[i])),
                Cell::Text(Some(serial)),
                Cell::Int(Some(s.distance[i])),
            ]
        };
        let user = |i: u32| l.strings.get(a.user[i as usize]);
        let serial = |i: u32| l.strings.get(s.serial[i as usize]);
        let p = pos as u32;
        match zone {
            Zone::CustomerLanding => customer(p),
            Zone::CustomerTrusted => customer(z.customer_trusted[pos]),
            Zone::CustomerCurated => customer(z.customer_curated[pos]),
            Zone::AccelerometerLanding => Row::from(reading(p, user(p))),
            Zone::AccelerometerTrusted => {
                let i = z.accelerometer_trusted[pos];
                Row::from(reading(i, user(i)))
            }
            Zone::StepTrainerLanding => Row::from(step(p, serial(p))),
            Zone::StepTrainerTrusted => {
                let i = z.step_trainer_trusted[pos];
                Row::from(step(i, serial(i)))
            }
            Zone::MachineLearningCurated => {
                let (si, ai) = z.machine_learning_curated[pos];
                let [time, serial, distance] = step(si, names.get(l, s.serial[si as usize]));
                let [user, timestamp, x, y, z] = reading(ai, names.get(l, a.user[ai as usize]));
                match self.pii {
                    Pii::Drop => Row::from([time, distance, timestamp, x, y, z]),
                    _ => Row::from([time, serial, distance, user, timestamp, x, y, z]),
                }
            }
        }
    }

    /// Writes a whole zone in a format; returns the number of rows written.
    pub fn write(&self, zone: Zone, format: Format, out: impl Write + Send) -> Result<u64> {
        let name = format.file_name(zone);
        let rows = self.rows(zone);
        let names = Names::new(self, zone);
        match format {
            Format::Jsonl | Format::Csv => {
                return self.text_rows(&names, zone, format, (0..rows, true), out);
            }
            Format::Parquet => self
                .parquet(&names, zone, out)
                .map_err(|e| Error::export(&name, e))?,
        }
        Ok(rows as u64)
    }

    /// Writes the zone's rows `rows` (cut to its length) as CSV, after the header when
    /// `header`, or as JSON Lines; returns how many were written.
    fn text_rows(
        &self,
        names: &Names,
        zone: Zone,
        format: Format,
        (rows, header): (std::ops::Range<usize>, bool),
        out: impl Write,
    ) -> Result<u64> {
        let n = self.rows(zone);
        let rows = rows.start.min(n)..rows.end.min(n);
        let count = rows.len() as u64;
        let name = format.file_name(zone);
        match format {
            Format::Jsonl => text::jsonl(self, names, zone, rows, out),
            Format::Csv => text::csv(self, names, zone, (rows, header), out),
            Format::Parquet => {
                let why = "Parquet is written whole, not a part at a time";
                return Err(Error::export(&name, why));
            }
        }
        .map_err(|e| Error::export(&name, e))?;
        Ok(count)
    }

    fn parquet(
        &self,
        names: &Names,
        zone: Zone,
        out: impl Write + Send,
    ) -> Result<(), parquet::errors::ParquetError> {
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build();
        let mut w = parquet::arrow::ArrowWriter::try_new(out, self.schema(zone), Some(props))?;
        let rows = self.rows(zone);
        for from in (0..rows).step_by(BATCH_ROWS) {
            let to = (from + BATCH_ROWS).min(rows);
            w.write(&self.batch(names, zone, from, to))?;
        }
        w.close().map(drop)
    }
}

/// An Arrow column being built, by the schema's type.
enum Column {
    Text(StringBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
}

/// One value of a zone's row, typed as its column is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Float(f64),
}

/// Most columns a zone has (the customer zones').
const MAX_COLUMNS: usize = 10;

/// A zone's row: its cells, without an allocation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row<'a> {
    cells: [Cell<'a>; MAX_COLUMNS],
    len: usize,
}

impl<'a, const N: usize> From<[Cell<'a>; N]> for Row<'a> {
    fn from(cells: [Cell<'a>; N]) -> Self {
        let mut row = Row {
            cells: [Cell::Int(None); MAX_COLUMNS],
            len: N,
        };
        row.cells[..N].copy_from_slice(&cells);
        row
    }
}

impl<'a> std::ops::Deref for Row<'a> {
    type Target = [Cell<'a>];
    fn deref(&self) -> &[Cell<'a>] {
        &self.cells[..self.len]
    }
}

/// Emails and serial numbers as machine_learning_curated writes them: as read, or
/// pseudonymized, each distinct value once. Other zones always write them as read.
#[derive(Debug, Default)]
pub struct Names {
    /// By string id, for the values the zone uses; `None` when names are kept.
    pseudonyms: Option<Vec<Option<Box<str>>>>,
}

impl Names {
    /// Names as read, for every zone but a pseudonymized machine_learning_curated.
    pub const KEPT: Names = Names { pseudonyms: None };

    /// The names `zone` needs from `writer`'s run.
    pub fn new(writer: &ZoneWriter<'_>, zone: Zone) -> Names {
        Names::of_rows(writer, zone, 0..writer.zones.machine_learning_curated.len())
    }

    /// The names the zone's rows `rows` need: pseudonymizing hashes each name, so a
    /// worker writing some rows of the zone (or a preview showing a page of them) makes
    /// the pseudonyms of those rows only.
    pub fn of_rows(
        writer: &ZoneWriter<'_>,
        zone: Zone,
        rows: impl IntoIterator<Item = usize>,
    ) -> Names {
        if zone != Zone::MachineLearningCurated || writer.pii != Pii::Pseudonymize {
            return Names::KEPT;
        }
        let l = writer.landing;
        let mut pseudonyms: Vec<Option<Box<str>>> = vec![None; l.strings.len()];
        let all = &writer.zones.machine_learning_curated;
        let ids = rows
            .into_iter()
            .filter_map(|row| all.get(row))
            .flat_map(|(s, a)| {
                [
                    l.step_trainer.serial[*s as usize],
                    l.accelerometer.user[*a as usize],
                ]
            });
        for id in ids {
            pseudonyms[id as usize]
                .get_or_insert_with(|| writer.salt.pseudonym(l.strings.get(id)).into());
        }
        Names {
            pseudonyms: Some(pseudonyms),
        }
    }

    /// The name of string `id` as written.
    fn get<'s>(&'s self, landing: &'s Landing, id: u32) -> &'s str {
        match &self.pseudonyms {
            None => landing.strings.get(id),
            // `of_rows` named every id of the rows it was given, the only rows these names
            // are used for, so a value is never written as read.
            Some(p) => p[id as usize].as_deref().unwrap_or_default(),
        }
    }
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

//! The messages between the page and the worker, in one place.
//!
//! Each message is a JS object `{ msg: "<JSON>" }`, plus a `file` (a `File` handle, which
//! the worker reads itself in chunks) or a download's `Blob` (shared, not copied) where
//! the message carries one. File handles cannot go through a serializing codec, which is
//! why the messages are built by hand here.

use serde::{Deserialize, Serialize};
use stedi_core::audit::Audit;
use stedi_core::charts::{ConsentOverTime, CustomerSeries, Histogram};
use stedi_core::export::Format;
use stedi_core::ingest::{InputSummary, Source};
use stedi_core::preview::{Preview, Selection};
use stedi_core::review::{Page, ReviewList};
use stedi_core::verify::Check;
use stedi_core::{Policy, Zone};
use wasm_bindgen::{JsCast, JsValue};

/// Page -> worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ToWorker {
    /// Read the attached `File`.
    AddFile {
        /// The page's id for the file.
        id: u32,
        /// The name shown and recorded in the audit.
        name: String,
        /// The user's choice of source, if any.
        source: Option<Source>,
    },
    /// Generate the demo data set and read it.
    Demo {
        /// First id to give the generated files.
        first_id: u32,
        /// Generator scale (1 is course-sized).
        scale: u32,
    },
    /// Forget a file.
    Remove {
        /// The file's id.
        id: u32,
    },
    /// Read a file again with another source (`None`: detect it).
    SetSource {
        /// The file's id.
        id: u32,
        /// The source chosen.
        source: Option<Source>,
    },
    /// Build the zones under a policy.
    Run {
        /// The knobs.
        policy: Policy,
        /// The user's salt; a random one is made when absent.
        salt: Option<String>,
    },
    /// Produce a file of the last run for download.
    Download(Download),
    /// (To a reader worker.) Write the attached part of machine_learning_curated
    /// (`stedi_core::export::CuratedPart`'s bytes) as piece `piece` of download `job`.
    WritePart {
        /// The download it is a piece of.
        job: u32,
        /// Its place in the download.
        piece: u32,
        /// CSV or JSON Lines.
        format: Format,
    },
    /// One page of a review list of the last run.
    Review {
        /// Which list.
        list: ReviewList,
        /// Search text.
        query: String,
        /// Page number, from 0.
        page: usize,
    },
    /// One page of a zone, sorted and searched.
    Preview {
        /// Which rows, in which order.
        selection: Selection,
        /// Page number, from 0.
        page: usize,
    },
    /// One customer's readings over time, reduced to `columns` pixel columns.
    Customer {
        /// An email or serial number, or part of one.
        query: String,
        /// Pixel columns of the chart.
        columns: u32,
    },
    /// (To a reader worker.) Parse the attached `File` and send back its batch.
    Parse {
        /// The file's id.
        id: u32,
        /// Which reading of the file this is; answers to older ones are dropped.
        generation: u32,
        /// The file's name.
        name: String,
        /// The user's choice of source, if any.
        source: Option<Source>,
    },
    /// Check the attached audit.json against the files loaded.
    Verify {
        /// The salt, to check pseudonymized outputs.
        salt: Option<String>,
    },
}

/// What to download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Download {
    /// One zone in one format.
    Zone(Zone, Format),
    /// audit.json
    Audit,
    /// quarantine.jsonl
    Quarantine,
    /// Everything a `stedi run` writes, zones in this format, as one zip.
    Everything(Format),
    /// report.html, listing the outputs of a run in this format.
    Report(Format),
}

impl Download {
    /// The name the download is saved as.
    pub fn file_name(self) -> String {
        match self {
            Download::Zone(zone, format) => format.file_name(zone),
            Download::Audit => "audit.json".into(),
            Download::Quarantine => "quarantine.jsonl".into(),
            Download::Everything(_) => "stedi-lakehouse.zip".into(),
            Download::Report(_) => "report.html".into(),
        }
    }
}

/// The charts of a run that do not depend on a choice of customer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunCharts {
    /// Customers registered and consenting over time.
    pub consent: ConsentOverTime,
    /// distanceFromObject in machine_learning_curated.
    pub distance: Histogram,
}

/// One quarantine reason and how many of a file's records it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCount {
    /// The reason.
    pub reason: String,
    /// Records.
    pub count: u64,
    /// Line of the first record with this reason.
    pub first_line: u64,
}

/// How a download was made, told to the page with its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Made {
    /// Its size.
    pub bytes: u64,
    /// Milliseconds from the worker taking it up to its last byte; `None` when it was
    /// made ahead, right after the run, and was ready when asked for.
    pub millis: Option<f64>,
    /// The parts it was cut into (1: written whole).
    pub parts: u32,
    /// The workers that wrote those parts at once (1: the pipeline worker alone).
    pub workers: u32,
}

/// Worker -> page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker is listening.
    Ready,
    /// The demo generator made a file (it is being read next).
    FileAdded {
        /// Its id.
        id: u32,
        /// Its name.
        name: String,
        /// Its size.
        bytes: u64,
    },
    /// Bytes of a file read so far.
    Progress {
        /// The file's id.
        id: u32,
        /// Bytes read.
        done: u64,
    },
    /// A file was read.
    FileRead {
        /// The file's id.
        id: u32,
        /// Counts, source, hash and problems.
        summary: InputSummary,
        /// Quarantine reasons, most frequent first.
        reasons: Vec<ReasonCount>,
    },
    /// A file could not be read at all.
    FileFailed {
        /// The file's id.
        id: u32,
        /// What went wrong and what to do.
        message: String,
    },
    /// The zones of a run.
    RunDone {
        /// The run's audit (without outputs).
        audit: Box<Audit>,
        /// Milliseconds the run took.
        millis: f64,
        /// Data for the run's charts.
        charts: Box<RunCharts>,
        /// The WebAssembly memory of the worker and its readers, in bytes (it only grows,
        /// so this is its peak).
        wasm_bytes: u64,
        /// The most bytes of batches that waited at once outside WebAssembly memory to
        /// join the landing, since the last run (each is decoded into it, then freed).
        batch_bytes: u64,
        /// Reader workers that parse files in parallel (0: parsed by the worker itself).
        readers: u32,
    },
    /// A page of a zone.
    PreviewPage(Box<Preview>),
    /// A customer's series, or why no customer was found.
    CustomerChart {
        /// The search it answers.
        query: String,
        /// The series.
        series: Box<Result<CustomerSeries, String>>,
    },
    /// A download that writes a whole run (the zip, the audit, the report) has begun
    /// writing the run's file `name`, with `done` of its `total` files written.
    Writing {
        /// The file being written, e.g. `accelerometer_landing.csv`.
        name: String,
        /// Files written before it.
        done: u32,
        /// The run's files.
        total: u32,
    },
    /// A download written in parts by the worker and its readers at once has `done` of
    /// its `total` parts written.
    Parts {
        /// Parts written.
        done: u32,
        /// Parts in all.
        total: u32,
    },
    /// A download is ready; its `Blob` is attached (as `file`).
    File {
        /// File name to save as.
        name: String,
        /// How it was made.
        made: Made,
    },
    /// A page of a review list.
    ReviewPage {
        /// Which list.
        list: ReviewList,
        /// The search it answers.
        query: String,
        /// The rows.
        page: Page,
    },
    /// The loaded audit.json checked against the loaded files.
    Verified {
        /// Every item compared.
        checks: Vec<Check>,
    },
    /// (From a reader worker.) A file was parsed: its batch is attached as bytes, or the
    /// file could not be read.
    Parsed {
        /// The file's id.
        id: u32,
        /// The reading it answers.
        generation: u32,
        /// The batch's counts and its quarantine reasons; or why the file could not be
        /// read.
        read: Result<(InputSummary, Vec<ReasonCount>), String>,
        /// The reader's WebAssembly memory, in bytes.
        wasm_bytes: u64,
    },
    /// (From a reader worker.) A piece of a download was written: its `Blob` is
    /// attached, or it could not be written.
    PartWritten {
        /// The download it is a piece of.
        job: u32,
        /// Its place in the download.
        piece: u32,
        /// `Err` says why it could not be written.
        written: Result<(), String>,
        /// The reader's WebAssembly memory, in bytes.
        wasm_bytes: u64,
    },
    /// Something failed; nothing was changed.
    Failed {
        /// What went wrong and what to do.
        message: String,
    },
}

const MSG: &str = "msg";
const FILE: &str = "file";

/// A message as a JS object, with an optional `File`, `Blob` or bytes attached.
pub fn encode<T: Serialize>(msg: &T, file: Option<&JsValue>) -> JsValue {
    let obj = js_sys::Object::new();
    let json = serde_json::to_string(msg).expect("messages are plain data");
    set(&obj, MSG, &JsValue::from_str(&json));
    if let Some(f) = file {
        set(&obj, FILE, f);
    }
    obj.into()
}

fn set(obj: &js_sys::Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = js_sys::Reflect::set(obj, &JsValue::from_str(key), value);
}

fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    js_sys::Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined())
}

/// A received message, with its attachments.
pub struct Received<T> {
    /// The message.
    pub msg: T,
    /// The attached `File` (or `Blob`), if any.
    pub file: Option<web_sys::Blob>,
    /// The attached bytes, if any.
    pub bytes: Option<js_sys::Uint8Array>,
}

/// Decodes a message event's data.
pub fn decode<T: for<'de> Deserialize<'de>>(data: &JsValue) -> Result<Received<T>, String> {
    let json = get(data, MSG)
        .and_then(|v| v.as_string())
        .ok_or("a message without its body")?;
    let msg =
        serde_json::from_str(&json).map_err(|e| format!("a message that cannot be read: {e}"))?;
    Ok(Received {
        msg,
        file: get(data, FILE).and_then(|f| f.dyn_into().ok()),
        bytes: get(data, FILE).and_then(|f| f.dyn_into().ok()),
    })
}

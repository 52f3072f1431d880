//! A reader: a worker of the pipeline's worker that parses the files it is sent and
//! answers with their batches, and writes the pieces of a large download it is sent.
//! Built as a module of its own (`stedi-reader`), with the reading and text-writing code
//! only, so each reader compiles and warms up fast.

use crate::parts::{mime_of, Parts};
use crate::protocol::{decode, encode, FromWorker, ReasonCount, ToWorker};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use stedi_core::export::{CuratedPart, Format};
use stedi_core::ingest::{FileBatch, FileReader, HashedElsewhere, Source};
use stedi_core::Zone;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, FileReaderSync, MessageEvent};

/// Bytes read from a `File` at a time.
pub(crate) const CHUNK: f64 = 4.0 * 1024.0 * 1024.0;

/// Where a file's bytes are: a user's file, or generated demo bytes.
pub(crate) enum Origin {
    File(web_sys::File),
    Bytes(Vec<u8>),
}

/// A file to parse, as the worker sent it.
struct Job {
    id: u32,
    generation: u32,
    name: String,
    source: Option<Source>,
    file: Option<web_sys::File>,
    /// For a file the browser hashes: its hasher, and the file's bytes being read, asked
    /// for as the job arrives, so that the browser reads the next file while this reader
    /// parses the one before it.
    ahead: Option<(web_sys::SubtleCrypto, wasm_bindgen_futures::JsFuture)>,
}

/// Starts listening for files to parse, then tells the worker it is ready.
pub fn start() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let handler_scope = scope.clone();
    // Files are parsed one after the other, in the order sent: a file's hash is awaited,
    // and the next file must not start meanwhile.
    let jobs: Rc<RefCell<VecDeque<Job>>> = Rc::default();
    let draining = Rc::new(Cell::new(false));
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let scope = &handler_scope;
        match decode::<ToWorker>(&ev.data()) {
            Ok(received) => match received.msg {
                ToWorker::Parse {
                    id,
                    generation,
                    name,
                    source,
                } => {
                    let file: Option<web_sys::File> = received.file.and_then(|b| b.dyn_into().ok());
                    let ahead = file.as_ref().and_then(|f| {
                        let subtle = browser_hash(f)?;
                        Some((
                            subtle,
                            wasm_bindgen_futures::JsFuture::from(f.array_buffer()),
                        ))
                    });
                    jobs.borrow_mut().push_back(Job {
                        id,
                        generation,
                        name,
                        source,
                        file,
                        ahead,
                    });
                    if !draining.replace(true) {
                        let (scope, jobs, draining) =
                            (scope.clone(), jobs.clone(), draining.clone());
                        wasm_bindgen_futures::spawn_local(async move {
                            loop {
                                let job = jobs.borrow_mut().pop_front();
                                let Some(job) = job else { break };
                                parse_for_worker(&scope, job).await;
                            }
                            draining.set(false);
                        });
                    }
                }
                ToWorker::WritePart { job, piece, format } => {
                    let written = match received.bytes {
                        Some(bytes) => write_part(&bytes.to_vec(), format),
                        None => Err("the worker sent no part to write".into()),
                    };
                    let (written, blob) = match written {
                        Ok(blob) => (Ok(()), Some(blob)),
                        Err(message) => (Err(message), None),
                    };
                    let msg = FromWorker::PartWritten {
                        job,
                        piece,
                        written,
                        wasm_bytes: wasm_bytes(),
                    };
                    let data = encode(&msg, blob.as_ref().map(|b| b.as_ref()));
                    if let Err(e) = scope.post_message(&data) {
                        web_sys::console::error_2(&"could not send a written part".into(), &e);
                    }
                }
                _ => post(
                    scope,
                    &FromWorker::Failed {
                        message: "a reader only parses files and writes parts of downloads".into(),
                    },
                ),
            },
            Err(message) => post(scope, &FromWorker::Failed { message }),
        }
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    warm_up();
    post(&scope, &FromWorker::Ready);
}

/// A piece of a download: the part of machine_learning_curated in `bytes`, written in
/// `format` as a `Blob`.
fn write_part(bytes: &[u8], format: Format) -> Result<web_sys::Blob, String> {
    let part = CuratedPart::decode(bytes)?;
    let mut out = Parts::new();
    part.write(format, &mut out).map_err(|e| e.to_string())?;
    out.into_blob(mime_of(&format.file_name(Zone::MachineLearningCurated)))
}

/// Parses a few thousand made-up records of each source, and writes a part of their
/// machine_learning_curated. The browser compiles a module's functions when first called
/// and optimises them once they have run a while: done here, while the user picks files,
/// the first real file is read at full speed (without it, a reader took several times
/// longer over its first file), and a reader's first part of a download does not wait
/// for the writer to be compiled (in a W10 trace, the readers compiled 92 and 51 functions,
/// 18 and 9 ms, during the run).
fn warm_up() {
    let batches = warm_up_batches();
    for batch in &batches {
        let _ = batch.encode();
    }
    let (landing, zones, policy) = crate::worker::made_up_run(batches);
    let salt = stedi_core::pii::Salt::given("warm-up");
    let writer = stedi_core::export::ZoneWriter {
        landing: &landing,
        zones: &zones,
        pii: policy.pii,
        salt: &salt,
    };
    let part = writer.curated_part(0..zones.machine_learning_curated.len());
    for format in [Format::Csv, Format::Jsonl] {
        let _ = write_part(&part.encode(), format);
    }
}

/// Batches of made-up customers, readings and steps that make every zone non-empty.
pub(crate) fn warm_up_batches() -> Vec<FileBatch> {
    let lines = |n: usize, line: &dyn Fn(usize) -> String| {
        (0..n).map(line).collect::<Vec<_>>().join("\n").into_bytes()
    };
    let files = [
        lines(200, &|i| {
            format!(
                r#"{{"customerName":"Warm Up","email":"warm{i}@example.com","phone":"8015551212","birthDay":"1900-01-01","serialNumber":"s{i}","registrationDate":1655564009665,"lastUpdateDate":1655564009665,"shareWithResearchAsOfDate":1655564009665}}"#
            )
        }),
        lines(3000, &|i| {
            format!(
                r#"{{"user":"warm{}@example.com","timestamp":{},"x":-0.{},"y":1.0,"z":0.25}}"#,
                i % 200,
                1_655_564_047_609 + i as u64,
                i % 10
            )
        }),
        lines(3000, &|i| {
            format!(
                r#"{{"sensorReadingTime":{},"serialNumber":"s{}","distanceFromObject":{}}}"#,
                1_655_564_047_609 + i as u64,
                i % 200,
                i % 300
            )
        }),
    ];
    files
        .into_iter()
        .filter_map(|bytes| parse(&Origin::Bytes(bytes), "warm-up.json", None, |_| {}).ok())
        .collect()
}

fn post(scope: &DedicatedWorkerGlobalScope, msg: &FromWorker) {
    if let Err(e) = scope.post_message(&encode(msg, None)) {
        web_sys::console::error_2(&"could not post a message to the worker".into(), &e);
    }
}

/// A file's batch, read from its bytes or its `File`.
pub(crate) fn parse(
    origin: &Origin,
    name: &str,
    source: Option<Source>,
    progress: impl Fn(u64),
) -> Result<FileBatch, String> {
    let mut reader = FileReader::new(name.to_string(), source);
    match origin {
        Origin::Bytes(bytes) => {
            for chunk in bytes.chunks(CHUNK as usize) {
                reader.feed(chunk);
            }
            progress(bytes.len() as u64);
        }
        Origin::File(file) => read_file(file, &mut reader, progress)?,
    }
    Ok(reader.finish())
}

/// Parses a file and sends its batch, as bytes moved, not copied.
async fn parse_for_worker(scope: &DedicatedWorkerGlobalScope, job: Job) {
    let Job {
        id,
        generation,
        name,
        source,
        file,
        ahead,
    } = job;
    let progress = |done: u64| post(scope, &FromWorker::Progress { id, done });
    let parsed = match file {
        Some(file) => parse_file(&file, ahead, &name, source, progress).await,
        None => Err("the browser sent no file to read; add it again".into()),
    };
    let (read, bytes) = match parsed {
        Ok(batch) => (
            Ok((batch.summary.clone(), reason_counts(&batch))),
            Some(js_sys::Uint8Array::from(batch.encode().as_slice())),
        ),
        Err(message) => (Err(message), None),
    };
    let msg = FromWorker::Parsed {
        id,
        generation,
        read,
        wasm_bytes: wasm_bytes(),
    };
    let data = encode(&msg, bytes.as_ref().map(|b| b.as_ref()));
    let sent = match &bytes {
        Some(b) => scope.post_message_with_transfer(&data, &js_sys::Array::of1(&b.buffer())),
        None => scope.post_message(&data),
    };
    if let Err(e) = sent {
        web_sys::console::error_2(&"could not send a batch".into(), &e);
    }
}

/// Files up to this size are read in one piece, for the browser's own SHA-256 (which
/// takes a whole buffer); larger ones are read a chunk at a time and hashed here.
const WHOLE: f64 = 64.0 * 1024.0 * 1024.0;

/// A file's batch. Up to [`WHOLE`] bytes, the browser hashes the file (in native code,
/// several times faster than SHA-256 in WebAssembly) and its records are read here.
async fn parse_file(
    file: &web_sys::File,
    ahead: Option<(web_sys::SubtleCrypto, wasm_bindgen_futures::JsFuture)>,
    name: &str,
    source: Option<Source>,
    progress: impl Fn(u64),
) -> Result<FileBatch, String> {
    let Some((subtle, bytes)) = ahead else {
        return parse(&Origin::File(file.clone()), name, source, progress);
    };
    let buffer: js_sys::ArrayBuffer = bytes
        .await
        .ok()
        .and_then(|b| b.dyn_into().ok())
        .ok_or_else(|| cannot_read(file))?;
    let digest = subtle.digest_with_str_and_buffer_source("SHA-256", &buffer);
    let mut reader = HashedElsewhere::new(name, source);
    feed_chunks(
        f64::from(buffer.byte_length()),
        |at, end| {
            Ok(js_sys::Uint8Array::new_with_byte_offset_and_length(
                &buffer,
                at as u32,
                (end - at) as u32,
            ))
        },
        |chunk| reader.feed(chunk),
        progress,
    )?;
    let sha256 = match digest {
        Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .ok()
            .and_then(|hash| <[u8; 32]>::try_from(js_sys::Uint8Array::new(&hash).to_vec()).ok()),
        Err(_) => None,
    };
    match sha256 {
        Some(sha256) => Ok(reader.finish(sha256)),
        // The browser could not hash it after all: read it again, hashing here.
        None => parse(&Origin::File(file.clone()), name, source, |_| {}),
    }
}

/// The browser's SHA-256, for a file read in one piece, where the page may use it (a
/// secure context: https or localhost).
fn browser_hash(file: &web_sys::File) -> Option<web_sys::SubtleCrypto> {
    if file.size() > WHOLE {
        return None;
    }
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let crypto = scope.crypto().ok()?;
    let subtle = js_sys::Reflect::get(&crypto, &"subtle".into()).ok()?;
    subtle.dyn_into().ok()
}

fn cannot_read(file: &web_sys::File) -> String {
    format!(
        "the browser could not read {} (was it moved, changed or deleted?); add it again",
        file.name()
    )
}

fn read_file(
    file: &web_sys::File,
    reader: &mut FileReader,
    progress: impl Fn(u64),
) -> Result<(), String> {
    let sync = FileReaderSync::new()
        .map_err(|_| "this browser cannot read files in a worker".to_string())?;
    let cannot = |_| cannot_read(file);
    feed_chunks(
        file.size(),
        |at, end| {
            let blob = file.slice_with_f64_and_f64(at, end).map_err(cannot)?;
            let buffer = sync.read_as_array_buffer(&blob).map_err(cannot)?;
            Ok(js_sys::Uint8Array::new(&buffer))
        },
        |chunk| reader.feed(chunk),
        progress,
    )
}

/// Feeds `size` bytes, [`CHUNK`] at a time, each copied into WebAssembly memory from the
/// view `chunk_at(start, end)` gives, telling the progress after each chunk but the last
/// (the end of a file is told by its batch arriving).
fn feed_chunks(
    size: f64,
    mut chunk_at: impl FnMut(f64, f64) -> Result<js_sys::Uint8Array, String>,
    mut feed: impl FnMut(&[u8]),
    progress: impl Fn(u64),
) -> Result<(), String> {
    let (mut at, mut chunk) = (0.0, Vec::new());
    while at < size {
        let end = (at + CHUNK).min(size);
        let view = chunk_at(at, end)?;
        chunk.resize(view.length() as usize, 0);
        view.copy_to(&mut chunk);
        feed(&chunk);
        at = end;
        if at < size {
            progress(at as u64);
        }
    }
    Ok(())
}

/// How many of a batch's records were quarantined for each reason, most first.
pub(crate) fn reason_counts(batch: &FileBatch) -> Vec<ReasonCount> {
    let mut by_reason: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for q in batch.quarantine() {
        let slot = by_reason.entry(&q.reason).or_insert((0, q.line));
        slot.0 += 1;
    }
    let mut reasons: Vec<_> = by_reason
        .into_iter()
        .map(|(reason, (count, first_line))| ReasonCount {
            reason: reason.to_string(),
            count,
            first_line,
        })
        .collect();
    reasons.sort_by(|a, b| b.count.cmp(&a.count).then(a.first_line.cmp(&b.first_line)));
    reasons
}

/// The size of this worker's WebAssembly memory.
pub(crate) fn wasm_bytes() -> u64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map_or(0, |m| {
            m.buffer()
                .dyn_into::<js_sys::ArrayBuffer>()
                .map_or(0, |b| u64::from(b.byte_length()))
        })
}

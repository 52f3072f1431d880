//! The worker side: reads files in chunks into stedi-core, builds zones, writes downloads.
//! Runs in a dedicated web worker, never on the page's thread.

use crate::parts::{mime_of, Parts};
use crate::protocol::{decode, encode, Download, FromWorker, Made, RunCharts, ToWorker};
use crate::reader::{parse, wasm_bytes, Origin};
use std::cell::RefCell;
use std::rc::Rc;
use stedi_core::audit::{write_run_each, Audit, EachFile, WriteFile};
use stedi_core::export::{write_quarantine, Format, ZoneWriter};
use stedi_core::ingest::{FileBatch, InputSummary, Landing, Rows, Source};
use stedi_core::pii::Salt;
use stedi_core::preview::{Selection, ZoneTable};
use stedi_core::{Policy, Zone, Zones};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, FileReaderSync, MessageEvent};

/// Bins of the distanceFromObject histogram.
const HISTOGRAM_BINS: u32 = 40;

struct Entry {
    id: u32,
    name: String,
    origin: Origin,
    /// The summary of the file's batch, once read.
    read: Option<InputSummary>,
    /// A batch from a reader, as the bytes it came in, until the files before it in name
    /// order are read: kept outside WebAssembly memory (which never shrinks), then
    /// decoded straight into the landing (see [`State::admit_read`]).
    waiting: Option<js_sys::Uint8Array>,
    /// The source the user chose for the file, if any.
    chosen: Option<Source>,
    /// Bumped at each reading, so a late answer from a reader about an older one is
    /// dropped.
    generation: u32,
}

/// Readers at most: each holds its own copy of the largest file's batch while parsing.
const MAX_READERS: usize = 4;

/// Files a reader is sent at most at once: the one it parses and the one it starts on
/// next. The others wait here and go to whichever reader is done first, so that no
/// reader is left with several files when the others have finished.
const READER_AHEAD: usize = 2;

/// A worker of this worker's that parses files, so several files are parsed at once.
struct Reader {
    worker: web_sys::Worker,
    /// Messages wait here until the reader's WebAssembly has loaded.
    queue: Option<Vec<JsValue>>,
    /// Files sent and not yet answered: (id, generation).
    reading: Vec<(u32, u32)>,
    /// Whether it stopped (its code failed): it is then sent nothing more.
    stopped: bool,
    wasm_bytes: u64,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

impl Reader {
    fn live(&self) -> bool {
        !self.stopped
    }
}

struct Run {
    policy: Policy,
    salt: Salt,
    salt_given: bool,
    zones: Zones,
    /// The last preview's rows and notes, so paging does not sort or search again.
    selected: Option<(Selection, Vec<u32>, Vec<String>)>,
    /// The featured download, made as soon as the zones are built (see [`FEATURED`]),
    /// with its name and its (parts, workers).
    ready: Option<(String, web_sys::Blob, (u32, u32))>,
}

impl Run {
    /// The writer of this run's zones out of `landing`.
    fn writer<'a>(&'a self, landing: &'a Landing) -> ZoneWriter<'a> {
        ZoneWriter {
            landing,
            zones: &self.zones,
            pii: self.policy.pii,
            salt: &self.salt,
        }
    }
}

/// The download most asked for, machine_learning_curated as CSV, is made right after a run
/// (while the page draws the results), so that the click finds it ready or on its way: by
/// the readers, when there are readers and rows enough to share, and otherwise here when
/// it has at most [`READY_ROWS`] rows.
const FEATURED: Download = Download::Zone(Zone::MachineLearningCurated, Format::Csv);

/// About 50 MB of CSV: larger, a file this worker would have to write alone (keeping the
/// page's requests waiting meanwhile) is made when asked for.
const READY_ROWS: usize = 500_000;

#[derive(Default)]
struct State {
    entries: Vec<Entry>,
    /// Reader workers; none when the browser has one core (files are parsed here).
    readers: Vec<Reader>,
    /// The landing zones of the files read: each file's batch goes in once the files
    /// before it in name order are read (see [`State::admit_read`]), and is kept nowhere
    /// else (a gigabyte of files is held once, not twice).
    landing: Landing,
    /// The zones built; `None` when the files changed since.
    run: Option<Run>,
    /// Files to parse not yet sent to a reader: (id, generation, source, the message).
    pending: std::collections::VecDeque<(u32, u32, Option<Source>, JsValue)>,
    /// Downloads shared with the readers so far: each piece's answer names its own.
    jobs: u32,
    /// The download being written with the readers, if any.
    making: Option<Making>,
    /// Runs made so far: a download written with the readers belongs to one.
    runs: u32,
    /// Downloads asked for while one is being written with the readers: made after it,
    /// in the order asked (the page expects them in that order).
    later: std::collections::VecDeque<Download>,
    /// The most bytes of batches that waited outside WebAssembly memory at once since the
    /// last run.
    most_waiting: u64,
}

/// A download written a piece at a time by the readers at once.
struct Making {
    job: u32,
    what: Download,
    /// The run whose zones it writes (see [`State::runs`]): once they change, no piece
    /// more is sent.
    run: u32,
    /// When the worker took it up (`now()`).
    started: f64,
    /// Whether the page asked for it (not yet, while it is made ahead of a click).
    asked: bool,
    /// The readers it was shared with.
    workers: u32,
    /// Rows in each piece (the last may have fewer): see [`piece_rows`].
    piece_rows: usize,
    /// Each piece once written, in the file's order.
    pieces: Vec<Option<web_sys::Blob>>,
    /// The first piece not yet sent to a reader.
    next: usize,
    /// Pieces the readers have not answered yet: (reader, piece).
    owed: Vec<(usize, u32)>,
    /// Why a piece could not be written, if one could not.
    failed: Option<String>,
}

/// Pieces a reader is sent at first, and has at hand from then on: enough to go on
/// writing while this worker answers the page (its first requests after a run take it
/// a few tenths of a second), few enough that the readers finish close together.
const PIECES_AHEAD: usize = 3;

impl Making {
    /// The run it writes, while its zones are the ones built.
    fn run_in<'a>(&self, run: &'a Option<Run>, runs: u32) -> Option<&'a Run> {
        run.as_ref().filter(|_| self.run == runs)
    }
}

/// Rows of machine_learning_curated in a piece written by one worker, at most: about 5 MB
/// of CSV, so that no worker's WebAssembly memory holds much more than that of it at once.
const PIECE_ROWS: usize = 64 * 1024;

/// Rows in each piece of a download of `rows` rows shared by `readers`: at most
/// [`PIECE_ROWS`], and as many pieces as a multiple of the readers, of nearly equal size,
/// so that no reader is left writing alone at the end (with 5 pieces of 64Ki rows for two
/// readers, one of them wrote three while the other waited).
fn piece_rows(rows: usize, readers: usize) -> usize {
    let pieces = rows
        .div_ceil(PIECE_ROWS)
        .next_multiple_of(readers.max(1))
        .max(1);
    rows.div_ceil(pieces).max(1)
}

impl State {
    /// The landing, when zones were built from it and the files have not changed since.
    fn built(&self) -> Option<&Landing> {
        self.run.as_ref().map(|_| &self.landing)
    }

    /// Takes a file's rows out of the landing, if it was read.
    fn take_out(&mut self, id: u32) {
        self.run = None;
        let Some(entry) = self.entries.iter_mut().find(|e| e.id == id) else {
            return;
        };
        let waiting = entry.waiting.take();
        if let (Some(summary), None) = (entry.read.take(), waiting) {
            if let Some(at) = self.landing.inputs.iter().position(|s| *s == summary) {
                self.landing.remove(at);
            }
        }
    }

    /// Puts all the batches waiting as bytes into the landing, in file-name order, after
    /// making room for all of them (the run does, once every file is read).
    fn admit(&mut self, scope: &DedicatedWorkerGlobalScope) {
        let mut waiting = waiting(&mut self.entries);
        self.landing
            .reserve(waiting.iter().filter_map(|e| e.read.as_ref()));
        for entry in &mut waiting {
            admit_one(&mut self.landing, entry, scope);
        }
    }

    /// Puts the batches waiting as bytes into the landing while the other files are read,
    /// in file-name order: each as soon as no file before it in that order is still being
    /// read, so that the landing is built while the readers work, in the order that
    /// needs no renumbering of its strings (unless a file that goes before them is added
    /// later). The columns are sized for the rows the files read so far promise (see
    /// [`State::expected`]).
    fn admit_read(&mut self, scope: &DedicatedWorkerGlobalScope) {
        let unread = self.unread();
        let expected = self.expected(&unread);
        let first_unread = unread.iter().map(|(e, _)| e.name.clone()).min();
        let mut waiting = waiting(&mut self.entries);
        for entry in &mut waiting {
            let Some(summary) = &entry.read else {
                continue;
            };
            if first_unread.as_ref().is_some_and(|n| *n <= summary.name) {
                break;
            }
            self.landing.room_for(summary, expected);
            admit_one(&mut self.landing, entry, scope);
        }
    }

    /// The files being read (waiting for a reader or with one), with their sizes.
    fn unread(&self) -> Vec<(&Entry, f64)> {
        let sent = self.readers.iter().flat_map(|r| r.reading.iter().copied());
        let waiting = self
            .pending
            .iter()
            .map(|&(id, generation, ..)| (id, generation));
        let unread: std::collections::HashSet<(u32, u32)> = sent.chain(waiting).collect();
        self.entries
            .iter()
            .filter(|e| unread.contains(&(e.id, e.generation)))
            .map(|e| {
                let bytes = match &e.origin {
                    Origin::File(file) => file.size(),
                    Origin::Bytes(bytes) => bytes.len() as f64,
                };
                (e, bytes)
            })
            .collect()
    }

    /// The landing's rows once every file is read, as far as the files read so far tell
    /// (see [`Rows::expected`]); a file still being read is taken to be of the source the
    /// user chose for it, or else the one its name says.
    fn expected(&self, unread: &[(&Entry, f64)]) -> Rows {
        let read = self.entries.iter().filter_map(|e| e.read.as_ref());
        let unread = unread.iter().map(|(e, bytes)| {
            let source = e.chosen.or_else(|| Source::named(&e.name));
            (source, e.name.as_str(), *bytes as u64)
        });
        Rows::expected(read, unread)
    }
}

/// The entries whose batch waits as bytes, in file-name order (ties: by content hash).
fn waiting(entries: &mut [Entry]) -> Vec<&mut Entry> {
    let mut waiting: Vec<&mut Entry> = entries.iter_mut().filter(|e| e.waiting.is_some()).collect();
    fn key(e: &Entry) -> Option<(&str, &str)> {
        e.read
            .as_ref()
            .map(|s| (s.name.as_str(), s.sha256.as_str()))
    }
    waiting.sort_by(|a, b| key(a).cmp(&key(b)));
    waiting
}

/// Decodes an entry's waiting batch into the landing; a batch that cannot be decoded
/// fails its file.
fn admit_one(landing: &mut Landing, entry: &mut Entry, scope: &DedicatedWorkerGlobalScope) {
    let Some(bytes) = entry.waiting.take() else {
        return;
    };
    // A copy per batch, freed as soon as it is decoded: one buffer kept for all of them
    // raised the W100 page's peak WebAssembly memory from 562 to 570 MB.
    match FileBatch::decode(&bytes.to_vec()) {
        Ok(batch) => landing.add(batch),
        Err(message) => {
            entry.read = None;
            post(
                scope,
                &FromWorker::FileFailed {
                    id: entry.id,
                    message,
                },
            );
        }
    }
}

/// Starts listening for the page's messages.
pub fn start() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let state = Rc::new(RefCell::new(State::default()));
    spawn_readers(&scope, &state);
    let handler_scope = scope.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let reply = |msg: FromWorker| post(&handler_scope, &msg);
        match decode::<ToWorker>(&ev.data()) {
            Ok(received) => handle(&handler_scope, &mut state.borrow_mut(), received),
            Err(message) => reply(FromWorker::Failed { message }),
        }
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&scope, &FromWorker::Ready);
    warm_up();
}

/// Runs the pipeline on a few thousand made-up records, as the readers warm up: batches
/// decoded into a landing as they are admitted while files are read, the zones built, charted and written. The
/// browser compiles a function when first called and optimises it only once it has run a
/// while: done a few times here, before the user's first run, that run and its download
/// do not wait for it (with one pass, the first run of a hundred files waited about as
/// long as it worked for the browser to optimise its code).
fn warm_up() {
    let encoded: Vec<Vec<u8>> = crate::reader::warm_up_batches()
        .iter()
        .map(FileBatch::encode)
        .collect();
    for _ in 0..WARM_UP_PASSES {
        let batches: Vec<FileBatch> = encoded
            .iter()
            .filter_map(|bytes| FileBatch::decode(bytes).ok())
            .collect();
        let (landing, zones, policy) = made_up_run(batches);
        let _ = Audit::new(&landing, &zones, &policy, true);
        let _ = run_charts(&landing, &zones);
        let salt = Salt::given("warm-up");
        let writer = ZoneWriter {
            landing: &landing,
            zones: &zones,
            pii: policy.pii,
            salt: &salt,
        };
        for zone in stedi_core::zones::Zone::ALL {
            let _ = writer.write(zone, stedi_core::export::Format::Csv, std::io::sink());
        }
        let mut state = State {
            landing,
            run: Some(Run {
                policy,
                salt,
                salt_given: true,
                zones,
                selected: None,
                ready: None,
            }),
            ..State::default()
        };
        first_asks(&mut state);
    }
}

/// What the page asks for as soon as a run is done (the first page of the preview and of
/// each review list, the chart of a customer), asked and answered as text as the page's
/// and this worker's messages are, but answered to no one.
fn first_asks(state: &mut State) {
    let selection = Selection {
        zone: Zone::MachineLearningCurated,
        sort: None,
        query: String::new(),
    };
    let asks = stedi_core::review::ReviewList::ALL
        .into_iter()
        .map(|list| ToWorker::Review {
            list,
            query: String::new(),
            page: 0,
        })
        .chain([
            ToWorker::Preview { selection, page: 0 },
            ToWorker::Customer {
                query: String::new(),
                columns: 600,
            },
        ]);
    for ask in asks {
        let Ok(received) = decode::<ToWorker>(&encode(&ask, None)) else {
            continue;
        };
        if let Some(answer) = look_up(state, received.msg) {
            let _ = encode(&answer, None);
        }
    }
}

/// The answer to the page looking something up in the zones built: a page of a review
/// list or of the preview, or a customer's chart (`None` for any other message).
fn look_up(state: &mut State, ask: ToWorker) -> Option<FromWorker> {
    Some(match ask {
        ToWorker::Review { list, query, page } => match state.built() {
            Some(landing) => {
                let page = stedi_core::review::page(landing, list, &query, page);
                FromWorker::ReviewPage { list, query, page }
            }
            None => FromWorker::Failed {
                message: "the zones are being built again: open the list once they are ready"
                    .into(),
            },
        },
        ToWorker::Preview { selection, page } => match preview(state, selection, page) {
            Ok(p) => FromWorker::PreviewPage(Box::new(p)),
            Err(message) => FromWorker::Failed { message },
        },
        ToWorker::Customer { query, columns } => {
            let (Some(landing), Some(run)) = (state.built(), &state.run) else {
                return Some(FromWorker::Failed {
                    message: OUT_OF_DATE.into(),
                });
            };
            // No query: the first curated customer, so the chart has something to show.
            let first = || {
                let c = run.zones.customer_curated.first()?;
                Some(
                    landing
                        .strings
                        .get(landing.customers[*c as usize].email)
                        .to_string(),
                )
            };
            let wanted = match query.trim() {
                "" => first().unwrap_or_default(),
                q => q.to_string(),
            };
            let series = stedi_core::charts::customer_series(
                landing,
                &run.zones,
                &run.policy,
                &wanted,
                columns.clamp(1, 8192),
            );
            FromWorker::CustomerChart {
                query,
                series: Box::new(series),
            }
        }
        _ => return None,
    })
}

/// The landing of [`crate::reader::warm_up_batches`] admitted as a run admits files, and
/// its zones under the default policy.
pub(crate) fn made_up_run(batches: Vec<FileBatch>) -> (Landing, Zones, Policy) {
    let mut landing = Landing::default();
    let all = Rows::expected(batches.iter().map(|b| &b.summary), []);
    // Not in name order (the batches share a name, so their hashes order them): as files
    // read out of order, some go in before others and the strings are numbered again.
    for batch in batches.into_iter().rev() {
        landing.room_for(&batch.summary, all);
        landing.add(batch);
    }
    landing.settle();
    let policy = Policy::default();
    let zones = Zones::build(&landing, &policy);
    (landing, zones, policy)
}

/// The charts a run sends the page.
pub(crate) fn run_charts(landing: &Landing, zones: &Zones) -> RunCharts {
    RunCharts {
        consent: stedi_core::charts::consent_over_time(landing, zones),
        distance: stedi_core::charts::distance_histogram(landing, zones, HISTOGRAM_BINS),
    }
}

/// How many times [`warm_up`] runs the pipeline.
const WARM_UP_PASSES: usize = 4;

/// Starts reader workers when the browser reports more than one core.
fn spawn_readers(scope: &DedicatedWorkerGlobalScope, state: &Rc<RefCell<State>>) {
    let cores = scope.navigator().hardware_concurrency() as usize;
    if cores < 2 {
        return;
    }
    for _ in 0..cores.min(MAX_READERS) {
        let options = web_sys::WorkerOptions::new();
        options.set_name(READER);
        let Ok(worker) = web_sys::Worker::new_with_options(READER_URL, &options) else {
            // Files are then parsed here, as on one core.
            return;
        };
        let weak = Rc::downgrade(state);
        let page = scope.clone();
        let index = state.borrow().readers.len();
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(state) = weak.upgrade() {
                from_reader(&page, &mut state.borrow_mut(), index, &ev.data());
            }
        });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        let weak = Rc::downgrade(state);
        let page = scope.clone();
        let onerror =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
                // Handled here: the error goes no further up.
                ev.prevent_default();
                if let Some(state) = weak.upgrade() {
                    reader_stopped(&page, &mut state.borrow_mut(), index, ev.message());
                }
            });
        worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        state.borrow_mut().readers.push(Reader {
            worker,
            queue: Some(Vec::new()),
            reading: Vec::new(),
            stopped: false,
            wasm_bytes: 0,
            _onmessage: onmessage,
            _onerror: onerror,
        });
    }
}

/// The name reader workers are started with.
const READER: &str = "stedi-reader";

/// The readers' loader, `web/reader.js`: a small module of its own (the reading code
/// only), which each reader compiles far sooner than this worker's.
const READER_URL: &str = "./reader.js";

/// A message from reader `index`.
fn from_reader(
    scope: &DedicatedWorkerGlobalScope,
    state: &mut State,
    index: usize,
    data: &JsValue,
) {
    let received = match decode::<FromWorker>(data) {
        Ok(r) => r,
        Err(message) => return post(scope, &FromWorker::Failed { message }),
    };
    let reader = &mut state.readers[index];
    match received.msg {
        FromWorker::Ready => {
            for msg in reader.queue.take().unwrap_or_default() {
                send_to(&reader.worker, &msg);
            }
        }
        FromWorker::Parsed {
            id,
            generation,
            read,
            wasm_bytes,
        } => {
            reader.reading.retain(|&(i, g)| (i, g) != (id, generation));
            reader.wasm_bytes = reader.wasm_bytes.max(wasm_bytes);
            send_pending(state);
            let Some(entry) = state
                .entries
                .iter_mut()
                .find(|e| e.id == id && e.generation == generation)
            else {
                // A file before the others in name order may have been read again.
                return state.admit_read(scope);
            };
            match (read, received.bytes) {
                (Ok((summary, reasons)), Some(bytes)) => {
                    post(
                        scope,
                        &FromWorker::FileRead {
                            id,
                            summary: summary.clone(),
                            reasons,
                        },
                    );
                    entry.read = Some(summary);
                    entry.waiting = Some(bytes);
                    state.run = None;
                    let waiting = state.entries.iter().filter_map(|e| e.waiting.as_ref());
                    let bytes = waiting.map(|b| u64::from(b.length())).sum();
                    state.most_waiting = state.most_waiting.max(bytes);
                }
                (Ok(_), None) => {
                    let message = "the reader sent no batch: add the file again".into();
                    post(scope, &FromWorker::FileFailed { id, message });
                }
                (Err(message), _) => post(scope, &FromWorker::FileFailed { id, message }),
            }
            state.admit_read(scope);
        }
        FromWorker::PartWritten {
            job,
            piece,
            written,
            wasm_bytes,
        } => {
            reader.wasm_bytes = reader.wasm_bytes.max(wasm_bytes);
            let blob = received.file;
            piece_written(scope, state, index, (job, piece, written), blob);
        }
        // Progress goes straight to the page.
        msg => post(scope, &msg),
    }
}

fn send_to(worker: &web_sys::Worker, data: &JsValue) {
    if let Err(e) = worker.post_message(data) {
        web_sys::console::error_2(&"could not send a file to a reader".into(), &e);
    }
}

fn post(scope: &DedicatedWorkerGlobalScope, msg: &FromWorker) {
    post_with(scope, msg, None);
}

/// Posts a message with a `Blob` attached (it is shared with the page, not copied).
fn post_with(scope: &DedicatedWorkerGlobalScope, msg: &FromWorker, blob: Option<&JsValue>) {
    if let Err(e) = scope.post_message(&encode(msg, blob)) {
        web_sys::console::error_2(&"could not post a message to the page".into(), &e);
    }
}

fn handle(
    scope: &DedicatedWorkerGlobalScope,
    state: &mut State,
    received: crate::protocol::Received<ToWorker>,
) {
    let reply = |msg: FromWorker| post(scope, &msg);
    match received.msg {
        ToWorker::AddFile { id, name, source } => {
            let Some(file) = received
                .file
                .and_then(|b| b.dyn_into::<web_sys::File>().ok())
            else {
                return reply(FromWorker::FileFailed {
                    id,
                    message: "the browser sent no file to read; add it again".into(),
                });
            };
            state.entries.push(Entry {
                id,
                name,
                origin: Origin::File(file),
                read: None,
                waiting: None,
                chosen: None,
                generation: 0,
            });
            read_entry(scope, state, id, source);
        }
        ToWorker::Demo { first_id, scale } => {
            let mut files = Vec::new();
            let _ = stedi_core::gen::generate(scale, 1, |f| {
                files.push(f);
                Ok::<_, ()>(())
            });
            for (i, f) in files.into_iter().enumerate() {
                let id = first_id + i as u32;
                let name = f.path.rsplit('/').next().unwrap_or(&f.path).to_string();
                reply(FromWorker::FileAdded {
                    id,
                    name: name.clone(),
                    bytes: f.bytes.len() as u64,
                });
                state.entries.push(Entry {
                    id,
                    name,
                    origin: Origin::Bytes(f.bytes),
                    read: None,
                    waiting: None,
                    chosen: None,
                    generation: 0,
                });
                read_entry(scope, state, id, None);
            }
        }
        ToWorker::Remove { id } => {
            state.take_out(id);
            state.entries.retain(|e| e.id != id);
            // The files after it in name order may have waited for it.
            state.admit_read(scope);
        }
        ToWorker::SetSource { id, source } => read_entry(scope, state, id, source),
        ToWorker::Run { policy, salt } => run(scope, state, policy, salt),
        ask @ (ToWorker::Review { .. } | ToWorker::Preview { .. } | ToWorker::Customer { .. }) => {
            if let Some(answer) = look_up(state, ask) {
                reply(answer);
            }
        }
        ToWorker::Parse { .. } => reply(FromWorker::Failed {
            message: "files are parsed by the reader workers, not here".into(),
        }),
        ToWorker::Verify { salt } => {
            let file = received
                .file
                .and_then(|b| b.dyn_into::<web_sys::File>().ok());
            reply(match verify(state, file, salt) {
                Ok(checks) => FromWorker::Verified { checks },
                Err(message) => FromWorker::Failed { message },
            })
        }
        ToWorker::Download(what) => ask(scope, state, what),
        ToWorker::WritePart { .. } => reply(FromWorker::Failed {
            message: "parts of downloads are written by the reader workers, not here".into(),
        }),
    }
}

/// A download the page asked for: made now, or after the one being written with the
/// readers (or, if that is the one asked for, made ahead, sent as soon as it is written).
fn ask(scope: &DedicatedWorkerGlobalScope, state: &mut State, what: Download) {
    if let Some(making) = &mut state.making {
        let current = making.run_in(&state.run, state.runs).is_some();
        let ahead = !making.asked && making.failed.is_none();
        if making.what == what && ahead && current && state.later.is_empty() {
            making.asked = true;
            return tell_parts(scope, state);
        }
        return state.later.push_back(what);
    }
    if let Some((name, blob, shape)) = ready(state, what) {
        return send_file(scope, name, &blob, None, shape);
    }
    let started = now();
    if share(state, what, true) {
        tell_parts(scope, state);
        // Done already if no piece could be sent.
        return made_if_done(scope, state);
    }
    let writing = |name: &str, done: usize| {
        let (done, total) = (done as u32, stedi_core::audit::RUN_FILES as u32);
        let name = name.to_string();
        post(scope, &FromWorker::Writing { name, done, total });
    };
    match download(state, what, &writing) {
        Ok((name, blob)) => send_file(scope, name, &blob, Some(now() - started), (1, 1)),
        Err(message) => post(scope, &FromWorker::Failed { message }),
    }
}

/// Sends the page a download made in `millis` (`None`: made ahead) as `parts` written by
/// `workers` at once.
fn send_file(
    scope: &DedicatedWorkerGlobalScope,
    name: String,
    blob: &web_sys::Blob,
    millis: Option<f64>,
    (parts, workers): (u32, u32),
) {
    let made = Made {
        bytes: blob.size() as u64,
        millis,
        parts,
        workers,
    };
    post_with(scope, &FromWorker::File { name, made }, Some(blob));
}

/// Starts writing machine_learning_curated as CSV or JSON Lines with the readers, when
/// they are all idle and it has rows enough for them, `asked` by the page or ahead of a
/// click. It is cut into pieces of [`piece_rows`] rows, sent to the readers (as
/// [`stedi_core::export::CuratedPart`]s) [`PIECES_AHEAD`] at first and then one more as
/// each is written, so that each reader has the next at hand and a faster one writes
/// more; this worker only cuts them, and stays free for the page meanwhile. The pieces,
/// put together in order, are the bytes [`download`] writes alone. Returns whether it
/// started.
fn share(state: &mut State, what: Download, asked: bool) -> bool {
    let Download::Zone(zone @ Zone::MachineLearningCurated, Format::Csv | Format::Jsonl) = what
    else {
        return false;
    };
    let live: Vec<usize> = (0..state.readers.len())
        .filter(|&i| state.readers[i].live())
        .collect();
    let idle = state.making.is_none()
        && state.pending.is_empty()
        && live.iter().all(|&i| {
            let r = &state.readers[i];
            r.reading.is_empty() && r.queue.is_none()
        });
    let rows = state
        .run
        .as_ref()
        .map_or(0, |r| r.zones.rows(&state.landing, zone));
    if !idle || live.is_empty() || rows < 2 * PIECE_ROWS {
        return false;
    }
    let piece_rows = piece_rows(rows, live.len());
    state.jobs += 1;
    state.making = Some(Making {
        job: state.jobs,
        what,
        run: state.runs,
        started: now(),
        asked,
        workers: live.len() as u32,
        piece_rows,
        pieces: vec![None; rows.div_ceil(piece_rows)],
        next: 0,
        owed: Vec::new(),
        failed: None,
    });
    for _ in 0..PIECES_AHEAD {
        for &index in &live {
            send_piece(state, index);
        }
    }
    true
}

/// Sends reader `index` the next piece of the download being written, if one is left and
/// the zones it writes are still those built (otherwise no more are sent, and the
/// download fails once the pieces sent are answered).
fn send_piece(state: &mut State, index: usize) {
    let State {
        making: Some(making),
        run,
        landing,
        readers,
        runs,
        ..
    } = state
    else {
        return;
    };
    if making.failed.is_some() || making.next == making.pieces.len() {
        return;
    }
    let Some(run) = making.run_in(run, *runs) else {
        making.failed = Some(format!(
            "the files or the policy changed while {} was written: ask for it again",
            making.what.file_name()
        ));
        return;
    };
    let (Download::Zone(zone, format), Some(reader)) = (making.what, readers.get(index)) else {
        return;
    };
    let (piece, size) = (making.next, making.piece_rows);
    let rows = run.zones.rows(landing, zone);
    let part = run
        .writer(landing)
        .curated_part(piece * size..((piece + 1) * size).min(rows));
    let bytes = js_sys::Uint8Array::from(part.encode().as_slice());
    let msg = ToWorker::WritePart {
        job: making.job,
        piece: piece as u32,
        format,
    };
    let data = encode(&msg, Some(bytes.as_ref()));
    match reader
        .worker
        .post_message_with_transfer(&data, &js_sys::Array::of1(&bytes.buffer()))
    {
        Ok(()) => {
            making.owed.push((index, piece as u32));
            making.next += 1;
        }
        Err(e) => making.failed = Some(format!("a reader could not be sent its part: {e:?}")),
    }
}

/// A reader's piece of the download being written: the reader is sent the next one.
fn piece_written(
    scope: &DedicatedWorkerGlobalScope,
    state: &mut State,
    reader: usize,
    (job, piece, written): (u32, u32, Result<(), String>),
    blob: Option<web_sys::Blob>,
) {
    let Some(making) = state.making.as_mut().filter(|m| m.job == job) else {
        return;
    };
    making.owed.retain(|&owed| owed != (reader, piece));
    match (written, blob, making.pieces.get_mut(piece as usize)) {
        (Ok(()), Some(blob), Some(slot)) => *slot = Some(blob),
        (Err(message), _, _) => {
            making.failed.get_or_insert(message);
        }
        _ => {
            making
                .failed
                .get_or_insert("a reader answered without its piece".into());
        }
    }
    send_piece(state, reader);
    tell_parts(scope, state);
    made_if_done(scope, state);
}

/// Tells the page how many pieces of the download it asked for are written.
fn tell_parts(scope: &DedicatedWorkerGlobalScope, state: &State) {
    if let Some(making) = state.making.as_ref().filter(|m| m.asked) {
        let done = making.pieces.iter().filter(|p| p.is_some()).count() as u32;
        let total = making.pieces.len() as u32;
        post(scope, &FromWorker::Parts { done, total });
    }
}

/// When every piece sent is answered and none is left to send (or one failed): the
/// download, one `Blob` of the pieces, is sent to the page if it asked for it, or kept
/// as the run's download made ahead; then the downloads asked for meanwhile are made.
fn made_if_done(scope: &DedicatedWorkerGlobalScope, state: &mut State) {
    let done = |m: &Making| m.owed.is_empty() && (m.failed.is_some() || m.next == m.pieces.len());
    let Some(making) = state.making.take_if(|m| done(m)) else {
        return;
    };
    let name = making.what.file_name();
    let shape = (making.pieces.len() as u32, making.workers);
    let current = making.run_in(&state.run, state.runs).is_some();
    let pieces: Option<js_sys::Array> = making.pieces.into_iter().collect::<Option<_>>();
    let made = match (making.failed, pieces) {
        (Some(message), _) => Err(message),
        (None, None) => Err("a piece of the download is missing".into()),
        (None, Some(pieces)) => {
            let options = web_sys::BlobPropertyBag::new();
            options.set_type(mime_of(&name));
            web_sys::Blob::new_with_blob_sequence_and_options(&pieces, &options)
                .map_err(|e| format!("the browser could not hold the download: {e:?}"))
        }
    };
    // The featured download is kept for the next click while the zones it was written
    // from are current. One made ahead that could not be made was not asked for: it is
    // made when asked.
    if let (Ok(blob), Some(run)) = (&made, state.run.as_mut().filter(|_| current)) {
        if making.what == FEATURED {
            run.ready = Some((name.clone(), blob.clone(), shape));
        }
    }
    match (making.asked, made) {
        (true, Ok(blob)) => send_file(scope, name, &blob, Some(now() - making.started), shape),
        (true, Err(message)) => post(scope, &FromWorker::Failed { message }),
        (false, _) => {}
    }
    while state.making.is_none() {
        let Some(what) = state.later.pop_front() else {
            break;
        };
        ask(scope, state, what);
    }
}

/// Reads (or re-reads) one file into a batch: on the least busy reader when there are
/// readers, here otherwise, posting progress as it goes.
fn read_entry(
    scope: &DedicatedWorkerGlobalScope,
    state: &mut State,
    id: u32,
    source: Option<Source>,
) {
    state.take_out(id);
    let Some(entry) = state.entries.iter_mut().find(|e| e.id == id) else {
        return;
    };
    entry.generation += 1;
    entry.chosen = source;
    let readers = state.readers.iter().any(Reader::live);
    if let (Origin::File(file), true) = (&entry.origin, readers) {
        let msg = ToWorker::Parse {
            id,
            generation: entry.generation,
            name: entry.name.clone(),
            source,
        };
        let data = encode(&msg, Some(file.as_ref()));
        state
            .pending
            .push_back((id, entry.generation, source, data));
        send_pending(state);
        return;
    }
    let progress = |done: u64| post(scope, &FromWorker::Progress { id, done });
    match parse(&entry.origin, &entry.name, source, progress) {
        Ok(batch) => file_read(scope, state, id, batch),
        Err(message) => post(scope, &FromWorker::FileFailed { id, message }),
    }
}

/// Sends files waiting to be parsed to the readers with room for them, least busy first;
/// a file removed or read again since it was put here is left out.
fn send_pending(state: &mut State) {
    let State {
        readers,
        pending,
        entries,
        ..
    } = state;
    while let Some(reader) = readers
        .iter_mut()
        .filter(|r| r.live() && r.reading.len() < READER_AHEAD)
        .min_by_key(|r| r.reading.len())
    {
        let Some((id, generation, _, data)) = pending.pop_front() else {
            return;
        };
        if !is_current(entries, id, generation) {
            continue;
        }
        reader.reading.push((id, generation));
        match &mut reader.queue {
            Some(queue) => queue.push(data),
            None => send_to(&reader.worker, &data),
        }
    }
}

/// Whether file `id` is still loaded and was not read again since reading `generation`.
fn is_current(entries: &[Entry], id: u32, generation: u32) -> bool {
    entries
        .iter()
        .any(|e| e.id == id && e.generation == generation)
}

/// Reader `index` stopped (its code failed, or it could not start): it is sent nothing
/// more. The files it was reading fail with the reason, to be added again; a download it
/// owed a part of fails, to be asked again (the next is written without it); files
/// waiting for a reader are read here once no reader is left.
fn reader_stopped(
    scope: &DedicatedWorkerGlobalScope,
    state: &mut State,
    index: usize,
    message: String,
) {
    let reader = &mut state.readers[index];
    if !reader.live() {
        return;
    }
    reader.worker.terminate();
    reader.stopped = true;
    let why = format!("a worker reading files stopped ({message})");
    for (id, generation) in std::mem::take(&mut reader.reading) {
        if is_current(&state.entries, id, generation) {
            let message = format!("{why}: remove the file and add it again");
            post(scope, &FromWorker::FileFailed { id, message });
        }
    }
    if let Some(making) = &mut state.making {
        if making.owed.iter().any(|&(r, _)| r == index) {
            making.owed.retain(|&(r, _)| r != index);
            making.failed.get_or_insert(format!(
                "{why} while writing part of the download: ask for it again"
            ));
            made_if_done(scope, state);
        }
    }
    if state.readers.iter().any(Reader::live) {
        send_pending(state);
    } else {
        for (id, generation, source, _) in std::mem::take(&mut state.pending) {
            if is_current(&state.entries, id, generation) {
                read_entry(scope, state, id, source);
            }
        }
    }
    // The files after those that failed in name order may have waited for them.
    state.admit_read(scope);
}

/// Puts a file's batch into the landing and tells the page.
fn file_read(scope: &DedicatedWorkerGlobalScope, state: &mut State, id: u32, batch: FileBatch) {
    let Some(entry) = state.entries.iter_mut().find(|e| e.id == id) else {
        return;
    };
    post(
        scope,
        &FromWorker::FileRead {
            id,
            summary: batch.summary.clone(),
            reasons: crate::reader::reason_counts(&batch),
        },
    );
    state.run = None;
    entry.read = Some(batch.summary.clone());
    state.landing.add(batch);
}

/// Checks an audit.json against the files loaded, as `stedi verify` does.
fn verify(
    state: &State,
    file: Option<web_sys::File>,
    salt: Option<String>,
) -> Result<Vec<stedi_core::verify::Check>, String> {
    let file = file.ok_or("the browser sent no audit.json; add it again")?;
    let landing = state
        .built()
        .ok_or("load the input files the audit names, then the audit is checked")?;
    let sync = FileReaderSync::new()
        .map_err(|_| "this browser cannot read files in a worker".to_string())?;
    let text = sync
        .read_as_text(&file)
        .map_err(|_| format!("the browser could not read {}; add it again", file.name()))?;
    let audit: Audit = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not an audit.json written by stedi run or this page ({e})",
            file.name()
        )
    })?;
    let salt = salt.as_deref().map(Salt::given);
    stedi_core::verify::verify(&audit, landing, salt.as_ref())
        .map(|v| v.checks)
        .map_err(|e| e.to_string())
}

fn random_salt() -> Result<Salt, String> {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let crypto = scope
        .crypto()
        .map_err(|_| "no random numbers in this browser: type a salt".to_string())?;
    let mut bytes = [0u8; 32];
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|_| "no random numbers in this browser: type a salt".to_string())?;
    Ok(Salt::random(bytes))
}

fn now() -> f64 {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    scope.performance().map_or(0.0, |p| p.now())
}

fn run(
    scope: &DedicatedWorkerGlobalScope,
    state: &mut State,
    policy: Policy,
    salt: Option<String>,
) {
    let started = now();
    let salt_given = salt.is_some();
    let salt = match salt {
        Some(text) => Salt::given(&text),
        None => match random_salt() {
            Ok(s) => s,
            Err(message) => return post(scope, &FromWorker::Failed { message }),
        },
    };
    let batch_bytes = std::mem::take(&mut state.most_waiting);
    state.admit(scope);
    state.landing.settle();
    let landing = &state.landing;
    let zones = Zones::build(landing, &policy);
    let audit = Audit::new(landing, &zones, &policy, salt_given);
    let millis = now() - started;
    let charts = run_charts(landing, &zones);
    state.runs += 1;
    state.run = Some(Run {
        policy,
        salt,
        salt_given,
        zones,
        selected: None,
        ready: None,
    });
    // Readers stopped are gone, with their memory.
    let live = || state.readers.iter().filter(|r| r.live());
    post(
        scope,
        &FromWorker::RunDone {
            audit: Box::new(audit),
            millis,
            charts: Box::new(charts),
            wasm_bytes: wasm_bytes() + live().map(|r| r.wasm_bytes).sum::<u64>(),
            batch_bytes,
            readers: live().count() as u32,
        },
    );
    let small = state
        .run
        .as_ref()
        .is_some_and(|r| r.zones.rows(&state.landing, Zone::MachineLearningCurated) <= READY_ROWS);
    if share(state, FEATURED, false) {
        made_if_done(scope, state);
    } else if small {
        let ready = download(state, FEATURED, &|_, _| {}).ok();
        if let Some(run) = &mut state.run {
            run.ready = ready.map(|(name, blob)| (name, blob, (1, 1)));
        }
    }
}

const OUT_OF_DATE: &str = "the zones are being built again: try once they are ready";

fn preview(
    state: &mut State,
    selection: Selection,
    page: usize,
) -> Result<stedi_core::preview::Preview, String> {
    let (landing, Some(run)) = (&state.landing, &mut state.run) else {
        return Err(OUT_OF_DATE.into());
    };
    let cached = run.selected.take();
    let mut table = ZoneTable::new(run.writer(landing), &run.policy);
    let (positions, notes) = match cached {
        Some((s, positions, notes)) if s == selection => (positions, notes),
        _ => (table.select(&selection), table.notes(&selection)),
    };
    let preview = table.page(&selection, &positions, &notes, page);
    run.selected = Some((selection, positions, notes));
    Ok(preview)
}

/// The download made right after the run, if it is the one asked for.
fn ready(state: &State, what: Download) -> Option<(String, web_sys::Blob, (u32, u32))> {
    (what == FEATURED)
        .then(|| state.run.as_ref()?.ready.clone())
        .flatten()
}

/// Makes a download; one that writes a whole run tells `writing` of each of its files
/// (its name, and how many were written before it).
fn download(
    state: &State,
    what: Download,
    writing: &dyn Fn(&str, usize),
) -> Result<(String, web_sys::Blob), String> {
    let (Some(landing), Some(run)) = (state.built(), &state.run) else {
        return Err("the zones are out of date: wait for the run to finish, then download".into());
    };
    let writer = run.writer(landing);
    let mut out = Parts::new();
    let fail = |e: stedi_core::Error| e.to_string();
    let name = what.file_name();
    let mime = mime_of(&name);
    match what {
        Download::Zone(zone, format) => {
            writer.write(zone, format, &mut out).map_err(fail)?;
        }
        Download::Quarantine => {
            write_quarantine(&landing.quarantine, &mut out).map_err(fail)?;
        }
        // The audit and the report list output hashes: the run is written through hashes
        // only, keeping just the file asked for.
        Download::Audit => {
            let mut keep = keep_one(&name, &mut out);
            write_files(landing, run, Format::Jsonl, writing, &mut keep).map_err(fail)?;
        }
        Download::Report(format) => {
            let mut keep = keep_one(&name, &mut out);
            write_files(landing, run, format, writing, &mut keep).map_err(fail)?;
        }
        Download::Everything(format) => {
            let zip = crate::archive::write_zip(out, |each| {
                write_files(landing, run, format, writing, each)
            });
            out = zip.map_err(fail)?.1;
        }
    }
    Ok((name, out.into_blob(mime)?))
}

/// Writes the run's files as `stedi run` does (the audit and the report list every
/// other file's hash), each through `each`, telling `writing` of each.
fn write_files(
    landing: &Landing,
    run: &Run,
    format: stedi_core::export::Format,
    writing: &dyn Fn(&str, usize),
    each: &mut EachFile<'_>,
) -> stedi_core::Result<Audit> {
    let (zones, policy, salt) = (&run.zones, &run.policy, &run.salt);
    let mut done = 0;
    let mut telling = |name: &str, write: &mut WriteFile<'_>| {
        writing(name, done);
        done += 1;
        each(name, write)
    };
    write_run_each(
        landing,
        zones,
        policy,
        salt,
        run.salt_given,
        format,
        &mut telling,
    )
}

/// Keeps the bytes of the file `keep` in `out`; every other file only passes through
/// the hashes.
fn keep_one<'o>(
    keep: &'o str,
    out: &'o mut Parts,
) -> impl FnMut(&str, &mut WriteFile<'_>) -> stedi_core::Result<()> + 'o {
    move |name, write| {
        if name == keep {
            write(out)
        } else {
            write(&mut std::io::sink())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_rows_in_a_multiple_of_the_readers_of_at_most_piece_rows() {
        for readers in 1..=4 {
            // A download is shared from 2 * PIECE_ROWS rows on.
            for rows in [
                2 * PIECE_ROWS,
                2 * PIECE_ROWS + 1,
                318_776,
                3_186_476,
                5 * PIECE_ROWS - 1,
            ] {
                let size = piece_rows(rows, readers);
                let pieces = rows.div_ceil(size);
                assert!(size <= PIECE_ROWS, "{rows} rows, {readers} readers: {size}");
                assert_eq!(
                    pieces % readers,
                    0,
                    "{rows} rows, {readers} readers: {pieces}"
                );
                // Nearly equal: the last piece is short by less than one row per piece.
                assert!(rows - (pieces - 1) * size + pieces > size);
            }
        }
        // W10's 318,776 rows for two readers: six pieces, not five of 64Ki rows.
        assert_eq!(piece_rows(318_776, 2), 53_130);
    }
}

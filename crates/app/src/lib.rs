//! stedi-app: the STEDI lakehouse as a static web page.
//!
//! Files are read in a web worker ([`worker`]) by stedi-core compiled to WebAssembly; the
//! page ([`App`]) only keeps plain state ([`state::AppState`]) and talks to the worker
//! through [`bridge::Bridge`] with the messages of [`protocol`]. Nothing leaves the
//! machine: the page's Content-Security-Policy forbids connections to anywhere else.

pub mod archive;
pub mod bridge;
pub mod inbox;
pub mod parts;
pub mod protocol;
pub mod reader;
mod rehearsal;
pub mod state;
mod ui;
pub mod worker;

use bridge::Bridge;
use leptos::prelude::*;
use protocol::{Download, FromWorker, Received, ToWorker};
use state::{AppState, FileStatus, Step};
use stedi_core::ingest::Source;
use stedi_core::preview::Selection;
use stedi_core::review::ReviewList;
use wasm_bindgen::prelude::{Closure, JsValue};
use wasm_bindgen::JsCast;

/// Demo files take ids from here up, clear of the ids of files the user adds.
const DEMO_IDS: u32 = 1 << 24;

/// What components share: the state, and the way to the worker.
#[derive(Clone, Copy)]
pub struct Ctx {
    /// The one root state.
    pub state: RwSignal<AppState>,
    bridge: StoredValue<Option<Bridge>, LocalStorage>,
    /// File handles by id, to send again after a Cancel restarts the worker.
    handles: StoredValue<Vec<(u32, web_sys::File)>, LocalStorage>,
    /// An audit.json to check against the files.
    audit: StoredValue<Option<web_sys::File>, LocalStorage>,
    /// The worker's messages not yet applied: applied in groups (see [`Ctx::receive`]).
    inbox: StoredValue<inbox::Inbox, LocalStorage>,
}

impl Ctx {
    /// A fresh state, with no way to the worker yet.
    fn new() -> Ctx {
        Ctx {
            state: RwSignal::new(AppState::default()),
            bridge: StoredValue::new_local(None),
            handles: StoredValue::new_local(Vec::new()),
            audit: StoredValue::new_local(None),
            inbox: StoredValue::new_local(inbox::Inbox::default()),
        }
    }

    /// A part of the state, as a memo: what depends on it runs again only when that part
    /// changed, not at every change of the state (reading progress, a few times a second).
    /// A form control set from the state needs one: set, even to the same value, it sets
    /// the browser's form-filling code going over the page.
    pub fn memo<T: PartialEq + Send + Sync + 'static>(
        self,
        part: impl Fn(&AppState) -> T + Send + Sync + 'static,
    ) -> Memo<T> {
        Memo::new(move |_| self.state.with(|s| part(s)))
    }

    fn send(&self, msg: &ToWorker, file: Option<&web_sys::File>) {
        self.bridge.with_value(|b| {
            if let Some(b) = b {
                b.send(msg, file);
            }
        });
    }

    /// Adds files and starts reading them.
    pub fn add_files(&self, files: Vec<web_sys::File>) {
        let (audits, files): (Vec<_>, Vec<_>) = files
            .into_iter()
            .partition(|f| state::is_audit_name(&f.name()));
        if let Some(audit) = audits.into_iter().last() {
            self.state.update(|s| {
                s.audit_name = Some(audit.name());
                s.verification = None;
            });
            self.audit.set_value(Some(audit));
            self.verify();
        }
        if !files.is_empty() {
            self.load_starts();
        }
        // The files are added unseen, posted to the worker, then shown with their sizes in
        // one change of state: posting is where the browser first looks at a file (a round
        // trip to its own process), after which asking for its size costs nothing.
        let ids = self
            .state
            .try_update_untracked(|s| {
                files
                    .iter()
                    .map(|f| s.add_file(f.name(), 0))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let sizes: Vec<(u32, u64)> = ids
            .into_iter()
            .zip(files)
            .map(|(id, file)| {
                self.read(id, file.clone());
                (id, file.size() as u64)
            })
            .collect();
        self.state.update(|s| {
            for (id, size) in sizes {
                if let Some(f) = s.file_mut(id) {
                    f.size = size;
                }
            }
        });
    }

    fn read(&self, id: u32, file: web_sys::File) {
        self.send(
            &ToWorker::AddFile {
                id,
                name: file.name(),
                source: None,
            },
            Some(&file),
        );
        self.handles.update_value(|h| h.push((id, file)));
    }

    /// Generates the course-sized demo set in the worker and reads it.
    pub fn demo(&self) {
        self.load_starts();
        let first_id = self.state.with_untracked(|s| s.next_id.max(DEMO_IDS));
        self.state.update(|s| {
            s.next_id = first_id + DEMO_IDS;
            s.notice = None;
            s.result = None;
        });
        self.send(&ToWorker::Demo { first_id, scale: 1 }, None);
    }

    /// Forgets a file.
    pub fn remove(&self, id: u32) {
        self.apply_waiting();
        self.state.update(|s| s.files.retain(|f| f.id != id));
        self.handles.update_value(|h| h.retain(|(i, _)| *i != id));
        self.send(&ToWorker::Remove { id }, None);
        self.rerun();
    }

    /// Reads a file again as another source (`None`: detect).
    pub fn set_source(&self, id: u32, source: Option<Source>) {
        // An older reading's answer must not land after the file is being read again.
        self.apply_waiting();
        self.load_starts();
        self.state.update(|s| {
            if let Some(f) = s.file_mut(id) {
                f.chosen = source;
                f.status = FileStatus::Reading(0);
            }
            s.result = None;
        });
        self.send(&ToWorker::SetSource { id, source }, None);
    }

    /// Builds the zones again with the current policy, when there is anything to build.
    pub fn rerun(&self) {
        let (ready, policy, salt) = self
            .state
            .with_untracked(|s| (!s.is_reading() && s.has_read_files(), s.policy, s.salt()));
        if !ready {
            // Only when there is a result to clear: each file read ends here.
            if self.state.with_untracked(|s| s.result.is_some()) {
                self.state.update(|s| s.result = None);
            }
            return;
        }
        self.state.update(|s| s.running = true);
        self.send(&ToWorker::Run { policy, salt }, None);
    }

    /// Checks the loaded audit.json against the files, once the zones are built.
    pub fn verify(&self) {
        let (ready, salt) = self
            .state
            .with_untracked(|s| (s.result.is_some() && !s.running, s.salt()));
        if !ready {
            return;
        }
        if let Some(file) = self.audit.get_value() {
            self.send(&ToWorker::Verify { salt }, Some(&file));
        }
    }

    /// Forgets the loaded audit.json.
    pub fn drop_audit(&self) {
        self.audit.set_value(None);
        self.state.update(|s| {
            s.audit_name = None;
            s.verification = None;
        });
    }

    /// Opens a review list page.
    pub fn review(&self, list: ReviewList, query: String, page: usize) {
        self.state.update(|s| {
            s.review_list = list;
            s.review_query = query.clone();
        });
        if self.state.with_untracked(|s| s.result.is_some()) {
            self.send(&ToWorker::Review { list, query, page }, None);
        }
    }

    /// Opens a page of a zone preview.
    pub fn preview(&self, selection: Selection, page: usize) {
        self.state
            .update(|s| s.preview_selection = selection.clone());
        if self.state.with_untracked(|s| s.result.is_some()) {
            self.send(&ToWorker::Preview { selection, page }, None);
        }
    }

    /// Shows the customer an email or serial number names in the customer chart (an empty
    /// query shows the first curated customer).
    pub fn show_customer(&self, query: String) {
        self.state.update(|s| s.customer_query = query.clone());
        if self.state.with_untracked(|s| s.result.is_some()) {
            self.send(
                &ToWorker::Customer {
                    query,
                    columns: chart_columns(),
                },
                None,
            );
        }
    }

    /// Asks the worker for a download.
    pub fn download(&self, what: Download) {
        self.state.update(|s| s.download_asked(what.file_name()));
        self.send(&ToWorker::Download(what), None);
    }

    /// Stops whatever the worker is doing. Files not yet read are dropped; files read are
    /// read again by the fresh worker (demo files must be generated again).
    pub fn cancel(&self) {
        // Files whose reading was told but not yet applied count as read.
        self.apply_waiting();
        let restarted = self.bridge.with_value(|b| b.as_ref().map(Bridge::restart));
        if let Some(Err(message)) = restarted {
            self.state.update(|s| s.notice = Some(message));
            return;
        }
        let handles = self.handles.get_value();
        let mut keep = Vec::new();
        let mut dropped = 0;
        self.state.update(|s| {
            s.files.retain(|f| {
                let read = matches!(f.status, FileStatus::Read { .. });
                let handle = handles.iter().find(|(id, _)| *id == f.id);
                match handle {
                    Some((id, file)) if read => {
                        keep.push((*id, file.clone(), f.chosen));
                        true
                    }
                    _ => {
                        dropped += 1;
                        false
                    }
                }
            });
            for f in &mut s.files {
                f.status = FileStatus::Reading(0);
            }
            s.load_from = 0;
            s.running = false;
            s.result = None;
            // The fresh worker makes none of the downloads asked of the old one.
            s.preparing.clear();
            s.notice = Some(format!(
                "Cancelled. {dropped} file(s) not read were removed; add them again to use them."
            ));
        });
        self.handles.set_value(Vec::new());
        for (id, file, source) in keep {
            self.send(
                &ToWorker::AddFile {
                    id,
                    name: file.name(),
                    source,
                },
                Some(&file),
            );
            self.handles.update_value(|h| h.push((id, file)));
        }
    }

    /// Starts the load clock when files start being read after a pause.
    fn load_starts(&self) {
        if !self.state.with_untracked(AppState::is_reading) {
            self.state.update(|s| {
                s.load = state::LoadTiming {
                    started: now(),
                    millis: None,
                }
            });
        }
    }

    /// Stops the load clock once no file is being read.
    fn load_ends(&self) {
        self.state.update(|s| {
            if !s.is_reading() && s.load.millis.is_none() {
                s.load.millis = Some(now() - s.load.started);
            }
        });
    }

    /// Keeps a message of the worker's until the page applies its messages. Reading a
    /// hundred files sends hundreds of messages; applied one by one, each made the page
    /// work out its state, style, layout and paint again, which took as much of the
    /// machine as a reader. Reading progress is applied a few times a second; a download
    /// to save at once; anything else, and the end of reading, at the next frame.
    fn receive(&self, received: Received<FromWorker>) {
        let reading = self
            .state
            .with_untracked(|s| s.files.iter().filter(|f| f.is_reading()).count());
        let when = self
            .inbox
            .try_update_value(|inbox| inbox.push(received, reading, now()))
            .flatten();
        let Some(when) = when else { return };
        let ctx = *self;
        let apply = move || Closure::once_into_js(move || ctx.apply_waiting());
        let Some(window) = web_sys::window() else {
            return;
        };
        let after = |ms: f64, f: JsValue| {
            window
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    f.unchecked_ref(),
                    ms.ceil() as i32,
                )
                .map(drop)
        };
        let scheduled = match when {
            // A page hidden before its frame comes gets no frame: the timer then applies
            // the messages (applying twice finds nothing the second time).
            inbox::Apply::NextFrame => window
                .request_animation_frame(apply().unchecked_ref())
                .map(drop)
                .and_then(|()| after(inbox::PROGRESS_EVERY, apply())),
            inbox::Apply::After(ms) => after(ms, apply()),
            inbox::Apply::Now => {
                self.apply_waiting();
                Ok(())
            }
        };
        if scheduled.is_err() {
            self.state.update(|s| {
                s.notice = Some("the page could not schedule its updates; reload it".into())
            });
        }
    }

    /// Applies the worker's messages that wait, in the order they came.
    fn apply_waiting(&self) {
        let messages = self
            .inbox
            .try_update_value(|inbox| inbox.take(now()))
            .unwrap_or_default();
        for received in messages {
            self.on_message(received);
        }
    }

    fn on_message(&self, received: Received<FromWorker>) {
        let state = self.state;
        match received.msg {
            // Parsed and PartWritten only pass between workers.
            FromWorker::Ready | FromWorker::Parsed { .. } | FromWorker::PartWritten { .. } => {}
            FromWorker::FileAdded { id, name, bytes } => state.update(|s| {
                if !s.is_reading() {
                    s.load_from = id;
                }
                s.files.push(state::LoadedFile {
                    id,
                    name,
                    size: bytes,
                    chosen: None,
                    status: FileStatus::Reading(0),
                });
            }),
            FromWorker::Progress { id, done } => state.update(|s| {
                if let Some(f) = s.file_mut(id) {
                    f.status = FileStatus::Reading(done);
                }
            }),
            FromWorker::FileRead {
                id,
                summary,
                reasons,
            } => {
                state.update(|s| {
                    if let Some(f) = s.file_mut(id) {
                        f.status = FileStatus::Read { summary, reasons };
                    }
                });
                self.load_ends();
                self.rerun();
            }
            FromWorker::FileFailed { id, message } => {
                state.update(|s| {
                    if let Some(f) = s.file_mut(id) {
                        f.status = FileStatus::Failed(message);
                    }
                });
                self.load_ends();
                self.rerun();
            }
            FromWorker::RunDone {
                audit,
                millis,
                charts,
                wasm_bytes,
                batch_bytes,
                readers,
            } => {
                state.update(|s| {
                    s.running = false;
                    s.saved.clear();
                    s.result = Some(state::RunResult {
                        audit: *audit,
                        millis,
                        charts: *charts,
                        wasm_bytes,
                        batch_bytes,
                        readers,
                    });
                });
                let (list, query, selection, customer) = state.with_untracked(|s| {
                    (
                        s.review_list,
                        s.review_query.clone(),
                        s.preview_selection.clone(),
                        s.customer_query.clone(),
                    )
                });
                self.review(list, query, 0);
                self.preview(selection, 0);
                self.show_customer(customer);
                self.verify();
            }
            FromWorker::PreviewPage(page) => state.update(|s| {
                if s.preview_selection == page.selection {
                    s.preview = Some(*page);
                }
            }),
            FromWorker::CustomerChart { query, series } => state.update(|s| {
                if s.customer_query == query {
                    s.customer = Some(*series);
                }
            }),
            FromWorker::ReviewPage { list, query, page } => state.update(|s| {
                if s.review_list == list && s.review_query == query {
                    s.review = Some(page);
                }
            }),
            FromWorker::Verified { checks } => state.update(|s| s.verification = Some(checks)),
            FromWorker::Writing { name, done, total } => {
                state.update(|s| s.download_writing(Step::File(name, done, total)))
            }
            FromWorker::Parts { done, total } => {
                state.update(|s| s.download_writing(Step::Parts(done, total)))
            }
            FromWorker::File { name, made } => {
                state.update(|s| s.download_saved(name.clone(), made));
                let saved = match &received.file {
                    Some(blob) => bridge::save_blob(&name, blob),
                    None => Err(format!(
                        "the download of {name} came without its bytes; try again"
                    )),
                };
                if let Err(message) = saved {
                    state.update(|s| s.notice = Some(message));
                }
            }
            FromWorker::Failed { message } => state.update(|s| {
                s.running = false;
                s.download_made();
                s.notice = Some(message);
            }),
        }
    }
}

/// The page's clock, in ms.
fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Pixel columns to reduce a full-width chart to: the page's width (at most the layout's
/// 72rem) in device pixels.
fn chart_columns() -> u32 {
    let Some(w) = web_sys::window() else {
        return 1200;
    };
    let css = w
        .inner_width()
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(1200.0)
        .min(1200.0);
    (css * w.device_pixel_ratio().max(1.0)).round() as u32
}

/// The page.
#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx::new();
    match Bridge::start(move |msg| ctx.receive(msg)) {
        Ok(bridge) => ctx.bridge.set_value(Some(bridge)),
        Err(message) => ctx.state.update(|s| s.notice = Some(message)),
    }
    provide_context(ctx);
    // In a task of its own, after the page is drawn, while the user picks files.
    rehearsal::soon();

    view! {
        <header class="masthead">
            <h1 data-testid="app-name">"Stedi Lakehouse"</h1>
            <p class="tagline">
                "Build the STEDI landing, trusted and curated zones from your JSON files, \
                 and download a privacy-checked machine-learning dataset."
            </p>
            <p class="privacy" data-testid="privacy">
                "Private by construction: your files are read by this page, in your browser, \
                 and never uploaded. The page makes no network requests (its security policy \
                 forbids them), so it keeps working with the network off."
            </p>
        </header>
        <main>
            <Sections />
        </main>
        <footer class="footer">
            <span data-testid="core-version">"stedi-core " {stedi_core::version()}</span>
        </footer>
    }
}

/// The page's sections, from loading files to the review.
#[component]
fn Sections() -> impl IntoView {
    view! {
        <ui::notice::Notice />
        <ui::notice::Preparing />
        <ui::load::Load />
        <ui::policy::PolicyPanel />
        <ui::results::Results />
        <ui::charts::Charts />
        <ui::preview::ZonePreview />
        <ui::review::Review />
    }
}

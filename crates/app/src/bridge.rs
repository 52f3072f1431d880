//! The page's side of the worker: start it, queue messages until it is ready, restart it
//! on Cancel; and the browser plumbing around files: folders, downloads.

use crate::protocol::{decode, encode, FromWorker, Received, ToWorker};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, Worker};

/// The worker's loader, `web/worker.js`, next to the page (a relative URL, so the site
/// works from any sub-path).
const WORKER_URL: &str = "./worker.js";

type Handler = Rc<dyn Fn(Received<FromWorker>)>;

struct Inner {
    worker: Worker,
    ready: bool,
    queue: Vec<JsValue>,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
}

/// A handle to the worker. Cheap to clone.
#[derive(Clone)]
pub struct Bridge {
    inner: Rc<RefCell<Option<Inner>>>,
    handler: Handler,
}

impl Bridge {
    /// Starts the worker; `handler` receives every message it sends.
    pub fn start(handler: impl Fn(Received<FromWorker>) + 'static) -> Result<Bridge, String> {
        let bridge = Bridge {
            inner: Rc::default(),
            handler: Rc::new(handler),
        };
        bridge.spawn()?;
        Ok(bridge)
    }

    fn spawn(&self) -> Result<(), String> {
        let worker = Worker::new(WORKER_URL)
            .map_err(|e| format!("the page could not start its worker: {e:?}; reload the page"))?;
        let weak = Rc::downgrade(&self.inner);
        let handler = self.handler.clone();
        let onmessage =
            Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                match decode::<FromWorker>(&ev.data()) {
                    Ok(received) => {
                        if matches!(received.msg, FromWorker::Ready) {
                            if let Some(inner) = weak.upgrade() {
                                flush(&inner);
                            }
                        }
                        handler(received);
                    }
                    Err(message) => handler(Received {
                        msg: FromWorker::Failed { message },
                        file: None,
                        bytes: None,
                    }),
                }
            });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        *self.inner.borrow_mut() = Some(Inner {
            worker,
            ready: false,
            queue: Vec::new(),
            _onmessage: onmessage,
        });
        Ok(())
    }

    /// Sends a message, with a `File` attached when given.
    pub fn send(&self, msg: &ToWorker, file: Option<&web_sys::File>) {
        let data = encode(msg, file.map(|f| f.as_ref()));
        let mut inner = self.inner.borrow_mut();
        let Some(inner) = inner.as_mut() else { return };
        if inner.ready {
            post(&inner.worker, &data);
        } else {
            inner.queue.push(data);
        }
    }

    /// Stops the worker at once, whatever it is doing, and starts a fresh one.
    pub fn restart(&self) -> Result<(), String> {
        if let Some(inner) = self.inner.borrow_mut().take() {
            inner.worker.terminate();
        }
        self.spawn()
    }
}

fn flush(inner: &Rc<RefCell<Option<Inner>>>) {
    let mut inner = inner.borrow_mut();
    let Some(inner) = inner.as_mut() else { return };
    inner.ready = true;
    for data in std::mem::take(&mut inner.queue) {
        post(&inner.worker, &data);
    }
}

fn post(worker: &Worker, data: &JsValue) {
    if let Err(e) = worker.post_message(data) {
        web_sys::console::error_2(&"could not send a message to the worker".into(), &e);
    }
}

/// Offers a canvas's picture as a PNG download named `name`.
pub fn save_canvas(canvas: &web_sys::HtmlCanvasElement, name: &str) -> Result<(), String> {
    let owned = name.to_string();
    let done = Closure::once_into_js(move |blob: JsValue| {
        let saved = match blob.dyn_into::<web_sys::Blob>() {
            Ok(blob) => save_blob(&owned, &blob),
            Err(_) => Err(format!("the browser could not make {owned}")),
        };
        if let Err(message) = saved {
            web_sys::console::error_1(&message.into());
        }
    });
    canvas
        .to_blob(done.unchecked_ref())
        .map_err(|e| format!("the browser could not make {name}: {e:?}"))
}

/// Offers a blob as a download named `name`.
pub fn save_blob(name: &str, blob: &web_sys::Blob) -> Result<(), String> {
    let fail = |e: JsValue| format!("the browser refused the download of {name}: {e:?}");
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(fail)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document to download from")?;
    let a: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(fail)?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    // Give the browser a moment to start the download before the URL goes.
    let revoke = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    }
    Ok(())
}

/// Extensions looked for inside dropped or picked folders.
pub const INPUT_EXTENSIONS: [&str; 4] = [".json", ".jsonl", ".ndjson", ".gz"];

/// Whether a file found inside a folder looks like input.
pub fn is_input_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    INPUT_EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

/// What a drop held, taken while the drop event is handled (the browser empties the
/// event's data afterwards).
pub struct Dropped {
    entries: Vec<web_sys::FileSystemEntry>,
    files: Vec<web_sys::File>,
}

/// Takes a drop's entries (files and folders), or its flat file list in browsers without
/// the entries API.
pub fn take_drop(data: &web_sys::DataTransfer) -> Dropped {
    let items = data.items();
    let mut entries = Vec::new();
    for i in 0..items.length() {
        if let Some(entry) = items
            .get(i)
            .and_then(|item| item.webkit_get_as_entry().ok().flatten())
        {
            entries.push(entry);
        }
    }
    let mut files = Vec::new();
    if entries.is_empty() {
        if let Some(list) = data.files() {
            for i in 0..list.length() {
                files.extend(list.get(i));
            }
        }
    }
    Dropped { entries, files }
}

/// The files of a drop: plain files as they are, folders walked recursively (keeping only
/// input-looking names inside them).
pub async fn dropped_files(dropped: Dropped) -> Vec<web_sys::File> {
    let mut files = dropped.files;
    for entry in dropped.entries {
        walk(entry, true, &mut files).await;
    }
    files
}

/// The files of a file input (`<input type=file>`), folder pickers included.
pub fn input_files(input: &web_sys::HtmlInputElement, folder: bool) -> Vec<web_sys::File> {
    let mut files = Vec::new();
    if let Some(list) = input.files() {
        for i in 0..list.length() {
            files.extend(list.get(i).filter(|f| !folder || is_input_name(&f.name())));
        }
    }
    files
}

async fn walk(entry: web_sys::FileSystemEntry, top: bool, out: &mut Vec<web_sys::File>) {
    let mut stack = vec![(entry, top)];
    while let Some((entry, top)) = stack.pop() {
        if entry.is_file() {
            if !top && !is_input_name(&entry.name()) {
                continue;
            }
            let file_entry: web_sys::FileSystemFileEntry = entry.unchecked_into();
            if let Ok(file) =
                callback_promise(|ok, err| file_entry.file_with_callback_and_callback(ok, err))
                    .await
            {
                out.push(file.unchecked_into());
            }
        } else if entry.is_directory() {
            let dir: web_sys::FileSystemDirectoryEntry = entry.unchecked_into();
            let reader = dir.create_reader();
            let mut children = Vec::new();
            // readEntries returns a batch at a time, then an empty batch at the end.
            loop {
                let batch = callback_promise(|ok, err| {
                    reader
                        .read_entries_with_callback_and_callback(ok, err)
                        .map_err(|_| ())
                        .ok();
                })
                .await;
                let Ok(batch) = batch else { break };
                let batch: js_sys::Array = batch.unchecked_into();
                if batch.length() == 0 {
                    break;
                }
                children.extend(
                    batch
                        .iter()
                        .map(|e| e.unchecked_into::<web_sys::FileSystemEntry>()),
                );
            }
            children.sort_by_key(|e| std::cmp::Reverse(e.name()));
            stack.extend(children.into_iter().map(|e| (e, false)));
        }
    }
}

/// Turns a success/error callback API into a future.
async fn callback_promise(
    call: impl FnOnce(&js_sys::Function, &js_sys::Function),
) -> Result<JsValue, JsValue> {
    let mut call = Some(call);
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        if let Some(call) = call.take() {
            call(&resolve, &reject);
        }
    });
    JsFuture::from(promise).await
}

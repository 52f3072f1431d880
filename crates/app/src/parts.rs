//! Downloads written in parts: a file leaves WebAssembly memory 4 MiB at a time and
//! becomes a `Blob` of those parts, never one buffer.

use std::cell::RefCell;
use std::io::Write;
use wasm_bindgen::JsCast;

// The parts of a download already handed to the browser. They live outside the writer so
// that the writer stays `Send` (Parquet's writer wants it); the worker has one thread.
thread_local! {
    static PARTS: RefCell<Vec<web_sys::Blob>> = const { RefCell::new(Vec::new()) };
}

/// Bytes of a download leave WebAssembly memory a part at a time.
const PART: usize = 4 << 20;

/// A download written in parts: the file is a `Blob` of parts, never one buffer. One is
/// written at a time: a new one starts from no parts.
pub struct Parts {
    buf: Vec<u8>,
}

impl Parts {
    /// A download with nothing written yet.
    pub fn new() -> Parts {
        PARTS.with(|p| p.borrow_mut().clear());
        Parts { buf: Vec::new() }
    }

    fn hand_over(&mut self) -> Result<(), String> {
        if !self.buf.is_empty() {
            let part = blob_of(&self.buf)?;
            PARTS.with(|p| p.borrow_mut().push(part));
            self.buf.clear();
        }
        Ok(())
    }

    /// The parts written, as one `Blob` of type `mime`.
    pub fn into_blob(mut self, mime: &str) -> Result<web_sys::Blob, String> {
        self.hand_over()?;
        let parts: js_sys::Array = PARTS.with(|p| p.take()).into_iter().collect();
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(mime);
        web_sys::Blob::new_with_blob_sequence_and_options(&parts, &options).map_err(cannot_hold)
    }
}

impl Default for Parts {
    fn default() -> Parts {
        Parts::new()
    }
}

impl Write for Parts {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(buf);
        if self.buf.len() >= PART {
            self.hand_over().map_err(std::io::Error::other)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A `Blob` of `bytes`, copied once, from WebAssembly memory into the browser's keeping.
/// (A `Uint8Array` of them first would copy them twice, the first time into memory the
/// browser has just allocated, which costs as much again to touch.)
pub fn blob_of(bytes: &[u8]) -> Result<web_sys::Blob, String> {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    // A view of the bytes where they are. The constructor copies them before anything
    // else runs here, so nothing can grow the memory (which would detach the view).
    let view = js_sys::Uint8Array::new_with_byte_offset_and_length(
        &memory.buffer(),
        bytes.as_ptr() as u32,
        bytes.len() as u32,
    );
    web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&view)).map_err(cannot_hold)
}

fn cannot_hold(e: wasm_bindgen::JsValue) -> String {
    format!("the browser could not hold the download: {e:?}")
}

/// The type of a download by its file's extension.
pub fn mime_of(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "csv" => "text/csv",
        "json" => "application/json",
        "jsonl" => "application/x-ndjson",
        "zip" => "application/zip",
        "html" => "text/html",
        _ => "application/octet-stream",
    }
}

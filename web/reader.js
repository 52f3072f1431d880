// Starts a reader worker (files parsed for the pipeline's worker): the wasm-bindgen glue,
// then its own small wasm module. Relative URLs, so the site runs from any sub-path.
importScripts("./stedi-reader.js");
wasm_bindgen({ module_or_path: "./stedi-reader_bg.wasm" });

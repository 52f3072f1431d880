// Starts the pipeline's web worker: loads the wasm-bindgen glue, then the wasm module.
// Relative URLs, so the site runs from any sub-path.
importScripts("./stedi-worker.js");
wasm_bindgen({ module_or_path: "./stedi-worker_bg.wasm" });

// Runs a WASI build of a stedi-core example in Node's V8, the engine of Chromium, to time
// core code as WebAssembly: `node bench/wasi/run.mjs FILE.wasm [ARGS...]`. Absolute
// paths in ARGS can be read: the file system's root is open to the module.
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
import { argv } from "node:process";

const [file, ...args] = argv.slice(2);
const wasi = new WASI({ version: "preview1", args: [file, ...args], env: {}, preopens: { "/": "/" } });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
wasi.start(instance);

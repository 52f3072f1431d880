// What some unavoidable steps cost in this browser, per megabyte, in a worker of a bare
// page: reading the landing files (`File.arrayBuffer()`), hashing them with the browser's
// SHA-256 (`crypto.subtle.digest`, which runs on the calling thread and copies its input),
// and writing to memory for the first time: fresh WebAssembly memory (as the pipeline
// worker's landing columns are) and a fresh ArrayBuffer, each touched once per 4 KiB page,
// then again; and making a Blob of that memory in parts of 1, 4 and 16 MiB. One JSON line
// per page.
//
//   node costs.mjs --data DIR [--touch-mb 320] [--pages 3] [--chromium PATH]

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, landingFiles, serveSite } from './site.mjs';

const { values: args } = parseArgs({
    options: {
        data: { type: 'string' },
        'touch-mb': { type: 'string', default: '320' },
        pages: { type: 'string', default: '3' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
    },
});
if (!args.data) {
    console.error('usage: node costs.mjs --data DIR [--touch-mb 320] [--pages 3] [--chromium PATH]');
    process.exit(2);
}

const WORKER = `
const round = (x) => Math.round(x * 100) / 100;
const MIB = 1 << 20;
function touch(bytes) {
    let t = performance.now();
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 1;
    return performance.now() - t;
}
onmessage = async ({ data: { files, touchMb } }) => {
    const out = { files: files.length };
    let bytes = 0, read = 0, hash = 0;
    for (const file of files) {
        let t = performance.now();
        const buffer = await file.arrayBuffer();
        read += performance.now() - t;
        t = performance.now();
        await crypto.subtle.digest('SHA-256', buffer);
        hash += performance.now() - t;
        bytes += buffer.byteLength;
    }
    const mb = bytes / 1e6;
    Object.assign(out, { mb: round(mb), read_ms: round(read), read_ms_per_mb: round(read / mb),
        sha256_ms: round(hash), sha256_ms_per_mb: round(hash / mb) });
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
    memory.grow((touchMb * MIB) / 65536);
    const wasm = new Uint8Array(memory.buffer);
    const first = touch(wasm), again = touch(wasm);
    const array = new Uint8Array(touchMb * MIB);
    const arrayFirst = touch(array);
    const touched = (touchMb * MIB) / 1e6;
    Object.assign(out, { touch_mb: round(touched),
        wasm_first_touch_ms: round(first), wasm_first_touch_ms_per_mb: round(first / touched),
        wasm_touch_again_ms: round(again),
        array_first_touch_ms: round(arrayFirst), array_first_touch_ms_per_mb: round(arrayFirst / touched) });
    // A download made of Blobs of views of WebAssembly memory, as the app makes them, with
    // parts of 1, 4 and 16 MiB: what the constructor costs per MB at each size.
    for (const partMib of [1, 4, 16]) {
        const part = partMib * MIB;
        const t = performance.now();
        const parts = [];
        for (let at = 0; at + part <= wasm.length; at += part) {
            parts.push(new Blob([new Uint8Array(memory.buffer, at, part)]));
        }
        const whole = new Blob(parts);
        const ms = performance.now() - t;
        out['blob_' + partMib + 'mib_ms_per_mb'] = round(ms / (whole.size / 1e6));
    }
    postMessage(out);
};
`;

const PAGE = `<!doctype html>
<input type="file" id="files" multiple>
<script>
window.measure = (touchMb) => new Promise((done) => {
    const worker = new Worker('worker.js');
    worker.onmessage = ({ data }) => done(data);
    worker.postMessage({ files: [...document.getElementById('files').files], touchMb });
});
</script>
`;

const files = await landingFiles(args.data);
const dir = await mkdtemp(join(tmpdir(), 'stedi-costs-'));
await writeFile(join(dir, 'index.html'), PAGE);
await writeFile(join(dir, 'worker.js'), WORKER);
const site = await serveSite(dir);
const browser = await chromium.launch({ executablePath: args.chromium, args: CHROMIUM_ARGS });
try {
    for (let i = 0; i < Number(args.pages); i++) {
        const page = await browser.newPage();
        await page.goto(site.url);
        await page.setInputFiles('#files', files);
        console.log(JSON.stringify(await page.evaluate((mb) => window.measure(mb), Number(args['touch-mb']))));
        await page.close();
    }
} finally {
    await browser.close();
    site.server.close();
    await rm(dir, { recursive: true, force: true });
}

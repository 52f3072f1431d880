// The floor under the app's browser times: a bare page, driven as the bench drives the
// app (files handed to a file input, the results awaited, a download clicked), that does
// only what no version of the app can skip, and less: each file posted to a worker that
// hands it to reader workers (two files each at most, as the app does), which read every
// byte and hash it with the browser's SHA-256 (the audit names each input by its
// SHA-256) and parse nothing; then a download of `--download-bytes` bytes, made as a Blob
// of 4 MiB parts in the worker while the page shows its button. Files larger than 64 MiB
// are read in 4 MiB slices and not hashed at all (the app hashes those in WebAssembly).
//
//   node floor.mjs --data DIR --download-bytes N [--runs N] [--side harness,read,unhashed] [--chromium PATH]
//
// Two sides, run alternately, 1 + N times each (run 0 is the warm-up), a fresh page each:
//   "harness": the files are posted to the workers but not read: Playwright's steps, the
//              browser's first look at each file, the messages, the Blob and the download;
//   "read":    the same, with every file read and hashed.
// `--side` runs only those it names, comma-separated (one, say, to take the CPU time of
// the whole run), among them a third:
//   "unhashed": every file read as in "read" but not hashed, to show what hashing takes.
// Prints one JSON line per run, {"side", "run", "ms", "shown_ms", "download_bytes"},
// then one per side with the medians of runs 1..N, {"side", "median_ms",
// "median_shown_ms"}, and {"done": true}.

import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, landingFiles, round, serveSite, timeToDownload } from './site.mjs';

const { values: args } = parseArgs({
    options: {
        data: { type: 'string' },
        'download-bytes': { type: 'string' },
        runs: { type: 'string', default: '5' },
        side: { type: 'string' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
    },
});
const downloadBytes = Number(args['download-bytes']);
if (!args.data || !Number.isSafeInteger(downloadBytes) || downloadBytes < 0) {
    console.error('usage: node floor.mjs --data DIR --download-bytes N [--runs N] [--side harness,read,unhashed] [--chromium PATH]');
    process.exit(2);
}

const PAGE = `<!doctype html>
<input type="file" data-testid="file-input" multiple>
<button data-testid="featured" hidden>Download</button>
<script>
const query = new URLSearchParams(location.search);
const pipeline = new Worker('pipeline.js');
// read: 0 posts the files only, 1 reads and hashes them, 2 reads them only.
pipeline.postMessage({ read: Number(query.get('read')), bytes: Number(query.get('bytes')) });
const button = document.querySelector('[data-testid=featured]');
let blob = null;
let clicked = false;
const save = () => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'machine_learning_curated.csv';
    a.click();
};
document.querySelector('input').addEventListener('change', (ev) => {
    const files = [...ev.target.files];
    pipeline.postMessage({ count: files.length });
    for (const file of files) pipeline.postMessage({ file });
});
pipeline.onmessage = (ev) => {
    if (ev.data.ready) document.body.dataset.ready = '';
    if (ev.data.read) button.hidden = false;
    if (ev.data.blob) {
        blob = ev.data.blob;
        if (clicked) save();
    }
};
button.addEventListener('click', () => {
    clicked = true;
    if (blob) save();
});
</script>
`;

// Up to two files per reader at once; the rest wait for whichever reader answers first.
const PIPELINE = `
const AHEAD = 2;
let config;
let expected = -1;
let done = 0;
let started = 0;
const waiting = [];
const readers = [];
const dispatch = () => {
    for (const reader of readers) {
        while (reader.busy < AHEAD && waiting.length) {
            reader.busy++;
            reader.worker.postMessage({ file: waiting.shift(), read: config.read });
        }
    }
};
const finish = () => {
    postMessage({ read: true });
    const part = new Uint8Array(4 * 1024 * 1024).fill(97);
    const parts = [];
    for (let left = config.bytes; left > 0; left -= part.length) {
        parts.push(left >= part.length ? part : part.subarray(0, left));
    }
    postMessage({ blob: new Blob(parts, { type: 'text/csv' }) });
};
onmessage = (ev) => {
    const m = ev.data;
    if (m.count !== undefined) {
        expected = m.count;
    } else if (m.file) {
        waiting.push(m.file);
        dispatch();
    } else {
        config = m;
        const cores = Math.min(Math.max(navigator.hardwareConcurrency, 1), 4);
        for (let i = 0; i < cores; i++) {
            const reader = { worker: new Worker('reader.js'), busy: 0 };
            reader.worker.onmessage = (ev) => {
                if (ev.data === 'ready') {
                    if (++started === cores) postMessage({ ready: true });
                    return;
                }
                reader.busy--;
                done++;
                dispatch();
                if (done === expected) finish();
            };
            readers.push(reader);
        }
    }
};
`;

const READER = `
const WHOLE = 64 * 1024 * 1024;
const SLICE = 4 * 1024 * 1024;
postMessage('ready');
onmessage = async (ev) => {
    const { file, read } = ev.data;
    if (read) {
        const sync = new FileReaderSync();
        if (file.size <= WHOLE) {
            const bytes = sync.readAsArrayBuffer(file);
            if (read === 1) await crypto.subtle.digest('SHA-256', bytes);
        } else {
            for (let at = 0; at < file.size; at += SLICE) sync.readAsArrayBuffer(file.slice(at, at + SLICE));
        }
    }
    postMessage(0);
};
`;

const files = await landingFiles(args.data);
if (files.length === 0) {
    console.error(`no .json, .jsonl or .ndjson files under ${args.data}`);
    process.exit(1);
}
let bytes = 0;
for (const file of files) bytes += (await stat(file)).size;

const dir = await mkdtemp(join(tmpdir(), 'stedi-floor-'));
await writeFile(join(dir, 'index.html'), PAGE);
await writeFile(join(dir, 'pipeline.js'), PIPELINE);
await writeFile(join(dir, 'reader.js'), READER);
const site = await serveSite(dir);
const browser = await chromium.launch({ executablePath: args.chromium, args: CHROMIUM_ARGS });
const context = await browser.newContext({ acceptDownloads: true });
const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sides = Object.fromEntries(
    Object.entries({ harness: '0', read: '1', unhashed: '2' }).filter(([side]) =>
        args.side ? args.side.split(',').includes(side) : side !== 'unhashed',
    ),
);
const times = { harness: [], read: [], unhashed: [] };
try {
    for (let run = 0; run <= Number(args.runs); run++) {
        for (const [side, read] of Object.entries(sides)) {
            const page = await context.newPage();
            await page.goto(`${site.url}?read=${read}&bytes=${downloadBytes}`);
            // The workers are started before the clock runs, as the app's are.
            await page.waitForSelector('body[data-ready]', { state: 'attached' });
            const { ms, shown_ms, download } = await timeToDownload(page, files, 'featured');
            const got = (await stat(await download.path())).size;
            await download.delete();
            await page.close();
            if (got !== downloadBytes) throw new Error(`downloaded ${got} bytes, not ${downloadBytes}`);
            if (run > 0) times[side].push({ ms, shown_ms });
            console.log(
                JSON.stringify({ side, run, ms: round(ms), shown_ms: round(shown_ms), input_bytes: bytes, download_bytes: got }),
            );
        }
    }
    for (const [side, list] of Object.entries(times)) {
        if (list.length === 0) continue;
        console.log(
            JSON.stringify({
                side,
                median_ms: round(median(list.map((t) => t.ms))),
                median_shown_ms: round(median(list.map((t) => t.shown_ms))),
            }),
        );
    }
    console.log(JSON.stringify({ done: true }));
} finally {
    await context.close();
    await browser.close();
    site.server.close();
    await rm(dir, { recursive: true, force: true });
}

// The browser half of `cargo xtask bench`: the stedi web app against DuckDB-wasm, in one
// headless Chromium, on the same landing files.
//
//   node run.mjs --dist DIR --data DIR [--runs N] [--salt TEXT] [--chromium PATH]
//                [--baseline DIR] [--no-duckdb]
//
// Serves the built app (DIR, usually ../../dist) and the DuckDB-wasm harness
// (../duckdb-wasm) on 127.0.0.1, then runs the app and DuckDB-wasm alternately,
// 1 + N times each (run 0 is the warm-up), each in a fresh page. `--baseline DIR` adds
// another build of the app (side "baseline", run in turn with the others: to compare two
// builds on a noisy machine); `--no-duckdb` leaves DuckDB-wasm out. Prints one JSON line
// per run as it finishes:
//   {"side": "app" | "baseline" | "duckdb-wasm", "run": i, "ms": ..., "counts": {...},
//    "ml_sha256": ..., "ml_bytes": ..., "memory_bytes": ...}
// plus, for the app, "shown_ms" (until the results were on screen) and "throughput" (the
// data-* attributes of its throughput line, when it shows one).
// or {"side": ..., "run": i, "error": "..."}, after which that side is not run again.
// The last line is {"done": true}. Both sides use the strict preset (the app's default).
//
// App: t0 is taken just before the files are handed to the page's file input, t1 when
// the machine_learning_curated CSV download starts; the page is loaded and the salt
// typed before t0. DuckDB-wasm: the harness's own clock and memory probe (see
// ../duckdb-wasm/bench.js).

import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { startServer } from '../duckdb-wasm/serve.mjs';
import { CHROMIUM_ARGS, landingFiles, round, serveSite, timeToDownload } from './site.mjs';

const ZONES = [
    'customer_landing',
    'accelerometer_landing',
    'step_trainer_landing',
    'customer_trusted',
    'accelerometer_trusted',
    'customer_curated',
    'step_trainer_trusted',
    'machine_learning_curated',
];

const { values: args } = parseArgs({
    options: {
        dist: { type: 'string' },
        data: { type: 'string' },
        runs: { type: 'string', default: '5' },
        salt: { type: 'string', default: 'bench' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
        baseline: { type: 'string' },
        'no-duckdb': { type: 'boolean', default: false },
    },
});
if (!args.dist || !args.data) {
    console.error(
        'usage: node run.mjs --dist DIR --data DIR [--runs N] [--salt TEXT] [--chromium PATH] [--baseline DIR] [--no-duckdb]',
    );
    process.exit(2);
}
const runs = Number(args.runs);
// W100 moves about a gigabyte through the page: no Playwright step may time out first.
const TIMEOUT_MS = 30 * 60_000;

/** Opens a fresh page, runs `body` on it and closes it; page errors fail the run. */
async function withPage(context, body) {
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    try {
        const result = await body(page);
        if (errors.length) throw new Error(`page error: ${errors.join('; ')}`);
        return result;
    } finally {
        await page.close();
    }
}

async function runApp(context, url, files) {
    return withPage(context, async (page) => {
        // networkidle: the worker's wasm is fetched and started before the clock runs.
        await page.goto(url, { waitUntil: 'networkidle' });
        await page.getByTestId('app-name').waitFor();
        await page.getByTestId('salt').fill(args.salt);
        await page.getByTestId('salt').press('Enter');

        const { ms, shown_ms, download } = await timeToDownload(
            page,
            files,
            'download-machine_learning_curated-csv',
        );
        const ml = await readFile(await download.path());
        await download.delete();
        const counts = {};
        for (const zone of ZONES) {
            counts[zone] = Number(await page.getByTestId(`zone-${zone}`).first().getAttribute('data-rows'));
        }
        // The app's own throughput line, when this build has it.
        const line = page.getByTestId('throughput').first();
        const throughput = (await line.count()) > 0 ? await line.evaluate((el) => ({ ...el.dataset })) : null;
        const wasmBytes = throughput?.wasmBytes;
        return {
            ms: round(ms),
            shown_ms: round(shown_ms),
            counts,
            ml_sha256: createHash('sha256').update(ml).digest('hex'),
            ml_bytes: ml.length,
            memory_bytes: wasmBytes === undefined ? null : Number(wasmBytes),
            throughput,
        };
    });
}

async function runDuckdbWasm(context, url, files) {
    return withPage(context, async (page) => {
        await page.goto(url);
        await page.waitForSelector('body[data-ready]');
        await page.setInputFiles('[data-testid=files]', files);
        const result = await page.evaluate(
            (salt) => window.runDuckdb(document.querySelector('[data-testid=files]').files, 'strict', { salt }),
            args.salt,
        );
        return {
            ms: result.wall_ms,
            counts: result.counts,
            ml_sha256: result.ml_sha256,
            ml_bytes: result.ml_bytes_length,
            memory_bytes: result.peak_memory_bytes,
            phases_ms: result.phases_ms,
            duckdb: result.duckdb,
        };
    });
}

const emit = (line) => console.log(JSON.stringify(line));

const files = await landingFiles(args.data);
if (files.length === 0) {
    console.error(`no .json, .jsonl or .ndjson files under ${args.data}`);
    process.exit(1);
}

const app = await serveSite(args.dist);
const baseline = args.baseline ? await serveSite(args.baseline) : null;
const harness = await startServer(0);
const profile = await mkdtemp(join(tmpdir(), 'stedi-bench-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
    executablePath: args.chromium,
    headless: true,
    acceptDownloads: true,
    args: CHROMIUM_ARGS,
});
try {
    const sides = [['app', () => runApp(context, app.url, files)]];
    if (baseline) sides.push(['baseline', () => runApp(context, baseline.url, files)]);
    if (!args['no-duckdb']) sides.push(['duckdb-wasm', () => runDuckdbWasm(context, harness.url, files)]);
    const failed = new Set();
    for (let run = 0; run <= runs; run++) {
        for (const [side, once] of sides) {
            if (failed.has(side)) continue;
            try {
                emit({ side, run, ...(await once()) });
            } catch (error) {
                failed.add(side);
                emit({ side, run, error: String(error.message ?? error).split('\n')[0] });
            }
        }
    }
    emit({ done: true });
} finally {
    await context.close();
    app.server.close();
    baseline?.server.close();
    harness.server.close();
    await rm(profile, { recursive: true, force: true });
}

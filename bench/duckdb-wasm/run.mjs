// Runs the DuckDB-wasm harness once in headless Chromium and prints its result.
//
//   node run.mjs --data DIR [--preset strict|rubric] [--salt TEXT] [--chromium PATH]
//
// Serves this folder on 127.0.0.1, hands every .json/.jsonl/.ndjson file under DIR
// to the page's file input, calls window.runDuckdb and prints the result as JSON.

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../browser/site.mjs';
import { startServer } from './serve.mjs';

const { values: args } = parseArgs({
    options: {
        data: { type: 'string' },
        preset: { type: 'string', default: 'strict' },
        salt: { type: 'string' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
    },
});
if (!args.data) {
    console.error('usage: node run.mjs --data DIR [--preset strict|rubric] [--salt TEXT]');
    process.exit(2);
}

async function landingFiles(dir) {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
        .filter((e) => e.isFile() && /\.(json|jsonl|ndjson)$/i.test(e.name))
        .map((e) => join(e.parentPath ?? e.path, e.name))
        .sort();
}

const files = await landingFiles(args.data);
if (files.length === 0) {
    console.error(`no .json, .jsonl or .ndjson files under ${args.data}`);
    process.exit(1);
}

const { server, url } = await startServer(0);
const profile = await mkdtemp(join(tmpdir(), 'duckdb-wasm-bench-'));
const context = await chromium.launchPersistentContext(profile, {
    executablePath: args.chromium,
    headless: true,
    args: CHROMIUM_ARGS,
});
try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    // Everything must come from the local server: no CDN, no extension downloads.
    page.on('request', (request) => {
        if (!/^(blob|data):/.test(request.url()) && !request.url().startsWith(url)) {
            console.error(`off-host request: ${request.url()}`);
        }
    });
    await page.goto(url);
    await page.waitForSelector('body[data-ready]', { timeout: 120_000 });
    await page.setInputFiles('[data-testid=files]', files);
    const result = await page.evaluate(
        ({ preset, salt }) => {
            const files = document.querySelector('[data-testid=files]').files;
            return window.runDuckdb(files, preset, salt === undefined ? {} : { salt });
        },
        { preset: args.preset, salt: args.salt },
    );
    console.log(JSON.stringify(result));
} finally {
    await context.close();
    server.close();
    await rm(profile, { recursive: true, force: true });
}

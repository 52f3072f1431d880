// Where one app run's time goes in the browser, thread by thread: a Chrome trace from
// handing the files to the page until its results are on screen, summed per thread.
//
//   node trace.mjs --dist DIR --data DIR [--salt TEXT] [--chromium PATH] [--out FILE]
//
// Prints one JSON line: {"shown_ms": ..., "threads": [{"name", "busy_ms", "top"}...]},
// busiest first. A thread's busy time is the sum of its top-level tasks; a reader blocked
// reading a file counts as busy. "top" is the thread's largest kinds of trace event
// (nested ones included, so they overlap). --out keeps the whole trace for Chrome's
// performance panel.

import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, landingFiles, resultsShown, serveSite } from './site.mjs';

const { values: args } = parseArgs({
    options: {
        dist: { type: 'string' },
        data: { type: 'string' },
        salt: { type: 'string', default: 'bench' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
        out: { type: 'string' },
    },
});
if (!args.dist || !args.data) {
    console.error('usage: node trace.mjs --dist DIR --data DIR [--salt TEXT] [--chromium PATH] [--out FILE]');
    process.exit(2);
}

const files = await landingFiles(args.data);
const app = await serveSite(args.dist);
const browser = await chromium.launch({ executablePath: args.chromium, args: CHROMIUM_ARGS });
try {
    const page = await browser.newPage();
    await page.goto(app.url, { waitUntil: 'networkidle' });
    await page.getByTestId('salt').fill(args.salt);
    await page.getByTestId('salt').press('Enter');
    await browser.startTracing(page, {
        categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel', 'blink', 'v8.execute'],
    });
    const t0 = performance.now();
    await page.getByTestId('file-input').setInputFiles(files);
    await resultsShown(page);
    const shownMs = performance.now() - t0;
    const trace = await browser.stopTracing();
    if (args.out) await writeFile(args.out, trace);
    console.log(JSON.stringify({ shown_ms: Math.round(shownMs), threads: threads(JSON.parse(trace)) }));
} finally {
    await browser.close();
    app.server.close();
}

/** Busy time and largest event kinds per thread, busiest first. */
function threads(trace) {
    const events = trace.traceEvents ?? trace;
    const names = new Map();
    for (const e of events) {
        if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args.name);
    }
    const byThread = new Map();
    for (const e of events) {
        if (e.ph !== 'X' || !e.dur) continue;
        const key = `${e.pid}:${e.tid}`;
        const t = byThread.get(key) ?? { busy: 0, kinds: new Map() };
        if (e.name === 'ThreadControllerImpl::RunTask') t.busy += e.dur;
        else t.kinds.set(e.name, (t.kinds.get(e.name) ?? 0) + e.dur);
        byThread.set(key, t);
    }
    const ms = (us) => Math.round(us / 1000);
    return [...byThread]
        .filter(([, t]) => t.busy > 0)
        .sort((a, b) => b[1].busy - a[1].busy)
        .map(([key, t]) => ({
            name: names.get(key) ?? key,
            busy_ms: ms(t.busy),
            top: Object.fromEntries(
                [...t.kinds].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => [k, ms(v)]),
            ),
        }));
}

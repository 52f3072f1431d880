// Where one app run's time goes in the browser, thread by thread: a Chrome trace from
// handing the files to the page until its results are on screen, summed per thread.
//
//   node trace.mjs --dist DIR --data DIR [--salt TEXT] [--chromium PATH] [--out FILE]
//                  [--download] [--profile] [--step MS] [--compile]
//
// Prints one JSON line: {"shown_ms": ..., "threads": [{"name", "busy_ms", "cpu_ms",
// "top"}...]}, busiest first. A thread's busy time is the sum of its top-level tasks; a
// reader blocked reading a file counts as busy, but not in cpu_ms (the thread's own CPU
// time in those tasks). "top" is the thread's largest kinds of trace event (nested ones
// included, so they overlap). "sources" is its busy time by what posted each task (Chromium's
// own names: ScheduledActionSendBeginMainFrame draws a frame, DOMTimer runs a timer,
// FormControlDidChange is the browser's form-filling code looking at the page's form
// controls after one was set). --download also clicks the machine_learning_curated CSV
// download once the results are shown and traces until it starts ("download_ms").
// --profile samples the JavaScript and WebAssembly functions each thread ran (V8's
// profiler, which slows them somewhat) and adds each thread's busiest ones ("functions":
// name and sampled ms; native calls such as reading a file count in the function of the
// app's glue that made them). --out keeps the whole trace for Chrome's performance panel.
// --step MS adds each thread's busy time in steps of MS from its first task on ("steps":
// milliseconds per step), to see which threads work in which phase of the run.
// --compile adds each thread's WebAssembly functions compiled on their first call during
// the run ("compiled_on_first_call": how many, and their milliseconds): the browser
// compiles a function when it is first called, on the thread that calls it.

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
        download: { type: 'boolean', default: false },
        profile: { type: 'boolean', default: false },
        step: { type: 'string' },
        compile: { type: 'boolean', default: false },
    },
});
if (!args.dist || !args.data) {
    console.error(
        'usage: node trace.mjs --dist DIR --data DIR [--salt TEXT] [--chromium PATH] [--out FILE] [--download] [--profile] [--step MS] [--compile]',
    );
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
        categories: [
            'devtools.timeline',
            'disabled-by-default-devtools.timeline',
            'toplevel',
            'blink',
            'v8.execute',
            ...(args.profile ? ['disabled-by-default-v8.cpu_profiler'] : []),
            ...(args.compile ? ['v8.wasm', 'disabled-by-default-v8.wasm.detailed'] : []),
        ],
    });
    const t0 = performance.now();
    await page.getByTestId('file-input').setInputFiles(files);
    await resultsShown(page);
    const shownMs = performance.now() - t0;
    let downloadMs;
    if (args.download) {
        await Promise.all([
            page.waitForEvent('download'),
            page.getByTestId('download-machine_learning_curated-csv').first().click(),
        ]);
        downloadMs = performance.now() - t0;
    }
    const trace = await browser.stopTracing();
    if (args.out) await writeFile(args.out, trace);
    const ms = (t) => (t === undefined ? undefined : Math.round(t));
    console.log(
        JSON.stringify({
            shown_ms: ms(shownMs),
            download_ms: ms(downloadMs),
            threads: threads(JSON.parse(trace), Number(args.step) || 0),
        }),
    );
} finally {
    await browser.close();
    app.server.close();
}

/**
 * Busy time, CPU time, largest event kinds and sampled functions per thread, busiest
 * first; with `stepMs`, also the busy time in each step of that many milliseconds, from
 * the first task of any thread.
 */
function threads(trace, stepMs) {
    const events = trace.traceEvents ?? trace;
    const names = new Map();
    for (const e of events) {
        if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args.name);
    }
    const byThread = new Map();
    const thread = (key) => {
        if (!byThread.has(key)) {
            byThread.set(key, {
                busy: 0,
                cpu: 0,
                kinds: new Map(),
                sources: new Map(),
                functions: new Map(),
                steps: [],
                lazy: { count: 0, us: 0 },
            });
        }
        return byThread.get(key);
    };
    for (const e of events) {
        if (e.ph !== 'X' || !e.dur) continue;
        const t = thread(`${e.pid}:${e.tid}`);
        if (e.name === 'ThreadControllerImpl::RunTask') {
            t.busy += e.dur;
            t.cpu += e.tdur ?? 0;
            const source = e.args?.src_func;
            if (source) t.sources.set(source, (t.sources.get(source) ?? 0) + e.dur);
        } else t.kinds.set(e.name, (t.kinds.get(e.name) ?? 0) + e.dur);
        if (e.name === 'wasm.CompileLazy') {
            t.lazy.count += 1;
            t.lazy.us += e.dur;
        }
    }
    if (stepMs > 0) steps(events, stepMs * 1000, (key) => thread(key).steps);
    sampledFunctions(events, (key, name, us) => {
        const f = thread(key).functions;
        f.set(name, (f.get(name) ?? 0) + us);
    });
    const ms = (us) => Math.round(us / 1000);
    const largest = (map) =>
        Object.fromEntries(
            [...map]
                .sort((a, b) => b[1] - a[1])
                .slice(0, 8)
                .map(([k, v]) => [k, ms(v)]),
        );
    return [...byThread]
        .filter(([, t]) => t.busy > 0)
        .sort((a, b) => b[1].busy - a[1].busy)
        .map(([key, t]) => ({
            name: names.get(key) ?? key,
            busy_ms: ms(t.busy),
            cpu_ms: ms(t.cpu),
            top: largest(t.kinds),
            sources: largest(t.sources),
            ...(t.functions.size ? { functions: largest(t.functions) } : {}),
            ...(stepMs > 0 ? { steps: Array.from(t.steps, (us) => ms(us ?? 0)) } : {}),
            ...(t.lazy.count ? { compiled_on_first_call: { functions: t.lazy.count, ms: ms(t.lazy.us) } } : {}),
        }));
}

/**
 * Each thread's busy microseconds per step of `stepUs`, from the first task of any thread,
 * into the array `of(thread)`: its outermost tasks (a worker's tasks are not all wrapped
 * as the page's are, so both kinds of task event count, the outermost only).
 */
function steps(events, stepUs, of) {
    const tasks = events
        .filter((e) => e.ph === 'X' && e.dur && (e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask'))
        .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    if (!tasks.length) return;
    const start = tasks[0].ts;
    const ends = new Map();
    for (const e of tasks) {
        const key = `${e.pid}:${e.tid}`;
        if (e.ts < (ends.get(key) ?? -Infinity)) continue; // inside a task already counted
        ends.set(key, e.ts + e.dur);
        const out = of(key);
        for (let at = e.ts - start, left = e.dur; left > 0; ) {
            const i = Math.floor(at / stepUs);
            const part = Math.min(left, (i + 1) * stepUs - at);
            out[i] = (out[i] ?? 0) + part;
            at += part;
            left -= part;
        }
    }
}

/**
 * V8's samples (with --profile): calls `add(thread, function, microseconds)` for each, the
 * function being the one running (not its callers). Idle time is left out.
 */
function sampledFunctions(events, add) {
    const profiles = new Map();
    for (const e of events) {
        const id = `${e.pid}:${e.id}`;
        if (e.name === 'Profile') profiles.set(id, { thread: `${e.pid}:${e.tid}`, nodes: new Map() });
        if (e.name !== 'ProfileChunk' || !profiles.has(id)) continue;
        const profile = profiles.get(id);
        const { cpuProfile = {}, timeDeltas = [] } = e.args.data;
        for (const node of cpuProfile.nodes ?? []) profile.nodes.set(node.id, node.callFrame);
        const samples = cpuProfile.samples ?? [];
        samples.forEach((node, i) => {
            const frame = profile.nodes.get(node);
            const name = frame?.functionName || `(${frame?.url?.split('/').pop() || '?'}:${frame?.lineNumber})`;
            // A sample lasts until the next one.
            if (name !== '(idle)') add(profile.thread, name.replace(/::h[0-9a-f]{16}$/, ''), timeDeltas[i + 1] ?? 0);
        });
    }
}

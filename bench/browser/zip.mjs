// Times "Download everything": from a click on the zip button, once a run's results are
// shown, until the download has started, and gives the archive's size. With --baseline, a
// second build of the app is timed in turn with the first (fresh pages, same files).
//
//   node zip.mjs --dist DIR --data DIR [--baseline DIR] [--format csv|jsonl|parquet]
//                [--runs N] [--chromium PATH]
//
// Prints one JSON line per run and the medians.

import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, landingFiles, resultsShown, round, serveSite } from './site.mjs';

const { values: args } = parseArgs({
    options: {
        dist: { type: 'string' },
        baseline: { type: 'string' },
        data: { type: 'string' },
        format: { type: 'string', default: 'csv' },
        runs: { type: 'string', default: '3' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
    },
});
if (!args.dist || !args.data) {
    console.error('usage: node zip.mjs --dist DIR --data DIR [--baseline DIR] [--format F] [--runs N] [--chromium PATH]');
    process.exit(2);
}

const files = await landingFiles(args.data);
const builds = [['app', args.dist], ...(args.baseline ? [['baseline', args.baseline]] : [])];
const sites = await Promise.all(builds.map(([, dir]) => serveSite(dir)));
const browser = await chromium.launch({ executablePath: args.chromium, args: CHROMIUM_ARGS });
const times = Object.fromEntries(builds.map(([name]) => [name, []]));
try {
    for (let run = 0; run < Number(args.runs); run++) {
        for (const [i, [name]] of builds.entries()) {
            const context = await browser.newContext({ acceptDownloads: true });
            const page = await context.newPage();
            await page.goto(sites[i].url);
            await page.getByTestId('file-input').setInputFiles(files);
            await resultsShown(page);
            await page.getByTestId('zip-format').selectOption(args.format);
            const t0 = performance.now();
            const [download] = await Promise.all([
                page.waitForEvent('download', { timeout: 600_000 }),
                page.getByTestId('download-everything').click(),
            ]);
            const ms = performance.now() - t0;
            const bytes = (await stat(await download.path())).size;
            times[name].push(ms);
            console.log(JSON.stringify({ build: name, run, ms: round(ms), bytes }));
            await context.close();
        }
    }
} finally {
    await browser.close();
    for (const { server } of sites) server.close();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, xs] of Object.entries(times)) console.log(JSON.stringify({ build: name, median_ms: round(median(xs)) }));

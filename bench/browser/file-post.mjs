// What the page pays to hand files to a worker: the landing files given to a file input,
// then posted to a worker one message each (as the app does), again one message each,
// and once more in a single message; then each file's size read. One JSON line per page.
//
//   node file-post.mjs --data DIR [--pages N] [--chromium PATH]
//
// The first post of a file is where the browser first looks at it (its size and time, a
// round trip to the browser process); later posts and `size` reuse that look.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, landingFiles, serveSite } from './site.mjs';

const { values: args } = parseArgs({
    options: {
        data: { type: 'string' },
        pages: { type: 'string', default: '3' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
    },
});
if (!args.data) {
    console.error('usage: node file-post.mjs --data DIR [--pages N] [--chromium PATH]');
    process.exit(2);
}

const PAGE = `<!doctype html>
<input type="file" id="files" multiple>
<script>
const worker = new Worker('worker.js');
const ms = (since) => Math.round((performance.now() - since) * 10) / 10;
window.measure = () => {
    const files = [...document.getElementById('files').files];
    const out = { files: files.length };
    let t = performance.now();
    for (const file of files) worker.postMessage({ file });
    out.first_post_each_ms = ms(t);
    t = performance.now();
    for (const file of files) worker.postMessage({ file });
    out.second_post_each_ms = ms(t);
    t = performance.now();
    worker.postMessage({ files });
    out.one_post_all_ms = ms(t);
    t = performance.now();
    let bytes = 0;
    for (const file of files) bytes += file.size;
    out.sizes_after_ms = ms(t);
    out.bytes = bytes;
    return out;
};
</script>
`;

const files = await landingFiles(args.data);
const dir = await mkdtemp(join(tmpdir(), 'stedi-file-post-'));
await writeFile(join(dir, 'index.html'), PAGE);
await writeFile(join(dir, 'worker.js'), 'onmessage = () => {};\n');
const site = await serveSite(dir);
const browser = await chromium.launch({ executablePath: args.chromium, args: CHROMIUM_ARGS });
try {
    for (let i = 0; i < Number(args.pages); i++) {
        const page = await browser.newPage();
        await page.goto(site.url);
        await page.setInputFiles('#files', files);
        console.log(JSON.stringify(await page.evaluate(() => window.measure())));
        await page.close();
    }
} finally {
    await browser.close();
    site.server.close();
    await rm(dir, { recursive: true, force: true });
}

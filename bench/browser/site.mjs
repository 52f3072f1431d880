// What the browser benches share: serving the built app, finding the landing files, and
// how Chromium is started.

import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

/** Chromium's flags: headless, and nothing that reaches the network on its own. */
export const CHROMIUM_ARGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
];

const MIME = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.wasm': 'application/wasm',
    '.svg': 'image/svg+xml',
    '.json': 'application/json',
    '.webmanifest': 'application/manifest+json',
};

/** Serves a built site from its root on 127.0.0.1; resolves to { server, url }. */
export function serveSite(dir) {
    const root = resolve(dir);
    const server = createServer(async (req, res) => {
        let path = normalize(join(root, decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname)));
        if (path !== root && !path.startsWith(root + sep)) {
            res.writeHead(403).end();
            return;
        }
        try {
            if ((await stat(path)).isDirectory()) path = join(path, 'index.html');
            const body = await readFile(path);
            res.writeHead(200, {
                'content-type': MIME[extname(path)] ?? 'application/octet-stream',
                'cache-control': 'no-store',
            });
            res.end(body);
        } catch {
            res.writeHead(404).end('not found');
        }
    });
    return new Promise((ok, fail) => {
        server.once('error', fail);
        server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${server.address().port}/` }));
    });
}

/** The landing files both sides read: what the DuckDB-wasm harness accepts, sorted. */
export async function landingFiles(dir) {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
        .filter((e) => e.isFile() && /\.(json|jsonl|ndjson)$/i.test(e.name))
        .map((e) => join(e.parentPath ?? e.path, e.name))
        .sort();
}


/**
 * Resolves when the app's results are on screen (its featured dataset visible, no
 * progress bar left). Checked whenever the page changes, from a MutationObserver: a
 * check on every animation frame would make the page draw a frame each time, taking the
 * cores the app's readers need, and Playwright's own waits poll every 500 ms at last.
 */
export function resultsShown(page) {
    return page.evaluate(
        () =>
            new Promise((resolve) => {
                const visible = (el) => {
                    const box = el.getBoundingClientRect();
                    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';
                };
                const all = (id) => [...document.querySelectorAll(`[data-testid=${id}]`)];
                const shown = () => all('featured').some(visible) && !all('progress').some(visible);
                if (shown()) return resolve();
                const watch = new MutationObserver(() => {
                    if (shown()) {
                        watch.disconnect();
                        resolve();
                    }
                });
                watch.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
            }),
    );
}

/**
 * The steps the bench times on a page: from handing `files` to the file input
 * (`data-testid=file-input`) until the results are shown, then a click on `download`
 * until its download starts. Resolves to { ms, shown_ms, download } (the Playwright
 * download, for its bytes).
 */
export async function timeToDownload(page, files, download) {
    let t1;
    const t0 = performance.now();
    await page.getByTestId('file-input').setInputFiles(files);
    await resultsShown(page);
    const shown = performance.now();
    const started = page.waitForEvent('download').then((d) => {
        t1 = performance.now();
        return d;
    });
    await page.getByTestId(download).first().click();
    const d = await started;
    return { ms: t1 - t0, shown_ms: shown - t0, download: d };
}

/** Milliseconds to one decimal, as the bench scripts print them. */
export const round = (ms) => Math.round(ms * 10) / 10;

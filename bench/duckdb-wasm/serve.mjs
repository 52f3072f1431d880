// A tiny static server for the DuckDB-wasm harness, on 127.0.0.1 only.
//
//   node serve.mjs [--port 8787]
//
// Serves index.html and bench.js from this folder, the shared SQL from ../duckdb,
// and from node_modules only what the page loads: the duckdb-wasm dist (worker,
// .wasm) and the ES modules of apache-arrow and its two dependencies.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

const MOUNTS = [
    ['/sql/', join(here, '..', 'duckdb')],
    ['/node_modules/@duckdb/duckdb-wasm/dist/', join(here, 'node_modules/@duckdb/duckdb-wasm/dist')],
    ['/node_modules/apache-arrow/', join(here, 'node_modules/apache-arrow')],
    ['/node_modules/flatbuffers/', join(here, 'node_modules/flatbuffers')],
    ['/node_modules/tslib/', join(here, 'node_modules/tslib')],
];
const PAGES = { '/': 'index.html', '/index.html': 'index.html', '/bench.js': 'bench.js' };

const MIME = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.mjs': 'text/javascript; charset=utf-8',
    '.wasm': 'application/wasm',
    '.sql': 'text/plain; charset=utf-8',
    '.json': 'application/json',
    '.map': 'application/json',
};

function resolve(urlPath) {
    if (PAGES[urlPath]) return join(here, PAGES[urlPath]);
    for (const [prefix, root] of MOUNTS) {
        if (!urlPath.startsWith(prefix)) continue;
        const file = normalize(join(root, urlPath.slice(prefix.length)));
        return file.startsWith(root + sep) ? file : null;
    }
    return null;
}

/** Starts the server; resolves to { server, url } once it listens. Port 0 picks a free one. */
export function startServer(port = 8787) {
    const server = createServer(async (req, res) => {
        const urlPath = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
        const file = resolve(urlPath);
        const info = file && (await stat(file).catch(() => null));
        if (!info || !info.isFile()) {
            res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
            return;
        }
        res.writeHead(200, {
            'content-type': MIME[extname(file)] ?? 'application/octet-stream',
            'content-length': info.size,
            'cache-control': 'no-store',
        });
        createReadStream(file).pipe(res);
    });
    return new Promise((ok, fail) => {
        server.once('error', fail);
        server.listen(port, '127.0.0.1', () => {
            ok({ server, url: `http://127.0.0.1:${server.address().port}/` });
        });
    });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const i = process.argv.indexOf('--port');
    const { url } = await startServer(i > 0 ? Number(process.argv[i + 1]) : 8787);
    console.log(`serving the DuckDB-wasm harness at ${url}`);
}

// The STEDI zone rules in DuckDB-wasm (eh bundle), for comparison with the stedi app.
//
// window.runDuckdb(files, preset, { salt, policy }) -> { wall_ms, counts, phases_ms,
//     ml_bytes_length, ml_sha256, peak_memory_bytes, peak_memory_source, ... }
// The clock runs from the hand-over of the File objects to the ML CSV bytes being
// back on the page; starting DuckDB and fetching rules.sql happen before, at load.
//
// DuckDB-wasm ships without its json extension and cannot fetch it offline, so
// read_json is out: the landing tables (names and types of ../duckdb/schema.sql)
// are built by duckdb-wasm's own JSON importer (insertJSONFromPath), and then
// ../duckdb/rules.sql runs unchanged. The importer reads a JSON array of rows, so
// JSON Lines are framed as one first (a byte copy, timed with the rest).

import * as duckdb from '/node_modules/@duckdb/duckdb-wasm/dist/duckdb-browser.mjs';
import * as arrow from 'apache-arrow';

const DIST = new URL('/node_modules/@duckdb/duckdb-wasm/dist/', location.href).href;

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

const PRESETS = {
    strict: { consent_time: 'enforce', ml_join: 'device', pii: 'pseudonymize' },
    rubric: { consent_time: 'ignore', ml_join: 'timestamp', pii: 'keep' },
};

// SPEC section 2: identifying keys (case-insensitive), then the fields and types.
const SOURCES = {
    customer: {
        keys: ['email', 'serialnumber'],
        required: ['email', 'serialNumber'],
        columns: {
            customerName: new arrow.Utf8(),
            email: new arrow.Utf8(),
            phone: new arrow.Utf8(),
            birthDay: new arrow.Utf8(),
            serialNumber: new arrow.Utf8(),
            registrationDate: new arrow.Int64(),
            lastUpdateDate: new arrow.Int64(),
            shareWithResearchAsOfDate: new arrow.Int64(),
            shareWithPublicAsOfDate: new arrow.Int64(),
            shareWithFriendsAsOfDate: new arrow.Int64(),
        },
    },
    step_trainer: {
        keys: ['sensorreadingtime', 'serialnumber'],
        required: ['sensorReadingTime', 'serialNumber', 'distanceFromObject'],
        columns: {
            sensorReadingTime: new arrow.Int64(),
            serialNumber: new arrow.Utf8(),
            distanceFromObject: new arrow.Int64(),
        },
    },
    accelerometer: {
        keys: ['user', 'timestamp'],
        required: ['user', 'timestamp', 'x', 'y', 'z'],
        columns: {
            user: new arrow.Utf8(),
            timestamp: new arrow.Int64(),
            x: new arrow.Float64(),
            y: new arrow.Float64(),
            z: new arrow.Float64(),
        },
    },
};

// The worker is wrapped so the page can ask it for the size of DuckDB's
// WebAssembly memory. Linear memory only grows, so its size after a run is the
// run's high-water mark (for the first run in a page).
const WORKER_SOURCE = `
const memories = new Set();
// The module imports a memory it creates itself; catch exported ones too.
WebAssembly.Memory = new Proxy(WebAssembly.Memory, {
    construct(target, args, newTarget) {
        const memory = Reflect.construct(target, args, newTarget);
        memories.add(memory);
        return memory;
    },
});
const keep = (result) => {
    const instance = result instanceof WebAssembly.Instance ? result : result.instance;
    for (const value of Object.values(instance?.exports ?? {})) {
        if (value instanceof WebAssembly.Memory) memories.add(value);
    }
    return result;
};
const instantiate = WebAssembly.instantiate;
const instantiateStreaming = WebAssembly.instantiateStreaming;
WebAssembly.instantiate = (...args) => instantiate.apply(WebAssembly, args).then(keep);
if (instantiateStreaming) {
    WebAssembly.instantiateStreaming = (...args) =>
        instantiateStreaming.apply(WebAssembly, args).then(keep);
}
self.addEventListener('message', (event) => {
    const port = event.data?.wasmMemoryProbe;
    if (!port) return;
    event.stopImmediatePropagation();
    port.postMessage([...memories].reduce((sum, m) => sum + m.buffer.byteLength, 0));
});
importScripts(${JSON.stringify(DIST + 'duckdb-browser-eh.worker.js')});
`;

async function startDuckdb() {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    const worker = new Worker(url);
    const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
    await db.instantiate(DIST + 'duckdb-eh.wasm');
    URL.revokeObjectURL(url);
    const text = (name) => fetch(`/sql/${name}`).then((r) => r.text());
    return { db, worker, rules: await text('rules.sql'), version: await db.getVersion() };
}

const ready = startDuckdb();

function wasmMemoryBytes(worker) {
    const channel = new MessageChannel();
    const reply = new Promise((ok) => (channel.port1.onmessage = (e) => ok(e.data)));
    worker.postMessage({ wasmMemoryProbe: channel.port2 }, [channel.port2]);
    return reply;
}

const isSpace = (b) => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;

/** The first record's source, from its keys (or null). */
async function detectSource(file) {
    const head = new Uint8Array(await file.slice(0, 64 * 1024).arrayBuffer());
    const text = new TextDecoder().decode(head).replace(/^\uFEFF/, '');
    const line = text.split('\n').find((l) => l.trim() !== '');
    let record;
    try {
        record = JSON.parse(line);
    } catch {
        return null;
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) return null;
    const keys = new Set(Object.keys(record).map((k) => k.toLowerCase()));
    for (const [source, spec] of Object.entries(SOURCES)) {
        if (spec.keys.every((k) => keys.has(k))) return source;
    }
    return null;
}

/** JSON Lines files as one JSON array: '[' rec ',' rec ... ']', blank lines skipped. */
function framedAsArray(parts) {
    const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0) + 2);
    let n = 0;
    out[n++] = 0x5b; // [
    for (const bytes of parts) {
        let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
        while (start < bytes.length) {
            let end = bytes.indexOf(0x0a, start);
            if (end < 0) end = bytes.length;
            let first = start;
            while (first < end && isSpace(bytes[first])) first++;
            if (first < end) {
                if (n > 1) out[n++] = 0x2c; // ,
                out.set(bytes.subarray(first, end), n);
                n += end - first;
            }
            start = end + 1;
        }
    }
    out[n++] = 0x5d; // ]
    return out.subarray(0, n);
}

/** RFC 2104 inner and outer keys of HMAC-SHA256 for salt, as hex. */
async function hmacPads(salt) {
    let key = new TextEncoder().encode(salt);
    if (key.length > 64) key = new Uint8Array(await crypto.subtle.digest('SHA-256', key));
    const hex = (pad) =>
        Array.from({ length: 64 }, (_, i) => ((key[i] ?? 0) ^ pad).toString(16).padStart(2, '0')).join('');
    return [hex(0x36), hex(0x5c)];
}

async function sha256Hex(bytes) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

const sqlString = (value) => `'${String(value).replaceAll("'", "''")}'`;

async function runDuckdb(files, preset = 'strict', options = {}) {
    if (!PRESETS[preset]) throw new Error(`unknown preset ${preset}: use strict or rubric`);
    const policy = { ...PRESETS[preset], ...(options.policy ?? {}) };
    const salt =
        options.salt ??
        Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    const [ipad, opad] = await hmacPads(salt);
    const { db, worker, rules, version } = await ready;

    const started = performance.now();
    const phases_ms = {};
    let last = started;
    const mark = (phase) => {
        const now = performance.now();
        phases_ms[phase] = Math.round(now - last);
        last = now;
    };
    const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const bySource = { customer: [], accelerometer: [], step_trainer: [] };
    for (const file of sorted) {
        const source = await detectSource(file);
        if (source) bySource[source].push(file);
    }
    const missing = Object.keys(bySource).filter((s) => bySource[s].length === 0);
    if (missing.length) throw new Error(`no ${missing.join(', ')} files among the inputs`);

    const conn = await db.connect();
    mark('detect');
    for (const zone of [...ZONES, 'customer_current']) await conn.query(`DROP TABLE IF EXISTS ${zone}`);
    await conn.query('DROP VIEW IF EXISTS machine_learning_output; DROP MACRO IF EXISTS pseudonym');
    for (const [knob, value] of Object.entries(policy)) {
        await conn.query(`SET VARIABLE ${knob} = ${sqlString(value)}`);
    }
    await conn.query(`SET VARIABLE hmac_ipad = unhex('${ipad}')`);
    await conn.query(`SET VARIABLE hmac_opad = unhex('${opad}')`);

    // Each source's files, in processing order, framed as one JSON array and
    // imported in one go (one call per file costs about a third more time), so
    // rowid is the processing order. The importer creates the table, columns in
    // name order, with the types given. A record lacking a required field is
    // quarantined by stedi, never in landing; deleting keeps the other rowids.
    for (const [source, list] of Object.entries(bySource)) {
        const spec = SOURCES[source];
        const parts = await Promise.all(list.map(async (f) => new Uint8Array(await f.arrayBuffer())));
        const name = `${source}.json`;
        await db.registerFileBuffer(name, framedAsArray(parts));
        await conn.insertJSONFromPath(name, { name: `${source}_landing`, columns: spec.columns });
        await db.dropFile(name);
        const lacking = spec.required.map((c) => `"${c}" IS NULL`).join(' OR ');
        await conn.query(`DELETE FROM ${source}_landing WHERE ${lacking}`);
    }

    mark('landing');
    await conn.query(rules);
    mark('rules');
    const mlSource =
        policy.pii === 'drop'
            ? '(SELECT * EXCLUDE ("user", serialNumber) FROM machine_learning_output)'
            : 'machine_learning_output';
    await conn.query(`COPY ${mlSource} TO 'machine_learning_curated.csv' (FORMAT csv, HEADER)`);
    const ml = await db.copyFileToBuffer('machine_learning_curated.csv');
    const wall_ms = performance.now() - started;
    mark('output');

    const peak_memory_bytes = await wasmMemoryBytes(worker);
    const counts = {};
    for (const zone of ZONES) {
        const table = await conn.query(`SELECT count(*)::INTEGER AS n FROM ${zone}`);
        counts[zone] = table.getChildAt(0).get(0);
    }
    await db.dropFile('machine_learning_curated.csv');
    await conn.close();
    return {
        wall_ms: Math.round(wall_ms * 10) / 10,
        counts,
        phases_ms,
        ml_bytes_length: ml.length,
        ml_sha256: await sha256Hex(ml),
        peak_memory_bytes,
        peak_memory_source: 'size of the duckdb worker\'s WebAssembly.Memory after the run (linear memory never shrinks)',
        js_heap_used_bytes: performance.memory?.usedJSHeapSize ?? null,
        policy,
        duckdb: version,
        input_files: sorted.length,
    };
}

window.runDuckdb = runDuckdb;

// Manual use: pick files, press Run.
const input = document.querySelector('[data-testid=files]');
const button = document.querySelector('[data-testid=run]');
const output = document.querySelector('[data-testid=result]');
ready.then(
    ({ version }) => {
        button.disabled = false;
        document.body.dataset.ready = version;
    },
    (error) => (output.textContent = `DuckDB-wasm failed to start: ${error}`),
);
button.addEventListener('click', async () => {
    output.textContent = 'running...';
    const preset = document.querySelector('[data-testid=preset]').value;
    try {
        output.textContent = JSON.stringify(await runDuckdb(input.files, preset), null, 2);
    } catch (error) {
        output.textContent = String(error);
    }
});

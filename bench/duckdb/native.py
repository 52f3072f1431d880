"""Run the STEDI zone rules in native DuckDB and time them.

Usage:
    python native.py --data DIR --preset strict|rubric --threads N --out FILE
                     [--consent-time enforce|ignore] [--ml-join device|timestamp]
                     [--pii keep|pseudonymize|drop] [--salt TEXT] [--all-zones]

DIR is searched recursively for .json, .jsonl and .ndjson files (optionally .gz);
each file's source is detected from the keys of its first record, as stedi does.
FILE gets machine_learning_curated as JSON Lines (.jsonl/.json), CSV with a header
(.csv) or Parquet (.parquet); with --all-zones every other zone is written beside it
in the same format and in processing order, as `stedi run` writes them. Prints one
JSON line:
    {"wall_ms": ..., "counts": {"customer_landing": ..., ...}, ...}
wall_ms runs from input discovery (just before connect) to the output file written.
"""

import argparse
import gzip
import hashlib
import json
import os
import secrets
import sys
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent

ZONES = [
    "customer_landing",
    "accelerometer_landing",
    "step_trainer_landing",
    "customer_trusted",
    "accelerometer_trusted",
    "customer_curated",
    "step_trainer_trusted",
    "machine_learning_curated",
]

PRESETS = {
    "strict": {"consent_time": "enforce", "ml_join": "device", "pii": "pseudonymize"},
    "rubric": {"consent_time": "ignore", "ml_join": "timestamp", "pii": "keep"},
}

# SPEC section 2: identifying keys of each source, compared case-insensitively.
SOURCE_KEYS = {
    "customer": {"email", "serialnumber"},
    "accelerometer": {"user", "timestamp"},
    "step_trainer": {"sensorreadingtime", "serialnumber"},
}

INPUT_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")

OUTPUT_FORMATS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


def detect_source(path):
    """The source whose identifying keys the file's first record has, or None."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                return None
            if not isinstance(record, dict):
                return None
            keys = {k.lower() for k in record}
            for source in ("customer", "step_trainer", "accelerometer"):
                if SOURCE_KEYS[source] <= keys:
                    return source
            return None
    return None


def find_inputs(data_dir):
    """Files of each source, in processing order (file name, then path)."""
    files = {source: [] for source in SOURCE_KEYS}
    for path in sorted(Path(data_dir).rglob("*"), key=lambda p: (p.name, str(p))):
        if path.is_file() and path.name.lower().endswith(INPUT_SUFFIXES):
            source = detect_source(path)
            if source:
                files[source].append(str(path))
    return files


def hmac_pads(salt):
    """The HMAC-SHA256 inner and outer keys for salt (RFC 2104)."""
    key = salt.encode("utf-8")
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def run(args):
    policy = dict(PRESETS[args.preset])
    for knob in ("consent_time", "ml_join", "pii"):
        if getattr(args, knob):
            policy[knob] = getattr(args, knob)
    out = Path(args.out)
    fmt = OUTPUT_FORMATS.get(out.suffix.lower())
    if fmt is None:
        sys.exit(f"--out must end in one of {', '.join(OUTPUT_FORMATS)}")
    ipad, opad = hmac_pads(args.salt or secrets.token_hex(16))

    started = time.perf_counter()
    files = find_inputs(args.data)
    missing = [source for source, found in files.items() if not found]
    if missing:
        sys.exit(f"no {', '.join(missing)} files found under {args.data}")

    con = duckdb.connect()
    con.execute(f"SET threads = {int(args.threads)}")
    for source, found in files.items():
        con.execute(f"SET VARIABLE {source}_files = ?", [found])
    for knob, value in policy.items():
        con.execute(f"SET VARIABLE {knob} = ?", [value])
    con.execute(f"SET VARIABLE hmac_ipad = unhex('{ipad.hex()}')")
    con.execute(f"SET VARIABLE hmac_opad = unhex('{opad.hex()}')")

    for script in ("schema.sql", "landing.sql", "rules.sql"):
        con.execute((HERE / script).read_text())

    source = "machine_learning_output"
    if policy["pii"] == "drop":
        source = '(SELECT * EXCLUDE ("user", serialNumber) FROM machine_learning_output)'
    out.parent.mkdir(parents=True, exist_ok=True)
    target = str(out).replace("'", "''")
    con.execute(f"COPY {source} TO '{target}' (FORMAT {fmt})")
    if args.all_zones:
        for zone in ZONES[:-1]:
            landing = zone.endswith("_landing")
            query = (
                f"SELECT * FROM {zone} ORDER BY rowid"
                if landing
                else f"SELECT * EXCLUDE (ord) FROM {zone} ORDER BY ord"
            )
            path = str(out.parent / f"{zone}{out.suffix}").replace("'", "''")
            con.execute(f"COPY ({query}) TO '{path}' (FORMAT {fmt})")
    wall_ms = (time.perf_counter() - started) * 1000

    counts = {zone: con.execute(f"SELECT count(*) FROM {zone}").fetchone()[0] for zone in ZONES}
    version = con.execute("SELECT version()").fetchone()[0]
    con.close()
    return {
        "wall_ms": round(wall_ms, 1),
        "counts": counts,
        "policy": policy,
        "threads": int(args.threads),
        "duckdb": version,
        "ml_bytes_length": os.path.getsize(out),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="landing folder (searched recursively)")
    parser.add_argument("--preset", choices=PRESETS, default="strict")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--out", required=True, help="machine_learning_curated file")
    parser.add_argument("--consent-time", choices=["enforce", "ignore"])
    parser.add_argument("--ml-join", choices=["device", "timestamp"])
    parser.add_argument("--pii", choices=["keep", "pseudonymize", "drop"])
    parser.add_argument("--salt", help="pseudonym secret; random if not given")
    parser.add_argument(
        "--all-zones", action="store_true", help="write the other seven zones beside --out"
    )
    print(json.dumps(run(parser.parse_args())))


if __name__ == "__main__":
    main()

"""Check the DuckDB runs against stedi: zone counts and machine_learning_curated bytes.

Usage:
    python compare.py --data DIR [--stedi target/release/stedi] [--no-wasm]

For each preset, runs `stedi run` (CSV, fixed salt) and reads its audit.json, then
native.py and (unless --no-wasm) ../duckdb-wasm/run.mjs with the same salt, and
compares every zone's row count and the ML file's SHA-256. Exit 1 on a mismatch.
"""

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SALT = "bench-compare"


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run_json(cmd, cwd=None):
    out = subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--stedi", default=str(HERE.parents[1] / "target/release/stedi"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-wasm", action="store_true")
    args = parser.parse_args()

    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for preset in ("strict", "rubric"):
            ref_dir = Path(tmp) / f"stedi-{preset}"
            subprocess.run(
                [args.stedi, "run", "--preset", preset, "--salt", SALT, "--format", "csv",
                 "--out", str(ref_dir), args.data],
                check=True, capture_output=True,
            )
            audit = json.loads((ref_dir / "audit.json").read_text())
            expected = {zone: v["rows"] for zone, v in audit["zones"].items()}
            ref_ml = sha256(ref_dir / "machine_learning_curated.csv")

            runs = {}
            native_out = Path(tmp) / f"native-{preset}.csv"
            runs["native"] = run_json(
                [sys.executable, str(HERE / "native.py"), "--data", args.data, "--preset", preset,
                 "--threads", str(args.threads), "--salt", SALT, "--out", str(native_out)]
            )
            runs["native"]["ml_sha256"] = sha256(native_out)
            if not args.no_wasm:
                runs["wasm"] = run_json(
                    ["node", "run.mjs", "--data", args.data, "--preset", preset, "--salt", SALT],
                    cwd=HERE.parent / "duckdb-wasm",
                )

            for name, result in runs.items():
                diffs = {z: (n, result["counts"].get(z)) for z, n in expected.items()
                         if result["counts"].get(z) != n}
                same_ml = result["ml_sha256"] == ref_ml
                ok = ok and not diffs and same_ml
                print(f"{preset:7} {name:7} counts {'equal' if not diffs else diffs}; "
                      f"ML csv {'identical' if same_ml else 'DIFFERENT'}; "
                      f"wall {result['wall_ms']} ms")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

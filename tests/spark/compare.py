"""Parity of the exported Spark job with `stedi run`: every zone, and the quarantine, as
multisets of rows, and the row counts (checked against the SPEC's reference table where
one is given).

    compare.py --case LABEL STEDI_DIR SPARK_DIR EXPECTED [--case ...]

STEDI_DIR holds `stedi run --format jsonl` output (zones, quarantine.jsonl, audit.json);
SPARK_DIR the job's output (one Parquet folder per zone, and quarantine/). EXPECTED is
eight comma-separated row counts in zone order, or '-' when there is no reference.
Exits 1 and shows the differing rows when any zone differs.
"""

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from pyspark.sql import SparkSession

CUSTOMER = [
    ("customerName", "string"),
    ("email", "string"),
    ("phone", "string"),
    ("birthDay", "string"),
    ("serialNumber", "string"),
    ("registrationDate", "bigint"),
    ("lastUpdateDate", "bigint"),
    ("shareWithResearchAsOfDate", "bigint"),
    ("shareWithPublicAsOfDate", "bigint"),
    ("shareWithFriendsAsOfDate", "bigint"),
]
ACCELEROMETER = [
    ("user", "string"),
    ("timestamp", "bigint"),
    ("x", "double"),
    ("y", "double"),
    ("z", "double"),
]
STEP_TRAINER = [
    ("sensorReadingTime", "bigint"),
    ("serialNumber", "string"),
    ("distanceFromObject", "bigint"),
]
ZONES = {
    "customer_landing": CUSTOMER,
    "accelerometer_landing": ACCELEROMETER,
    "step_trainer_landing": STEP_TRAINER,
    "customer_trusted": CUSTOMER,
    "accelerometer_trusted": ACCELEROMETER,
    "customer_curated": CUSTOMER,
    "step_trainer_trusted": STEP_TRAINER,
    "machine_learning_curated": STEP_TRAINER + ACCELEROMETER,
}
QUARANTINE = ["file", "line", "source", "reason", "raw"]
# Where serde_json and Python's json module stop in broken JSON, and what they call the
# problem, differ: such records compare as unreadable, not by their reasons.
NOT_A_NUMBER = "invalid JSON: NaN and Infinity are not JSON numbers; write null or a number"
CUT_RECORD = "the file ends inside this record: it looks truncated"


def zone_columns(zone, pii):
    columns = ZONES[zone]
    if zone == "machine_learning_curated" and pii == "drop":
        columns = [c for c in columns if c[0] not in ("user", "serialNumber")]
    return columns


def stedi_rows(path, names):
    rows = Counter()
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            extra = set(record) - set(names)
            if extra:
                raise SystemExit(f"{path}: unexpected columns {sorted(extra)}")
            # The JSON Lines writer leaves null values out.
            rows[tuple(record.get(name) for name in names)] += 1
    return rows


def spark_rows(spark, path, columns):
    frame = spark.read.parquet(str(path))
    schema = [(f.name, f.dataType.simpleString()) for f in frame.schema.fields]
    if schema != columns:
        return None, f"schema {schema}, expected {columns}"
    return Counter(tuple(row) for row in frame.collect()), None


def quarantine_key(row):
    file, line, source, reason, raw = row
    parser_worded = reason.startswith("invalid JSON:") and reason != NOT_A_NUMBER
    if parser_worded or reason == CUT_RECORD:
        reason = "(unreadable JSON)"
    return (file, line, source, reason, raw)


def show(label, rows, limit=5):
    lines = [f"    {label}: {sum(rows.values())} rows"]
    for row, n in list(rows.items())[:limit]:
        lines.append(f"      {n} x {row}")
    return "\n".join(lines)


def compare_case(spark, label, stedi_dir, spark_dir, expected):
    stedi_dir, spark_dir = Path(stedi_dir), Path(spark_dir)
    audit = json.loads((stedi_dir / "audit.json").read_text(encoding="utf-8"))
    pii = audit["policy"]["pii"]
    failures = []
    print(f"{label}: policy {audit['policy']['preset']} ({pii} PII)")
    print(f"  {'zone':<26} {'stedi':>8} {'spark':>8} {'SPEC':>8}")
    for i, zone in enumerate(ZONES):
        columns = zone_columns(zone, pii)
        names = [name for name, _ in columns]
        ours = stedi_rows(stedi_dir / f"{zone}.jsonl", names)
        theirs, problem = spark_rows(spark, spark_dir / zone, columns)
        reference = expected[i] if expected else None
        spark_count = sum(theirs.values()) if theirs is not None else "?"
        print(
            f"  {zone:<26} {sum(ours.values()):>8} {spark_count:>8} "
            f"{reference if reference is not None else '-':>8}"
        )
        if problem:
            failures.append(f"  {zone}: {problem}")
            continue
        if ours != theirs:
            failures.append(
                f"  {zone}: the rows differ\n"
                + show("only in stedi", ours - theirs)
                + "\n"
                + show("only in spark", theirs - ours)
            )
        if reference is not None and sum(theirs.values()) != reference:
            failures.append(
                f"  {zone}: spark has {sum(theirs.values())} rows, "
                f"the SPEC says {reference}"
            )

    ours = Counter()
    with open(stedi_dir / "quarantine.jsonl", encoding="utf-8") as lines:
        for line in lines:
            q = json.loads(line)
            ours[quarantine_key(tuple(q.get(k) for k in QUARANTINE))] += 1
    frame = spark.read.parquet(str(spark_dir / "quarantine"))
    theirs = Counter(
        quarantine_key(tuple(row[k] for k in QUARANTINE)) for row in frame.collect()
    )
    print(f"  {'quarantine':<26} {sum(ours.values()):>8} {sum(theirs.values()):>8}")
    if ours != theirs:
        failures.append(
            "  quarantine: the records differ\n"
            + show("only in stedi", ours - theirs)
            + "\n"
            + show("only in spark", theirs - ours)
        )
    return failures


def expected_counts(text, parser):
    if text == "-":
        return None
    try:
        counts = [int(n) for n in text.split(",")]
    except ValueError:
        counts = []
    if len(counts) != len(ZONES):
        parser.error(
            f"EXPECTED must be {len(ZONES)} comma-separated counts or '-', not {text!r}"
        )
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--case",
        nargs=4,
        action="append",
        required=True,
        metavar=("LABEL", "STEDI_DIR", "SPARK_DIR", "EXPECTED"),
    )
    args = parser.parse_args()
    cases = [(label, a, b, expected_counts(e, parser)) for label, a, b, e in args.case]
    spark = (
        SparkSession.builder.appName("stedi-parity")
        .master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    failed = []
    for label, stedi_dir, spark_dir, expected in cases:
        failures = compare_case(spark, label, stedi_dir, spark_dir, expected)
        if failures:
            failed.append(f"{label}:\n" + "\n".join(failures))
    spark.stop()
    if failed:
        print("\nPARITY FAILED\n" + "\n".join(failed), file=sys.stderr)
        sys.exit(1)
    print(f"parity: all {len(cases)} cases match")


if __name__ == "__main__":
    main()

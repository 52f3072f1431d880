//! `stedi export-spark`: the job, the Athena tables and the instructions, never the salt.

use crate::util::{arg, stedi, stedi_ok};
use std::fs;

const FILES: [&str; 3] = ["stedi_job.py", "athena.sql", "README.md"];

#[test]
fn export_spark_writes_the_job_the_tables_and_the_readme() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("spark");
    let printed = stedi_ok(&["export-spark", "--out", arg(&out)]);
    for name in FILES {
        let text = fs::read_to_string(out.join(name)).unwrap_or_else(|_| panic!("{name}"));
        assert!(!text.is_empty(), "{name} is empty");
    }
    assert!(printed.contains("policy: strict"), "{printed}");
    assert!(printed.contains("--salt TEXT"), "{printed}");
    let sql = fs::read_to_string(out.join("athena.sql")).unwrap();
    assert_eq!(sql.matches("CREATE EXTERNAL TABLE").count(), 9, "{sql}");
}

#[test]
fn knob_flags_override_the_preset_in_the_exported_job() {
    let dir = tempfile::tempdir().unwrap();
    let printed = stedi_ok(&[
        "export-spark",
        "--preset",
        "rubric",
        "--pii",
        "drop",
        "--out",
        arg(dir.path()),
    ]);
    assert!(
        printed.contains("custom (consent time ignore, ML join timestamp, PII drop)"),
        "{printed}"
    );
    assert!(!printed.contains("--salt"), "no salt to give: {printed}");
    let job = fs::read_to_string(dir.path().join("stedi_job.py")).unwrap();
    for line in [
        r#""consent_time": "ignore","#,
        r#""ml_join": "timestamp","#,
        r#""pii": "drop","#,
    ] {
        assert!(job.contains(line), "the job lacks {line}");
    }
    let sql = fs::read_to_string(dir.path().join("athena.sql")).unwrap();
    let ml = sql
        .split("stedi.machine_learning_curated (")
        .nth(1)
        .unwrap();
    assert!(!ml.split(')').next().unwrap().contains("`user`"));
}

#[test]
fn a_salt_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("spark");
    let secret = "do-not-embed-7f3a";
    let result = stedi(&["export-spark", "--salt", secret, "--out", arg(&out)]);
    assert_eq!(result.status.code(), Some(2));
    let err = String::from_utf8_lossy(&result.stderr);
    assert!(
        err.contains("never writes the salt") && err.contains("--salt TEXT"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written when the salt is refused");
}

#[test]
fn a_bad_knob_is_a_usage_error_for_export_spark_too() {
    let dir = tempfile::tempdir().unwrap();
    let result = stedi(&[
        "export-spark",
        "--ml-join",
        "email",
        "--out",
        arg(dir.path()),
    ]);
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("device, timestamp"));
}

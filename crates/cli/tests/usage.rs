//! Exit codes and messages a user can act on.

use crate::util::{arg, stedi, stedi_ok};

#[test]
fn a_bad_knob_value_is_a_usage_error_that_lists_the_choices() {
    let out = stedi(&["run", "--pii", "hash", "--out", "x", "y"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("keep, pseudonymize, drop"), "{err}");
}

#[test]
fn a_missing_path_exits_1_and_names_it() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = stedi(&["run", "--out", arg(out_dir.path()), "/no/such/landing"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/no/such/landing") && err.contains("exists"),
        "{err}"
    );
}

#[test]
fn a_folder_without_json_exits_1_and_says_what_to_pass() {
    let empty = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let out = stedi(&["run", "--out", arg(out_dir.path()), arg(empty.path())]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no input files found"));
}

#[test]
fn quarantined_records_still_exit_0_and_are_written_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("steps.json");
    std::fs::write(
        &file,
        "{\"sensorReadingTime\":1,\"serialNumber\":\"s\",\"distanceFromObject\":2}\n{\"sensorReadingTime\":\"x\"\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let printed = stedi_ok(&["run", "--out", arg(out.path()), arg(&file)]);
    assert!(printed.contains("1 quarantined"), "{printed}");
    let q = std::fs::read_to_string(out.path().join("quarantine.jsonl")).unwrap();
    let q: serde_json::Value = serde_json::from_str(q.lines().next().unwrap()).unwrap();
    assert_eq!(q["file"], "steps.json");
    assert_eq!(q["line"], 2);
    assert_eq!(q["source"], "step_trainer");
}

#[test]
fn gen_writes_a_course_shaped_landing_set() {
    let dir = tempfile::tempdir().unwrap();
    let printed = stedi_ok(&["gen", "--scale", "1", "--out", arg(dir.path())]);
    assert!(printed.contains("wrote"), "{printed}");
    for source in ["customer", "accelerometer", "step_trainer"] {
        assert!(dir.path().join(source).join("landing").is_dir(), "{source}");
    }
}

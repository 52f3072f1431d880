//! `stedi verify` and `report.html`: a reviewer can check a run from its inputs.

use crate::util::{arg, stedi, stedi_ok};
use std::fs;
use std::path::Path;

/// A small generated landing set and a strict run of it with a known salt.
fn run_with_salt(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let data = dir.join("data");
    let out = dir.join("out");
    stedi_ok(&["gen", "--scale", "1", "--seed", "9", "--out", arg(&data)]);
    stedi_ok(&[
        "run",
        "--salt",
        "Zq7-salt",
        "--format",
        "parquet",
        "--out",
        arg(&out),
        arg(&data),
    ]);
    (data, out)
}

fn verify(args: &[&str]) -> (Option<i32>, String) {
    let out = stedi(&[&["verify"], args].concat());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn an_untouched_run_verifies_item_by_item() {
    let dir = tempfile::tempdir().unwrap();
    let (data, out) = run_with_salt(dir.path());
    let audit = out.join("audit.json");
    let (code, text) = verify(&[
        arg(&audit),
        arg(&data),
        "--salt",
        "Zq7-salt",
        "--outputs",
        arg(&out),
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("ok        outputs[machine_learning_curated.parquet].sha256"),
        "{text}"
    );
    assert!(
        text.contains("ok        handed[machine_learning_curated.parquet].sha256"),
        "{text}"
    );
    assert!(!text.contains("MISMATCH"), "{text}");
}

#[test]
fn a_changed_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (data, out) = run_with_salt(dir.path());
    let steps = fs::read_dir(data.join("step_trainer/landing"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = fs::read_to_string(&steps).unwrap().replacen(
        "\"distanceFromObject\":",
        "\"distanceFromObject\":1",
        1,
    );
    fs::write(&steps, text).unwrap();
    let name = steps.file_name().unwrap().to_string_lossy().into_owned();
    let (code, text) = verify(&[
        arg(&out.join("audit.json")),
        arg(&data),
        "--salt",
        "Zq7-salt",
    ]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("MISMATCH  inputs[{name}].sha256")),
        "{text}"
    );
    assert!(text.contains("do not match the audit"), "{text}");
}

#[test]
fn a_changed_output_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (data, out) = run_with_salt(dir.path());
    let ml = out.join("machine_learning_curated.parquet");
    let mut bytes = fs::read(&ml).unwrap();
    let last = bytes.len() - 20;
    bytes[last] ^= 0xff;
    fs::write(&ml, bytes).unwrap();
    let (code, text) = verify(&[
        arg(&out.join("audit.json")),
        arg(&data),
        "--salt",
        "Zq7-salt",
        "--outputs",
        arg(&out),
    ]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("MISMATCH  handed[machine_learning_curated.parquet].sha256"),
        "{text}"
    );
}

#[test]
fn pseudonymized_outputs_without_the_salt_are_unverified_not_matching() {
    let dir = tempfile::tempdir().unwrap();
    let (data, out) = run_with_salt(dir.path());
    let (code, text) = verify(&[arg(&out.join("audit.json")), arg(&data)]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("cannot be recomputed without the salt"),
        "{text}"
    );
    // The wrong salt is a mismatch, never a match.
    let (code, text) = verify(&[arg(&out.join("audit.json")), arg(&data), "--salt", "guess"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("MISMATCH  outputs[machine_learning_curated.parquet].sha256"),
        "{text}"
    );
}

#[test]
fn the_report_is_self_contained_and_lists_every_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = run_with_salt(dir.path());
    let report = fs::read_to_string(out.join("report.html")).unwrap();
    let audit: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("audit.json")).unwrap()).unwrap();
    for list in ["inputs", "outputs"] {
        for item in audit[list].as_array().unwrap() {
            let sha = item["sha256"].as_str().unwrap();
            assert!(
                report.contains(sha),
                "{list} hash {sha} missing from report.html"
            );
        }
    }
    for external in ["src=", "href=", "http://", "https://", "@import", "url("] {
        assert!(
            !report.contains(external),
            "report.html refers to something outside it: {external}"
        );
    }
    assert!(
        !report.contains("Zq7-salt"),
        "the salt must never be written"
    );
}

//! `stedi run` on the whole hostile-input corpus (tests/data/bad/) beside valid files: it
//! exits 0, audit.json gives every file the counts of tests/data/bad-expected.json with
//! records = accepted + quarantined, and the valid files read as they do alone.

use crate::util::{arg, audit, stedi};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

/// Writes every corpus file into `dir` (the generated ones built from their parts) and
/// returns the manifest's entries.
fn corpus_into(dir: &Path) -> Vec<Value> {
    let manifest = std::fs::read_to_string(data_dir().join("bad-expected.json")).unwrap();
    let manifest: Value = serde_json::from_str(&manifest).unwrap();
    let files = manifest["files"].as_array().unwrap().clone();
    for file in &files {
        let name = file["name"].as_str().unwrap();
        let bytes = match file.get("generate").and_then(Value::as_array) {
            None => std::fs::read(data_dir().join("bad").join(name)).unwrap(),
            Some(parts) => parts
                .iter()
                .map(|p| match (p["text"].as_str(), p["repeat"].as_str()) {
                    (Some(text), _) => text.to_string(),
                    (_, Some(text)) => text.repeat(p["times"].as_u64().unwrap() as usize),
                    _ => panic!("a part is text or repeat: {p}"),
                })
                .collect::<String>()
                .into_bytes(),
        };
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    files
}

fn input<'a>(audit: &'a Value, name: &str) -> &'a Value {
    audit["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in the audit's inputs"))
}

#[test]
fn the_whole_bad_corpus_runs_and_every_file_is_accounted_for() {
    let bad = tempfile::tempdir().unwrap();
    let files = corpus_into(bad.path());
    let valid = data_dir().join("valid");
    let alone = tempfile::tempdir().unwrap();
    let out = stedi(&[
        "run",
        "--salt",
        "s",
        "--out",
        arg(alone.path()),
        arg(&valid),
    ]);
    assert!(out.status.success());
    let alone = audit(alone.path());

    let together = tempfile::tempdir().unwrap();
    let args = ["run", "--salt", "s", "--out", arg(together.path())];
    let out = stedi(&[&args[..], &[arg(bad.path()), arg(&valid)]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let audit = audit(together.path());

    let inputs = audit["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), files.len() + 3);
    for i in inputs {
        assert_eq!(
            i["records"],
            i["accepted"].as_u64().unwrap() + i["quarantined"].as_u64().unwrap(),
            "{i}"
        );
    }
    for want in &files {
        let name = want["name"].as_str().unwrap();
        let got = input(&audit, name);
        assert_eq!(got["source"], want["source"], "{name}");
        assert_eq!(got["accepted"], want["accepted"], "{name}");
        assert_eq!(got["quarantined"], want["quarantined"], "{name}");
        let problems = got
            .get("problems")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let wanted = want["problems"].as_array().unwrap();
        assert_eq!(problems.len(), wanted.len(), "{name}: {problems:?}");
        for (p, w) in problems.iter().zip(wanted) {
            assert!(
                p.as_str().unwrap().contains(w.as_str().unwrap()),
                "{name}: {p}"
            );
            // The CLI names the file beside each problem.
            assert!(
                stderr.contains(&format!("warning: {name}: {}", p.as_str().unwrap())),
                "{stderr}"
            );
        }
    }
    for name in ["customer.json", "accelerometer.json", "step_trainer.json"] {
        assert_eq!(input(&audit, name), input(&alone, name), "{name}");
    }

    let quarantined: u64 = files
        .iter()
        .map(|f| f["quarantined"].as_u64().unwrap())
        .sum();
    assert_eq!(audit["quarantine"]["total"], quarantined);
    let lines = std::fs::read_to_string(together.path().join("quarantine.jsonl")).unwrap();
    assert_eq!(lines.lines().count() as u64, quarantined);
    for line in lines.lines() {
        let q: Value = serde_json::from_str(line).unwrap();
        assert!(
            q["line"].as_u64().unwrap() >= 1 && q["file"].is_string(),
            "{q}"
        );
    }
}

//! Same inputs, same policy, same salt: byte-identical outputs, whatever the file order.

use crate::util::{arg, stedi_ok};
use std::fs;
use std::path::{Path, PathBuf};

fn generated(dir: &Path) -> Vec<PathBuf> {
    stedi_ok(&["gen", "--scale", "1", "--seed", "3", "--out", arg(dir)]);
    let mut files = Vec::new();
    for source in ["customer", "accelerometer", "step_trainer"] {
        for entry in fs::read_dir(dir.join(source).join("landing")).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    files.sort();
    files
}

fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&path).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn file_order_never_changes_a_byte_in_any_format() {
    let data = tempfile::tempdir().unwrap();
    let files = generated(data.path());
    let forward: Vec<&str> = files.iter().map(|p| arg(p)).collect();
    let mut backward = forward.clone();
    backward.reverse();
    for format in ["jsonl", "csv", "parquet"] {
        let runs: Vec<_> = [&forward, &backward]
            .iter()
            .map(|paths| {
                let out = tempfile::tempdir().unwrap();
                let mut args = vec![
                    "run",
                    "--salt",
                    "s",
                    "--format",
                    format,
                    "--out",
                    arg(out.path()),
                ];
                args.extend(paths.iter());
                stedi_ok(&args);
                let files = outputs(out.path());
                assert_eq!(
                    files.len(),
                    11,
                    "8 zones, quarantine.jsonl, audit.json, report.html"
                );
                files
            })
            .collect();
        assert_eq!(runs[0], runs[1], "{format}");
    }
}

#[test]
fn the_salt_decides_pseudonyms_and_never_appears_in_outputs() {
    let data = tempfile::tempdir().unwrap();
    generated(data.path());
    let run = |salt: &str| {
        let out = tempfile::tempdir().unwrap();
        stedi_ok(&[
            "run",
            "--salt",
            salt,
            "--out",
            arg(out.path()),
            arg(data.path()),
        ]);
        outputs(out.path())
    };
    let a = run("first-secret-salt");
    let b = run("first-secret-salt");
    let c = run("other-secret-salt");
    assert_eq!(a, b);
    let ml = |files: &[(String, Vec<u8>)]| {
        files
            .iter()
            .find(|f| f.0 == "machine_learning_curated.jsonl")
            .unwrap()
            .1
            .clone()
    };
    assert_ne!(ml(&a), ml(&c));
    for (name, bytes) in &a {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("first-secret-salt"), "salt in {name}");
        if name.starts_with("machine_learning_curated") {
            assert!(!text.contains("@test.com"), "an email in {name}");
        }
    }
}

#[test]
fn thread_count_never_changes_a_byte() {
    let data = tempfile::tempdir().unwrap();
    generated(data.path());
    let runs: Vec<_> = ["1", "2", "7"]
        .iter()
        .map(|threads| {
            let out = tempfile::tempdir().unwrap();
            stedi_ok(&[
                "run",
                "--salt",
                "s",
                "--threads",
                threads,
                "--format",
                "csv",
                "--out",
                arg(out.path()),
                arg(data.path()),
            ]);
            outputs(out.path())
        })
        .collect();
    assert_eq!(runs[0].len(), 11);
    assert!(
        runs[0] == runs[1] && runs[1] == runs[2],
        "outputs differ by thread count"
    );
}

//! `cargo xtask test-spark`: the exported Spark job against `stedi run`.
//!
//! Installs PySpark in a venv under target/ (once), exports the job for both presets,
//! runs it on local Spark over a `stedi gen` set with the quirks fixtures
//! (tests/spark/quirks) beside it and, when STEDI_COURSE_DATA is set, over the course
//! data, and has tests/spark/compare.py check that every zone and the quarantine hold the
//! same rows as `stedi run`'s, and that the course data gives SPEC's reference counts.

use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const VENV: &str = "target/spark-venv";
const WORK: &str = "target/spark-test";
const PYSPARK: &str = "pyspark>=4,<5";
/// One salt for both sides, so that their pseudonyms can be compared.
const SALT: &str = "spark-parity";
const PRESETS: [&str; 2] = ["strict", "rubric"];
/// SPEC section 3's reference counts on the course data, in zone order.
const COURSE_COUNTS: [(&str, [u64; 8]); 2] = [
    ("strict", [956, 81273, 28680, 482, 32025, 464, 11297, 32025]),
    ("rubric", [956, 81273, 28680, 482, 40981, 482, 14460, 43681]),
];
/// Spark on a two-core machine: both cores, few shuffle partitions, no web UI.
const SPARK_CONF: [&str; 10] = [
    "--master",
    "local[2]",
    "--driver-memory",
    "2g",
    "--conf",
    "spark.sql.shuffle.partitions=4",
    "--conf",
    "spark.ui.enabled=false",
    "--conf",
    "spark.ui.showConsoleProgress=false",
];

struct Dataset {
    label: &'static str,
    /// Folders read together as one landing set.
    paths: Vec<PathBuf>,
    /// Whether SPEC's reference counts (COURSE_COUNTS) apply.
    spec_counts: bool,
}

pub fn test_spark() -> Result<()> {
    let started = Instant::now();
    let root = std::env::current_dir().context("cannot read the current folder")?;
    check_java()?;
    let python = pyspark_venv()?;
    super::cargo(&["build", "-p", "stedi-cli"])?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let stedi = target.join("debug").join("stedi");

    let work = root.join(WORK);
    if work.exists() {
        fs::remove_dir_all(&work).with_context(|| format!("cannot clear {}", work.display()))?;
    }
    fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;

    let generated = work.join("generated");
    // The quirks go with the generated set, not on their own: one Spark start fewer per
    // preset, and the job's comma-separated --input is used.
    let mut datasets = vec![Dataset {
        label: "generated+quirks",
        paths: vec![generated.clone(), root.join("tests/spark/quirks")],
        spec_counts: false,
    }];
    match std::env::var_os("STEDI_COURSE_DATA") {
        Some(dir) => {
            let given = root.join(dir);
            let path = given
                .canonicalize()
                .ok()
                .filter(|p| p.is_dir())
                .with_context(|| {
                    format!(
                        "STEDI_COURSE_DATA={} is not a folder: point it at the course's landing data",
                        given.display()
                    )
                })?;
            datasets.push(Dataset {
                label: "course",
                paths: vec![path],
                spec_counts: true,
            });
        }
        None => println!(
            "note: STEDI_COURSE_DATA is not set: the course-data part is SKIPPED (generated and quirks data only)"
        ),
    }

    step("stedi gen --scale 1", || {
        logged(
            Command::new(&stedi)
                .args(["gen", "--scale", "1", "--seed", "1", "--out"])
                .arg(&generated),
            &work.join("gen.log"),
        )
    })?;
    for preset in PRESETS {
        logged(
            Command::new(&stedi)
                .args(["export-spark", "--preset", preset, "--out"])
                .arg(work.join(format!("job-{preset}"))),
            &work.join(format!("export-{preset}.log")),
        )?;
    }

    let mut compare = Command::new(&python);
    compare.arg(root.join("tests/spark/compare.py"));
    for data in &datasets {
        for preset in PRESETS {
            let case = work.join(format!("{}-{preset}", data.label));
            let (ours, theirs) = (case.join("stedi"), case.join("spark"));
            fs::create_dir_all(&case)
                .with_context(|| format!("cannot create {}", case.display()))?;
            step(&format!("stedi run, {} data, {preset}", data.label), || {
                logged(
                    Command::new(&stedi)
                        .args([
                            "run", "--preset", preset, "--salt", SALT, "--format", "jsonl", "--out",
                        ])
                        .arg(&ours)
                        .args(&data.paths),
                    &case.join("stedi.log"),
                )
            })?;
            let job = work.join(format!("job-{preset}")).join("stedi_job.py");
            let input: Vec<String> = data.paths.iter().map(|p| p.display().to_string()).collect();
            step(&format!("Spark job, {} data, {preset}", data.label), || {
                logged(
                    Command::new(Path::new(VENV).join("bin/spark-submit"))
                        .args(SPARK_CONF)
                        .arg(&job)
                        .arg("--input")
                        .arg(input.join(","))
                        .arg("--output")
                        .arg(&theirs)
                        .args(["--salt", SALT])
                        .env("PYSPARK_PYTHON", root.join(&python))
                        .env("PYSPARK_DRIVER_PYTHON", root.join(&python)),
                    &case.join("spark.log"),
                )
            })?;
            let reference = COURSE_COUNTS
                .iter()
                .find(|(p, _)| data.spec_counts && *p == preset)
                .map_or("-".to_string(), |(_, counts)| {
                    counts.map(|n| n.to_string()).join(",")
                });
            compare
                .arg("--case")
                .arg(format!("{}/{preset}", data.label))
                .arg(&ours)
                .arg(&theirs)
                .arg(reference);
        }
    }
    step("compare every zone", || {
        super::run(compare.env("PYSPARK_PYTHON", root.join(&python)))
    })?;
    println!(
        "test-spark passed in {}{}",
        minutes(started.elapsed()),
        if datasets.iter().any(|d| d.spec_counts) {
            ""
        } else {
            " (course data SKIPPED: set STEDI_COURSE_DATA)"
        }
    );
    Ok(())
}

fn check_java() -> Result<()> {
    let java = Command::new("java")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !java.is_ok_and(|s| s.success()) {
        bail!("Spark needs Java 17 or later on the PATH: install it (Debian: apt-get install openjdk-17-jre-headless)");
    }
    Ok(())
}

/// The venv's python, with PySpark installed in it (only when it is not there yet).
fn pyspark_venv() -> Result<PathBuf> {
    let python = Path::new(VENV).join("bin/python");
    let has_pyspark = |python: &Path| {
        Command::new(python)
            .args(["-c", "import pyspark"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if has_pyspark(&python) {
        println!("pyspark: already installed in {VENV}");
        return Ok(python);
    }
    step("install pyspark (once)", || {
        super::run(Command::new("python3").args(["-m", "venv", VENV]))
            .context("Python 3 with venv is needed (Debian: apt-get install python3-venv)")?;
        super::run(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            PYSPARK,
        ]))
    })?;
    if !has_pyspark(&python) {
        bail!("pyspark was installed in {VENV} but cannot be imported: remove {VENV} and retry");
    }
    Ok(python)
}

/// Runs one step, printing how long it took.
fn step(name: &str, work: impl FnOnce() -> Result<()>) -> Result<()> {
    let started = Instant::now();
    work()?;
    println!("{name}: {}", minutes(started.elapsed()));
    Ok(())
}

/// Runs a command with its output in `log`; on failure, shows the log's end.
fn logged(cmd: &mut Command, log: &Path) -> Result<()> {
    let line = format!("{cmd:?}");
    let file = fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    let status = cmd
        .stdout(file.try_clone().context("cannot share the log file")?)
        .stderr(file)
        .status()
        .with_context(|| format!("cannot start {line}"))?;
    if !status.success() {
        let text = fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "{line} failed ({status}); the end of {}:\n{}",
            log.display(),
            tail.join("\n")
        );
    }
    Ok(())
}

fn minutes(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1} s")
    } else {
        format!("{}m {:.0}s", (s / 60.0).floor(), s % 60.0)
    }
}

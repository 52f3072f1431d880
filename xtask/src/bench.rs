//! `cargo xtask bench [--w100] [--runs N]`: stedi against DuckDB on the same generated
//! landing sets, natively (`stedi run` against bench/duckdb/native.py) and in headless
//! Chromium (the web app end to end against the DuckDB-wasm harness, both driven by
//! bench/browser/run.mjs), written to BENCHMARKS.md.
//!
//! Each time is the median of N runs after one warm-up. The two sides of a comparison
//! run alternately, so a slow spell of the machine hits both, and a time is reported
//! only when both sides built the same row counts.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

const USAGE: &str = "usage: cargo xtask bench [--w100] [--runs N]";
const DEFAULT_RUNS: usize = 5;
const SEED: u64 = 1;
const PRESET: &str = "strict";
/// Fixed, so that both engines' pseudonymized ML files can be compared byte for byte.
const SALT: &str = "bench";
/// Both native engines get the same number of threads.
const THREADS: &str = "2";
const WORK: &str = "target/bench";
const VENV: &str = "target/bench-venv";
const NODE_PACKAGES: [&str; 2] = ["bench/duckdb-wasm", "bench/browser"];
const ZONES: [&str; 8] = [
    "customer_landing",
    "accelerometer_landing",
    "step_trainer_landing",
    "customer_trusted",
    "accelerometer_trusted",
    "customer_curated",
    "step_trainer_trusted",
    "machine_learning_curated",
];
const MB: f64 = 1e6;

type Counts = BTreeMap<String, u64>;

struct Options {
    runs: usize,
    w100: bool,
}

struct Tools {
    stedi: PathBuf,
    python: PathBuf,
    chromium: String,
    /// Whether this `stedi run` takes `--threads` (older builds do not).
    stedi_threads: bool,
}

struct Workload {
    name: String,
    scale: u32,
    dir: PathBuf,
    files: usize,
    bytes: u64,
}

/// One run of one side.
struct Run {
    ms: f64,
    /// Peak RSS natively, peak WebAssembly memory in the browser; `None` when not shown.
    memory_bytes: Option<u64>,
    counts: Counts,
    ml_sha256: Option<String>,
    /// User + system CPU time (native only).
    cpu_ms: Option<f64>,
    /// The side's own clock, where it has one beside the wall time measured here.
    own_ms: Option<f64>,
    /// Until the results were on screen (the app; the rest of its time is the download).
    shown_ms: Option<f64>,
    /// Parsed batches held as bytes outside WebAssembly memory until the run (the app).
    held_bytes: Option<u64>,
    /// The size of the machine_learning_curated download (the app).
    ml_bytes: Option<u64>,
}

/// One side of a comparison: its runs (the first is the warm-up), or why it stopped.
#[derive(Default)]
struct Side {
    runs: Vec<Run>,
    error: Option<String>,
}

impl Side {
    fn measured(&self) -> Option<&[Run]> {
        (self.error.is_none() && self.runs.len() > 1).then(|| &self.runs[1..])
    }

    fn median_ms(&self) -> Option<f64> {
        median(self.measured()?.iter().map(|r| r.ms).collect())
    }

    /// The largest memory of the measured runs, if every one reported it.
    fn peak_bytes(&self) -> Option<u64> {
        let runs = self.measured()?;
        if runs.iter().any(|r| r.memory_bytes.is_none()) {
            return None;
        }
        runs.iter().filter_map(|r| r.memory_bytes).max()
    }

    fn own_median_ms(&self) -> Option<f64> {
        median(self.measured()?.iter().filter_map(|r| r.own_ms).collect())
    }

    fn shown_median_ms(&self) -> Option<f64> {
        median(self.measured()?.iter().filter_map(|r| r.shown_ms).collect())
    }

    fn cpu_per_wall(&self) -> Option<f64> {
        let runs = self.measured()?;
        let cpu: f64 = runs.iter().map(|r| r.cpu_ms).sum::<Option<f64>>()?;
        Some(cpu / runs.iter().map(|r| r.ms).sum::<f64>())
    }

    fn ml_sha256(&self) -> Option<&str> {
        self.runs.iter().find_map(|r| r.ml_sha256.as_deref())
    }
}

/// stedi (`ours`) against DuckDB on one workload, natively or in the browser.
struct Pair {
    ours: Side,
    duckdb: Side,
    /// Set when the row counts disagree: then neither side's time is reported.
    mismatch: Option<String>,
    duckdb_version: Option<String>,
}

impl Pair {
    fn new() -> Pair {
        Pair {
            ours: Side::default(),
            duckdb: Side::default(),
            mismatch: None,
            duckdb_version: None,
        }
    }

    fn ours_ms(&self) -> Option<f64> {
        self.mismatch.is_none().then(|| self.ours.median_ms())?
    }

    fn duckdb_ms(&self) -> Option<f64> {
        self.mismatch.is_none().then(|| self.duckdb.median_ms())?
    }

    /// How many times faster stedi is: DuckDB's median over stedi's.
    fn ratio(&self) -> Option<f64> {
        Some(self.duckdb_ms()? / self.ours_ms()?)
    }

    /// Checks each run's row counts against the other side's run of the same index, and
    /// against `reference` (stedi's native counts) when given.
    fn verify(&mut self, ours: &str, theirs: &str, reference: Option<&Counts>) {
        let runs = self.ours.runs.len().max(self.duckdb.runs.len());
        for i in 0..runs {
            let a = self.ours.runs.get(i).map(|r| (ours, &r.counts));
            let b = self.duckdb.runs.get(i).map(|r| (theirs, &r.counts));
            let r = reference.map(|c| ("stedi run", c));
            let checks = [(a, b), (a, r), (b, r)];
            let differ = checks.into_iter().find_map(|pair| match pair {
                (Some(x), Some(y)) => differences(x, y),
                _ => None,
            });
            if let Some(differ) = differ {
                self.mismatch = Some(format!("run {i}: {differ}"));
                return;
            }
            if [a, b, r].iter().filter(|c| c.is_some()).count() == 1 {
                self.mismatch = Some(format!("run {i}: no other counts to check against"));
                return;
            }
        }
    }
}

/// The zones whose counts differ, or `None` when they all agree.
fn differences((a, x): (&str, &Counts), (b, y): (&str, &Counts)) -> Option<String> {
    let differ: Vec<String> = ZONES
        .iter()
        .filter(|z| x.get(**z) != y.get(**z))
        .map(|z| format!("{z} {a} {:?}, {b} {:?}", x.get(*z), y.get(*z)))
        .collect();
    (!differ.is_empty()).then(|| format!("row counts differ: {}", differ.join("; ")))
}

struct Measured {
    workload: Workload,
    native: Pair,
    browser: Pair,
    floor: Option<Floor>,
}

/// What bench/browser/floor.mjs measured: a bare page driven as the app is, that only
/// hands the files to workers (`harness`), or also reads and hashes them (`read`), then
/// downloads as many bytes as the app's machine_learning_curated. Medians of the
/// measured runs, in ms: (end to end, until shown).
struct Floor {
    harness: (f64, f64),
    read: (f64, f64),
}

pub fn run(args: &[String]) -> Result<()> {
    let options = options(args)?;
    // Other work on the machine shows up as noise: the report says how busy it was.
    let load_before = load_average();
    let command = std::iter::once("cargo xtask bench".to_string())
        .chain(args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let tools = prepare()?;
    let mut scales = vec![1, 10];
    if options.w100 {
        scales.push(100);
    }
    let mut results = Vec::new();
    for scale in scales {
        let workload = workload(&tools.stedi, scale)?;
        let native = native(&workload, options.runs, &tools)?;
        // The browser's counts are checked against stedi run's too, when those held.
        let reference = match native.mismatch {
            None => native.ours.runs.first().map(|r| &r.counts),
            Some(_) => None,
        };
        let browser = browser(&workload, options.runs, &tools, reference)?;
        let download = browser.ours.runs.iter().find_map(|r| r.ml_bytes);
        let floor = match download {
            Some(bytes) => Some(floor(&workload, options.runs, &tools, bytes)?),
            None => None,
        };
        results.push(Measured {
            workload,
            native,
            browser,
            floor,
        });
    }
    let chart = chart_reduction(options.runs)?;
    let load = format!("{} before, {} after", load_before, load_average());
    let mut report = render(&command, &load, &options, &tools, &results);
    chart_section(&mut report, &chart);
    fs::write("BENCHMARKS.md", report).context("cannot write BENCHMARKS.md")?;
    println!("wrote BENCHMARKS.md");
    Ok(())
}

/// The chart reduction's timing: 10 million points to one band per pixel column
/// (crates/core/examples/chart_reduction.rs), natively and as WebAssembly in Node's V8
/// (the engine of Chromium) through WASI.
fn chart_reduction(runs: usize) -> Result<(Value, Value)> {
    println!("chart reduction: 10 million points, {runs} runs, native and WebAssembly");
    let example = ["-q", "-p", "stedi-core", "--example", "chart_reduction"];
    let native = Command::new("cargo")
        .args(["run", "--release"])
        .args(example)
        .arg("--")
        .arg(runs.to_string())
        .output()
        .context("cannot run the chart reduction example")?;
    crate::run(Command::new("rustup").args(["target", "add", "wasm32-wasip1"]))?;
    crate::run(
        Command::new("cargo")
            .args(["build", "--release", "--target", "wasm32-wasip1"])
            .args(example),
    )?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let wasm = Command::new("node")
        .arg("--no-warnings")
        .arg("bench/wasi/run.mjs")
        .arg(target.join("wasm32-wasip1/release/examples/chart_reduction.wasm"))
        .arg(runs.to_string())
        .output()
        .context("cannot run the chart reduction example in Node")?;
    let parse = |out: std::process::Output, what: &str| -> Result<Value> {
        if !out.status.success() {
            bail!(
                "the chart reduction example failed ({what}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        serde_json::from_slice(&out.stdout)
            .with_context(|| format!("the chart reduction example printed no JSON ({what})"))
    };
    Ok((parse(native, "native")?, parse(wasm, "WebAssembly")?))
}

fn chart_section(w: &mut String, (native, wasm): &(Value, Value)) {
    let number = |v: &Value, key: &str| v[key].as_f64().unwrap_or(f64::NAN);
    let line = |v: &Value| {
        format!(
            "median {:.1} ms of {} runs (min {:.1}, max {:.1})",
            number(v, "median_ms"),
            number(v, "runs"),
            number(v, "min_ms"),
            number(v, "max_ms")
        )
    };
    let verdict = |v: &Value| {
        if number(v, "median_ms") <= 100.0 {
            "pass"
        } else {
            "FAIL"
        }
    };
    let _ = writeln!(
        w,
        "\n## Charts\n\n\
         A 10,000,000-point series reduced to one min/max band per pixel column ({} columns), \
         as the customer chart does before drawing (crates/core/examples/chart_reduction.rs). \
         Target: under 100 ms.\n\n\
         | where | time | target |\n|---|---|---|\n\
         | native (`cargo run --release -p stedi-core --example chart_reduction`) | {} | {} |\n\
         | WebAssembly in Node's V8 (wasm32-wasip1 build, `node bench/wasi/run.mjs`) | {} | {} |\n\n\
         Drawing then takes a fixed number of points (two per column); the page shows each \
         chart's drawing time under it.",
        number(native, "columns"),
        line(native),
        verdict(native),
        line(wasm),
        verdict(wasm),
    );
}

fn options(args: &[String]) -> Result<Options> {
    let mut options = Options {
        runs: DEFAULT_RUNS,
        w100: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--w100" => options.w100 = true,
            "--runs" => {
                let n = args.next().context(USAGE)?;
                options.runs =
                    n.parse().ok().filter(|n| *n > 0).with_context(|| {
                        format!("--runs takes a whole number above 0, not {n:?}")
                    })?;
            }
            _ => bail!("{USAGE}"),
        }
    }
    Ok(options)
}

/// Builds and installs what the bench runs: the release CLI, the web app (only when
/// dist/ is missing), DuckDB's Python package, the npm packages and Chromium.
fn prepare() -> Result<Tools> {
    crate::cargo(&["build", "--release", "-p", "stedi-cli"])?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let stedi = target.join("release/stedi");
    if !Path::new("dist/index.html").exists() {
        println!("dist/ is missing: building the web app");
        crate::setup()?;
        crate::dist()?;
    }
    let python = Path::new(VENV).join("bin/python");
    if !python.exists() {
        crate::run(Command::new("python3").args(["-m", "venv", VENV]))?;
    }
    crate::run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-r",
        "bench/duckdb/requirements.txt",
    ]))?;
    let chromium = crate::e2e::chromium()?;
    if crate::output(Command::new("npm").arg("--version")).is_none() {
        bail!("the browser benchmark needs Node.js and npm: install Node.js 20 or newer");
    }
    for dir in NODE_PACKAGES {
        crate::run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--prefix", dir]))?;
    }
    let help = crate::output(Command::new(&stedi).args(["run", "--help"])).unwrap_or_default();
    let stedi_threads = help.contains("--threads");
    if !stedi_threads {
        println!("note: this `stedi run` has no --threads option: it runs without one");
    }
    Ok(Tools {
        stedi,
        python,
        chromium,
        stedi_threads,
    })
}

/// The landing set of `stedi gen --scale <scale>`, generated once into target/bench/W<scale>.
fn workload(stedi: &Path, scale: u32) -> Result<Workload> {
    let name = format!("W{scale}");
    let dir = Path::new(WORK).join(&name);
    // Records how the set was made: another scale or seed is generated afresh.
    let marker = dir.join(".generated");
    let recipe = format!("stedi gen --scale {scale} --seed {SEED}\n");
    if fs::read_to_string(&marker).ok().as_deref() != Some(recipe.as_str()) {
        if dir.exists() {
            fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        println!("{name}: generating the landing set");
        crate::run(
            Command::new(stedi)
                .args([
                    "gen",
                    "--scale",
                    &scale.to_string(),
                    "--seed",
                    &SEED.to_string(),
                ])
                .arg("--out")
                .arg(&dir),
        )?;
        fs::write(&marker, &recipe)
            .with_context(|| format!("cannot write {}", marker.display()))?;
    }
    let (files, bytes) = landing_size(&dir)?;
    println!(
        "{name}: {files} files, {:.0} MB in {}",
        bytes as f64 / MB,
        dir.display()
    );
    Ok(Workload {
        name,
        scale,
        dir,
        files,
        bytes,
    })
}

/// How many landing files a folder holds, and their bytes.
fn landing_size(dir: &Path) -> Result<(usize, u64)> {
    let mut total = (0, 0);
    for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            let (files, bytes) = landing_size(&path)?;
            total = (total.0 + files, total.1 + bytes);
        } else if path.extension().is_some_and(|e| {
            ["json", "jsonl", "ndjson"]
                .iter()
                .any(|x| e.eq_ignore_ascii_case(x))
        }) {
            total = (total.0 + 1, total.1 + entry.metadata()?.len());
        }
    }
    Ok(total)
}

/// Both sides wrote every zone: the files must be the same bytes.
fn same_zone_files(stedi: &Path, duckdb: &Path) -> Result<()> {
    for zone in ZONES {
        let name = format!("{zone}.csv");
        let (a, b) = (
            sha256_file(&stedi.join(&name))?,
            sha256_file(&duckdb.join(&name))?,
        );
        if a != b {
            bail!("{name} differs between stedi run and DuckDB");
        }
    }
    Ok(())
}

/// `stedi run` against native.py, alternately, each as its own process.
fn native(workload: &Workload, runs: usize, tools: &Tools) -> Result<Pair> {
    let out = Path::new(WORK).join("out").join(&workload.name);
    let stedi_out = out.join("stedi");
    let duckdb_out = out.join("duckdb").join("machine_learning_curated.csv");
    let mut pair = Pair::new();
    for i in 0..=runs {
        if pair.ours.error.is_none() {
            if stedi_out.exists() {
                fs::remove_dir_all(&stedi_out)
                    .with_context(|| format!("cannot clear {}", stedi_out.display()))?;
            }
            let mut cmd = Command::new(&tools.stedi);
            cmd.args(["run", "--preset", PRESET, "--salt", SALT, "--format", "csv"]);
            if tools.stedi_threads {
                cmd.args(["--threads", THREADS]);
            }
            cmd.arg("--out").arg(&stedi_out).arg(&workload.dir);
            let outcome = measure(&mut cmd).and_then(|m| {
                let audit = fs::read_to_string(stedi_out.join("audit.json"))
                    .context("stedi run wrote no audit.json")?;
                let audit: Value =
                    serde_json::from_str(&audit).context("audit.json is not JSON")?;
                let counts = ZONES
                    .iter()
                    .map(|z| {
                        let rows = audit["zones"][z]["rows"].as_u64();
                        Ok((
                            z.to_string(),
                            rows.with_context(|| format!("audit.json lacks {z}"))?,
                        ))
                    })
                    .collect::<Result<Counts>>()?;
                let sha = (i == 0)
                    .then(|| sha256_file(&stedi_out.join("machine_learning_curated.csv")))
                    .transpose()?;
                Ok(m.into_run(counts, sha, None))
            });
            record(
                &mut pair.ours,
                workload,
                "native",
                i,
                runs,
                "stedi",
                outcome,
            );
        }
        if pair.duckdb.error.is_none() {
            let mut cmd = Command::new(&tools.python);
            cmd.arg("bench/duckdb/native.py")
                .args(["--data"])
                .arg(&workload.dir)
                .args([
                    "--preset",
                    PRESET,
                    "--threads",
                    THREADS,
                    "--salt",
                    SALT,
                    "--all-zones",
                    "--out",
                ])
                .arg(&duckdb_out);
            let outcome = measure(&mut cmd).and_then(|m| {
                let line = m.stdout.lines().last().unwrap_or_default();
                let result: Value =
                    serde_json::from_str(line).context("native.py printed no JSON result")?;
                pair.duckdb_version = result["duckdb"].as_str().map(String::from);
                let counts = counts(&result["counts"])?;
                let sha = (i == 0).then(|| sha256_file(&duckdb_out)).transpose()?;
                if i == 0 && pair.ours.error.is_none() {
                    same_zone_files(&stedi_out, duckdb_out.parent().unwrap_or(&out))?;
                }
                let own_ms = result["wall_ms"].as_f64();
                Ok(m.into_run(counts, sha, own_ms))
            });
            record(
                &mut pair.duckdb,
                workload,
                "native",
                i,
                runs,
                "DuckDB",
                outcome,
            );
        }
    }
    pair.verify("stedi", "DuckDB", None);
    if let Some(why) = &pair.mismatch {
        println!("{} native: {why}: no times reported", workload.name);
    }
    // W100's outputs take more than a gigabyte, and nothing reads them again.
    if out.exists() {
        fs::remove_dir_all(&out).with_context(|| format!("cannot clear {}", out.display()))?;
    }
    Ok(pair)
}

/// The app against DuckDB-wasm in one Chromium, alternately, through bench/browser/run.mjs.
fn browser(
    workload: &Workload,
    runs: usize,
    tools: &Tools,
    reference: Option<&Counts>,
) -> Result<Pair> {
    let mut cmd = Command::new("node");
    cmd.arg("bench/browser/run.mjs")
        .args(["--dist", "dist", "--data"])
        .arg(&workload.dir)
        .args([
            "--runs",
            &runs.to_string(),
            "--salt",
            SALT,
            "--chromium",
            &tools.chromium,
        ]);
    println!("$ {cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start node bench/browser/run.mjs")?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut pair = Pair::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.context("cannot read the browser driver's output")?;
        let Ok(result) = serde_json::from_str::<Value>(&line) else {
            println!("{line}");
            continue;
        };
        let (Some(side), Some(i)) = (result["side"].as_str(), result["run"].as_u64()) else {
            continue;
        };
        let (target, label) = match side {
            "app" => (&mut pair.ours, "app"),
            _ => (&mut pair.duckdb, "DuckDB-wasm"),
        };
        if side != "app" {
            pair.duckdb_version = result["duckdb"].as_str().map(String::from);
        }
        let outcome = match result["error"].as_str() {
            Some(error) => Err(anyhow::anyhow!("{error}")),
            None => browser_run(&result),
        };
        record(
            target, workload, "browser", i as usize, runs, label, outcome,
        );
    }
    let status = child.wait().context("the browser driver did not finish")?;
    if !status.success() {
        bail!("node bench/browser/run.mjs failed ({status}): see its messages above");
    }
    pair.verify("app", "DuckDB-wasm", reference);
    if let Some(why) = &pair.mismatch {
        println!("{} browser: {why}: no times reported", workload.name);
    }
    Ok(pair)
}

/// The floor under the app's times in the same harness, through bench/browser/floor.mjs.
fn floor(workload: &Workload, runs: usize, tools: &Tools, download: u64) -> Result<Floor> {
    let mut cmd = Command::new("node");
    cmd.arg("bench/browser/floor.mjs")
        .arg("--data")
        .arg(&workload.dir)
        .args([
            "--download-bytes",
            &download.to_string(),
            "--runs",
            &runs.to_string(),
            "--chromium",
            &tools.chromium,
        ]);
    println!("$ {cmd:?}");
    let output = cmd
        .stderr(Stdio::inherit())
        .output()
        .context("cannot start node bench/browser/floor.mjs")?;
    if !output.status.success() {
        bail!(
            "node bench/browser/floor.mjs failed ({}): see its messages above",
            output.status
        );
    }
    let (mut harness, mut read) = (Vec::new(), Vec::new());
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        println!("{} floor: {line}", workload.name);
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let (Some(run), Some(ms), Some(shown)) =
            (v["run"].as_u64(), v["ms"].as_f64(), v["shown_ms"].as_f64())
        else {
            continue;
        };
        let list = match v["side"].as_str() {
            Some("harness") => &mut harness,
            Some("read") => &mut read,
            _ => continue,
        };
        if run > 0 {
            list.push((ms, shown));
        }
    }
    let medians = |list: &[(f64, f64)]| {
        median(list.iter().map(|t| t.0).collect()).zip(median(list.iter().map(|t| t.1).collect()))
    };
    match (medians(&harness), medians(&read)) {
        (Some(harness), Some(read)) => Ok(Floor { harness, read }),
        _ => bail!("node bench/browser/floor.mjs gave no measured runs"),
    }
}

fn browser_run(result: &Value) -> Result<Run> {
    // The app's throughput line gives its data-* attributes as strings.
    let line_number = |key: &str| {
        result["throughput"][key]
            .as_str()
            .and_then(|v| v.parse::<f64>().ok())
    };
    Ok(Run {
        ms: result["ms"]
            .as_f64()
            .context("the browser driver gave no time")?,
        memory_bytes: result["memory_bytes"].as_u64(),
        counts: counts(&result["counts"])?,
        ml_sha256: result["ml_sha256"].as_str().map(String::from),
        cpu_ms: None,
        own_ms: line_number("readMs")
            .zip(line_number("runMs"))
            .map(|(read, run)| read + run),
        shown_ms: result["shown_ms"].as_f64(),
        held_bytes: line_number("batchBytes").map(|b| b as u64),
        ml_bytes: result["ml_bytes"].as_u64(),
    })
}

/// Keeps a run, or the error that stops its side, and says so on the terminal.
fn record(
    side: &mut Side,
    workload: &Workload,
    kind: &str,
    i: usize,
    runs: usize,
    label: &str,
    outcome: Result<Run>,
) {
    let run = if i == 0 {
        "warm-up".to_string()
    } else {
        format!("run {i}/{runs}")
    };
    match outcome {
        Ok(r) => {
            let memory = r
                .memory_bytes
                .map_or(String::new(), |b| format!(", {:.0} MB", b as f64 / MB));
            println!(
                "{} {kind} {run}: {label} {:.0} ms{memory}",
                workload.name, r.ms
            );
            side.runs.push(r);
        }
        Err(e) => {
            println!("{} {kind} {run}: {label} FAILED: {e:#}", workload.name);
            side.error = Some(format!("{e:#}"));
        }
    }
}

fn counts(value: &Value) -> Result<Counts> {
    ZONES
        .iter()
        .map(|z| {
            let rows = value[z]
                .as_u64()
                .with_context(|| format!("no row count for {z}"))?;
            Ok((z.to_string(), rows))
        })
        .collect()
}

/// A process's wall time, CPU time, peak RSS and output.
struct Process {
    wall_ms: f64,
    cpu_ms: f64,
    max_rss_bytes: u64,
    stdout: String,
}

impl Process {
    fn into_run(self, counts: Counts, ml_sha256: Option<String>, own_ms: Option<f64>) -> Run {
        Run {
            ms: self.wall_ms,
            memory_bytes: Some(self.max_rss_bytes),
            counts,
            ml_sha256,
            cpu_ms: Some(self.cpu_ms),
            own_ms,
            shown_ms: None,
            ml_bytes: None,
            held_bytes: None,
        }
    }
}

/// Runs a command to its end; the rusage that wait4 returns is this process's alone.
fn measure(cmd: &mut Command) -> Result<Process> {
    let line = format!("{cmd:?}");
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {line}"))?;
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_string(&mut stdout)
        .with_context(|| format!("cannot read the output of {line}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data; all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call, and the pid is our own unreaped child.
    while unsafe { libc::wait4(pid, &mut status, 0, &mut usage) } != pid {
        let error = std::io::Error::last_os_error();
        if error.kind() != ErrorKind::Interrupted {
            return Err(error).with_context(|| format!("cannot wait for {line}"));
        }
    }
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    let status = ExitStatus::from_raw(status);
    if !status.success() {
        bail!("{line} failed ({status})");
    }
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    Ok(Process {
        wall_ms,
        cpu_ms: ms(usage.ru_utime) + ms(usage.ru_stime),
        // Linux gives kilobytes.
        max_rss_bytes: usage.ru_maxrss as u64 * 1024,
        stdout,
    })
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut file =
        fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// The one-minute load average.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(String::from))
        .unwrap_or_else(|| "unknown".into())
}

fn render(
    command: &str,
    load: &str,
    options: &Options,
    tools: &Tools,
    results: &[Measured],
) -> String {
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(w, "# Benchmarks\n");
    let _ = writeln!(
        w,
        "stedi against DuckDB on the same `stedi gen` landing sets: natively (`stedi run` \
         against DuckDB's Python package running bench/duckdb/rules.sql) and in headless \
         Chromium (the web app end to end against DuckDB-wasm running the same rules). \
         Written by `cargo xtask bench`; every number below was measured in that run.\n"
    );
    machine(w, command, tools, results);
    let _ = writeln!(w, "- Load average (1 minute): {load} the bench");
    let _ = writeln!(w, "\n## Method\n");
    let threads = if tools.stedi_threads {
        format!("Both run with `--threads {THREADS}`")
    } else {
        format!(
            "DuckDB with `--threads {THREADS}`; this `stedi run` has no `--threads` option, so \
             it ran with its own default (its CPU time per wall second is given below)"
        )
    };
    let _ = writeln!(
        w,
        "- Each time is the median of {runs} after one warm-up run; the two sides of a \
           comparison run alternately (stedi, DuckDB, stedi, ...). Preset `{PRESET}`, salt \
           `{SALT}`, machine_learning_curated as CSV.\n\
         - Native: wall time and peak RSS of each process (wait4's rusage), from start to \
           exit. `stedi run --format csv` writes all eight zones, audit.json and \
           quarantine.jsonl; native.py (`--all-zones`) writes the same eight zone files, \
           byte for byte, and its time includes starting Python and importing duckdb. \
           {threads}.\n\
         - Browser: one Chromium, a fresh page per run. App: the page is loaded and the salt \
           typed first; the clock runs from handing the files to the file input until the \
           machine_learning_curated CSV download starts (through Playwright: waiting for the \
           results, clicking the download button). Its memory is the `data-wasm-bytes` the \
           page shows after the run: the WebAssembly memory of its worker and of its reader \
           workers (which only grows, so it is the peak); the most bytes of parsed batches \
           that waited at once in JavaScript memory to join the landing are listed under \
           the table. The floor under the \
           app's times: bench/browser/floor.mjs drives a bare page through the same steps \
           and clock, doing only what any app must (the files handed to reader workers, \
           as many as the app starts, read and hashed with the browser's SHA-256, and a \
           download of the app's size), and the same without reading: the harness alone. DuckDB-wasm: its harness's own clock (from the `File`s \
           to the CSV bytes, DuckDB already started) and the size of its WebAssembly memory \
           after the run.\n\
         - Ratios are DuckDB's median over stedi's: above 1, stedi is faster. Memory is the \
           largest of the measured runs; MB = 10^6 bytes.\n\
         - A time is reported only when the row counts of all eight zones agree: stedi's \
           audit.json with DuckDB's counts for each native run, the app's with DuckDB-wasm's \
           and with `stedi run`'s for each browser run.",
        runs = match options.runs {
            1 => "1 run".to_string(),
            n => format!("{n} runs"),
        }
    );
    for m in results {
        workload_section(w, m, tools);
    }
    growth(w, results);
    targets(w, options, tools, results);
    md
}

fn machine(w: &mut String, command: &str, tools: &Tools, results: &[Measured]) {
    let date = crate::output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]));
    let cores = crate::output(&mut Command::new("nproc"));
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo.lines().find_map(|l| {
        l.strip_prefix("model name")?
            .split_once(':')
            .map(|(_, v)| v.trim())
    });
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("MemTotal:")?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0));
    let chromium = crate::output(Command::new(&tools.chromium).arg("--version"));
    let stedi = crate::output(Command::new(&tools.stedi).arg("--version"));
    let node = crate::output(Command::new("node").arg("--version"));
    let duckdb_py = crate::output(
        Command::new(&tools.python).args(["-c", "import duckdb; print(duckdb.__version__)"]),
    );
    let duckdb_wasm =
        fs::read_to_string("bench/duckdb-wasm/node_modules/@duckdb/duckdb-wasm/package.json")
            .ok()
            .and_then(|p| serde_json::from_str::<Value>(&p).ok())
            .and_then(|p| p["version"].as_str().map(String::from));
    let engine =
        |pick: fn(&Measured) -> &Pair| results.iter().find_map(|m| pick(m).duckdb_version.clone());
    let or = |v: Option<String>| v.unwrap_or_else(|| "unknown".into());
    let _ = writeln!(w, "- Date: {}", or(date));
    let _ = writeln!(w, "- Command: `{command}`");
    let _ = writeln!(
        w,
        "- Machine: {}, {} cores (nproc), {} memory",
        or(cpu.map(String::from)),
        or(cores),
        or(memory)
    );
    let _ = writeln!(w, "- {} (target/release), Node.js {}", or(stedi), or(node));
    let _ = writeln!(w, "- {}, headless", or(chromium));
    let _ = writeln!(
        w,
        "- DuckDB {} (Python package duckdb {}); DuckDB-wasm {} (@duckdb/duckdb-wasm {}, eh bundle)",
        or(engine(|m| &m.native)),
        or(duckdb_py),
        or(engine(|m| &m.browser)),
        or(duckdb_wasm)
    );
}

fn workload_section(w: &mut String, m: &Measured, tools: &Tools) {
    let wl = &m.workload;
    let _ = writeln!(
        w,
        "\n## {}: `stedi gen --scale {} --seed {SEED}` ({} files, {:.0} MB)\n",
        wl.name,
        wl.scale,
        wl.files,
        wl.bytes as f64 / MB
    );
    let native_label = if tools.stedi_threads {
        format!("native, `--threads {THREADS}`")
    } else {
        format!("native (DuckDB `--threads {THREADS}`)")
    };
    let _ = writeln!(
        w,
        "| {} | stedi ms | DuckDB ms | DuckDB / stedi | stedi MB | DuckDB MB |",
        wl.name
    );
    let _ = writeln!(w, "|---|--:|--:|--:|--:|--:|");
    for (label, pair, memory) in [
        (native_label.as_str(), &m.native, "RSS"),
        ("browser: app vs DuckDB-wasm", &m.browser, "wasm"),
    ] {
        let _ = writeln!(
            w,
            "| {label} | {} | {} | {} | {} | {} |",
            cell(pair, &pair.ours, pair.ours_ms().map(|v| format!("{v:.0}"))),
            cell(
                pair,
                &pair.duckdb,
                pair.duckdb_ms().map(|v| format!("{v:.0}"))
            ),
            cell(pair, &pair.ours, pair.ratio().map(times)),
            memory_cell(&pair.ours, memory),
            memory_cell(&pair.duckdb, memory),
        );
    }
    let _ = writeln!(w);
    for (side, name, pair) in [
        (&m.native.ours, "stedi", &m.native),
        (&m.native.duckdb, "DuckDB", &m.native),
        (&m.browser.ours, "app", &m.browser),
        (&m.browser.duckdb, "DuckDB-wasm", &m.browser),
    ] {
        let _ = writeln!(w, "- {name}: {}", details(name, side, pair));
    }
    if let Some(f) = &m.floor {
        let _ = writeln!(
            w,
            "- floor (bench/browser/floor.mjs, the same steps on a bare page): the files only \
             posted to its workers, then a Blob of the app's download size downloaded: median \
             {:.0} ms (shown after {:.0} ms); the same with every file read and hashed by the \
             browser: median {:.0} ms (shown after {:.0} ms)",
            f.harness.0, f.harness.1, f.read.0, f.read.1
        );
    }
    let counts = m
        .native
        .ours
        .runs
        .first()
        .or(m.browser.ours.runs.first())
        .map(|r| &r.counts);
    if let Some(counts) = counts {
        let list: Vec<String> = ZONES
            .iter()
            .map(|z| format!("{z} {}", counts.get(*z).copied().unwrap_or_default()))
            .collect();
        let _ = writeln!(w, "- Row counts: {}.", list.join(", "));
    }
    let hashes = [
        ("stedi", m.native.ours.ml_sha256()),
        ("DuckDB", m.native.duckdb.ml_sha256()),
        ("app", m.browser.ours.ml_sha256()),
        ("DuckDB-wasm", m.browser.duckdb.ml_sha256()),
    ];
    let known: Vec<(&str, &str)> = hashes
        .iter()
        .filter_map(|(side, h)| h.map(|h| (*side, h)))
        .collect();
    match known.first() {
        Some((_, first)) if known.iter().all(|(_, h)| h == first) => {
            let sides: Vec<&str> = known.iter().map(|(s, _)| *s).collect();
            let _ = writeln!(
                w,
                "- machine_learning_curated.csv SHA-256 `{first}`: identical from {}.",
                sides.join(", ")
            );
        }
        Some(_) => {
            let list: Vec<String> = known.iter().map(|(s, h)| format!("{s} `{h}`")).collect();
            let _ = writeln!(
                w,
                "- machine_learning_curated.csv SHA-256 DIFFERS: {}.",
                list.join(", ")
            );
        }
        None => {}
    }
}

/// A table cell: the value, or why there is none.
fn cell(pair: &Pair, side: &Side, value: Option<String>) -> String {
    if pair.mismatch.is_some() {
        return "counts differ".into();
    }
    match (value, &side.error) {
        (Some(v), _) => v,
        (None, Some(_)) => "failed".into(),
        (None, None) => "not measured".into(),
    }
}

fn memory_cell(side: &Side, kind: &str) -> String {
    match (side.peak_bytes(), &side.error) {
        (Some(b), _) => format!("{:.0} {kind}", b as f64 / MB),
        (None, Some(_)) => "failed".into(),
        (None, None) => "unavailable".into(),
    }
}

/// One side's runs, its extra measures and any failure, for the list under a table.
fn details(name: &str, side: &Side, pair: &Pair) -> String {
    let mut out = String::new();
    if !side.runs.is_empty() {
        let runs: Vec<String> = side.runs.iter().map(|r| format!("{:.0}", r.ms)).collect();
        let _ = write!(
            out,
            "warm-up {} ms, runs {} ms",
            runs[0],
            runs[1..].join(", ")
        );
    }
    if let Some(ratio) = side.cpu_per_wall() {
        let _ = write!(out, "; {ratio:.2} CPU seconds per wall second");
    }
    if let Some(own) = side.own_median_ms() {
        let clock = match name {
            "DuckDB" => "native.py's own clock (without Python's start and import)",
            _ => "the app's own read + run time",
        };
        let _ = write!(out, "; {clock}: median {own:.0} ms");
    }
    if let Some(shown) = side.shown_median_ms() {
        let _ = write!(
            out,
            "; results on screen after median {shown:.0} ms, the rest is the download"
        );
    }
    if let Some(held) = side
        .measured()
        .and_then(|runs| runs.iter().filter_map(|r| r.held_bytes).max())
    {
        let _ = write!(
            out,
            "; besides its WebAssembly memory, parsed batches waited to join the landing as at most {:.0} MB of bytes at once in JavaScript memory",
            held as f64 / MB
        );
    }
    if name == "app" && side.error.is_none() && side.runs.iter().all(|r| r.memory_bytes.is_none()) {
        let _ = write!(out, "; this build of the app shows no `data-wasm-bytes`");
    }
    if let Some(error) = &side.error {
        let _ = write!(out, "; FAILED: {error}");
    }
    if let Some(why) = &pair.mismatch {
        let _ = write!(out, "; not reported, {why}");
    }
    if out.is_empty() {
        out.push_str("not run");
    }
    out.trim_start_matches("; ").to_string()
}

fn growth(w: &mut String, results: &[Measured]) {
    let _ = writeln!(w, "\n## Growth, W100 / W10\n");
    let _ = writeln!(w, "| time | stedi native | app |");
    let _ = writeln!(w, "|---|--:|--:|");
    let native = growth_cell(results, |m| m.native.ours_ms());
    let app = growth_cell(results, |m| m.browser.ours_ms());
    let _ = writeln!(w, "| W100 median / W10 median | {} | {} |", native.0, app.0);
}

/// W100's value over W10's, formatted, with the ratio when both were measured.
fn growth_cell(results: &[Measured], value: fn(&Measured) -> Option<f64>) -> (String, Option<f64>) {
    let find = |name: &str| results.iter().find(|m| m.workload.name == name);
    match (find("W10"), find("W100")) {
        (_, None) => ("not run".into(), None),
        (Some(w10), Some(w100)) => match (value(w10), value(w100)) {
            (Some(a), Some(b)) => (format!("{:.1}", b / a), Some(b / a)),
            _ => ("not measured".into(), None),
        },
        (None, Some(_)) => ("not measured".into(), None),
    }
}

fn targets(w: &mut String, options: &Options, tools: &Tools, results: &[Measured]) {
    let _ = writeln!(w, "\n## Targets\n");
    let _ = writeln!(w, "| target | measured | result |");
    let _ = writeln!(w, "|---|--:|---|");
    let find = |name: &str| results.iter().find(|m| m.workload.name == name);
    let mut row = |target: &str, measured: Option<(String, bool)>, ran: bool| {
        let (measured, result) = match (measured, ran) {
            (Some((text, pass)), _) => (text, if pass { "pass" } else { "FAIL" }),
            (None, true) => ("not measured".into(), "not measured"),
            (None, false) => ("not run".into(), "not run"),
        };
        let _ = writeln!(w, "| {target} | {measured} | {result} |");
    };
    let ran = |name: &str| find(name).is_some();
    let app_ms = |name: &str| find(name).and_then(|m| m.browser.ours_ms());
    let app_mb = |name: &str| {
        find(name)
            .and_then(|m| m.browser.ours.peak_bytes())
            .map(|b| b as f64 / MB)
    };
    // The floor beside the app's time: what reading, hashing and the download take alone.
    let app_cell = |name: &str, limit: f64| {
        let floor = find(name)
            .and_then(|m| m.floor.as_ref())
            .map(|f| {
                format!(
                    " (floor {}, harness alone {})",
                    ms(f.read.0),
                    ms(f.harness.0)
                )
            })
            .unwrap_or_default();
        app_ms(name).map(|v| (format!("{}{floor}", ms(v)), v <= limit))
    };
    row("browser W1 ≤ 150 ms", app_cell("W1", 150.0), ran("W1"));
    row("browser W100 ≤ 6 s", app_cell("W100", 6000.0), ran("W100"));
    let missed: Vec<(&Measured, f64)> = [("W1", 150.0), ("W100", 6000.0)]
        .into_iter()
        .filter_map(|(name, limit)| Some((find(name)?, limit)))
        .filter(|(m, limit)| m.browser.ours_ms().is_some_and(|v| v > *limit))
        .collect();
    row(
        "browser W100 peak wasm memory ≤ 600 MB",
        app_mb("W100").map(|v| (format!("{v:.0} MB"), v <= 600.0)),
        ran("W100"),
    );
    for name in ["W10", "W100"] {
        let ratio = find(name).and_then(|m| m.browser.ratio());
        row(
            &format!("app ≥ 5x faster than DuckDB-wasm on {name}"),
            ratio.map(|r| (times(r), r >= 5.0)),
            ran(name),
        );
    }
    let same = if tools.stedi_threads {
        String::new()
    } else {
        " (stedi without `--threads`)".to_string()
    };
    for name in ["W10", "W100"] {
        let ratio = find(name).and_then(|m| m.native.ratio());
        row(
            &format!("native ≥ 3x faster than DuckDB on {name}, same threads{same}"),
            ratio.map(|r| (times(r), r >= 3.0)),
            ran(name),
        );
    }
    for (label, value) in [
        (
            "stedi native",
            (|m| m.native.ours_ms()) as fn(&Measured) -> Option<f64>,
        ),
        ("app", |m| m.browser.ours_ms()),
    ] {
        let (text, ratio) = growth_cell(results, value);
        row(
            &format!("W100 / W10 time ≤ 11, {label}"),
            ratio.map(|r| (text, r <= 11.0)),
            options.w100,
        );
    }
    for (m, limit) in missed {
        floor_note(w, m, limit);
    }
}

/// Under the table, for a browser time target missed: how much of it the floor leaves,
/// beside what the same work (parsing, building the zones, writing them) takes natively.
fn floor_note(w: &mut String, m: &Measured, limit: f64) {
    let (Some(floor), Some(native)) = (&m.floor, m.native.ours_ms()) else {
        return;
    };
    let name = &m.workload.name;
    let left = limit - floor.read.0;
    let verdict = if left < native {
        "less than `stedi run` takes for the same files natively"
    } else {
        "more than `stedi run` takes for the same files natively"
    };
    let _ = writeln!(
        w,
        "\n{name} in the browser: the floor alone takes {} of the {}; the {} left for parsing, \
         building the zones and showing them are {verdict} ({}, `--threads {THREADS}`, every zone written).",
        ms(floor.read.0),
        ms(limit),
        ms(left.max(0.0)),
        ms(native),
    );
}

fn ms(value: f64) -> String {
    format!("{value:.0} ms")
}

fn times(ratio: f64) -> String {
    format!("{ratio:.1}x")
}

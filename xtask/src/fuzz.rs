//! `cargo xtask fuzz [--seconds N]`: runs the cargo-fuzz targets of fuzz/ on the ingest
//! reader with the nightly toolchain, then prints how many inputs each one ran.
//!
//! A failing input is saved by libFuzzer in fuzz/artifacts/<target>/; make it a
//! regression test in crates/core before fixing the reader.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The targets in fuzz/Cargo.toml.
const TARGETS: [&str; 1] = ["file_reader"];

/// Seed inputs: the hostile-input corpus and the valid files beside it.
const SEEDS: [&str; 2] = ["tests/data/bad", "tests/data/valid"];

const DEFAULT_SECONDS: u64 = 60;

/// Runs every target for `--seconds` each.
pub fn run(args: &[String]) -> Result<()> {
    let seconds = seconds(args)?;
    let nightly =
        crate::output(Command::new("rustup").args(["run", "nightly", "rustc", "--version"]));
    if nightly.is_none() {
        bail!("fuzzing needs the nightly toolchain: install it with `rustup toolchain install nightly`");
    }
    if crate::output(Command::new("cargo").args(["fuzz", "--version"])).is_none() {
        println!("installing cargo-fuzz (a few minutes, once)");
        crate::run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let mut totals = Vec::new();
    for target in TARGETS {
        let corpus = format!("fuzz/corpus/{target}");
        std::fs::create_dir_all(&corpus).with_context(|| format!("cannot create {corpus}"))?;
        let mut cmd = Command::new("cargo");
        cmd.args(["+nightly", "fuzz", "run", target, &corpus])
            .args(SEEDS)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            // An input that takes this long counts as a hang, and fails the run.
            .arg("-timeout=10")
            .arg("-max_len=16384")
            .arg("-dict=fuzz/json.dict")
            .arg("-print_final_stats=1")
            // Run from `cargo xtask`, these would pin the stable toolchain.
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO")
            .env_remove("RUSTC");
        let runs = fuzz(target, &mut cmd)?;
        totals.push((target, runs));
    }
    for (target, runs) in totals {
        println!("fuzz: {target}: {runs} executions in {seconds} s, no failure");
    }
    Ok(())
}

fn seconds(args: &[String]) -> Result<u64> {
    match args {
        [] => Ok(DEFAULT_SECONDS),
        [flag, n] if flag == "--seconds" => n
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| format!("--seconds takes a whole number above 0, not {n:?}")),
        _ => bail!("usage: cargo xtask fuzz [--seconds N]"),
    }
}

/// Runs one target, passing its output through (less the line per new input), and
/// returns how many inputs it ran.
fn fuzz(target: &str, cmd: &mut Command) -> Result<u64> {
    println!("$ {cmd:?}");
    let mut child = cmd
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start cargo fuzz")?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut runs = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.context("cannot read the fuzzer's output")?;
        let count = |prefix: &str| line.strip_prefix(prefix).and_then(first_number);
        if let Some(n) = count("stat::number_of_executed_units:").or_else(|| count("Done ")) {
            runs = Some(n);
        }
        let per_input = line.starts_with('#') && (line.contains("NEW") || line.contains("REDUCE"));
        if !per_input {
            eprintln!("{line}");
        }
    }
    let status = child.wait().context("cargo fuzz did not finish")?;
    if !status.success() {
        bail!(
            "the fuzzer found a failing input for {target} (see above; it is saved in \
             fuzz/artifacts/{target}/): pin it in a regression test, fix the reader, run again"
        );
    }
    runs.with_context(|| format!("the fuzzer's output for {target} gave no number of executions"))
}

fn first_number(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

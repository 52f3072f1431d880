//! `cargo xtask`: the project's automation, in Rust.
//!
//! - `serve`: install what is missing, build the web app, serve it on 127.0.0.1:8080.
//! - `test`: install what the checks need, then run every check the project has.
//! - `dist`: build the release site into `dist/`, with relative URLs.
//! - `setup`: only install the tools.
//! - `bench`: stedi against DuckDB, natively and in the browser, into BENCHMARKS.md.

mod bench;
mod e2e;
mod fuzz;
mod spark;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str = "usage: cargo xtask <serve|test|dist|setup>

  serve   install the tools, build the web app and serve it on http://127.0.0.1:8080
  test    install the tools, then run fmt, clippy, all tests, the release site and the
          browser tests
  dist    build the release site into dist/ (relative URLs: it runs from any sub-path)
  setup   only install the tools (wasm target, Trunk, wasm-bindgen-cli)
  test-spark  run the exported Spark job on local Spark and check it against stedi run
  fuzz [--seconds N]  fuzz the ingest reader for N seconds (default 60) with nightly
  bench [--w100] [--runs N]  time stedi against DuckDB (native and in Chromium) on
          generated workloads W1 and W10 (and W100, about 1 GB), median of N runs
          (default 5); writes BENCHMARKS.md";

/// Trunk's pinned version range (0.22 needs a newer rustc).
const TRUNK_VERSION: &str = "~0.21";
const TRUNK_PREFIX: &str = "trunk 0.21.";

fn main() -> Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = workspace_root();
    std::env::set_current_dir(&root).context("cannot enter the workspace root")?;
    match task.as_str() {
        "serve" => {
            setup()?;
            println!("serving on http://127.0.0.1:8080 (Ctrl-C stops)");
            run(Command::new("trunk").arg("serve"))
        }
        "test" => {
            setup()?;
            e2e::setup()?;
            test()
        }
        "dist" => {
            setup()?;
            dist()
        }
        "setup" => setup(),
        "test-spark" => spark::test_spark(),
        "fuzz" => fuzz::run(&std::env::args().skip(2).collect::<Vec<_>>()),
        "bench" => bench::run(&std::env::args().skip(2).collect::<Vec<_>>()),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

/// Runs a command, failing with its command line when it does not succeed.
fn run(cmd: &mut Command) -> Result<()> {
    let line = format!("{cmd:?}");
    println!("$ {line}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {line}"))?;
    if !status.success() {
        bail!("{line} failed ({status})");
    }
    Ok(())
}

/// A command's standard output, or `None` when it cannot run.
fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The wasm-bindgen version locked in Cargo.lock: the CLI must match it exactly.
fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string("Cargo.lock").context("cannot read Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == r#"name = "wasm-bindgen""# {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    bail!("wasm-bindgen is not in Cargo.lock")
}

fn setup() -> Result<()> {
    let targets = output(Command::new("rustup").args(["target", "list", "--installed"]));
    if !targets.is_some_and(|t| t.lines().any(|l| l == "wasm32-unknown-unknown")) {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    let trunk = output(Command::new("trunk").arg("--version"));
    if !trunk
        .as_deref()
        .is_some_and(|v| v.starts_with(TRUNK_PREFIX))
    {
        println!("installing Trunk {TRUNK_VERSION} (several minutes, once)");
        run(Command::new("cargo").args([
            "install",
            "trunk",
            "--version",
            TRUNK_VERSION,
            "--locked",
        ]))?;
    }
    let wanted = locked_wasm_bindgen()?;
    let have = output(Command::new("wasm-bindgen").arg("--version"));
    if have.as_deref() != Some(&format!("wasm-bindgen {wanted}")) {
        println!("installing wasm-bindgen-cli {wanted} (a few minutes, once)");
        run(Command::new("cargo").args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &wanted,
            "--force",
        ]))?;
    }
    Ok(())
}

fn cargo(args: &[&str]) -> Result<()> {
    run(Command::new("cargo").args(args))
}

fn test() -> Result<()> {
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--exclude",
        "stedi-app",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    cargo(&[
        "clippy",
        "--package",
        "stedi-app",
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ])?;
    if std::env::var_os("STEDI_COURSE_DATA").is_none() {
        println!(
            "note: STEDI_COURSE_DATA is not set: the course-data conformance tests will be skipped"
        );
    }
    cargo(&["test", "--workspace", "--exclude", "stedi-app"])?;
    cargo(&["test", "--package", "stedi-app", "--lib"])?;
    dist()?;
    e2e::test()?;
    println!("all checks passed");
    Ok(())
}

fn dist() -> Result<()> {
    run(Command::new("trunk").args(["build", "--offline", "--release", "--public-url", "./"]))?;
    println!(
        "the site is in dist/: serve it from any path, for example a GitHub Pages project site"
    );
    Ok(())
}

//! The browser tests: the release site, served from a sub-path, driven by Playwright in
//! Debian's headless Chromium.

use crate::{output, run};
use anyhow::{bail, Result};
use std::path::Path;
use std::process::Command;

const E2E: &str = "tests/e2e";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Installs what the browser tests need: Chromium (Debian's) and the npm packages.
pub fn setup() -> Result<()> {
    chromium()?;
    if output(Command::new("npm").arg("--version")).is_none() {
        bail!("the browser tests need Node.js and npm: install Node.js 20 or newer");
    }
    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--prefix", E2E]))
}

/// The path of Chromium ($CHROMIUM, or Debian's, installed with apt when it is missing).
pub fn chromium() -> Result<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.to_string());
    if !Path::new(&chromium).exists() {
        println!("installing Debian's chromium for the browser tests and benchmarks");
        let apt = |args: &[&str]| {
            run(Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive"))
        };
        if apt(&["update", "-qq"])
            .and_then(|()| apt(&["install", "-y", "-qq", "chromium"]))
            .is_err()
        {
            bail!("the browser tests and benchmarks need Chromium at {chromium}: install Debian's chromium package (as root: apt-get install chromium), or set CHROMIUM to its path");
        }
    }
    Ok(chromium)
}

/// Runs the Playwright suite against `dist/`.
pub fn test() -> Result<()> {
    let stedi = std::env::current_dir()?.join("target/debug/stedi");
    run(Command::new("npx")
        .args(["playwright", "test", "--config", "playwright.config.mjs"])
        .current_dir(E2E)
        .env("STEDI_BIN", stedi))
}

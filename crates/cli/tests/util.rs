//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `stedi` with these arguments.
pub fn stedi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stedi"))
        .args(args)
        .output()
        .expect("the stedi binary runs")
}

/// Runs `stedi`, failing the test with its stderr unless it exits 0.
pub fn stedi_ok(args: &[&str]) -> String {
    let out = stedi(args);
    assert!(
        out.status.success(),
        "stedi {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The course data folder from `STEDI_COURSE_DATA` (relative paths are taken from the
/// workspace root), or `None` with a note that the test is skipped.
pub fn course_data(test: &str) -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("STEDI_COURSE_DATA") else {
        eprintln!("SKIPPED {test}: set STEDI_COURSE_DATA to the course data folder to run it");
        return None;
    };
    let dir = PathBuf::from(dir);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = if dir.is_absolute() {
        dir
    } else {
        root.join(dir)
    };
    assert!(
        dir.is_dir(),
        "STEDI_COURSE_DATA={} is not a folder",
        dir.display()
    );
    Some(dir)
}

/// Reads `audit.json` from an output folder.
pub fn audit(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("audit.json")).expect("audit.json written");
    serde_json::from_str(&text).expect("audit.json is JSON")
}

/// A path as a `&str` argument.
pub fn arg(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

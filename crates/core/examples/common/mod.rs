//! What the timing examples share: their arguments (`RUNS FILE...`), the files read from
//! them, and the median of the timed runs. Each example uses the parts it needs.
#![allow(dead_code)]

use stedi_core::ingest::{FileBatch, FileReader, Landing};

/// The number of timed runs and the paths of the files named after it.
pub fn runs_and_paths() -> (usize, Vec<String>) {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(5);
    (runs, args.collect())
}

/// The bytes of the file at `path`.
pub fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The batch of a file named `name` holding `bytes`, read in one piece.
pub fn batch_of(name: &str, bytes: &[u8]) -> FileBatch {
    let mut reader = FileReader::new(name, None);
    reader.feed(bytes);
    reader.finish()
}

/// The number of timed runs and the landing of the files named after it (each file read
/// and dropped in turn).
pub fn runs_and_landing() -> (usize, Landing) {
    let (runs, paths) = runs_and_paths();
    let batches = paths
        .iter()
        .map(|path| batch_of(path, &read(path)))
        .collect();
    (runs, Landing::from_batches(batches))
}

/// The median of the times of the runs.
pub fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

//! What the timing examples share: their arguments (`RUNS FILE...`) and the landing read
//! from the files.

use stedi_core::ingest::{FileReader, Landing};

/// The number of timed runs and the landing of the files named after it.
pub fn runs_and_landing() -> (usize, Landing) {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(5);
    let batches = args
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
            let mut reader = FileReader::new(path, None);
            reader.feed(&bytes);
            reader.finish()
        })
        .collect();
    (runs, Landing::from_batches(batches))
}

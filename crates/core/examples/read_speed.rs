//! Times reading landing files with the push parser, as a reader worker does (4 MiB
//! chunks, SHA-256 of every byte included), the same without hashing (as a reader whose
//! browser hashes the bytes: `parse_ms`), and SHA-256 alone over the same bytes, to show
//! how much of reading is hashing. Prints one JSON line with the medians.
//!
//! `cargo run --release -p stedi-core --example read_speed -- RUNS FILE...`, or built for
//! wasm32-wasip1 and run by `node bench/wasi/run.mjs` to time it as WebAssembly.

mod common;

use sha2::Digest;
use std::time::Instant;
use stedi_core::ingest::{FileReader, HashedElsewhere};

fn main() {
    let (runs, paths) = common::runs_and_paths();
    let files: Vec<Vec<u8>> = paths.iter().map(|path| common::read(path)).collect();
    let bytes: usize = files.iter().map(Vec::len).sum();
    let (mut read, mut parse, mut hash) = (Vec::new(), Vec::new(), Vec::new());
    // One warm-up run, then `runs` timed ones.
    for run in 0..=runs {
        let (read_ms, records) = timed(&files, |file| {
            let mut reader = FileReader::new("file.json", None);
            in_chunks(file, |chunk| reader.feed(chunk));
            reader.finish().summary.records
        });
        let (parse_ms, parsed) = timed(&files, |file| {
            let mut reader = HashedElsewhere::new("file.json", None);
            in_chunks(file, |chunk| reader.feed(chunk));
            reader.finish([0; 32]).summary.records
        });
        let (hash_ms, _) = timed(&files, |file| {
            std::hint::black_box(sha2::Sha256::digest(file));
            0
        });
        if run > 0 {
            read.push(read_ms);
            parse.push(parse_ms);
            hash.push(hash_ms);
        }
        assert!(records > 0, "no records in the files given");
        assert_eq!(records, parsed, "reading with and without hashing differ");
    }
    println!(
        "{{\"bytes\": {bytes}, \"runs\": {runs}, \"read_ms\": {:.1}, \"parse_ms\": {:.1}, \"sha256_ms\": {:.1}}}",
        common::median(&mut read),
        common::median(&mut parse),
        common::median(&mut hash)
    );
}

/// Milliseconds to pass every file to `read`, and the records it counted in them.
fn timed(files: &[Vec<u8>], mut read: impl FnMut(&[u8]) -> u64) -> (f64, u64) {
    let started = Instant::now();
    let records = files.iter().map(|file| read(file)).sum();
    (started.elapsed().as_secs_f64() * 1e3, records)
}

/// Feeds a file in 4 MiB chunks, as a reader worker does.
fn in_chunks(file: &[u8], mut feed: impl FnMut(&[u8])) {
    for chunk in file.chunks(4 << 20) {
        feed(chunk);
    }
}

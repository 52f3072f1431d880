//! Times what the browser's pipeline worker does with the batches its readers send, as
//! the files are read: each batch decoded from its bytes and added to the landing, in
//! file-name order, into columns given room for all of them when the first comes
//! (`State::admit_read` in the app's worker, when the files read so far foretell the
//! rest well); and, before that, what a reader does to send its batch: encoding it. Prints one JSON line with the
//! medians: encoding, decoding alone, and decoding with adding.
//!
//! `cargo run --release -p stedi-core --example admit_speed -- RUNS FILE...`, or built for
//! wasm32-wasip1 and run by `node bench/wasi/run.mjs` to time it as WebAssembly.

mod common;

use std::time::Instant;
use stedi_core::ingest::{FileBatch, InputSummary, Landing, Rows};

fn main() {
    let (runs, paths) = common::runs_and_paths();
    let batches: Vec<FileBatch> = paths
        .iter()
        .map(|path| common::batch_of(path.rsplit('/').next().unwrap_or(path), &common::read(path)))
        .collect();
    let mut encoded: Vec<(InputSummary, Vec<u8>)> = batches
        .iter()
        .map(|batch| (batch.summary.clone(), batch.encode()))
        .collect();
    encoded.sort_by(|a, b| (&a.0.name, &a.0.sha256).cmp(&(&b.0.name, &b.0.sha256)));
    let bytes: usize = encoded.iter().map(|(_, b)| b.len()).sum();
    let (mut encode, mut decode, mut admit) = (Vec::new(), Vec::new(), Vec::new());
    // One warm-up run, then `runs` timed ones.
    for run in 0..=runs {
        let started = Instant::now();
        for batch in &batches {
            std::hint::black_box(batch.encode());
        }
        let encode_ms = started.elapsed().as_secs_f64() * 1e3;
        let started = Instant::now();
        for (_, b) in &encoded {
            std::hint::black_box(FileBatch::decode(b).expect("a batch just encoded"));
        }
        let decode_ms = started.elapsed().as_secs_f64() * 1e3;
        let started = Instant::now();
        let landing = admitted(&encoded);
        let admit_ms = started.elapsed().as_secs_f64() * 1e3;
        assert!(!landing.inputs.is_empty(), "no files given");
        std::hint::black_box(landing);
        if run > 0 {
            encode.push(encode_ms);
            decode.push(decode_ms);
            admit.push(admit_ms);
        }
    }
    println!(
        "{{\"batch_bytes\": {bytes}, \"runs\": {runs}, \"encode_ms\": {:.1}, \"decode_ms\": {:.1}, \"admit_ms\": {:.1}}}",
        common::median(&mut encode),
        common::median(&mut decode),
        common::median(&mut admit)
    );
}

/// The landing of the batches, as the worker makes it: each batch given room for (the
/// rows of all of them expected), decoded and added in turn.
#[inline(never)]
fn admitted(encoded: &[(InputSummary, Vec<u8>)]) -> Landing {
    let mut landing = Landing::default();
    let all = Rows::expected(encoded.iter().map(|(summary, _)| summary), []);
    for (summary, bytes) in encoded {
        landing.room_for(summary, all);
        landing.add(FileBatch::decode(bytes).expect("a batch just encoded"));
    }
    landing
}

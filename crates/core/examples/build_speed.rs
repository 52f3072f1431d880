//! Times building the zones from a landing (`Zones::build`), as a run does after the
//! files are read. Prints one JSON line with the median.
//!
//! `cargo run --release -p stedi-core --example build_speed -- RUNS FILE...`, or built for
//! wasm32-wasip1 and run by `node bench/wasi/run.mjs` to time it as WebAssembly.

mod common;

use std::time::Instant;
use stedi_core::{Policy, Zones};

fn main() {
    let (runs, landing) = common::runs_and_landing();
    let policy = Policy::default();
    let mut times = Vec::new();
    let mut rows = 0;
    // One warm-up run, then `runs` timed ones.
    for run in 0..=runs {
        let started = Instant::now();
        let zones = build(&landing, &policy);
        let ms = started.elapsed().as_secs_f64() * 1e3;
        rows = zones.machine_learning_curated.len();
        if run > 0 {
            times.push(ms);
        }
    }
    println!(
        "{{\"machine_learning_curated\": {rows}, \"runs\": {runs}, \"build_ms\": {:.1}}}",
        common::median(&mut times)
    );
}

/// One build, a call of its own as in a run.
#[inline(never)]
fn build(landing: &stedi_core::ingest::Landing, policy: &Policy) -> Zones {
    Zones::build(landing, policy)
}

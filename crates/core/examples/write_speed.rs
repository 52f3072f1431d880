//! Times writing each zone file from landing files (the strict preset's zones, as CSV,
//! JSON Lines and Parquet, into memory), as the browser's worker does for a download.
//! Prints one JSON line per zone and format with the median milliseconds and the bytes.
//!
//! `cargo run --release -p stedi-core --example write_speed -- RUNS FILE...`, or built for
//! wasm32-wasip1 and run by `node bench/wasi/run.mjs` to time it as WebAssembly.

mod common;

use std::time::Instant;
use stedi_core::export::{Format, ZoneWriter};
use stedi_core::pii::Salt;
use stedi_core::{Policy, Preset, Zone, Zones};

fn main() {
    let (runs, landing) = common::runs_and_landing();
    let policy = Policy::preset(Preset::Strict);
    let zones = Zones::build(&landing, &policy);
    let salt = Salt::given("write-speed");
    let writer = ZoneWriter {
        landing: &landing,
        zones: &zones,
        pii: policy.pii,
        salt: &salt,
    };
    for format in [Format::Csv, Format::Jsonl, Format::Parquet] {
        for zone in Zone::ALL {
            let mut times = Vec::new();
            let mut bytes = 0;
            // The timed runs write into the memory the warm-up run grew, as a download's
            // parts keep theirs from one to the next: what is timed is the writing, not the
            // output growing to its size (copied at each doubling, its new pages touched).
            let mut out = Vec::new();
            // One warm-up run, then `runs` timed ones.
            for run in 0..=runs {
                out.clear();
                let started = Instant::now();
                writer
                    .write(zone, format, &mut out)
                    .unwrap_or_else(|e| panic!("cannot write {}: {e}", zone.as_str()));
                if run > 0 {
                    times.push(started.elapsed().as_secs_f64() * 1e3);
                }
                bytes = out.len();
            }
            println!(
                "{{\"zone\": \"{}\", \"format\": \"{}\", \"bytes\": {bytes}, \"ms\": {:.1}}}",
                zone.as_str(),
                format.extension(),
                common::median(&mut times)
            );
        }
    }
}

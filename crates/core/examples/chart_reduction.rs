//! Times the chart reduction: a 10-million-point series reduced to one min/max band per
//! pixel column, as the customer chart does before drawing. Prints one JSON line.
//!
//! `cargo run --release -p stedi-core --example chart_reduction -- [RUNS]`

use std::time::Instant;
use stedi_core::charts::min_max;

const POINTS: i64 = 10_000_000;
/// A 1200 px wide chart on a screen of pixel ratio 2.
const COLUMNS: u32 = 2400;

/// One reduction, a call of its own as each chart request is in the page: inlined into
/// `main`'s loop, the runs after the warm-up would run in the same call as it, and a
/// WebAssembly engine that optimises a function for its next call would time its
/// unoptimised code every run.
#[inline(never)]
fn reduce(times: &[i64], values: &[f64], t0: i64, t1: i64) -> Vec<stedi_core::charts::Band> {
    let points = times.iter().copied().zip(values.iter().copied());
    min_max(points, t0, t1, COLUMNS)
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    // A noisy series over a day of milliseconds, in time order as readings are.
    let t0 = 1_655_564_444_000i64;
    let times: Vec<i64> = (0..POINTS).map(|i| t0 + i * 8).collect();
    let values: Vec<f64> = (0..POINTS)
        .map(|i| ((i * 7919) % 2001) as f64 / 1000.0 - 1.0)
        .collect();
    let t1 = *times.last().expect("points");
    let mut millis = Vec::new();
    // One warm-up run, then `runs` timed ones.
    for run in 0..=runs {
        let started = Instant::now();
        let bands = reduce(&times, &values, t0, t1);
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(bands.len(), COLUMNS as usize);
        if run > 0 {
            millis.push(elapsed);
        }
    }
    millis.sort_by(f64::total_cmp);
    println!(
        "{{\"points\":{POINTS},\"columns\":{COLUMNS},\"runs\":{runs},\"median_ms\":{:.2},\"min_ms\":{:.2},\"max_ms\":{:.2}}}",
        millis[millis.len() / 2],
        millis[0],
        millis[millis.len() - 1]
    );
}

//! Times sorting a zone's preview by a column (what a click on a column's header asks the
//! browser's worker for) and the memory the sort takes beyond the zones: for the largest
//! zone, accelerometer_landing, by each of its columns. Prints one JSON line per column
//! with the median milliseconds and the peak bytes allocated while sorting.
//!
//! `cargo run --release -p stedi-core --example preview_sort -- RUNS FILE...`, or built
//! for wasm32-wasip1 and run by `node bench/wasi/run.mjs` to time it as WebAssembly.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;
use stedi_core::export::ZoneWriter;
use stedi_core::pii::Salt;
use stedi_core::preview::{Selection, Sort, ZoneTable};
use stedi_core::{Policy, Preset, Zone, Zones};

/// The system allocator, counting the bytes held and their peak.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let held = HELD.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(held, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn main() {
    let (runs, landing) = common::runs_and_landing();
    let policy = Policy::preset(Preset::Strict);
    let zones = Zones::build(&landing, &policy);
    let salt = Salt::given("preview-sort");
    let writer = ZoneWriter {
        landing: &landing,
        zones: &zones,
        pii: policy.pii,
        salt: &salt,
    };
    let zone = Zone::AccelerometerLanding;
    let table = ZoneTable::new(writer, &policy);
    for column in 0..writer.schema(zone).fields().len() {
        let selection = Selection {
            zone,
            sort: Some(Sort {
                column,
                descending: true,
            }),
            query: String::new(),
        };
        let (mut times, mut peak) = (Vec::new(), 0);
        // One warm-up run, then `runs` timed ones.
        for run in 0..=runs {
            let before = HELD.load(Relaxed);
            PEAK.store(before, Relaxed);
            let started = Instant::now();
            let rows = table.select(&selection).len();
            if run > 0 {
                times.push(started.elapsed().as_secs_f64() * 1e3);
            }
            peak = peak.max(PEAK.load(Relaxed) - before);
            assert_eq!(rows, zones.rows(&landing, zone));
        }
        println!(
            "{{\"zone\": \"{}\", \"column\": \"{}\", \"rows\": {}, \"ms\": {:.1}, \"peak_bytes\": {peak}}}",
            zone.as_str(),
            writer.schema(zone).field(column).name(),
            zones.rows(&landing, zone),
            common::median(&mut times)
        );
    }
}

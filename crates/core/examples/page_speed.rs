//! Times what the page asks the worker for right after a run: the first page of the
//! review's first list (customers excluded for lack of consent) and of the preview's first
//! zone (machine_learning_curated, pseudonymized as the default policy writes it). Prints
//! one JSON line with the medians.
//!
//! `cargo run --release -p stedi-core --example page_speed -- RUNS FILE...`

mod common;

use std::time::Instant;
use stedi_core::export::ZoneWriter;
use stedi_core::pii::Salt;
use stedi_core::preview::{Selection, ZoneTable};
use stedi_core::review::{self, ReviewList};
use stedi_core::{Policy, Zone, Zones};

fn main() {
    let (runs, landing) = common::runs_and_landing();
    let policy = Policy::default();
    let zones = Zones::build(&landing, &policy);
    let salt = Salt::given("page_speed");
    let (mut review_ms, mut preview_ms) = (Vec::new(), Vec::new());
    let (mut listed, mut shown) = (0, 0);
    // One warm-up run, then `runs` timed ones.
    for run in 0..=runs {
        let started = Instant::now();
        let page = review::page(&landing, ReviewList::ExcludedCustomers, "", 0);
        let review = started.elapsed().as_secs_f64() * 1e3;
        listed = page.total;
        let started = Instant::now();
        let writer = ZoneWriter {
            landing: &landing,
            zones: &zones,
            pii: policy.pii,
            salt: &salt,
        };
        let mut table = ZoneTable::new(writer, &policy);
        let selection = Selection {
            zone: Zone::MachineLearningCurated,
            sort: None,
            query: String::new(),
        };
        let positions = table.select(&selection);
        let notes = table.notes(&selection);
        shown = table.page(&selection, &positions, &notes, 0).rows.len();
        let preview = started.elapsed().as_secs_f64() * 1e3;
        if run > 0 {
            review_ms.push(review);
            preview_ms.push(preview);
        }
    }
    println!(
        "{{\"excluded_customers\": {listed}, \"preview_rows\": {shown}, \"runs\": {runs}, \"review_ms\": {:.1}, \"preview_ms\": {:.1}}}",
        common::median(&mut review_ms),
        common::median(&mut preview_ms)
    );
}

//! End-to-end tests of the `stedi` binary, one module per area.

mod conformance;
mod determinism;
mod usage;
mod util;

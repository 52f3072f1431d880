//! End-to-end tests of the `stedi` binary, one module per area.

mod bad_input;
mod conformance;
mod determinism;
mod spark;
mod usage;
mod util;
mod verify;

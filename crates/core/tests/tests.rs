//! Integration tests of stedi-core, one module per area.

mod bad_input;
mod corpus;
mod guarantees;
mod mangled_input;

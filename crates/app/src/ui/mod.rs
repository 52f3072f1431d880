//! The page's components, one module per section.

pub mod load;
pub mod notice;
pub mod policy;
pub mod results;
pub mod review;

//! stedi-core: the STEDI lakehouse pipeline, from landing JSON to curated zones.
//!
//! Bytes in, zones and an audit out; no file system, no browser. The stages, in order:
//! - [`ingest`]: [`ingest::FileReader`] is a push parser per file (JSON Lines, JSON
//!   arrays, gzip); bad records are quarantined, never dropped. [`ingest::Landing`]
//!   merges files in file-name order into column-wise landing zones.
//! - [`policy`]: the three knobs ([`Policy`]) and the `strict` / `rubric` presets.
//! - [`zones`]: [`Zones::build`] applies the consent and join rules; [`zones::Findings`].
//! - [`export`]: any zone as JSON Lines, CSV or Parquet; [`pii`]: pseudonyms.
//! - [`audit`]: [`audit::write_run`] writes every zone, the quarantine, `audit.json` and
//!   [`report`]'s `report.html`; [`verify`] recomputes a run and checks an audit against it.
//! - [`preview`]: any zone as a sorted, searchable table, and why a customer is missing
//!   from it; [`charts`]: chart data reduced to screen size.
//! - [`gen`]: synthetic landing data for demos, tests and benchmarks.
//!
//! ```
//! use stedi_core::{ingest, Policy, Zones, Zone};
//! let customers = br#"{"email":"a@x","serialNumber":"s1","lastUpdateDate":1,"shareWithResearchAsOfDate":10}"#;
//! let phone = b"{\"user\":\"a@x\",\"timestamp\":12,\"x\":0,\"y\":1,\"z\":0}\n";
//! let steps = b"{\"sensorReadingTime\":12,\"serialNumber\":\"s1\",\"distanceFromObject\":230}\n";
//! let landing = ingest::Landing::from_batches(vec![
//!     ingest::read_bytes("customer.json", None, customers),
//!     ingest::read_bytes("phone.json", None, phone),
//!     ingest::read_bytes("steps.json", None, steps),
//! ]);
//! let zones = Zones::build(&landing, &Policy::default());
//! assert_eq!(zones.rows(&landing, Zone::MachineLearningCurated), 1);
//! ```
#![deny(missing_docs)]

pub mod audit;
pub mod charts;
mod error;
pub mod export;
pub mod gen;
pub mod ingest;
pub mod pii;
pub mod policy;
pub mod preview;
pub mod report;
pub mod review;
pub mod spark;
pub mod threads;
pub mod verify;
pub mod zones;

pub use error::{Error, Result};
pub use policy::{ConsentTime, MlJoin, Pii, Policy, Preset};
pub use zones::{Zone, Zones};

/// The version of stedi-core, as recorded in every audit.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

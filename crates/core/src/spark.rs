//! The Spark export: the same policy as a PySpark job for landing data too large for one
//! machine, with Athena tables for its output.
//!
//! [`spark_bundle`] fills the templates kept beside this file (`spark/`) with a
//! [`Policy`]'s knobs: the job's defaults, which its arguments can override. The salt is
//! never part of the bundle: the job takes it as an argument each time it runs.
//!
//! ```
//! use stedi_core::{spark, Policy, Preset};
//! let files = spark::spark_bundle(&Policy::preset(Preset::Rubric));
//! let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
//! assert_eq!(names, ["stedi_job.py", "athena.sql", "README.md"]);
//! assert!(files[0].1.contains(r#""ml_join": "timestamp""#));
//! ```

use crate::export::ZoneWriter;
use crate::ingest::Landing;
use crate::pii::Salt;
use crate::policy::{Pii, Policy};
use crate::zones::{Zone, Zones};
use arrow_schema::DataType;

/// The PySpark job's file name.
pub const JOB_FILE: &str = "stedi_job.py";
/// The Athena tables' file name.
pub const ATHENA_FILE: &str = "athena.sql";
/// The instructions' file name.
pub const README_FILE: &str = "README.md";

const JOB_TEMPLATE: &str = include_str!("spark/stedi_job.py");
const ATHENA_TEMPLATE: &str = include_str!("spark/athena.sql");
const README_TEMPLATE: &str = include_str!("spark/README.md");

/// The Spark export of `policy`: `(file name, contents)` for the PySpark job, the Athena
/// tables and the instructions, in that order.
pub fn spark_bundle(policy: &Policy) -> Vec<(String, String)> {
    let preset = policy
        .matching_preset()
        .map_or("a custom policy".to_string(), |p| {
            format!("the {} preset", p.as_str())
        });
    let knobs = [
        ("version", crate::version().to_string()),
        ("preset", preset),
        ("consent_time", policy.consent_time.as_str().to_string()),
        ("ml_join", policy.ml_join.as_str().to_string()),
        ("pii", policy.pii.as_str().to_string()),
    ];
    let columns = |zone| athena_columns(zone, policy.pii);
    let tables = [
        ("customer_columns", columns(Zone::CustomerLanding)),
        ("accelerometer_columns", columns(Zone::AccelerometerLanding)),
        ("step_trainer_columns", columns(Zone::StepTrainerLanding)),
        (
            "machine_learning_columns",
            columns(Zone::MachineLearningCurated),
        ),
        ("pii_note", pii_note(policy.pii).to_string()),
    ];
    vec![
        (JOB_FILE.to_string(), fill(JOB_TEMPLATE, &knobs)),
        (
            ATHENA_FILE.to_string(),
            fill(&fill(ATHENA_TEMPLATE, &tables), &knobs),
        ),
        (README_FILE.to_string(), fill(README_TEMPLATE, &knobs)),
    ]
}

/// Replaces each `{{name}}` in `template` with its value.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    values
        .iter()
        .fold(template.to_string(), |text, (name, value)| {
            text.replace(&format!("{{{{{name}}}}}"), value)
        })
}

/// The zone's columns as Athena DDL, one per line. They come from the export's schema,
/// so the tables match the Parquet files `stedi run` writes as well.
fn athena_columns(zone: Zone, pii: Pii) -> String {
    let (landing, zones, salt) = (Landing::default(), Zones::default(), Salt::given(""));
    let writer = ZoneWriter {
        landing: &landing,
        zones: &zones,
        pii,
        salt: &salt,
    };
    let schema = writer.schema(zone);
    let lines: Vec<String> = schema
        .fields()
        .iter()
        .map(|field| {
            let sql_type = match field.data_type() {
                DataType::Utf8 => "string",
                DataType::Int64 => "bigint",
                DataType::Float64 => "double",
                other => unreachable!("zones hold no {other} columns"),
            };
            format!("  `{}` {sql_type}", field.name())
        })
        .collect();
    lines.join(",\n")
}

fn pii_note(pii: Pii) -> &'static str {
    match pii {
        Pii::Keep => "user and serialNumber are the emails and serial numbers as they are.",
        Pii::Pseudonymize => {
            "user and serialNumber are pseudonyms (HMAC-SHA256 with the run's salt, 16 bytes in hex)."
        }
        Pii::Drop => {
            "user and serialNumber are left out (a run with another --pii adds them back as columns)."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{ConsentTime, MlJoin, Preset};

    fn every_policy() -> Vec<Policy> {
        let mut all = Vec::new();
        for consent_time in [ConsentTime::Enforce, ConsentTime::Ignore] {
            for ml_join in [MlJoin::Device, MlJoin::Timestamp] {
                for pii in [Pii::Keep, Pii::Pseudonymize, Pii::Drop] {
                    all.push(Policy {
                        consent_time,
                        ml_join,
                        pii,
                    });
                }
            }
        }
        all
    }

    fn file<'a>(bundle: &'a [(String, String)], name: &str) -> &'a str {
        &bundle
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} is in the bundle"))
            .1
    }

    #[test]
    fn every_placeholder_is_filled_for_every_policy() {
        for policy in every_policy() {
            for (name, contents) in spark_bundle(&policy) {
                assert!(
                    !contents.contains("{{") && !contents.contains("}}"),
                    "{name} keeps a placeholder for {policy:?}"
                );
            }
        }
    }

    #[test]
    fn the_job_defaults_to_the_exported_knobs() {
        let policy = Policy {
            consent_time: ConsentTime::Ignore,
            ml_join: MlJoin::Device,
            pii: Pii::Drop,
        };
        let bundle = spark_bundle(&policy);
        let job = file(&bundle, JOB_FILE);
        for line in [
            r#""consent_time": "ignore","#,
            r#""ml_join": "device","#,
            r#""pii": "drop","#,
        ] {
            assert!(job.contains(line), "the job lacks {line}");
        }
        assert!(job.contains("a custom policy"));
        assert!(file(&bundle, README_FILE).contains("| PII in machine_learning_curated | drop |"));
        let strict = spark_bundle(&Policy::preset(Preset::Strict));
        assert!(file(&strict, JOB_FILE).contains("the strict preset"));
    }

    #[test]
    fn the_salt_comes_only_from_a_job_argument() {
        let job = spark_bundle(&Policy::default()).remove(0).1;
        let salt_argument = job
            .split(r#""--salt","#)
            .nth(1)
            .and_then(|rest| rest.split("\n    )").next())
            .expect("the job takes --salt");
        assert!(salt_argument.contains("help="), "{salt_argument}");
        assert!(!salt_argument.contains("default"), "{salt_argument}");
        // Nor from the environment.
        assert!(!job.contains("environ"));
    }

    #[test]
    fn athena_has_a_table_per_zone_with_the_export_columns() {
        let bundle = spark_bundle(&Policy::preset(Preset::Rubric));
        let sql = file(&bundle, ATHENA_FILE);
        for zone in Zone::ALL {
            let table = format!(
                "CREATE EXTERNAL TABLE IF NOT EXISTS stedi.{} (",
                zone.as_str()
            );
            assert!(sql.contains(&table), "no table for {}", zone.as_str());
            assert!(sql.contains(&format!("/stedi/{}/'", zone.as_str())));
        }
        let ml = sql
            .split("stedi.machine_learning_curated (")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .expect("the machine_learning_curated table");
        let names: Vec<&str> = ml
            .lines()
            .filter_map(|l| l.trim().strip_prefix('`')?.split('`').next())
            .collect();
        assert_eq!(
            names,
            [
                "sensorReadingTime",
                "serialNumber",
                "distanceFromObject",
                "user",
                "timestamp",
                "x",
                "y",
                "z"
            ]
        );
        assert!(ml.contains("`x` double") && ml.contains("`timestamp` bigint"));
    }

    #[test]
    fn dropped_pii_leaves_the_columns_out_of_the_table() {
        let policy = Policy {
            pii: Pii::Drop,
            ..Policy::default()
        };
        let bundle = spark_bundle(&policy);
        let sql = file(&bundle, ATHENA_FILE);
        let ml = sql
            .split("stedi.machine_learning_curated (")
            .nth(1)
            .unwrap();
        let ml = ml.split(')').next().unwrap();
        assert!(
            !ml.contains("`user`") && !ml.contains("`serialNumber`"),
            "{ml}"
        );
        assert!(ml.contains("`distanceFromObject` bigint"));
    }
}

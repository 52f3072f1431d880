//! Verification: recompute a run from its inputs and confirm, item by item, that an audit
//! describes it: inputs and their hashes, policy, counts, findings, and output hashes.

use crate::audit::{write_run, Audit};
use crate::export::Format;
use crate::ingest::{InputSummary, Landing};
use crate::pii::Salt;
use crate::policy::Pii;
use crate::zones::Zones;
use crate::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One item checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What was compared, e.g. `inputs[customer-1.json].sha256` or `zones.customer_trusted`.
    pub item: String,
    /// What the audit says.
    pub claimed: String,
    /// What recomputing gave.
    pub found: String,
    /// Whether they agree.
    pub ok: bool,
}

impl Check {
    fn new(item: impl Into<String>, claimed: impl ToString, found: impl ToString) -> Check {
        let (claimed, found) = (claimed.to_string(), found.to_string());
        Check {
            item: item.into(),
            ok: claimed == found,
            claimed,
            found,
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Every item compared, in audit order.
    pub checks: Vec<Check>,
}

impl Verification {
    /// Whether every item matched.
    pub fn all_match(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The items that did not match.
    pub fn mismatches(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }
}

/// The zone format a run wrote, read from its outputs' file names.
fn format_of(audit: &Audit) -> Format {
    audit
        .outputs
        .iter()
        .find_map(|o| o.name.strip_prefix("customer_landing."))
        .and_then(|ext| ext.parse().ok())
        .unwrap_or(Format::Jsonl)
}

fn compare_input(checks: &mut Vec<Check>, claimed: &InputSummary, found: &InputSummary) {
    let item = |field: &str| format!("inputs[{}].{field}", claimed.name);
    let source = |s: &InputSummary| s.source.map_or("unknown", |s| s.as_str()).to_string();
    checks.push(Check::new(item("sha256"), &claimed.sha256, &found.sha256));
    checks.push(Check::new(item("bytes"), claimed.bytes, found.bytes));
    checks.push(Check::new(item("source"), source(claimed), source(found)));
    checks.push(Check::new(item("records"), claimed.records, found.records));
    checks.push(Check::new(
        item("accepted"),
        claimed.accepted,
        found.accepted,
    ));
    checks.push(Check::new(
        item("quarantined"),
        claimed.quarantined,
        found.quarantined,
    ));
}

/// Recomputes the run an audit describes from `landing` (the same input files) and compares.
/// `salt` is needed to check pseudonymized outputs; without it they are reported as
/// unverifiable, never as matching.
pub fn verify(claimed: &Audit, landing: &Landing, salt: Option<&Salt>) -> Result<Verification> {
    let mut checks = Vec::new();
    checks.push(Check::new("version", &claimed.version, crate::version()));

    // Inputs: the same files, by name, with the same bytes.
    let found_inputs: BTreeMap<&str, &InputSummary> = landing
        .inputs
        .iter()
        .map(|i| (i.name.as_str(), i))
        .collect();
    let claimed_names: BTreeMap<&str, &InputSummary> = claimed
        .inputs
        .iter()
        .map(|i| (i.name.as_str(), i))
        .collect();
    for input in &claimed.inputs {
        match found_inputs.get(input.name.as_str()) {
            Some(found) => compare_input(&mut checks, input, found),
            None => checks.push(Check::new(
                format!("inputs[{}]", input.name),
                "present",
                "missing: not among the files given",
            )),
        }
    }
    for name in found_inputs
        .keys()
        .filter(|n| !claimed_names.contains_key(*n))
    {
        checks.push(Check::new(
            format!("inputs[{name}]"),
            "absent",
            "given, but the audit does not list it",
        ));
    }

    // Everything else under the audit's own policy.
    let policy = claimed.policy.knobs;
    let zones = Zones::build(landing, &policy);
    let pseudonyms_unknown = policy.pii == Pii::Pseudonymize && salt.is_none();
    let fallback = Salt::given("");
    let recomputed = write_run(
        landing,
        &zones,
        &policy,
        salt.unwrap_or(&fallback),
        claimed.policy.salt.as_deref() == Some("given"),
        format_of(claimed),
        &mut |_| Ok(std::io::sink()),
    )?;
    for (zone, count) in &claimed.zones {
        checks.push(Check::new(
            format!("zones.{}", zone.as_str()),
            count.rows,
            recomputed.rows(*zone),
        ));
    }
    let findings = |a: &Audit| serde_json::to_value(&a.findings).unwrap_or_default();
    let (cf, rf) = (findings(claimed), findings(&recomputed));
    if let (Some(cf), Some(rf)) = (cf.as_object(), rf.as_object()) {
        for (key, value) in cf {
            let found = rf.get(key).map_or("absent".to_string(), |v| v.to_string());
            checks.push(Check::new(format!("findings.{key}"), value, found));
        }
    }
    checks.push(Check::new(
        "quarantine.total",
        claimed.quarantine.total,
        recomputed.quarantine.total,
    ));
    for output in &claimed.outputs {
        let item = format!("outputs[{}].sha256", output.name);
        let found = recomputed.outputs.iter().find(|o| o.name == output.name);
        let pseudonymized = output.name.starts_with("machine_learning_curated.");
        match found {
            _ if pseudonymized && pseudonyms_unknown => checks.push(Check {
                item,
                claimed: output.sha256.clone(),
                found: if claimed.policy.salt.as_deref() == Some("random") {
                    "cannot be recomputed: the run used a random salt, which is never stored".into()
                } else {
                    "cannot be recomputed without the salt: pass it to check this file".into()
                },
                ok: false,
            }),
            Some(found) => {
                checks.push(Check::new(item, &output.sha256, &found.sha256));
                checks.push(Check::new(
                    format!("outputs[{}].rows", output.name),
                    output.rows,
                    found.rows,
                ));
            }
            None => checks.push(Check::new(
                item,
                &output.sha256,
                "not produced by this policy",
            )),
        }
    }
    Ok(Verification { checks })
}

/// Compares files a reviewer was handed (name, SHA-256) with the hashes the audit lists.
pub fn verify_handed(claimed: &Audit, handed: &[(String, String)]) -> Vec<Check> {
    handed
        .iter()
        .map(
            |(name, sha)| match claimed.outputs.iter().find(|o| &o.name == name) {
                Some(o) => Check::new(format!("handed[{name}].sha256"), &o.sha256, sha),
                None => Check::new(
                    format!("handed[{name}]"),
                    "listed in the audit's outputs",
                    "not listed",
                ),
            },
        )
        .collect()
}

//! The reference counts of SPEC section 3, on the real course data.

use crate::util::{arg, audit, course_data, stedi_ok};

const ZONES: [&str; 8] = [
    "customer_landing",
    "accelerometer_landing",
    "step_trainer_landing",
    "customer_trusted",
    "accelerometer_trusted",
    "customer_curated",
    "step_trainer_trusted",
    "machine_learning_curated",
];

/// (flags, expected rows per zone in ZONES order)
const COLUMNS: [(&[&str], [u64; 8]); 4] = [
    (
        &["--preset", "rubric"],
        [956, 81273, 28680, 482, 40981, 482, 14460, 43681],
    ),
    (
        &["--consent-time", "ignore", "--ml-join", "device"],
        [956, 81273, 28680, 482, 40981, 482, 14460, 40981],
    ),
    (
        &["--consent-time", "enforce", "--ml-join", "timestamp"],
        [956, 81273, 28680, 482, 32025, 464, 11297, 34253],
    ),
    (
        &["--preset", "strict"],
        [956, 81273, 28680, 482, 32025, 464, 11297, 32025],
    ),
];

#[test]
fn every_policy_column_of_the_reference_table() {
    let Some(data) = course_data("every_policy_column_of_the_reference_table") else {
        return;
    };
    for (flags, expected) in COLUMNS {
        let out = tempfile::tempdir().unwrap();
        let mut args = vec!["run", "--salt", "conformance", "--out", arg(out.path())];
        args.extend_from_slice(flags);
        args.push(arg(&data));
        let printed = stedi_ok(&args);
        let audit = audit(out.path());
        for (zone, rows) in ZONES.iter().zip(expected) {
            assert_eq!(audit["zones"][zone]["rows"], rows, "{zone} with {flags:?}");
            let line = format!("{zone:<26} {rows:>10}");
            assert!(
                printed.contains(&line),
                "printed table lacks '{line}':\n{printed}"
            );
        }
        assert_eq!(audit["quarantine"]["total"], 0);
        assert_eq!(audit["inputs"].as_array().unwrap().len(), 13);
    }
}

#[test]
fn findings_match_the_reference_values() {
    let Some(data) = course_data("findings_match_the_reference_values") else {
        return;
    };
    for (preset, cross) in [("rubric", 2700), ("strict", 2228)] {
        let out = tempfile::tempdir().unwrap();
        stedi_ok(&[
            "run",
            "--preset",
            preset,
            "--out",
            arg(out.path()),
            arg(&data),
        ]);
        let f = &audit(out.path())["findings"];
        assert_eq!(f["customers_without_consent"], 474, "{preset}");
        assert_eq!(f["readings_before_consent"], 8956, "{preset}");
        assert_eq!(f["cross_customer_matches"], cross, "{preset}");
        assert_eq!(f["duplicate_emails"], 0, "{preset}");
        assert_eq!(f["shared_serials"], 0, "{preset}");
    }
}

#[test]
fn written_files_have_the_rows_the_audit_states() {
    let Some(data) = course_data("written_files_have_the_rows_the_audit_states") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    stedi_ok(&[
        "run",
        "--preset",
        "rubric",
        "--out",
        arg(out.path()),
        arg(&data),
    ]);
    let audit = audit(out.path());
    for zone in ZONES {
        let text = std::fs::read_to_string(out.path().join(format!("{zone}.jsonl"))).unwrap();
        assert_eq!(
            text.lines().count() as u64,
            audit["zones"][zone]["rows"].as_u64().unwrap(),
            "{zone}"
        );
    }
}

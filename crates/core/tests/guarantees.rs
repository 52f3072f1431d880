//! The privacy guarantees the audit states, checked on 1,000 random datasets of hostile
//! shapes: duplicate emails, revocations, shared serials, equal timestamps across
//! customers, readings at the exact consent millisecond.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use stedi_core::audit::{build_and_write_threads, write_run};
use stedi_core::export::{CuratedPart, Format, Names, ZoneWriter};
use stedi_core::ingest::{read_bytes, Landing, Source};
use stedi_core::pii::Salt;
use stedi_core::{ConsentTime, MlJoin, Pii, Policy, Zone, Zones};

const DATASETS: u64 = 1000;

/// A random small dataset as three JSON Lines files.
fn dataset(seed: u64) -> Landing {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let emails = rng.gen_range(1..7);
    let serials = rng.gen_range(1..5);
    let mut customers = String::new();
    for _ in 0..rng.gen_range(1..12) {
        let email = rng.gen_range(0..emails);
        let serial = rng.gen_range(0..serials);
        // Few distinct update times, so ties between records of one email are common.
        let updated = rng.gen_range(0..3);
        let consent = match rng.gen_range(0..4) {
            0 => String::new(),
            1 => r#","shareWithResearchAsOfDate":null"#.to_string(),
            _ => format!(r#","shareWithResearchAsOfDate":{}"#, rng.gen_range(0..40)),
        };
        customers.push_str(&format!(
            "{{\"email\":\"user{email}@mail.test\",\"serialNumber\":\"SER-{serial}\",\"lastUpdateDate\":{updated}{consent}}}\n"
        ));
    }
    let mut phones = String::new();
    for _ in 0..rng.gen_range(0..60) {
        // One more email than customers have: readings of someone who never signed up.
        let user = rng.gen_range(0..=emails);
        let t = rng.gen_range(0..50);
        phones.push_str(&format!(
            "{{\"user\":\"user{user}@mail.test\",\"timestamp\":{t},\"x\":{},\"y\":0.5,\"z\":-1}}\n",
            rng.gen_range(-2..3)
        ));
    }
    let mut steps = String::new();
    for _ in 0..rng.gen_range(0..40) {
        let serial = rng.gen_range(0..=serials);
        let t = rng.gen_range(0..50);
        steps.push_str(&format!(
            "{{\"sensorReadingTime\":{t},\"serialNumber\":\"SER-{serial}\",\"distanceFromObject\":{}}}\n",
            rng.gen_range(100..300)
        ));
    }
    Landing::from_batches(vec![
        read_bytes(
            "customers.json",
            Some(Source::Customer),
            customers.as_bytes(),
        ),
        read_bytes(
            "phones.json",
            Some(Source::Accelerometer),
            phones.as_bytes(),
        ),
        read_bytes("steps.json", Some(Source::StepTrainer), steps.as_bytes()),
    ])
}

/// Each email's current record, worked out independently of the zone code: the greatest
/// lastUpdateDate, ties to the later record. Value: (serial, consent).
fn current(landing: &Landing) -> HashMap<u32, (u32, Option<i64>)> {
    let mut best: HashMap<u32, (Option<i64>, usize)> = HashMap::new();
    for (i, c) in landing.customers.iter().enumerate() {
        let entry = best.entry(c.email).or_insert((c.last_update, i));
        if c.last_update >= entry.0 {
            *entry = (c.last_update, i);
        }
    }
    best.into_iter()
        .map(|(email, (_, i))| {
            let c = &landing.customers[i];
            (email, (c.serial, c.research_consent))
        })
        .collect()
}

fn policies() -> Vec<Policy> {
    let mut out = Vec::new();
    for consent_time in [ConsentTime::Enforce, ConsentTime::Ignore] {
        for ml_join in [MlJoin::Device, MlJoin::Timestamp] {
            out.push(Policy {
                consent_time,
                ml_join,
                pii: Pii::Keep,
            });
        }
    }
    out
}

#[test]
fn only_consenting_customers_after_consent_and_only_their_own_devices() {
    for seed in 0..DATASETS {
        let l = dataset(seed);
        let current = current(&l);
        let consent_of = |email: u32| current.get(&email).and_then(|c| c.1);
        // Consent times of the consenting current owners of each serial.
        let owners_consent = |serial: u32| -> Vec<i64> {
            current
                .values()
                .filter(|c| c.0 == serial)
                .filter_map(|c| c.1)
                .collect()
        };
        for policy in policies() {
            let z = Zones::build(&l, &policy);
            let enforce = policy.consent_time == ConsentTime::Enforce;
            let ctx = format!("seed {seed}, {policy:?}");
            for i in z.customer_trusted.iter().chain(&z.customer_curated) {
                let c = &l.customers[*i as usize];
                assert_eq!(
                    current[&c.email].1, c.research_consent,
                    "not the current record: {ctx}"
                );
                assert!(
                    c.research_consent.is_some(),
                    "a customer without consent: {ctx}"
                );
            }
            for a in &z.accelerometer_trusted {
                let (user, t) = (
                    l.accelerometer.user[*a as usize],
                    l.accelerometer.timestamp[*a as usize],
                );
                let consent = consent_of(user)
                    .unwrap_or_else(|| panic!("reading of a non-consenting user: {ctx}"));
                assert!(!enforce || t >= consent, "reading before consent: {ctx}");
            }
            for s in &z.step_trainer_trusted {
                let (serial, t) = (
                    l.step_trainer.serial[*s as usize],
                    l.step_trainer.time[*s as usize],
                );
                let consents = owners_consent(serial);
                assert!(
                    !consents.is_empty(),
                    "a device without a consenting owner: {ctx}"
                );
                assert!(
                    !enforce || consents.iter().any(|c| t >= *c),
                    "step reading before consent: {ctx}"
                );
            }
            let mut not_owner = 0;
            for (s, a) in &z.machine_learning_curated {
                let serial = l.step_trainer.serial[*s as usize];
                let user = l.accelerometer.user[*a as usize];
                assert_eq!(
                    l.step_trainer.time[*s as usize], l.accelerometer.timestamp[*a as usize],
                    "{ctx}"
                );
                assert!(
                    z.step_trainer_trusted.contains(s) && z.accelerometer_trusted.contains(a),
                    "{ctx}"
                );
                let owns = current.get(&user).is_some_and(|c| c.0 == serial);
                if policy.ml_join == MlJoin::Device {
                    assert!(
                        owns,
                        "device join paired a serial with another user's phone: {ctx}"
                    );
                }
                not_owner += u64::from(!owns);
            }
            if policy.ml_join == MlJoin::Timestamp {
                assert_eq!(not_owner, z.findings.cross_customer_matches, "{ctx}");
            }
        }
    }
}

/// Rows in an output file: JSON Lines and CSV by lines, Parquet by reading it back.
fn rows_in(name: &str, bytes: &[u8]) -> u64 {
    if name.ends_with(".parquet") {
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            bytes::Bytes::copy_from_slice(bytes),
        )
        .unwrap()
        .build()
        .unwrap();
        reader.map(|b| b.unwrap().num_rows() as u64).sum()
    } else {
        let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
        lines - u64::from(name.ends_with(".csv"))
    }
}

#[test]
fn exports_hold_no_pii_when_asked_and_exactly_the_rows_the_audit_states() {
    let pii = [Pii::Pseudonymize, Pii::Drop, Pii::Keep];
    for seed in 0..DATASETS {
        let l = dataset(seed);
        let mut policy = policies()[seed as usize % 4];
        policy.pii = pii[(seed / 4) as usize % 3];
        let z = Zones::build(&l, &policy);
        let secrets: Vec<String> = (0..l.strings.len() as u32)
            .map(|id| l.strings.get(id).to_string())
            .collect();
        for format in Format::ALL {
            let audit = write_run(
                &l,
                &z,
                &policy,
                &Salt::given("s"),
                true,
                format,
                &mut |name| Ok(Collect(name.to_string())),
            )
            .unwrap();
            let written = COLLECTED.with(|c| std::mem::take(&mut *c.borrow_mut()));
            for output in &audit.outputs {
                // A file nothing was written to (an empty quarantine) has no entry.
                let bytes = written.get(&output.name).map_or(&[][..], Vec::as_slice);
                assert_eq!(
                    rows_in(&output.name, bytes),
                    output.rows,
                    "{} seed {seed} {policy:?}",
                    output.name
                );
                if let Some(zone) = output
                    .name
                    .split('.')
                    .next()
                    .and_then(|z| z.parse::<Zone>().ok())
                {
                    assert_eq!(output.rows, audit.rows(zone), "{} seed {seed}", output.name);
                }
            }
            let ml = written
                .get(&format.file_name(Zone::MachineLearningCurated))
                .map_or(&[][..], Vec::as_slice);
            if policy.pii != Pii::Keep {
                for secret in &secrets {
                    let found = ml.windows(secret.len()).any(|w| w == secret.as_bytes());
                    assert!(
                        !found,
                        "{secret} in {format:?} output, seed {seed}, {policy:?}"
                    );
                }
            }
        }
    }
}

thread_local! {
    static COLLECTED: std::cell::RefCell<HashMap<String, Vec<u8>>> = Default::default();
}

/// A writer that keeps a file's bytes in a thread-local map by name.
struct Collect(String);

impl std::io::Write for Collect {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        COLLECTED.with(|c| {
            c.borrow_mut()
                .entry(self.0.clone())
                .or_default()
                .extend_from_slice(buf)
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn building_and_writing_on_threads_gives_the_zones_and_bytes_of_one_thread() {
    for seed in 0..DATASETS / 10 {
        let l = dataset(seed);
        for policy in policies() {
            let z = Zones::build(&l, &policy);
            let salt = Salt::given("s");
            let format = Format::ALL[seed as usize % Format::ALL.len()];
            // The audit holds every file's SHA-256: the same audit, the same bytes.
            let one = write_run(&l, &z, &policy, &salt, true, format, &mut |_| {
                Ok(std::io::sink())
            })
            .unwrap();
            for threads in [2, 3, 16] {
                let (zones, audit) =
                    build_and_write_threads(&l, &policy, &salt, true, format, threads, &mut |_| {
                        Ok(std::io::sink())
                    })
                    .unwrap();
                assert_eq!(
                    audit.to_json(),
                    one.to_json(),
                    "seed {seed} threads {threads}"
                );
                assert_eq!(zones.machine_learning_curated, z.machine_learning_curated);
                assert_eq!(zones.current, z.current);
            }
        }
    }
}

#[test]
fn curated_parts_written_apart_make_the_zone_file_and_carry_no_dropped_names() {
    let zone = Zone::MachineLearningCurated;
    let salt = Salt::given("s");
    for seed in 0..DATASETS / 10 {
        let l = dataset(seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for mut policy in policies() {
            policy.pii = [Pii::Keep, Pii::Pseudonymize, Pii::Drop][seed as usize % 3];
            let z = Zones::build(&l, &policy);
            let w = ZoneWriter {
                landing: &l,
                zones: &z,
                pii: policy.pii,
                salt: &salt,
            };
            let n = z.machine_learning_curated.len();
            for format in [Format::Csv, Format::Jsonl] {
                let mut whole = Vec::new();
                w.write(zone, format, &mut whole).unwrap();
                let mut cuts: Vec<usize> = (0..rng.gen_range(0..4))
                    .map(|_| rng.gen_range(0..=n))
                    .chain([0, n])
                    .collect();
                cuts.sort_unstable();
                cuts.dedup();
                if cuts.len() == 1 {
                    cuts.push(0);
                }
                // Parts written here and parts written from their bytes, in turn.
                let mut joined = Vec::new();
                for (k, rows) in cuts.windows(2).map(|c| c[0]..c[1]).enumerate() {
                    if k % 2 == 0 {
                        let names = Names::of_rows(&w, zone, rows.clone());
                        w.write_rows(&names, zone, format, rows, &mut joined)
                            .unwrap();
                        continue;
                    }
                    let bytes = w.curated_part(rows.clone()).encode();
                    let text = String::from_utf8_lossy(&bytes);
                    if policy.pii == Pii::Drop {
                        assert!(!text.contains("@mail.test"), "seed {seed}: {text}");
                        assert!(!text.contains("SER-"), "seed {seed}: {text}");
                    }
                    let part = CuratedPart::decode(&bytes).unwrap();
                    assert_eq!(part.rows(), rows.len());
                    part.write(format, &mut joined).unwrap();
                }
                assert_eq!(
                    String::from_utf8(joined).unwrap(),
                    String::from_utf8(whole).unwrap(),
                    "seed {seed}, {format:?}, cut at {cuts:?}"
                );
            }
        }
    }
}

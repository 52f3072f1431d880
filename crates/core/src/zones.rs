//! The zone rules: consent, the current-record rule, and the machine-learning join.
//!
//! Zones are lists of row indices into the landing columns, in processing order, so
//! building them copies no data.

use crate::ingest::Landing;
use crate::policy::{MlJoin, Policy};
use serde::{Deserialize, Serialize};

/// The eight zones, named as in the original project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    /// Every accepted customer record.
    CustomerLanding,
    /// Every accepted accelerometer reading.
    AccelerometerLanding,
    /// Every accepted step-trainer reading.
    StepTrainerLanding,
    /// Current customer records with consent to research.
    CustomerTrusted,
    /// Readings of trusted customers (after consent, when enforced).
    AccelerometerTrusted,
    /// Trusted customers with at least one trusted reading.
    CustomerCurated,
    /// Step readings of curated customers' devices (after consent, when enforced).
    StepTrainerTrusted,
    /// Step readings joined to phone readings taken at the same millisecond.
    MachineLearningCurated,
}

impl Zone {
    /// All zones, in pipeline order.
    pub const ALL: [Zone; 8] = [
        Zone::CustomerLanding,
        Zone::AccelerometerLanding,
        Zone::StepTrainerLanding,
        Zone::CustomerTrusted,
        Zone::AccelerometerTrusted,
        Zone::CustomerCurated,
        Zone::StepTrainerTrusted,
        Zone::MachineLearningCurated,
    ];

    /// A landing zone: the records as read, whatever the policy.
    pub fn is_landing(self) -> bool {
        matches!(
            self,
            Zone::CustomerLanding | Zone::AccelerometerLanding | Zone::StepTrainerLanding
        )
    }

    /// The zone's name, e.g. `customer_trusted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Zone::CustomerLanding => "customer_landing",
            Zone::AccelerometerLanding => "accelerometer_landing",
            Zone::StepTrainerLanding => "step_trainer_landing",
            Zone::CustomerTrusted => "customer_trusted",
            Zone::AccelerometerTrusted => "accelerometer_trusted",
            Zone::CustomerCurated => "customer_curated",
            Zone::StepTrainerTrusted => "step_trainer_trusted",
            Zone::MachineLearningCurated => "machine_learning_curated",
        }
    }
}

impl std::str::FromStr for Zone {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        Zone::ALL
            .into_iter()
            .find(|z| z.as_str() == s)
            .ok_or_else(|| crate::Error::InvalidOption {
                option: "zone",
                value: s.to_string(),
                expected: "one of the eight zone names",
            })
    }
}

/// What the filters found, computed on the active policy's trusted and curated zones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Findings {
    /// Current customer records without consent to research.
    pub customers_without_consent: u64,
    /// Accelerometer readings of trusted customers taken before their consent.
    pub readings_before_consent: u64,
    /// Step/accelerometer pairs at the same millisecond whose phone user does not own the
    /// step trainer: what a timestamp-only join lets through.
    pub cross_customer_matches: u64,
    /// Emails with more than one landing record.
    pub duplicate_emails: u64,
    /// Serial numbers owned by more than one current customer.
    pub shared_serials: u64,
}

/// The trusted and curated zones, as row indices into [`Landing`].
#[derive(Debug, Clone, Default)]
pub struct Zones {
    /// Indices into `landing.customers`.
    pub customer_trusted: Vec<u32>,
    /// Indices into `landing.accelerometer`.
    pub accelerometer_trusted: Vec<u32>,
    /// Indices into `landing.customers`.
    pub customer_curated: Vec<u32>,
    /// Indices into `landing.step_trainer`.
    pub step_trainer_trusted: Vec<u32>,
    /// (step-trainer index, accelerometer index) pairs.
    pub machine_learning_curated: Vec<(u32, u32)>,
    /// See [`Findings`].
    pub findings: Findings,
    /// Per interned string (an email), the index of its current customer record;
    /// `u32::MAX` for strings that are no customer's email.
    pub current: Vec<u32>,
}

/// No row: the value of [`Zones::current`] for strings that are not an email.
pub const NONE: u32 = u32::MAX;

/// Readings in time order, keeping processing order within one millisecond, to find
/// those of a given millisecond.
enum ByTime {
    /// Each reading as one integer: its time after the earliest, above its index. These
    /// sort and search as plain integers side by side; sorting indices instead compares
    /// times looked up all over the column: the same order, reached more slowly.
    Packed {
        keys: Vec<u64>,
        earliest: i64,
        /// Bits of the index; the time is above them.
        shift: u32,
    },
    /// Times too far apart to share an integer with an index: indices sorted by time
    /// (and by index: a stable sort would need as much memory again).
    Indices(Vec<u32>),
}

impl ByTime {
    /// The readings `rows` (indices into `times`) in time order.
    fn new(rows: &[u32], times: &[i64]) -> ByTime {
        let time = |i: &u32| times[*i as usize];
        let Some((earliest, latest)) = rows.iter().map(time).fold(None, |span, t| match span {
            None => Some((t, t)),
            Some((earliest, latest)) => Some((t.min(earliest), t.max(latest))),
        }) else {
            return ByTime::Indices(Vec::new());
        };
        let shift = u64::BITS - (times.len() as u64).leading_zeros();
        let span = (i128::from(latest) - i128::from(earliest)) as u128;
        if shift >= u64::BITS || span >> (u64::BITS - shift) != 0 {
            let mut rows = rows.to_vec();
            rows.sort_unstable_by_key(|i| (time(i), *i));
            return ByTime::Indices(rows);
        }
        let mut keys: Vec<u64> = rows
            .iter()
            .map(|i| (time(i).abs_diff(earliest) << shift) | u64::from(*i))
            .collect();
        keys.sort_unstable();
        ByTime::Packed {
            keys,
            earliest,
            shift,
        }
    }

    /// Calls `f` with each reading at millisecond `at`, in order. `near` is where the
    /// search starts, and is left where the readings of `at` are (or would be): lookups
    /// of times that mostly rise (a step trainer's readings, one device after another)
    /// each search only the few readings between one time and the next.
    fn each_at(&self, at: i64, times: &[i64], near: &mut usize, mut f: impl FnMut(u32)) {
        match self {
            ByTime::Packed {
                keys,
                earliest,
                shift,
            } => {
                let Some(after) = at.checked_sub(*earliest).filter(|d| *d >= 0) else {
                    return;
                };
                let Some(first) = (after as u64)
                    .checked_shl(*shift)
                    .filter(|k| k >> shift == after as u64)
                else {
                    return;
                };
                let index = (1u64 << shift) - 1;
                let start = partition_from(keys.len(), *near, |i| keys[i] < first);
                *near = start;
                for k in keys[start..]
                    .iter()
                    .take_while(|k| *k >> shift == after as u64)
                {
                    f((k & index) as u32);
                }
            }
            ByTime::Indices(rows) => {
                let start = partition_from(rows.len(), *near, |i| times[rows[i] as usize] < at);
                *near = start;
                for a in rows[start..]
                    .iter()
                    .take_while(|a| times[**a as usize] == at)
                {
                    f(*a);
                }
            }
        }
    }
}

/// The first of positions `0..len` at which `before` is false (it holds up to some
/// position and not after it), searched for from `near` outward in steps that double,
/// then by halves: a few looks when the answer is near, twice a binary search's at most.
fn partition_from(len: usize, near: usize, before: impl Fn(usize) -> bool) -> usize {
    let near = near.min(len);
    // The answer is in lo..=hi.
    let (mut lo, mut hi);
    let mut step = 1;
    if near < len && before(near) {
        lo = near + 1;
        loop {
            let probe = near + step;
            if probe >= len {
                hi = len;
                break;
            }
            if !before(probe) {
                hi = probe;
                break;
            }
            lo = probe + 1;
            step *= 2;
        }
    } else {
        hi = near;
        loop {
            let Some(probe) = near.checked_sub(step) else {
                lo = 0;
                break;
            };
            if before(probe) {
                lo = probe + 1;
                break;
            }
            hi = probe;
            step *= 2;
        }
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match before(mid) {
            true => lo = mid + 1,
            false => hi = mid,
        }
    }
    lo
}

fn idx(i: usize) -> u32 {
    u32::try_from(i).expect("fewer than 4 billion rows")
}

impl Zones {
    /// Applies the policy's rules to the landing zones.
    pub fn build(landing: &Landing, policy: &Policy) -> Zones {
        let enforce = policy.enforces_consent_time();
        let n_strings = landing.strings.len();
        let customers = &landing.customers;

        // The current record of each email: greatest lastUpdateDate, ties to the later one.
        let mut current = vec![NONE; n_strings];
        let mut records_per_email = vec![0u32; n_strings];
        for (i, c) in customers.iter().enumerate() {
            let slot = &mut current[c.email as usize];
            records_per_email[c.email as usize] += 1;
            if *slot == NONE || c.last_update >= customers[*slot as usize].last_update {
                *slot = idx(i);
            }
        }
        let is_current = |i: usize| current[customers[i].email as usize] == idx(i);

        // Consent time per trusted email (None: not trusted).
        let mut consent: Vec<Option<i64>> = vec![None; n_strings];
        let mut customer_trusted = Vec::new();
        let mut findings = Findings {
            duplicate_emails: records_per_email.iter().filter(|n| **n > 1).count() as u64,
            ..Findings::default()
        };
        let mut owners_per_serial = vec![0u32; n_strings];
        for (i, c) in customers.iter().enumerate().filter(|(i, _)| is_current(*i)) {
            owners_per_serial[c.serial as usize] += 1;
            match c.research_consent {
                Some(t) => {
                    consent[c.email as usize] = Some(t);
                    customer_trusted.push(idx(i));
                }
                None => findings.customers_without_consent += 1,
            }
        }
        findings.shared_serials = owners_per_serial.iter().filter(|n| **n > 1).count() as u64;

        let acc = &landing.accelerometer;
        let mut accelerometer_trusted = Vec::new();
        let mut has_reading = vec![false; n_strings];
        for i in 0..acc.len() {
            let user = acc.user[i] as usize;
            let Some(t) = consent[user] else { continue };
            let before = acc.timestamp[i] < t;
            findings.readings_before_consent += u64::from(before);
            if enforce && before {
                continue;
            }
            accelerometer_trusted.push(idx(i));
            has_reading[user] = true;
        }

        let customer_curated: Vec<u32> = customer_trusted
            .iter()
            .copied()
            .filter(|i| has_reading[customers[*i as usize].email as usize])
            .collect();

        // Earliest consent among each serial's curated owners; the device each user owns.
        let mut serial_consent: Vec<Option<i64>> = vec![None; n_strings];
        let mut device_of = vec![NONE; n_strings];
        for i in &customer_curated {
            let c = &customers[*i as usize];
            let t = c.research_consent.expect("curated customers consented");
            let slot = &mut serial_consent[c.serial as usize];
            *slot = Some(slot.map_or(t, |s| s.min(t)));
            device_of[c.email as usize] = c.serial;
        }

        let steps = &landing.step_trainer;
        let step_trainer_trusted: Vec<u32> = (0..steps.len())
            .filter(|i| match serial_consent[steps.serial[*i] as usize] {
                None => false,
                Some(t) => !enforce || steps.time[*i] >= t,
            })
            .map(idx)
            .collect();

        let by_time = ByTime::new(&accelerometer_trusted, &acc.timestamp);
        let mut machine_learning_curated = Vec::new();
        let mut near = 0;
        for s in &step_trainer_trusted {
            let (time, serial) = (steps.time[*s as usize], steps.serial[*s as usize]);
            by_time.each_at(time, &acc.timestamp, &mut near, |a| {
                let own = device_of[acc.user[a as usize] as usize] == serial;
                findings.cross_customer_matches += u64::from(!own);
                if own || policy.ml_join == MlJoin::Timestamp {
                    machine_learning_curated.push((*s, a));
                }
            });
        }

        Zones {
            customer_trusted,
            accelerometer_trusted,
            customer_curated,
            step_trainer_trusted,
            machine_learning_curated,
            findings,
            current,
        }
    }

    /// Indices of the current customer records (one per email), ascending.
    pub fn current_records<'a>(&'a self, landing: &'a Landing) -> impl Iterator<Item = u32> + 'a {
        (0..landing.customers.len())
            .map(idx)
            .filter(|i| self.current[landing.customers[*i as usize].email as usize] == *i)
    }

    /// The current record of an email's string id, if it is a customer's email.
    pub fn current_of(&self, email: u32) -> Option<u32> {
        self.current
            .get(email as usize)
            .copied()
            .filter(|i| *i != NONE)
    }

    /// Rows in a zone.
    pub fn rows(&self, landing: &Landing, zone: Zone) -> usize {
        match zone {
            Zone::CustomerLanding => landing.customers.len(),
            Zone::AccelerometerLanding => landing.accelerometer.len(),
            Zone::StepTrainerLanding => landing.step_trainer.len(),
            Zone::CustomerTrusted => self.customer_trusted.len(),
            Zone::AccelerometerTrusted => self.accelerometer_trusted.len(),
            Zone::CustomerCurated => self.customer_curated.len(),
            Zone::StepTrainerTrusted => self.step_trainer_trusted.len(),
            Zone::MachineLearningCurated => self.machine_learning_curated.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{read_bytes, Landing};
    use crate::policy::{ConsentTime, Preset};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_search_from_anywhere_finds_what_a_binary_search_does(
            mut values in prop::collection::vec(0u8..20, 0..80),
            below in 0u8..22,
            near in 0usize..90,
        ) {
            values.sort_unstable();
            let want = values.partition_point(|v| *v < below);
            prop_assert_eq!(partition_from(values.len(), near, |i| values[i] < below), want);
        }

        #[test]
        fn readings_of_a_millisecond_are_found_in_processing_order(
            times in prop::collection::vec(
                prop_oneof![
                    0i64..6,
                    Just(i64::MIN),
                    Just(i64::MAX),
                    1_655_564_000_000i64..1_655_564_000_004,
                ],
                0..60,
            ),
            keep in prop::collection::vec(any::<bool>(), 60),
            far in any::<bool>(),
        ) {
            // Without the extremes, the times pack beside the indices.
            let times: Vec<i64> = times
                .into_iter()
                .map(|t| if far || t.unsigned_abs() < u64::MAX / 4 { t } else { 3 })
                .collect();
            let rows: Vec<u32> = (0..times.len() as u32).filter(|i| keep[*i as usize]).collect();
            let by_time = ByTime::new(&rows, &times);
            let mut asked: Vec<i64> = times.clone();
            asked.extend([-1, 6, i64::MIN, i64::MAX, 1_655_564_000_002]);
            // Asked in the order given (rising, falling, far apart), each search starting
            // where the last one ended, and from every other place too.
            let mut near = 0;
            for (n, at) in asked.into_iter().enumerate() {
                let mut found = Vec::new();
                by_time.each_at(at, &times, &mut near, |i| found.push(i));
                let mut again = Vec::new();
                by_time.each_at(at, &times, &mut (n * 7 % 61), |i| again.push(i));
                prop_assert_eq!(&again, &found);
                let want: Vec<u32> = rows.iter().copied().filter(|i| times[*i as usize] == at).collect();
                prop_assert_eq!(found, want, "at {}", at);
            }
        }
    }

    /// A customer line; `consent` is the raw JSON value or `None` for an absent key.
    fn customer(email: &str, serial: &str, updated: i64, consent: Option<&str>) -> String {
        let consent = consent.map_or(String::new(), |c| {
            format!(r#","shareWithResearchAsOfDate":{c}"#)
        });
        format!(
            r#"{{"email":"{email}","serialNumber":"{serial}","lastUpdateDate":{updated}{consent}}}"#
        )
    }
    fn phone(user: &str, t: i64) -> String {
        format!(r#"{{"user":"{user}","timestamp":{t},"x":0,"y":0,"z":1}}"#)
    }
    fn step(serial: &str, t: i64) -> String {
        format!(r#"{{"sensorReadingTime":{t},"serialNumber":"{serial}","distanceFromObject":200}}"#)
    }
    fn landing(customers: &[String], phones: &[String], steps: &[String]) -> Landing {
        Landing::from_batches(vec![
            read_bytes(
                "c.json",
                Some(crate::ingest::Source::Customer),
                customers.join("\n").as_bytes(),
            ),
            read_bytes(
                "a.json",
                Some(crate::ingest::Source::Accelerometer),
                phones.join("\n").as_bytes(),
            ),
            read_bytes(
                "s.json",
                Some(crate::ingest::Source::StepTrainer),
                steps.join("\n").as_bytes(),
            ),
        ])
    }
    fn strict() -> Policy {
        Policy::preset(Preset::Strict)
    }
    fn rubric() -> Policy {
        Policy::preset(Preset::Rubric)
    }
    fn emails(l: &Landing, rows: &[u32]) -> Vec<String> {
        rows.iter()
            .map(|i| l.strings.get(l.customers[*i as usize].email).to_string())
            .collect()
    }

    #[test]
    fn absent_and_null_consent_both_mean_no_consent() {
        let l = landing(
            &[
                customer("absent@x", "s1", 1, None),
                customer("null@x", "s2", 1, Some("null")),
                customer("yes@x", "s3", 1, Some("0")),
            ],
            &[],
            &[],
        );
        let z = Zones::build(&l, &strict());
        assert_eq!(emails(&l, &z.customer_trusted), vec!["yes@x"]);
        assert_eq!(z.findings.customers_without_consent, 2);
    }

    #[test]
    fn a_later_revocation_wins_over_an_earlier_consent() {
        let l = landing(
            &[
                customer("a@x", "s1", 5, None), // the current record: revoked
                customer("a@x", "s1", 1, Some("1")),
                customer("b@x", "s2", 1, None),
                customer("b@x", "s2", 3, Some("2")), // consent given later
            ],
            &[phone("a@x", 10), phone("b@x", 10)],
            &[],
        );
        let z = Zones::build(&l, &strict());
        assert_eq!(emails(&l, &z.customer_trusted), vec!["b@x"]);
        assert_eq!(z.accelerometer_trusted, vec![1]);
        assert_eq!(z.findings.duplicate_emails, 2);
    }

    #[test]
    fn equal_last_update_ties_go_to_the_later_record() {
        let l = landing(
            &[
                customer("a@x", "s1", 5, Some("1")),
                customer("a@x", "s1", 5, None),
            ],
            &[],
            &[],
        );
        assert!(Zones::build(&l, &strict()).customer_trusted.is_empty());
        let l = landing(
            &[
                customer("a@x", "s1", 5, None),
                customer("a@x", "s1", 5, Some("1")),
            ],
            &[],
            &[],
        );
        assert_eq!(Zones::build(&l, &strict()).customer_trusted, vec![1]);
    }

    #[test]
    fn a_reading_at_the_consent_millisecond_is_kept_one_before_is_not() {
        let l = landing(
            &[customer("a@x", "s1", 1, Some("100"))],
            &[phone("a@x", 99), phone("a@x", 100), phone("a@x", 101)],
            &[step("s1", 99), step("s1", 100), step("s1", 101)],
        );
        let z = Zones::build(&l, &strict());
        assert_eq!(z.accelerometer_trusted, vec![1, 2]);
        assert_eq!(z.step_trainer_trusted, vec![1, 2]);
        assert_eq!(z.machine_learning_curated, vec![(1, 1), (2, 2)]);
        assert_eq!(z.findings.readings_before_consent, 1);
        let mut ignore = strict();
        ignore.consent_time = ConsentTime::Ignore;
        let z = Zones::build(&l, &ignore);
        assert_eq!(z.accelerometer_trusted, vec![0, 1, 2]);
        assert_eq!(z.step_trainer_trusted, vec![0, 1, 2]);
        assert_eq!(z.findings.readings_before_consent, 1);
    }

    #[test]
    fn curated_customers_need_a_trusted_reading() {
        let l = landing(
            &[
                customer("a@x", "s1", 1, Some("100")),
                customer("b@x", "s2", 1, Some("0")),
            ],
            &[phone("a@x", 50), phone("b@x", 50)],
            &[step("s1", 200), step("s2", 200)],
        );
        let z = Zones::build(&l, &strict());
        assert_eq!(emails(&l, &z.customer_curated), vec!["b@x"]);
        assert_eq!(
            z.step_trainer_trusted,
            vec![1],
            "a@x is not curated, so s1 is not trusted"
        );
        let z = Zones::build(&l, &rubric());
        assert_eq!(emails(&l, &z.customer_curated), vec!["a@x", "b@x"]);
    }

    #[test]
    fn a_shared_serial_is_trusted_from_its_earliest_owner_consent() {
        let l = landing(
            &[
                customer("a@x", "s1", 1, Some("100")),
                customer("b@x", "s1", 1, Some("10")),
            ],
            &[phone("a@x", 150), phone("b@x", 20)],
            &[step("s1", 50), step("s1", 5)],
        );
        let z = Zones::build(&l, &strict());
        assert_eq!(z.findings.shared_serials, 1);
        assert_eq!(z.step_trainer_trusted, vec![0]);
    }

    #[test]
    fn device_join_pairs_only_the_owner_timestamp_join_pairs_anyone() {
        let l = landing(
            &[
                customer("a@x", "s1", 1, Some("0")),
                customer("b@x", "s2", 1, Some("0")),
            ],
            // Two readings of a@x and one of b@x at t=10; b@x alone at t=20.
            &[
                phone("a@x", 10),
                phone("b@x", 10),
                phone("a@x", 10),
                phone("b@x", 20),
            ],
            &[step("s1", 10), step("s2", 20)],
        );
        let z = Zones::build(&l, &strict());
        assert_eq!(z.machine_learning_curated, vec![(0, 0), (0, 2), (1, 3)]);
        assert_eq!(z.findings.cross_customer_matches, 1);
        let z = Zones::build(&l, &rubric());
        assert_eq!(
            z.machine_learning_curated,
            vec![(0, 0), (0, 1), (0, 2), (1, 3)]
        );
        assert_eq!(z.findings.cross_customer_matches, 1);
    }

    #[test]
    fn emails_and_serials_compare_case_sensitively() {
        let l = landing(
            &[customer("A@x", "S1", 1, Some("0"))],
            &[phone("a@x", 10), phone("A@x", 10)],
            &[step("s1", 10), step("S1", 10)],
        );
        let z = Zones::build(&l, &strict());
        assert_eq!(z.accelerometer_trusted, vec![1]);
        assert_eq!(z.step_trainer_trusted, vec![1]);
    }

    #[test]
    fn landing_zones_hold_every_accepted_record() {
        let l = landing(
            &[customer("a@x", "s1", 1, None)],
            &[phone("z@x", 1)],
            &[step("q", 1)],
        );
        let z = Zones::build(&l, &strict());
        assert_eq!(
            Zone::ALL.map(|zone| z.rows(&l, zone)),
            [1, 1, 1, 0, 0, 0, 0, 0]
        );
    }
}

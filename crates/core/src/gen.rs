//! A generator of synthetic landing data with the course data's shape and quirks: about
//! half the customers without a consent key, consent given mid-session (readings before
//! consent), several phone readings per millisecond, step readings that share their time
//! with the owner's phone and now and then with another customer's, a few updated and
//! revoked customer records. Deterministic for a given scale and seed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write as _;

/// Customers per scale unit.
pub const CUSTOMERS_PER_SCALE: u64 = 1000;

const FIRST: [&str; 24] = [
    "Santosh",
    "Ben",
    "Frank",
    "Sarah",
    "Jerry",
    "Danny",
    "Ahmed",
    "Lyn",
    "Mohammed",
    "Jaya",
    "Chris",
    "Gail",
    "Sean",
    "Rico",
    "Liz",
    "Trevor",
    "Bobby",
    "Senthil",
    "Edward",
    "Neeraj",
    "Larry",
    "Aisha",
    "Kim",
    "Stephanie",
];
const LAST: [&str; 20] = [
    "Clayton",
    "Khatib",
    "Doshi",
    "Lincoln",
    "Mitra",
    "Staples",
    "Jones",
    "Habschied",
    "Hansen",
    "Wu",
    "Abram",
    "Gonzalez",
    "Aristotle",
    "Anandh",
    "Huey",
    "Mckinnon",
    "Spencer",
    "Evans",
    "Army",
    "Olsen",
];

/// Where the course data begins (June 2022), in epoch ms.
const EPOCH: i64 = 1_655_564_000_000;

/// One generated file: a path relative to the output folder, and its bytes.
#[derive(Debug, Clone)]
pub struct GeneratedFile {
    /// e.g. `accelerometer/landing/accelerometer-0001.json`.
    pub path: String,
    /// JSON Lines.
    pub bytes: Vec<u8>,
}

struct Person {
    email: String,
    serial: String,
    session_start: i64,
}

/// Generates a landing set of about `scale` x 11 MB, handing each file to `sink` as soon as
/// it is complete (so large sets never sit in memory whole).
pub fn generate<E>(
    scale: u32,
    seed: u64,
    mut sink: impl FnMut(GeneratedFile) -> Result<(), E>,
) -> Result<(), E> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = u64::from(scale.max(1)) * CUSTOMERS_PER_SCALE;
    let per_file = 10_000 * (scale as usize / 10).max(1);

    let mut people = Vec::with_capacity(n as usize);
    let mut customers = String::new();
    for i in 0..n {
        let first = FIRST[rng.gen_range(0..FIRST.len())];
        let last = LAST[rng.gen_range(0..LAST.len())];
        let email = format!("{first}.{last}{i}@test.com");
        let serial = uuid(&mut rng);
        let registered = EPOCH + i as i64 * 37_000 + rng.gen_range(0..20_000);
        let session_start = registered + rng.gen_range(5_000..60_000);
        // Half consent; one in five of those consents part-way through the first session.
        let consent = rng.gen_bool(0.5).then(|| {
            if rng.gen_bool(0.2) {
                session_start + rng.gen_range(10_000..40_000)
            } else {
                registered
            }
        });
        let name = format!("{first} {last}");
        write_customer(
            &mut customers,
            &name,
            &email,
            &serial,
            registered,
            registered,
            consent,
        );
        // A few customers update their record later; some of those revoke consent.
        if rng.gen_bool(0.01) {
            let updated = registered + rng.gen_range(100_000..10_000_000);
            let later_consent = if rng.gen_bool(0.4) { None } else { consent };
            write_customer(
                &mut customers,
                &name,
                &email,
                &serial,
                registered,
                updated,
                later_consent,
            );
        }
        people.push(Person {
            email,
            serial,
            session_start,
        });
    }
    sink(GeneratedFile {
        path: format!("customer/landing/customer-{seed}.json"),
        bytes: customers.into_bytes(),
    })?;

    let mut phones = Chunks::new("accelerometer", seed, per_file);
    let mut steps = Chunks::new("step_trainer", seed, per_file);
    for (i, p) in people.iter().enumerate() {
        if rng.gen_bool(0.05) {
            continue; // never used the device
        }
        let mut t = p.session_start;
        for _ in 0..rng.gen_range(24..36) {
            t += rng.gen_range(800..3_000);
            let distance = rng.gen_range(150..300);
            writeln!(
                steps.buf,
                r#"{{"sensorReadingTime":{t},"serialNumber":"{}","distanceFromObject":{distance}}}"#,
                p.serial
            )
            .expect("writing to a String cannot fail");
            steps.record(&mut sink)?;
            for _ in 0..rng.gen_range(2..=3) {
                write_reading(&mut phones.buf, &p.email, t, &mut rng);
                phones.record(&mut sink)?;
            }
            // Now and then another customer's phone reads at the very same millisecond.
            if i > 0 && rng.gen_bool(0.03) {
                let other = &people[rng.gen_range(0..i)];
                write_reading(&mut phones.buf, &other.email, t, &mut rng);
                phones.record(&mut sink)?;
            }
        }
    }
    phones.flush(&mut sink)?;
    steps.flush(&mut sink)
}

fn write_customer(
    out: &mut String,
    name: &str,
    email: &str,
    serial: &str,
    registered: i64,
    updated: i64,
    consent: Option<i64>,
) {
    let research = consent.map_or(String::new(), |c| {
        format!(r#", "shareWithResearchAsOfDate": {c}"#)
    });
    let public = consent.map_or(String::new(), |c| {
        format!(r#", "shareWithPublicAsOfDate": {c}"#)
    });
    writeln!(
        out,
        r#"{{"customerName": "{name}", "email": "{email}", "phone": "8015551212", "birthDay": "1900-01-01", "serialNumber": "{serial}", "registrationDate": {registered}, "lastUpdateDate": {updated}{research}{public}, "shareWithFriendsAsOfDate": {registered}}}"#
    )
    .expect("writing to a String cannot fail");
}

fn write_reading(out: &mut String, user: &str, t: i64, rng: &mut ChaCha8Rng) {
    let mut axis = || f64::from(rng.gen_range(-10i32..=10)) / 10.0;
    let (x, y, z) = (axis(), axis(), axis());
    writeln!(
        out,
        r#"{{"user":"{user}","timestamp":{t},"x":{x:?},"y":{y:?},"z":{z:?}}}"#
    )
    .expect("writing to a String cannot fail");
}

fn uuid(rng: &mut ChaCha8Rng) -> String {
    let b: [u8; 16] = rng.gen();
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Records of one source, cut into files of `per_file` records.
struct Chunks {
    source: &'static str,
    seed: u64,
    per_file: usize,
    buf: String,
    records: usize,
    files: usize,
}

impl Chunks {
    fn new(source: &'static str, seed: u64, per_file: usize) -> Self {
        Chunks {
            source,
            seed,
            per_file,
            buf: String::new(),
            records: 0,
            files: 0,
        }
    }

    fn record<E>(
        &mut self,
        sink: &mut impl FnMut(GeneratedFile) -> Result<(), E>,
    ) -> Result<(), E> {
        self.records += 1;
        if self.records == self.per_file {
            self.flush(sink)?;
        }
        Ok(())
    }

    fn flush<E>(&mut self, sink: &mut impl FnMut(GeneratedFile) -> Result<(), E>) -> Result<(), E> {
        if self.records == 0 {
            return Ok(());
        }
        self.files += 1;
        self.records = 0;
        sink(GeneratedFile {
            path: format!(
                "{0}/landing/{0}-{1}-{2:04}.json",
                self.source, self.seed, self.files
            ),
            bytes: std::mem::take(&mut self.buf).into_bytes(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(scale: u32, seed: u64) -> Vec<GeneratedFile> {
        let mut out = Vec::new();
        generate(scale, seed, |f| {
            out.push(f);
            Ok::<_, ()>(())
        })
        .unwrap();
        out
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = files(1, 7);
        let b = files(1, 7);
        let c = files(1, 8);
        assert_eq!(a.len(), b.len());
        assert!(a
            .iter()
            .zip(&b)
            .all(|(x, y)| x.path == y.path && x.bytes == y.bytes));
        assert_ne!(a[0].bytes, c[0].bytes);
    }

    #[test]
    fn scale_one_is_about_the_course_size() {
        let total: usize = files(1, 1).iter().map(|f| f.bytes.len()).sum();
        assert!((8_000_000..14_000_000).contains(&total), "{total} bytes");
    }
}

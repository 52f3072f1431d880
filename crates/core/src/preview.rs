//! Zone previews: any zone as a sorted, searchable table, a page at a time, and for each
//! customer found, where they are in the pipeline and why they are missing from a zone.

use crate::export::{Cell, Names, ZoneWriter};
use crate::ingest::Landing;
use crate::policy::{MlJoin, Policy};
use crate::zones::{Zone, Zones};
use arrow_schema::DataType;
use serde::{Deserialize, Serialize};

/// Rows per preview page.
pub const PREVIEW_ROWS: usize = 100;

/// Customers a search explains at most.
const EXPLAINED: usize = 5;

/// A column to sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sort {
    /// The column's position in the zone's schema.
    pub column: usize,
    /// Largest first.
    pub descending: bool,
}

/// Which rows of a zone to show: sorted by a column (or in zone order), and only those of
/// customers whose email or serial number contains the query.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Selection {
    /// The zone.
    pub zone: Zone,
    /// The sort; `None` keeps the zone's order.
    pub sort: Option<Sort>,
    /// Email or serial text to look for; empty keeps every row.
    pub query: String,
}

/// One page of a zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    /// What was asked for.
    pub selection: Selection,
    /// Column names, as in the zone's files.
    pub columns: Vec<String>,
    /// This page's rows, as text (as written to the zone's files).
    pub rows: Vec<Vec<String>>,
    /// Rows matching the search, on all pages.
    pub matching: usize,
    /// Rows in the zone.
    pub zone_rows: usize,
    /// This page's number, from 0.
    pub page: usize,
    /// For customers the search found: why they are missing from this zone, or which of
    /// their rows the rules left out.
    pub notes: Vec<String>,
}

/// Where one customer is in the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerStatus {
    /// Index of their current record in customer_landing.
    pub record: u32,
    /// Email.
    pub email: String,
    /// Serial number of their step trainer.
    pub serial: String,
    /// Records with this email.
    pub records: u64,
    /// shareWithResearchAsOfDate of the current record.
    pub consent: Option<i64>,
    /// An earlier record had consent and the current one has none.
    pub revoked: bool,
    /// Whether the policy drops readings taken before consent.
    pub enforce: bool,
    /// Phone readings in accelerometer_landing.
    pub readings: u64,
    /// Of those, taken before consent.
    pub readings_before_consent: u64,
    /// Of those, in accelerometer_trusted.
    pub readings_kept: u64,
    /// Readings of their serial number in step_trainer_landing.
    pub steps: u64,
    /// Of those, in step_trainer_trusted.
    pub steps_kept: u64,
    /// machine_learning_curated rows with their phone or their device.
    pub ml_rows: u64,
    /// Whether the join pairs a step only with its owner's phone.
    pub device_join: bool,
}

impl CustomerStatus {
    fn consent_reason(&self) -> Option<String> {
        match (self.consent, self.revoked) {
            (Some(_), _) => None,
            (None, true) => Some(
                "consent revoked: an earlier record had consent, the current one has none".into(),
            ),
            (None, false) => {
                Some("never consented: no shareWithResearchAsOfDate in the current record".into())
            }
        }
    }

    fn readings_reason(&self) -> Option<String> {
        if let Some(why) = self.consent_reason() {
            return Some(why);
        }
        if self.readings == 0 {
            return Some("no phone readings with this email in the files loaded".into());
        }
        (self.readings_kept == 0).then(|| {
            format!(
                "all {} phone readings were taken before consent ({})",
                self.readings,
                self.consent.unwrap_or_default()
            )
        })
    }

    fn steps_reason(&self) -> Option<String> {
        if let Some(why) = self.readings_reason() {
            return Some(format!("not in customer_curated: {why}"));
        }
        if self.steps == 0 {
            return Some(format!(
                "no step-trainer readings of serial {} in the files loaded",
                self.serial
            ));
        }
        (self.steps_kept == 0).then(|| {
            format!(
                "all {} step readings of serial {} were taken before consent",
                self.steps, self.serial
            )
        })
    }

    /// Why the customer has no row in `zone`; `None` when they have one.
    pub fn absent_from(&self, zone: Zone) -> Option<String> {
        match zone {
            Zone::CustomerLanding => None,
            Zone::AccelerometerLanding => (self.readings == 0)
                .then(|| "no phone readings with this email in the files loaded".into()),
            Zone::StepTrainerLanding => (self.steps == 0).then(|| {
                format!(
                    "no step-trainer readings of serial {} in the files loaded",
                    self.serial
                )
            }),
            Zone::CustomerTrusted => self.consent_reason(),
            Zone::AccelerometerTrusted | Zone::CustomerCurated => self.readings_reason(),
            Zone::StepTrainerTrusted => self.steps_reason(),
            Zone::MachineLearningCurated => self.steps_reason().or_else(|| {
                (self.ml_rows == 0).then(|| {
                    let whose = if self.device_join { "of theirs " } else { "" };
                    "no phone reading ".to_string()
                        + whose
                        + "was taken at the same millisecond as a step reading of their device"
                })
            }),
        }
    }

    /// Which of the customer's rows `zone` leaves out, when it keeps some.
    pub fn partly_in(&self, zone: Zone) -> Option<String> {
        match zone {
            Zone::AccelerometerTrusted if self.readings_kept < self.readings => Some(format!(
                "{} of their {} phone readings are left out: taken before consent",
                self.readings - self.readings_kept,
                self.readings
            )),
            Zone::StepTrainerTrusted if self.steps_kept < self.steps => Some(format!(
                "{} of the {} step readings of serial {} are left out: taken before consent",
                self.steps - self.steps_kept,
                self.steps,
                self.serial
            )),
            _ => None,
        }
    }

    /// One sentence: how far the customer got.
    pub fn summary(&self) -> String {
        match Zone::ALL
            .iter()
            .rev()
            .find(|z| self.absent_from(**z).is_none())
        {
            Some(Zone::MachineLearningCurated) => format!(
                "In machine_learning_curated ({} rows).",
                crate::report::thousands(self.ml_rows)
            ),
            _ => {
                let first_missing = [
                    Zone::CustomerTrusted,
                    Zone::CustomerCurated,
                    Zone::StepTrainerTrusted,
                    Zone::MachineLearningCurated,
                ]
                .into_iter()
                .find_map(|z| self.absent_from(z).map(|why| (z, why)));
                match first_missing {
                    Some((zone, why)) => format!("Not in {}: {why}.", zone.as_str()),
                    None => "In every zone.".to_string(),
                }
            }
        }
    }
}

/// Where the customer with this current record is in the pipeline.
pub fn status(landing: &Landing, zones: &Zones, policy: &Policy, record: u32) -> CustomerStatus {
    let (readings, steps) = customer_rows(landing, record);
    status_of_rows(landing, zones, policy, record, &readings, &steps)
}

/// The customer's phone readings (indices into accelerometer_landing) and their device's
/// step readings (indices into step_trainer_landing).
pub(crate) fn customer_rows(landing: &Landing, record: u32) -> (Vec<usize>, Vec<usize>) {
    let c = &landing.customers[record as usize];
    let (acc, steps) = (&landing.accelerometer, &landing.step_trainer);
    (
        (0..acc.len()).filter(|i| acc.user[*i] == c.email).collect(),
        (0..steps.len())
            .filter(|i| steps.serial[*i] == c.serial)
            .collect(),
    )
}

/// [`status`] from rows already found by [`customer_rows`].
pub(crate) fn status_of_rows(
    landing: &Landing,
    zones: &Zones,
    policy: &Policy,
    record: u32,
    readings: &[usize],
    step_rows: &[usize],
) -> CustomerStatus {
    let customers = &landing.customers;
    let c = &customers[record as usize];
    let same_email = || customers.iter().filter(|o| o.email == c.email);
    let acc = &landing.accelerometer;
    let steps = &landing.step_trainer;
    let mut s = CustomerStatus {
        record,
        email: landing.strings.get(c.email).to_string(),
        serial: landing.strings.get(c.serial).to_string(),
        records: same_email().count() as u64,
        consent: c.research_consent,
        revoked: c.research_consent.is_none() && same_email().any(|o| o.research_consent.is_some()),
        enforce: policy.enforces_consent_time(),
        readings: 0,
        readings_before_consent: 0,
        readings_kept: 0,
        steps: 0,
        steps_kept: 0,
        ml_rows: 0,
        device_join: policy.ml_join == MlJoin::Device,
    };
    for &i in readings {
        s.readings += 1;
        let before = c.research_consent.is_some_and(|t| acc.timestamp[i] < t);
        s.readings_before_consent += u64::from(before);
        s.readings_kept += u64::from(
            zones
                .accelerometer_trusted
                .binary_search(&(i as u32))
                .is_ok(),
        );
    }
    for &i in step_rows {
        s.steps += 1;
        s.steps_kept += u64::from(
            zones
                .step_trainer_trusted
                .binary_search(&(i as u32))
                .is_ok(),
        );
    }
    s.ml_rows = zones
        .machine_learning_curated
        .iter()
        .filter(|(st, a)| {
            acc.user[*a as usize] == c.email || steps.serial[*st as usize] == c.serial
        })
        .count() as u64;
    s
}

/// Current records whose email or serial number contains `query` (ASCII case-insensitive),
/// exact matches first, then in record order.
fn matching_customers(landing: &Landing, zones: &Zones, query: &str) -> Vec<u32> {
    let needle = query.trim().to_ascii_lowercase();
    if needle.is_empty() {
        return Vec::new();
    }
    let text = |id: u32| landing.strings.get(id).to_ascii_lowercase();
    let mut found: Vec<(bool, u32)> = zones
        .current_records(landing)
        .filter_map(|i| {
            let c = &landing.customers[i as usize];
            let (email, serial) = (text(c.email), text(c.serial));
            let exact = email == needle || serial == needle;
            (exact || email.contains(&needle) || serial.contains(&needle)).then_some((!exact, i))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, i)| i).collect()
}

/// The customer an email or serial number (or part of one) names, and where they are in the
/// pipeline; `Err` says what to type instead.
pub fn find_customer(
    landing: &Landing,
    zones: &Zones,
    policy: &Policy,
    query: &str,
) -> Result<CustomerStatus, String> {
    find_record(landing, zones, query).map(|record| status(landing, zones, policy, record))
}

/// The current record of the customer `query` names; `Err` says what to type instead.
pub(crate) fn find_record(landing: &Landing, zones: &Zones, query: &str) -> Result<u32, String> {
    if query.trim().is_empty() {
        return Err("type a customer's email or serial number".into());
    }
    matching_customers(landing, zones, query)
        .first()
        .copied()
        .ok_or_else(|| {
            format!(
                "no customer's email or serial number contains \"{}\"",
                query.trim()
            )
        })
}

/// `positions` ordered by `key`, ties in the order of the positions (ascending).
fn order_by<K: Ord>(positions: Vec<u32>, descending: bool, key: impl Fn(u32) -> K) -> Vec<u32> {
    let mut keyed: Vec<(K, u32)> = positions.into_iter().map(|p| (key(p), p)).collect();
    keyed.sort_unstable_by(|(a, pa), (b, pb)| {
        let by_key = if descending { b.cmp(a) } else { a.cmp(b) };
        by_key.then(pa.cmp(pb))
    });
    keyed.into_iter().map(|(_, p)| p).collect()
}

/// A cell as the table shows it (null as empty).
fn shown(cell: &Cell<'_>) -> String {
    match cell {
        Cell::Text(Some(s)) => s.to_string(),
        Cell::Int(Some(v)) => v.to_string(),
        Cell::Float(v) => v.to_string(),
        Cell::Text(None) | Cell::Int(None) => String::new(),
    }
}

/// Names for the zones that write emails and serials as read.
static NO_NAMES: Names = Names::KEPT;

/// A zone read cell by cell, with the emails and serial numbers as its files show them.
pub struct ZoneTable<'a> {
    writer: ZoneWriter<'a>,
    policy: &'a Policy,
    /// machine_learning_curated's emails and serials as its file writes them, worked
    /// out on the first look at that zone (pseudonyms cost a hash each).
    names: std::cell::OnceCell<Names>,
}

impl<'a> ZoneTable<'a> {
    /// A table over the zones of a run.
    pub fn new(writer: ZoneWriter<'a>, policy: &'a Policy) -> Self {
        ZoneTable {
            writer,
            policy,
            names: std::cell::OnceCell::new(),
        }
    }

    fn landing(&self) -> &'a Landing {
        self.writer.landing
    }

    /// The emails and serial numbers (string ids) of the row at `pos`.
    fn keys(&self, zone: Zone, pos: usize) -> [u32; 2] {
        let l = self.landing();
        let z = self.writer.zones;
        let customer = |i: u32| {
            let c = &l.customers[i as usize];
            [c.email, c.serial]
        };
        let user = |i: u32| l.accelerometer.user[i as usize];
        let serial = |i: u32| l.step_trainer.serial[i as usize];
        match zone {
            Zone::CustomerLanding => customer(pos as u32),
            Zone::CustomerTrusted => customer(z.customer_trusted[pos]),
            Zone::CustomerCurated => customer(z.customer_curated[pos]),
            Zone::AccelerometerLanding => [user(pos as u32); 2],
            Zone::AccelerometerTrusted => [user(z.accelerometer_trusted[pos]); 2],
            Zone::StepTrainerLanding => [serial(pos as u32); 2],
            Zone::StepTrainerTrusted => [serial(z.step_trainer_trusted[pos]); 2],
            Zone::MachineLearningCurated => {
                let (s, a) = z.machine_learning_curated[pos];
                [serial(s), user(a)]
            }
        }
    }

    /// The cell at row `pos`, column `col` (of the zone's schema).
    fn cell(&self, zone: Zone, pos: usize, col: usize) -> Cell<'_> {
        let names = match zone {
            Zone::MachineLearningCurated => self
                .names
                .get_or_init(|| Names::new(&self.writer, Zone::MachineLearningCurated)),
            _ => &NO_NAMES,
        };
        self.writer.row(names, zone, pos)[col]
    }

    /// The rows of the selection, as positions in the zone, in the order asked.
    pub fn select(&self, selection: &Selection) -> Vec<u32> {
        let zone = selection.zone;
        let l = self.landing();
        let rows = self.writer.zones.rows(l, zone);
        let mut positions: Vec<u32> = if selection.query.trim().is_empty() {
            (0..rows as u32).collect()
        } else {
            // The emails and serials of the customers found, and any string containing the
            // query (readings of people with no customer record have a user too).
            let needle = selection.query.trim().to_ascii_lowercase();
            let mut wanted = vec![false; l.strings.len()];
            for (id, slot) in wanted.iter_mut().enumerate() {
                *slot = l
                    .strings
                    .get(id as u32)
                    .to_ascii_lowercase()
                    .contains(&needle);
            }
            for i in matching_customers(l, self.writer.zones, &needle) {
                let c = &l.customers[i as usize];
                wanted[c.email as usize] = true;
                wanted[c.serial as usize] = true;
            }
            (0..rows)
                .filter(|pos| self.keys(zone, *pos).iter().any(|k| wanted[*k as usize]))
                .map(|pos| pos as u32)
                .collect()
        };
        if let Some(sort) = selection.sort {
            if sort.column < self.writer.schema(zone).fields().len() {
                positions = self.sorted(zone, positions, sort);
            }
        }
        positions
    }

    /// `positions` (in zone order) ordered by a column, equal values keeping zone order.
    /// Each row's key is taken once, as a number where the column holds numbers, and kept
    /// beside its position: as the positions differ, an unstable sort on (key, position)
    /// gives the stable order, with no buffer beside the keys.
    fn sorted(&self, zone: Zone, positions: Vec<u32>, sort: Sort) -> Vec<u32> {
        let cell = |p: u32| self.cell(zone, p as usize, sort.column);
        let descending = sort.descending;
        match self.writer.schema(zone).field(sort.column).data_type() {
            DataType::Int64 => order_by(positions, descending, |p| match cell(p) {
                Cell::Int(v) => v,
                _ => None,
            }),
            // Ordered as `f64::total_cmp` orders them (NaN and -0.0 included).
            DataType::Float64 => order_by(positions, descending, |p| match cell(p) {
                Cell::Float(v) => {
                    let bits = v.to_bits() as i64;
                    bits ^ (((bits >> 63) as u64) >> 1) as i64
                }
                _ => 0,
            }),
            _ => order_by(positions, descending, |p| match cell(p) {
                Cell::Text(v) => v,
                _ => None,
            }),
        }
    }

    /// For customers the selection's search finds (at most 5): why they are missing from
    /// its zone, or which of their rows it leaves out. Worked out once per selection, as
    /// each customer's rows are looked for in the whole landing zones.
    pub fn notes(&self, selection: &Selection) -> Vec<String> {
        let (l, zone) = (self.landing(), selection.zone);
        matching_customers(l, self.writer.zones, &selection.query)
            .into_iter()
            .take(EXPLAINED)
            .filter_map(|record| {
                let s = status(l, self.writer.zones, self.policy, record);
                s.absent_from(zone)
                    .map(|why| format!("{} is not in {}: {why}.", s.email, zone.as_str()))
                    .or_else(|| {
                        s.partly_in(zone)
                            .map(|what| format!("{}: {what}.", s.email))
                    })
            })
            .collect()
    }

    /// Page `page` (from 0; past the end shows the last) of selected rows, with the
    /// selection's [`ZoneTable::notes`].
    pub fn page(
        &mut self,
        selection: &Selection,
        positions: &[u32],
        notes: &[String],
        page: usize,
    ) -> Preview {
        let zone = selection.zone;
        let schema = self.writer.schema(zone);
        let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let (page, skip) = crate::review::page_start(positions.len(), page, PREVIEW_ROWS);
        let shown_rows = positions.get(skip..).unwrap_or_default();
        let shown_rows = &shown_rows[..shown_rows.len().min(PREVIEW_ROWS)];
        // The names of this page's rows only (a sort by name needed them all).
        let names = Names::of_rows(&self.writer, zone, shown_rows.iter().map(|p| *p as usize));
        let rows = shown_rows
            .iter()
            .map(|p| {
                let row = self.writer.row(&names, zone, *p as usize);
                row.iter().map(shown).collect()
            })
            .collect();
        let l = self.landing();
        Preview {
            selection: selection.clone(),
            columns,
            rows,
            matching: positions.len(),
            zone_rows: self.writer.zones.rows(l, zone),
            page,
            notes: notes.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{read_bytes, Source};
    use crate::pii::Salt;
    use crate::policy::{Pii, Preset};
    use proptest::prelude::*;

    fn landing() -> Landing {
        let customers = [
            r#"{"email":"a@x","serialNumber":"s1","lastUpdateDate":1,"shareWithResearchAsOfDate":5}"#,
            r#"{"email":"a@x","serialNumber":"s1","lastUpdateDate":2}"#,
            r#"{"email":"b@x","serialNumber":"s2","lastUpdateDate":1,"shareWithResearchAsOfDate":10}"#,
            r#"{"email":"c@x","serialNumber":"s3","lastUpdateDate":1,"shareWithResearchAsOfDate":10}"#,
            r#"{"email":"d@x","serialNumber":"s4","lastUpdateDate":1}"#,
        ]
        .join("\n");
        let phones: Vec<String> = [
            ("b@x", 8),
            ("b@x", 12),
            ("b@x", 11),
            ("c@x", 9),
            ("a@x", 12),
        ]
        .iter()
        .map(|(u, t)| format!(r#"{{"user":"{u}","timestamp":{t},"x":{t},"y":0,"z":0}}"#))
        .collect();
        let steps: Vec<String> = [("s2", 12, 300), ("s2", 11, 200), ("s3", 9, 100)]
            .iter()
            .map(|(s, t, d)| {
                format!(
                    r#"{{"sensorReadingTime":{t},"serialNumber":"{s}","distanceFromObject":{d}}}"#
                )
            })
            .collect();
        Landing::from_batches(vec![
            read_bytes("c.json", Some(Source::Customer), customers.as_bytes()),
            read_bytes(
                "a.json",
                Some(Source::Accelerometer),
                phones.join("\n").as_bytes(),
            ),
            read_bytes(
                "s.json",
                Some(Source::StepTrainer),
                steps.join("\n").as_bytes(),
            ),
        ])
    }

    fn with_table<T>(pii: Pii, f: impl FnOnce(&mut ZoneTable, &Landing, &Zones) -> T) -> T {
        let l = landing();
        let policy = Policy::preset(Preset::Strict);
        let zones = Zones::build(&l, &policy);
        let salt = Salt::given("s");
        let mut table = ZoneTable::new(
            ZoneWriter {
                landing: &l,
                zones: &zones,
                pii,
                salt: &salt,
            },
            &policy,
        );
        f(&mut table, &l, &zones)
    }

    fn show(t: &mut ZoneTable, sel: &Selection) -> Preview {
        let positions = t.select(sel);
        let notes = t.notes(sel);
        t.page(sel, &positions, &notes, 0)
    }

    fn select(zone: Zone, sort: Option<(usize, bool)>, query: &str) -> Selection {
        Selection {
            zone,
            sort: sort.map(|(column, descending)| Sort { column, descending }),
            query: query.into(),
        }
    }

    /// The order a sort must give: cells compared as their type orders them, a stable
    /// sort of the zone's order.
    fn reference_order(t: &ZoneTable, zone: Zone, sort: Sort) -> Vec<u32> {
        let compare = |a: &Cell<'_>, b: &Cell<'_>| match (a, b) {
            (Cell::Text(a), Cell::Text(b)) => a.cmp(b),
            (Cell::Int(a), Cell::Int(b)) => a.cmp(b),
            (Cell::Float(a), Cell::Float(b)) => a.total_cmp(b),
            _ => panic!("a column holds one type"),
        };
        let rows = t.writer.zones.rows(t.landing(), zone) as u32;
        let mut order: Vec<u32> = (0..rows).collect();
        order.sort_by(|a, b| {
            let o = compare(
                &t.cell(zone, *a as usize, sort.column),
                &t.cell(zone, *b as usize, sort.column),
            );
            if sort.descending {
                o.reverse()
            } else {
                o
            }
        });
        order
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_column_sorts_as_its_cells_compare_equal_ones_in_zone_order(
            readings in prop::collection::vec(
                (0usize..4, 0i64..6, prop_oneof![
                    Just(0.0),
                    Just(-0.0),
                    (-3i32..3).prop_map(|v| f64::from(v) / 2.0),
                    any::<f64>().prop_filter("JSON numbers are finite", |v| v.is_finite()),
                ]),
                0..30,
            ),
            steps in prop::collection::vec((0usize..4, 0i64..6, -2i64..3), 0..30),
            consent in prop::collection::vec(prop::option::of(0i64..4), 4),
        ) {
            let customers: Vec<String> = consent
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let name = if i % 2 == 0 { serde_json::json!(format!("n{}", 3 - i)) } else { serde_json::Value::Null };
                    serde_json::json!({"customerName": name, "email": format!("{i}@x"), "serialNumber": format!("s{i}"),
                        "registrationDate": 1, "lastUpdateDate": 2, "shareWithResearchAsOfDate": c}).to_string()
                })
                .collect();
            let phones: Vec<String> = readings
                .iter()
                .map(|(who, t, x)| {
                    let x = serde_json::Number::from_f64(*x).map_or("null".to_string(), |n| n.to_string());
                    format!(r#"{{"user":"{who}@x","timestamp":{t},"x":{x},"y":1,"z":{t}}}"#)
                })
                .collect();
            let steps: Vec<String> = steps
                .iter()
                .map(|(who, t, d)| format!(r#"{{"sensorReadingTime":{t},"serialNumber":"s{who}","distanceFromObject":{d}}}"#))
                .collect();
            let l = Landing::from_batches(vec![
                read_bytes("c.json", Some(Source::Customer), customers.join("\n").as_bytes()),
                read_bytes("a.json", Some(Source::Accelerometer), phones.join("\n").as_bytes()),
                read_bytes("s.json", Some(Source::StepTrainer), steps.join("\n").as_bytes()),
            ]);
            let policy = Policy::preset(Preset::Rubric);
            let zones = Zones::build(&l, &policy);
            let salt = Salt::given("s");
            let t = ZoneTable::new(ZoneWriter { landing: &l, zones: &zones, pii: Pii::Pseudonymize, salt: &salt }, &policy);
            for zone in Zone::ALL {
                for column in 0..t.writer.schema(zone).fields().len() {
                    for descending in [false, true] {
                        let sort = Sort { column, descending };
                        let sel = Selection { zone, sort: Some(sort), query: String::new() };
                        prop_assert_eq!(t.select(&sel), reference_order(&t, zone, sort), "{:?} {:?}", zone, sort);
                    }
                }
            }
        }
    }

    #[test]
    fn sorting_compares_numbers_as_numbers_and_is_stable() {
        with_table(Pii::Keep, |t, _, _| {
            let sel = select(Zone::AccelerometerLanding, Some((1, true)), "");
            let positions = t.select(&sel);
            let p = t.page(&sel, &positions, &[], 0);
            let times: Vec<&str> = p.rows.iter().map(|r| r[1].as_str()).collect();
            assert_eq!(times, ["12", "12", "11", "9", "8"]);
            // The two readings at 12 keep the zone's order: b@x before a@x.
            assert_eq!(
                (p.rows[0][0].as_str(), p.rows[1][0].as_str()),
                ("b@x", "a@x")
            );
        });
    }

    #[test]
    fn search_finds_a_customers_rows_by_email_or_serial() {
        with_table(Pii::Keep, |t, _, _| {
            let sel = select(Zone::StepTrainerLanding, None, "B@X");
            let positions = t.select(&sel);
            assert_eq!(positions, [0, 1], "b@x owns s2");
            let sel = select(Zone::AccelerometerLanding, None, "s3");
            let p = show(t, &sel);
            assert_eq!(p.rows, vec![vec!["c@x", "9", "9", "0", "0"]]);
        });
    }

    #[test]
    fn an_excluded_customer_is_explained() {
        with_table(Pii::Keep, |t, _, _| {
            let sel = select(Zone::CustomerTrusted, None, "a@x");
            let p = show(t, &sel);
            assert_eq!(p.matching, 0);
            assert_eq!(
                p.notes,
                [
                    "a@x is not in customer_trusted: consent revoked: an earlier record had \
                  consent, the current one has none."
                ]
            );
            let sel = select(Zone::AccelerometerTrusted, None, "b@x");
            let p = show(t, &sel);
            assert_eq!(p.matching, 2);
            assert_eq!(
                p.notes,
                ["b@x: 1 of their 3 phone readings are left out: taken before consent."]
            );
            let sel = select(Zone::MachineLearningCurated, None, "d@x");
            let p = show(t, &sel);
            assert!(p.notes[0].contains("never consented"), "{:?}", p.notes);
        });
    }

    #[test]
    fn pseudonymized_ml_rows_are_found_by_the_real_email_but_shown_as_written() {
        with_table(Pii::Pseudonymize, |t, _, _| {
            let sel = select(Zone::MachineLearningCurated, None, "b@x");
            let p = show(t, &sel);
            assert_eq!(p.matching, 2);
            let text = format!("{:?}", p.rows);
            assert!(!text.contains("b@x") && !text.contains("s2"), "{text}");
            // A page names its rows as the whole zone's file does, in any order.
            for sort in [None, Some((1, true)), Some((4, false))] {
                let sel = select(Zone::MachineLearningCurated, sort, "");
                let positions = t.select(&sel);
                let p = show(t, &sel);
                assert!(!p.rows.is_empty());
                for (row, pos) in p.rows.iter().zip(&positions) {
                    let zone = Zone::MachineLearningCurated;
                    let cells = (0..row.len()).map(|c| shown(&t.cell(zone, *pos as usize, c)));
                    assert_eq!(*row, cells.collect::<Vec<_>>());
                }
            }
        });
        with_table(Pii::Drop, |t, _, _| {
            let sel = select(Zone::MachineLearningCurated, Some((0, false)), "");
            let p = show(t, &sel);
            assert_eq!(
                p.columns,
                [
                    "sensorReadingTime",
                    "distanceFromObject",
                    "timestamp",
                    "x",
                    "y",
                    "z"
                ]
            );
            assert_eq!(p.rows[0], ["11", "200", "11", "11", "0", "0"]);
        });
    }

    #[test]
    fn pages_hold_a_hundred_rows_and_a_page_past_the_end_shows_the_last() {
        with_table(Pii::Keep, |t, _, _| {
            let sel = select(Zone::CustomerLanding, None, "");
            let positions: Vec<u32> = (0..250).map(|i| i % 5).collect();
            let p = t.page(&sel, &positions, &[], 9);
            assert_eq!((p.page, p.rows.len(), p.matching), (2, 50, 250));
            assert_eq!(t.page(&sel, &positions, &[], 0).rows.len(), PREVIEW_ROWS);
        });
    }

    #[test]
    fn status_follows_a_customer_through_the_zones() {
        let l = landing();
        let policy = Policy::preset(Preset::Strict);
        let zones = Zones::build(&l, &policy);
        let b = find_customer(&l, &zones, &policy, "s2").unwrap();
        assert_eq!(b.email, "b@x");
        assert_eq!(
            (b.readings, b.readings_kept, b.steps, b.steps_kept),
            (3, 2, 2, 2)
        );
        assert_eq!(b.summary(), "In machine_learning_curated (2 rows).");
        let d = find_customer(&l, &zones, &policy, "d@").unwrap();
        assert!(d
            .summary()
            .starts_with("Not in customer_trusted: never consented"));
        assert!(find_customer(&l, &zones, &policy, "zzz").is_err());
    }
}

//! Rows of machine_learning_curated to be written by another worker: the cells they need,
//! gathered out of the landing with their names (none when the run drops them) and the
//! run's salt when it pseudonymizes (the worker that writes the rows makes their
//! pseudonyms), as bytes that cross to that worker. The parts of a zone, written one after
//! another, make its file.

use super::{Format, Names, ZoneWriter};
use crate::ingest::codec::{put, Cursor, Le};
use crate::ingest::{Accelerometer, Landing, StepTrainer};
use crate::pii::Salt;
use crate::policy::Pii;
use crate::zones::{Zone, Zones};
use crate::Result;
use std::io::Write;
use std::ops::Range;

/// Rows of machine_learning_curated, self-contained: [`CuratedPart::write`] writes them
/// as [`ZoneWriter::write_rows`] writes the same rows of the whole run.
#[derive(Debug, Clone)]
pub struct CuratedPart {
    /// The first row's position in the zone: the part that starts at 0 carries the CSV
    /// header.
    from: usize,
    /// The run's PII policy.
    pii: Pii,
    /// The run's salt, when it pseudonymizes.
    salt: Salt,
    /// One step-trainer and one accelerometer row per row of the part, and their names
    /// as read (empty when the run drops them).
    landing: Landing,
    /// Row `i` of the part is step-trainer row `i` beside accelerometer row `i`.
    zones: Zones,
}

impl ZoneWriter<'_> {
    /// The rows `rows` of machine_learning_curated (cut to the zone's length), gathered
    /// to be written elsewhere. With [`Pii::Drop`] no name is gathered at all.
    pub fn curated_part(&self, rows: Range<usize>) -> CuratedPart {
        let (l, z) = (self.landing, self.zones);
        let all = &z.machine_learning_curated;
        let rows = rows.start.min(all.len())..rows.end.min(all.len());
        let n = rows.len();
        let mut landing = Landing::default();
        let (a, s) = (&l.accelerometer, &l.step_trainer);
        let mut reading = Accelerometer {
            user: Vec::with_capacity(n),
            timestamp: Vec::with_capacity(n),
            x: Vec::with_capacity(n),
            y: Vec::with_capacity(n),
            z: Vec::with_capacity(n),
        };
        let mut step = StepTrainer {
            time: Vec::with_capacity(n),
            serial: Vec::with_capacity(n),
            distance: Vec::with_capacity(n),
        };
        // The part's id of each run's string id, given when first met.
        let mut local = vec![u32::MAX; l.strings.len()];
        let mut name = |id: u32| {
            let slot = &mut local[id as usize];
            if *slot == u32::MAX {
                *slot = match self.pii {
                    Pii::Drop => landing.strings.intern(""),
                    _ => landing.strings.intern(l.strings.get(id)),
                };
            }
            *slot
        };
        for &(si, ai) in &all[rows.clone()] {
            let (si, ai) = (si as usize, ai as usize);
            step.time.push(s.time[si]);
            step.serial.push(name(s.serial[si]));
            step.distance.push(s.distance[si]);
            reading.user.push(name(a.user[ai]));
            reading.timestamp.push(a.timestamp[ai]);
            reading.x.push(a.x[ai]);
            reading.y.push(a.y[ai]);
            reading.z.push(a.z[ai]);
        }
        landing.accelerometer = reading;
        landing.step_trainer = step;
        let salt = match self.pii {
            Pii::Pseudonymize => self.salt.clone(),
            _ => Salt::given(""),
        };
        CuratedPart::new(rows.start, self.pii, salt, landing)
    }

    /// Writes the zone's rows `rows` (cut to its length) as CSV or JSON Lines, each row
    /// as [`ZoneWriter::write`] writes it, with the zone's `names` (made once for all its
    /// parts: pseudonymizing hashes each name); the CSV header comes with the rows that
    /// start at 0. So the zone's rows cut anywhere and written in order make its file.
    /// Returns the number of rows written; Parquet is only written whole.
    pub fn write_rows(
        &self,
        names: &Names,
        zone: Zone,
        format: Format,
        rows: Range<usize>,
        out: impl Write,
    ) -> Result<u64> {
        let header = rows.start == 0;
        self.text_rows(names, zone, format, (rows, header), out)
    }
}

impl CuratedPart {
    fn new(from: usize, pii: Pii, salt: Salt, landing: Landing) -> CuratedPart {
        let n = landing.step_trainer.len() as u32;
        let zones = Zones {
            machine_learning_curated: (0..n).map(|i| (i, i)).collect(),
            ..Zones::default()
        };
        CuratedPart {
            from,
            pii,
            salt,
            landing,
            zones,
        }
    }

    /// How many rows the part holds.
    pub fn rows(&self) -> usize {
        self.zones.machine_learning_curated.len()
    }

    /// Writes the part's rows as CSV (with the header if it starts at row 0) or JSON
    /// Lines; returns how many were written.
    pub fn write(&self, format: Format, out: impl Write) -> Result<u64> {
        let writer = ZoneWriter {
            landing: &self.landing,
            zones: &self.zones,
            pii: self.pii,
            salt: &self.salt,
        };
        let zone = Zone::MachineLearningCurated;
        let names = Names::new(&writer, zone);
        writer.text_rows(&names, zone, format, (0..self.rows(), self.from == 0), out)
    }

    /// The part as bytes; [`CuratedPart::decode`] gives it back.
    pub fn encode(&self) -> Vec<u8> {
        let strings: Vec<&str> = (0..self.landing.strings.len() as u32)
            .map(|id| self.landing.strings.get(id))
            .collect();
        let json = serde_json::to_vec(&strings).expect("strings are plain data");
        let n = self.rows();
        let key = self.salt.key();
        let mut out = Vec::with_capacity(33 + key.len() + json.len() + n * (8 * 6 + 4 * 2));
        (self.from as u64).put(&mut out);
        out.push(pii_byte(self.pii));
        (key.len() as u64).put(&mut out);
        out.extend_from_slice(key);
        (n as u64).put(&mut out);
        (json.len() as u64).put(&mut out);
        out.extend_from_slice(&json);
        let (a, s) = (&self.landing.accelerometer, &self.landing.step_trainer);
        put(&mut out, &s.time);
        put(&mut out, &s.serial);
        put(&mut out, &s.distance);
        put(&mut out, &a.user);
        put(&mut out, &a.timestamp);
        put(&mut out, &a.x);
        put(&mut out, &a.y);
        put(&mut out, &a.z);
        out
    }

    /// A part from [`CuratedPart::encode`]'s bytes; `Err` says what is wrong with them.
    pub fn decode(bytes: &[u8]) -> std::result::Result<CuratedPart, String> {
        let damaged = |what: &str| format!("a damaged part of machine_learning_curated: {what}");
        let mut c = Cursor(bytes);
        let size = |c: &mut Cursor<'_>| {
            usize::try_from(u64::get(c.take(8)?)).map_err(|_| damaged("a size out of range"))
        };
        let from = size(&mut c)?;
        let pii = match c.take(1)?[0] {
            0 => Pii::Keep,
            1 => Pii::Pseudonymize,
            2 => Pii::Drop,
            _ => return Err(damaged("an unknown PII policy")),
        };
        let key_len = size(&mut c)?;
        let salt = Salt::of(c.take(key_len)?.to_vec());
        let n = size(&mut c)?;
        let json_len = size(&mut c)?;
        let names: Vec<String> = serde_json::from_slice(c.take(json_len)?)
            .map_err(|e| damaged(&format!("its names: {e}")))?;
        let mut landing = Landing::default();
        for name in &names {
            landing.strings.intern(name);
        }
        if landing.strings.len() != names.len() {
            return Err(damaged("a name given twice"));
        }
        landing.step_trainer = StepTrainer {
            time: c.column(n)?,
            serial: c.column(n)?,
            distance: c.column(n)?,
        };
        landing.accelerometer = Accelerometer {
            user: c.column(n)?,
            timestamp: c.column(n)?,
            x: c.column(n)?,
            y: c.column(n)?,
            z: c.column(n)?,
        };
        let known = |ids: &[u32]| ids.iter().all(|id| (*id as usize) < names.len());
        if !known(&landing.step_trainer.serial) || !known(&landing.accelerometer.user) {
            return Err(damaged("a name it does not hold"));
        }
        if !c.0.is_empty() {
            return Err(damaged("bytes after its last column"));
        }
        Ok(CuratedPart::new(from, pii, salt, landing))
    }
}

fn pii_byte(pii: Pii) -> u8 {
    match pii {
        Pii::Keep => 0,
        Pii::Pseudonymize => 1,
        Pii::Drop => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Interner;

    /// The names interned in the order given.
    fn interned(names: &[&str]) -> Interner {
        let mut strings = Interner::default();
        for name in names {
            strings.intern(name);
        }
        strings
    }

    #[test]
    fn a_damaged_part_is_an_error_not_a_panic() {
        let mut landing = Landing::default();
        landing.strings = interned(&["a@example.com", "s-1"]);
        landing.step_trainer = StepTrainer {
            time: vec![1, 2],
            serial: vec![1, 1],
            distance: vec![10, 20],
        };
        landing.accelerometer = Accelerometer {
            user: vec![0, 0],
            timestamp: vec![1, 2],
            x: vec![0.5, 1.5],
            y: vec![0.0, 1.0],
            z: vec![-1.0, 2.0],
        };
        let part = CuratedPart::new(3, Pii::Keep, Salt::given(""), landing);
        let bytes = part.encode();
        let back = CuratedPart::decode(&bytes).expect("its own bytes");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        part.write(Format::Csv, &mut a).unwrap();
        back.write(Format::Csv, &mut b).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            String::from_utf8(a).unwrap(),
            "1,s-1,10,a@example.com,1,0.5,0.0,-1.0\n2,s-1,20,a@example.com,2,1.5,1.0,2.0\n"
        );
        // Cut anywhere, with a byte too many, or naming a string it does not hold.
        for end in 0..bytes.len() {
            assert!(CuratedPart::decode(&bytes[..end]).is_err(), "cut at {end}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(CuratedPart::decode(&longer).is_err());
        let mut unknown = bytes.clone();
        let serials = 33 + serde_json::to_vec(&["a@example.com", "s-1"]).unwrap().len() + 16;
        unknown[serials] = 7;
        let err = CuratedPart::decode(&unknown).unwrap_err();
        assert!(err.contains("a name it does not hold"), "{err}");
    }
}

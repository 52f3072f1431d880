//! A file batch as bytes, so that a batch parsed in one browser worker can be handed to
//! another: the readings' columns as little-endian arrays (copied, not formatted), the
//! customers one after another in a binary form of their own, the rest (summary, strings,
//! quarantine) as JSON.

use super::{Accelerometer, Customer, FileBatch, InputSummary, Interner, Quarantined, StepTrainer};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;

/// The part of a batch written as JSON, as it is read back.
#[derive(Deserialize)]
struct Head<'a> {
    summary: InputSummary,
    #[serde(borrow)]
    strings: Vec<Text<'a>>,
    customers: usize,
    quarantine: Vec<Quarantined>,
    readings: usize,
    steps: usize,
}

/// A string of a batch, borrowed from the bytes when it holds no escapes, as emails and
/// serials do not. (Serde borrows a `Cow` only where it is a field of its own: in a `Vec`
/// of `Cow`s each would be a new `String`, allocated, copied and dropped once interned.)
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// [`Head`] as written: borrowed from the batch, so that encoding a large customer file
/// does not hold a second copy of its customers.
#[derive(Serialize)]
struct HeadOut<'a> {
    summary: &'a InputSummary,
    #[serde(serialize_with = "strings_out")]
    strings: &'a Interner,
    customers: usize,
    quarantine: &'a [Quarantined],
    readings: usize,
    steps: usize,
}

/// The interner's strings as a JSON array, in the order of their ids.
fn strings_out<S: Serializer>(strings: &&Interner, out: S) -> Result<S::Ok, S::Error> {
    out.collect_seq(strings.iter())
}

/// Counts the bytes written to it.
struct Count(usize);

impl std::io::Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A value that is written as its little-endian bytes.
pub(crate) trait Le: Sized + Copy {
    const SIZE: usize;
    fn put(self, out: &mut Vec<u8>);
    /// Appends each value's bytes, in order.
    fn put_all(column: &[Self], out: &mut Vec<u8>);
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! le {
    ($($t:ty),*) => {$(
        impl Le for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn put_all(column: &[Self], out: &mut Vec<u8>) {
                // One extend of all the bytes: as WebAssembly, a copy call per value
                // took four times as long.
                out.extend(column.iter().flat_map(|v| v.to_le_bytes()));
            }
            fn get(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("a slice of the type's size"))
            }
        }
    )*};
}
le!(u32, i64, f64, u64);

pub(crate) fn put<T: Le>(out: &mut Vec<u8>, column: &[T]) {
    out.reserve(column.len() * T::SIZE);
    T::put_all(column, out);
}

/// Reads values off the front of a byte slice.
pub(crate) struct Cursor<'a>(pub(crate) &'a [u8]);

impl<'a> Cursor<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("a damaged batch: it ends too early".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    pub(crate) fn value<T: Le>(&mut self) -> Result<T, String> {
        self.take(T::SIZE).map(T::get)
    }

    pub(crate) fn column<T: Le>(&mut self, n: usize) -> Result<Vec<T>, String> {
        let size = n
            .checked_mul(T::SIZE)
            .ok_or("a damaged batch: too many values")?;
        Ok(self.take(size)?.chunks_exact(T::SIZE).map(T::get).collect())
    }
}

/// A customer's optional dates, in the order they are written.
fn dates(c: &Customer) -> [Option<i64>; 5] {
    [
        c.registration,
        c.last_update,
        c.research_consent,
        c.public_consent,
        c.friends_consent,
    ]
}

/// A customer's optional texts, in the order they are written.
fn texts(c: &Customer) -> [Option<&str>; 3] {
    [
        c.name.as_deref(),
        c.phone.as_deref(),
        c.birth_day.as_deref(),
    ]
}

/// Where [`put_customer`] writes: the batch's bytes, or a count of them.
trait Out {
    fn add(&mut self, bytes: &[u8]);
}

impl Out for Vec<u8> {
    fn add(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Out for Count {
    fn add(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

/// One customer as bytes (JSON took most of the time of passing a customer file between
/// workers): its email and serial ids, one byte telling which dates and texts it has,
/// then those dates, then those texts, each as its length and its bytes.
fn put_customer(out: &mut impl Out, c: &Customer) {
    out.add(&c.email.to_le_bytes());
    out.add(&c.serial.to_le_bytes());
    let (dates, texts) = (dates(c), texts(c));
    let has = dates
        .iter()
        .map(Option::is_some)
        .chain(texts.iter().map(Option::is_some))
        .enumerate()
        .fold(0u8, |has, (i, is)| has | u8::from(is) << i);
    out.add(&[has]);
    for date in dates.into_iter().flatten() {
        out.add(&date.to_le_bytes());
    }
    for text in texts.into_iter().flatten() {
        out.add(&(text.len() as u32).to_le_bytes());
        out.add(text.as_bytes());
    }
}

/// A customer [`put_customer`] wrote.
fn take_customer(c: &mut Cursor<'_>) -> Result<Customer, String> {
    let email = c.value::<u32>()?;
    let serial = c.value::<u32>()?;
    let has = c.take(1)?[0];
    let mut dates = [None; 5];
    for (i, date) in dates.iter_mut().enumerate() {
        if has & (1 << i) != 0 {
            *date = Some(c.value::<i64>()?);
        }
    }
    let mut texts: [Option<Box<str>>; 3] = Default::default();
    for (i, text) in texts.iter_mut().enumerate() {
        if has & (1 << (5 + i)) != 0 {
            let len = c.value::<u32>()? as usize;
            let bytes = c.take(len)?;
            let s =
                std::str::from_utf8(bytes).map_err(|_| "a damaged batch: a text is not UTF-8")?;
            *text = Some(s.into());
        }
    }
    let [registration, last_update, research_consent, public_consent, friends_consent] = dates;
    let [name, phone, birth_day] = texts;
    Ok(Customer {
        name,
        email,
        phone,
        birth_day,
        serial,
        registration,
        last_update,
        research_consent,
        public_consent,
        friends_consent,
    })
}

impl FileBatch {
    /// The batch as bytes; [`FileBatch::decode`] gives it back.
    pub fn encode(&self) -> Vec<u8> {
        let head = HeadOut {
            summary: &self.summary,
            strings: &self.strings,
            customers: self.customers.len(),
            quarantine: &self.quarantine,
            readings: self.accelerometer.len(),
            steps: self.step_trainer.len(),
        };
        // Measured first, so the bytes are written once into a buffer of their size.
        let mut json = Count(0);
        serde_json::to_writer(&mut json, &head).expect("batches are plain data");
        let mut customers = Count(0);
        for customer in &self.customers {
            put_customer(&mut customers, customer);
        }
        let mut out = Vec::with_capacity(
            8 + json.0 + customers.0 + head.readings * (4 + 8 * 4) + head.steps * (8 + 4 + 8),
        );
        (json.0 as u64).put(&mut out);
        serde_json::to_writer(&mut out, &head).expect("batches are plain data");
        for customer in &self.customers {
            put_customer(&mut out, customer);
        }
        let a = &self.accelerometer;
        put(&mut out, &a.user);
        put(&mut out, &a.timestamp);
        put(&mut out, &a.x);
        put(&mut out, &a.y);
        put(&mut out, &a.z);
        let s = &self.step_trainer;
        put(&mut out, &s.time);
        put(&mut out, &s.serial);
        put(&mut out, &s.distance);
        out
    }

    /// A batch from [`FileBatch::encode`]'s bytes; `Err` says what is wrong with them.
    pub fn decode(bytes: &[u8]) -> Result<FileBatch, String> {
        let mut c = Cursor(bytes);
        let json_len = usize::try_from(c.value::<u64>()?)
            .map_err(|_| "a damaged batch: its head is too long")?;
        let head: Head = serde_json::from_slice(c.take(json_len)?)
            .map_err(|e| format!("a damaged batch: {e}"))?;
        let customers = (0..head.customers)
            .map(|_| take_customer(&mut c))
            .collect::<Result<Vec<_>, _>>()?;
        let (n, m) = (head.readings, head.steps);
        let accelerometer = Accelerometer {
            user: c.column(n)?,
            timestamp: c.column(n)?,
            x: c.column(n)?,
            y: c.column(n)?,
            z: c.column(n)?,
        };
        let step_trainer = StepTrainer {
            time: c.column(m)?,
            serial: c.column(m)?,
            distance: c.column(m)?,
        };
        if !c.0.is_empty() {
            return Err("a damaged batch: bytes after its end".into());
        }
        let mut strings = Interner::default();
        let text = head.strings.iter().map(|s| s.0.len()).sum();
        strings.reserve(head.strings.len(), text);
        for s in &head.strings {
            strings.intern(&s.0);
        }
        if strings.len() != head.strings.len() {
            return Err("a damaged batch: a string appears twice".into());
        }
        let ids = strings.len();
        let bad_id = accelerometer
            .user
            .iter()
            .chain(&step_trainer.serial)
            .any(|i| *i as usize >= ids)
            || customers
                .iter()
                .any(|c| c.email as usize >= ids || c.serial as usize >= ids);
        if bad_id {
            return Err("a damaged batch: a string id out of range".into());
        }
        Ok(FileBatch {
            summary: head.summary,
            strings,
            customers,
            accelerometer,
            step_trainer,
            quarantine: head.quarantine,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{read_bytes, Landing};
    use super::*;

    fn batch() -> FileBatch {
        let mut text = String::new();
        for i in 0..50 {
            text.push_str(&format!(
                "{{\"user\":\"u{}@x\",\"timestamp\":{i},\"x\":{}.5,\"y\":-1,\"z\":1e-3}}\n",
                i % 7,
                i
            ));
        }
        text.push_str("not json\n");
        read_bytes("a.json", None, text.as_bytes())
    }

    /// Customers with every field, with none but the required ones, and in between.
    fn customers() -> FileBatch {
        read_bytes(
            "c.json",
            None,
            concat!(
                r#"{"customerName":"A","email":"a@x","phone":1,"serialNumber":"s","lastUpdateDate":2,"shareWithResearchAsOfDate":3}"#,
                "\n",
                r#"{"customerName":"Zoë \"Q\" Ünal","email":"z@x","phone":"+1 (801) 555-1212","birthDay":"1999-12-31","serialNumber":"t","registrationDate":-1,"lastUpdateDate":9007199254740993,"shareWithResearchAsOfDate":0,"shareWithPublicAsOfDate":5,"shareWithFriendsAsOfDate":6}"#,
                "\n",
                r#"{"email":"n@x","serialNumber":"s","customerName":null,"phone":null}"#,
                "\n",
            )
            .as_bytes(),
        )
    }

    #[test]
    fn a_batch_survives_encoding_to_the_bit() {
        let customers = customers();
        let steps = read_bytes(
            "s.json",
            None,
            br#"{"sensorReadingTime":5,"serialNumber":"s","distanceFromObject":230}"#,
        );
        let batches = [batch(), customers, steps];
        for batch in &batches {
            let bytes = batch.encode();
            // Sized exactly: a batch is never copied to a larger buffer as it is written.
            assert_eq!(bytes.len(), bytes.capacity());
        }
        let decoded: Vec<FileBatch> = batches
            .iter()
            .map(|b| FileBatch::decode(&b.encode()).unwrap())
            .collect();
        let (a, b) = (Landing::merge(&batches), Landing::merge(&decoded));
        assert_eq!(a.customers.len(), 3);
        assert_eq!(a.customers, b.customers);
        assert_eq!(a.accelerometer.x, b.accelerometer.x);
        assert_eq!(a.accelerometer.user, b.accelerometer.user);
        assert_eq!(a.step_trainer.distance, b.step_trainer.distance);
        assert_eq!(a.quarantine, b.quarantine);
        assert_eq!(a.inputs, b.inputs);
    }

    #[test]
    fn strings_that_json_escapes_survive_encoding() {
        let odd = [
            "quote\"d@x",
            "back\\slash@x",
            "tab\t@x",
            "é€😀@x",
            "\u{1}@x",
        ];
        let mut text = String::new();
        for (i, user) in odd.iter().enumerate() {
            let user = serde_json::to_string(user).unwrap();
            text.push_str(&format!(
                "{{\"user\":{user},\"timestamp\":{i},\"x\":1,\"y\":2,\"z\":3}}\n"
            ));
        }
        let batch = read_bytes("a.json", None, text.as_bytes());
        assert_eq!(batch.accelerometer.len(), odd.len());
        let decoded = FileBatch::decode(&batch.encode()).unwrap();
        let users: Vec<&str> = decoded.strings.iter().collect();
        assert_eq!(users, odd);
        assert_eq!(decoded.accelerometer.user, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn strings_without_escapes_are_read_in_place() {
        let head = br#"{"summary":null,"strings":["a@x","quote\"d@x"],"customers":0,"quarantine":[],"readings":0,"steps":0}"#;
        #[derive(Deserialize)]
        struct Strings<'a> {
            #[serde(borrow)]
            strings: Vec<Text<'a>>,
        }
        let Strings { strings } = serde_json::from_slice(head).unwrap();
        assert!(matches!(&strings[0].0, Cow::Borrowed("a@x")));
        assert!(matches!(&strings[1].0, Cow::Owned(s) if s == "quote\"d@x"));
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        let bytes = batch().encode();
        for cut in [0, 7, 8, 20, bytes.len() - 1] {
            assert!(FileBatch::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(FileBatch::decode(&longer).is_err());
        let customers = customers().encode();
        for cut in 0..customers.len() {
            assert!(
                FileBatch::decode(&customers[..cut]).is_err(),
                "customers cut at {cut}"
            );
        }
        let mut flipped = bytes;
        let last = flipped.len() - 200;
        flipped[last] ^= 0xff;
        // A flipped byte in a column is a different value, still a valid batch; only the
        // structure is checked.
        let _ = FileBatch::decode(&flipped);
    }
}

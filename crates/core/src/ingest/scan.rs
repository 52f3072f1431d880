//! The common shape of a record, read in one pass: a flat object whose strings have no
//! escapes and whose numbers are integers of at most 18 digits or decimals of at most 15
//! significant digits without an exponent. For these the values are exactly serde_json's
//! (a decimal is its digits over a power of ten: both exact, so one correctly rounded
//! division, as serde_json computes it). Anything else, including every error, gives
//! `None`, and the record is read by serde_json, which words the reasons.

use super::record::{Field, RawRecord, Value};
use std::borrow::Cow;

/// Reads `text` into the empty `record` when it has the common shape; `false` (with the
/// record partly filled) sends it to the full parser.
pub(super) fn fill<'a>(text: &'a str, record: &mut RawRecord<'a>) -> bool {
    read(text, record).is_some()
}

fn read<'a>(text: &'a str, record: &mut RawRecord<'a>) -> Option<()> {
    let mut s = Scanner::new(text);
    s.skip_space();
    s.expect(b'{')?;
    s.skip_space();
    if s.peek() == Some(b'}') {
        s.at += 1;
    } else {
        loop {
            s.expect(b'"')?;
            let key = s.string()?;
            s.skip_space();
            s.expect(b':')?;
            s.skip_space();
            let value = s.value()?;
            match Field::lookup(key) {
                Some(field) => record.values[field as usize] = Some(value),
                None => record.unknown_keys.push(Cow::Borrowed(key)),
            }
            s.skip_space();
            match s.next()? {
                b',' => s.skip_space(),
                b'}' => break,
                _ => return None,
            }
        }
    }
    s.finish()
}

/// An accelerometer reading as the spec writes it: the keys `user`, `timestamp`, `x`,
/// `y`, `z` spelt so, in that order, and no other; a string, an integer and three numbers
/// of the common shape. Nearly every record of a large file is written this way, and
/// reading it straight into typed values skips the record's table of every field.
/// `None` for anything else, which [`fill`] or serde_json reads. The record's bytes need
/// not be checked as UTF-8 first: all but the string are compared with ASCII as they are
/// read, and the string's bytes are given as they are, for the caller to check.
pub(super) fn accelerometer(raw: &[u8]) -> Option<(&[u8], i64, f64, f64, f64)> {
    let mut s = Scanner::unchecked(raw);
    let reading = (
        s.key(b"user")?.string_value()?,
        s.key(b"timestamp")?.int_value()?,
        s.key(b"x")?.number_value()?,
        s.key(b"y")?.number_value()?,
        s.key(b"z")?.number_value()?,
    );
    s.end().map(|()| reading)
}

/// A step trainer reading as the spec writes it: `sensorReadingTime`, `serialNumber`,
/// `distanceFromObject` in that order and no other key; see [`accelerometer`].
pub(super) fn step_trainer(raw: &[u8]) -> Option<(i64, &[u8], i64)> {
    let mut s = Scanner::unchecked(raw);
    let reading = (
        s.key(b"sensorReadingTime")?.int_value()?,
        s.key(b"serialNumber")?.string_value()?,
        s.key(b"distanceFromObject")?.int_value()?,
    );
    s.end().map(|()| reading)
}

/// The record `text` holds when it has the common shape.
#[cfg(test)]
fn record(text: &str) -> Option<RawRecord<'_>> {
    let mut record = RawRecord::default();
    fill(text, &mut record).then_some(record)
}

struct Scanner<'a> {
    /// The text, when the scanner reads a `str`; `None` for bytes not checked as UTF-8,
    /// whose strings are only read as bytes ([`Scanner::string_bytes`]).
    text: Option<&'a str>,
    bytes: &'a [u8],
    at: usize,
    /// Keys read by [`Scanner::key`].
    keys: usize,
}

/// Most digits of an integer read here: any 18-digit number fits an `i64`.
const INT_DIGITS: usize = 18;
/// Most significant digits of a decimal read here: below 2^53, so exact as an `f64`.
const DECIMAL_DIGITS: usize = 15;

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner {
            text: Some(text),
            ..Scanner::unchecked(text.as_bytes())
        }
    }

    /// A scanner of bytes not known to be UTF-8.
    fn unchecked(bytes: &'a [u8]) -> Self {
        Scanner {
            text: None,
            bytes,
            at: 0,
            keys: 0,
        }
    }

    /// The next key of an object read key by key: `{` before the first, `,` before the
    /// others, then `"key":`, with spaces where JSON allows them; the key's bytes exactly,
    /// so an escaped or differently cased key is left to the full reader. Inlined, so
    /// that each key is compared as a constant.
    #[inline(always)]
    fn key(&mut self, key: &[u8]) -> Option<&mut Self> {
        self.skip_space();
        self.expect(if self.keys == 0 { b'{' } else { b',' })?;
        self.keys += 1;
        self.skip_space();
        self.expect(b'"')?;
        // Byte by byte: keys are short, and as WebAssembly a call of `memcmp` costs more.
        let rest = &self.bytes[self.at..];
        if rest.len() < key.len() || rest.iter().zip(key).any(|(a, b)| a != b) {
            return None;
        }
        self.at += key.len();
        self.expect(b'"')?;
        self.skip_space();
        self.expect(b':')?;
        self.skip_space();
        Some(self)
    }

    /// The closing brace and nothing after it but spaces.
    fn end(&mut self) -> Option<()> {
        self.skip_space();
        self.expect(b'}')?;
        self.finish()
    }

    /// Nothing left but spaces.
    fn finish(&mut self) -> Option<()> {
        self.skip_space();
        (self.at == self.bytes.len()).then_some(())
    }

    /// A string's bytes, not checked as UTF-8.
    fn string_value(&mut self) -> Option<&'a [u8]> {
        self.expect(b'"')?;
        self.string_bytes()
    }

    /// An integer written as one (`5.0` is for the full reader, which also takes it).
    fn int_value(&mut self) -> Option<i64> {
        match self.number()? {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    fn number_value(&mut self) -> Option<f64> {
        match self.number()? {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn expect(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// The rest of a string whose opening quote was read; `None` on an escape or a
    /// control character (serde_json decodes the one and refuses the other).
    fn string(&mut self) -> Option<&'a str> {
        let start = self.at;
        let len = self.string_bytes()?.len();
        // Quotes are ASCII, so both ends are character boundaries of the UTF-8 text.
        self.text?.get(start..start + len)
    }

    /// The bytes of [`Scanner::string`], not checked as UTF-8.
    fn string_bytes(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        let len = string_len(&self.bytes[start..])?;
        self.at = start + len;
        self.expect(b'"')?;
        Some(&self.bytes[start..start + len])
    }

    fn value(&mut self) -> Option<Value<'a>> {
        match self.peek()? {
            b'"' => {
                self.at += 1;
                self.string().map(|s| Value::Str(Cow::Borrowed(s)))
            }
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.word(b"true", Value::Bool(true)),
            b'f' => self.word(b"false", Value::Bool(false)),
            b'n' => self.word(b"null", Value::Null),
            _ => None,
        }
    }

    fn word(&mut self, word: &[u8], value: Value<'a>) -> Option<Value<'a>> {
        self.bytes[self.at..].starts_with(word).then(|| {
            self.at += word.len();
            value
        })
    }

    /// The digits from here on, read into `n` as they pass (wrapping: a number with more
    /// digits than [`INT_DIGITS`] is never taken from it); how many there were.
    fn digits(&mut self, n: &mut u64) -> usize {
        let start = self.at;
        while let Some(d) = self
            .peek()
            .map(|b| b.wrapping_sub(b'0'))
            .filter(|d| *d <= 9)
        {
            *n = n.wrapping_mul(10).wrapping_add(u64::from(d));
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Option<Value<'a>> {
        let negative = self.peek() == Some(b'-');
        self.at += usize::from(negative);
        let first = self.peek();
        let mut n = 0;
        let int_digits = self.digits(&mut n);
        // JSON allows no leading zeros, and needs a digit.
        if int_digits == 0 || (int_digits > 1 && first == Some(b'0')) {
            return None;
        }
        let dot = self.peek() == Some(b'.');
        let frac_digits = if dot {
            self.at += 1;
            self.digits(&mut n)
        } else {
            0
        };
        // An exponent, or anything else stuck to the number, is for serde_json; so is a
        // point with no digits after it, which serde_json refuses.
        let ends = matches!(
            self.peek(),
            None | Some(b',' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
        );
        if !ends || (dot && frac_digits == 0) {
            return None;
        }
        if !dot {
            if int_digits > INT_DIGITS {
                return None;
            }
            let n = n as i64;
            // serde_json reads `-0` as the float -0.0.
            return match (negative, n) {
                (true, 0) => None,
                (true, n) => Some(Value::Int(-n)),
                (false, n) => Some(Value::Int(n)),
            };
        }
        if int_digits + frac_digits > DECIMAL_DIGITS {
            return None;
        }
        let f = n as f64 / POW10[frac_digits];
        Some(Value::Float(if negative { -f } else { f }))
    }
}

/// Bytes up to the first quote, backslash or control character (`None` if there is
/// none), looked for eight bytes at a time: most of a record's bytes are in its strings.
fn string_len(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    // A byte's high bit set where it is zero: exact for the first such byte, which is all
    // that is looked at (a borrow can only mark bytes after it).
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let x = u64::from_le_bytes(word.try_into().ok()?);
        // Quote, backslash, or below 0x20 (bytes from 0x80 up never pass for these).
        let found = zero(x ^ (ONES * u64::from(b'"')))
            | zero(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGHS);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let rest = words.remainder();
    rest.iter()
        .position(|b| matches!(b, b'"' | b'\\' | 0..=0x1f))
        .map(|i| at + i)
}

/// Powers of ten exact as `f64`, up to the most fraction digits read here.
const POW10: [f64; DECIMAL_DIGITS + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The record as serde_json reads it: the reference.
    fn full(text: &str) -> Option<String> {
        RawRecord::parse_full(text).ok().map(|r| format!("{r:?}"))
    }

    fn same_as_full(text: &str) {
        if let Some(fast) = record(text) {
            assert_eq!(Some(format!("{fast:?}")), full(text), "{text:?}");
        }
    }

    #[test]
    fn the_common_shapes_are_read_here_and_read_the_same() {
        for text in [
            r#"{"user":"Jaya.Khatib0@test.com","timestamp":1655564047609,"x":0.9,"y":0.0,"z":-0.6}"#,
            r#"{"sensorReadingTime":1655564047609,"serialNumber":"650342dc","distanceFromObject":210}"#,
            r#"{"customerName": "Jaya Khatib", "email": "J@t.com", "phone": "8015551212", "shareWithResearchAsOfDate": null, "extra": true, "EMAIL": "x"}"#,
            " { } ",
            r#"{"x":-12.50,"y":123456789012345,"z":0.00000000000001,"TimeStamp":-5}"#,
        ] {
            assert!(record(text).is_some(), "{text}");
            same_as_full(text);
        }
    }

    #[test]
    fn other_shapes_are_left_to_serde_json() {
        for text in [
            r#"{"user":"a\"b"}"#,
            "{\"user\":\"a\tb\"}",
            r#"{"x":1e5}"#,
            r#"{"x":-0}"#,
            r#"{"x":01}"#,
            r#"{"x":1.}"#,
            r#"{"x":.5}"#,
            r#"{"x":1234567890123456789}"#,
            r#"{"x":1.234567890123456}"#,
            r#"{"x":{"y":1}}"#,
            r#"{"x":[1]}"#,
            r#"{"x":1,}"#,
            r#"{"x":1} x"#,
            r#"{"x":tru}"#,
            r#"{"x":NaN}"#,
            r#"{"x":1"#,
            "[1]",
            "",
        ] {
            assert!(record(text).is_none(), "{text}");
        }
    }

    /// What the full reader makes of an accelerometer or step trainer reading, in the
    /// terms of [`accelerometer`] and [`step_trainer`]: `None` unless it has exactly that
    /// source's keys.
    fn full_reading(text: &str) -> Option<String> {
        use super::super::Source;
        let r = RawRecord::parse_full(text).ok()?;
        if !r.unknown_keys.is_empty() {
            return None;
        }
        let reading = if r.present() == Field::bits(Source::Accelerometer) {
            let (user, t) = (r.string(Field::User).ok()?, r.int(Field::Timestamp).ok()?);
            let (x, y, z) = (r.number(Field::X), r.number(Field::Y), r.number(Field::Z));
            format!("{:?}", (user, t, x.ok()?, y.ok()?, z.ok()?))
        } else if r.present() == Field::bits(Source::StepTrainer) {
            let time = r.int(Field::SensorReadingTime).ok()?;
            let serial = r.string(Field::SerialNumber).ok()?;
            format!(
                "{:?}",
                (time, serial, r.int(Field::DistanceFromObject).ok()?)
            )
        } else {
            return None;
        };
        Some(reading)
    }

    /// A reading taken the short way is the one the full reader gives.
    fn same_reading_as_full(text: &str) {
        let text_of = |b| std::str::from_utf8(b).expect("a reading of a str");
        let short = accelerometer(text.as_bytes())
            .map(|(u, t, x, y, z)| format!("{:?}", (text_of(u), t, x, y, z)))
            .or_else(|| {
                step_trainer(text.as_bytes()).map(|(t, s, d)| format!("{:?}", (t, text_of(s), d)))
            });
        if short.is_some() {
            assert_eq!(short, full_reading(text), "{text:?}");
        }
    }

    #[test]
    fn readings_laid_out_as_the_spec_writes_them_are_read_the_short_way() {
        for text in [
            r#"{"user":"Jaya.Khatib0@test.com","timestamp":1655564047609,"x":0.9,"y":0.0,"z":-0.6}"#,
            r#" { "user" : "é@t", "timestamp" : -1 , "x" : 1 , "y" : -12.5 , "z" : 0 } "#,
            r#"{"sensorReadingTime":1655564047609,"serialNumber":"650342dc","distanceFromObject":210}"#,
        ] {
            assert!(
                accelerometer(text.as_bytes()).is_some() || step_trainer(text.as_bytes()).is_some(),
                "{text}"
            );
            same_reading_as_full(text);
        }
        for text in [
            // Other order, other case, an escape, a key more or less, a whole float.
            r#"{"timestamp":1,"user":"u","x":1,"y":2,"z":3}"#,
            r#"{"User":"u","timestamp":1,"x":1,"y":2,"z":3}"#,
            r#"{"us\u0065r":"u","timestamp":1,"x":1,"y":2,"z":3}"#,
            r#"{"user":"u","timestamp":1,"x":1,"y":2,"z":3,"w":4}"#,
            r#"{"user":"u","timestamp":1,"x":1,"y":2}"#,
            r#"{"user":"u","timestamp":1.0,"x":1,"y":2,"z":3}"#,
            r#"{"sensorReadingTime":1,"serialNumber":"s","distanceFromObject":2.5}"#,
            r#"{"sensorReadingTime":1,"serialNumber":"s","distanceFromObject":2"#,
        ] {
            assert!(
                accelerometer(text.as_bytes()).is_none() && step_trainer(text.as_bytes()).is_none(),
                "{text}"
            );
        }
    }

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("{".to_string()),
            Just("}".to_string()),
            Just(",".to_string()),
            Just(":".to_string()),
            Just(" ".to_string()),
            Just("\"user\"".to_string()),
            Just("\"X\"".to_string()),
            Just("\"timestamp\"".to_string()),
            Just("\"k\"".to_string()),
            // Long enough for whole words of eight bytes, with what ends or escapes a string.
            "\"[a-z\\\\\"\\t\u{1f}\u{7f} é€]{0,20}\"",
            "-?[0-9]{1,20}(\\.[0-9]{0,17})?([eE][+-]?[0-9]{1,3})?",
            Just("null".to_string()),
            Just("true".to_string()),
            Just("[1]".to_string()),
        ]
    }

    /// A value as a key of this name mostly has it, sometimes another kind.
    fn value_for(key: &'static str) -> BoxedStrategy<String> {
        let text = "\"[a-z\\\\\"é€@.]{0,20}\"";
        let number = prop_oneof![
            3 => "-?[0-9]{1,4}(\\.[0-9]{1,3})?",
            1 => "-?[0-9]{1,20}(\\.[0-9]{0,17})?([eE][+-]?[0-9]{1,3})?",
        ];
        let other = prop_oneof![Just("null".to_string()), Just("[1]".to_string())];
        match key {
            "user" | "serialNumber" => prop_oneof![8 => text, 1 => number, 1 => other].boxed(),
            _ => prop_oneof![1 => text, 8 => number, 1 => other].boxed(),
        }
    }

    /// Readings with the spec's keys in its order, mostly, or other keys; values of the
    /// kind each key wants, mostly; spaces anywhere JSON allows them, sometimes.
    fn reading() -> impl Strategy<Value = String> {
        let names = [
            "user",
            "timestamp",
            "x",
            "X",
            "y",
            "z",
            "w",
            "sensorReadingTime",
            "serialNumber",
            "distanceFromObject",
        ];
        let spec = prop_oneof![
            Just(vec!["user", "timestamp", "x", "y", "z"]),
            Just(vec![
                "sensorReadingTime",
                "serialNumber",
                "distanceFromObject"
            ]),
        ];
        // The spec's keys with one replaced by any name (often itself).
        let one_off = (
            spec.clone(),
            0..5usize,
            prop::sample::select(names.to_vec()),
        )
            .prop_map(|(mut keys, at, name)| {
                let at = at % keys.len();
                keys[at] = name;
                keys
            });
        let keys = prop_oneof![
            2 => spec,
            2 => one_off,
            1 => prop::collection::vec(prop::sample::select(names.to_vec()), 0..6),
        ];
        let space = prop_oneof![6 => Just(""), 1 => Just(" "), 1 => Just("\n")];
        keys.prop_flat_map(move |keys| {
            let values: Vec<_> = keys.iter().map(|k| value_for(k)).collect();
            let spaces = prop::collection::vec(space.clone(), 4 * keys.len() + 3);
            (Just(keys), values, spaces)
        })
        .prop_map(|(keys, values, spaces)| {
            let mut space = spaces.into_iter();
            let mut text = format!("{}{{", space.next().unwrap_or_default());
            for (i, (key, value)) in keys.iter().zip(values).enumerate() {
                let sep = if i == 0 { "" } else { "," };
                let s: Vec<&str> = space.by_ref().take(4).collect();
                text += &format!("{sep}{}\"{key}\"{}:{}{value}{}", s[0], s[1], s[2], s[3]);
            }
            text + "}" + space.next().unwrap_or_default()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn whatever_is_read_here_is_what_serde_json_reads(
            pieces in prop::collection::vec(piece(), 0..14)
        ) {
            same_as_full(&pieces.concat());
        }

        #[test]
        fn whatever_is_read_the_short_way_is_what_serde_json_reads(
            text in reading()
        ) {
            same_reading_as_full(&text);
        }

        #[test]
        fn strings_end_where_a_byte_by_byte_search_ends_them(
            bytes in prop::collection::vec(prop_oneof![any::<u8>(), Just(b'a'), Just(0x80u8)], 0..40)
        ) {
            let naive = bytes.iter().position(|b| matches!(b, b'"' | b'\\' | 0..=0x1f));
            prop_assert_eq!(string_len(&bytes), naive);
        }

        #[test]
        fn objects_of_numbers_read_the_same(
            values in prop::collection::vec(
                "-?(0|[1-9][0-9]{0,19})(\\.[0-9]{1,17})?", 1..6
            )
        ) {
            let fields = ["x", "y", "z", "timestamp", "other"];
            let body: Vec<String> = values
                .iter()
                .zip(fields)
                .map(|(v, k)| format!("\"{k}\":{v}"))
                .collect();
            let text = format!("{{{}}}", body.join(","));
            same_as_full(&text);
        }
    }
}

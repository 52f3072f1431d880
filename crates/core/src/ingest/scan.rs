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
    let mut s = Scanner {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
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
    s.skip_space();
    (s.at == s.bytes.len()).then_some(())
}

/// The record `text` holds when it has the common shape.
#[cfg(test)]
fn record(text: &str) -> Option<RawRecord<'_>> {
    let mut record = RawRecord::default();
    fill(text, &mut record).then_some(record)
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

/// Most digits of an integer read here: any 18-digit number fits an `i64`.
const INT_DIGITS: usize = 18;
/// Most significant digits of a decimal read here: below 2^53, so exact as an `f64`.
const DECIMAL_DIGITS: usize = 15;

impl<'a> Scanner<'a> {
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
        let len = string_len(&self.bytes[start..])?;
        self.at = start + len;
        self.expect(b'"')?;
        // Quotes are ASCII, so both ends are character boundaries of the UTF-8 text.
        self.text.get(start..start + len)
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

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Option<Value<'a>> {
        let negative = self.peek() == Some(b'-');
        self.at += usize::from(negative);
        let int_start = self.at;
        let int_digits = self.digits();
        let int_part = &self.bytes[int_start..self.at];
        // JSON allows no leading zeros, and needs a digit.
        if int_digits == 0 || (int_digits > 1 && int_part[0] == b'0') {
            return None;
        }
        let dot = self.peek() == Some(b'.');
        let frac_start = self.at + 1;
        let frac_digits = if dot {
            self.at += 1;
            self.digits()
        } else {
            0
        };
        let frac_part = &self.bytes[frac_start.min(self.at)..self.at];
        // An exponent, or anything else stuck to the number, is for serde_json; so is a
        // point with no digits after it, which serde_json refuses.
        let ends = matches!(
            self.peek(),
            None | Some(b',' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
        );
        if !ends || (dot && frac_digits == 0) {
            return None;
        }
        let fold = |n: u64, d: &u8| n * 10 + u64::from(d - b'0');
        if !dot {
            if int_digits > INT_DIGITS {
                return None;
            }
            let n = int_part.iter().fold(0, fold) as i64;
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
        let digits = frac_part.iter().fold(int_part.iter().fold(0, fold), fold);
        let f = digits as f64 / POW10[frac_digits];
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn whatever_is_read_here_is_what_serde_json_reads(
            pieces in prop::collection::vec(piece(), 0..14)
        ) {
            same_as_full(&pieces.concat());
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

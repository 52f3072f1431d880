//! One record: parsed from JSON with keys matched ASCII-case-insensitively, then checked
//! against its source's fields.

use super::Source;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Every field any source knows, in one numbering. Each variant is the spec's key of
/// the same name (see [`Field::name`]).
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Field {
    CustomerName,
    Email,
    Phone,
    BirthDay,
    SerialNumber,
    RegistrationDate,
    LastUpdateDate,
    ShareWithResearchAsOfDate,
    ShareWithPublicAsOfDate,
    ShareWithFriendsAsOfDate,
    User,
    Timestamp,
    X,
    Y,
    Z,
    SensorReadingTime,
    DistanceFromObject,
}

const FIELDS: [(Field, &str); 17] = [
    (Field::CustomerName, "customerName"),
    (Field::Email, "email"),
    (Field::Phone, "phone"),
    (Field::BirthDay, "birthDay"),
    (Field::SerialNumber, "serialNumber"),
    (Field::RegistrationDate, "registrationDate"),
    (Field::LastUpdateDate, "lastUpdateDate"),
    (
        Field::ShareWithResearchAsOfDate,
        "shareWithResearchAsOfDate",
    ),
    (Field::ShareWithPublicAsOfDate, "shareWithPublicAsOfDate"),
    (Field::ShareWithFriendsAsOfDate, "shareWithFriendsAsOfDate"),
    (Field::User, "user"),
    (Field::Timestamp, "timestamp"),
    (Field::X, "x"),
    (Field::Y, "y"),
    (Field::Z, "z"),
    (Field::SensorReadingTime, "sensorReadingTime"),
    (Field::DistanceFromObject, "distanceFromObject"),
];

impl Field {
    /// The field's name as the spec spells it.
    pub fn name(self) -> &'static str {
        FIELDS[self as usize].1
    }

    pub(super) fn lookup(key: &str) -> Option<Field> {
        // Keys are nearly always spelt as the spec spells them.
        let exact = match key {
            "user" => Some(Field::User),
            "timestamp" => Some(Field::Timestamp),
            "x" => Some(Field::X),
            "y" => Some(Field::Y),
            "z" => Some(Field::Z),
            "sensorReadingTime" => Some(Field::SensorReadingTime),
            "serialNumber" => Some(Field::SerialNumber),
            "distanceFromObject" => Some(Field::DistanceFromObject),
            _ => None,
        };
        exact.or_else(|| Field::lookup_any_case(key))
    }

    fn lookup_any_case(key: &str) -> Option<Field> {
        FIELDS
            .iter()
            .find(|(_, name)| name.len() == key.len() && name.eq_ignore_ascii_case(key))
            .map(|(f, _)| *f)
    }

    /// Every field, in their numbering.
    pub(super) fn all() -> impl Iterator<Item = Field> {
        FIELDS.iter().map(|(f, _)| *f)
    }

    /// [`Field::of`] as bits, as [`RawRecord::present`] gives them.
    pub(super) fn bits(source: Source) -> u32 {
        const fn bits(fields: &[Field]) -> u32 {
            let (mut bits, mut i) = (0, 0);
            while i < fields.len() {
                bits |= 1 << fields[i] as usize;
                i += 1;
            }
            bits
        }
        const CUSTOMER: u32 = bits(Field::of(Source::Customer));
        const ACCELEROMETER: u32 = bits(Field::of(Source::Accelerometer));
        const STEP_TRAINER: u32 = bits(Field::of(Source::StepTrainer));
        match source {
            Source::Customer => CUSTOMER,
            Source::Accelerometer => ACCELEROMETER,
            Source::StepTrainer => STEP_TRAINER,
        }
    }

    /// The fields a source reads, for telling a record's keys apart from unknown ones.
    pub const fn of(source: Source) -> &'static [Field] {
        use Field::*;
        match source {
            Source::Customer => &[
                CustomerName,
                Email,
                Phone,
                BirthDay,
                SerialNumber,
                RegistrationDate,
                LastUpdateDate,
                ShareWithResearchAsOfDate,
                ShareWithPublicAsOfDate,
                ShareWithFriendsAsOfDate,
            ],
            Source::Accelerometer => &[User, Timestamp, X, Y, Z],
            Source::StepTrainer => &[SensorReadingTime, SerialNumber, DistanceFromObject],
        }
    }
}

/// A JSON value as far as a field cares: scalars kept, containers only named.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// A non-negative integer beyond `i64`.
    BigInt(u64),
    Float(f64),
    Str(Cow<'a, str>),
    Object,
    Array,
}

impl Value<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::BigInt(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Object => "an object",
            Value::Array => "an array",
        }
    }
}

/// A parsed record: the value of each known field (last one wins on duplicate keys,
/// as in serde_json), and the names of keys no source knows.
#[derive(Debug, Default)]
pub struct RawRecord<'a> {
    pub(super) values: [Option<Value<'a>>; 17],
    pub unknown_keys: Vec<Cow<'a, str>>,
}

/// Why a record's bytes could not be read as a JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// One line, fit for the quarantine; no position, so equal problems group.
    pub reason: String,
    /// The bytes stopped before the value was complete (a cut record, if it is the last).
    pub ends_early: bool,
}

/// NUL bytes come from zero-filled blocks after a crash, or from binary files.
pub const NUL_BYTES: &str = "contains NUL bytes (0x00): the file is damaged or is not text";
/// JSON is UTF-8; replacing bad bytes would silently change emails and serial numbers.
pub const NOT_UTF8: &str = "not UTF-8 text (JSON must be UTF-8): save the file as UTF-8";
/// Old Mac software ends lines with CR alone: such a file reads as one long line.
pub const CR_ONLY: &str = "invalid JSON: several records on one line, separated by CR only: \
                           convert the file's line ends to LF or CRLF";
/// Python's `json` writes these by default; no JSON reader accepts them.
pub const NOT_A_NUMBER: &str =
    "invalid JSON: NaN and Infinity are not JSON numbers; write null or a number";

impl<'a> RawRecord<'a> {
    /// Parses one record. The whole record must be UTF-8, even in values of keys that are
    /// ignored: serde_json checks only the strings it reads.
    #[cfg(test)]
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Unreadable> {
        let mut record = RawRecord::default();
        record.read(bytes)?;
        Ok(record)
    }

    /// [`RawRecord::parse`] into an empty record, in place: a record is a few hundred
    /// bytes, and moving one per line showed in profiles.
    pub(super) fn read(&mut self, bytes: &'a [u8]) -> Result<(), Unreadable> {
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let nul = memchr::memchr(0, bytes).is_some();
                return Err(Unreadable {
                    reason: (if nul { NUL_BYTES } else { NOT_UTF8 }).to_string(),
                    // A character whose bytes stop at the end: cut, not mis-encoded.
                    ends_early: e.error_len().is_none(),
                });
            }
        };
        if !super::scan::fill(text, self) {
            *self = Self::parse_full(text)?;
        }
        Ok(())
    }

    /// Parses any record with serde_json, which also words what is wrong with it.
    pub(super) fn parse_full(text: &'a str) -> Result<Self, Unreadable> {
        let bytes = text.as_bytes();
        let mut de = serde_json::Deserializer::from_str(text);
        let record = de::Deserialize::deserialize(&mut de).and_then(|r| de.end().map(|()| r));
        record.map_err(|e| Unreadable {
            reason: json_reason(bytes, &e),
            ends_early: e.classify() == serde_json::error::Category::Eof,
        })
    }

    /// Whether the record carries this key (even as null).
    pub fn has(&self, field: Field) -> bool {
        self.values[field as usize].is_some()
    }

    /// The fields the record has, one bit each (bit `field as usize`).
    pub(super) fn present(&self) -> u32 {
        self.values
            .iter()
            .enumerate()
            .fold(0, |bits, (i, v)| bits | (u32::from(v.is_some()) << i))
    }

    /// The source whose identifying keys the record has, if any.
    pub fn detect(&self) -> Option<Source> {
        Source::ALL.into_iter().find(|s| {
            let (a, b) = s.identifying_fields();
            self.has(a) && self.has(b)
        })
    }

    fn get(&self, field: Field) -> &Value<'a> {
        self.values[field as usize].as_ref().unwrap_or(&Value::Null)
    }

    /// A required string.
    pub fn string(&self, field: Field) -> Result<&str, String> {
        match self.get(field) {
            Value::Str(s) => Ok(s),
            other => Err(self.wrong(field, other, "a string", true)),
        }
    }

    /// An optional string; `number_as_text` accepts a number and keeps its text.
    pub fn opt_string(&self, field: Field, number_as_text: bool) -> Result<Option<String>, String> {
        match self.get(field) {
            Value::Null => Ok(None),
            Value::Str(s) => Ok(Some(s.to_string())),
            Value::Int(i) if number_as_text => Ok(Some(i.to_string())),
            Value::BigInt(u) if number_as_text => Ok(Some(u.to_string())),
            Value::Float(f) if number_as_text => Ok(Some(f.to_string())),
            other => Err(self.wrong(field, other, "a string", false)),
        }
    }

    /// A required integer.
    pub fn int(&self, field: Field) -> Result<i64, String> {
        self.opt_int(field)?
            .ok_or_else(|| self.wrong(field, self.get(field), "an integer", true))
    }

    /// An optional integer. `1.0` is accepted as 1; `1.5` is not an integer.
    pub fn opt_int(&self, field: Field) -> Result<Option<i64>, String> {
        match self.get(field) {
            Value::Null => Ok(None),
            Value::Int(i) => Ok(Some(*i)),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(Some(*f as i64)),
            Value::Float(f) if f.fract() != 0.0 => Err(format!(
                "field '{}' has a fractional value, expected an integer",
                field.name()
            )),
            Value::Float(_) | Value::BigInt(_) => Err(format!(
                "field '{}' is out of the 64-bit integer range",
                field.name()
            )),
            other => Err(self.wrong(field, other, "an integer", false)),
        }
    }

    /// A required number.
    pub fn number(&self, field: Field) -> Result<f64, String> {
        match self.get(field) {
            Value::Int(i) => Ok(*i as f64),
            Value::BigInt(u) => Ok(*u as f64),
            Value::Float(f) => Ok(*f),
            other => Err(self.wrong(field, other, "a number", true)),
        }
    }

    fn wrong(&self, field: Field, value: &Value<'_>, expected: &str, required: bool) -> String {
        let name = field.name();
        match value {
            Value::Null if !self.has(field) => format!("missing required field '{name}'"),
            Value::Null if required => format!("field '{name}' is null, but it is required"),
            other => format!("field '{name}' is {}, expected {expected}", other.kind()),
        }
    }
}

/// serde_json's message without its position (the quarantine gives the line), so that
/// equal problems group under one reason; a clearer one for NUL bytes, NaN and Infinity.
fn json_reason(bytes: &[u8], e: &serde_json::Error) -> String {
    if memchr::memchr(0, bytes).is_some() {
        return NUL_BYTES.to_string();
    }
    if e.classify() == serde_json::error::Category::Syntax {
        let at = &bytes[offset(bytes, e.line(), e.column())..];
        let at = at.strip_prefix(b"-").unwrap_or(at);
        if at.starts_with(b"NaN") || at.starts_with(b"Infinity") {
            return NOT_A_NUMBER.to_string();
        }
    }
    if e.classify() == serde_json::error::Category::Data {
        // Only the top-level value can have the wrong type: name its kind, not its value,
        // so that a file of numbers gives one reason, not one per number.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        let kind = match first {
            Some(b'[') => "an array",
            Some(b'"') => "a string",
            Some(b't' | b'f') => "a boolean",
            Some(b'n') => "null",
            _ => "a number",
        };
        return format!("not a JSON object: the record is {kind}");
    }
    let text = e.to_string();
    if text.starts_with("trailing characters") && memchr::memchr(b'\r', bytes).is_some() {
        return CR_ONLY.to_string();
    }
    let text = match text.rfind(" at line ") {
        Some(at) => &text[..at],
        None => &text,
    };
    format!("invalid JSON: {text}")
}

/// The byte offset of serde_json's 1-based line and column (0 when out of range).
fn offset(bytes: &[u8], line: usize, column: usize) -> usize {
    let line_start = match line {
        0 | 1 => 0,
        n => memchr::memchr_iter(b'\n', bytes)
            .nth(n - 2)
            .map_or(bytes.len(), |i| i + 1),
    };
    (line_start + column.saturating_sub(1)).min(bytes.len())
}

struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl<'de> de::Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Value<'de>, E> {
                Ok(Value::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Value<'de>, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Value<'de>, E> {
                Ok(Value::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Value<'de>, E> {
                Ok(i64::try_from(v).map_or(Value::BigInt(v), Value::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Value<'de>, E> {
                Ok(Value::Float(v))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Value<'de>, E> {
                Ok(Value::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Value<'de>, E> {
                Ok(Value::Str(Cow::Owned(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Value::Object)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Value::Array)
            }
        }
        d.deserialize_any(ValueVisitor)
    }
}

impl<'de> de::Deserialize<'de> for RawRecord<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RecordVisitor;
        impl<'de> Visitor<'de> for RecordVisitor {
            type Value = RawRecord<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawRecord<'de>, A::Error> {
                let mut record = RawRecord::default();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    match Field::lookup(&key) {
                        Some(field) => record.values[field as usize] = Some(map.next_value()?),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                            record.unknown_keys.push(key);
                        }
                    }
                }
                Ok(record)
            }
        }
        d.deserialize_map(RecordVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_case_insensitively_and_unknown_keys_are_listed() {
        let r = RawRecord::parse(
            br#"{"USER":"a@b","timeStamp":5,"x":1,"y":2.5,"z":-1,"extra":{"n":[1]}}"#,
        )
        .unwrap();
        assert_eq!(r.detect(), Some(Source::Accelerometer));
        assert_eq!(r.string(Field::User).unwrap(), "a@b");
        assert_eq!(r.int(Field::Timestamp).unwrap(), 5);
        assert_eq!(r.number(Field::Y).unwrap(), 2.5);
        assert_eq!(r.unknown_keys, vec!["extra"]);
    }

    #[test]
    fn integers_accept_whole_floats_only() {
        let r =
            RawRecord::parse(br#"{"a":1.0,"b":1.5,"c":"7","d":18446744073709551615,"e":1e300}"#);
        let r = r.unwrap();
        // Unknown keys are ignored, so use known fields for the checks.
        assert!(r.unknown_keys.len() == 5);
        let r = RawRecord::parse(
            br#"{"timestamp":1.0,"x":1.5,"sensorReadingTime":"7","registrationDate":18446744073709551615,"lastUpdateDate":1e300}"#,
        )
        .unwrap();
        assert_eq!(r.int(Field::Timestamp).unwrap(), 1);
        assert!(r.int(Field::X).unwrap_err().contains("fractional"));
        assert_eq!(
            r.int(Field::SensorReadingTime).unwrap_err(),
            "field 'sensorReadingTime' is a string, expected an integer"
        );
        assert!(r
            .opt_int(Field::RegistrationDate)
            .unwrap_err()
            .contains("64-bit"));
        assert!(r
            .opt_int(Field::LastUpdateDate)
            .unwrap_err()
            .contains("64-bit"));
    }

    #[test]
    fn absent_and_null_required_fields_have_distinct_reasons() {
        let r = RawRecord::parse(br#"{"user":null}"#).unwrap();
        assert_eq!(
            r.string(Field::User).unwrap_err(),
            "field 'user' is null, but it is required"
        );
        assert_eq!(
            r.int(Field::Timestamp).unwrap_err(),
            "missing required field 'timestamp'"
        );
        assert_eq!(r.opt_int(Field::Timestamp).unwrap(), None);
    }

    #[test]
    fn duplicate_keys_keep_the_last_value() {
        let r = RawRecord::parse(br#"{"timestamp":1,"TIMESTAMP":2}"#).unwrap();
        assert_eq!(r.int(Field::Timestamp).unwrap(), 2);
    }

    #[test]
    fn phone_numbers_are_kept_as_text() {
        let r = RawRecord::parse(br#"{"phone":8015551212}"#).unwrap();
        assert_eq!(
            r.opt_string(Field::Phone, true).unwrap().unwrap(),
            "8015551212"
        );
        assert!(r.opt_string(Field::Phone, false).is_err());
    }

    #[test]
    fn reasons_name_the_problem_without_positions() {
        let reason = |bytes: &[u8]| RawRecord::parse(bytes).unwrap_err().reason;
        assert_eq!(
            reason(b"[1,2]"),
            "not a JSON object: the record is an array"
        );
        assert_eq!(reason(b" 42"), "not a JSON object: the record is a number");
        assert_eq!(
            reason(b"\"{}\""),
            "not a JSON object: the record is a string"
        );
        assert!(reason(br#"{"x": 1} {"#).starts_with("invalid JSON: trailing"));
        // Deep nesting under a key is skipped without recursion: the field is only an array.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let text = format!("{{\"timestamp\":{deep},\"zz\":{deep}}}");
        let r = RawRecord::parse(text.as_bytes()).unwrap();
        assert_eq!(
            r.int(Field::Timestamp).unwrap_err(),
            "field 'timestamp' is an array, expected an integer"
        );
        // At the top level, serde_json's recursion limit refuses it.
        let top = reason(deep.as_bytes());
        assert!(top.starts_with("not a JSON object"), "{top}");
    }

    #[test]
    fn nan_and_infinity_say_they_are_not_json_numbers() {
        for text in [
            r#"{"x":NaN}"#,
            r#"{"x":-NaN}"#,
            r#"{"x": Infinity}"#,
            "{\"y\":1,\n \"x\":-Infinity}",
        ] {
            assert_eq!(
                RawRecord::parse(text.as_bytes()).unwrap_err().reason,
                NOT_A_NUMBER,
                "{text}"
            );
        }
        assert_eq!(
            RawRecord::parse(br#"{"x":nope}"#).unwrap_err().reason,
            "invalid JSON: expected ident"
        );
    }

    #[test]
    fn invalid_utf8_is_refused_even_in_an_ignored_value() {
        for bytes in [
            &b"{\"user\":\"caf\xe9\"}"[..],
            b"{\"user\":\"u\",\"note\":\"caf\xe9\"}",
            b"\xff\xfe{}",
        ] {
            assert_eq!(RawRecord::parse(bytes).unwrap_err().reason, NOT_UTF8);
        }
    }

    #[test]
    fn nul_bytes_are_named_in_or_out_of_strings() {
        for bytes in [
            &b"{\"user\":\"a\0\"}"[..],
            b"{\"user\":\"a\"}\0",
            b"\0\0\0\0",
            b"\0\xff",
        ] {
            assert_eq!(RawRecord::parse(bytes).unwrap_err().reason, NUL_BYTES);
        }
    }

    #[test]
    fn records_separated_by_cr_only_say_so() {
        let text = b"{\"x\":1}\r{\"x\":2}\r";
        assert_eq!(RawRecord::parse(text).unwrap_err().reason, CR_ONLY);
        let text = b"{\"x\":1} {\"x\":2}\r";
        assert_eq!(RawRecord::parse(text).unwrap_err().reason, CR_ONLY);
        let text = b"{\"x\":1} x";
        assert_eq!(
            RawRecord::parse(text).unwrap_err().reason,
            "invalid JSON: trailing characters"
        );
    }

    #[test]
    fn running_out_of_bytes_is_told_apart() {
        assert!(RawRecord::parse(br#"{"user":"a"#).unwrap_err().ends_early);
        assert!(RawRecord::parse(br#"{"user":"#).unwrap_err().ends_early);
        assert!(!RawRecord::parse(br#"{"user":}"#).unwrap_err().ends_early);
        assert!(
            RawRecord::parse(b"{\"user\":\"Zo\xc3")
                .unwrap_err()
                .ends_early
        );
        assert!(
            !RawRecord::parse(b"{\"user\":\"Zo\xc3\"}")
                .unwrap_err()
                .ends_early
        );
    }

    #[test]
    fn error_positions_map_to_byte_offsets() {
        let text = b"ab\ncd\nef";
        assert_eq!(offset(text, 1, 1), 0);
        assert_eq!(offset(text, 2, 2), 4);
        assert_eq!(offset(text, 3, 1), 6);
        assert_eq!(offset(text, 9, 9), text.len());
        assert_eq!(offset(text, 0, 0), 0);
    }
}

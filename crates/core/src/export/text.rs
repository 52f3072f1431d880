//! CSV and JSON Lines, written row by row from the zone's columns. The bytes are those
//! Arrow's CSV and JSON writers give for the same batches (the tests compare them), without
//! building a batch of copied strings per 64 Ki rows and formatting it cell by cell through
//! dynamic dispatch, which took most of a run's time.

use super::{Cell, Names, ZoneWriter};
use crate::zones::Zone;
use std::io::{self, Write};
use std::ops::Range;

/// Bytes gathered before they go to the output.
const BUFFER: usize = 64 * 1024;

/// CSV with a header row: fields quoted only when they hold a comma, a quote or a line
/// end (quotes doubled), null as an empty field, floats in their shortest round-trip form
/// (ryu's), lines ended by LF: the csv crate's rules, as Arrow's CSV writer uses them.
/// Only the zone's rows `rows` are written, after the header when `header`.
pub(super) fn csv(
    writer: &ZoneWriter<'_>,
    names: &Names,
    zone: Zone,
    (rows, header): (Range<usize>, bool),
    out: impl Write,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(BUFFER + 4096);
    if header {
        for (i, field) in writer.schema(zone).fields().iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            csv_text(&mut buf, field.name());
        }
        buf.push(b'\n');
    }
    let mut number = [0u8; lexical_core::BUFFER_SIZE];
    let mut float = ryu::Buffer::new();
    // Per column, the last text written and whether it needed quotes: most texts are
    // names (an email, a serial) that repeat row after row, the same string each time.
    let mut last: [(*const u8, usize, bool); super::MAX_COLUMNS] =
        [(std::ptr::null(), 0, false); super::MAX_COLUMNS];
    each_row(writer, names, zone, rows, buf, out, |row, buf| {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            match *cell {
                Cell::Text(v) => {
                    let text = v.unwrap_or_default();
                    let seen = &mut last[i];
                    if (seen.0, seen.1) != (text.as_ptr(), text.len()) {
                        *seen = (text.as_ptr(), text.len(), needs_quotes(text));
                    }
                    if seen.2 {
                        quoted(buf, text);
                    } else {
                        buf.extend_from_slice(text.as_bytes());
                    }
                }
                Cell::Int(None) => {}
                Cell::Int(Some(v)) => buf.extend_from_slice(lexical_core::write(v, &mut number)),
                // Numbers never need quotes, NaN and inf included.
                Cell::Float(v) => match short_decimal(v, &mut number) {
                    Some(text) => buf.extend_from_slice(text),
                    None => buf.extend_from_slice(float.format(v).as_bytes()),
                },
            }
        }
        buf.push(b'\n');
    })
}

/// Appends the zone's rows `rows` to `buf` with `line`, passing the bytes on to `out` in
/// blocks of about [`BUFFER`].
fn each_row(
    writer: &ZoneWriter<'_>,
    names: &Names,
    zone: Zone,
    rows: Range<usize>,
    mut buf: Vec<u8>,
    mut out: impl Write,
    mut line: impl FnMut(&[Cell<'_>], &mut Vec<u8>),
) -> io::Result<()> {
    for pos in rows {
        line(&writer.row(names, zone, pos), &mut buf);
        if buf.len() >= BUFFER {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()
}

/// A text field, quoted when a CSV reader would otherwise split or end it.
fn csv_text(buf: &mut Vec<u8>, text: &str) {
    if needs_quotes(text) {
        quoted(buf, text);
    } else {
        buf.extend_from_slice(text.as_bytes());
    }
}

/// Whether a CSV reader would split or end the text unquoted.
fn needs_quotes(text: &str) -> bool {
    text.bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
}

/// The text quoted, its quotes doubled.
fn quoted(buf: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    buf.push(b'"');
    for part in bytes.split_inclusive(|b| *b == b'"') {
        buf.extend_from_slice(part);
        if part.ends_with(b"\"") {
            buf.push(b'"');
        }
    }
    buf.push(b'"');
}

/// JSON Lines: one object per row, null fields left out, strings escaped as serde_json
/// escapes them, numbers as Arrow's JSON writer formats them (lexical), and a float that
/// is not finite written as null. Only the zone's rows `rows` are written.
pub(super) fn jsonl(
    writer: &ZoneWriter<'_>,
    names: &Names,
    zone: Zone,
    rows: Range<usize>,
    out: impl Write,
) -> io::Result<()> {
    let keys: Vec<Vec<u8>> = writer
        .schema(zone)
        .fields()
        .iter()
        .map(|f| {
            let mut key = serde_json::to_vec(f.name()).unwrap_or_default();
            key.push(b':');
            key
        })
        .collect();
    let mut number = [0u8; lexical_core::BUFFER_SIZE];
    let buf = Vec::with_capacity(BUFFER + 4096);
    each_row(writer, names, zone, rows, buf, out, |row, buf| {
        buf.push(b'{');
        let mut first = true;
        for (cell, key) in row.iter().zip(&keys) {
            if matches!(cell, Cell::Text(None) | Cell::Int(None)) {
                continue;
            }
            if !first {
                buf.push(b',');
            }
            first = false;
            buf.extend_from_slice(key);
            match *cell {
                Cell::Text(Some(v)) => {
                    // Writing to a Vec cannot fail.
                    let _ = serde_json::to_writer(&mut *buf, v);
                }
                Cell::Int(Some(v)) => buf.extend_from_slice(lexical_core::write(v, &mut number)),
                Cell::Float(v) if v.is_finite() => match short_decimal(v, &mut number) {
                    Some(text) => buf.extend_from_slice(text),
                    None => buf.extend_from_slice(lexical_core::write(v, &mut number)),
                },
                _ => buf.extend_from_slice(b"null"),
            }
        }
        buf.extend_from_slice(b"}\n");
    })
}

/// Readings mostly have one to three decimals. For such a value the shortest text that
/// reads back as it (what ryu and lexical both print) is those decimals, so it is written
/// here directly; their general algorithms took a fifth of a run's time. `None` for others.
fn short_decimal(v: f64, out: &mut [u8]) -> Option<&[u8]> {
    // Below 1e9 the gap between floats is far below 0.001: one decimal form can read back
    // (and NaN fails the comparison).
    let a = v.abs();
    if a.is_nan() || a >= 1e9 {
        return None;
    }
    // Truncating `|v| * 1000 + 0.5` rounds: a value that is some k / 1000 is far closer to
    // k than the half-way points. It is one exactly when k / 1000 reads back as it.
    let thousandths = (a * 1000.0 + 0.5) as u64;
    if thousandths as f64 / 1000.0 != a {
        return None;
    }
    // Then `a` lies in [int, int + 1), and k / 1000 with its fraction's trailing zeros
    // dropped is the same quotient, so it reads back too: the fewest places (one at least,
    // ".0" for an integer, as ryu writes it). In 32 bits: WebAssembly has no 64-bit
    // multiply-high, so dividing a u64 by a constant is a hardware division there.
    let int = a as u32;
    let frac = (thousandths - u64::from(int) * 1000) as u32;
    let (frac, places) = match frac {
        f if f % 100 == 0 => (f / 100, 1),
        f if f % 10 == 0 => (f / 10, 2),
        f => (f, 3),
    };
    out[0] = b'-';
    let mut at = usize::from(v.is_sign_negative());
    let int_len = int.checked_ilog10().map_or(1, |l| l as usize + 1);
    let mut rest = int;
    for d in out[at..at + int_len].iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    at += int_len;
    out[at] = b'.';
    let mut rest = frac;
    for d in out[at + 1..at + 1 + places].iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    Some(&out[..at + 1 + places])
}

#[cfg(test)]
mod tests {
    use super::super::{Format, ZoneWriter};
    use super::*;
    use crate::ingest::{read_bytes, Landing};
    use crate::pii::Salt;
    use crate::policy::{Pii, Preset};
    use crate::zones::Zones;
    use proptest::prelude::*;

    /// The zone as Arrow's own writers write it: the reference for the bytes.
    fn arrow_bytes(w: &ZoneWriter<'_>, zone: Zone, format: Format) -> Vec<u8> {
        let names = Names::new(w, zone);
        let rows = w.rows(zone);
        let batches: Vec<_> = (0..rows.max(1))
            .step_by(7)
            .map(|from| w.batch(&names, zone, from, (from + 7).min(rows)))
            .collect();
        let mut out = Vec::new();
        match format {
            Format::Csv => {
                let mut csv = arrow_csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut out);
                batches.iter().for_each(|b| csv.write(b).unwrap());
            }
            _ => {
                let mut json = arrow_json::LineDelimitedWriter::new(&mut out);
                batches.iter().for_each(|b| json.write(b).unwrap());
                json.finish().unwrap();
            }
        }
        out
    }

    fn landing(customers: &[String], readings: &[String], steps: &[String]) -> Landing {
        Landing::from_batches(vec![
            read_bytes("customer.json", None, customers.join("\n").as_bytes()),
            read_bytes("accelerometer.json", None, readings.join("\n").as_bytes()),
            read_bytes("step_trainer.json", None, steps.join("\n").as_bytes()),
        ])
    }

    fn assert_same_as_arrow(l: &Landing) {
        for preset in [Preset::Strict, Preset::Rubric] {
            let policy = crate::policy::Policy::preset(preset);
            let zones = Zones::build(l, &policy);
            for pii in [Pii::Keep, Pii::Pseudonymize, Pii::Drop] {
                let salt = Salt::given("s");
                let w = ZoneWriter {
                    landing: l,
                    zones: &zones,
                    pii,
                    salt: &salt,
                };
                for zone in Zone::ALL {
                    for format in [Format::Csv, Format::Jsonl] {
                        let mut ours = Vec::new();
                        w.write(zone, format, &mut ours).unwrap();
                        let theirs = arrow_bytes(&w, zone, format);
                        assert_eq!(
                            String::from_utf8_lossy(&ours),
                            String::from_utf8_lossy(&theirs),
                            "{zone:?} {format:?} {pii:?}"
                        );
                    }
                }
            }
        }
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z]{0,6}",
            "[ -~]{0,12}",
            any::<String>(),
            Just(String::new()),
            Just("a,b".to_string()),
            Just("say \"hi\"".to_string()),
            Just("two\nlines\r\n".to_string()),
            Just("tab\there \u{1}\u{7f} é 😀".to_string()),
        ]
    }

    fn float() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()),
            (-20i32..20).prop_map(|t| f64::from(t) / 10.0),
            Just(-0.0),
            Just(1e300),
            Just(5e-324),
            Just(1e16),
            Just(123456789.125),
        ]
    }

    proptest! {
        #[test]
        fn short_decimals_are_what_ryu_and_lexical_print(
            v in prop_oneof![
                any::<f64>(),
                (-1_000_000_000i64..1_000_000_000, 0u32..5)
                    .prop_map(|(k, places)| k as f64 / 10f64.powi(places as i32)),
                (-2000i64..2000).prop_map(|k| k as f64 / 1000.0),
                Just(-0.0),
                Just(0.0),
                Just(999_999_999.999),
            ]
        ) {
            let mut buf = [0u8; lexical_core::BUFFER_SIZE];
            if let Some(text) = short_decimal(v, &mut buf) {
                let text = String::from_utf8(text.to_vec()).unwrap();
                let mut ryu = ryu::Buffer::new();
                prop_assert_eq!(text.as_str(), ryu.format(v));
                let mut lexical = [0u8; lexical_core::BUFFER_SIZE];
                prop_assert_eq!(text.as_bytes(), lexical_core::write(v, &mut lexical));
            }
        }
    }

    #[test]
    fn readings_with_few_decimals_take_the_short_path() {
        let mut buf = [0u8; lexical_core::BUFFER_SIZE];
        for (v, text) in [
            (0.9, "0.9"),
            (-0.6, "-0.6"),
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (12.125, "12.125"),
            (0.001, "0.001"),
            (2.999, "2.999"),
            (-7.25, "-7.25"),
            (100.5, "100.5"),
            (999_999_999.999, "999999999.999"),
        ] {
            assert_eq!(short_decimal(v, &mut buf), Some(text.as_bytes()), "{v}");
        }
        assert_eq!(short_decimal(0.0001, &mut buf), None);
        assert_eq!(short_decimal(1e9, &mut buf), None);
        assert_eq!(short_decimal(f64::NAN, &mut buf), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn zone_files_are_the_bytes_arrow_writes(
            people in prop::collection::vec(
                (text(), text(), prop::option::of(0i64..10), any::<i64>(), prop::bool::ANY),
                1..5,
            ),
            readings in prop::collection::vec((0usize..5, 0i64..10, float(), float(), float()), 0..12),
            steps in prop::collection::vec((0usize..5, 0i64..10, any::<i64>()), 0..12),
        ) {
            let customers: Vec<String> = people
                .iter()
                .enumerate()
                .map(|(i, (name, email, consent, birth, phone_as_number))| {
                    let phone = if *phone_as_number { "8015551212".to_string() } else { "\"801-555\"".into() };
                    serde_json::json!({
                        "customerName": name, "email": format!("{email}{i}"), "phone": serde_json::from_str::<serde_json::Value>(&phone).unwrap(),
                        "birthDay": birth.to_string(), "serialNumber": format!("s{i}{name}"),
                        "registrationDate": 1, "lastUpdateDate": 2,
                        "shareWithResearchAsOfDate": consent,
                    })
                    .to_string()
                })
                .collect();
            let email = |i: usize| format!("{}{}", people[i % people.len()].1, i % people.len());
            let serial = |i: usize| format!("s{}{}", i % people.len(), people[i % people.len()].0);
            let readings: Vec<String> = readings
                .iter()
                .map(|(who, t, x, y, z)| {
                    serde_json::json!({"user": email(*who), "timestamp": t, "x": x, "y": y, "z": z}).to_string()
                })
                .collect();
            let steps: Vec<String> = steps
                .iter()
                .map(|(who, t, d)| {
                    serde_json::json!({"sensorReadingTime": t, "serialNumber": serial(*who), "distanceFromObject": d}).to_string()
                })
                .collect();
            assert_same_as_arrow(&landing(&customers, &readings, &steps));
        }
    }

    #[test]
    fn empty_zones_are_a_header_alone_or_an_empty_file() {
        assert_same_as_arrow(&Landing::default());
        let l = Landing::default();
        let zones = Zones::build(&l, &crate::policy::Policy::preset(Preset::Strict));
        let salt = Salt::given("s");
        let w = ZoneWriter {
            landing: &l,
            zones: &zones,
            pii: Pii::Keep,
            salt: &salt,
        };
        let mut csv = Vec::new();
        w.write(Zone::StepTrainerTrusted, Format::Csv, &mut csv)
            .unwrap();
        assert_eq!(csv, b"sensorReadingTime,serialNumber,distanceFromObject\n");
        let mut jsonl = Vec::new();
        w.write(Zone::StepTrainerTrusted, Format::Jsonl, &mut jsonl)
            .unwrap();
        assert!(jsonl.is_empty());
    }
}

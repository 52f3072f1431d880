//! Valid files mangled at random (cut short, bytes flipped, bytes inserted, lines
//! shuffled) and fed in random chunks: the reader never panics, never hangs, reads the
//! same whatever the chunking, and conserves records.

use crate::corpus::{expected, read_in_chunks, valid_files};
use proptest::prelude::*;
use proptest::sample::Index;
use std::io::Write;
use std::sync::{mpsc, OnceLock};
use std::time::Duration;
use stedi_core::ingest::{FileBatch, FileReader, CUT_RECORD};

/// Longest a small file may take to read, even in a debug build on a busy machine.
const PATIENCE: Duration = Duration::from_secs(20);

/// Files to mangle: the valid ones as JSON Lines, as a JSON array and gzipped, and the
/// small files of the bad corpus.
fn bases() -> &'static [(String, Vec<u8>)] {
    static BASES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    BASES.get_or_init(|| {
        let mut bases = valid_files();
        let (_, steps) = bases
            .iter()
            .find(|(n, _)| n == "step_trainer.json")
            .unwrap();
        let lines: Vec<&[u8]> = steps
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        let array = [b"[\n".as_slice(), &lines.join(&b",\n"[..]), b"\n]\n"].concat();
        bases.push(("array.json".into(), array));
        let (_, phone) = bases
            .iter()
            .find(|(n, _)| n == "accelerometer.json")
            .unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(phone).unwrap();
        bases.push(("accelerometer.json.gz".into(), gz.finish().unwrap()));
        for e in expected() {
            if e.generate.is_none() {
                let bytes = e.bytes();
                if bytes.len() <= 4096 {
                    bases.push((e.name, bytes));
                }
            }
        }
        bases
    })
}

/// The valid JSON Lines files only.
fn json_lines() -> Vec<(String, Vec<u8>)> {
    valid_files()
}

#[derive(Debug, Clone)]
enum Mangle {
    /// Cut the file at this point.
    Truncate(Index),
    /// XOR a byte with a non-zero mask.
    Flip(Index, u8),
    /// Insert bytes at this point.
    Insert(Index, Vec<u8>),
    /// Reorder the lines.
    Shuffle(Vec<Index>),
}

fn mangle() -> impl Strategy<Value = Mangle> {
    prop_oneof![
        any::<Index>().prop_map(Mangle::Truncate),
        (any::<Index>(), 1..=255u8).prop_map(|(at, mask)| Mangle::Flip(at, mask)),
        (
            any::<Index>(),
            prop::collection::vec(
                prop_oneof![
                    Just(b'\n'),
                    Just(b'\r'),
                    Just(b'"'),
                    Just(b'{'),
                    Just(b'['),
                    Just(b'\\'),
                    Just(0u8),
                    any::<u8>()
                ],
                1..8
            )
        )
            .prop_map(|(at, bytes)| Mangle::Insert(at, bytes)),
        prop::collection::vec(any::<Index>(), 0..32).prop_map(Mangle::Shuffle),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mangle) {
    match m {
        Mangle::Truncate(at) => bytes.truncate(at.index(bytes.len() + 1)),
        Mangle::Flip(at, mask) if !bytes.is_empty() => {
            let i = at.index(bytes.len());
            bytes[i] ^= mask;
        }
        Mangle::Flip(..) => {}
        Mangle::Insert(at, new) => {
            let i = at.index(bytes.len() + 1);
            bytes.splice(i..i, new.iter().copied());
        }
        Mangle::Shuffle(swaps) => *bytes = shuffle_lines(bytes, swaps),
    }
}

/// The lines of `bytes` in another order (a Fisher-Yates walk driven by `swaps`).
fn shuffle_lines(bytes: &[u8], swaps: &[Index]) -> Vec<u8> {
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    for (i, swap) in (1..lines.len()).rev().zip(swaps) {
        lines.swap(i, swap.index(i + 1));
    }
    lines.join(&b'\n')
}

/// Reads `bytes` in chunks of the given sizes (cycled), on a thread, failing the test if
/// it takes longer than [`PATIENCE`].
fn read_patiently(name: &str, bytes: &[u8], chunks: &[usize]) -> FileBatch {
    let (name, bytes, chunks) = (name.to_string(), bytes.to_vec(), chunks.to_vec());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = FileReader::new(name, None);
        let mut rest = &bytes[..];
        for size in chunks.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, after) = rest.split_at((*size).min(rest.len()));
            reader.feed(chunk);
            rest = after;
        }
        let _ = tx.send(reader.finish());
    });
    match rx.recv_timeout(PATIENCE) {
        Ok(batch) => batch,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("reading hung for {PATIENCE:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the reader panicked"),
    }
}

fn conserved(batch: &FileBatch) -> Result<(), TestCaseError> {
    let s = &batch.summary;
    prop_assert_eq!(s.records, s.accepted + s.quarantined, "{:?}", s);
    prop_assert_eq!(s.quarantined, batch.quarantine().len() as u64);
    prop_assert!(batch
        .quarantine()
        .windows(2)
        .all(|w| w[0].line <= w[1].line));
    Ok(())
}

fn non_blank_lines(bytes: &[u8]) -> u64 {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count() as u64
}

/// 256 cases keep `cargo test` quick; set PROPTEST_CASES for a longer search.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok());
    ProptestConfig::with_cases(cases.unwrap_or(256))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mangled_files_conserve_records_in_any_chunking(
        base in any::<Index>(),
        mangles in prop::collection::vec(mangle(), 1..5),
        chunks in prop::collection::vec(1..64usize, 1..8),
    ) {
        let (name, bytes) = base.get(bases());
        let mut bytes = bytes.clone();
        for m in &mangles {
            apply(&mut bytes, m);
        }
        let chunked = read_patiently(name, &bytes, &chunks);
        conserved(&chunked)?;
        let whole = read_in_chunks(name, &bytes, bytes.len());
        prop_assert_eq!(&chunked.summary, &whole.summary);
        prop_assert_eq!(chunked.quarantine(), whole.quarantine());
    }

    #[test]
    fn shuffled_and_cut_json_lines_lose_at_most_the_cut_line(
        base in any::<Index>(),
        swaps in prop::collection::vec(any::<Index>(), 0..16),
        crlf in any::<bool>(),
        bom in any::<bool>(),
        cut in any::<Index>(),
        chunks in prop::collection::vec(1..64usize, 1..8),
    ) {
        let files = json_lines();
        let (name, bytes) = base.get(&files);
        let mut bytes = shuffle_lines(bytes.strip_suffix(b"\n").unwrap(), &swaps);
        bytes.push(b'\n');
        if crlf {
            bytes = bytes.split(|b| *b == b'\n').collect::<Vec<_>>().join(&b"\r\n"[..]);
        }
        if bom {
            bytes.splice(0..0, *b"\xEF\xBB\xBF");
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        let batch = read_patiently(name, &bytes, &chunks);
        conserved(&batch)?;
        let s = &batch.summary;
        // A byte-order mark is no line of its own.
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        prop_assert_eq!(s.records, non_blank_lines(text));
        prop_assert!(s.quarantined <= 1, "{:?}", batch.quarantine());
        if let Some(q) = batch.quarantine().first() {
            prop_assert_eq!(&q.reason, CUT_RECORD);
            prop_assert_eq!(q.line, s.records);
            prop_assert!(s.problems.iter().any(|p| p.contains("ends mid-record")));
        }
    }

    #[test]
    fn a_flipped_byte_spoils_at_most_the_two_lines_beside_it(
        base in any::<Index>(),
        flips in prop::collection::vec((any::<Index>(), 1..=255u8), 1..4),
        chunks in prop::collection::vec(1..64usize, 1..8),
    ) {
        let files = json_lines();
        let (name, bytes) = base.get(&files);
        let lines = non_blank_lines(bytes);
        let mut bytes = bytes.clone();
        // Past the first bytes, which tell what kind of file it is (gzip, an image...).
        for (at, mask) in &flips {
            let i = 16 + at.index(bytes.len() - 16);
            bytes[i] ^= mask;
        }
        let batch = read_patiently(name, &bytes, &chunks);
        conserved(&batch)?;
        prop_assert!(
            batch.summary.accepted + 2 * flips.len() as u64 >= lines,
            "{:?}",
            batch.summary
        );
    }
}

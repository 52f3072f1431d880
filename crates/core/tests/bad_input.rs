//! The hostile-input corpus: each file's records accepted and quarantined, with reasons
//! and problems, in any chunking, without touching the valid files read beside it.

use crate::corpus::{data_dir, expected, read_in_chunks, valid_files, Expected};
use stedi_core::ingest::{FileBatch, Landing, RAW_LIMIT};
use stedi_core::{Policy, Zones};

/// Chunk sizes to feed a file in: every size for small files, fewer for big ones (feeding
/// megabytes a byte at a time is slow in a debug build and finds nothing more).
fn chunk_sizes(len: usize) -> Vec<usize> {
    if len <= 256 * 1024 {
        vec![len, 1, 2, 3, 7, 64, 4096]
    } else {
        vec![len, 4093, 1 << 16]
    }
}

/// What differs between a batch and its expected outcome, if anything.
fn mismatch(want: &Expected, got: &FileBatch) -> Option<String> {
    let s = &got.summary;
    let source = s.source.map(|s| s.as_str().to_string());
    let reasons: Vec<(u64, String)> = got
        .quarantine()
        .iter()
        .map(|q| (q.line, q.reason.clone()))
        .collect();
    let problems_match = s.problems.len() == want.problems.len()
        && s.problems
            .iter()
            .zip(&want.problems)
            .all(|(p, w)| p.contains(w.as_str()));
    let ok = source == want.source
        && s.accepted == want.accepted
        && s.quarantined == want.quarantined
        && s.records == s.accepted + s.quarantined
        && reasons == want.reasons
        && problems_match
        && got
            .quarantine()
            .iter()
            .all(|q| q.raw.chars().count() <= RAW_LIMIT + 1);
    (!ok).then(|| {
        format!(
            "{} ({}):\n  want source {:?}, {} accepted, reasons {:?}, problems {:?}\n  \
             got  source {source:?}, {} accepted of {} records, reasons {reasons:?}, problems {:?}",
            want.name,
            want.case,
            want.source,
            want.accepted,
            want.reasons,
            want.problems,
            s.accepted,
            s.records,
            s.problems
        )
    })
}

#[test]
fn every_corpus_file_gives_its_expected_outcome_in_any_chunking() {
    let mut failures = Vec::new();
    for want in expected() {
        let bytes = want.bytes();
        let whole = read_in_chunks(&want.name, &bytes, bytes.len());
        failures.extend(mismatch(&want, &whole));
        for chunk in chunk_sizes(bytes.len()) {
            let got = read_in_chunks(&want.name, &bytes, chunk);
            if got.summary != whole.summary || got.quarantine() != whole.quarantine() {
                failures.push(format!(
                    "{}: fed {chunk} bytes at a time, it reads differently",
                    want.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_stored_corpus_file_is_in_the_manifest() {
    let mut stored: Vec<String> = std::fs::read_dir(data_dir().join("bad"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "README.md")
        .collect();
    stored.sort();
    let mut listed: Vec<String> = expected()
        .into_iter()
        .filter(|e| e.generate.is_none())
        .map(|e| e.name)
        .collect();
    listed.sort();
    assert_eq!(stored, listed);
}

#[test]
fn the_corpus_leaves_the_valid_files_beside_it_unchanged() {
    let valid: Vec<FileBatch> = valid_files()
        .iter()
        .map(|(name, bytes)| read_in_chunks(name, bytes, 4096))
        .collect();
    assert!(valid
        .iter()
        .all(|b| b.summary.quarantined == 0 && b.summary.problems.is_empty()));
    let alone = Landing::from_batches(valid.clone());
    let bad: Vec<FileBatch> = expected()
        .iter()
        .map(|e| read_in_chunks(&e.name, &e.bytes(), 1 << 16))
        .collect();
    let accepted: u64 = bad.iter().map(|b| b.summary.accepted).sum();
    let quarantined: u64 = bad.iter().map(|b| b.summary.quarantined).sum();
    let together = Landing::from_batches(bad.into_iter().chain(valid).collect());
    for input in &alone.inputs {
        let beside = together
            .inputs
            .iter()
            .find(|i| i.name == input.name)
            .unwrap();
        assert_eq!(beside, input);
    }
    let landed =
        |l: &Landing| (l.customers.len() + l.accelerometer.len() + l.step_trainer.len()) as u64;
    assert_eq!(landed(&together), landed(&alone) + accepted);
    assert_eq!(together.quarantine.len() as u64, quarantined);
    // The zones still build, and the valid customers are all still there.
    let zones = Zones::build(&together, &Policy::default());
    let alone_zones = Zones::build(&alone, &Policy::default());
    for zone in stedi_core::Zone::ALL {
        assert!(
            zones.rows(&together, zone) >= alone_zones.rows(&alone, zone),
            "{zone:?}"
        );
    }
}

#[test]
fn of_duplicate_keys_the_last_wins() {
    let want = expected()
        .into_iter()
        .find(|e| e.name == "duplicate-keys.json")
        .unwrap();
    let batch = read_in_chunks(&want.name, &want.bytes(), 1);
    let landing = Landing::from_batches(vec![batch]);
    let a = &landing.accelerometer;
    assert_eq!(a.timestamp, vec![1, 3, 5]);
    assert!(a.user.iter().all(|u| landing.strings.get(*u) == "dup@bad"));
}

#[test]
fn a_quarantined_record_of_a_mib_keeps_only_a_kib_of_its_text() {
    let want = expected()
        .into_iter()
        .find(|e| e.name == "big-record.json")
        .unwrap();
    let batch = read_in_chunks(&want.name, &want.bytes(), 1 << 16);
    let raw = &batch.quarantine()[0].raw;
    assert_eq!(raw.len(), RAW_LIMIT + '…'.len_utf8());
    assert!(raw.ends_with('…'));
}

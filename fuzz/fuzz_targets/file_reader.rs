//! Arbitrary bytes, in arbitrary chunks, into the ingest reader: it never panics, reads
//! the same whatever the chunking, and for the file records = accepted + quarantined.
//!
//! The first input byte steers the run: its top bit gzips the rest (so the fuzzer also
//! reaches the gzip path), the next bit cuts the gzip data short, and all of it seeds
//! the chunk sizes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Write;
use stedi_core::ingest::{FileBatch, FileReader};

fn read(bytes: &[u8], mut chunk_size: impl FnMut() -> usize) -> FileBatch {
    let mut reader = FileReader::new("fuzz.json", None);
    let mut rest = bytes;
    while !rest.is_empty() {
        let (chunk, after) = rest.split_at(chunk_size().min(rest.len()));
        reader.feed(chunk);
        rest = after;
    }
    reader.finish()
}

fn check(batch: &FileBatch) {
    let s = &batch.summary;
    assert_eq!(s.records, s.accepted + s.quarantined, "{s:?}");
    assert_eq!(s.quarantined, batch.quarantine().len() as u64);
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, file)) = data.split_first() else {
        return;
    };
    let bytes = if control & 0x80 == 0 {
        file.to_vec()
    } else {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(file).unwrap();
        let mut bytes = gz.finish().unwrap();
        if control & 0x40 != 0 {
            let keep = bytes.len() * usize::from(control & 0x3f) / 64;
            bytes.truncate(keep);
        }
        bytes
    };
    let whole = read(&bytes, || usize::MAX);
    check(&whole);
    let mut state = u32::from(control) | 1;
    let chunked = read(&bytes, || {
        // A small xorshift: chunk sizes 1 to 64, different for each control byte.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 64) as usize + 1
    });
    check(&chunked);
    assert_eq!(chunked.summary, whole.summary);
    assert_eq!(chunked.quarantine(), whole.quarantine());
});

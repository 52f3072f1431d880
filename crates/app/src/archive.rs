//! "Download everything": every file `stedi run` writes, with the same bytes, deflated into
//! one zip archive that is written as it goes. Each entry's sizes and CRC follow its data
//! (a data descriptor), so nothing is sought back to and no part of the archive is held
//! whole in memory: the worker hands it to the browser a part at a time.

use flate2::write::DeflateEncoder;
use std::io::Write;
use stedi_core::audit::{EachFile, WriteFile};
use stedi_core::Error;

/// The entries' time: the earliest a zip can hold, so the same run gives the same bytes.
const ENTRY_TIME: i64 = 315_532_800; // 1980-01-01T00:00:00Z

/// The files `files` writes (as [`stedi_core::audit::write_run_each`] does a run's) as a zip written into
/// `out`. Returns what `files` returns, and `out`.
pub fn write_zip<W: Write + Send, T>(
    out: W,
    files: impl FnOnce(&mut EachFile<'_>) -> Result<T, Error>,
) -> Result<(T, W), Error> {
    let mut archive = rawzip::ZipArchiveWriter::new(out);
    let written = files(&mut |name: &str, write: &mut WriteFile<'_>| {
        let fail = |e: rawzip::Error| Error::export(name, e);
        let (mut entry, config) = archive
            .new_file(name)
            .compression_method(rawzip::CompressionMethod::DEFLATE)
            .last_modified(rawzip::time::UtcDateTime::from_unix(ENTRY_TIME))
            .start()
            .map_err(fail)?;
        // Fast deflate: a run's CSV and JSON shrink well at level 1, several times faster
        // than at the default level, which matters in a browser.
        let encoder = DeflateEncoder::new(&mut entry, flate2::Compression::fast());
        let mut data = config.wrap(encoder);
        write(&mut data)?;
        let (encoder, descriptor) = data.finish().map_err(fail)?;
        encoder.finish().map_err(|e| Error::export(name, e))?;
        entry.finish(descriptor).map_err(fail)?;
        Ok(())
    })?;
    let out = archive
        .finish()
        .map_err(|e| Error::export("the zip's directory", e))?;
    Ok((written, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::io::Read;
    use std::sync::{Arc, Mutex};
    use stedi_core::audit::{write_run, write_run_each, Audit};
    use stedi_core::export::Format;
    use stedi_core::ingest::{read_bytes, Landing};
    use stedi_core::pii::Salt;
    use stedi_core::{Policy, Preset, Zones};

    /// The run's files as a zip written into `out`.
    fn zip_run<W: Write + Send>(
        l: &Landing,
        zones: &Zones,
        policy: &Policy,
        format: Format,
        out: W,
    ) -> (Audit, W) {
        let salt = Salt::given("archive");
        write_zip(out, |each| {
            write_run_each(l, zones, policy, &salt, true, format, each)
        })
        .unwrap()
    }

    /// Customers (half consenting), their readings and steps, and a line that is not JSON.
    fn landing() -> Landing {
        let lines = |n: usize, line: &dyn Fn(usize) -> String| {
            (0..n).map(line).collect::<Vec<_>>().join("\n").into_bytes()
        };
        let customers = lines(60, &|i| {
            let consent = if i % 2 == 0 { "1655564000000" } else { "null" };
            format!(
                r#"{{"customerName":"Person {i}","email":"p{i}@example.com","phone":"8015551212","birthDay":"1990-01-01","serialNumber":"serial-{i}","registrationDate":1655564000000,"lastUpdateDate":1655564000000,"shareWithResearchAsOfDate":{consent}}}"#
            )
        });
        let mut readings = lines(20_000, &|i| {
            format!(
                r#"{{"user":"p{}@example.com","timestamp":{},"x":{}.5,"y":-0.{},"z":1.0}}"#,
                i % 60,
                1_655_564_100_000 + (i / 60) as i64 * 1000,
                i % 7,
                i % 10
            )
        });
        readings.extend_from_slice(b"\nnot json\n");
        let steps = lines(5_000, &|i| {
            format!(
                r#"{{"sensorReadingTime":{},"serialNumber":"serial-{}","distanceFromObject":{}}}"#,
                1_655_564_100_000 + (i / 60) as i64 * 1000,
                i % 60,
                200 + i % 90
            )
        });
        Landing::from_batches(vec![
            read_bytes("customer.json", None, &customers),
            read_bytes("accelerometer.json", None, &readings),
            read_bytes("step_trainer.json", None, &steps),
        ])
    }

    /// What the archive's writer was given: every byte, and its largest single write.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut got = self.0.lock().unwrap();
            got.0.extend_from_slice(buf);
            got.1 = got.1.max(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The entries of a zip, in order, each inflated and checked against its CRC and size.
    fn entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
        let archive = rawzip::ZipArchive::from_slice(zip).unwrap();
        let mut entries = archive.entries();
        let mut out = Vec::new();
        while let Some(entry) = entries.next_entry().unwrap() {
            let name = entry
                .file_path()
                .try_normalize()
                .unwrap()
                .as_ref()
                .to_string();
            let local = archive.get_entry(entry.wayfinder()).unwrap();
            let inflate = flate2::bufread::DeflateDecoder::new(local.data());
            let mut bytes = Vec::new();
            local
                .verifying_reader(inflate)
                .read_to_end(&mut bytes)
                .unwrap();
            out.push((name, bytes));
        }
        out
    }

    #[test]
    fn the_zip_holds_each_file_of_the_run_with_its_bytes_in_its_order() {
        let l = landing();
        assert!(!l.quarantine.is_empty());
        for (preset, format) in [
            (Preset::Strict, Format::Csv),
            (Preset::Rubric, Format::Jsonl),
            (Preset::Strict, Format::Parquet),
        ] {
            let policy = Policy::preset(preset);
            let zones = Zones::build(&l, &policy);
            let salt = Salt::given("archive");
            let files: Arc<Mutex<Vec<(String, Sink)>>> = Arc::default();
            let audit = write_run(&l, &zones, &policy, &salt, true, format, &mut |name| {
                let file = Sink::default();
                files.lock().unwrap().push((name.to_string(), file.clone()));
                Ok(file)
            })
            .unwrap();
            let expected: Vec<(String, Vec<u8>)> = files
                .lock()
                .unwrap()
                .iter()
                .map(|(name, file)| (name.clone(), file.0.lock().unwrap().0.clone()))
                .collect();
            let (zip_audit, zip) = zip_run(&l, &zones, &policy, format, Vec::new());
            assert_eq!(zip_audit.to_json(), audit.to_json(), "{format:?}");
            let got = entries(&zip);
            let names = |files: &[(String, Vec<u8>)]| -> Vec<String> {
                files.iter().map(|(n, _)| n.clone()).collect()
            };
            assert_eq!(names(&got), names(&expected), "{format:?}");
            assert_eq!(
                got.len(),
                11,
                "eight zones, the quarantine, the audit, the report"
            );
            let by_name: BTreeMap<_, _> = got.into_iter().collect();
            for (name, bytes) in &expected {
                assert!(!bytes.is_empty() || name == "quarantine.jsonl", "{name}");
                assert!(by_name[name] == *bytes, "{name} as {format:?} differs");
            }
        }
    }

    #[test]
    fn the_zip_reaches_its_writer_a_part_at_a_time_with_the_same_bytes() {
        let l = landing();
        let policy = Policy::preset(Preset::Strict);
        let zones = Zones::build(&l, &policy);
        let sink = Sink::default();
        zip_run(&l, &zones, &policy, Format::Csv, sink.clone());
        let (_, whole) = zip_run(&l, &zones, &policy, Format::Csv, Vec::new());
        let (streamed, largest) = sink.0.lock().unwrap().clone();
        assert!(streamed == whole, "the same run gives the same archive");
        // The archive is many times larger than any one write: never held whole.
        assert!(largest <= 64 * 1024, "a write of {largest} bytes");
        assert!(streamed.len() > 4 * largest, "{} bytes", streamed.len());
    }
}

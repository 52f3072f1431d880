//! The hostile-input corpus (tests/data/bad/) and its expected outcomes
//! (tests/data/bad-expected.json), shared by the test modules.

use serde::Deserialize;
use std::path::PathBuf;
use stedi_core::ingest::{FileBatch, FileReader};

/// The workspace's tests/data folder.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

/// What reading one corpus file must give.
#[derive(Debug, Deserialize)]
pub struct Expected {
    pub name: String,
    pub case: String,
    pub source: Option<String>,
    pub accepted: u64,
    pub quarantined: u64,
    /// Every quarantined record: (line, reason).
    pub reasons: Vec<(u64, String)>,
    /// Problem i of the file contains `problems[i]`.
    pub problems: Vec<String>,
    /// Parts of a file built at run time instead of being stored.
    #[serde(default)]
    pub generate: Option<Vec<Part>>,
}

/// A piece of a generated file.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Part {
    Text { text: String },
    Repeat { repeat: String, times: usize },
}

#[derive(Deserialize)]
struct Manifest {
    files: Vec<Expected>,
}

impl Expected {
    /// The file's bytes: stored, or generated from its parts.
    pub fn bytes(&self) -> Vec<u8> {
        match &self.generate {
            None => {
                let path = data_dir().join("bad").join(&self.name);
                std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            }
            Some(parts) => {
                let mut bytes = Vec::new();
                for part in parts {
                    match part {
                        Part::Text { text } => bytes.extend_from_slice(text.as_bytes()),
                        Part::Repeat { repeat, times } => {
                            bytes.extend_from_slice(repeat.repeat(*times).as_bytes())
                        }
                    }
                }
                bytes
            }
        }
    }
}

/// Every corpus file with its expected outcome.
pub fn expected() -> Vec<Expected> {
    let path = data_dir().join("bad-expected.json");
    let text = std::fs::read_to_string(&path).expect("the corpus manifest is readable");
    let manifest: Manifest = serde_json::from_str(&text).expect("the corpus manifest is JSON");
    manifest.files
}

/// The files of tests/data/valid/, sorted: (name, bytes).
pub fn valid_files() -> Vec<(String, Vec<u8>)> {
    let dir = data_dir().join("valid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/valid exists")
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Reads `bytes` as the file `name`, fed `chunk` bytes at a time.
pub fn read_in_chunks(name: &str, bytes: &[u8], chunk: usize) -> FileBatch {
    let mut reader = FileReader::new(name, None);
    for piece in bytes.chunks(chunk.max(1)) {
        reader.feed(piece);
    }
    reader.finish()
}

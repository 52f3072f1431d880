//! The page's state: plain Rust types with methods, held in one root signal.

use crate::protocol::{Made, ReasonCount, RunCharts};
use stedi_core::audit::Audit;
use stedi_core::charts::CustomerSeries;
use stedi_core::ingest::{InputSummary, Source};
use stedi_core::preview::{Preview, Selection};
pub use stedi_core::report::thousands;
use stedi_core::review::{Page, ReviewList};
use stedi_core::verify::Check;
use stedi_core::{Policy, Preset, Zone};

/// Where a loaded file is in its reading.
#[derive(Debug, Clone, PartialEq)]
pub enum FileStatus {
    /// Being read; bytes done so far.
    Reading(u64),
    /// Read: its counts and quarantine reasons.
    Read {
        /// Counts, source, problems.
        summary: InputSummary,
        /// Quarantine reasons, most frequent first.
        reasons: Vec<ReasonCount>,
    },
    /// Could not be read at all.
    Failed(String),
}

/// One file the user added.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedFile {
    /// The page's id for it.
    pub id: u32,
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// The source the user chose, if they overrode detection.
    pub chosen: Option<Source>,
    /// Reading state.
    pub status: FileStatus,
}

impl LoadedFile {
    /// Whether the file is still being read.
    pub fn is_reading(&self) -> bool {
        matches!(self.status, FileStatus::Reading(_))
    }

    /// Bytes read so far.
    pub fn done(&self) -> u64 {
        match self.status {
            FileStatus::Reading(done) => done,
            _ => self.size,
        }
    }
}

/// The preset picker's value: one of the presets, or knobs set by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetChoice {
    /// A named preset.
    Preset(Preset),
    /// Knobs set one by one.
    Custom,
}

/// The outcome of the last run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// Counts, findings and quarantine of the run.
    pub audit: Audit,
    /// How long building the zones took in the worker, in ms.
    pub millis: f64,
    /// Data for the charts.
    pub charts: RunCharts,
    /// The WebAssembly memory of the worker and its readers after the run, in bytes.
    pub wasm_bytes: u64,
    /// The most bytes of batches that waited at once outside WebAssembly memory.
    pub batch_bytes: u64,
    /// Reader workers that parsed the files in parallel.
    pub readers: u32,
}

/// How fast the last load of files went.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LoadTiming {
    /// When the load started (the page's clock, ms).
    pub started: f64,
    /// How long reading took, once every file is read.
    pub millis: Option<f64>,
}

/// Everything the page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct AppState {
    /// Files, in the order they were added.
    pub files: Vec<LoadedFile>,
    /// The next file id.
    pub next_id: u32,
    /// Files with this id or greater form the load in progress (for the progress bar).
    pub load_from: u32,
    /// The preset picker.
    pub preset: PresetChoice,
    /// The knobs in force.
    pub policy: Policy,
    /// The salt typed by the user; empty means a random salt per run.
    pub salt: String,
    /// The last run's result; `None` before any, or after the files changed.
    pub result: Option<RunResult>,
    /// A run was asked for and has not answered yet.
    pub running: bool,
    /// A message for the user about the whole page (not about one file).
    pub notice: Option<String>,
    /// The review list open.
    pub review_list: ReviewList,
    /// The review search text.
    pub review_query: String,
    /// The review page shown; `None` until the worker sends it.
    pub review: Option<Page>,
    /// The name of an audit.json loaded to be checked.
    pub audit_name: Option<String>,
    /// The outcome of checking it against the files.
    pub verification: Option<Vec<Check>>,
    /// The zone preview's zone, sort and search.
    pub preview_selection: Selection,
    /// The preview page shown; `None` until the worker sends it.
    pub preview: Option<Preview>,
    /// The customer chart's search; empty shows the first curated customer.
    pub customer_query: String,
    /// The customer chart's series, or why no customer was found.
    pub customer: Option<Result<CustomerSeries, String>>,
    /// Timing of the last load of files.
    pub load: LoadTiming,
    /// Downloads asked for and not yet saved, in the order the worker makes them.
    pub preparing: std::collections::VecDeque<Preparing>,
    /// Downloads handed to the browser since the run, oldest first (the last
    /// [`SAVED_KEPT`]).
    pub saved: Vec<Saved>,
}

/// Downloads listed as made since the run, at most.
pub const SAVED_KEPT: usize = 12;

/// A download handed to the browser, and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    /// Its file name.
    pub name: String,
    /// How it was made.
    pub made: Made,
}

impl Saved {
    /// One line for the user: its size, how long it took and how fast, and in how many
    /// parts by how many workers when it was shared.
    pub fn describe(&self) -> String {
        let Made {
            bytes,
            millis,
            parts,
            workers,
        } = self.made;
        let size = human_bytes(bytes);
        let shared = match (parts, workers) {
            (0 | 1, _) | (_, 0 | 1) => String::new(),
            (p, w) => format!(", {p} parts written by {w} workers at once"),
        };
        let Some(ms) = millis else {
            return format!(
                "{}: {size}, made right after the run{shared}, ready when asked",
                self.name
            );
        };
        if bytes == 0 {
            return format!("{}: empty", self.name);
        }
        let seconds = (ms / 1000.0).max(1e-3);
        let speed = human_bytes((bytes as f64 / seconds) as u64);
        format!(
            "{}: {size} in {seconds:.2} s ({speed}/s){shared}",
            self.name
        )
    }
}

/// A download being made by the worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Preparing {
    /// The name it will be saved as.
    pub name: String,
    /// How far it is, when the worker tells.
    pub writing: Option<Step>,
}

/// How far a download being made is.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A download that writes a whole run: the file being written, how many were
    /// written before it, and how many the run has.
    File(String, u32, u32),
    /// A download written in parts by several workers at once: parts written, of how many.
    Parts(u32, u32),
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            files: Vec::new(),
            next_id: 1,
            load_from: 1,
            preset: PresetChoice::Preset(Preset::Strict),
            policy: Policy::default(),
            salt: String::new(),
            result: None,
            running: false,
            notice: None,
            review_list: ReviewList::ExcludedCustomers,
            review_query: String::new(),
            review: None,
            audit_name: None,
            verification: None,
            preview_selection: Selection {
                zone: Zone::MachineLearningCurated,
                sort: None,
                query: String::new(),
            },
            preview: None,
            customer_query: String::new(),
            customer: None,
            load: LoadTiming::default(),
            preparing: Default::default(),
            saved: Vec::new(),
        }
    }
}

impl AppState {
    /// A download was asked of the worker, which makes downloads in the order asked.
    pub fn download_asked(&mut self, name: String) {
        self.preparing.push_back(Preparing {
            name,
            writing: None,
        });
    }

    /// The download being made is as far as `step`.
    pub fn download_writing(&mut self, step: Step) {
        if let Some(p) = self.preparing.front_mut() {
            p.writing = Some(step);
        }
    }

    /// The download being made was saved, or could not be made.
    pub fn download_made(&mut self) {
        self.preparing.pop_front();
    }

    /// The download being made was handed to the browser.
    pub fn download_saved(&mut self, name: String, made: Made) {
        self.download_made();
        if self.saved.len() == SAVED_KEPT {
            self.saved.remove(0);
        }
        self.saved.push(Saved { name, made });
    }

    /// Adds a file being read; returns its id.
    pub fn add_file(&mut self, name: String, size: u64) -> u32 {
        if !self.is_reading() {
            self.load_from = self.next_id;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.files.push(LoadedFile {
            id,
            name,
            size,
            chosen: None,
            status: FileStatus::Reading(0),
        });
        self.result = None;
        id
    }

    /// The file with this id.
    pub fn file_mut(&mut self, id: u32) -> Option<&mut LoadedFile> {
        self.files.iter_mut().find(|f| f.id == id)
    }

    /// Whether any file is still being read.
    pub fn is_reading(&self) -> bool {
        self.files.iter().any(LoadedFile::is_reading)
    }

    /// Bytes done and total of the load in progress.
    pub fn progress(&self) -> (u64, u64) {
        self.files
            .iter()
            .filter(|f| f.id >= self.load_from)
            .fold((0, 0), |(d, t), f| (d + f.done(), t + f.size))
    }

    /// Bytes and records of the files read.
    pub fn read_totals(&self) -> (u64, u64) {
        self.files.iter().fold((0, 0), |(b, r), f| match &f.status {
            FileStatus::Read { summary, .. } => (b + summary.bytes, r + summary.records),
            _ => (b, r),
        })
    }

    /// Whether there is anything to run the zones on.
    pub fn has_read_files(&self) -> bool {
        self.files
            .iter()
            .any(|f| matches!(f.status, FileStatus::Read { .. }))
    }

    /// Picks a preset (or Custom, which keeps the knobs as they are).
    pub fn choose_preset(&mut self, choice: PresetChoice) {
        self.preset = choice;
        if let PresetChoice::Preset(p) = choice {
            self.policy = Policy::preset(p);
        }
    }

    /// Changes knobs; the picker then shows the preset they match, or Custom.
    pub fn set_policy(&mut self, change: impl FnOnce(&mut Policy)) {
        change(&mut self.policy);
        self.preset = self
            .policy
            .matching_preset()
            .map_or(PresetChoice::Custom, PresetChoice::Preset);
    }

    /// The salt to send: `None` for a random one.
    pub fn salt(&self) -> Option<String> {
        (!self.salt.is_empty()).then(|| self.salt.clone())
    }
}

/// Whether a file is an audit to check rather than an input.
pub fn is_audit_name(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with("audit.json")
}

/// A byte count for people: `845.0 KB`, `1.1 MB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use stedi_core::{MlJoin, Pii};

    #[test]
    fn changing_a_knob_moves_the_picker_to_custom_and_back() {
        let mut s = AppState::default();
        s.set_policy(|p| p.ml_join = MlJoin::Timestamp);
        assert_eq!(s.preset, PresetChoice::Custom);
        s.set_policy(|p| p.ml_join = MlJoin::Device);
        assert_eq!(s.preset, PresetChoice::Preset(Preset::Strict));
        s.choose_preset(PresetChoice::Preset(Preset::Rubric));
        assert_eq!(s.policy.pii, Pii::Keep);
    }

    #[test]
    fn progress_counts_only_the_load_in_progress() {
        let mut s = AppState::default();
        let a = s.add_file("a".into(), 100);
        s.file_mut(a).unwrap().status = FileStatus::Failed("x".into());
        let b = s.add_file("b".into(), 50);
        s.file_mut(b).unwrap().status = FileStatus::Reading(10);
        assert_eq!(s.progress(), (10, 50));
    }

    #[test]
    fn downloads_are_shown_in_the_order_the_worker_makes_them() {
        let mut s = AppState::default();
        s.download_asked("stedi-lakehouse.zip".into());
        s.download_asked("audit.json".into());
        let step = Step::File("accelerometer_landing.csv".into(), 1, 11);
        s.download_writing(step.clone());
        let first = s.preparing.front().unwrap();
        assert_eq!(first.name, "stedi-lakehouse.zip");
        assert_eq!(first.writing, Some(step));
        s.download_made();
        let next = s.preparing.front().unwrap();
        assert_eq!((next.name.as_str(), &next.writing), ("audit.json", &None));
        s.download_made();
        s.download_made();
        assert!(s.preparing.is_empty());
        s.download_writing(Step::Parts(1, 8));
        assert!(s.preparing.is_empty(), "a late message shows no download");
    }

    #[test]
    fn a_saved_download_says_how_it_was_made() {
        let saved = |millis, parts, workers| Saved {
            name: "machine_learning_curated.jsonl".into(),
            made: Made {
                bytes: 24_100_000,
                millis,
                parts,
                workers,
            },
        };
        assert_eq!(
            saved(Some(410.0), 3, 3).describe(),
            "machine_learning_curated.jsonl: 24.1 MB in 0.41 s (58.8 MB/s), 3 parts written by 3 workers at once"
        );
        assert_eq!(
            saved(Some(2000.0), 1, 1).describe(),
            "machine_learning_curated.jsonl: 24.1 MB in 2.00 s (12.1 MB/s)"
        );
        assert_eq!(
            saved(None, 1, 1).describe(),
            "machine_learning_curated.jsonl: 24.1 MB, made right after the run, ready when asked"
        );
        assert_eq!(
            saved(None, 5, 2).describe(),
            "machine_learning_curated.jsonl: 24.1 MB, made right after the run, 5 parts written by 2 workers at once, ready when asked"
        );
        // Made in no measurable time: no division by zero.
        assert!(saved(Some(0.0), 1, 1)
            .describe()
            .contains("in 0.00 s (24.1 GB/s)"));
        let mut empty = saved(Some(3.0), 1, 1);
        empty.made.bytes = 0;
        assert_eq!(empty.describe(), "machine_learning_curated.jsonl: empty");
    }

    #[test]
    fn the_list_of_saved_downloads_keeps_the_last_ones_in_order() {
        let mut s = AppState::default();
        let made = Made {
            bytes: 1,
            millis: Some(1.0),
            parts: 1,
            workers: 1,
        };
        for i in 0..SAVED_KEPT + 3 {
            s.download_asked(format!("{i}.csv"));
            s.download_saved(format!("{i}.csv"), made);
        }
        assert!(s.preparing.is_empty());
        let names: Vec<_> = s.saved.iter().map(|d| d.name.clone()).collect();
        let expected: Vec<_> = (3..SAVED_KEPT + 3).map(|i| format!("{i}.csv")).collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(81273), "81,273");
        assert_eq!(thousands(956), "956");
        assert_eq!(human_bytes(844_957), "845.0 KB");
        assert_eq!(human_bytes(12), "12 B");
    }
}

//! The one error type of stedi-core.

use std::fmt;

/// What went wrong, by pipeline stage. Bad *records* are never errors: they are
/// quarantined. These are failures of a whole step, each with a message a user can act on.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Writing a zone, the audit or the quarantine failed.
    Export {
        /// The output being written, e.g. `machine_learning_curated.parquet`.
        output: String,
        /// The underlying failure.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A value given by the user (a policy knob, a preset, a format) is not one we know.
    InvalidOption {
        /// The option's name, e.g. `--pii`.
        option: &'static str,
        /// What the user gave.
        value: String,
        /// The accepted values.
        expected: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Export { output, source } => write!(
                f,
                "could not write {output}: {source}; check that the destination is writable and has free space"
            ),
            Error::InvalidOption {
                option,
                value,
                expected,
            } => write!(f, "{option} cannot be '{value}': use one of {expected}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Export { source, .. } => Some(source.as_ref()),
            Error::InvalidOption { .. } => None,
        }
    }
}

impl Error {
    /// A failure to write `output`, e.g. by a caller of [`crate::audit::write_run_each`]
    /// that puts the files of a run into an archive.
    pub fn export(
        output: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Error::Export {
            output: output.into(),
            source: source.into(),
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

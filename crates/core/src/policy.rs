//! The policy: *what* the zones enforce, as plain data the UI, the audit and exports share.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Whether a reading must be taken at or after its owner's consent to research.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentTime {
    /// Readings before `shareWithResearchAsOfDate` are excluded.
    Enforce,
    /// Any reading of a consenting customer is kept (the course's rule).
    Ignore,
}

/// How step-trainer readings are paired with phone readings in `machine_learning_curated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MlJoin {
    /// Equal time and the phone's user owns the step trainer's serial.
    Device,
    /// Equal time only, whoever the phone belongs to (the course's rule).
    Timestamp,
}

/// What happens to `user` and `serialNumber` in `machine_learning_curated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pii {
    /// Emails and serial numbers are written as they are.
    Keep,
    /// Replaced by a keyed hash (HMAC-SHA256 with a salt), stable within one run.
    Pseudonymize,
    /// Both columns are removed.
    Drop,
}

/// A named set of knob values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Consent time enforced, device join, pseudonymized PII (the default).
    Strict,
    /// What the course's rubric asks for: consent time ignored, timestamp join, PII kept.
    Rubric,
}

/// The three knobs. Every zone rule reads this value, and the audit records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Policy {
    /// See [`ConsentTime`].
    pub consent_time: ConsentTime,
    /// See [`MlJoin`].
    pub ml_join: MlJoin,
    /// See [`Pii`].
    pub pii: Pii,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::preset(Preset::Strict)
    }
}

impl Policy {
    /// The knob values of a preset.
    pub fn preset(preset: Preset) -> Self {
        match preset {
            Preset::Strict => Policy {
                consent_time: ConsentTime::Enforce,
                ml_join: MlJoin::Device,
                pii: Pii::Pseudonymize,
            },
            Preset::Rubric => Policy {
                consent_time: ConsentTime::Ignore,
                ml_join: MlJoin::Timestamp,
                pii: Pii::Keep,
            },
        }
    }

    /// The preset these knobs equal, if any (`None` means a custom policy).
    pub fn matching_preset(&self) -> Option<Preset> {
        [Preset::Strict, Preset::Rubric]
            .into_iter()
            .find(|p| Policy::preset(*p) == *self)
    }

    /// Whether readings before consent are excluded.
    pub fn enforces_consent_time(&self) -> bool {
        self.consent_time == ConsentTime::Enforce
    }
}

macro_rules! knob_names {
    ($ty:ty, $option:literal, $expected:literal, $($variant:ident => $name:literal),+) => {
        impl $ty {
            /// The knob value's name, as the CLI and the audit spell it.
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }
        }
        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($name => Ok(Self::$variant),)+
                    _ => Err(Error::InvalidOption { option: $option, value: s.to_string(), expected: $expected }),
                }
            }
        }
    };
}

knob_names!(ConsentTime, "--consent-time", "enforce, ignore", Enforce => "enforce", Ignore => "ignore");
knob_names!(MlJoin, "--ml-join", "device, timestamp", Device => "device", Timestamp => "timestamp");
knob_names!(Pii, "--pii", "keep, pseudonymize, drop", Keep => "keep", Pseudonymize => "pseudonymize", Drop => "drop");
knob_names!(Preset, "--preset", "strict, rubric", Strict => "strict", Rubric => "rubric");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_match_the_spec_table() {
        let strict = Policy::preset(Preset::Strict);
        assert_eq!(strict.consent_time, ConsentTime::Enforce);
        assert_eq!(strict.ml_join, MlJoin::Device);
        assert_eq!(strict.pii, Pii::Pseudonymize);
        assert_eq!(Policy::default(), strict);
        let rubric = Policy::preset(Preset::Rubric);
        assert_eq!(
            (rubric.consent_time, rubric.ml_join, rubric.pii),
            (ConsentTime::Ignore, MlJoin::Timestamp, Pii::Keep)
        );
    }

    #[test]
    fn custom_knobs_match_no_preset() {
        let mut p = Policy::preset(Preset::Rubric);
        assert_eq!(p.matching_preset(), Some(Preset::Rubric));
        p.ml_join = MlJoin::Device;
        assert_eq!(p.matching_preset(), None);
    }

    #[test]
    fn knob_names_round_trip_and_bad_names_say_what_to_use() {
        assert_eq!("drop".parse::<Pii>().unwrap(), Pii::Drop);
        assert_eq!(Pii::Pseudonymize.as_str(), "pseudonymize");
        let err = "hash".parse::<Pii>().unwrap_err().to_string();
        assert!(
            err.contains("--pii") && err.contains("keep, pseudonymize, drop"),
            "{err}"
        );
    }

    #[test]
    fn policy_serialises_as_plain_lowercase_knobs() {
        let json = serde_json::to_string(&Policy::default()).unwrap();
        assert_eq!(
            json,
            r#"{"consent_time":"enforce","ml_join":"device","pii":"pseudonymize"}"#
        );
    }
}

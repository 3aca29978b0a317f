//! Validation: every quantitative calibration target as a simulated experiment under the
//! study's own conditions (species and phenotype, protocol, stress, sampling time, and the
//! comparison the study reports), compared with the published value and a band.
//!
//! The experiments are data (`validation/targets.toml`, embedded); the runner ([`Runner`]) is
//! generic. Calibration ([`calibrate`]) fits the parameters the file declares to the targets
//! marked `role = "calibration"`. The seed claims are checked against the model's couplings and
//! behaviour in [`claims`]. Reports (Markdown with one SVG plot per target) come from
//! [`report`].

pub mod calibrate;
pub mod claims;
pub mod report;
mod run;
mod spec;

pub use run::{Arm, Curve, RunOptions, Runner, Series, Tally, TargetResult, ValidationReport};
pub use spec::{
    ArmSpec, CalibrationSpec, Comparison, FitParameter, Position, Reference, Role, Sample, Scale, Species, Stat,
    TargetSpec, ValidationFile, parse_time,
};

use crate::error::Error;

/// The validation file shipped with neurex (`validation/targets.toml`).
pub static TARGETS: &str = include_str!("../../../../validation/targets.toml");

/// The targets that passed when the list was last updated (`validation/passing.txt`): the
/// ratchet. A target on this list that fails is a regression.
pub static PASSING: &str = include_str!("../../../../validation/passing.txt");

impl ValidationFile {
    /// Parse a validation file; errors name the line and column.
    pub fn parse(source_name: &str, text: &str) -> Result<ValidationFile, Error> {
        let f: ValidationFile = toml::from_str(text).map_err(|e| {
            let at = neurex_model::diagnostics::toml_error_at(text, &e);
            Error::BadRequest(format!("{source_name}: {at}{}", e.message().trim()))
        })?;
        let mut seen = std::collections::HashSet::new();
        for t in &f.targets {
            if !seen.insert(t.id.as_str()) {
                return Err(Error::BadRequest(format!("{source_name}: target id `{}` appears twice", t.id)));
            }
        }
        Ok(f)
    }

    /// The embedded file.
    pub fn embedded() -> ValidationFile {
        ValidationFile::parse("validation/targets.toml", TARGETS).expect("the embedded validation file is valid")
    }
}

/// Ids listed in a passing list (one per line; `#` starts a comment).
pub fn passing_ids(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Targets on the passing list that no longer pass (or no longer exist).
pub fn regressions(report: &ValidationReport, passing: &[String]) -> Vec<String> {
    passing.iter().filter(|id| !report.results.iter().any(|r| &r.id == *id && r.passed)).cloned().collect()
}

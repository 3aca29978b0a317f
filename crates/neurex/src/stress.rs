//! Chronic stress as an input, the rodent counterpart of an exercise protocol: chronic
//! unpredictable mild stress (CUMS/CUS/CMS) sets the model parameter `stress_input` for a number
//! of weeks (ROD-01/03). Like exercise sessions, its start and end are known-time
//! discontinuities in the schedule.

use crate::error::Error;
use neurex_model::CompiledModel;
use neurex_solve::{InputChange, Schedule};
use serde::{Deserialize, Serialize};

/// The model parameter a stress schedule sets.
pub const STRESS_INPUT: &str = "stress_input";

/// A chronic stress protocol.
///
/// ```toml
/// name = "cums"
/// level = 1.0        # stress_input while it runs
/// start_week = 0.0
/// weeks = 5.0        # default: to the end of the simulation
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StressProtocol {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// What it is and where it comes from.
    #[serde(default)]
    pub description: String,
    /// Value of `stress_input` while the stress runs (default 1: a standard CUMS protocol).
    #[serde(default = "one")]
    pub level: f64,
    /// Week at which the stress starts (default 0).
    #[serde(default)]
    pub start_week: f64,
    /// Weeks of stress (default: to the end of the simulation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weeks: Option<f64>,
}

fn one() -> f64 {
    1.0
}

/// A stress protocol given by preset name or written inline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StressRef {
    /// A preset name (`none`, `cums`).
    Named(String),
    /// A stress protocol written out.
    Inline(StressProtocol),
}

/// Stress presets: (name, description).
pub const STRESS_PRESETS: [(&str, &str); 2] = [
    ("none", "No stress"),
    (
        "cums",
        "Chronic unpredictable mild stress at the standard load (stress_input = 1) for the whole simulation (ROD-01/03)",
    ),
];

impl StressProtocol {
    /// A preset by name.
    pub fn preset(name: &str) -> Result<StressProtocol, Error> {
        let (n, d) = STRESS_PRESETS.iter().find(|(n, _)| *n == name).ok_or_else(|| Error::UnknownProtocol {
            name: name.to_string(),
            known: STRESS_PRESETS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
        })?;
        Ok(StressProtocol {
            name: n.to_string(),
            description: d.to_string(),
            level: if *n == "none" { 0.0 } else { 1.0 },
            start_week: 0.0,
            weeks: None,
        })
    }

    /// Resolve a reference.
    pub fn resolve(r: &StressRef) -> Result<StressProtocol, Error> {
        match r {
            StressRef::Named(n) => StressProtocol::preset(n),
            StressRef::Inline(p) => Ok(p.clone()),
        }
    }

    /// Check the numbers.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::Protocol { source_name: format!("stress `{}`", self.name), message: m });
        if !(self.level.is_finite() && (0.0..=2.0).contains(&self.level)) {
            return bad(format!("level = {}: must be between 0 and 2", self.level));
        }
        if !(self.start_week.is_finite() && self.start_week >= 0.0) {
            return bad(format!("start_week = {}: must be 0 or more", self.start_week));
        }
        if let Some(w) = self.weeks
            && !(w > 0.0 && w <= 520.0)
        {
            return bad(format!("weeks = {w}: must be more than 0 and at most 520"));
        }
        Ok(())
    }

    /// The schedule of `stress_input` changes over `horizon_weeks`.
    pub fn schedule(&self, model: &CompiledModel, horizon_weeks: f64) -> Result<Schedule, Error> {
        self.validate()?;
        if self.level == 0.0 || self.start_week >= horizon_weeks {
            return Ok(Schedule::empty());
        }
        let i = model.value_index(STRESS_INPUT).ok_or_else(|| {
            Error::Incompatible(format!(
                "stress schedules set `{STRESS_INPUT}`, which model `{}` does not declare",
                model.id
            ))
        })?;
        let start = self.start_week * 168.0;
        let mut changes = vec![InputChange { t: start, set: vec![(i, self.level)] }];
        if let Some(w) = self.weeks
            && self.start_week + w < horizon_weeks
        {
            changes.push(InputChange { t: start + w * 168.0, set: vec![(i, 0.0)] });
        }
        Ok(Schedule::new(changes))
    }
}

/// Two schedules as one (changes of both, in time order; at equal times `a`'s come first).
pub fn merge(a: &Schedule, b: &Schedule) -> Schedule {
    Schedule::new(a.changes().iter().chain(b.changes()).cloned().collect())
}

/// A schedule with every change moved later by `hours`.
pub fn shift(s: &Schedule, hours: f64) -> Schedule {
    Schedule::new(s.changes().iter().map(|c| InputChange { t: c.t + hours, set: c.set.clone() }).collect())
}

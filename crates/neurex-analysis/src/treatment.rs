//! What an arm does to a patient besides the mechanistic model: exercise protocols come from
//! the caller (the facade owns protocols) through [`ScheduleSource`]; effects the model does not
//! contain (an SSRI, ECT, non-specific or placebo improvement), attendance, drop-out and
//! rater error are explicit parameters here, each with its source ([`Source`]).

use crate::population::{Source, SpecError};
use neurex_model::CompiledModel;
use neurex_solve::Schedule;
use serde::{Deserialize, Serialize};

/// An exercise protocol: a preset name or file path, or a protocol written inline (a table
/// with the protocol file's fields). Interpreted by a [`ScheduleSource`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ExerciseRef {
    /// Preset name or file path.
    Named(String),
    /// Protocol fields.
    Inline(toml::Table),
}

impl ExerciseRef {
    /// A short label: the name, or the inline table's `name` field.
    pub fn label(&self) -> String {
        match self {
            ExerciseRef::Named(n) => n.clone(),
            ExerciseRef::Inline(t) => t.get("name").and_then(|v| v.as_str()).unwrap_or("(inline)").to_string(),
        }
    }
}

/// Turns exercise protocols into input schedules for a model. Implemented by the facade.
pub trait ScheduleSource: Sync {
    /// The protocol's fields as a table (so that scans can change one field).
    fn to_table(&self, exercise: &ExerciseRef) -> Result<toml::Table, String>;
    /// The schedule of input changes over `horizon_weeks`, doing a share `adherence` of the
    /// prescribed sessions, evenly spread.
    fn schedule(
        &self,
        model: &CompiledModel,
        exercise: &ExerciseRef,
        horizon_weeks: f64,
        adherence: f64,
    ) -> Result<Schedule, String>;
}

/// An improvement the model does not produce, in HAM-D17 points at full effect, applied to
/// every scale as the same fraction of that patient's baseline score and reached with
/// time constant `onset_weeks`: `fraction(t) = (mean + sd·z)/baseline · (1 − e^(−t/onset))`;
/// `fraction(t) · baseline score` is subtracted from the modelled score (effects add in points).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectSpec {
    /// Name (`ssri`, `placebo`, `natural-course`).
    pub name: String,
    /// Mean improvement at full effect (HAM-D17 points; negative worsens).
    pub points: f64,
    /// Between-patient SD of the improvement (points).
    pub sd_points: f64,
    /// Time constant of the onset (weeks).
    pub onset_weeks: f64,
    /// Where the numbers come from.
    pub source: Source,
}

impl EffectSpec {
    pub(crate) fn check(&self, field: &str) -> Result<(), SpecError> {
        self.source.check(field)?;
        if !(self.points.is_finite() && self.points.abs() <= 40.0) {
            return Err(SpecError::new(
                format!("{field}.points"),
                format!("{} must be a finite number of HAM-D points (|x| <= 40)", self.points),
            ));
        }
        if !(self.sd_points.is_finite() && self.sd_points >= 0.0 && self.sd_points <= 30.0) {
            return Err(SpecError::new(
                format!("{field}.sd_points"),
                format!("{} must be between 0 and 30", self.sd_points),
            ));
        }
        if !(self.onset_weeks.is_finite() && self.onset_weeks > 0.0) {
            return Err(SpecError::new(
                format!("{field}.onset_weeks"),
                format!("{} must be a positive number of weeks", self.onset_weeks),
            ));
        }
        Ok(())
    }

    /// Non-specific improvement in a trial's arms: the FDA-placebo "non-specific" class
    /// improved by ≈ 8.9 HAM-D points over 6–12 weeks (OUT-21).
    pub fn placebo() -> Self {
        EffectSpec {
            name: "non-specific".into(),
            points: 8.9,
            sd_points: 5.0,
            onset_weeks: 3.0,
            source: Source {
                evidence: vec!["OUT-21".into()],
                assumption: Some("SD 5 points and 3-week onset assumed".into()),
            },
        }
    }

    /// Improvement without treatment or on a wait-list (natural course and regression to the
    /// mean): about half the placebo improvement.
    pub fn natural_course() -> Self {
        EffectSpec {
            name: "natural-course".into(),
            points: 4.5,
            sd_points: 5.0,
            onset_weeks: 4.0,
            source: Source {
                evidence: vec!["OUT-21".into()],
                assumption: Some(
                    "half of the placebo improvement of OUT-21; SD 5 points and 4-week onset assumed".into(),
                ),
            },
        }
    }

    /// SSRI beyond placebo: drug-vs-placebo SMD ≈ 0.3 (OUT-13) ≈ 2 HAM-D points at an
    /// endpoint SD of ≈ 7 (SCL-12); antidepressants vs control −0.33 (OUT-43).
    pub fn ssri() -> Self {
        EffectSpec {
            name: "ssri".into(),
            points: 2.1,
            sd_points: 3.0,
            onset_weeks: 2.0,
            source: Source {
                evidence: vec!["OUT-13".into(), "OUT-43".into(), "SCL-12".into()],
                assumption: Some("SD 3 points and 2-week onset assumed".into()),
            },
        }
    }

    /// ECT course beyond placebo. No target gives its size: assumption (C2.4 is qualitative).
    pub fn ect() -> Self {
        EffectSpec {
            name: "ect".into(),
            points: 9.0,
            sd_points: 5.0,
            onset_weeks: 1.5,
            source: Source {
                evidence: vec!["C2.4".into()],
                assumption: Some(
                    "size of the ECT effect (9 HAM-D points beyond placebo over 3 weeks) assumed; C2.4 is qualitative"
                        .into(),
                ),
            },
        }
    }
}

/// Drop-out over the trial: `logit p = logit(probability) + per_point · (baseline − reference)`,
/// at a time uniform over the trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropoutSpec {
    /// Probability of dropping out by the end, for a patient at the reference severity.
    pub probability: f64,
    /// Change of the log-odds per HAM-D17 point of baseline severity (OUT-17: higher severity,
    /// more drop-out).
    #[serde(default)]
    pub per_point: f64,
    /// Baseline HAM-D17 at which `probability` holds (default 22).
    #[serde(default = "default_reference")]
    pub reference: f64,
    /// Where it comes from.
    pub source: Source,
}

fn default_reference() -> f64 {
    22.0
}

impl DropoutSpec {
    pub(crate) fn check(&self, field: &str) -> Result<(), SpecError> {
        self.source.check(field)?;
        if !(0.0..1.0).contains(&self.probability) {
            return Err(SpecError::new(
                format!("{field}.probability"),
                format!("{} is not a probability in [0, 1)", self.probability),
            ));
        }
        if !(self.per_point.is_finite() && self.reference.is_finite()) {
            return Err(SpecError::new(field.to_string(), "per_point and reference must be finite"));
        }
        Ok(())
    }

    /// Exercise arms: 18.1 % (15.0–21.8) after trim-and-fill (OUT-17).
    pub fn exercise() -> Self {
        DropoutSpec {
            probability: 0.181,
            per_point: 0.03,
            reference: 22.0,
            source: Source {
                evidence: vec!["OUT-17".into()],
                assumption: Some(
                    "log-odds slope 0.03 per baseline HAM-D point assumed (OUT-17 gives only the direction)".into(),
                ),
            },
        }
    }

    /// Control arms: exercise drop-out odds are 0.642 × control odds (OUT-17), so control
    /// odds = (0.181/0.819)/0.642, p ≈ 0.256.
    pub fn control() -> Self {
        let odds = 0.181 / 0.819 / 0.642;
        DropoutSpec { probability: odds / (1.0 + odds), ..DropoutSpec::exercise() }
    }

    /// The probability for one patient.
    pub fn probability_for(&self, baseline_hamd17: f64) -> f64 {
        if self.probability <= 0.0 {
            return 0.0;
        }
        let logit =
            (self.probability / (1.0 - self.probability)).ln() + self.per_point * (baseline_hamd17 - self.reference);
        1.0 / (1.0 + (-logit).exp())
    }
}

/// Share of prescribed sessions attended by those who stay: Beta with this mean and
/// concentration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdherenceSpec {
    /// Mean share of sessions attended.
    pub mean: f64,
    /// Beta concentration α + β (larger: less spread).
    pub concentration: f64,
    /// Where it comes from.
    pub source: Source,
}

impl Default for AdherenceSpec {
    fn default() -> Self {
        AdherenceSpec {
            mean: 0.8,
            concentration: 8.0,
            source: Source {
                evidence: vec!["OUT-57".into()],
                assumption: Some(
                    "mean attendance 80 % (65 % attended every session in OUT-57), Beta concentration 8 assumed".into(),
                ),
            },
        }
    }
}

impl AdherenceSpec {
    pub(crate) fn check(&self, field: &str) -> Result<(), SpecError> {
        self.source.check(field)?;
        if !(self.mean > 0.0 && self.mean <= 1.0) {
            return Err(SpecError::new(format!("{field}.mean"), format!("{} must be in (0, 1]", self.mean)));
        }
        if !(self.concentration.is_finite() && self.concentration > 0.0) {
            return Err(SpecError::new(
                format!("{field}.concentration"),
                format!("{} must be positive", self.concentration),
            ));
        }
        Ok(())
    }
}

/// Measurement error of each scale at each visit (SD in scale points, independent between
/// visits); scores are then rounded to whole points and kept within the scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaterErrorSpec {
    /// SD per scale id.
    pub sd: std::collections::BTreeMap<String, f64>,
    /// Where it comes from.
    pub source: Source,
}

impl Default for RaterErrorSpec {
    fn default() -> Self {
        RaterErrorSpec {
            sd: [("hamd17", 2.0), ("madrs", 2.5), ("bdi2", 3.0), ("phq9", 1.5)]
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            source: Source::assumption(
                "inter-rater/test-retest ICC ~0.9 at a between-patient SD of ~6 HAM-D points gives an error SD of ~2 points; other scales scaled by SCL-01/02",
            ),
        }
    }
}

/// The top of each depression scale.
pub fn scale_max(id: &str) -> f64 {
    match id {
        "hamd17" => 52.0,
        "madrs" => 60.0,
        "bdi2" => 63.0,
        "phq9" => 27.0,
        _ => f64::INFINITY,
    }
}

/// Remission threshold of each scale (HAM-D17 ≤ 7, SCL-09/SCL-11; MADRS ≤ 10, BDI-II ≤ 13,
/// PHQ-9 ≤ 4; SCL-10).
pub fn remission_threshold(id: &str) -> Option<f64> {
    match id {
        "hamd17" => Some(7.0),
        "madrs" => Some(10.0),
        "bdi2" => Some(13.0),
        "phq9" => Some(4.0),
        _ => None,
    }
}

//! What a validation file says (`validation/targets.toml`): one `[[target]]` per published
//! number, each a simulated experiment described as data.

use crate::simulation::ProtocolRef;
use crate::stress::StressRef;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole validation file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationFile {
    /// The experiments.
    #[serde(rename = "target")]
    pub targets: Vec<TargetSpec>,
    /// What `neurex calibrate` fits.
    #[serde(default)]
    pub calibration: CalibrationSpec,
    /// Where the model stands on each disagreement between sources.
    #[serde(default, rename = "position")]
    pub positions: Vec<Position>,
}

/// The parameters `neurex calibrate` may move, and how.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationSpec {
    /// Why these parameters and not others.
    #[serde(default)]
    pub description: String,
    /// The parameters, each with the interval it is searched in.
    #[serde(default, rename = "parameter")]
    pub parameters: Vec<FitParameter>,
}

/// One fitted parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitParameter {
    /// Model parameter id.
    pub id: String,
    /// Search interval (within the parameter's plausible range).
    pub bounds: [f64; 2],
}

/// The model's position on one item of "Where sources disagree".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// Disagreement id (`D1` … in evidence/disagreements.toml).
    pub id: String,
    /// Kind of position: `separate pathways`, `subgroup`, `parameter range`, `bound`, `side`.
    pub kind: String,
    /// The position, and why.
    pub text: String,
    /// Target entries that test it.
    #[serde(default)]
    pub targets: Vec<String>,
}

/// Whether a target was used to fit parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Fitted by `neurex calibrate`.
    Calibration,
    /// Never used to fit anything.
    #[default]
    Validation,
}

/// Species of the experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Species {
    /// People.
    Human,
    /// Rats.
    Rat,
    /// Mice.
    Mouse,
}

/// How the simulated number is formed from the arms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// The readout in the treatment arm.
    Value,
    /// Treatment − reference.
    Difference,
    /// 100 · (treatment / reference − 1).
    PercentChange,
    /// treatment / reference.
    FoldChange,
    /// (treatment − reference) / sd (or on the log scale with `scale = "log"`).
    Smd,
    /// readout / readout_b in the treatment arm.
    Ratio,
    /// Pearson correlation of readout and readout_b across `arms` (group means).
    Correlation,
    /// Share of the first weighted readout change in the sum of all (see `readouts`, `weights`).
    Share,
    /// Hours from the window start to the peak of treatment − reference within the window.
    PeakTime,
    /// Days until |treatment − reference| first exceeds `threshold`.
    OnsetTime,
    /// Fraction of a log-normal population (median = the readout, log-SD = `sd`) above `threshold`.
    FractionAbove,
}

impl Comparison {
    /// Short label.
    pub fn label(self) -> &'static str {
        match self {
            Comparison::Value => "value",
            Comparison::Difference => "difference",
            Comparison::PercentChange => "% change",
            Comparison::FoldChange => "fold change",
            Comparison::Smd => "SMD",
            Comparison::Ratio => "ratio",
            Comparison::Correlation => "correlation",
            Comparison::Share => "share",
            Comparison::PeakTime => "time to peak (h)",
            Comparison::OnsetTime => "onset (days)",
            Comparison::FractionAbove => "fraction above",
        }
    }
}

/// What the simulated number is referred to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Reference {
    /// The control arm, sampled the same way (between-group).
    #[default]
    Control,
    /// The treatment arm at the `pre` sample (within-subject).
    Pre,
}

/// Linear or log scale for SMDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// As is.
    #[default]
    Linear,
    /// Natural log (log-normal markers such as CRP and cytokines).
    Log,
}

/// How a sample summarises the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Stat {
    /// The value at `at` (default).
    #[default]
    Value,
    /// Mean over `window`.
    Mean,
    /// Maximum over `window`.
    Max,
    /// Minimum over `window`.
    Min,
}

/// When and how to read a series. Times are strings such as `"12 wk"`, `"9.5 h"`, `"3 d"`,
/// `"30 min"` or `"end"`, counted from the start of the simulation (t = 0 is midnight).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// Time point (default `"end"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Window `[from, to]` for mean/max/min.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<[String; 2]>,
    /// Summary.
    #[serde(default)]
    pub stat: Stat,
}

/// One arm of an experiment. In `control` and `arms`, unset fields are copied from `treatment`
/// (the control's protocol defaults to none).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmSpec {
    /// Label in reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Phenotype (default by species: human `depressed`, rat `rat`, mouse `mouse`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phenotype: Option<String>,
    /// Exercise protocol (preset, file or inline); default none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<ProtocolRef>,
    /// When the exercise protocol starts (default `"0 wk"`); it is shifted by whole days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exercise_start: Option<String>,
    /// Chronic stress schedule (`cums`, `none` or inline); default none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stress: Option<StressRef>,
    /// Simulated time (default `"12 wk"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Output step (default `"1 h"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Share of the protocol's sessions attended, evenly spread (default 1). Pooled trial effects
    /// were observed at the attendance trials achieve, not at full attendance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendance: Option<f64>,
    /// Parameter overrides on top of the phenotype.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, f64>,
}

/// One published number as a simulated experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// Unique entry id: the registry id, with a suffix when one row gives several numbers
    /// (`S3-01/80`).
    pub id: String,
    /// Registry ids this entry tests (default: the id before any `/`).
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Calibration or validation-only.
    #[serde(default)]
    pub role: Role,
    /// Species.
    pub species: Species,
    /// What is compared, in words.
    pub quantity: String,
    /// Comparison kind.
    pub comparison: Comparison,
    /// Model output read.
    #[serde(default)]
    pub readout: String,
    /// Second output (ratio, correlation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readout_b: Option<String>,
    /// Outputs whose weighted changes are shared out (share).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readouts: Vec<String>,
    /// Parameters weighting `readouts` (share).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<String>,
    /// Unit of the compared number.
    #[serde(default)]
    pub unit: String,
    /// The published value.
    pub published: f64,
    /// Acceptance band.
    pub band: [f64; 2],
    /// Where the band comes from (a CI, or the documented rule for U rows and bounds).
    pub band_source: String,
    /// Confidence grade of the source row (C, L, U).
    #[serde(default)]
    pub confidence: String,
    /// Between-subject SD (smd, fraction_above).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<f64>,
    /// Where the SD comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd_source: Option<String>,
    /// Scale for smd.
    #[serde(default)]
    pub scale: Scale,
    /// Threshold (onset_time, fraction_above).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Reference of the comparison.
    #[serde(default)]
    pub reference: Reference,
    /// The treatment arm.
    pub treatment: ArmSpec,
    /// The control arm (overrides on the treatment arm; protocol none by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<ArmSpec>,
    /// Arms for correlations (overrides on the treatment arm).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arms: Vec<ArmSpec>,
    /// When to read the outcome.
    #[serde(default)]
    pub sample: Sample,
    /// When to read the within-subject baseline (reference = pre).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre: Option<Sample>,
    /// Disagreement this entry belongs to (`D1` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disagreement: Option<String>,
    /// True if the reference model's author set numbers by hand to match this row
    /// (docs/reference-model.md); such rows are not independent validation.
    #[serde(default)]
    pub informed_model: bool,
    /// If it misses: the likely reason (shown in the report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_missed: Option<String>,
    /// Notes: design, conversions, assumptions.
    #[serde(default)]
    pub notes: String,
}

impl TargetSpec {
    /// Registry ids this entry tests.
    pub fn evidence_ids(&self) -> Vec<String> {
        if self.evidence.is_empty() {
            vec![self.id.split('/').next().unwrap_or(&self.id).to_string()]
        } else {
            self.evidence.clone()
        }
    }
}

/// Parse a time such as `"12 wk"`, `"3 d"`, `"9.5 h"` or `"30 min"` into hours. `"end"` is
/// `None`.
pub fn parse_time(text: &str) -> Result<Option<f64>, String> {
    let t = text.trim();
    if t == "end" {
        return Ok(None);
    }
    let split =
        t.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(|| format!("time `{t}` has no unit (h, min, d, wk)"))?;
    let (num, unit) = t.split_at(split);
    let v: f64 = num.trim().parse().map_err(|_| format!("time `{t}`: `{}` is not a number", num.trim()))?;
    let per = match unit.trim() {
        "min" => 1.0 / 60.0,
        "h" => 1.0,
        "d" | "day" | "days" => 24.0,
        "wk" | "week" | "weeks" => 168.0,
        u => return Err(format!("time `{t}`: unknown unit `{u}` (h, min, d, wk)")),
    };
    if !v.is_finite() || v < 0.0 {
        return Err(format!("time `{t}` must be a non-negative number"));
    }
    Ok(Some(v * per))
}

//! Randomised in-silico trials: a design (arms, visits, screening, randomisation, drop-out,
//! non-model effects, rater error), run patient by patient in parallel, with per-patient
//! results streamed chunk by chunk to a [`ChunkStore`] and endpoints reduced in index order.
//!
//! Patient `i` is screened, randomised and simulated from its own random stream alone, so a
//! run can be split into shards (chunk `c` belongs to shard `c mod n`), interrupted and resumed
//! (finished chunks are kept), and run on any number of threads, always giving the same bytes.

use crate::endpoints::{EndpointAccumulator, TrialReport};
use crate::patient::{Layout, run_patient};
use crate::population::{PopulationPlan, PopulationSpec, SpecError};
use crate::store::ChunkStore;
use crate::treatment::{
    AdherenceSpec, DropoutSpec, EffectSpec, ExerciseRef, RaterErrorSpec, ScheduleSource, remission_threshold,
};
use neurex_model::CompiledModel;
use neurex_solve::{SolveError, SolverSettings, SteadyState, steady_state_near};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A screening criterion on a baseline value (a scale as rated, or a biomarker).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriterionSpec {
    /// Output id (`hamd17`, `crp`).
    pub output: String,
    /// Lowest value admitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Highest value admitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// One arm of a trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmSpec {
    /// Name (`control`, `exercise`).
    pub name: String,
    /// Allocation ratio (default 1).
    #[serde(default = "one")]
    pub ratio: u32,
    /// Exercise protocol (none: no exercise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exercise: Option<ExerciseRef>,
    /// Effects the model does not produce (non-specific improvement, SSRI, ECT).
    #[serde(default, rename = "effect")]
    pub effects: Vec<EffectSpec>,
    /// Drop-out.
    pub dropout: DropoutSpec,
    /// Attendance of exercise sessions (exercise arms only).
    #[serde(default)]
    pub adherence: AdherenceSpec,
}

fn one() -> u32 {
    1
}

/// How missing end-of-trial values (drop-outs) are analysed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Missing {
    /// Completers only (observed cases), as most exercise trials report.
    #[default]
    Completers,
    /// Last observation carried forward, every randomised patient.
    Locf,
}

/// A trial design, as written in a design file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialSpec {
    /// Name.
    pub name: String,
    /// What it mirrors, with sources.
    #[serde(default)]
    pub description: String,
    /// Model (built-in id or path; resolved by the caller).
    #[serde(default = "reference_model")]
    pub model: String,
    /// Length of the intervention (weeks).
    pub weeks: f64,
    /// Visit weeks, starting with 0 (baseline); the last is the primary time point
    /// (default: baseline, every 4 weeks, and the end).
    #[serde(default)]
    pub visits_weeks: Vec<f64>,
    /// Clock hour of every visit (default 8: morning blood draw).
    #[serde(default = "eight")]
    pub visit_hour: f64,
    /// Patients randomised (default 200; the command line may override it).
    #[serde(default = "two_hundred")]
    pub n: u64,
    /// Primary scale (default `hamd17`).
    #[serde(default = "hamd17")]
    pub primary: String,
    /// Scales recorded (default: those of hamd17, madrs, bdi2, phq9 the model has).
    #[serde(default)]
    pub scales: Vec<String>,
    /// Biomarkers recorded (default: those of serum_bdnf, cortisol, crp, il6, tnf_alpha,
    /// vo2max the model has).
    #[serde(default)]
    pub biomarkers: Vec<String>,
    /// Analysis of drop-outs (default completers).
    #[serde(default)]
    pub missing: Missing,
    /// Who is screened.
    #[serde(default)]
    pub population: PopulationSpec,
    /// Screening criteria, all of which must hold at baseline.
    #[serde(default, rename = "inclusion")]
    pub inclusion: Vec<CriterionSpec>,
    /// Candidates screened per randomised patient before giving up (default 200).
    #[serde(default = "two_hundred_u32")]
    pub max_screening: u32,
    /// Permuted blocks of this many times the sum of the ratios (default 2).
    #[serde(default = "two")]
    pub block_multiple: u32,
    /// Measurement error of the scales.
    #[serde(default)]
    pub rater_error: RaterErrorSpec,
    /// Arms.
    #[serde(rename = "arm")]
    pub arms: Vec<ArmSpec>,
    /// Comparisons `[treatment, control]` (default: every arm against the first).
    #[serde(default)]
    pub comparisons: Vec<[String; 2]>,
    /// Integrator settings.
    #[serde(default)]
    pub solver: SolverSettings,
}

fn reference_model() -> String {
    "exercise_depression".into()
}
fn eight() -> f64 {
    8.0
}
fn two_hundred() -> u64 {
    200
}
fn two_hundred_u32() -> u32 {
    200
}
fn two() -> u32 {
    2
}
fn hamd17() -> String {
    "hamd17".into()
}

/// Embedded design presets: (name, TOML).
pub const PRESETS: [(&str, &str); 4] = [
    ("exercise-vs-control", include_str!("../designs/exercise-vs-control.toml")),
    ("exercise-vs-stretching", include_str!("../designs/exercise-vs-stretching.toml")),
    ("exercise-ssri-combination", include_str!("../designs/exercise-ssri-combination.toml")),
    ("ect-plus-exercise", include_str!("../designs/ect-plus-exercise.toml")),
];

/// Why a trial could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrialError {
    /// The design text is not valid TOML for a design.
    #[error("{source_name}: {message}")]
    Parse {
        /// File or preset.
        source_name: String,
        /// Parser message with line and column.
        message: String,
    },
    /// No such preset.
    #[error("unknown trial design `{name}` (presets: {known}; or give a .toml file)")]
    UnknownPreset {
        /// Name given.
        name: String,
        /// Presets.
        known: String,
    },
    /// A field has an impossible value.
    #[error("trial design `{design}`: {source}")]
    Spec {
        /// Design name.
        design: String,
        /// The field and the reason.
        source: SpecError,
    },
    /// The phenotype's own steady state could not be found.
    #[error("steady state of the `{phenotype}` phenotype: {source}")]
    Reference {
        /// Phenotype.
        phenotype: String,
        /// Solver failure.
        source: SolveError,
    },
    /// Options that do not fit the design or the store.
    #[error("{0}")]
    Options(String),
    /// Reading or writing per-patient results failed.
    #[error("chunk {chunk}: {message}")]
    Store {
        /// Chunk index.
        chunk: u64,
        /// What went wrong.
        message: String,
    },
}

impl TrialSpec {
    /// Parse a design's text; errors give the line and column.
    pub fn from_toml(source_name: &str, text: &str) -> Result<TrialSpec, TrialError> {
        toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| line_col(text, s.start))
                .map(|(l, c)| format!("line {l}, column {c}: "))
                .unwrap_or_default();
            TrialError::Parse { source_name: source_name.to_string(), message: format!("{at}{}", e.message().trim()) }
        })
    }

    /// A preset by name.
    pub fn preset(name: &str) -> Result<TrialSpec, TrialError> {
        let (_, text) = PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| TrialError::UnknownPreset { name: name.to_string(), known: preset_names().join(", ") })?;
        TrialSpec::from_toml(&format!("preset `{name}`"), text)
    }

    /// The visit weeks, defaulted.
    pub fn visits(&self) -> Vec<f64> {
        if !self.visits_weeks.is_empty() {
            return self.visits_weeks.clone();
        }
        let mut v: Vec<f64> = (0..).map(|k| 4.0 * f64::from(k)).take_while(|w| *w < self.weeks).collect();
        v.push(self.weeks);
        v
    }
}

/// Names of the presets.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|(n, _)| *n).collect()
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// How to run a trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrialOptions {
    /// Master seed (default 0).
    pub seed: u64,
    /// Patients randomised (default: the design's `n`).
    pub n: Option<u64>,
    /// Patients per stored chunk (default 50): the unit of resuming and sharding.
    pub chunk_size: u64,
    /// This run's shard, 1-based, and the number of shards (default 1 of 1).
    pub shard: (u64, u64),
    /// Stop after computing this many chunks (to test resuming; default: no limit).
    pub stop_after_chunks: Option<u64>,
}

impl Default for TrialOptions {
    fn default() -> Self {
        TrialOptions { seed: 0, n: None, chunk_size: 50, shard: (1, 1), stop_after_chunks: None }
    }
}

/// Reports per-patient progress (the CLI draws a bar).
pub trait Progress: Sync {
    /// `total` patients in this run, of which `done` were already stored.
    fn begin(&self, _total: u64, _done: u64) {}
    /// One more patient finished.
    fn patient_done(&self) {}
}

/// No progress reporting.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// What a run achieved.
#[derive(Debug)]
pub enum RunOutcome {
    /// Every chunk is stored; the endpoints.
    Complete(Box<TrialReport>),
    /// Some chunks (of this or other shards) are still missing.
    Partial {
        /// Chunks stored.
        stored: u64,
        /// Chunks in the whole trial.
        total: u64,
    },
}

/// A design checked against a model, with the phenotypes' steady states computed: ready to run.
pub struct Trial<'a> {
    pub(crate) model: &'a CompiledModel,
    pub(crate) spec: TrialSpec,
    pub(crate) source: &'a dyn ScheduleSource,
    pub(crate) population: PopulationPlan,
    pub(crate) layout: Layout,
    pub(crate) centre: [Option<SteadyState>; 2],
    /// Output indices of the inclusion criteria: (output index, min, max, scale slot if a scale).
    pub(crate) inclusion: Vec<(usize, f64, f64, Option<usize>)>,
    /// Arm of each position in a randomisation block.
    pub(crate) block: Vec<u32>,
    pub(crate) comparisons: Vec<(usize, usize)>,
}

impl<'a> Trial<'a> {
    /// Check `spec` against `model` and prepare the run.
    pub fn new(
        model: &'a CompiledModel,
        spec: TrialSpec,
        source: &'a dyn ScheduleSource,
    ) -> Result<Trial<'a>, TrialError> {
        let design = spec.name.clone();
        let err = |source: SpecError| TrialError::Spec { design: design.clone(), source };
        let population = spec.population.plan(model, "population").map_err(err)?;
        let layout = Layout::new(model, &spec).map_err(err)?;
        let visits = spec.visits();
        let bad = |field: &str, reason: String| err(SpecError::new(field, reason));
        if !(spec.weeks > 0.0 && spec.weeks <= 520.0) {
            return Err(bad("weeks", format!("{} must be more than 0 and at most 520", spec.weeks)));
        }
        if visits.first() != Some(&0.0) {
            return Err(bad("visits_weeks", "must start with 0 (the baseline visit)".into()));
        }
        if visits.windows(2).any(|w| w[1].partial_cmp(&w[0]) != Some(std::cmp::Ordering::Greater))
            || visits.iter().any(|w| !w.is_finite() || *w > spec.weeks)
        {
            return Err(bad(
                "visits_weeks",
                format!("{visits:?}: must increase, and stay within the {} weeks", spec.weeks),
            ));
        }
        if visits.len() < 2 {
            return Err(bad("visits_weeks", "needs a visit after baseline".into()));
        }
        if !(0.0..24.0).contains(&spec.visit_hour) {
            return Err(bad("visit_hour", format!("{} is not a clock hour in [0, 24)", spec.visit_hour)));
        }
        if spec.n == 0 {
            return Err(bad("n", "at least one patient".into()));
        }
        if spec.max_screening == 0 {
            return Err(bad("max_screening", "at least one candidate per patient".into()));
        }
        if spec.block_multiple == 0 || spec.block_multiple > 100 {
            return Err(bad("block_multiple", format!("{} must be between 1 and 100", spec.block_multiple)));
        }
        if spec.arms.is_empty() {
            return Err(bad("arm", "a trial needs at least one arm".into()));
        }
        spec.rater_error.source.check("rater_error").map_err(err)?;
        for (s, sd) in &spec.rater_error.sd {
            if !(sd.is_finite() && *sd >= 0.0) {
                return Err(bad(&format!("rater_error.sd.{s}"), format!("{sd} must be a non-negative number")));
            }
        }
        let mut block = Vec::new();
        for (a, arm) in spec.arms.iter().enumerate() {
            let at = format!("arm[{a}]");
            if arm.name.trim().is_empty() {
                return Err(bad(&format!("{at}.name"), "must not be empty".into()));
            }
            if spec.arms[..a].iter().any(|o| o.name == arm.name) {
                return Err(bad(&format!("{at}.name"), format!("`{}` names two arms", arm.name)));
            }
            if arm.ratio == 0 || arm.ratio > 100 {
                return Err(bad(&format!("{at}.ratio"), format!("{} must be between 1 and 100", arm.ratio)));
            }
            arm.dropout.check(&format!("{at}.dropout")).map_err(err)?;
            arm.adherence.check(&format!("{at}.adherence")).map_err(err)?;
            for (k, e) in arm.effects.iter().enumerate() {
                e.check(&format!("{at}.effect[{k}]")).map_err(err)?;
            }
            if let Some(ex) = &arm.exercise {
                source.schedule(model, ex, spec.weeks, 1.0).map_err(|m| bad(&format!("{at}.exercise"), m))?;
            }
            for _ in 0..arm.ratio * spec.block_multiple {
                block.push(a as u32);
            }
        }
        let mut inclusion = Vec::new();
        for (k, c) in spec.inclusion.iter().enumerate() {
            let at = format!("inclusion[{k}]");
            let o = model.output_index(&c.output).ok_or_else(|| {
                bad(&format!("{at}.output"), format!("`{}` is not an output of model `{}`", c.output, model.id))
            })?;
            let (lo, hi) = (c.min.unwrap_or(f64::NEG_INFINITY), c.max.unwrap_or(f64::INFINITY));
            if lo.is_nan() || hi.is_nan() || lo > hi {
                return Err(bad(&at, format!("min {lo} must not exceed max {hi}")));
            }
            inclusion.push((o, lo, hi, layout.scales.iter().position(|s| s.1 == o)));
        }
        let arm_index = |field: &str, name: &str| {
            spec.arms
                .iter()
                .position(|a| a.name == name)
                .ok_or_else(|| bad(field, format!("no arm is called `{name}`")))
        };
        let comparisons = if spec.comparisons.is_empty() {
            (1..spec.arms.len()).map(|a| (a, 0)).collect()
        } else {
            let mut v = Vec::new();
            for (k, [t, c]) in spec.comparisons.iter().enumerate() {
                v.push((
                    arm_index(&format!("comparisons[{k}][0]"), t)?,
                    arm_index(&format!("comparisons[{k}][1]"), c)?,
                ));
            }
            v
        };
        let t0 = spec.visit_hour;
        let mut centre = [None, None];
        for (k, healthy) in [false, true].into_iter().enumerate() {
            if (healthy && spec.population.healthy_fraction == 0.0)
                || (!healthy && spec.population.healthy_fraction == 1.0)
            {
                continue;
            }
            let phenotype = if healthy { "healthy".to_string() } else { spec.population.phenotype.clone() };
            let ss = steady_state_near(
                model,
                population.centre(healthy),
                t0,
                model.equilibration_periods.max(50),
                &spec.solver,
                None,
            )
            .map_err(|source| TrialError::Reference { phenotype, source })?;
            centre[k] = Some(ss);
        }
        Ok(Trial { model, spec, source, population, layout, centre, inclusion, block, comparisons })
    }

    /// The design (validated).
    pub fn spec(&self) -> &TrialSpec {
        &self.spec
    }

    /// Names of the per-patient record columns after the fixed ones (see [`PatientRecord`]).
    pub fn value_columns(&self) -> &[String] {
        &self.layout.columns
    }

    /// Subgroup names, in bit order.
    pub fn subgroup_names(&self) -> Vec<String> {
        self.population.subgroup_names()
    }

    /// Screen, randomise and simulate patient `index` under `seed`.
    pub fn patient(&self, seed: u64, index: u64) -> PatientRecord {
        run_patient(self, seed, index)
    }

    /// The arm of randomised patient `index`: permuted blocks, each shuffled by its own stream.
    pub fn arm_of(&self, seed: u64, index: u64) -> u32 {
        use rand::RngExt;
        let b = self.block.len() as u64;
        let mut rng = crate::rng::purpose_rng(seed, 1, index / b);
        let mut block = self.block.clone();
        for i in (1..block.len()).rev() {
            let j = rng.random_range(0..=i);
            block.swap(i, j);
        }
        block[(index % b) as usize]
    }

    fn check_options(&self, options: &TrialOptions) -> Result<(u64, u64), TrialError> {
        let n = options.n.unwrap_or(self.spec.n);
        if n == 0 {
            return Err(TrialError::Options("n must be at least 1".into()));
        }
        if options.chunk_size == 0 {
            return Err(TrialError::Options("chunk size must be at least 1".into()));
        }
        let (i, k) = options.shard;
        if k == 0 || i == 0 || i > k {
            return Err(TrialError::Options(format!("shard {i}/{k}: expected i/n with 1 <= i <= n")));
        }
        Ok((n, n.div_ceil(options.chunk_size)))
    }

    /// Run this shard's missing chunks (in parallel within each chunk), storing each chunk as it
    /// completes; then, if every chunk of the trial is stored, reduce them to the endpoints.
    pub fn run(
        &self,
        options: &TrialOptions,
        store: &mut dyn ChunkStore,
        progress: &dyn Progress,
    ) -> Result<RunOutcome, TrialError> {
        let (n, chunks) = self.check_options(options)?;
        let (shard, shards) = options.shard;
        let mine: Vec<u64> = (0..chunks).filter(|c| c % shards == shard - 1).collect();
        let chunk_len = |c: u64| (n - c * options.chunk_size).min(options.chunk_size);
        let todo: Vec<u64> = mine.iter().copied().filter(|&c| !store.has(c)).collect();
        let total: u64 = mine.iter().map(|&c| chunk_len(c)).sum();
        let done: u64 = mine.iter().filter(|c| !todo.contains(c)).map(|&c| chunk_len(c)).sum();
        progress.begin(total, done);
        for (k, &c) in todo.iter().enumerate() {
            if options.stop_after_chunks.is_some_and(|s| k as u64 >= s) {
                break;
            }
            let start = c * options.chunk_size;
            let records: Vec<PatientRecord> = (start..start + chunk_len(c))
                .into_par_iter()
                .map(|i| {
                    let r = self.patient(options.seed, i);
                    progress.patient_done();
                    r
                })
                .collect();
            store.save(c, &records).map_err(|message| TrialError::Store { chunk: c, message })?;
        }
        let stored = (0..chunks).filter(|&c| store.has(c)).count() as u64;
        if stored < chunks {
            return Ok(RunOutcome::Partial { stored, total: chunks });
        }
        Ok(RunOutcome::Complete(Box::new(self.report(options, &*store)?)))
    }

    /// Reduce every stored chunk, in index order, to the endpoints.
    pub fn report(&self, options: &TrialOptions, store: &dyn ChunkStore) -> Result<TrialReport, TrialError> {
        let (n, chunks) = self.check_options(options)?;
        let mut acc = EndpointAccumulator::new(self);
        for c in 0..chunks {
            let records = store.load(c).map_err(|message| TrialError::Store { chunk: c, message })?;
            let expected = (n - c * options.chunk_size).min(options.chunk_size);
            let first = c * options.chunk_size;
            if records.len() as u64 != expected || records.iter().enumerate().any(|(k, r)| r.index != first + k as u64)
            {
                return Err(TrialError::Store {
                    chunk: c,
                    message: format!(
                        "holds {} records, expected patients {first}..{}",
                        records.len(),
                        first + expected
                    ),
                });
            }
            for r in &records {
                acc.add(r);
            }
        }
        Ok(acc.finish(options.seed, n))
    }

    /// Primary-endpoint values of every randomised patient, by arm: (baseline, end or `None` for a
    /// drop-out under completers analysis). For power by resampling.
    pub fn primary_values(
        &self,
        options: &TrialOptions,
        store: &dyn ChunkStore,
    ) -> Result<Vec<Vec<crate::endpoints::PrimaryPair>>, TrialError> {
        let (_, chunks) = self.check_options(options)?;
        let mut out = vec![Vec::new(); self.spec.arms.len()];
        for c in 0..chunks {
            for r in store.load(c).map_err(|message| TrialError::Store { chunk: c, message })? {
                if let Some((base, end)) = self.layout.primary_pair(&r, self.spec.missing) {
                    out[r.arm as usize].push((base, end));
                }
            }
        }
        Ok(out)
    }

    /// Remission threshold of the primary scale.
    pub(crate) fn remission(&self) -> Option<f64> {
        remission_threshold(&self.spec.primary)
    }
}

/// What happened to one patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum Status {
    /// Screened in, randomised and simulated.
    Randomised = 0,
    /// No candidate met the inclusion criteria within `max_screening` draws.
    ScreenFailed = 1,
    /// The simulation of the randomised patient failed.
    SolveFailed = 2,
}

impl Status {
    /// From its code.
    pub fn from_code(c: i64) -> Option<Status> {
        match c {
            0 => Some(Status::Randomised),
            1 => Some(Status::ScreenFailed),
            2 => Some(Status::SolveFailed),
            _ => None,
        }
    }
}

/// One patient's result. `values` follow [`Trial::value_columns`]: each scale as rated at
/// each visit (`hamd17_w0`, …), the primary scale from the model alone (`hamd17_model_w0`, …),
/// and each biomarker at each visit; missing visits are NaN.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientRecord {
    /// Patient index.
    pub index: u64,
    /// Outcome of screening and simulation.
    pub status: Status,
    /// Candidates screened.
    pub screened: u32,
    /// Candidates whose steady state could not be found.
    pub solver_failures: u32,
    /// Arm.
    pub arm: u32,
    /// Subgroup bits.
    pub subgroups: u64,
    /// Age (years).
    pub age: f64,
    /// 1 for women.
    pub female: f64,
    /// BMI (kg/m²).
    pub bmi: f64,
    /// Share of exercise sessions attended (NaN without exercise).
    pub adherence: f64,
    /// Week of drop-out (NaN for completers).
    pub dropout_week: f64,
    /// Values, see [`Trial::value_columns`].
    pub values: Vec<f64>,
}

impl PatientRecord {
    /// Names of the fixed fields, in order, as stored.
    pub const FIXED: [&'static str; 11] = [
        "index",
        "status",
        "screened",
        "solver_failures",
        "arm",
        "subgroups",
        "age",
        "female",
        "bmi",
        "adherence",
        "dropout_week",
    ];
}

/// Run `f` on every patient index in parallel and collect results in index order (helper for
/// scans, attribution and prescription, which keep per-patient results small).
pub(crate) fn par_map<T: Send>(n: u64, progress: &dyn Progress, f: impl Fn(u64) -> T + Sync + Send) -> Vec<T> {
    progress.begin(n, 0);
    (0..n)
        .into_par_iter()
        .map(|i| {
            let r = f(i);
            progress.patient_done();
            r
        })
        .collect()
}

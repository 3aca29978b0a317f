//! Personal prescription: condition the virtual population on what is known about one patient
//! (any of HAM-D17, CRP, IL-6, cortisol, serum BDNF, VO2max as model outputs; age, sex, BMI as
//! covariates) by importance weighting, then rank candidate protocols by the weighted predicted
//! outcome, with a weighted 10–90 % interval.
//!
//! Weights: `w_i = Π_k N(obs_k; pred_ik, sd_k)`, on the log scale for positive biomarkers
//! (multiplicative assay and biological variation), on the natural scale for scales and
//! covariates; sex must match.

use crate::endpoints::Welford;
use crate::patient::{baseline_outputs, centres, member, output_at};
use crate::population::{PopulationSpec, SpecError};
use crate::treatment::{ExerciseRef, ScheduleSource};
use crate::trial::{Progress, par_map};
use neurex_model::CompiledModel;
use neurex_solve::{Schedule, SolveError, SolverSettings};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A prescription request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrescribeSpec {
    /// Known baseline values: model outputs (`hamd17`, `crp`, …) or `age`, `female` (0/1), `bmi`.
    pub known: BTreeMap<String, f64>,
    /// Measurement SD for each known value (log scale for biomarkers), overriding the defaults.
    pub measurement_sd: BTreeMap<String, f64>,
    /// Candidate protocols.
    pub candidates: Vec<ExerciseRef>,
    /// Weeks (default 12).
    pub weeks: f64,
    /// Outcome (default `hamd17`).
    pub outcome: String,
    /// Size of the virtual population weighted (default 400).
    pub pool: u64,
    /// Who the population is.
    pub population: PopulationSpec,
    /// Clock hour of the readings (default 8).
    pub visit_hour: f64,
    /// Integrator settings.
    pub solver: SolverSettings,
}

impl Default for PrescribeSpec {
    fn default() -> Self {
        PrescribeSpec {
            known: BTreeMap::new(),
            measurement_sd: BTreeMap::new(),
            candidates: Vec::new(),
            weeks: 12.0,
            outcome: "hamd17".into(),
            pool: 400,
            population: PopulationSpec::adult_mdd(),
            visit_hour: 8.0,
            solver: SolverSettings::default(),
        }
    }
}

/// Default measurement SD of a known value and whether it is on the log scale (assumptions:
/// HAM-D17 rater error ~3 points; CRP and IL-6 ~30 % day-to-day variation; cortisol 25 %
/// (sampling time); serum BDNF 20 %; VO2max 10 %; age 2 years; BMI 1 kg/m²).
pub fn default_sd(id: &str) -> (f64, bool) {
    match id {
        "hamd17" => (3.0, false),
        "madrs" => (3.5, false),
        "bdi2" => (4.0, false),
        "phq9" => (2.0, false),
        "crp" | "il6" | "tnf_alpha" => (0.3, true),
        "cortisol" => (0.25, true),
        "serum_bdnf" => (0.2, true),
        "vo2max" => (0.1, true),
        "age" => (2.0, false),
        "bmi" => (1.0, false),
        "female" => (0.01, false),
        _ => (0.2, true),
    }
}

/// One candidate's prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    /// Protocol.
    pub protocol: String,
    /// Weighted mean predicted outcome at the end.
    pub predicted: f64,
    /// Weighted 10th and 90th percentiles.
    pub interval: [f64; 2],
    /// Weighted mean effect against no exercise (negative: better).
    pub effect: f64,
}

/// The result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrescribeReport {
    /// Outcome.
    pub outcome: String,
    /// Predicted outcome without exercise.
    pub no_exercise: f64,
    /// Candidates, best (lowest predicted outcome) first.
    pub ranking: Vec<Ranked>,
    /// Effective sample size of the weights (Kish): how many virtual patients resemble this one.
    pub effective_sample_size: f64,
    /// Virtual patients weighted.
    pub pool: u64,
    /// Seed.
    pub seed: u64,
}

/// Why a prescription could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrescribeError {
    /// A field is wrong.
    #[error("prescribe: {0}")]
    Spec(SpecError),
    /// The population's centre has no steady state.
    #[error("steady state of the population centre: {0}")]
    Reference(SolveError),
    /// No virtual patient resembles the known values.
    #[error(
        "no virtual patient of {pool} resembles the known values (all weights are 0); widen the population or the measurement SDs"
    )]
    NoMatch {
        /// Pool size.
        pool: u64,
    },
}

enum Known {
    Output(usize, f64, f64, bool),
    Covariate(u8, f64, f64),
}

fn weighted_quantile(mut xs: Vec<(f64, f64)>, q: f64) -> f64 {
    xs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = xs.iter().map(|x| x.1).sum();
    let mut acc = 0.0;
    for (x, w) in &xs {
        acc += w;
        if acc >= q * total {
            return *x;
        }
    }
    xs.last().map_or(f64::NAN, |x| x.0)
}

/// Rank candidate protocols for one patient.
pub fn prescribe(
    model: &CompiledModel,
    spec: &PrescribeSpec,
    source: &dyn ScheduleSource,
    seed: u64,
    progress: &dyn Progress,
) -> Result<PrescribeReport, PrescribeError> {
    let bad = |f: String, r: String| PrescribeError::Spec(SpecError::new(f, r));
    let plan = spec.population.plan(model, "population").map_err(PrescribeError::Spec)?;
    let o = model
        .output_index(&spec.outcome)
        .ok_or_else(|| bad("outcome".into(), format!("`{}` is not an output of model `{}`", spec.outcome, model.id)))?;
    if spec.candidates.is_empty() {
        return Err(bad("candidates".into(), "at least one protocol to rank".into()));
    }
    if spec.pool == 0 {
        return Err(bad("pool".into(), "at least one virtual patient".into()));
    }
    let mut known = Vec::new();
    for (id, &x) in &spec.known {
        let (sd0, log) = default_sd(id);
        let sd = spec.measurement_sd.get(id).copied().unwrap_or(sd0);
        if !(sd > 0.0 && sd.is_finite()) {
            return Err(bad(format!("measurement_sd.{id}"), format!("{sd} must be positive")));
        }
        if !x.is_finite() || (log && x <= 0.0) {
            return Err(bad(
                format!("known.{id}"),
                format!("{x} must be a finite{} number", if log { " positive" } else { "" }),
            ));
        }
        known.push(match id.as_str() {
            "age" => Known::Covariate(0, x, sd),
            "female" => {
                if x != 0.0 && x != 1.0 {
                    return Err(bad("known.female".into(), format!("{x}: use 1 for female, 0 for male")));
                }
                Known::Covariate(1, x, sd)
            }
            "bmi" => Known::Covariate(2, x, sd),
            _ => {
                let k = model.output_index(id).ok_or_else(|| {
                    bad(
                        format!("known.{id}"),
                        format!("`{id}` is neither an output of model `{}` nor age, female or bmi", model.id),
                    )
                })?;
                Known::Output(k, if log { x.ln() } else { x }, sd, log)
            }
        });
    }
    let mut schedules = Vec::new();
    for (k, c) in spec.candidates.iter().enumerate() {
        schedules.push(source.schedule(model, c, spec.weeks, 1.0).map_err(|m| bad(format!("candidates[{k}]"), m))?);
    }
    let t0 = spec.visit_hour;
    let centre = centres(model, &plan, &spec.population, t0, &spec.solver).map_err(PrescribeError::Reference)?;
    // Pass 1: weights from baselines.
    let members: Vec<Option<(f64, crate::patient::Member)>> = par_map(spec.pool, progress, |i| {
        let m = member(model, &plan, &centre, seed, i, t0, &spec.solver).ok()?;
        let base = baseline_outputs(model, &m.ss, t0);
        let mut logw = 0.0;
        for k in &known {
            let (pred, obs, sd) = match *k {
                Known::Output(j, obs, sd, log) => (if log { base[j].max(1e-300).ln() } else { base[j] }, obs, sd),
                Known::Covariate(c, obs, sd) => {
                    let v = match c {
                        0 => m.patient.age,
                        1 => f64::from(u8::from(m.patient.female)),
                        _ => m.patient.bmi,
                    };
                    (v, obs, sd)
                }
            };
            logw -= 0.5 * ((pred - obs) / sd).powi(2);
        }
        Some((logw, m))
    });
    let max_logw = members.iter().flatten().map(|(l, _)| *l).fold(f64::NEG_INFINITY, f64::max);
    if !max_logw.is_finite() {
        return Err(PrescribeError::NoMatch { pool: spec.pool });
    }
    // Keep patients carrying at least 1e-4 of the largest weight (the rest change nothing).
    let kept: Vec<(f64, &crate::patient::Member)> =
        members.iter().flatten().map(|(l, m)| ((l - max_logw).exp(), m)).filter(|(w, _)| *w >= 1e-4).collect();
    let (sw, sw2): (f64, f64) = kept.iter().fold((0.0, 0.0), |(a, b), (w, _)| (a + w, b + w * w));
    let ess = sw * sw / sw2;
    // Pass 2: outcomes of the weighted patients under each candidate and without exercise.
    let t_end = [t0 + spec.weeks * 168.0];
    let outcomes: Vec<Option<(f64, Vec<f64>)>> = par_map(kept.len() as u64, progress, |i| {
        let m = kept[i as usize].1;
        let none = output_at(model, &m.ss, t0, &t_end, &Schedule::empty(), &spec.solver, o).ok()?[0];
        let with: Option<Vec<f64>> = schedules
            .iter()
            .map(|s| output_at(model, &m.ss, t0, &t_end, s, &spec.solver, o).ok().map(|v| v[0]))
            .collect();
        Some((none, with?))
    });
    let mut none = Welford::default();
    let mut pairs: Vec<(f64, f64, &Vec<f64>)> = Vec::new();
    for ((w, _), r) in kept.iter().zip(&outcomes) {
        if let Some((n, v)) = r {
            pairs.push((*w, *n, v));
            none.add(*n);
        }
    }
    let total: f64 = pairs.iter().map(|p| p.0).sum();
    if total.is_nan() || total <= 0.0 {
        return Err(PrescribeError::NoMatch { pool: spec.pool });
    }
    type Pair<'a> = (f64, f64, &'a Vec<f64>);
    let wmean = |f: &dyn Fn(&Pair<'_>) -> f64| pairs.iter().map(|p| p.0 * f(p)).sum::<f64>() / total;
    let no_exercise = wmean(&|p| p.1);
    let mut ranking: Vec<Ranked> = spec
        .candidates
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let xs: Vec<(f64, f64)> = pairs.iter().map(|p| (p.2[k], p.0)).collect();
            Ranked {
                protocol: c.label(),
                predicted: wmean(&|p| p.2[k]),
                interval: [weighted_quantile(xs.clone(), 0.1), weighted_quantile(xs, 0.9)],
                effect: wmean(&|p| p.2[k] - p.1),
            }
        })
        .collect();
    ranking.sort_by(|a, b| a.predicted.total_cmp(&b.predicted));
    Ok(PrescribeReport {
        outcome: spec.outcome.clone(),
        no_exercise,
        ranking,
        effective_sample_size: ess,
        pool: spec.pool,
        seed,
    })
}

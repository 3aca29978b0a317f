//! Pathway attribution: the share of exercise's effect on depression that flows through each
//! of the five systems. For each system in turn, every documented coupling (`[[coupling]]`)
//! carrying exercise into the system, and (by default) every coupling leaving it, is cut by
//! setting its `via` parameter to 0 (the neutral value of the model's power-law elasticities
//! and `(1 + gain·x)` gains); the effect (exercise − no exercise, same patient, same cut) is
//! simulated again. The system's contribution is the full effect minus the cut effect; shares
//! are reported raw (contribution / full effect) and normalised to sum to 1, each with its
//! spread across the population.

use crate::endpoints::Welford;
use crate::patient::{centres, member, output_at, periods, quantile};
use crate::population::{PopulationSpec, SpecError};
use crate::treatment::{ExerciseRef, ScheduleSource};
use crate::trial::{Progress, par_map};
use neurex_model::{CompiledModel, ModelSpec};
use neurex_solve::{Schedule, SolveError, SolverSettings, steady_state_near};
use serde::{Deserialize, Serialize};

/// Which couplings are cut for a system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cut {
    /// Exercise's inputs into the system and every coupling leaving it.
    #[default]
    InputsAndOutgoing,
    /// Only exercise's inputs into the system.
    Inputs,
}

/// An attribution study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttributionSpec {
    /// Protocol (default `aerobic-3x`).
    pub protocol: ExerciseRef,
    /// Weeks (default 12).
    pub weeks: f64,
    /// Outcome (default `hamd17`).
    pub outcome: String,
    /// Virtual patients (default 40).
    pub patients: u64,
    /// Who they are.
    pub population: PopulationSpec,
    /// Systems to cut (default: the model's `[[system]]` list).
    pub systems: Vec<String>,
    /// What is cut (default inputs-and-outgoing).
    pub cut: Cut,
    /// Clock hour of the outcome reading (default 8).
    pub visit_hour: f64,
    /// Integrator settings.
    pub solver: SolverSettings,
}

impl Default for AttributionSpec {
    fn default() -> Self {
        AttributionSpec {
            protocol: ExerciseRef::Named("aerobic-3x".into()),
            weeks: 12.0,
            outcome: "hamd17".into(),
            patients: 40,
            population: PopulationSpec::adult_mdd(),
            systems: Vec::new(),
            cut: Cut::default(),
            visit_hour: 8.0,
            solver: SolverSettings::default(),
        }
    }
}

/// One system's share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemShare {
    /// System id.
    pub system: String,
    /// `via` parameters cut.
    pub cut: Vec<String>,
    /// Mean contribution (outcome points; same sign as the effect when it helps).
    pub contribution: f64,
    /// Mean of contribution / full effect across patients.
    pub share: f64,
    /// 95 % CI of that mean (normal approximation).
    pub share_ci: [f64; 2],
    /// 5th–95th percentile of the per-patient share.
    pub share_p05_p95: [f64; 2],
    /// Mean share after normalising each patient's contributions to sum to 1.
    pub normalised_share: f64,
}

/// The result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributionReport {
    /// Protocol.
    pub protocol: String,
    /// Outcome.
    pub outcome: String,
    /// Full effect (exercise − no exercise), mean over patients.
    pub effect: f64,
    /// Per system, in the order asked.
    pub systems: Vec<SystemShare>,
    /// System with the largest normalised share.
    pub largest: String,
    /// Whether that is `bdnf`, as C2.6 says ("the effect on BDNF is the most pronounced").
    pub agrees_with_c2_6: bool,
    /// Patients used / excluded (a failed solve or an effect of less than 0.05 points).
    pub patients: u64,
    /// Excluded patients.
    pub excluded: u64,
    /// Seed.
    pub seed: u64,
}

/// Why attribution could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttributionError {
    /// A field is wrong.
    #[error("attribution: {0}")]
    Spec(SpecError),
    /// The population's centre has no steady state.
    #[error("steady state of the population centre: {0}")]
    Reference(SolveError),
}

/// The `via` parameters cut for each system.
pub fn cuts(
    spec: &ModelSpec,
    model: &CompiledModel,
    systems: &[String],
    cut: Cut,
) -> Result<Vec<Vec<String>>, SpecError> {
    let system_of = |id: &str| -> Option<String> {
        model
            .states
            .iter()
            .chain(&model.assigned)
            .chain(&model.values)
            .find(|v| v.id == id)
            .and_then(|v| v.system.clone())
    };
    let five: Vec<String> = spec.systems.iter().map(|s| s.id.clone()).collect();
    let mut out = Vec::new();
    for (k, s) in systems.iter().enumerate() {
        if !five.contains(s) {
            return Err(SpecError::new(
                format!("systems[{k}]"),
                format!("`{s}` is not a system of the model (systems: {})", five.join(", ")),
            ));
        }
        let mut vias = Vec::new();
        for c in &spec.couplings {
            let (from, to) = (system_of(&c.from), system_of(&c.to));
            let exercise_in = from.as_ref().is_none_or(|f| !five.contains(f)) && to.as_deref() == Some(s.as_str());
            let outgoing = from.as_deref() == Some(s.as_str()) && to.as_deref() != Some(s.as_str());
            if (exercise_in || (cut == Cut::InputsAndOutgoing && outgoing))
                && let Some(v) = &c.via
                && model.value_index(v).is_some()
                && !vias.contains(v)
            {
                vias.push(v.clone());
            }
        }
        out.push(vias);
    }
    Ok(out)
}

/// Run an attribution study.
pub fn attribute(
    model_spec: &ModelSpec,
    model: &CompiledModel,
    spec: &AttributionSpec,
    source: &dyn ScheduleSource,
    seed: u64,
    progress: &dyn Progress,
) -> Result<AttributionReport, AttributionError> {
    let bad = |f: &str, r: String| AttributionError::Spec(SpecError::new(f, r));
    let plan = spec.population.plan(model, "population").map_err(AttributionError::Spec)?;
    let o = model
        .output_index(&spec.outcome)
        .ok_or_else(|| bad("outcome", format!("`{}` is not an output of model `{}`", spec.outcome, model.id)))?;
    if !(spec.weeks > 0.0 && spec.weeks <= 520.0) {
        return Err(bad("weeks", format!("{} must be more than 0 and at most 520", spec.weeks)));
    }
    if spec.patients == 0 {
        return Err(bad("patients", "at least one".into()));
    }
    let systems: Vec<String> = if spec.systems.is_empty() {
        model_spec.systems.iter().map(|s| s.id.clone()).collect()
    } else {
        spec.systems.clone()
    };
    let cut_names = cuts(model_spec, model, &systems, spec.cut).map_err(AttributionError::Spec)?;
    let cut_index: Vec<Vec<usize>> =
        cut_names.iter().map(|v| v.iter().filter_map(|n| model.value_index(n)).collect()).collect();
    let schedule = source.schedule(model, &spec.protocol, spec.weeks, 1.0).map_err(|m| bad("protocol", m))?;
    let t0 = spec.visit_hour;
    let centre = centres(model, &plan, &spec.population, t0, &spec.solver).map_err(AttributionError::Reference)?;
    let t_end = [t0 + spec.weeks * 168.0];
    let effect_of = |ss: &neurex_solve::SteadyState| -> Option<f64> {
        let c = output_at(model, ss, t0, &t_end, &Schedule::empty(), &spec.solver, o).ok()?[0];
        let e = output_at(model, ss, t0, &t_end, &schedule, &spec.solver, o).ok()?[0];
        Some(e - c)
    };
    let per_patient: Vec<Option<(f64, Vec<f64>)>> = par_map(spec.patients, progress, |i| {
        let m = member(model, &plan, &centre, seed, i, t0, &spec.solver).ok()?;
        let full = effect_of(&m.ss)?;
        let mut contributions = Vec::new();
        for idx in &cut_index {
            let mut p = m.patient.p.clone();
            for &k in idx {
                p[k] = 0.0;
            }
            let ss = steady_state_near(model, &p, t0, periods(model), &spec.solver, Some(&m.ss)).ok()?;
            contributions.push(full - effect_of(&ss)?);
        }
        Some((full, contributions))
    });
    let used: Vec<&(f64, Vec<f64>)> = per_patient.iter().flatten().filter(|(full, _)| full.abs() >= 0.05).collect();
    let mut effect = Welford::default();
    for (full, _) in &used {
        effect.add(*full);
    }
    let mut shares = Vec::new();
    for (k, s) in systems.iter().enumerate() {
        let (mut contrib, mut share, mut norm) = (Welford::default(), Welford::default(), Welford::default());
        let mut xs = Vec::new();
        for (full, c) in &used {
            contrib.add(c[k]);
            share.add(c[k] / full);
            xs.push(c[k] / full);
            let total: f64 = c.iter().sum();
            if total.abs() > 1e-12 {
                norm.add(c[k] / total);
            }
        }
        xs.sort_by(f64::total_cmp);
        let half = 1.96 * share.sd() / (share.n() as f64).sqrt();
        shares.push(SystemShare {
            system: s.clone(),
            cut: cut_names[k].clone(),
            contribution: contrib.mean(),
            share: share.mean(),
            share_ci: [share.mean() - half, share.mean() + half],
            share_p05_p95: [quantile(&xs, 0.05), quantile(&xs, 0.95)],
            normalised_share: norm.mean(),
        });
    }
    let largest = shares
        .iter()
        .filter(|s| !s.normalised_share.is_nan())
        .max_by(|a, b| a.normalised_share.total_cmp(&b.normalised_share))
        .map(|s| s.system.clone())
        .unwrap_or_default();
    Ok(AttributionReport {
        protocol: spec.protocol.label(),
        outcome: spec.outcome.clone(),
        effect: effect.mean(),
        systems: shares,
        agrees_with_c2_6: largest == "bdnf",
        largest,
        patients: used.len() as u64,
        excluded: spec.patients - used.len() as u64,
        seed,
    })
}

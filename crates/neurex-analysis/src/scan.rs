//! Dose–response scans: the effect of exercise (end-of-treatment outcome minus the same
//! patient's no-exercise outcome, from the mechanistic model alone) over a grid of protocol
//! fields — intensity, minutes per session, sessions per week, weeks, modality — across a
//! cohort of virtual patients.

use crate::endpoints::{MeanSd, Welford};
use crate::patient::{centres, member, output_at, quantile};
use crate::population::{PopulationSpec, SpecError};
use crate::treatment::{ExerciseRef, ScheduleSource};
use crate::trial::{Progress, par_map};
use neurex_model::CompiledModel;
use neurex_solve::{Schedule, SolveError, SolverSettings};
use serde::{Deserialize, Serialize};

/// One axis of a scan: a protocol field and its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisSpec {
    /// Protocol field (`intensity`, `minutes`, `sessions_per_week`, `weeks`, `modality`, …).
    pub field: String,
    /// Values, as they would be written in a protocol file.
    pub values: Vec<toml::Value>,
}

/// A dose–response scan, as written in a scan file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanSpec {
    /// Name.
    pub name: String,
    /// Protocol whose fields are varied (default `aerobic-3x`).
    pub base: ExerciseRef,
    /// Axes; the grid is their Cartesian product.
    #[serde(rename = "axis")]
    pub axes: Vec<AxisSpec>,
    /// Weeks simulated (a protocol's own `weeks`, if shorter, ends the exercise earlier; the
    /// outcome is read at the end of the protocol's weeks if set, else here; default 12).
    pub weeks: f64,
    /// Outcome (default `hamd17`).
    pub outcome: String,
    /// Virtual patients (default 40).
    pub patients: u64,
    /// Who they are.
    pub population: PopulationSpec,
    /// Clock hour at which outcomes are read (default 8).
    pub visit_hour: f64,
    /// Integrator settings.
    pub solver: SolverSettings,
}

impl Default for ScanSpec {
    fn default() -> Self {
        ScanSpec {
            name: "scan".into(),
            base: ExerciseRef::Named("aerobic-3x".into()),
            axes: Vec::new(),
            weeks: 12.0,
            outcome: "hamd17".into(),
            patients: 40,
            population: PopulationSpec::adult_mdd(),
            visit_hour: 8.0,
            solver: SolverSettings::default(),
        }
    }
}

/// One grid point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanPoint {
    /// Axis values, as text, in axis order.
    pub values: Vec<String>,
    /// Weeks at which the outcome was read.
    pub weeks: f64,
    /// Effect (exercise − no exercise) across patients.
    pub effect: MeanSd,
    /// 5th percentile across patients.
    pub p05: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Patients whose simulation failed at this point.
    pub failures: u64,
}

/// The result of a scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    /// Name.
    pub name: String,
    /// Outcome.
    pub outcome: String,
    /// Axis fields.
    pub axes: Vec<String>,
    /// Grid points, the last axis varying fastest.
    pub points: Vec<ScanPoint>,
    /// Patients.
    pub patients: u64,
    /// Patients whose steady state failed (excluded everywhere).
    pub excluded: u64,
    /// Seed.
    pub seed: u64,
}

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// A field is wrong.
    #[error("scan `{name}`: {source}")]
    Spec {
        /// Scan name.
        name: String,
        /// Field and reason.
        source: SpecError,
    },
    /// The population's centre has no steady state.
    #[error("steady state of the population centre: {0}")]
    Reference(SolveError),
}

fn text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Run a scan.
pub fn scan(
    model: &CompiledModel,
    spec: &ScanSpec,
    source: &dyn ScheduleSource,
    seed: u64,
    progress: &dyn Progress,
) -> Result<ScanReport, ScanError> {
    let err = |field: &str, reason: String| ScanError::Spec {
        name: spec.name.clone(),
        source: SpecError::new(field, reason),
    };
    let plan = spec
        .population
        .plan(model, "population")
        .map_err(|source| ScanError::Spec { name: spec.name.clone(), source })?;
    let o = model
        .output_index(&spec.outcome)
        .ok_or_else(|| err("outcome", format!("`{}` is not an output of model `{}`", spec.outcome, model.id)))?;
    if !(spec.weeks > 0.0 && spec.weeks <= 520.0) {
        return Err(err("weeks", format!("{} must be more than 0 and at most 520", spec.weeks)));
    }
    if spec.patients == 0 {
        return Err(err("patients", "at least one".into()));
    }
    if spec.axes.is_empty() {
        return Err(err("axis", "a scan needs at least one axis".into()));
    }
    let base = source.to_table(&spec.base).map_err(|m| err("base", m))?;
    // The grid, last axis fastest.
    let mut grid: Vec<Vec<usize>> = vec![Vec::new()];
    for (k, a) in spec.axes.iter().enumerate() {
        if a.values.is_empty() {
            return Err(err(&format!("axis[{k}].values"), "needs at least one value".into()));
        }
        grid = grid.into_iter().flat_map(|g| (0..a.values.len()).map(move |i| [g.clone(), vec![i]].concat())).collect();
    }
    let mut points = Vec::new();
    for g in &grid {
        let mut t = base.clone();
        t.insert("name".into(), toml::Value::String(format!("{}-{}", spec.name, points.len())));
        for (k, &i) in g.iter().enumerate() {
            t.insert(spec.axes[k].field.clone(), spec.axes[k].values[i].clone());
        }
        let ex = ExerciseRef::Inline(t);
        let weeks = match &ex {
            ExerciseRef::Inline(t) => t
                .get("weeks")
                .and_then(|w| w.as_float().or_else(|| w.as_integer().map(|i| i as f64)))
                .unwrap_or(spec.weeks)
                .min(spec.weeks),
            ExerciseRef::Named(_) => spec.weeks,
        };
        let sched = source.schedule(model, &ex, spec.weeks, 1.0).map_err(|m| {
            let at = g
                .iter()
                .enumerate()
                .map(|(k, &i)| format!("{} = {}", spec.axes[k].field, text(&spec.axes[k].values[i])))
                .collect::<Vec<_>>()
                .join(", ");
            err("axis", format!("the protocol with {at} is invalid: {m}"))
        })?;
        points.push((g.clone(), weeks, sched));
    }
    let t0 = spec.visit_hour;
    let centre = centres(model, &plan, &spec.population, t0, &spec.solver).map_err(ScanError::Reference)?;
    let mut horizons: Vec<f64> = points.iter().map(|p| p.1).collect();
    horizons.sort_by(f64::total_cmp);
    horizons.dedup();
    let per_patient: Vec<Option<Vec<Option<f64>>>> = par_map(spec.patients, progress, |i| {
        let m = member(model, &plan, &centre, seed, i, t0, &spec.solver).ok()?;
        let times: Vec<f64> = horizons.iter().map(|w| t0 + w * 168.0).collect();
        let control = output_at(model, &m.ss, t0, &times, &Schedule::empty(), &spec.solver, o).ok()?;
        Some(
            points
                .iter()
                .map(|(_, w, sched)| {
                    let h = horizons.iter().position(|x| x == w).expect("listed");
                    output_at(model, &m.ss, t0, &[t0 + w * 168.0], sched, &spec.solver, o)
                        .ok()
                        .map(|v| v[0] - control[h])
                })
                .collect(),
        )
    });
    let excluded = per_patient.iter().filter(|p| p.is_none()).count() as u64;
    let out = points
        .iter()
        .enumerate()
        .map(|(k, (g, w, _))| {
            let mut acc = Welford::default();
            let mut xs = Vec::new();
            let mut failures = 0;
            for p in per_patient.iter().flatten() {
                match p[k] {
                    Some(x) => {
                        acc.add(x);
                        xs.push(x);
                    }
                    None => failures += 1,
                }
            }
            xs.sort_by(f64::total_cmp);
            ScanPoint {
                values: g.iter().enumerate().map(|(a, &i)| text(&spec.axes[a].values[i])).collect(),
                weeks: *w,
                effect: acc.into(),
                p05: quantile(&xs, 0.05),
                p95: quantile(&xs, 0.95),
                failures,
            }
        })
        .collect();
    Ok(ScanReport {
        name: spec.name.clone(),
        outcome: spec.outcome.clone(),
        axes: spec.axes.iter().map(|a| a.field.clone()).collect(),
        points: out,
        patients: spec.patients,
        excluded,
        seed,
    })
}

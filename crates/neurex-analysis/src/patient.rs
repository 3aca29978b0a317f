//! One patient of a trial: screening, randomisation, simulation and rating.

use crate::population::SpecError;
use crate::rng::patient_rng;
use crate::treatment::scale_max;
use crate::trial::{Missing, PatientRecord, Status, Trial, TrialSpec};
use neurex_model::CompiledModel;
use neurex_solve::{Recorder, Schedule, SolveError, SolverSettings, SteadyState, simulate, steady_state_near};
use rand::RngExt;
use rand_distr::{Beta, Distribution, StandardNormal};

const DEFAULT_SCALES: [&str; 4] = ["hamd17", "madrs", "bdi2", "phq9"];
const DEFAULT_BIOMARKERS: [&str; 6] = ["serum_bdnf", "cortisol", "crp", "il6", "tnf_alpha", "vo2max"];

/// Where each recorded value lives in a [`PatientRecord`]'s `values`.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// (id, output index, rater SD)
    pub(crate) scales: Vec<(String, usize, f64)>,
    pub(crate) biomarkers: Vec<(String, usize)>,
    pub(crate) visits: Vec<f64>,
    pub(crate) primary: usize,
    /// Output holding HAM-D17 (effects are given in its points), else the primary's.
    pub(crate) hamd_output: usize,
    pub(crate) columns: Vec<String>,
}

impl Layout {
    pub(crate) fn new(model: &CompiledModel, spec: &TrialSpec) -> Result<Layout, SpecError> {
        let pick = |field: &str, given: &[String], defaults: &[&str]| -> Result<Vec<(String, usize)>, SpecError> {
            if given.is_empty() {
                return Ok(defaults.iter().filter_map(|s| model.output_index(s).map(|o| (s.to_string(), o))).collect());
            }
            given
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    model.output_index(s).map(|o| (s.clone(), o)).ok_or_else(|| {
                        SpecError::new(
                            format!("{field}[{k}]"),
                            format!("`{s}` is not an output of model `{}`", model.id),
                        )
                    })
                })
                .collect()
        };
        let mut scales = pick("scales", &spec.scales, &DEFAULT_SCALES)?;
        if !scales.iter().any(|(s, _)| *s == spec.primary) {
            let o = model.output_index(&spec.primary).ok_or_else(|| {
                SpecError::new("primary", format!("`{}` is not an output of model `{}`", spec.primary, model.id))
            })?;
            scales.insert(0, (spec.primary.clone(), o));
        }
        for s in spec.rater_error.sd.keys() {
            if !scales.iter().any(|(id, _)| id == s) && model.output_index(s).is_none() {
                return Err(SpecError::new(
                    format!("rater_error.sd.{s}"),
                    format!("`{s}` is not an output of model `{}`", model.id),
                ));
            }
        }
        let scales: Vec<(String, usize, f64)> = scales
            .into_iter()
            .map(|(s, o)| (s.clone(), o, spec.rater_error.sd.get(&s).copied().unwrap_or(0.0)))
            .collect();
        let biomarkers = pick("biomarkers", &spec.biomarkers, &DEFAULT_BIOMARKERS)?;
        let primary = scales.iter().position(|s| s.0 == spec.primary).expect("inserted above");
        let hamd_output = model.output_index("hamd17").unwrap_or(scales[primary].1);
        let visits = spec.visits();
        let wk = |w: f64| if w.fract() == 0.0 { format!("{w:.0}") } else { format!("{w}") };
        let mut columns = Vec::new();
        for (s, _, _) in &scales {
            columns.extend(visits.iter().map(|&w| format!("{s}_w{}", wk(w))));
        }
        columns.extend(visits.iter().map(|&w| format!("{}_model_w{}", spec.primary, wk(w))));
        for (b, _) in &biomarkers {
            columns.extend(visits.iter().map(|&w| format!("{b}_w{}", wk(w))));
        }
        Ok(Layout { scales, biomarkers, visits, primary, hamd_output, columns })
    }

    pub(crate) fn scale_at(&self, s: usize, v: usize) -> usize {
        s * self.visits.len() + v
    }
    pub(crate) fn model_primary_at(&self, v: usize) -> usize {
        self.scales.len() * self.visits.len() + v
    }
    pub(crate) fn biomarker_at(&self, b: usize, v: usize) -> usize {
        (self.scales.len() + 1 + b) * self.visits.len() + v
    }

    /// (baseline, end) of the primary scale for a randomised patient.
    pub(crate) fn primary_pair(&self, r: &PatientRecord, missing: Missing) -> Option<(f64, Option<f64>)> {
        if r.status != Status::Randomised {
            return None;
        }
        let base = r.values[self.scale_at(self.primary, 0)];
        let last = r.values[self.scale_at(self.primary, self.visits.len() - 1)];
        let end = if !last.is_nan() {
            Some(last)
        } else {
            match missing {
                Missing::Completers => None,
                Missing::Locf => {
                    (0..self.visits.len()).rev().map(|v| r.values[self.scale_at(self.primary, v)]).find(|x| !x.is_nan())
                }
            }
        };
        Some((base, end))
    }
}

/// Keeps the outputs at each requested time.
pub(crate) struct Rows(pub(crate) Vec<Vec<f64>>);
impl Recorder for Rows {
    fn record(&mut self, _t: f64, values: &[f64]) {
        self.0.push(values.to_vec());
    }
}

/// Outputs at `t0` and at each of `times` (all > t0) for a patient starting from `ss`.
pub(crate) fn outputs_at(
    model: &CompiledModel,
    ss: &SteadyState,
    t0: f64,
    times: &[f64],
    schedule: &Schedule,
    settings: &SolverSettings,
) -> Result<Vec<Vec<f64>>, SolveError> {
    let mut all = Vec::with_capacity(times.len() + 1);
    all.push(t0);
    all.extend_from_slice(times);
    // Without inputs or events, a patient at its periodic steady state is back at the same
    // state after every whole period: visits a whole number of periods after t0 need no
    // integration (a no-exercise arm costs nothing beyond the steady state); `periods > 0` means
    // a steady state was actually searched for and `residual <= 1` that it was found. The steady state's
    // own test bounds the drift over 12 weeks (`a_no_exercise_patient_stays_at_its_periodic_
    // steady_state`: < 1e-4 relative).
    let period = model.period.unwrap_or(24.0);
    let whole = |t: f64| {
        let k = (t - t0) / period;
        (k - k.round()).abs() < 1e-9
    };
    if schedule.changes().is_empty()
        && model.events.is_empty()
        && ss.periods > 0
        && ss.residual <= 1.0
        && all.iter().all(|&t| whole(t))
    {
        let mut ws = model.workspace();
        return Ok(all
            .iter()
            .map(|&t| {
                let mut out = vec![0.0; model.outputs.len()];
                model.observe(t, &ss.y, &ss.p, &mut out, &mut ws);
                out
            })
            .collect());
    }
    let mut rows = Rows(Vec::with_capacity(all.len()));
    simulate(model, &ss.p, &ss.y, t0, &all, schedule, settings, &mut rows)?;
    Ok(rows.0)
}

/// Baseline outputs at `t0` from a steady state.
pub(crate) fn baseline_outputs(model: &CompiledModel, ss: &SteadyState, t0: f64) -> Vec<f64> {
    let mut out = vec![0.0; model.outputs.len()];
    let mut ws = model.workspace();
    model.observe(t0, &ss.y, &ss.p, &mut out, &mut ws);
    out
}

/// Periods of plain integration allowed when Newton from the phenotype's state fails.
pub(crate) fn periods(model: &CompiledModel) -> u32 {
    model.equilibration_periods.max(50)
}

fn rate(x: f64, sd: f64, z: f64, max: f64) -> f64 {
    (x + sd * z).round().clamp(0.0, max)
}

pub(crate) fn run_patient(tr: &Trial<'_>, seed: u64, index: u64) -> PatientRecord {
    let spec = &tr.spec;
    let lay = &tr.layout;
    let model = tr.model;
    let t0 = spec.visit_hour;
    let nv = lay.visits.len();
    let mut rng = patient_rng(seed, index);
    let mut record = PatientRecord {
        index,
        status: Status::ScreenFailed,
        screened: 0,
        solver_failures: 0,
        arm: 0,
        subgroups: 0,
        age: f64::NAN,
        female: f64::NAN,
        bmi: f64::NAN,
        adherence: f64::NAN,
        dropout_week: f64::NAN,
        values: vec![f64::NAN; lay.columns.len()],
    };
    // Screening: draw candidates from this patient's stream until one qualifies.
    let mut found = None;
    for _ in 0..spec.max_screening {
        record.screened += 1;
        let vp = tr.population.draw(&mut rng);
        let z_base: Vec<f64> = lay.scales.iter().map(|_| StandardNormal.sample(&mut rng)).collect();
        let near = tr.centre[usize::from(vp.healthy)].as_ref();
        let ss = match steady_state_near(model, &vp.p, t0, periods(model), &spec.solver, near) {
            Ok(ss) => ss,
            Err(_) => {
                record.solver_failures += 1;
                continue;
            }
        };
        let base = baseline_outputs(model, &ss, t0);
        let rated: Vec<f64> =
            lay.scales.iter().zip(&z_base).map(|((s, o, sd), z)| rate(base[*o], *sd, *z, scale_max(s))).collect();
        let ok = tr.inclusion.iter().all(|&(o, lo, hi, slot)| {
            let x = slot.map_or(base[o], |k| rated[k]);
            x >= lo && x <= hi
        });
        if ok {
            found = Some((vp, ss, base, rated));
            break;
        }
    }
    let Some((vp, ss, base, rated)) = found else { return record };
    record.subgroups = vp.subgroups;
    record.age = vp.age;
    record.female = f64::from(u8::from(vp.female));
    record.bmi = vp.bmi;
    let arm_index = tr.arm_of(seed, index);
    record.arm = arm_index;
    let arm = &spec.arms[arm_index as usize];
    // Baseline values are known before the simulation (kept even if it fails).
    let po = lay.scales[lay.primary].1;
    for (s, &x) in rated.iter().enumerate() {
        record.values[lay.scale_at(s, 0)] = x;
    }
    record.values[lay.model_primary_at(0)] = base[po];
    for (b, (_, o)) in lay.biomarkers.iter().enumerate() {
        record.values[lay.biomarker_at(b, 0)] = base[*o];
    }

    // Draws that do not depend on the arm, in a fixed order and number.
    let adherence_u: f64 = {
        let (m, k) = (arm.adherence.mean, arm.adherence.concentration);
        if m >= 1.0 { 1.0 } else { Beta::new(m * k, (1.0 - m) * k).map(|b| b.sample(&mut rng)).unwrap_or(m) }
    };
    let u_drop: f64 = rng.random();
    let u_time: f64 = rng.random();
    let max_effects = spec.arms.iter().map(|a| a.effects.len()).max().unwrap_or(0);
    let z_effects: Vec<f64> = (0..max_effects).map(|_| StandardNormal.sample(&mut rng)).collect();
    let z_visits: Vec<f64> = (0..lay.scales.len() * nv).map(|_| StandardNormal.sample(&mut rng)).collect();

    let hamd_base = base[lay.hamd_output];
    let p_drop = arm.dropout.probability_for(rated[lay.primary]);
    let drop_h = if u_drop < p_drop { Some(u_time * spec.weeks * 168.0) } else { None };
    record.dropout_week = drop_h.map_or(f64::NAN, |h| h / 168.0);
    let observed: Vec<usize> = (1..nv).filter(|&v| drop_h.is_none_or(|h| lay.visits[v] * 168.0 <= h)).collect();

    let schedule = match &arm.exercise {
        Some(ex) => {
            record.adherence = adherence_u;
            match tr.source.schedule(model, ex, spec.weeks, adherence_u) {
                Ok(s) => s,
                Err(_) => {
                    record.status = Status::SolveFailed;
                    return record;
                }
            }
        }
        None => Schedule::empty(),
    };
    let times: Vec<f64> = observed.iter().map(|&v| t0 + lay.visits[v] * 168.0).collect();
    let rows = if times.is_empty() {
        vec![base.clone()]
    } else {
        match outputs_at(model, &ss, t0, &times, &schedule, &spec.solver) {
            Ok(r) => r,
            Err(_) => {
                record.status = Status::SolveFailed;
                return record;
            }
        }
    };
    // Non-model effects: on every scale the same fraction of the patient's baseline score,
    // subtracted from the modelled score. They add to the model's effect in points rather than
    // scaling it (the additivity assumption behind between-arm differences), so a natural course
    // in both arms leaves the exercise effect in points unchanged.
    let fractions: Vec<(f64, f64)> = arm
        .effects
        .iter()
        .zip(&z_effects)
        .map(|(e, z)| (((e.points + e.sd_points * z) / hamd_base.max(1.0)).clamp(-1.0, 0.95), e.onset_weeks))
        .collect();
    let improvement = |weeks: f64| fractions.iter().map(|(f, tau)| f * (1.0 - (-weeks / tau).exp())).sum::<f64>();
    for (s, (id, o, _)) in lay.scales.iter().enumerate() {
        for (k, &v) in observed.iter().enumerate() {
            let x = rows[k + 1][*o] - improvement(lay.visits[v]) * base[*o];
            record.values[lay.scale_at(s, v)] = rate(x, lay.scales[s].2, z_visits[s * nv + v], scale_max(id));
        }
    }
    for (k, &v) in observed.iter().enumerate() {
        record.values[lay.model_primary_at(v)] = rows[k + 1][po];
    }
    for (b, (_, o)) in lay.biomarkers.iter().enumerate() {
        for (k, &v) in observed.iter().enumerate() {
            record.values[lay.biomarker_at(b, v)] = rows[k + 1][*o];
        }
    }
    record.status = Status::Randomised;
    record
}

/// A cohort member outside a trial: drawn (no screening) and brought to its steady state.
pub(crate) struct Member {
    pub(crate) patient: crate::population::VirtualPatient,
    pub(crate) ss: SteadyState,
}

/// Steady states of the population's centre (depressed-phenotype and healthy), for warm starts.
pub(crate) fn centres(
    model: &CompiledModel,
    plan: &crate::population::PopulationPlan,
    spec: &crate::population::PopulationSpec,
    t0: f64,
    settings: &SolverSettings,
) -> Result<[Option<SteadyState>; 2], SolveError> {
    let mut out = [None, None];
    for (k, healthy) in [false, true].into_iter().enumerate() {
        if (healthy && spec.healthy_fraction == 0.0) || (!healthy && spec.healthy_fraction == 1.0) {
            continue;
        }
        out[k] = Some(steady_state_near(model, plan.centre(healthy), t0, periods(model), settings, None)?);
    }
    Ok(out)
}

/// Draw member `index` of a cohort and find its steady state.
pub(crate) fn member(
    model: &CompiledModel,
    plan: &crate::population::PopulationPlan,
    centres: &[Option<SteadyState>; 2],
    seed: u64,
    index: u64,
    t0: f64,
    settings: &SolverSettings,
) -> Result<Member, SolveError> {
    let mut rng = patient_rng(seed, index);
    let patient = plan.draw(&mut rng);
    let ss = steady_state_near(
        model,
        &patient.p,
        t0,
        periods(model),
        settings,
        centres[usize::from(patient.healthy)].as_ref(),
    )?;
    Ok(Member { patient, ss })
}

/// Value of output `o` at each of `times` (> t0) under `schedule`, starting from `ss`.
pub(crate) fn output_at(
    model: &CompiledModel,
    ss: &SteadyState,
    t0: f64,
    times: &[f64],
    schedule: &Schedule,
    settings: &SolverSettings,
    o: usize,
) -> Result<Vec<f64>, SolveError> {
    Ok(outputs_at(model, ss, t0, times, schedule, settings)?.into_iter().skip(1).map(|r| r[o]).collect())
}

/// Quantile `q` of sorted values (linear interpolation).
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let x = q * (sorted.len() - 1) as f64;
    let (i, f) = (x.floor() as usize, x.fract());
    if i + 1 < sorted.len() { sorted[i] * (1.0 - f) + sorted[i + 1] * f } else { sorted[i] }
}

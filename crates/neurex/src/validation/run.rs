//! The generic runner: simulate every arm a target file needs (each distinct arm once, on up to
//! `threads` threads), then form each target's comparison from the arms. Nothing here knows
//! any particular target.

use super::spec::{ArmSpec, Comparison, Reference, Role, Sample, Scale, Species, Stat, TargetSpec, parse_time};
use crate::error::Error;
use crate::protocol::Protocol;
use crate::simulation::{ProtocolRef, patient_values};
use crate::stress::{StressProtocol, StressRef, merge, shift};
use neurex_model::CompiledModel;
use neurex_solve::{DenseRecorder, Schedule, SolverSettings, SteadyState, simulate, steady_state_near};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// An arm with every default filled in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arm {
    /// Label.
    pub label: String,
    /// Phenotype.
    pub phenotype: String,
    /// Exercise protocol.
    pub protocol: Option<Protocol>,
    /// Start of the exercise protocol (h, whole days).
    pub exercise_start_h: f64,
    /// Stress schedule.
    pub stress: Option<StressProtocol>,
    /// Simulated hours.
    pub duration_h: f64,
    /// Output step (h).
    pub step_h: f64,
    /// Parameter overrides.
    pub parameters: BTreeMap<String, f64>,
}

impl Arm {
    fn key(&self) -> String {
        serde_json::to_string(self).expect("arms serialise")
    }
    fn steady_key(&self) -> String {
        serde_json::to_string(&(&self.phenotype, &self.parameters)).expect("serialises")
    }
}

fn default_phenotype(s: Species) -> &'static str {
    match s {
        Species::Human => "depressed",
        Species::Rat => "rat",
        Species::Mouse => "mouse",
    }
}

fn time_or(text: &Option<String>, default: f64) -> Result<f64, String> {
    match text {
        None => Ok(default),
        Some(t) => Ok(parse_time(t)?.unwrap_or(default)),
    }
}

fn resolve_arm(base: &ArmSpec, over: Option<&ArmSpec>, species: Species, is_control: bool) -> Result<Arm, String> {
    let pick = |f: fn(&ArmSpec) -> Option<String>| over.and_then(f).or_else(|| f(base));
    let protocol_ref = match over.and_then(|o| o.protocol.clone()) {
        Some(p) => Some(p),
        None if is_control => None,
        None => base.protocol.clone(),
    };
    let protocol = match protocol_ref {
        None => None,
        Some(ProtocolRef::Named(n)) if n == "none" => None,
        Some(ProtocolRef::Named(n)) => Some(Protocol::resolve(&n).map_err(|e| e.to_string())?),
        Some(ProtocolRef::Inline(p)) => {
            p.validate("(inline)").map_err(|e| e.to_string())?;
            Some(p)
        }
    };
    let attendance = over.and_then(|o| o.attendance).or(base.attendance).unwrap_or(1.0);
    if !(attendance > 0.0 && attendance <= 1.0) {
        return Err(format!("attendance = {attendance}: a share of sessions in (0, 1]"));
    }
    let protocol = protocol.map(|mut p| {
        p.adherence *= attendance;
        p
    });
    let stress = match over.and_then(|o| o.stress.clone()).or_else(|| base.stress.clone()) {
        None => None,
        Some(StressRef::Named(n)) if n == "none" => None,
        Some(r) => {
            let s = StressProtocol::resolve(&r).map_err(|e| e.to_string())?;
            s.validate().map_err(|e| e.to_string())?;
            Some(s)
        }
    };
    let mut parameters = base.parameters.clone();
    if let Some(o) = over {
        parameters.extend(o.parameters.iter().map(|(k, v)| (k.clone(), *v)));
    }
    let duration_h = time_or(&pick(|a| a.duration.clone()), 12.0 * 168.0)?;
    let step_h = time_or(&pick(|a| a.step.clone()), 1.0)?;
    if !(duration_h > 0.0 && step_h > 0.0) {
        return Err("duration and step must be positive".into());
    }
    let label =
        pick(|a| a.label.clone()).unwrap_or_else(|| if is_control { "control".into() } else { "treatment".into() });
    Ok(Arm {
        label,
        phenotype: pick(|a| a.phenotype.clone()).unwrap_or_else(|| default_phenotype(species).to_string()),
        protocol,
        exercise_start_h: (time_or(&pick(|a| a.exercise_start.clone()), 0.0)? / 24.0).round() * 24.0,
        stress,
        duration_h,
        step_h,
        parameters,
    })
}

/// A simulated arm: output times and rows, and the values it ran with.
#[derive(Debug, Clone)]
pub struct Series {
    /// Output times (h).
    pub times: Vec<f64>,
    /// One row per time.
    pub rows: Vec<Vec<f64>>,
    /// Model values (parameters) of the run.
    pub p: Vec<f64>,
}

/// Points of a plot: the comparison over time, and where the target samples it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// Times (h).
    pub t_h: Vec<f64>,
    /// The comparison at each time.
    pub y: Vec<f64>,
    /// Time (h) the target reads.
    pub sample_h: f64,
}

/// One target's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetResult {
    /// Entry id.
    pub id: String,
    /// Registry ids.
    pub evidence: Vec<String>,
    /// Calibration or validation.
    pub role: Role,
    /// Species.
    pub species: Species,
    /// Quantity.
    pub quantity: String,
    /// Comparison label.
    pub comparison: String,
    /// Unit.
    pub unit: String,
    /// Published value.
    pub published: f64,
    /// Acceptance band.
    pub band: [f64; 2],
    /// Where the band comes from.
    pub band_source: String,
    /// Confidence grade.
    pub confidence: String,
    /// Simulated value (NaN if the run failed).
    pub simulated: f64,
    /// Inside the band.
    pub passed: bool,
    /// Set by hand to this row in the reference model.
    pub informed_model: bool,
    /// Disagreement id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disagreement: Option<String>,
    /// Likely reason for a miss.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_missed: Option<String>,
    /// Notes.
    pub notes: String,
    /// Why the experiment could not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The comparison over time, for plots.
    #[serde(skip)]
    pub curve: Option<Curve>,
}

/// Totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// Passed.
    pub passed: usize,
    /// Run.
    pub total: usize,
}

/// All outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// Model id.
    pub model: String,
    /// Targets passed.
    pub passed: usize,
    /// Targets run.
    pub total: usize,
    /// Calibration targets.
    pub calibration: Tally,
    /// Validation-only targets.
    pub validation: Tally,
    /// One per target, in file order.
    pub results: Vec<TargetResult>,
}

/// Options of a validation run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Parameter values overriding the model's in every arm (calibration candidates).
    pub overrides: BTreeMap<String, f64>,
    /// Worker threads (default 2).
    pub threads: usize,
    /// Integrator settings.
    pub solver: SolverSettings,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { overrides: BTreeMap::new(), threads: 2, solver: SolverSettings::default() }
    }
}

/// Runs target files against one compiled model, caching steady states across runs (so that a
/// calibration's repeated runs restart Newton from the previous steady state).
pub struct Runner<'m> {
    model: &'m CompiledModel,
    near: Mutex<HashMap<String, SteadyState>>,
}

struct Plan {
    treatment: Arm,
    control: Option<Arm>,
    arms: Vec<Arm>,
}

fn plan(t: &TargetSpec) -> Result<Plan, String> {
    let treatment = resolve_arm(&t.treatment, None, t.species, false)?;
    let needs_control = !matches!(
        t.comparison,
        Comparison::Value | Comparison::Ratio | Comparison::Correlation | Comparison::FractionAbove
    ) && t.reference == Reference::Control;
    let control = if needs_control || t.control.is_some() {
        Some(resolve_arm(&t.treatment, Some(t.control.as_ref().unwrap_or(&ArmSpec::default())), t.species, true)?)
    } else {
        None
    };
    let arms = t.arms.iter().map(|a| resolve_arm(&t.treatment, Some(a), t.species, false)).collect::<Result<_, _>>()?;
    Ok(Plan { treatment, control, arms })
}

impl<'m> Runner<'m> {
    /// A runner for `model`.
    pub fn new(model: &'m CompiledModel) -> Self {
        Runner { model, near: Mutex::new(HashMap::new()) }
    }

    fn values(&self, arm: &Arm, overrides: &BTreeMap<String, f64>) -> Result<Vec<f64>, Error> {
        let mut all = overrides.clone();
        all.extend(arm.parameters.iter().map(|(k, v)| (k.clone(), *v)));
        patient_values(self.model, &arm.phenotype, &all)
    }

    fn steady(&self, arm: &Arm, opts: &RunOptions) -> Result<SteadyState, String> {
        let p = self.values(arm, &opts.overrides).map_err(|e| e.to_string())?;
        let key = arm.steady_key();
        let near = self.near.lock().expect("not poisoned").get(&key).cloned();
        let m = self.model;
        let ss = steady_state_near(m, &p, 0.0, m.equilibration_periods, &opts.solver, near.as_ref())
            .map_err(|e| format!("steady state of `{}`: {e}", arm.phenotype))?;
        self.near.lock().expect("not poisoned").insert(key, ss.clone());
        Ok(ss)
    }

    fn simulate_arm(&self, arm: &Arm, ss: &SteadyState, opts: &RunOptions) -> Result<Series, String> {
        let m = self.model;
        let weeks = arm.duration_h / 168.0;
        let mut schedule = Schedule::empty();
        if let Some(p) = &arm.protocol {
            let rest = (arm.duration_h - arm.exercise_start_h) / 168.0;
            if rest > 0.0 {
                schedule = shift(&p.schedule(m, rest).map_err(|e| e.to_string())?, arm.exercise_start_h);
            }
        }
        if let Some(s) = &arm.stress {
            schedule = merge(&schedule, &s.schedule(m, weeks).map_err(|e| e.to_string())?);
        }
        let n = (arm.duration_h / arm.step_h).round() as usize;
        let times: Vec<f64> = (0..=n).map(|k| (k as f64 * arm.step_h).min(arm.duration_h)).collect();
        let mut rec = DenseRecorder::default();
        simulate(m, &ss.p, &ss.y, 0.0, &times, &schedule, &opts.solver, &mut rec)
            .map_err(|e| format!("arm `{}`: {e}", arm.label))?;
        Ok(Series { times: rec.times, rows: rec.rows, p: ss.p.clone() })
    }

    /// Run `targets` and compare each with its published value.
    pub fn run(&self, targets: &[TargetSpec], opts: &RunOptions) -> ValidationReport {
        let plans: Vec<Result<Plan, String>> = targets.iter().map(plan).collect();
        // Every distinct arm, simulated once.
        let mut arms: BTreeMap<String, Arm> = BTreeMap::new();
        for p in plans.iter().flatten() {
            for a in std::iter::once(&p.treatment).chain(&p.control).chain(&p.arms) {
                arms.entry(a.key()).or_insert_with(|| a.clone());
            }
        }
        // Steady states first (one per phenotype and override set), then the arms.
        let mut steady_arms: BTreeMap<String, Arm> = BTreeMap::new();
        for a in arms.values() {
            steady_arms.entry(a.steady_key()).or_insert_with(|| a.clone());
        }
        let steady: HashMap<String, Result<SteadyState, String>> =
            parallel_map(steady_arms.into_iter().collect(), opts.threads, |a| self.steady(a, opts));
        let series: HashMap<String, Result<Arc<Series>, String>> =
            parallel_map(arms.into_iter().collect(), opts.threads, |a| {
                let ss = steady.get(&a.steady_key()).expect("planned").clone()?;
                self.simulate_arm(a, &ss, opts).map(Arc::new)
            });
        let results: Vec<TargetResult> = targets
            .iter()
            .zip(plans)
            .map(|(t, p)| {
                let outcome = p.and_then(|p| {
                    let get = |a: &Arm| series.get(&a.key()).expect("simulated").clone();
                    let tr = get(&p.treatment)?;
                    let ctl = p.control.as_ref().map(get).transpose()?;
                    let arms = p.arms.iter().map(get).collect::<Result<Vec<_>, _>>()?;
                    evaluate(self.model, t, &tr, ctl.as_deref(), &arms)
                });
                let (simulated, curve, error) = match outcome {
                    Ok((v, c)) => (v, c, None),
                    Err(e) => (f64::NAN, None, Some(e)),
                };
                let lo = t.band[0].min(t.band[1]);
                let hi = t.band[0].max(t.band[1]);
                TargetResult {
                    id: t.id.clone(),
                    evidence: t.evidence_ids(),
                    role: t.role,
                    species: t.species,
                    quantity: t.quantity.clone(),
                    comparison: t.comparison.label().to_string(),
                    unit: t.unit.clone(),
                    published: t.published,
                    band: [lo, hi],
                    band_source: t.band_source.clone(),
                    confidence: t.confidence.clone(),
                    simulated,
                    passed: simulated.is_finite() && simulated >= lo && simulated <= hi,
                    informed_model: t.informed_model,
                    disagreement: t.disagreement.clone(),
                    if_missed: t.if_missed.clone(),
                    notes: t.notes.clone(),
                    error,
                    curve,
                }
            })
            .collect();
        let tally = |role: Option<Role>| {
            let rs = results.iter().filter(|r| role.is_none_or(|x| r.role == x));
            let (mut passed, mut total) = (0, 0);
            for r in rs {
                total += 1;
                passed += usize::from(r.passed);
            }
            Tally { passed, total }
        };
        let all = tally(None);
        ValidationReport {
            model: self.model.id.clone(),
            passed: all.passed,
            total: all.total,
            calibration: tally(Some(Role::Calibration)),
            validation: tally(Some(Role::Validation)),
            results,
        }
    }
}

/// Map `f` over keyed items on up to `threads` scoped threads.
fn parallel_map<T: Sync, R: Send>(
    items: Vec<(String, T)>,
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> HashMap<String, R> {
    let next = Mutex::new(0usize);
    let out = Mutex::new(HashMap::new());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().expect("not poisoned");
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some((k, item)) = items.get(i) else { break };
                    let r = f(item);
                    out.lock().expect("not poisoned").insert(k.clone(), r);
                }
            });
        }
    });
    out.into_inner().expect("not poisoned")
}

fn column(model: &CompiledModel, id: &str) -> Result<usize, String> {
    model.output_index(id).ok_or_else(|| format!("the model has no output `{id}`"))
}

fn interp(s: &Series, j: usize, t: f64) -> f64 {
    let ts = &s.times;
    match ts.iter().position(|&x| x >= t - 1e-9) {
        None => s.rows.last().map_or(f64::NAN, |r| r[j]),
        Some(0) => s.rows[0][j],
        Some(i) if (ts[i] - t).abs() < 1e-9 => s.rows[i][j],
        Some(i) => {
            let w = (t - ts[i - 1]) / (ts[i] - ts[i - 1]);
            s.rows[i - 1][j] * (1.0 - w) + s.rows[i][j] * w
        }
    }
}

/// The sample's time (h) in a series: `at`, or the window's start, or the end.
fn sample_time(s: &Series, sample: &Sample) -> Result<f64, String> {
    let end = *s.times.last().ok_or("empty series")?;
    if let Some(w) = &sample.window {
        return Ok(parse_time(&w[0])?.unwrap_or(end));
    }
    Ok(match &sample.at {
        None => end,
        Some(a) => parse_time(a)?.unwrap_or(end),
    })
}

fn window(s: &Series, sample: &Sample) -> Result<(f64, f64), String> {
    let end = *s.times.last().ok_or("empty series")?;
    let w = sample.window.as_ref().ok_or("this comparison needs `sample.window`")?;
    Ok((parse_time(&w[0])?.unwrap_or(end), parse_time(&w[1])?.unwrap_or(end)))
}

fn stat(s: &Series, j: usize, sample: &Sample) -> Result<f64, String> {
    if sample.stat == Stat::Value {
        let t = sample_time(s, sample)?;
        return Ok(interp(s, j, t));
    }
    let (a, b) = window(s, sample)?;
    let vals: Vec<f64> =
        s.times.iter().zip(&s.rows).filter(|(t, _)| **t >= a - 1e-9 && **t <= b + 1e-9).map(|(_, r)| r[j]).collect();
    if vals.is_empty() {
        return Err(format!("no output times in the window [{a}, {b}] h"));
    }
    Ok(match sample.stat {
        Stat::Mean => vals.iter().sum::<f64>() / vals.len() as f64,
        Stat::Max => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Stat::Min => vals.iter().copied().fold(f64::INFINITY, f64::min),
        Stat::Value => unreachable!("handled above"),
    })
}

fn pointwise(c: Comparison, t: &TargetSpec, x: f64, r: f64) -> Result<f64, String> {
    Ok(match c {
        Comparison::Difference => x - r,
        Comparison::PercentChange => 100.0 * (x / r - 1.0),
        Comparison::FoldChange | Comparison::Ratio => x / r,
        Comparison::Smd => {
            let sd = t.sd.ok_or("an smd needs `sd`")?;
            match t.scale {
                Scale::Linear => (x - r) / sd,
                Scale::Log => (x.ln() - r.ln()) / sd,
            }
        }
        _ => x,
    })
}

/// Standard normal upper tail (Abramowitz & Stegun 7.1.26 for erfc; |error| < 1.5e-7).
fn normal_upper_tail(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    if z >= 0.0 { 0.5 * erfc } else { 1.0 - 0.5 * erfc }
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    sab / (saa * sbb).sqrt()
}

fn downsample(curve: Curve) -> Curve {
    let n = curve.t_h.len();
    if n <= 600 {
        return curve;
    }
    let k = n.div_ceil(600);
    let keep = |v: &[f64]| v.iter().step_by(k).copied().collect::<Vec<_>>();
    Curve { t_h: keep(&curve.t_h), y: keep(&curve.y), sample_h: curve.sample_h }
}

/// One target's simulated number and its curve.
fn evaluate(
    model: &CompiledModel,
    t: &TargetSpec,
    tr: &Series,
    ctl: Option<&Series>,
    arms: &[Arc<Series>],
) -> Result<(f64, Option<Curve>), String> {
    let c = t.comparison;
    match c {
        Comparison::Value
        | Comparison::Difference
        | Comparison::PercentChange
        | Comparison::FoldChange
        | Comparison::Smd
        | Comparison::Ratio => {
            let j = column(model, &t.readout)?;
            let x = stat(tr, j, &t.sample)?;
            // The reference series and the fixed reference value, if within-subject.
            let (r, ref_series, pre_value, jr) = if c == Comparison::Ratio {
                let jb = column(model, t.readout_b.as_deref().ok_or("a ratio needs `readout_b`")?)?;
                (stat(tr, jb, &t.sample)?, Some(tr), None, jb)
            } else if c == Comparison::Value {
                (0.0, None, None, j)
            } else if t.reference == Reference::Pre {
                let pre = t.pre.as_ref().ok_or("reference = \"pre\" needs `pre`")?;
                let v = stat(tr, j, pre)?;
                (v, None, Some(v), j)
            } else {
                let cs = ctl.ok_or("no control arm")?;
                (stat(cs, j, &t.sample)?, Some(cs), None, j)
            };
            let value = if c == Comparison::Value { x } else { pointwise(c, t, x, r)? };
            let y: Vec<f64> = tr
                .times
                .iter()
                .enumerate()
                .map(|(i, &time)| {
                    let xv = tr.rows[i][j];
                    let rv = match (pre_value, ref_series) {
                        (Some(v), _) => v,
                        (None, Some(rs)) => interp(rs, jr, time),
                        (None, None) => 0.0,
                    };
                    if c == Comparison::Value { xv } else { pointwise(c, t, xv, rv).unwrap_or(f64::NAN) }
                })
                .collect();
            let curve = Curve { t_h: tr.times.clone(), y, sample_h: sample_time(tr, &t.sample)? };
            Ok((value, Some(downsample(curve))))
        }
        Comparison::PeakTime | Comparison::OnsetTime => {
            let j = column(model, &t.readout)?;
            let cs = ctl.ok_or("no control arm")?;
            let d: Vec<f64> =
                tr.times.iter().enumerate().map(|(i, &time)| tr.rows[i][j] - interp(cs, j, time)).collect();
            let (a, b) = match (&t.sample.window, c) {
                (Some(_), _) => window(tr, &t.sample)?,
                (None, Comparison::OnsetTime) => (0.0, *tr.times.last().unwrap_or(&0.0)),
                (None, _) => return Err("time to peak needs `sample.window`".into()),
            };
            let inside = |i: &usize| tr.times[*i] >= a - 1e-9 && tr.times[*i] <= b + 1e-9;
            let value = if c == Comparison::PeakTime {
                let i = (0..d.len())
                    .filter(inside)
                    .max_by(|&x, &y| d[x].total_cmp(&d[y]))
                    .ok_or("no output times in the window")?;
                tr.times[i] - a
            } else {
                let thr = t.threshold.ok_or("onset_time needs `threshold`")?;
                (0..d.len())
                    .filter(inside)
                    .find(|&i| d[i].abs() > thr)
                    .map_or(f64::INFINITY, |i| (tr.times[i] - a) / 24.0)
            };
            let curve = Curve { t_h: tr.times.clone(), y: d, sample_h: a };
            Ok((value, Some(downsample(curve))))
        }
        Comparison::Correlation => {
            let ja = column(model, &t.readout)?;
            let jb = column(model, t.readout_b.as_deref().ok_or("a correlation needs `readout_b`")?)?;
            if arms.len() < 3 {
                return Err("a correlation needs at least 3 `arms`".into());
            }
            let a = arms.iter().map(|s| stat(s, ja, &t.sample)).collect::<Result<Vec<_>, _>>()?;
            let b = arms.iter().map(|s| stat(s, jb, &t.sample)).collect::<Result<Vec<_>, _>>()?;
            Ok((pearson(&a, &b), None))
        }
        Comparison::Share => {
            if t.readouts.is_empty() || t.readouts.len() != t.weights.len() {
                return Err("a share needs `readouts` and as many `weights`".into());
            }
            let cs = ctl.ok_or("no control arm")?;
            let mut parts = Vec::new();
            for (r, w) in t.readouts.iter().zip(&t.weights) {
                let j = column(model, r)?;
                let wi = model.value_index(w).ok_or_else(|| format!("`{w}` is not a model parameter"))?;
                parts.push(tr.p[wi] * (stat(tr, j, &t.sample)? - stat(cs, j, &t.sample)?));
            }
            let total: f64 = parts.iter().sum();
            Ok((parts[0] / total, None))
        }
        Comparison::FractionAbove => {
            let j = column(model, &t.readout)?;
            let m = stat(tr, j, &t.sample)?;
            let sd = t.sd.ok_or("fraction_above needs `sd` (log scale)")?;
            let thr = t.threshold.ok_or("fraction_above needs `threshold`")?;
            Ok((normal_upper_tail((thr.ln() - m.ln()) / sd), None))
        }
    }
}

//! Pre-equilibration: a patient starts from the steady state of its phenotype (or, for a
//! model with a periodic forcing such as the circadian rhythm, from its periodic steady
//! state at the same phase), not from arbitrary initial values.
//!
//! Slow states (hippocampal volume, gland masses) relax over months, so plain forward
//! integration needs years of simulated time. Instead we solve Φ(y) = y, where Φ maps the state
//! at t0 − P to the state one period P later, by Newton's method with a finite-difference
//! Jacobian of Φ (a shooting method for periodic orbits; Keller 1968, and the usual practice in
//! circadian modelling). A few periods of plain integration first let the fast states settle;
//! if Newton fails, we fall back to plain integration.

use crate::engine::simulate;
use crate::recorder::Recorder;
use crate::schedule::Schedule;
use crate::settings::{SolveError, SolverSettings};
use nalgebra::{DMatrix, DVector};
use neurex_model::CompiledModel;
use std::sync::Arc;

/// A steady state found by pre-equilibration.
#[derive(Debug, Clone)]
pub struct SteadyState {
    /// States at t0 (same phase of the forcing as t0).
    pub y: Vec<f64>,
    /// Values after initial assignments.
    pub p: Vec<f64>,
    /// Periods simulated (including those used for the Jacobian).
    pub periods: u32,
    /// Largest change of any state over one period, relative to its tolerance scale (≤ 1).
    pub residual: f64,
    /// LU factors of (∂Φ/∂y − I) at this state, reusable as a chord Jacobian for nearby
    /// parameter sets (virtual patients).
    jacobian: Option<Arc<nalgebra::LU<f64, nalgebra::Dyn, nalgebra::Dyn>>>,
}

impl PartialEq for SteadyState {
    fn eq(&self, other: &Self) -> bool {
        self.y == other.y && self.p == other.p
    }
}

struct Nothing;
impl Recorder for Nothing {
    fn record(&mut self, _t: f64, _values: &[f64]) {}
}

/// Relative change per period below which a state counts as steady: a hundredth of the
/// simulation's own relative tolerance (1e-8 at the default 1e-6), so that the drift left over
/// a whole simulation stays well inside what the simulation itself resolves.
fn steady_rtol(settings: &SolverSettings) -> f64 {
    (settings.rtol * 1e-2).clamp(1e-10, 1e-6)
}

fn inner_settings(settings: &SolverSettings) -> SolverSettings {
    // The period map must be much more accurate than the steadiness asked of it.
    SolverSettings {
        rtol: (settings.rtol * 1e-3).clamp(1e-11, 1e-7),
        atol: (settings.atol * 1e-3).clamp(1e-14, 1e-10),
        ..settings.clone()
    }
}

struct PeriodMap<'a> {
    model: &'a CompiledModel,
    p: Vec<f64>,
    t_start: f64,
    period: f64,
    settings: SolverSettings,
    steady_rtol: f64,
    calls: u32,
}

impl PeriodMap<'_> {
    fn apply(&mut self, y: &[f64]) -> Result<Vec<f64>, SolveError> {
        self.calls += 1;
        let t1 = self.t_start + self.period;
        let (_, fin) =
            simulate(self.model, &self.p, y, self.t_start, &[t1], &Schedule::empty(), &self.settings, &mut Nothing)?;
        Ok(fin.y)
    }

    /// (largest scaled change, its index, root-mean-square scaled change); a state is steady when
    /// its scaled change is at most 1.
    fn residual(&self, y: &[f64], fy: &[f64], atol: f64) -> (f64, usize, f64) {
        let mut worst = (0.0, 0);
        let mut sum = 0.0;
        for (i, (a, b)) in y.iter().zip(fy).enumerate() {
            let r = (a - b).abs() / (atol + self.steady_rtol * a.abs().max(b.abs()));
            let r = if r.is_nan() { f64::INFINITY } else { r };
            sum += r * r;
            if r > worst.0 {
                worst = (r, i);
            }
        }
        (worst.0, worst.1, (sum / y.len().max(1) as f64).sqrt())
    }

    fn jacobian(
        &mut self,
        y: &[f64],
        fy: &[f64],
    ) -> Result<nalgebra::LU<f64, nalgebra::Dyn, nalgebra::Dyn>, SolveError> {
        let n = y.len();
        let mut j = DMatrix::<f64>::zeros(n, n);
        for c in 0..n {
            let h = 1e-6 * y[c].abs().max(1e-3);
            let mut yp = y.to_vec();
            yp[c] += h;
            let fp = self.apply(&yp)?;
            for r in 0..n {
                j[(r, c)] = (fp[r] - fy[r]) / h;
            }
            j[(c, c)] -= 1.0;
        }
        Ok(j.lu())
    }
}

/// Find the (periodic) steady state at `t0` for values `p`.
///
/// Stops when no state changes over one period by more than `r·|y| + atol`, with `r` a
/// hundredth of `settings.rtol` (1e-8 at the default) within 1e-10 … 1e-6. Uses at most
/// `max_periods` periods of plain integration if Newton's method does not converge.
pub fn steady_state(
    model: &CompiledModel,
    p: &[f64],
    t0: f64,
    max_periods: u32,
    settings: &SolverSettings,
) -> Result<SteadyState, SolveError> {
    steady_state_near(model, p, t0, max_periods, settings, None)
}

/// Like [`steady_state`], starting from a nearby steady state (e.g. the phenotype's, for a
/// virtual patient with slightly different parameters) and reusing its Jacobian, which needs
/// only a few period integrations.
pub fn steady_state_near(
    model: &CompiledModel,
    p: &[f64],
    t0: f64,
    max_periods: u32,
    settings: &SolverSettings,
    near: Option<&SteadyState>,
) -> Result<SteadyState, SolveError> {
    let period = model.period.unwrap_or(24.0);
    let inner = inner_settings(settings);
    let mut p = p.to_vec();
    let mut ws = model.workspace();
    // Initial assignments may change values; the period map uses the values they produce.
    let y_init = model.initial_state(t0, &mut p, &mut ws);
    let mut map = PeriodMap {
        model,
        p: p.clone(),
        t_start: t0 - period,
        period,
        settings: inner,
        steady_rtol: steady_rtol(settings),
        calls: 0,
    };
    let n = y_init.len();
    if n == 0 {
        return Ok(SteadyState { y: Vec::new(), p, periods: 0, residual: 0.0, jacobian: None });
    }
    // No pre-equilibration asked for (SBML models start from their initial values).
    if max_periods == 0 {
        return Ok(SteadyState { y: y_init, p, periods: 0, residual: 0.0, jacobian: None });
    }
    // Start: a nearby steady state, or a few settling periods from the initial values.
    let mut y = match near {
        Some(s) if s.y.len() == n => s.y.clone(),
        _ => {
            let mut y = y_init.clone();
            for _ in 0..max_periods.min(8) {
                y = map.apply(&y)?;
            }
            y
        }
    };
    let mut jac = near.and_then(|s| s.jacobian.clone());
    // Whether `jac` was computed at the current iterate (a stale one is refreshed before giving up).
    let mut jac_fresh = false;
    let mut fy = map.apply(&y)?;
    let mut res = map.residual(&y, &fy, settings.atol);
    let mut newton_ok = true;
    let mut iterations = 0;
    while res.0 > 1.0 {
        iterations += 1;
        if iterations > 12 || map.calls > max_periods.max(4 * n as u32 + 40) {
            newton_ok = false;
            break;
        }
        let lu = match &jac {
            Some(lu) => lu.clone(),
            None => {
                let lu = Arc::new(map.jacobian(&y, &fy)?);
                jac = Some(lu.clone());
                jac_fresh = true;
                lu
            }
        };
        // Newton step on F(y) = Φ(y) − y:  (∂Φ/∂y − I) Δ = −F.
        let f = DVector::from_iterator(n, fy.iter().zip(&y).map(|(a, b)| a - b));
        let Some(delta) = lu.solve(&(-f)) else {
            newton_ok = false;
            break;
        };
        // Damped update: halve until the residual falls.
        let mut lambda = 1.0;
        let mut accepted = false;
        for _ in 0..6 {
            let trial: Vec<f64> = y.iter().zip(delta.iter()).map(|(a, d)| a + lambda * d).collect();
            if trial.iter().all(|v| v.is_finite())
                && let Ok(ft) = map.apply(&trial)
            {
                let rt = map.residual(&trial, &ft, settings.atol);
                if rt.2 < res.2 || rt.0 <= 1.0 {
                    y = trial;
                    fy = ft;
                    res = rt;
                    accepted = true;
                    jac_fresh = false;
                    break;
                }
            }
            lambda *= 0.5;
        }
        if !accepted {
            if !jac_fresh {
                // The borrowed Jacobian was not good enough here: build our own.
                jac = None;
                continue;
            }
            newton_ok = false;
            break;
        }
    }
    if !newton_ok {
        // Fall back to plain integration from where Newton got.
        let mut periods = 0;
        while res.0 > 1.0 && periods < max_periods {
            y = fy;
            fy = map.apply(&y)?;
            res = map.residual(&y, &fy, settings.atol);
            periods += 1;
        }
        if res.0 > 1.0 {
            return Err(SolveError::NoSteadyState {
                periods: map.calls,
                variable: model.states[res.1].id.clone(),
                change: res.0 * map.steady_rtol,
            });
        }
    }
    // Φ(y) is the state one period later; at a periodic steady state either is the state at t0.
    Ok(SteadyState { y: fy, p, periods: map.calls, residual: res.0, jacobian: jac })
}

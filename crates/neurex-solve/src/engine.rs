//! The solve loop: integrate between known stops (input changes, delayed events, the end),
//! locate roots inside steps, and restart the integrator from scratch after anything that
//! changes the right-hand side or the state, so that no BDF history crosses a discontinuity.

use crate::events::EventState;
use crate::lu::DenseLu;
use crate::recorder::Recorder;
use crate::schedule::Schedule;
use crate::settings::{SolveError, SolveReport, SolverSettings};
use diffsol::{FaerContext, FaerMat, FaerVec, OdeBuilder, OdeSolverMethod, OdeSolverStopReason, Vector, VectorCommon};
use neurex_model::{CompiledModel, Workspace};
use std::cell::RefCell;

struct Shared {
    p: Vec<f64>,
    y0: Vec<f64>,
    ws: Workspace,
    rhs: usize,
    jvp: usize,
    jac: JacobianCache,
}

/// diffsol builds the Newton matrix from Jacobian-vector products with the unit vectors, one
/// column at a time, at one `(t, y)`. When native code can compute the whole Jacobian in one
/// pass (sharing every value and skipping structural zeros), the first unit-vector product at a
/// new point fills this cache and the others read their column from it.
struct JacobianCache {
    /// Column-major `n × n`; empty if the model has no native Jacobian.
    jac: Vec<f64>,
    t: f64,
    y: Vec<f64>,
    valid: bool,
    evaluations: usize,
    /// The column after the last one read.
    next: usize,
}

impl JacobianCache {
    fn new(model: &CompiledModel, n: usize) -> Self {
        // Models without a native Jacobian keep the column-by-column products.
        let jac = if model.has_native_jacobian() { vec![0.0; n * n] } else { Vec::new() };
        JacobianCache { jac, t: f64::NAN, y: vec![0.0; n], valid: false, evaluations: 0, next: 0 }
    }

    /// Column `c` of the Jacobian at `(t, x)` into `out`, if `v` is the unit vector `e_c` and a
    /// native Jacobian exists.
    fn column(&mut self, model: &CompiledModel, t: f64, x: &[f64], p: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        if self.jac.is_empty() {
            return false;
        }
        let Some(c) = unit_index(v, self.next) else { return false };
        self.next = c + 1;
        // `==` on every element without stopping at the first difference, so that it vectorises.
        let same_y = self.y.len() == x.len() && self.y.iter().zip(x).fold(true, |same, (a, b)| same & (a == b));
        if !(self.valid && self.t == t && same_y) {
            model.jacobian(t, x, p, &mut self.jac);
            self.t = t;
            self.y.copy_from_slice(x);
            self.valid = true;
            self.evaluations += 1;
        }
        let n = x.len();
        out.copy_from_slice(&self.jac[c * n..(c + 1) * n]);
        true
    }
}

/// `Some(c)` if `v` is the unit vector `e_c`; `guess` is the likely `c` (diffsol asks for the
/// columns in order).
fn unit_index(v: &[f64], guess: usize) -> Option<usize> {
    if v.get(guess) == Some(&1.0) && v.iter().fold(0, |count, &x| count + usize::from(x != 0.0)) == 1 {
        return Some(guess);
    }
    let mut found = None;
    for (i, &x) in v.iter().enumerate() {
        if x == 0.0 {
            continue;
        }
        if x != 1.0 || found.is_some() {
            return None;
        }
        found = Some(i);
    }
    found
}

/// The state at the end of a solve.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalState {
    /// Time reached.
    pub t: f64,
    /// States.
    pub y: Vec<f64>,
    /// Values (may differ from the start if events or inputs changed them).
    pub p: Vec<f64>,
}

fn integrator_error(t: f64, e: impl std::fmt::Display) -> SolveError {
    SolveError::Integrator { t, message: e.to_string() }
}

/// Simulate `model` from `(t0, y0, p)` and report outputs at `times` (non-decreasing, ≥ t0).
///
/// Outputs at a time where something changes (an input, an event) show the values after the
/// change. Returns what the solve did and the final state.
#[allow(clippy::too_many_arguments)]
pub fn simulate(
    model: &CompiledModel,
    p: &[f64],
    y0: &[f64],
    t0: f64,
    times: &[f64],
    schedule: &Schedule,
    settings: &SolverSettings,
    recorder: &mut dyn Recorder,
) -> Result<(SolveReport, FinalState), SolveError> {
    settings.validate()?;
    check_times(t0, times)?;
    let n = model.states.len();
    // diffsol needs at least one state; a model of pure rules and events gets an idle one.
    let dim = n.max(1);
    let jac = JacobianCache::new(model, n);
    let shared = RefCell::new(Shared { p: p.to_vec(), y0: vec![0.0; dim], ws: model.workspace(), rhs: 0, jvp: 0, jac });
    let nroots = model.n_roots.max(1);
    let mut problem = OdeBuilder::<FaerMat<f64>>::new()
        .t0(t0)
        .rtol(settings.rtol)
        .atol(vec![settings.atol; dim])
        .rhs_implicit(
            |x: &[f64], _p: &[f64], t: f64, dy: &mut [f64]| {
                let s = &mut *shared.borrow_mut();
                s.rhs += 1;
                if n == 0 {
                    dy[0] = 0.0;
                } else {
                    model.rhs(t, x, &s.p, dy, &mut s.ws);
                }
            },
            |x: &[f64], _p: &[f64], t: f64, v: &[f64], out: &mut [f64]| {
                let s = &mut *shared.borrow_mut();
                s.jvp += 1;
                crate::lu::note_jacobian_product();
                if n == 0 {
                    out[0] = 0.0;
                } else if !s.jac.column(model, t, x, &s.p, v, out) {
                    model.jvp(t, x, &s.p, v, out, &mut s.ws);
                }
            },
        )
        .init(|_p: &[f64], _t: f64, y: &mut [f64]| y.copy_from_slice(&shared.borrow().y0), dim)
        .root(
            |x: &[f64], _p: &[f64], t: f64, g: &mut [f64]| {
                if model.n_roots == 0 {
                    g[0] = 1.0;
                } else {
                    let s = &mut *shared.borrow_mut();
                    model.roots(t, &x[..n], &s.p, g, &mut s.ws);
                }
            },
            nroots,
        )
        .build()
        .map_err(|e| integrator_error(t0, e))?;

    // diffsol counts Newton failures cumulatively over a solver's life (default limit 50): in a
    // months-long segment an occasional failure (healed by a Jacobian refresh and a smaller step)
    // is normal, so the limit is raised; real failures still end in a too-small step size.
    problem.ode_options.max_nonlinear_solver_failures = 100_000;
    let mut report = SolveReport::default();
    let mut t = t0;
    let mut y = y0.to_vec();
    y.resize(dim, 0.0);
    let mut p = p.to_vec();
    let mut events = EventState::new(model);
    let changes = schedule.changes();
    let mut ci = 0;
    let mut oi = 0;
    let t_end = times.last().copied().unwrap_or(t0).max(t0);
    let mut obs = vec![0.0; model.outputs.len()];
    let mut ws = model.workspace();
    let mut probe: Option<(f64, Vec<f64>)> = None;
    // Interpolated states at output times.
    let mut yi = FaerVec::<f64>::zeros(dim, FaerContext::default());
    let tol = |t: f64| 1e-12 * t.abs().max(1.0);
    // Record outputs before `until` (and at it, if `inclusive`) by interpolation in the last step.
    macro_rules! emit_until {
        ($solver:expr, $until:expr, $inclusive:expr) => {{
            let until: f64 = $until;
            while oi < times.len() && (times[oi] < until - tol(until) || ($inclusive && times[oi] <= until)) {
                let to = times[oi];
                $solver.interpolate_inplace(to, &mut yi).map_err(|e| integrator_error(to, e))?;
                model.observe(to, &yi.inner().col_as_slice(0)[..n], &p, &mut obs, &mut ws);
                recorder.record(to, &obs);
                oi += 1;
            }
        }};
    }

    loop {
        while ci < changes.len() && changes[ci].t <= t + tol(t) {
            for &(i, v) in &changes[ci].set {
                p[i] = v;
            }
            ci += 1;
        }
        let pr = probe.take();
        report.events_executed += events.process(
            model,
            t,
            &mut y[..n],
            &mut p,
            &mut ws,
            settings,
            recorder,
            pr.as_ref().map(|(tp, yp)| (*tp, &yp[..n])),
        )?;
        check_finite(model, t, &y[..n])?;
        while oi < times.len() && times[oi] <= t + tol(t) {
            model.observe(t, &y[..n], &p, &mut obs, &mut ws);
            recorder.record(times[oi], &obs);
            oi += 1;
        }
        if oi >= times.len() && t >= t_end - tol(t_end) {
            break;
        }
        let mut next_stop = t_end;
        if let Some(c) = changes.get(ci) {
            next_stop = next_stop.min(c.t);
        }
        if let Some(d) = events.next_due() {
            next_stop = next_stop.min(d);
        }
        if let Some(d) = events.next_time_trigger(model, t, &y[..n], &p, &mut ws) {
            next_stop = next_stop.min(d);
        }

        // Restart cleanly from (t, y, p).
        {
            let s = &mut *shared.borrow_mut();
            s.p.copy_from_slice(&p);
            s.y0.copy_from_slice(&y);
            s.jac.valid = false;
        }
        problem.t0 = t;
        let mut solver = problem.bdf::<DenseLu>().map_err(|e| integrator_error(t, e))?;
        report.restarts += 1;
        let seg_start = t;
        if next_stop > t {
            solver.set_stop_time(next_stop).map_err(|e| integrator_error(t, e))?;
        }
        let segment = loop {
            if report.steps >= settings.max_steps {
                return Err(SolveError::TooManySteps { t: solver.state().t, max_steps: settings.max_steps });
            }
            let reason = match solver.step() {
                Ok(r) => r,
                Err(e) => {
                    let (ts, ys) = (solver.state().t, solver.state().y.clone_as_vec());
                    return Err(diagnose_failure(model, ts, &ys[..n], &p, e));
                }
            };
            report.steps += 1;
            let tc = solver.state().t;
            match reason {
                OdeSolverStopReason::InternalTimestep => {
                    emit_until!(solver, tc.min(next_stop), tc < next_stop - tol(next_stop));
                }
                OdeSolverStopReason::TstopReached => {
                    emit_until!(solver, next_stop, false);
                    y = solver.state().y.clone_as_vec();
                    t = next_stop;
                    break solver.get_statistics().clone();
                }
                OdeSolverStopReason::RootFound(tr, idx) => {
                    report.roots_found += 1;
                    let is_discontinuity = !model.root_is_trigger.get(idx).copied().unwrap_or(true);
                    let t_probe = (tr + 1e-9 * tr.abs().max(1.0)).min(tc);
                    let y_probe = solver.interpolate(t_probe).map_err(|e| integrator_error(tr, e))?.clone_as_vec();
                    let trigger_changes = events.would_change(model, t_probe, &y_probe[..n], &p, &mut ws);
                    let repeat = tr - seg_start <= 1e-9 * tr.abs().max(1.0);
                    if trigger_changes || (is_discontinuity && !repeat) {
                        emit_until!(solver, tr, false);
                        y = solver.interpolate(tr).map_err(|e| integrator_error(tr, e))?.clone_as_vec();
                        t = tr;
                        probe = Some((t_probe, y_probe));
                        break solver.get_statistics().clone();
                    }
                    // A crossing that changes nothing: keep stepping.
                    emit_until!(solver, tc.min(next_stop), tc < next_stop - tol(next_stop));
                    if tc >= next_stop - tol(next_stop) {
                        y = solver.interpolate(next_stop).map_err(|e| integrator_error(tc, e))?.clone_as_vec();
                        t = next_stop;
                        break solver.get_statistics().clone();
                    }
                }
            }
        };
        report.factorisations += segment.number_of_linear_solver_setups;
        report.newton_iterations += segment.number_of_nonlinear_solver_iterations;
        report.error_test_failures += segment.number_of_error_test_failures;
    }
    let s = shared.borrow();
    report.rhs_evaluations = s.rhs;
    report.jacobian_products = s.jvp;
    report.jacobian_evaluations = s.jac.evaluations;
    y.truncate(n);
    Ok((report, FinalState { t, y, p }))
}

// When the integrator gives up, say which variable is to blame if the right-hand side is not
// finite at the last accepted state; otherwise pass diffsol's reason on.
fn diagnose_failure(model: &CompiledModel, t: f64, y: &[f64], p: &[f64], e: impl std::fmt::Display) -> SolveError {
    if let Err(nf) = check_finite(model, t, y) {
        return nf;
    }
    let mut ws = model.workspace();
    let mut dy = vec![0.0; y.len()];
    model.rhs(t, y, p, &mut dy, &mut ws);
    if let Some(i) = dy.iter().position(|v| !v.is_finite()) {
        return SolveError::Integrator {
            t,
            message: format!(
                "{e}; the rate of `{}` is {} at this state (`{}` = {})",
                model.states[i].id, dy[i], model.states[i].id, y[i]
            ),
        };
    }
    match (0..y.len()).max_by(|&a, &b| y[a].abs().total_cmp(&y[b].abs())) {
        Some(i) => {
            SolveError::Integrator { t, message: format!("{e} (largest state `{}` = {})", model.states[i].id, y[i]) }
        }
        None => SolveError::Integrator { t, message: e.to_string() },
    }
}

fn check_times(t0: f64, times: &[f64]) -> Result<(), SolveError> {
    let mut prev = t0;
    for (k, &t) in times.iter().enumerate() {
        if !t.is_finite() {
            return Err(SolveError::BadSettings(format!("output time #{} is {t}, not a finite number", k + 1)));
        }
        if t < prev {
            let what = if k == 0 { format!("the start time {t0}") } else { format!("the previous output time {prev}") };
            return Err(SolveError::BadSettings(format!("output time #{} ({t}) is before {what}", k + 1)));
        }
        prev = t;
    }
    Ok(())
}

fn check_finite(model: &CompiledModel, t: f64, y: &[f64]) -> Result<(), SolveError> {
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(SolveError::NonFinite { t, variable: model.states[i].id.clone(), value: y[i] });
    }
    Ok(())
}

//! Pre-equilibration: a patient starts from the steady state of its phenotype (or, for a
//! model with a periodic forcing such as the circadian rhythm, from its periodic steady
//! state at the same phase), not from arbitrary initial values.

use crate::engine::simulate;
use crate::recorder::Recorder;
use crate::schedule::Schedule;
use crate::settings::{SolveError, SolverSettings};
use neurex_model::CompiledModel;

/// A steady state found by pre-equilibration.
#[derive(Debug, Clone, PartialEq)]
pub struct SteadyState {
    /// States at t0 (same phase of the forcing as t0).
    pub y: Vec<f64>,
    /// Values after initial assignments.
    pub p: Vec<f64>,
    /// Periods simulated.
    pub periods: u32,
    /// Largest change of any state over the last period, relative to its tolerance scale.
    pub residual: f64,
}

struct Nothing;
impl Recorder for Nothing {
    fn record(&mut self, _t: f64, _values: &[f64]) {}
}

/// Find the (periodic) steady state at `t0` for values `p`.
///
/// The model is simulated period by period (the model's `period`, or 24 time units) from its
/// initial values, ending at `t0`, until no state changes over one period by more than
/// `steady_rtol · |y| + atol` (default steady_rtol 1e-7), for at most `max_periods` periods.
pub fn steady_state(
    model: &CompiledModel,
    p: &[f64],
    t0: f64,
    max_periods: u32,
    settings: &SolverSettings,
) -> Result<SteadyState, SolveError> {
    let period = model.period.unwrap_or(24.0);
    let steady_rtol = 1e-7;
    let mut p = p.to_vec();
    let mut ws = model.workspace();
    // Start far enough back that the end lands on t0 with the same phase.
    let start = t0 - f64::from(max_periods) * period;
    let mut y = model.initial_state(start, &mut p, &mut ws);
    let mut t = start;
    let mut worst = (f64::INFINITY, 0usize);
    let mut periods = 0;
    // Integrate a block of periods at a time, checking the change over its last period.
    let block = 8u32;
    while periods < max_periods {
        let k = block.min(max_periods - periods);
        let t_check = t + f64::from(k - 1) * period;
        let y_check = if k > 1 {
            let (_, fin) = simulate(model, &p, &y, t, &[t_check], &Schedule::empty(), settings, &mut Nothing)?;
            p = fin.p;
            fin.y
        } else {
            y.clone()
        };
        let t_next = t_check + period;
        let (_, fin) = simulate(model, &p, &y_check, t_check, &[t_next], &Schedule::empty(), settings, &mut Nothing)?;
        p = fin.p;
        periods += k;
        t = t_next;
        worst = (0.0, 0);
        for (i, (a, b)) in y_check.iter().zip(&fin.y).enumerate() {
            let r = (a - b).abs() / (settings.atol + steady_rtol * b.abs().max(a.abs()));
            if r > worst.0 {
                worst = (r, i);
            }
        }
        y = fin.y;
        if worst.0 <= 1.0 {
            break;
        }
    }
    if worst.0 > 1.0 {
        let i = worst.1;
        return Err(SolveError::NoSteadyState {
            periods,
            variable: model.states.get(i).map(|s| s.id.clone()).unwrap_or_default(),
            change: worst.0 * steady_rtol,
        });
    }
    // Converged before max_periods: the state is periodic, so the phase-aligned state at `t`
    // is the state at t0.
    Ok(SteadyState { y, p, periods, residual: worst.0 })
}


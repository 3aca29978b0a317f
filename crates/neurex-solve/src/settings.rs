//! Solver settings, what a solve reports, and how it fails.

use serde::{Deserialize, Serialize};

/// Integrator settings. Defaults follow common practice for stiff biochemical models
/// (libRoadRunner/CVODE use rtol 1e-6 and absolute tolerances in the 1e-10 to 1e-12 range).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SolverSettings {
    /// Relative tolerance (default 1e-6).
    pub rtol: f64,
    /// Absolute tolerance (default 1e-9).
    pub atol: f64,
    /// Maximum number of integrator steps in one simulation (default 5 000 000).
    pub max_steps: usize,
    /// Maximum number of event executions at one time point before declaring a loop (default 10 000).
    pub max_events_per_time: usize,
}

impl Default for SolverSettings {
    fn default() -> Self {
        SolverSettings { rtol: 1e-6, atol: 1e-9, max_steps: 5_000_000, max_events_per_time: 10_000 }
    }
}

impl SolverSettings {
    /// Check the settings make sense.
    pub fn validate(&self) -> Result<(), SolveError> {
        if !(self.rtol > 0.0 && self.rtol < 1.0 && self.atol > 0.0 && self.atol.is_finite()) {
            return Err(SolveError::BadSettings(format!(
                "tolerances must be positive and finite with rtol < 1 (rtol = {}, atol = {})",
                self.rtol, self.atol
            )));
        }
        Ok(())
    }
}

/// What happened during a solve.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SolveReport {
    /// Accepted integrator steps.
    pub steps: usize,
    /// Clean restarts (at input changes, events and discontinuities).
    pub restarts: usize,
    /// Events executed.
    pub events_executed: usize,
    /// Root-function crossings located.
    pub roots_found: usize,
    /// Right-hand-side evaluations.
    pub rhs_evaluations: usize,
    /// Jacobian-vector products (including columns read from a native Jacobian).
    pub jacobian_products: usize,
    /// Whole Jacobians computed by native code in one pass.
    pub jacobian_evaluations: usize,
    /// LU factorisations of the Newton matrix.
    pub factorisations: usize,
    /// Newton iterations (one linear solve each).
    pub newton_iterations: usize,
    /// Steps rejected by the local error test.
    pub error_test_failures: usize,
}

/// Why a solve failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SolveError {
    /// The integrator gave up.
    #[error("the integrator failed at t = {t}: {message}")]
    Integrator {
        /// Time reached.
        t: f64,
        /// diffsol's message.
        message: String,
    },
    /// A state became NaN or infinite.
    #[error("`{variable}` became non-finite ({value}) at t = {t}")]
    NonFinite {
        /// Time.
        t: f64,
        /// Variable id.
        variable: String,
        /// Its value.
        value: f64,
    },
    /// Too many steps.
    #[error("more than {max_steps} integrator steps by t = {t}; the model may be too stiff or oscillate very fast")]
    TooManySteps {
        /// Time reached.
        t: f64,
        /// Limit.
        max_steps: usize,
    },
    /// Events keep firing at one time point.
    #[error("events fired more than {limit} times at t = {t} (an event loop?)")]
    EventLoop {
        /// Time.
        t: f64,
        /// Limit.
        limit: usize,
    },
    /// Output times or settings that cannot be honoured.
    #[error("{0}")]
    BadSettings(String),
    /// Pre-equilibration did not converge.
    #[error("no steady state after {periods} periods: `{variable}` still changes by {change:e} per period")]
    NoSteadyState {
        /// Periods simulated.
        periods: u32,
        /// Worst variable.
        variable: String,
        /// Its change over the last period.
        change: f64,
    },
}

//! The neurex engine: solves a [`CompiledModel`](neurex_model::CompiledModel) with a stiff
//! adaptive integrator (diffsol's BDF), stopping and restarting cleanly at every known
//! discontinuity (protocol input changes), locating events by root finding, and writing
//! outputs at requested times by interpolation. It knows nothing of file formats,
//! populations or front ends.

mod engine;
mod events;
mod lu;
mod recorder;
mod schedule;
mod settings;
mod steady;

pub use engine::simulate;
pub use recorder::{DenseRecorder, Recorder};
pub use schedule::{InputChange, Schedule};
pub use settings::{SolveError, SolveReport, SolverSettings};
pub use steady::{SteadyState, steady_state, steady_state_near};

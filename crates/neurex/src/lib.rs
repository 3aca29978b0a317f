//! neurex: simulate how exercise treats depression through five coupled systems, for one
//! virtual patient or many. This crate is the facade the front ends (CLI, and later server and
//! Python) call: job types, the embedded reference model, protocols, the evidence registry.

pub mod error;
pub mod evidence;
pub mod explain;
pub mod models;
pub mod protocol;
pub mod sbml;
pub mod simulation;
pub mod stress;
pub mod studies;
pub mod validation;

pub use error::Error;
pub use models::{REFERENCE, compile_model, reference_model, reference_spec, resolve_model};
pub use neurex_model as model;
pub use neurex_solve as solve;
pub use protocol::{Modality, Protocol};
pub use simulation::{ProtocolRef, SimulationJob, SimulationResult, SummaryRow, simulate, simulate_model};

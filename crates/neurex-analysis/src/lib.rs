//! Studies over virtual populations of the neurex model: who the patients are
//! ([`population`]), what happens to them in a randomised trial ([`trial`]), what a trial
//! reports ([`endpoints`]), how the effect depends on the dose ([`scan`]), which system carries
//! it ([`attribution`]), and which protocol suits one known patient ([`prescribe`]).
//!
//! Every patient is a pure function of `(master seed, patient index)` ([`rng::patient_rng`]),
//! patients run in parallel on rayon, and results are reduced in index order, so that results
//! are bitwise identical for any number of threads, after an interrupted run is resumed, and
//! when shards are merged. Per-patient results go to a [`store::ChunkStore`] chunk by chunk,
//! so memory stays flat as the cohort grows.
//!
//! This crate knows the model only as a compiled model, and exercise protocols only through
//! [`treatment::ScheduleSource`] (the facade owns protocols). It knows nothing of file
//! formats, command lines or HTTP.

pub mod attribution;
pub mod endpoints;
pub mod population;
pub mod prescribe;
pub mod rng;
pub mod scan;
pub mod store;
pub mod treatment;
pub mod trial;

mod patient;

pub use endpoints::{ArmEndpoints, Comparison, TrialReport};
pub use population::{PopulationSpec, VirtualPatient};
pub use store::{ChunkStore, MemoryStore};
pub use treatment::{ExerciseRef, ScheduleSource};
pub use trial::{TrialError, TrialOptions, TrialSpec};

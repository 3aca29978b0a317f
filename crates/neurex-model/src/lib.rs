//! The neurex model language: what a model file says ([`spec`]), how it is read ([`load`]),
//! its expressions ([`expr`]) and units ([`units`]), and its compilation into the indexed form
//! that the solver runs ([`compile`]). This crate knows nothing about numerics back-ends,
//! files on disk, or front ends.

pub mod compile;
pub mod diagnostics;
pub mod expr;
pub mod load;
pub mod spec;
pub mod units;

pub use compile::{CompiledModel, NativeCode, Slot, Workspace, compile};
pub use diagnostics::{Diagnostic, DiagnosticKind, Diagnostics};
pub use load::{load_with, parse_model_str};
pub use spec::ModelSpec;

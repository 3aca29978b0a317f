//! The one error type of the facade.

use neurex_model::Diagnostics;
use neurex_solve::SolveError;

/// Anything that can go wrong in a neurex job.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model has problems.
    #[error("{0}")]
    Model(#[from] Diagnostics),
    /// The protocol is invalid.
    #[error("protocol {source_name}: {message}")]
    Protocol {
        /// File or preset name.
        source_name: String,
        /// What is wrong, with its location when known.
        message: String,
    },
    /// No such protocol preset or file.
    #[error("unknown protocol `{name}`: not a file and not a preset (presets: {known})")]
    UnknownProtocol {
        /// What was asked for.
        name: String,
        /// Preset names.
        known: String,
    },
    /// No such model.
    #[error("unknown model `{name}`: not a file and not a built-in model (built-in: {known})")]
    UnknownModel {
        /// What was asked for.
        name: String,
        /// Built-in names.
        known: String,
    },
    /// No such phenotype.
    #[error("unknown phenotype `{name}` (this model has: {known})")]
    UnknownPhenotype {
        /// What was asked for.
        name: String,
        /// Known phenotypes.
        known: String,
    },
    /// A variable that the model does not have.
    #[error("unknown variable `{name}`{hint}")]
    UnknownVariable {
        /// What was asked for.
        name: String,
        /// A suggestion.
        hint: String,
    },
    /// The model lacks what a job needs.
    #[error("the model cannot run this job: {0}")]
    Incompatible(String),
    /// A job setting is invalid.
    #[error("invalid setting: {0}")]
    BadRequest(String),
    /// The solver failed.
    #[error("simulation failed ({phase}): {cause}")]
    Solve {
        /// Which run failed.
        phase: String,
        /// Why.
        cause: SolveError,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The OS message.
        message: String,
    },
}

//! SBML in and out for neurex.
//!
//! - [`import`] reads SBML Level 2 and Level 3 (core) into a [`ModelSpec`]; what the engine
//!   cannot run (algebraic rules, fast reactions, `delay()`, the comp and fbc packages) is
//!   refused with a diagnostic `unsupported: <feature>` that names the element.
//! - [`export`] writes a [`ModelSpec`] as SBML Level 3 Version 2 with unit definitions and
//!   each element's provenance in a neurex annotation; what SBML cannot express is an
//!   [`ExportError::Unsupported`].
//! - [`suite`] (feature `suite`, on by default) runs the SBML Test Suite's semantic cases in
//!   place and compares with their expected results. It is the one part that needs the engine.
//!
//! XML is parsed by roxmltree with DTDs refused (so no entity expansion of any kind) and with
//! size limits ([`import::MAX_BYTES`], [`import::MAX_NODES`]).

pub mod export;
pub mod import;
pub mod mathml;
#[cfg(feature = "suite")]
pub mod suite;

pub use export::{ExportError, ExportOptions, export};
pub use import::{Imported, import, import_full};
pub use neurex_model::ModelSpec;

/// Namespace of the neurex annotation carried by exported elements.
pub const NEUREX_NS: &str = "https://neurex.example/ns/sbml-annotation/1";

/// Names with a fixed meaning in neurex expressions; SBML ids equal to one are renamed on import.
pub const RESERVED: [&str; 9] = ["time", "pi", "exponentiale", "avogadro", "true", "false", "INF", "NaN", "infinity"];

/// True if `path` names an SBML file (by its extension, `.xml` or `.sbml`).
pub fn is_sbml_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".xml") || lower.ends_with(".sbml")
}

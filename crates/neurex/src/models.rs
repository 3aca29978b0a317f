//! Where models come from: the embedded reference model and fixtures, or files on disk.

use crate::error::Error;
use neurex_model::{CompiledModel, ModelSpec, compile, load_with};
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/embedded_models.rs"));

/// Id of the built-in reference model.
pub const REFERENCE: &str = "exercise_depression";

/// Names of the built-in models (directories under `models/` with a `model.toml`).
pub fn builtin_models() -> Vec<&'static str> {
    EMBEDDED.iter().filter_map(|(p, _)| p.strip_suffix("/model.toml")).collect()
}

fn embedded(path: &str) -> Option<&'static str> {
    EMBEDDED.iter().find(|(p, _)| *p == path).map(|(_, t)| *t)
}

/// The spec of a built-in model.
pub fn builtin_spec(name: &str) -> Result<ModelSpec, Error> {
    let entry = format!("{name}/model.toml");
    let text = embedded(&entry)
        .ok_or_else(|| Error::UnknownModel { name: name.to_string(), known: builtin_models().join(", ") })?;
    let read = |p: &str| embedded(p).map(str::to_string).ok_or_else(|| "not embedded in the binary".to_string());
    Ok(load_with(&format!("models/{entry}"), text, &mut |p| read(p.trim_start_matches("models/")))?)
}

/// The reference model's spec.
pub fn reference_spec() -> Result<ModelSpec, Error> {
    builtin_spec(REFERENCE)
}

/// The reference model, compiled to native code.
pub fn reference_model() -> Result<CompiledModel, Error> {
    compile_model(&reference_spec()?)
}

/// Compile a model and attach native code for its right-hand side (Cranelift). If native code
/// generation fails, the model still runs on the interpreter, which computes the same thing
/// more slowly; set `NEUREX_NO_JIT=1` to force the interpreter.
pub fn compile_model(spec: &ModelSpec) -> Result<CompiledModel, Error> {
    let mut model = compile(spec)?;
    if std::env::var_os("NEUREX_NO_JIT").is_none()
        && let Err(e) = neurex_jit::accelerate(&mut model)
    {
        eprintln!("warning: {e}; using the interpreter");
    }
    Ok(model)
}

/// Read a model from a file (following its `includes`).
pub fn load_model_file(path: &Path) -> Result<ModelSpec, Error> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io { path: name.clone(), message: e.to_string() })?;
    let mut read = |p: &str| std::fs::read_to_string(p).map_err(|e| e.to_string());
    Ok(load_with(&name, &text, &mut read)?)
}

/// A model named by a built-in id or a file path.
pub fn resolve_model(source: &str) -> Result<ModelSpec, Error> {
    if builtin_models().contains(&source) {
        return builtin_spec(source);
    }
    let path = Path::new(source);
    if path.exists() {
        if neurex_sbml::is_sbml_path(source) {
            return crate::sbml::load_sbml_file(path);
        }
        return load_model_file(path);
    }
    Err(Error::UnknownModel { name: source.to_string(), known: builtin_models().join(", ") })
}

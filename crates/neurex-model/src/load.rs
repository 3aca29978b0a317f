//! Reading model files (TOML) into a [`ModelSpec`]. Files are handed in as text by a reader
//! closure, so this crate never touches the disk itself.

use crate::diagnostics::{Diagnostic, DiagnosticKind, Diagnostics, line_col};
use crate::spec::*;
use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    model: Option<Spanned<ModelHeader>>,
    default_system: Option<String>,
    #[serde(default)]
    system: Vec<Spanned<SystemSpec>>,
    #[serde(default)]
    function: Vec<Spanned<FunctionSpec>>,
    #[serde(default)]
    compartment: Vec<Spanned<CompartmentSpec>>,
    #[serde(default)]
    species: Vec<Spanned<SpeciesSpec>>,
    #[serde(default)]
    parameter: Vec<Spanned<ParameterSpec>>,
    #[serde(default)]
    state: Vec<Spanned<StateSpec>>,
    #[serde(default)]
    variable: Vec<Spanned<VariableSpec>>,
    #[serde(default)]
    initial_assignment: Vec<Spanned<InitialAssignmentSpec>>,
    #[serde(default)]
    rule: Vec<Spanned<RuleSpec>>,
    #[serde(default)]
    reaction: Vec<Spanned<ReactionSpec>>,
    #[serde(default)]
    event: Vec<Spanned<EventSpec>>,
    #[serde(default)]
    coupling: Vec<Spanned<CouplingSpec>>,
    #[serde(default)]
    phenotype: Vec<Spanned<PhenotypeSpec>>,
}

/// Parse one self-contained model file (its `includes` are not followed).
pub fn parse_model_str(name: &str, text: &str) -> Result<ModelSpec, Diagnostics> {
    let mut none = |p: &str| -> Result<String, String> { Err(format!("cannot include `{p}` from a string")) };
    load_with(name, text, &mut none)
}

/// Parse a model whose entry file is `name` with contents `text`, reading included files
/// through `read` (given the include path joined to the entry file's directory).
pub fn load_with(
    name: &str,
    text: &str,
    read: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<ModelSpec, Diagnostics> {
    let mut spec = ModelSpec::default();
    let mut diags = Diagnostics::default();
    let header = match parse_file(&mut spec, name, text.to_string(), true, &mut diags) {
        Some(h) => h,
        None => return diags.into_result(spec),
    };
    let dir = name.rfind('/').map(|i| &name[..=i]).unwrap_or("");
    for inc in &header.includes {
        let path = format!("{dir}{inc}");
        match read(&path) {
            Ok(t) => {
                parse_file(&mut spec, &path, t, false, &mut diags);
            }
            Err(e) => diags.push(Diagnostic {
                file: Some(name.to_string()),
                line_col: header.origin.as_ref().map(|o| line_col(text, o.span.start)),
                element: format!("include `{inc}`"),
                kind: DiagnosticKind::Invalid(format!("cannot read `{path}`: {e}")),
            }),
        }
    }
    spec.model = header;
    diags.into_result(spec)
}

fn parse_file(
    spec: &mut ModelSpec,
    name: &str,
    text: String,
    entry: bool,
    diags: &mut Diagnostics,
) -> Option<ModelHeader> {
    let file_index = spec.sources.len();
    let parsed: Result<FileSpec, _> = toml::from_str(&text);
    let f = match parsed {
        Ok(f) => f,
        Err(e) => {
            diags.push(Diagnostic {
                file: Some(name.to_string()),
                line_col: e.span().map(|s| line_col(&text, s.start)),
                element: String::new(),
                kind: DiagnosticKind::Syntax(e.message().trim().to_string()),
            });
            spec.sources.push((name.to_string(), text));
            return None;
        }
    };
    let default_system = f.default_system.clone();
    let origin = |span: std::ops::Range<usize>| Some(Origin { file: file_index, span });
    macro_rules! take {
        ($src:expr, $dst:expr, |$e:ident| $fix:block) => {
            for s in $src {
                let span = s.span();
                let mut $e = s.into_inner();
                $e.origin = origin(span);
                $fix
                $dst.push($e);
            }
        };
    }
    let fix_math = |m: &mut Math| {
        if let Some(o) = &mut m.origin {
            o.file = file_index;
        }
    };
    let sys = |s: &mut Option<String>| {
        if s.is_none() {
            s.clone_from(&default_system);
        }
    };
    take!(f.system, spec.systems, |e| {});
    take!(f.function, spec.functions, |e| { fix_math(&mut e.math) });
    take!(f.compartment, spec.compartments, |e| {});
    take!(f.species, spec.species, |e| { sys(&mut e.system) });
    take!(f.parameter, spec.parameters, |e| { sys(&mut e.system) });
    take!(f.state, spec.states, |e| {
        sys(&mut e.system);
        fix_math(&mut e.initial);
        fix_math(&mut e.rate);
    });
    take!(f.variable, spec.variables, |e| {
        sys(&mut e.system);
        fix_math(&mut e.math);
    });
    take!(f.initial_assignment, spec.initial_assignments, |e| { fix_math(&mut e.math) });
    take!(f.rule, spec.rules, |e| { fix_math(&mut e.math) });
    take!(f.reaction, spec.reactions, |e| {
        sys(&mut e.system);
        fix_math(&mut e.rate);
    });
    take!(f.event, spec.events, |e| {
        fix_math(&mut e.trigger);
        if let Some(m) = &mut e.delay {
            fix_math(m);
        }
        if let Some(m) = &mut e.priority {
            fix_math(m);
        }
        for a in &mut e.assignments {
            fix_math(&mut a.math);
        }
    });
    take!(f.coupling, spec.couplings, |e| {});
    take!(f.phenotype, spec.phenotypes, |e| {});
    spec.sources.push((name.to_string(), text));
    match (f.model, entry) {
        (Some(h), true) => {
            let span = h.span();
            let mut h = h.into_inner();
            h.origin = origin(span);
            Some(h)
        }
        (None, true) => {
            diags.push(Diagnostic {
                file: Some(name.to_string()),
                line_col: Some((1, 1)),
                element: String::new(),
                kind: DiagnosticKind::Syntax("missing `[model]` table (id, time_unit, ...)".into()),
            });
            None
        }
        (Some(h), false) => {
            let (_, text) = &spec.sources[file_index];
            diags.push(Diagnostic {
                file: Some(name.to_string()),
                line_col: Some(line_col(text, h.span().start)),
                element: String::new(),
                kind: DiagnosticKind::Syntax("an included file may not have its own `[model]` table".into()),
            });
            None
        }
        (None, false) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_line_and_column_of_schema_errors() {
        let text = "[model]\nid = \"m\"\n\n[[parameter]]\nid = \"k\"\nvalue = \"fast\"\n";
        let err = parse_model_str("m.toml", text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("m.toml:6:"), "{msg}");
    }

    #[test]
    fn unknown_fields_are_errors() {
        let text = "[model]\nid = \"m\"\n[[parameter]]\nid = \"k\"\nvalue = 1\nvalu = 2\n";
        let err = parse_model_str("m.toml", text).unwrap_err().to_string();
        assert!(err.contains("valu"), "{err}");
    }

    #[test]
    fn expressions_know_where_they_are() {
        let text = "[model]\nid = \"m\"\n[[state]]\nid = \"x\"\ninitial = 1\nrate = \"-k * x\"\n";
        let spec = parse_model_str("m.toml", text).unwrap();
        let o = spec.states[0].rate.origin.clone().unwrap();
        assert_eq!(&spec.sources[o.file].1[o.span], "-k * x");
        assert_eq!(spec.states[0].initial.text, "1");
    }
}

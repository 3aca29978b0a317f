//! A [`ModelSpec`] to SBML Level 3 Version 2 core.
//!
//! `state`s become non-constant parameters with rate rules, `variable`s non-constant
//! parameters with assignment rules. Units become unit definitions; descriptions, units as
//! written, ranges, systems and provenance (evidence ids, assumptions) go into a neurex
//! annotation on each element, which the importer reads back. Phenotypes, couplings and the
//! pre-equilibration settings have no SBML counterpart: a caller that wants them applies them
//! to the spec first (a phenotype's values, a steady state as initial values, a protocol as
//! events).

use crate::NEUREX_NS;
use crate::mathml::{MATHML_NS, writable_builtin, write_mathml};
use neurex_model::expr::{Expr, parse_expr};
use neurex_model::spec::*;
use neurex_model::units::parse_unit;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

/// Why a model cannot be written as SBML.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The model uses something SBML cannot express.
    #[error("SBML cannot express {feature} (used by {element})")]
    Unsupported {
        /// What cannot be expressed.
        feature: String,
        /// The element using it.
        element: String,
    },
    /// An expression does not parse.
    #[error("{element}: bad expression `{text}`: {message}")]
    Expression {
        /// The element.
        element: String,
        /// The text.
        text: String,
        /// The parser's message.
        message: String,
    },
}

/// Export settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportOptions {
    /// Leave out the neurex annotations (provenance, ranges, units as written).
    pub without_annotations: bool,
}

const SBML_NS: &str = "http://www.sbml.org/sbml/level3/version2/core";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn is_sid(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "INF".into() } else { "-INF".into() }
    } else {
        format_number(v)
    }
}

struct Writer<'s> {
    spec: &'s ModelSpec,
    opts: &'s ExportOptions,
    out: String,
    functions: HashSet<String>,
    units: BTreeMap<String, String>,
}

/// Write `spec` as an SBML Level 3 Version 2 document.
pub fn export(spec: &ModelSpec, opts: &ExportOptions) -> Result<String, ExportError> {
    let mut w = Writer {
        spec,
        opts,
        out: String::with_capacity(1 << 16),
        functions: spec.functions.iter().map(|f| f.id.clone()).collect(),
        units: BTreeMap::new(),
    };
    w.check_ids()?;
    w.collect_units();
    w.document()?;
    Ok(w.out)
}

fn unit_id(u: &str) -> String {
    let mut s = String::from("u_");
    for ch in u.chars() {
        match ch {
            '/' => s.push_str("_per_"),
            '^' => s.push_str("_pow_"),
            '*' | ' ' | '·' => s.push('_'),
            'µ' => s.push('u'),
            '%' => s.push_str("percent"),
            '-' => s.push_str("neg"),
            c if c.is_ascii_alphanumeric() || c == '_' => s.push(c),
            _ => s.push('_'),
        }
    }
    s
}

impl Writer<'_> {
    fn check_ids(&self) -> Result<(), ExportError> {
        let s = self.spec;
        let mut ids: Vec<(&str, &str)> = Vec::new();
        ids.extend(s.functions.iter().map(|x| ("function", x.id.as_str())));
        ids.extend(s.compartments.iter().map(|x| ("compartment", x.id.as_str())));
        ids.extend(s.species.iter().map(|x| ("species", x.id.as_str())));
        ids.extend(s.parameters.iter().map(|x| ("parameter", x.id.as_str())));
        ids.extend(s.states.iter().map(|x| ("state", x.id.as_str())));
        ids.extend(s.variables.iter().map(|x| ("variable", x.id.as_str())));
        ids.extend(s.reactions.iter().map(|x| ("reaction", x.id.as_str())));
        ids.extend(s.events.iter().filter(|e| !e.id.is_empty()).map(|x| ("event", x.id.as_str())));
        for (kind, id) in ids {
            if !is_sid(id) {
                return Err(ExportError::Unsupported {
                    feature: "an identifier that is not an SBML SId (letters, digits, `_`)".into(),
                    element: format!("{kind} `{id}`"),
                });
            }
        }
        Ok(())
    }

    fn collect_units(&mut self) {
        let s = self.spec;
        let all = std::iter::once(s.model.time_unit.as_str())
            .chain(s.compartments.iter().map(|c| c.unit.as_str()))
            .chain(s.parameters.iter().map(|p| p.unit.as_str()))
            .chain(s.states.iter().map(|p| p.unit.as_str()))
            .chain(s.variables.iter().map(|p| p.unit.as_str()));
        for u in all {
            if !u.trim().is_empty() && parse_unit(u).is_ok() {
                self.units.insert(u.to_string(), unit_id(u));
            }
        }
    }

    fn units_attr(&self, u: &str) -> String {
        self.units.get(u).map(|id| format!(" units=\"{id}\"")).unwrap_or_default()
    }

    fn math(&self, text: &str, element: &str) -> Result<String, ExportError> {
        let e = parse_expr(text).map_err(|err| ExportError::Expression {
            element: element.to_string(),
            text: text.to_string(),
            message: err.to_string(),
        })?;
        self.check_expr(&e, element)?;
        let mut s = format!("<math xmlns=\"{MATHML_NS}\">");
        let fns = &self.functions;
        write_mathml(&e, &mut s, &|n| fns.contains(n));
        s.push_str("</math>");
        Ok(s)
    }

    fn check_expr(&self, e: &Expr, element: &str) -> Result<(), ExportError> {
        let mut bad = None;
        e.walk(&mut |n| {
            if let Expr::Call { name, args, .. } = n
                && !self.functions.contains(name)
                && !writable_builtin(name, args.len())
                && bad.is_none()
            {
                bad = Some(format!("the function `{name}` with {} argument(s)", args.len()));
            }
        });
        match bad {
            Some(feature) => Err(ExportError::Unsupported { feature, element: element.to_string() }),
            None => Ok(()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn annotation(
        &self,
        kind: &str,
        unit: &str,
        system: Option<&str>,
        range: Option<[f64; 2]>,
        description: &str,
        prov: Option<&Provenance>,
    ) -> String {
        if self.opts.without_annotations {
            return String::new();
        }
        let mut a = format!("<annotation><neurex:element xmlns:neurex=\"{NEUREX_NS}\" kind=\"{kind}\"");
        if !unit.is_empty() {
            let _ = write!(a, " unit=\"{}\"", esc(unit));
        }
        if let Some(sys) = system {
            let _ = write!(a, " system=\"{}\"", esc(sys));
        }
        if let Some([lo, hi]) = range {
            let _ = write!(a, " rangeLow=\"{}\" rangeHigh=\"{}\"", num(lo), num(hi));
        }
        a.push('>');
        if let Some(p) = prov {
            for e in &p.evidence {
                let _ = write!(a, "<neurex:evidence id=\"{}\"/>", esc(e));
            }
            if let Some(asm) = &p.assumption {
                let _ = write!(a, "<neurex:assumption>{}</neurex:assumption>", esc(asm));
            }
        }
        if !description.is_empty() {
            let _ = write!(a, "<neurex:description>{}</neurex:description>", esc(description));
        }
        a.push_str("</neurex:element></annotation>");
        a
    }

    fn document(&mut self) -> Result<(), ExportError> {
        let s = self.spec;
        let mut o = String::new();
        let _ = writeln!(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        let _ = writeln!(o, "<!-- Written by neurex {} -->", env!("CARGO_PKG_VERSION"));
        let _ = writeln!(o, "<sbml xmlns=\"{SBML_NS}\" level=\"3\" version=\"2\">");
        let time_units =
            self.units.get(&s.model.time_unit).map(|id| format!(" timeUnits=\"{id}\"")).unwrap_or_default();
        let id = if is_sid(&s.model.id) { s.model.id.clone() } else { "model".into() };
        let _ = writeln!(o, "  <model id=\"{id}\" name=\"{}\"{time_units}>", esc(&s.model.name));
        if !s.model.description.is_empty() {
            let _ = writeln!(
                o,
                "    <notes><body xmlns=\"http://www.w3.org/1999/xhtml\"><p>{}</p></body></notes>",
                esc(&s.model.description)
            );
        }

        // Functions.
        if !s.functions.is_empty() {
            o.push_str("    <listOfFunctionDefinitions>\n");
            for f in &s.functions {
                let el = format!("function `{}`", f.id);
                let body = self.math(&f.math.text, &el)?;
                let inner =
                    body.trim_start_matches(&format!("<math xmlns=\"{MATHML_NS}\">")).trim_end_matches("</math>");
                let bvars: String = f.args.iter().map(|a| format!("<bvar><ci>{a}</ci></bvar>")).collect();
                let _ = writeln!(
                    o,
                    "      <functionDefinition id=\"{}\"><math xmlns=\"{MATHML_NS}\"><lambda>{bvars}{inner}</lambda></math></functionDefinition>",
                    f.id
                );
            }
            o.push_str("    </listOfFunctionDefinitions>\n");
        }

        // Units.
        if !self.units.is_empty() {
            o.push_str("    <listOfUnitDefinitions>\n");
            for (text, id) in &self.units {
                let Ok(u) = parse_unit(text) else { continue };
                let _ = write!(o, "      <unitDefinition id=\"{id}\" name=\"{}\"><listOfUnits>", esc(text));
                let _ = write!(
                    o,
                    "<unit kind=\"dimensionless\" exponent=\"1\" scale=\"0\" multiplier=\"{}\"/>",
                    num(u.scale)
                );
                for (kind, e) in ["gram", "metre", "second", "mole", "item"].iter().zip(u.dims) {
                    if e != 0 {
                        let _ = write!(o, "<unit kind=\"{kind}\" exponent=\"{e}\" scale=\"0\" multiplier=\"1\"/>");
                    }
                }
                o.push_str("</listOfUnits></unitDefinition>\n");
            }
            o.push_str("    </listOfUnitDefinitions>\n");
        }

        // What rules and events change: such parameters cannot be `constant`.
        let mut changing: HashSet<&str> = HashSet::new();
        changing.extend(s.rules.iter().map(|r| r.variable.as_str()));
        changing.extend(s.events.iter().flat_map(|e| e.assignments.iter().map(|a| a.variable.as_str())));

        if !s.compartments.is_empty() {
            o.push_str("    <listOfCompartments>\n");
            for c in &s.compartments {
                let size = c.size.map(|v| format!(" size=\"{}\"", num(v))).unwrap_or_default();
                let constant = c.constant && !changing.contains(c.id.as_str());
                let _ = writeln!(
                    o,
                    "      <compartment id=\"{}\"{size} spatialDimensions=\"{}\"{} constant=\"{constant}\">{}</compartment>",
                    c.id,
                    num(c.spatial_dimensions.unwrap_or(3.0)),
                    self.units_attr(&c.unit),
                    self.annotation("compartment", &c.unit, None, None, &c.description, Some(&c.provenance)),
                );
            }
            o.push_str("    </listOfCompartments>\n");
        }

        if !s.species.is_empty() {
            o.push_str("    <listOfSpecies>\n");
            for sp in &s.species {
                let init = match (sp.initial_amount, sp.initial_concentration) {
                    (_, Some(c)) => format!(" initialConcentration=\"{}\"", num(c)),
                    (Some(a), None) => format!(" initialAmount=\"{}\"", num(a)),
                    (None, None) => String::new(),
                };
                let constant = sp.constant && !changing.contains(sp.id.as_str());
                let _ = writeln!(
                    o,
                    "      <species id=\"{}\" compartment=\"{}\"{init} hasOnlySubstanceUnits=\"{}\" boundaryCondition=\"{}\" constant=\"{constant}\">{}</species>",
                    sp.id,
                    sp.compartment,
                    sp.has_only_substance_units,
                    sp.boundary_condition,
                    self.annotation(
                        "species",
                        &sp.unit,
                        sp.system.as_deref(),
                        None,
                        &sp.description,
                        Some(&sp.provenance)
                    ),
                );
            }
            o.push_str("    </listOfSpecies>\n");
        }

        // Parameters: constants, then states and variables.
        let mut ias: Vec<(String, String)> = Vec::new();
        if !(s.parameters.is_empty() && s.states.is_empty() && s.variables.is_empty()) {
            o.push_str("    <listOfParameters>\n");
            for p in &s.parameters {
                let constant = p.constant && !changing.contains(p.id.as_str());
                let _ = writeln!(
                    o,
                    "      <parameter id=\"{}\" value=\"{}\"{} constant=\"{constant}\">{}</parameter>",
                    p.id,
                    num(p.value),
                    self.units_attr(&p.unit),
                    self.annotation(
                        "parameter",
                        &p.unit,
                        p.system.as_deref(),
                        p.range,
                        &p.description,
                        Some(&p.provenance)
                    ),
                );
            }
            for st in &s.states {
                let value = match parse_expr(&st.initial.text) {
                    Ok(Expr::Num(v)) => format!(" value=\"{}\"", num(v)),
                    Ok(Expr::Unary(neurex_model::expr::UnOp::Neg, b)) if matches!(*b, Expr::Num(_)) => {
                        let Expr::Num(v) = *b else { unreachable!() };
                        format!(" value=\"{}\"", num(-v))
                    }
                    _ => {
                        if !s.initial_assignments.iter().any(|ia| ia.variable == st.id) {
                            ias.push((st.id.clone(), st.initial.text.clone()));
                        }
                        String::new()
                    }
                };
                let _ = writeln!(
                    o,
                    "      <parameter id=\"{}\"{value}{} constant=\"false\">{}</parameter>",
                    st.id,
                    self.units_attr(&st.unit),
                    self.annotation(
                        "state",
                        &st.unit,
                        st.system.as_deref(),
                        st.range,
                        &st.description,
                        Some(&st.provenance)
                    ),
                );
            }
            for v in &s.variables {
                let _ = writeln!(
                    o,
                    "      <parameter id=\"{}\"{} constant=\"false\">{}</parameter>",
                    v.id,
                    self.units_attr(&v.unit),
                    self.annotation(
                        "variable",
                        &v.unit,
                        v.system.as_deref(),
                        None,
                        &v.description,
                        Some(&v.provenance)
                    ),
                );
            }
            o.push_str("    </listOfParameters>\n");
        }

        if !(s.initial_assignments.is_empty() && ias.is_empty()) {
            o.push_str("    <listOfInitialAssignments>\n");
            for ia in &s.initial_assignments {
                let m = self.math(&ia.math.text, &format!("initial assignment to `{}`", ia.variable))?;
                let _ = writeln!(o, "      <initialAssignment symbol=\"{}\">{m}</initialAssignment>", ia.variable);
            }
            for (id, text) in &ias {
                let m = self.math(text, &format!("state `{id}`, field `initial`"))?;
                let _ = writeln!(o, "      <initialAssignment symbol=\"{id}\">{m}</initialAssignment>");
            }
            o.push_str("    </listOfInitialAssignments>\n");
        }

        if !(s.rules.is_empty() && s.states.is_empty() && s.variables.is_empty()) {
            o.push_str("    <listOfRules>\n");
            for v in &s.variables {
                let m = self.math(&v.math.text, &format!("variable `{}`", v.id))?;
                let _ = writeln!(o, "      <assignmentRule variable=\"{}\">{m}</assignmentRule>", v.id);
            }
            for st in &s.states {
                let m = self.math(&st.rate.text, &format!("state `{}`, field `rate`", st.id))?;
                let _ = writeln!(o, "      <rateRule variable=\"{}\">{m}</rateRule>", st.id);
            }
            for r in &s.rules {
                let el = format!("{:?} rule for `{}`", r.kind, r.variable).to_lowercase();
                let m = self.math(&r.math.text, &el)?;
                let _ = match r.kind {
                    RuleKind::Assignment => {
                        writeln!(o, "      <assignmentRule variable=\"{}\">{m}</assignmentRule>", r.variable)
                    }
                    RuleKind::Rate => writeln!(o, "      <rateRule variable=\"{}\">{m}</rateRule>", r.variable),
                    RuleKind::Algebraic => writeln!(o, "      <algebraicRule>{m}</algebraicRule>"),
                };
            }
            o.push_str("    </listOfRules>\n");
        }

        if !s.reactions.is_empty() {
            o.push_str("    <listOfReactions>\n");
            for r in &s.reactions {
                let el = format!("reaction `{}`", r.id);
                let _ = writeln!(o, "      <reaction id=\"{}\" reversible=\"{}\">", r.id, r.reversible);
                o.push_str(&self.annotation(
                    "reaction",
                    "",
                    r.system.as_deref(),
                    None,
                    &r.description,
                    Some(&r.provenance),
                ));
                for (tag, refs) in [("listOfReactants", &r.reactants), ("listOfProducts", &r.products)] {
                    if refs.is_empty() {
                        continue;
                    }
                    let _ = write!(o, "        <{tag}>");
                    for sr in refs {
                        let id = sr.id.as_ref().map(|i| format!(" id=\"{i}\"")).unwrap_or_default();
                        let constant = sr.id.as_ref().is_none_or(|i| !changing.contains(i.as_str()));
                        let _ = write!(
                            o,
                            "<speciesReference{id} species=\"{}\" stoichiometry=\"{}\" constant=\"{constant}\"/>",
                            sr.species,
                            num(sr.stoichiometry)
                        );
                    }
                    let _ = writeln!(o, "</{tag}>");
                }
                if !r.modifiers.is_empty() {
                    o.push_str("        <listOfModifiers>");
                    for m in &r.modifiers {
                        let _ = write!(o, "<modifierSpeciesReference species=\"{m}\"/>");
                    }
                    o.push_str("</listOfModifiers>\n");
                }
                let m = self.math(&r.rate.text, &el)?;
                let _ = write!(o, "        <kineticLaw>{m}");
                if !r.parameters.is_empty() {
                    o.push_str("<listOfLocalParameters>");
                    for lp in &r.parameters {
                        let _ = write!(o, "<localParameter id=\"{}\" value=\"{}\"/>", lp.id, num(lp.value));
                    }
                    o.push_str("</listOfLocalParameters>");
                }
                o.push_str("</kineticLaw>\n      </reaction>\n");
            }
            o.push_str("    </listOfReactions>\n");
        }

        if !s.events.is_empty() {
            o.push_str("    <listOfEvents>\n");
            for (k, ev) in s.events.iter().enumerate() {
                let el = if ev.id.is_empty() { format!("event #{}", k + 1) } else { format!("event `{}`", ev.id) };
                let id = if ev.id.is_empty() { String::new() } else { format!(" id=\"{}\"", ev.id) };
                let _ =
                    writeln!(o, "      <event{id} useValuesFromTriggerTime=\"{}\">", ev.use_values_from_trigger_time);
                if !ev.description.is_empty() && !self.opts.without_annotations {
                    o.push_str(&self.annotation("event", "", None, None, &ev.description, None));
                }
                let m = self.math(&ev.trigger.text, &format!("{el}, trigger"))?;
                let _ = writeln!(
                    o,
                    "        <trigger initialValue=\"{}\" persistent=\"{}\">{m}</trigger>",
                    ev.initial_value, ev.persistent
                );
                if let Some(d) = &ev.delay {
                    let _ = writeln!(o, "        <delay>{}</delay>", self.math(&d.text, &format!("{el}, delay"))?);
                }
                if let Some(p) = &ev.priority {
                    let _ =
                        writeln!(o, "        <priority>{}</priority>", self.math(&p.text, &format!("{el}, priority"))?);
                }
                if !ev.assignments.is_empty() {
                    o.push_str("        <listOfEventAssignments>\n");
                    for a in &ev.assignments {
                        let m = self.math(&a.math.text, &format!("{el}, assignment to `{}`", a.variable))?;
                        let _ =
                            writeln!(o, "          <eventAssignment variable=\"{}\">{m}</eventAssignment>", a.variable);
                    }
                    o.push_str("        </listOfEventAssignments>\n");
                }
                o.push_str("      </event>\n");
            }
            o.push_str("    </listOfEvents>\n");
        }
        o.push_str("  </model>\n</sbml>\n");
        self.out = o;
        Ok(())
    }
}

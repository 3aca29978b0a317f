//! SBML (Level 2, Level 3 core) to a [`ModelSpec`].
//!
//! The mapping is one to one where neurex has the element (compartments, species, parameters,
//! functions, initial assignments, rules, reactions, events). Two SBML features are lowered:
//! a species' conversion factor and Level 2 `stoichiometryMath` both become a species
//! reference whose stoichiometry is an assignment rule. Everything else that the engine cannot
//! run is refused with `unsupported: <feature>`, naming the element.

use crate::mathml::{MathError, Reader};
use crate::{NEUREX_NS, RESERVED};
use neurex_model::diagnostics::{Diagnostic, DiagnosticKind, Diagnostics};
use neurex_model::spec::*;
use neurex_model::units::parse_unit;
use roxmltree::{Document, Node, ParsingOptions};
use std::collections::{HashMap, HashSet};

/// Largest SBML document accepted, in bytes (BioModels' largest files are a few MB).
pub const MAX_BYTES: usize = 64 * 1024 * 1024;
/// Largest number of XML nodes accepted.
pub const MAX_NODES: u32 = 4_000_000;

/// An imported model with what the import had to change.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The model.
    pub spec: ModelSpec,
    /// SBML ids renamed because they clash with neurex's reserved names: (SBML id, neurex id).
    pub renamed: Vec<(String, String)>,
    /// SBML level.
    pub level: u32,
    /// SBML version.
    pub version: u32,
}

impl Imported {
    /// The neurex id of an SBML id.
    pub fn neurex_id<'a>(&'a self, sbml_id: &'a str) -> &'a str {
        self.renamed.iter().find(|(s, _)| s == sbml_id).map_or(sbml_id, |(_, n)| n.as_str())
    }
}

/// Read an SBML document into a model spec.
pub fn import(text: &str) -> Result<ModelSpec, Diagnostics> {
    import_full(text).map(|i| i.spec)
}

/// Read an SBML document, also returning renamed ids and the level/version.
pub fn import_full(text: &str) -> Result<Imported, Diagnostics> {
    let fail = |element: &str, kind: DiagnosticKind| {
        let mut d = Diagnostics::default();
        d.push(Diagnostic { file: None, line_col: None, element: element.to_string(), kind });
        d
    };
    if text.len() > MAX_BYTES {
        return Err(fail(
            "document",
            DiagnosticKind::Invalid(format!("{} bytes is over the limit of {MAX_BYTES}", text.len())),
        ));
    }
    // No DTDs at all: entity declarations (and so entity expansion) are refused by the parser.
    let opts = ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES };
    let doc = Document::parse_with_options(text, opts)
        .map_err(|e| fail("document", DiagnosticKind::Syntax(format!("not well-formed XML: {e}"))))?;
    let mut im = Importer { doc: &doc, diags: Diagnostics::default(), renames: HashMap::new(), level: 3, version: 2 };
    let spec = im.run();
    let renamed: Vec<(String, String)> = im.renames.iter().map(|(a, b)| (a.clone(), b.clone())).collect();
    let (level, version) = (im.level, im.version);
    im.diags.into_result(Imported { spec, renamed, level, version })
}

struct Importer<'d, 'i> {
    doc: &'d Document<'i>,
    diags: Diagnostics,
    renames: HashMap<String, String>,
    level: u32,
    version: u32,
}

fn kids<'a, 'i>(n: Node<'a, 'i>, name: &str) -> impl Iterator<Item = Node<'a, 'i>> + use<'a, 'i> {
    let name = name.to_string();
    n.children().filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    kids(n, name).next()
}

fn list<'a, 'i>(n: Node<'a, 'i>, list: &str, item: &str) -> Vec<Node<'a, 'i>> {
    child(n, list).map(|l| kids(l, item).collect()).unwrap_or_default()
}

fn attr_f64(n: Node<'_, '_>, name: &str) -> Option<f64> {
    n.attribute(name).and_then(|v| match v.trim() {
        "INF" | "inf" => Some(f64::INFINITY),
        "-INF" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        t => t.parse().ok(),
    })
}

fn attr_bool(n: Node<'_, '_>, name: &str) -> Option<bool> {
    n.attribute(name).map(|v| matches!(v.trim(), "true" | "1"))
}

fn describe(kind: &str, n: Node<'_, '_>) -> String {
    match n.attribute("id").or_else(|| n.attribute("variable")).or_else(|| n.attribute("symbol")) {
        Some(id) => format!("{kind} `{id}`"),
        None => kind.to_string(),
    }
}

impl Importer<'_, '_> {
    fn diag(&mut self, n: Node<'_, '_>, element: impl Into<String>, kind: DiagnosticKind) {
        let pos = self.doc.text_pos_at(n.range().start);
        self.diags.push(Diagnostic {
            file: None,
            line_col: Some((pos.row as usize, pos.col as usize)),
            element: element.into(),
            kind,
        });
    }

    fn unsupported(&mut self, n: Node<'_, '_>, element: impl Into<String>, feature: &str) {
        self.diag(n, element, DiagnosticKind::Unsupported { feature: feature.to_string() });
    }

    fn id(&self, raw: &str) -> String {
        self.renames.get(raw).cloned().unwrap_or_else(|| raw.to_string())
    }

    /// The math of `n`'s `<math>` child, as neurex text.
    fn math(&mut self, n: Node<'_, '_>, element: &str) -> Option<Math> {
        let m = child(n, "math")?;
        let reader = Reader { renames: &self.renames };
        match reader.read(m) {
            Ok(e) => Some(Math::new(e.to_string())),
            Err(err) => {
                self.math_error(m, element, err);
                None
            }
        }
    }

    fn math_error(&mut self, n: Node<'_, '_>, element: &str, err: MathError) {
        match err {
            MathError::Unsupported(f) => self.unsupported(n, element, &f),
            MathError::Invalid(m) => self.diag(n, element, DiagnosticKind::Expression { message: m }),
        }
    }

    fn run(&mut self) -> ModelSpec {
        let root = self.doc.root_element();
        let mut spec = ModelSpec::default();
        if root.tag_name().name() != "sbml" {
            self.diag(
                root,
                "document",
                DiagnosticKind::Syntax(format!("the root element is <{}>, not <sbml>", root.tag_name().name())),
            );
            return spec;
        }
        self.level = root.attribute("level").and_then(|v| v.parse().ok()).unwrap_or(0);
        self.version = root.attribute("version").and_then(|v| v.parse().ok()).unwrap_or(0);
        if !matches!(self.level, 2 | 3) {
            self.unsupported(root, "<sbml>", &format!("SBML Level {}", self.level));
            return spec;
        }
        let Some(model) = child(root, "model") else {
            self.diag(root, "<sbml>", DiagnosticKind::Syntax("no <model> element".into()));
            return spec;
        };
        self.check_packages(root);
        self.collect_renames(model);
        let l2 = self.level == 2;

        let units = self.unit_definitions(model);
        let unit_of = |u: Option<&str>| -> String { u.and_then(|u| units.get(u).cloned()).unwrap_or_default() };

        spec.model = ModelHeader {
            id: model.attribute("id").unwrap_or("sbml_model").to_string(),
            name: model.attribute("name").unwrap_or("").to_string(),
            time_unit: unit_of(model.attribute("timeUnits")),
            description: String::new(),
            includes: Vec::new(),
            period: None,
            // SBML models start from their initial values: no pre-equilibration.
            equilibration_periods: Some(0),
            origin: None,
        };

        for f in list(model, "listOfFunctionDefinitions", "functionDefinition") {
            let el = describe("function definition", f);
            let Some(m) = child(f, "math") else {
                self.diag(f, el, DiagnosticKind::Invalid("no <math>".into()));
                continue;
            };
            let reader = Reader { renames: &self.renames };
            match reader.lambda(m) {
                Ok((args, body)) => spec.functions.push(FunctionSpec {
                    id: self.id(f.attribute("id").unwrap_or("")),
                    args: args.iter().map(|a| self.id(a)).collect(),
                    math: Math::new(body.to_string()),
                    description: String::new(),
                    origin: None,
                }),
                Err(e) => self.math_error(m, &el, e),
            }
        }

        // Targets of rules and initial assignments (their attribute values are only defaults).
        let mut ruled: HashSet<String> = HashSet::new();
        if let Some(l) = child(model, "listOfRules") {
            for r in l.children().filter(|c| c.is_element()) {
                if let Some(v) = r.attribute("variable") {
                    ruled.insert(v.to_string());
                }
            }
        }
        for ia in list(model, "listOfInitialAssignments", "initialAssignment") {
            if let Some(v) = ia.attribute("symbol") {
                ruled.insert(v.to_string());
            }
        }

        for c in list(model, "listOfCompartments", "compartment") {
            let raw = c.attribute("id").unwrap_or("");
            let size = attr_f64(c, "size").or_else(|| attr_f64(c, "volume"));
            let size = match size {
                Some(s) => Some(s),
                None if l2 && !ruled.contains(raw) => Some(1.0),
                None => None,
            };
            let dims = attr_f64(c, "spatialDimensions").or(if l2 { Some(3.0) } else { None });
            let (description, provenance, _, _, unit_note) = self.neurex_annotation(c);
            spec.compartments.push(CompartmentSpec {
                id: self.id(raw),
                size,
                unit: unit_note.unwrap_or_else(|| unit_of(c.attribute("units"))),
                constant: attr_bool(c, "constant").unwrap_or(true),
                spatial_dimensions: dims,
                description,
                provenance,
                origin: None,
            });
        }
        let comp_dims: HashMap<String, f64> =
            spec.compartments.iter().map(|c| (c.id.clone(), c.spatial_dimensions.unwrap_or(3.0))).collect();

        let model_cf = model.attribute("conversionFactor").map(|s| self.id(s));
        let mut species_cf: HashMap<String, String> = HashMap::new();
        for s in list(model, "listOfSpecies", "species") {
            let id = self.id(s.attribute("id").unwrap_or(""));
            let comp = self.id(s.attribute("compartment").unwrap_or(""));
            let hosu = attr_bool(s, "hasOnlySubstanceUnits").unwrap_or(false);
            let mut amount = attr_f64(s, "initialAmount");
            let mut conc = attr_f64(s, "initialConcentration");
            // A concentration in a 0-dimensional compartment has no meaning; keep amounts.
            if comp_dims.get(&comp).is_some_and(|&d| d == 0.0) {
                amount = amount.or(conc.take());
            }
            if let Some(cf) = s.attribute("conversionFactor").map(|v| self.id(v)).or_else(|| model_cf.clone()) {
                species_cf.insert(id.clone(), cf);
            }
            let (description, provenance, system, _, unit_note) = self.neurex_annotation(s);
            spec.species.push(SpeciesSpec {
                id,
                compartment: comp,
                initial_amount: amount,
                initial_concentration: conc,
                unit: unit_note.unwrap_or_else(|| unit_of(s.attribute("substanceUnits"))),
                has_only_substance_units: hosu,
                boundary_condition: attr_bool(s, "boundaryCondition").unwrap_or(false),
                constant: attr_bool(s, "constant").unwrap_or(false),
                description,
                system,
                provenance,
                origin: None,
            });
        }

        for p in list(model, "listOfParameters", "parameter") {
            let raw = p.attribute("id").unwrap_or("");
            let (description, provenance, system, range, unit_note) = self.neurex_annotation(p);
            let value = attr_f64(p, "value").unwrap_or(if ruled.contains(raw) { 0.0 } else { f64::NAN });
            let value = if value.is_nan() { 0.0 } else { value };
            spec.parameters.push(ParameterSpec {
                id: self.id(raw),
                value,
                unit: unit_note.unwrap_or_else(|| unit_of(p.attribute("units"))),
                range: range.filter(|[lo, hi]| *lo <= value && value <= *hi),
                description,
                system,
                constant: attr_bool(p, "constant").unwrap_or(true),
                provenance,
                origin: None,
            });
        }

        for ia in list(model, "listOfInitialAssignments", "initialAssignment") {
            let el = describe("initial assignment", ia);
            if let Some(math) = self.math(ia, &el) {
                spec.initial_assignments.push(InitialAssignmentSpec {
                    variable: self.id(ia.attribute("symbol").unwrap_or("")),
                    math,
                    origin: None,
                });
            }
        }

        if let Some(l) = child(model, "listOfRules") {
            for r in l.children().filter(|c| c.is_element()) {
                let kind = match r.tag_name().name() {
                    "assignmentRule" | "parameterRule" | "speciesConcentrationRule" | "compartmentVolumeRule" => {
                        if r.attribute("type") == Some("rate") { RuleKind::Rate } else { RuleKind::Assignment }
                    }
                    "rateRule" => RuleKind::Rate,
                    "algebraicRule" => {
                        self.unsupported(r, "algebraicRule", "algebraic rule");
                        continue;
                    }
                    _ => continue,
                };
                let el = describe(r.tag_name().name(), r);
                if let Some(math) = self.math(r, &el) {
                    spec.rules.push(RuleSpec {
                        kind,
                        variable: self.id(r.attribute("variable").unwrap_or("")),
                        math,
                        origin: None,
                    });
                }
            }
        }

        let mut synthetic = 0usize;
        for r in list(model, "listOfReactions", "reaction") {
            let el = describe("reaction", r);
            if attr_bool(r, "fast") == Some(true) {
                self.unsupported(r, el.clone(), "fast reaction");
                continue;
            }
            let id = self.id(r.attribute("id").unwrap_or(""));
            let mut refs = |im: &mut Self, listname: &str, spec: &mut ModelSpec| -> Vec<SpeciesRef> {
                let mut out = Vec::new();
                for sr in list(r, listname, "speciesReference") {
                    let species = im.id(sr.attribute("species").unwrap_or(""));
                    let stoich = attr_f64(sr, "stoichiometry").unwrap_or(1.0);
                    let own_id = sr.attribute("id").map(|v| im.id(v));
                    let mut sref = SpeciesRef { species: species.clone(), stoichiometry: stoich, id: own_id.clone() };
                    // L2: stoichiometryMath is an expression for the stoichiometry.
                    let mut stoich_expr: Option<String> = None;
                    if let Some(sm) = child(sr, "stoichiometryMath")
                        && let Some(m) = im.math(sm, &format!("{el}, stoichiometryMath"))
                    {
                        stoich_expr = Some(format!("({})", m.text));
                    }
                    let cf = species_cf.get(&species).cloned();
                    if stoich_expr.is_some() || cf.is_some() {
                        // The species reference's own id (if any) keeps its plain meaning.
                        let base = match (&stoich_expr, &own_id) {
                            (Some(e), _) => e.clone(),
                            (None, Some(oid)) => oid.clone(),
                            (None, None) => neurex_model::spec::format_number(stoich),
                        };
                        if let Some(oid) = &own_id
                            && stoich_expr.is_none()
                        {
                            spec.parameters.push(ParameterSpec {
                                id: oid.clone(),
                                value: stoich,
                                constant: attr_bool(sr, "constant").unwrap_or(false),
                                ..Default::default()
                            });
                        }
                        synthetic += 1;
                        let sid = format!("__stoich{synthetic}");
                        let text = match &cf {
                            Some(cf) => format!("{base} * {cf}"),
                            None => base,
                        };
                        spec.rules.push(RuleSpec {
                            kind: RuleKind::Assignment,
                            variable: sid.clone(),
                            math: Math::new(text),
                            origin: None,
                        });
                        sref.id = Some(sid);
                    }
                    out.push(sref);
                }
                out
            };
            let reactants = refs(self, "listOfReactants", &mut spec);
            let products = refs(self, "listOfProducts", &mut spec);
            let modifiers = list(r, "listOfModifiers", "modifierSpeciesReference")
                .iter()
                .map(|m| self.id(m.attribute("species").unwrap_or("")))
                .collect();
            let (rate, parameters) = match child(r, "kineticLaw") {
                Some(kl) => {
                    let mut locals = Vec::new();
                    for lp in list(kl, "listOfLocalParameters", "localParameter").into_iter().chain(list(
                        kl,
                        "listOfParameters",
                        "parameter",
                    )) {
                        locals.push(LocalParameter {
                            id: lp.attribute("id").unwrap_or("").to_string(),
                            value: attr_f64(lp, "value").unwrap_or(f64::NAN),
                            unit: String::new(),
                        });
                    }
                    // Local parameters shadow globals inside the law: read it without renames for them.
                    let rate = self.math(kl, &format!("{el}, kineticLaw")).unwrap_or_else(|| Math::new("0"));
                    (rate, locals)
                }
                None => (Math::new("0"), Vec::new()),
            };
            let (description, provenance, system, _, _) = self.neurex_annotation(r);
            spec.reactions.push(ReactionSpec {
                id,
                reactants,
                products,
                modifiers,
                rate,
                reversible: attr_bool(r, "reversible").unwrap_or(true),
                parameters,
                description,
                system,
                provenance,
                origin: None,
            });
        }

        for ev in list(model, "listOfEvents", "event") {
            let el = describe("event", ev);
            let Some(tr) = child(ev, "trigger") else {
                self.diag(ev, el, DiagnosticKind::Invalid("no <trigger>".into()));
                continue;
            };
            let Some(trigger) = self.math(tr, &format!("{el}, trigger")) else { continue };
            let delay = match child(ev, "delay") {
                Some(d) => match self.math(d, &format!("{el}, delay")) {
                    Some(m) => Some(m),
                    None => continue,
                },
                None => None,
            };
            let priority = match child(ev, "priority") {
                Some(p) => match self.math(p, &format!("{el}, priority")) {
                    Some(m) => Some(m),
                    None => continue,
                },
                None => None,
            };
            let mut assignments = Vec::new();
            for ea in list(ev, "listOfEventAssignments", "eventAssignment") {
                let var = self.id(ea.attribute("variable").unwrap_or(""));
                if child(ea, "math").is_none() {
                    continue; // L3V2: an assignment without math does nothing.
                }
                if let Some(math) = self.math(ea, &format!("{el}, assignment to `{var}`")) {
                    assignments.push(EventAssignmentSpec { variable: var, math });
                }
            }
            let (description, _, _, _, _) = self.neurex_annotation(ev);
            spec.events.push(EventSpec {
                id: self.id(ev.attribute("id").unwrap_or("")),
                trigger,
                delay,
                priority,
                persistent: attr_bool(tr, "persistent").unwrap_or(true),
                initial_value: attr_bool(tr, "initialValue").unwrap_or(true),
                use_values_from_trigger_time: attr_bool(ev, "useValuesFromTriggerTime").unwrap_or(true),
                assignments,
                description,
                origin: None,
            });
        }
        spec
    }

    /// Packages the engine cannot run (comp, fbc) are refused; optional ones (layout, render,
    /// annotations) are ignored.
    fn check_packages(&mut self, root: Node<'_, '_>) {
        let mut seen = HashSet::new();
        for n in root.descendants().filter(|n| n.is_element()) {
            let Some(ns) = n.tag_name().namespace() else { continue };
            let pkg = if ns.contains("/comp/") {
                "comp package"
            } else if ns.contains("/fbc/")
                && matches!(n.tag_name().name(), "listOfObjectives" | "listOfFluxBounds" | "listOfGeneProducts")
            {
                "fbc package"
            } else if ns.contains("/multi/")
                || ns.contains("/spatial/")
                || ns.contains("/qual/")
                || ns.contains("/distrib/")
                || ns.contains("/arrays/")
            {
                "SBML package"
            } else {
                continue;
            };
            let key = format!("{pkg}:{ns}");
            if seen.insert(key) {
                let name = if pkg == "SBML package" {
                    format!("SBML package `{}`", ns.trim_end_matches('/').rsplit('/').nth(1).unwrap_or(ns))
                } else {
                    pkg.to_string()
                };
                self.unsupported(n, format!("<{}>", n.tag_name().name()), &name);
            }
        }
    }

    /// Every id in the model that clashes with a neurex reserved name gets a new name.
    fn collect_renames(&mut self, model: Node<'_, '_>) {
        let mut ids: HashSet<String> = HashSet::new();
        // Only SIds of core elements share the namespace of math symbols (unit ids do not).
        let core = model.tag_name().namespace();
        let in_core = |n: &Node<'_, '_>| {
            n.is_element()
                && n.tag_name().namespace() == core
                && !matches!(n.tag_name().name(), "unitDefinition" | "unit")
                && !n.ancestors().any(|a| a.tag_name().name() == "annotation" || a.tag_name().name() == "notes")
        };
        for n in model.descendants().filter(in_core) {
            if let Some(id) = n.attribute("id") {
                ids.insert(id.to_string());
            }
        }
        for id in ids.clone() {
            if RESERVED.contains(&id.as_str()) {
                let mut new = format!("{id}_");
                while ids.contains(&new) {
                    new.push('_');
                }
                ids.insert(new.clone());
                self.renames.insert(id, new);
            }
        }
    }

    /// Unit definitions as neurex unit strings, where they can be written as one.
    fn unit_definitions(&mut self, model: Node<'_, '_>) -> HashMap<String, String> {
        let mut out = HashMap::new();
        for base in ["second", "mole", "litre", "liter", "gram", "metre", "meter", "item", "dimensionless"] {
            if let Some(s) = unit_kind(base) {
                out.insert(base.to_string(), s.to_string());
            }
        }
        for ud in list(model, "listOfUnitDefinitions", "unitDefinition") {
            let id = ud.attribute("id").unwrap_or("");
            let mut num = Vec::new();
            let mut den = Vec::new();
            let mut ok = true;
            for u in list(ud, "listOfUnits", "unit") {
                let kind = u.attribute("kind").unwrap_or("");
                let exp = attr_f64(u, "exponent").unwrap_or(1.0);
                let scale = attr_f64(u, "scale").unwrap_or(0.0);
                let mult = attr_f64(u, "multiplier").unwrap_or(1.0);
                let Some(base) = unit_kind(kind) else {
                    ok = false;
                    break;
                };
                if base == "1" {
                    if mult != 1.0 || scale != 0.0 {
                        ok = false;
                    }
                    continue;
                }
                let sym = match (base, mult, scale as i32) {
                    ("s", 60.0, 0) => "min".to_string(),
                    ("s", 3600.0, 0) => "h".to_string(),
                    ("s", 86400.0, 0) => "day".to_string(),
                    (b, 1.0, sc) => match prefix(sc) {
                        Some(p) => format!("{p}{b}"),
                        None => {
                            ok = false;
                            break;
                        }
                    },
                    _ => {
                        ok = false;
                        break;
                    }
                };
                if exp.fract() != 0.0 || exp == 0.0 {
                    ok = false;
                    break;
                }
                let e = exp.abs() as i32;
                let term = if e == 1 { sym } else { format!("{sym}^{e}") };
                if exp > 0.0 { num.push(term) } else { den.push(term) }
            }
            if !ok {
                continue;
            }
            let mut s = if num.is_empty() { "1".to_string() } else { num.join("*") };
            for d in den {
                s.push('/');
                s.push_str(&d);
            }
            if parse_unit(&s).is_ok() {
                out.insert(id.to_string(), s);
            }
        }
        out
    }

    /// neurex metadata written by the exporter: (description, provenance, system, range, unit).
    #[allow(clippy::type_complexity)]
    fn neurex_annotation(
        &self,
        n: Node<'_, '_>,
    ) -> (String, Provenance, Option<String>, Option<[f64; 2]>, Option<String>) {
        let mut description = String::new();
        let mut prov = Provenance::default();
        let mut system = None;
        let mut range = None;
        let mut unit = None;
        let Some(ann) = child(n, "annotation") else { return (description, prov, system, range, unit) };
        for el in ann.children().filter(|c| c.is_element() && c.tag_name().namespace() == Some(NEUREX_NS)) {
            system = el.attribute("system").map(str::to_string);
            unit = el.attribute("unit").map(str::to_string).filter(|u| parse_unit(u).is_ok());
            if let (Some(lo), Some(hi)) = (attr_f64(el, "rangeLow"), attr_f64(el, "rangeHigh")) {
                range = Some([lo, hi]);
            }
            for c in el.children().filter(|c| c.is_element()) {
                let text = c.text().unwrap_or("").trim().to_string();
                match c.tag_name().name() {
                    "evidence" => prov.evidence.push(c.attribute("id").unwrap_or("").to_string()),
                    "assumption" => prov.assumption = Some(text),
                    "description" => description = text,
                    _ => {}
                }
            }
        }
        (description, prov, system, range, unit)
    }
}

fn unit_kind(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "second" => "s",
        "mole" => "mol",
        "litre" | "liter" => "L",
        "gram" => "g",
        "metre" | "meter" => "m",
        "item" => "item",
        "dimensionless" => "1",
        _ => return None,
    })
}

fn prefix(scale: i32) -> Option<&'static str> {
    Some(match scale {
        0 => "",
        -15 => "f",
        -12 => "p",
        -9 => "n",
        -6 => "u",
        -3 => "m",
        -2 => "c",
        -1 => "d",
        3 => "k",
        6 => "M",
        _ => return None,
    })
}

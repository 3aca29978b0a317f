//! Explaining the model: what drives a variable and what it drives, through which couplings,
//! with signs, evidence ids and sources; and the mechanism map (the five systems as groups,
//! couplings with signs, exercise, stress and outcome nodes) as Graphviz DOT or SVG.

use crate::evidence::Registry;
use neurex_model::ModelSpec;
use neurex_model::spec::{CouplingSpec, Sign};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// One edge in an explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edge {
    /// The other end.
    pub other: String,
    /// `+`, `-`, or `?` for a direct dependency without a declared coupling.
    pub sign: String,
    /// Parameter that sets its strength.
    pub via: Option<String>,
    /// Description.
    pub description: String,
    /// Evidence ids, each with its source.
    pub evidence: Vec<(String, String)>,
    /// Assumption, if any.
    pub assumption: Option<String>,
    /// True for a documented coupling, false for a dependency read from the equations.
    pub coupling: bool,
}

/// What the model says about one variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// Id.
    pub id: String,
    /// Kind (state, variable, parameter).
    pub kind: String,
    /// Unit.
    pub unit: String,
    /// System.
    pub system: String,
    /// Description.
    pub description: String,
    /// Its equation.
    pub equation: String,
    /// Its own evidence.
    pub evidence: Vec<(String, String)>,
    /// What drives it.
    pub drivers: Vec<Edge>,
    /// What it drives.
    pub drives: Vec<Edge>,
}

/// Identifiers in an expression's text.
fn symbols(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|s| !s.is_empty() && !s.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

fn source(registry: &Registry, id: &str) -> String {
    if let Some(t) = registry.targets.iter().find(|t| t.id == id) {
        return format!("{} ({})", t.source, t.quantity);
    }
    if let Some(c) = registry.claims.iter().find(|c| c.id == id) {
        return format!("founding review: {}", c.text);
    }
    "unknown id".into()
}

fn sign_text(s: Option<Sign>) -> String {
    match s {
        Some(Sign::Positive) => "+".into(),
        Some(Sign::Negative) => "-".into(),
        None => "?".into(),
    }
}

fn coupling_edge(c: &CouplingSpec, other: &str, registry: &Registry) -> Edge {
    Edge {
        other: other.to_string(),
        sign: sign_text(c.sign),
        via: c.via.clone(),
        description: c.description.clone(),
        evidence: c.provenance.evidence.iter().map(|e| (e.clone(), source(registry, e))).collect(),
        assumption: c.provenance.assumption.clone(),
        coupling: true,
    }
}

/// The equations of every state and variable: id → (kind, text).
fn equations(spec: &ModelSpec) -> BTreeMap<String, (&'static str, String)> {
    let mut m = BTreeMap::new();
    for s in &spec.states {
        m.insert(s.id.clone(), ("state", format!("d{}/dt = {}", s.id, s.rate.text)));
    }
    for v in &spec.variables {
        m.insert(v.id.clone(), ("variable", format!("{} = {}", v.id, v.math.text)));
    }
    m
}

/// Explain `id`, or say which ids exist.
pub fn explain(spec: &ModelSpec, id: &str, registry: &Registry) -> Result<Explanation, String> {
    let eqs = equations(spec);
    let param = spec.parameters.iter().find(|p| p.id == id);
    let (kind, unit, description, equation, prov) = if let Some(s) = spec.states.iter().find(|s| s.id == id) {
        ("state", s.unit.clone(), s.description.clone(), eqs[id].1.clone(), &s.provenance)
    } else if let Some(v) = spec.variables.iter().find(|v| v.id == id) {
        ("variable", v.unit.clone(), v.description.clone(), eqs[id].1.clone(), &v.provenance)
    } else if let Some(p) = param {
        ("parameter", p.unit.clone(), p.description.clone(), format!("{} = {}", p.id, p.value), &p.provenance)
    } else {
        let mut near: Vec<&str> =
            eqs.keys().map(String::as_str).filter(|k| k.contains(id) || id.contains(*k)).take(8).collect();
        near.sort_unstable();
        return Err(format!(
            "`{id}` is not a state, variable or parameter of the model{}",
            if near.is_empty() { String::new() } else { format!(" (did you mean: {})", near.join(", ")) }
        ));
    };
    let mut drivers: Vec<Edge> =
        spec.couplings.iter().filter(|c| c.to == id).map(|c| coupling_edge(c, &c.from, registry)).collect();
    let mut drives: Vec<Edge> =
        spec.couplings.iter().filter(|c| c.from == id).map(|c| coupling_edge(c, &c.to, registry)).collect();
    // Direct dependencies read from the equations (within-system links and parameters).
    if let Some((_, text)) = eqs.get(id) {
        let rhs = text.split_once('=').map_or("", |x| x.1);
        for s in symbols(rhs) {
            if s != id && eqs.contains_key(&s) && !drivers.iter().any(|e| e.other == s) {
                drivers.push(Edge {
                    other: s,
                    sign: "?".into(),
                    via: None,
                    description: "appears in the equation".into(),
                    evidence: vec![],
                    assumption: None,
                    coupling: false,
                });
            }
        }
    }
    for (other, (_, text)) in &eqs {
        let rhs = text.split_once('=').map_or("", |x| x.1);
        if other != id && symbols(rhs).contains(id) && !drives.iter().any(|e| &e.other == other) {
            drives.push(Edge {
                other: other.clone(),
                sign: "?".into(),
                via: None,
                description: "uses it in its equation".into(),
                evidence: vec![],
                assumption: None,
                coupling: false,
            });
        }
    }
    Ok(Explanation {
        id: id.to_string(),
        kind: kind.to_string(),
        unit,
        system: spec.system_of(id).unwrap_or(group_of(id)).to_string(),
        description,
        equation,
        evidence: prov.evidence.iter().map(|e| (e.clone(), source(registry, e))).collect(),
        drivers,
        drives,
    })
}

/// Human-readable text of an explanation.
pub fn explanation_text(e: &Explanation) -> String {
    let mut s = String::new();
    let _ =
        writeln!(s, "{} ({}, {}, system: {})\n  {}\n  {}", e.id, e.kind, e.unit, e.system, e.description, e.equation);
    for (id, src) in &e.evidence {
        let _ = writeln!(s, "  evidence {id}: {src}");
    }
    for (title, edges) in [("driven by", &e.drivers), ("drives", &e.drives)] {
        let _ = writeln!(s, "\n{title}:");
        if edges.is_empty() {
            let _ = writeln!(s, "  (nothing)");
        }
        for ed in edges.iter().filter(|x| x.coupling) {
            let _ = writeln!(
                s,
                "  [{}] {:<28} via {:<30} {}",
                ed.sign,
                ed.other,
                ed.via.as_deref().unwrap_or("-"),
                ed.description
            );
            for (id, src) in &ed.evidence {
                let _ = writeln!(s, "        {id}: {src}");
            }
            if let Some(a) = &ed.assumption {
                let _ = writeln!(s, "        assumption: {a}");
            }
        }
        let direct: Vec<&str> = edges.iter().filter(|x| !x.coupling).map(|x| x.other.as_str()).collect();
        if !direct.is_empty() {
            let _ = writeln!(s, "  within the equations (no documented coupling): {}", direct.join(", "));
        }
    }
    s
}

/// Group of a node without a declared system.
pub fn group_of(id: &str) -> &'static str {
    const OUTCOME: [&str; 9] = [
        "symptom_fast",
        "depression_severity",
        "latent_severity",
        "hamd17",
        "madrs",
        "bdi2",
        "phq9",
        "sucrose_preference",
        "fst_immobility",
    ];
    if OUTCOME.contains(&id) {
        "outcome"
    } else if id == "chronic_stress" || id == "stress_input" {
        "stress"
    } else {
        "exercise"
    }
}

const GROUPS: [(&str, &str, &str); 8] = [
    ("exercise", "Exercise (dose, muscle, training load)", "#e9f5db"),
    ("stress", "Chronic stress (CUMS input)", "#f1f1f1"),
    ("monoamines", "Monoamines", "#e0f2fe"),
    ("bdnf", "BDNF and neurogenesis", "#fef3c7"),
    ("hpa", "Neuroendocrine", "#fde2e4"),
    ("immune", "Neuroimmune", "#ede9fe"),
    ("structure", "Brain structure", "#dcfce7"),
    ("outcome", "Outcome", "#fee2e2"),
];

fn nodes(spec: &ModelSpec) -> BTreeMap<&'static str, Vec<String>> {
    let mut by: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for c in &spec.couplings {
        for id in [&c.from, &c.to] {
            let g = spec
                .system_of(id)
                .map_or(group_of(id), |s| GROUPS.iter().find(|g| g.0 == s).map_or("exercise", |g| g.0));
            by.entry(g).or_default().insert(id.clone());
        }
    }
    // The scales hang off the outcome.
    by.entry("outcome").or_default().insert("hamd17".into());
    by.into_iter().map(|(k, v)| (k, v.into_iter().collect())).collect()
}

/// The mechanism map as Graphviz DOT.
pub fn graph_dot(spec: &ModelSpec) -> String {
    let mut s = String::from(
        "digraph neurex {\n  rankdir=LR; compound=true; node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", fontsize=10];\n  edge [fontsize=8];\n",
    );
    let by = nodes(spec);
    for (g, title, color) in GROUPS {
        let Some(ids) = by.get(g) else { continue };
        let _ = writeln!(s, "  subgraph cluster_{g} {{ label=\"{title}\"; style=filled; color=\"{color}\";");
        for id in ids {
            let _ = writeln!(s, "    \"{id}\";");
        }
        s.push_str("  }\n");
    }
    for c in &spec.couplings {
        let (color, head) = match c.sign {
            Some(Sign::Negative) => ("#c1121f", "tee"),
            _ => ("#2a9d8f", "normal"),
        };
        let _ = writeln!(
            s,
            "  \"{}\" -> \"{}\" [color=\"{color}\", arrowhead={head}, tooltip=\"{} {} ({})\"];",
            c.from,
            c.to,
            sign_text(c.sign),
            c.via.as_deref().unwrap_or(""),
            c.provenance.evidence.join(", ")
        );
    }
    s.push_str("  \"latent_severity\" [shape=ellipse, fillcolor=\"#fee2e2\"];\n  \"symptom_fast\" -> \"latent_severity\"; \"depression_severity\" -> \"latent_severity\"; \"latent_severity\" -> \"hamd17\";\n}\n");
    s
}

/// The mechanism map as a self-contained SVG: one column per group, couplings as curves
/// (green activation, red inhibition).
pub fn graph_svg(spec: &ModelSpec) -> String {
    let by = nodes(spec);
    let cols: Vec<(&str, &str, &str, &Vec<String>)> =
        GROUPS.iter().filter_map(|(g, t, c)| by.get(g).map(|ids| (*g, *t, *c, ids))).collect();
    let (colw, rowh, top, nodew) = (190.0, 26.0, 60.0, 160.0);
    let rows = cols.iter().map(|c| c.3.len()).max().unwrap_or(1) as f64;
    let (w, h) = (colw * cols.len() as f64 + 20.0, top + rowh * rows + 40.0);
    let mut pos: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="10"><rect width="{w}" height="{h}" fill="white"/><text x="10" y="20" font-size="14" font-weight="bold">neurex mechanism map: {} couplings (green +, red -)</text>"#,
        spec.couplings.len()
    );
    for (k, (_, title, color, ids)) in cols.iter().enumerate() {
        let x = 10.0 + colw * k as f64;
        let _ = write!(
            s,
            r#"<rect x="{x}" y="32" width="{}" height="{}" fill="{color}" rx="8"/><text x="{}" y="48" font-weight="bold">{title}</text>"#,
            colw - 10.0,
            h - 40.0,
            x + 6.0
        );
        for (r, id) in ids.iter().enumerate() {
            let y = top + rowh * r as f64;
            pos.insert(id.as_str(), (x + 10.0, y));
        }
    }
    for c in &spec.couplings {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(c.from.as_str()), pos.get(c.to.as_str())) else { continue };
        let color = if c.sign == Some(Sign::Negative) { "#c1121f" } else { "#2a9d8f" };
        let (sx, sy, ex, ey) = (x1 + nodew, y1 + 9.0, x2, y2 + 9.0);
        let bend = if (sx - ex).abs() < colw { 60.0 } else { (ex - sx) / 3.0 };
        let _ = write!(
            s,
            r#"<path d="M{sx:.1},{sy:.1} C{:.1},{sy:.1} {:.1},{ey:.1} {ex:.1},{ey:.1}" fill="none" stroke="{color}" stroke-opacity="0.55" stroke-width="1"><title>{} -> {} ({}) via {} [{}]</title></path>"#,
            sx + bend,
            ex - bend,
            c.from,
            c.to,
            sign_text(c.sign),
            c.via.as_deref().unwrap_or("-"),
            c.provenance.evidence.join(", ")
        );
    }
    for (id, (x, y)) in &pos {
        let _ = write!(
            s,
            r##"<rect x="{x}" y="{y}" width="{nodew}" height="18" rx="4" fill="white" stroke="#555"/><text x="{}" y="{}">{id}</text>"##,
            x + 4.0,
            y + 13.0
        );
    }
    s.push_str("</svg>\n");
    s
}

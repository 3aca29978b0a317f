//! What a model file says, addressed by name. Serde round-trips it; `compile` turns it into
//! the indexed form the solver uses. The element kinds map one to one onto SBML Level 3 core,
//! plus `state` (parameter + rate rule) and `variable` (parameter + assignment rule).

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Where an element or expression came from: file index into [`ModelSpec::sources`] and a byte
/// range. Absent for models built in code or imported from SBML.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// Index into [`ModelSpec::sources`].
    pub file: usize,
    /// Byte range in that file.
    pub span: Range<usize>,
}

/// A mathematical expression as written, with its position in the source when known.
#[derive(Debug, Clone, Default)]
pub struct Math {
    /// Expression text in the neurex expression syntax.
    pub text: String,
    /// Byte range of the string's contents (inside the quotes) in the source file.
    pub origin: Option<Origin>,
}

impl PartialEq for Math {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Math {
    /// An expression without source position.
    pub fn new(text: impl Into<String>) -> Self {
        Math { text: text.into(), origin: None }
    }
}

impl From<&str> for Math {
    fn from(s: &str) -> Self {
        Math::new(s)
    }
}

impl Serialize for Math {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.text.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Math {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum NumOrText {
            Num(f64),
            Text(String),
        }
        let spanned = toml::Spanned::<NumOrText>::deserialize(d)?;
        let span = spanned.span();
        Ok(match spanned.into_inner() {
            NumOrText::Num(x) => Math::new(format_number(x)),
            NumOrText::Text(text) => {
                // The span covers the quotes of a basic string; the text starts one byte in.
                let inner = (span.start + 1)..(span.end.saturating_sub(1)).max(span.start + 1);
                Math { text, origin: Some(Origin { file: usize::MAX, span: inner }) }
            }
        })
    }
}

/// Shortest text that parses back to exactly `x`.
pub fn format_number(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "INF".into() } else { "-INF".into() }
    } else {
        let s = format!("{x:?}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    }
}

/// Provenance of an element: the claim/target ids it encodes, or why it is an assumption.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// Claim ids (`C2.3`) or target ids (`S2-01`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// One-line reason when the value is not fixed by a source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumption: Option<String>,
}

impl Provenance {
    /// True if the element cites evidence or states an assumption.
    pub fn is_present(&self) -> bool {
        !self.evidence.is_empty() || self.assumption.as_deref().is_some_and(|a| !a.trim().is_empty())
    }
}

macro_rules! element {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $f:ident : $t:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fm])* pub $f: $t,)*
            /// Where the element was written.
            #[serde(skip)]
            pub origin: Option<Origin>,
        }
    };
}

element! {
    /// The `[model]` table.
    pub struct ModelHeader {
        /// Identifier.
        pub id: String,
        /// Human name.
        #[serde(default)]
        pub name: String,
        /// Unit of `time` in expressions (e.g. `h`).
        #[serde(default = "default_time_unit")]
        pub time_unit: String,
        /// What the model is for.
        #[serde(default)]
        pub description: String,
        /// Files whose elements are appended to this one, relative to it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub includes: Vec<String>,
        /// Period of the time forcing (circadian), if the model is periodic.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub period: Option<f64>,
        /// Periods (or, without a period, 24 time units) simulated before t0 to reach steady state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub equilibration_periods: Option<u32>,
    }
}

fn default_time_unit() -> String {
    "h".into()
}

element! {
    /// A constant parameter.
    pub struct ParameterSpec {
        /// Identifier.
        pub id: String,
        /// Value.
        pub value: f64,
        /// Unit string.
        #[serde(default)]
        pub unit: String,
        /// Plausible range (for virtual patients and fitting).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub range: Option<[f64; 2]>,
        /// What it means.
        #[serde(default)]
        pub description: String,
        /// System it belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub system: Option<String>,
        /// SBML `constant`; false if events may change it.
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        pub constant: bool,
        /// Provenance.
        #[serde(flatten)]
        pub provenance: Provenance,
    }
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}
fn is_false(b: &bool) -> bool {
    !*b
}

element! {
    /// A quantity defined by a differential equation (SBML: parameter + rate rule).
    pub struct StateSpec {
        /// Identifier.
        pub id: String,
        /// Unit string.
        #[serde(default)]
        pub unit: String,
        /// Initial value (number or expression).
        pub initial: Math,
        /// Time derivative.
        pub rate: Math,
        /// Physiological range (reports).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub range: Option<[f64; 2]>,
        /// What it means.
        #[serde(default)]
        pub description: String,
        /// System it belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub system: Option<String>,
        /// Provenance.
        #[serde(flatten)]
        pub provenance: Provenance,
    }
}

element! {
    /// A quantity defined by an assignment rule (SBML: parameter + assignment rule).
    pub struct VariableSpec {
        /// Identifier.
        pub id: String,
        /// Unit string.
        #[serde(default)]
        pub unit: String,
        /// Defining expression.
        pub math: Math,
        /// What it means.
        #[serde(default)]
        pub description: String,
        /// System it belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub system: Option<String>,
        /// Provenance.
        #[serde(flatten)]
        pub provenance: Provenance,
    }
}

element! {
    /// A function definition (SBML lambda).
    pub struct FunctionSpec {
        /// Identifier.
        pub id: String,
        /// Argument names.
        pub args: Vec<String>,
        /// Body.
        pub math: Math,
        /// What it computes.
        #[serde(default)]
        pub description: String,
    }
}

element! {
    /// An SBML compartment.
    pub struct CompartmentSpec {
        /// Identifier.
        pub id: String,
        /// Size (volume for 3 dimensions); `None` if set by an initial assignment or rule.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub size: Option<f64>,
        /// Unit string.
        #[serde(default)]
        pub unit: String,
        /// SBML `constant`.
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        pub constant: bool,
        /// SBML `spatialDimensions`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub spatial_dimensions: Option<f64>,
        /// What it is.
        #[serde(default)]
        pub description: String,
        /// Provenance.
        #[serde(flatten)]
        pub provenance: Provenance,
    }
}

element! {
    /// An SBML species.
    pub struct SpeciesSpec {
        /// Identifier.
        pub id: String,
        /// Compartment id.
        pub compartment: String,
        /// Initial amount.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_amount: Option<f64>,
        /// Initial concentration.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_concentration: Option<f64>,
        /// Unit of the value the symbol stands for.
        #[serde(default)]
        pub unit: String,
        /// SBML `hasOnlySubstanceUnits`: the symbol means amount, not concentration.
        #[serde(default, skip_serializing_if = "is_false")]
        pub has_only_substance_units: bool,
        /// SBML `boundaryCondition`: reactions do not change it.
        #[serde(default, skip_serializing_if = "is_false")]
        pub boundary_condition: bool,
        /// SBML `constant`.
        #[serde(default, skip_serializing_if = "is_false")]
        pub constant: bool,
        /// What it is.
        #[serde(default)]
        pub description: String,
        /// System it belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub system: Option<String>,
        /// Provenance.
        #[serde(flatten)]
        pub provenance: Provenance,
    }
}

/// A species taking part in a reaction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeciesRef {
    /// Species id.
    pub species: String,
    /// Stoichiometry (default 1).
    #[serde(default = "one")]
    pub stoichiometry: f64,
    /// SBML speciesReference id, when its stoichiometry is a variable set by rules or events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

fn one() -> f64 {
    1.0
}

/// A reaction-local parameter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalParameter {
    /// Identifier (shadows global ids inside the kinetic law).
    pub id: String,
    /// Value.
    pub value: f64,
    /// Unit string.
    #[serde(default)]
    pub unit: String,
}

element! {
    /// An SBML reaction.
    pub struct ReactionSpec {
        /// Identifier.
        pub id: String,
        /// Consumed species.
        #[serde(default)]
        pub reactants: Vec<SpeciesRef>,
        /// Produced species.
        #[serde(default)]
        pub products: Vec<SpeciesRef>,
        /// Species that affect the rate without being consumed.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub modifiers: Vec<String>,
        /// Kinetic law, in substance per time.
        pub rate: Math,
        /// SBML `reversible`.
        #[serde(default, skip_serializing_if = "is_false")]
        pub reversible: bool,
        /// Local parameters.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub parameters: Vec<LocalParameter>,
        /// What it is.
        #[serde(default)]
        pub description: String,
        /// System it belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub system: Option<String>,
        /// Provenance.
        #[serde(flatten)]
        pub provenance: Provenance,
    }
}

/// Kind of an explicit SBML rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// `variable = math` at all times.
    #[default]
    Assignment,
    /// `d(variable)/dt = math`.
    Rate,
    /// `0 = math` (not supported by the engine; kept so that importers can report it).
    Algebraic,
}

element! {
    /// An explicit SBML rule.
    pub struct RuleSpec {
        /// Assignment, rate or algebraic.
        pub kind: RuleKind,
        /// Target id (empty for algebraic rules).
        #[serde(default)]
        pub variable: String,
        /// Expression.
        pub math: Math,
    }
}

element! {
    /// An SBML initial assignment.
    pub struct InitialAssignmentSpec {
        /// Target id.
        pub variable: String,
        /// Expression evaluated at t0.
        pub math: Math,
    }
}

/// One assignment carried out when an event fires.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventAssignmentSpec {
    /// Target id.
    pub variable: String,
    /// New value.
    pub math: Math,
}

element! {
    /// An SBML event.
    pub struct EventSpec {
        /// Identifier.
        #[serde(default)]
        pub id: String,
        /// Boolean trigger; the event fires when it turns from false to true.
        pub trigger: Math,
        /// Delay between firing and execution.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub delay: Option<Math>,
        /// Priority among events executing at the same time (higher first).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub priority: Option<Math>,
        /// SBML `persistent`.
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        pub persistent: bool,
        /// SBML `initialValue`.
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        pub initial_value: bool,
        /// SBML `useValuesFromTriggerTime`.
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        pub use_values_from_trigger_time: bool,
        /// Assignments.
        #[serde(default)]
        pub assignments: Vec<EventAssignmentSpec>,
        /// What it represents.
        #[serde(default)]
        pub description: String,
    }
}

/// Sign of a coupling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sign {
    /// Activation.
    #[serde(rename = "+")]
    Positive,
    /// Inhibition.
    #[serde(rename = "-")]
    Negative,
}

element! {
    /// A documented cross-system edge.
    pub struct CouplingSpec {
        /// Source variable.
        pub from: String,
        /// Target variable (its rate or defining expression depends on `from`).
        pub to: String,
        /// Expected sign of the dependence.
        pub sign: Option<Sign>,
        /// Parameter setting its strength.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub via: Option<String>,
        /// What it is.
        #[serde(default)]
        pub description: String,
        /// Provenance.
        #[serde(flatten)]
        pub provenance: Provenance,
    }
}

element! {
    /// One of the model's systems.
    pub struct SystemSpec {
        /// Identifier (`hpa`).
        pub id: String,
        /// Human name.
        #[serde(default)]
        pub name: String,
        /// Headline markers reported in summaries.
        #[serde(default)]
        pub headline: Vec<String>,
        /// What it covers.
        #[serde(default)]
        pub description: String,
    }
}

/// One parameter override of a phenotype.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhenotypeSetting {
    /// Parameter id.
    pub parameter: String,
    /// Value in this phenotype.
    pub value: f64,
    /// Provenance.
    #[serde(flatten)]
    pub provenance: Provenance,
}

element! {
    /// A named parameter set.
    pub struct PhenotypeSpec {
        /// Identifier (`depressed`).
        pub id: String,
        /// What it represents.
        #[serde(default)]
        pub description: String,
        /// Another phenotype this one starts from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub extends: Option<String>,
        /// Parameter overrides.
        #[serde(default)]
        pub set: Vec<PhenotypeSetting>,
    }
}

/// A whole model: the union of its files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Header.
    pub model: ModelHeader,
    /// Systems.
    #[serde(default, rename = "system", skip_serializing_if = "Vec::is_empty")]
    pub systems: Vec<SystemSpec>,
    /// Function definitions.
    #[serde(default, rename = "function", skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionSpec>,
    /// Compartments.
    #[serde(default, rename = "compartment", skip_serializing_if = "Vec::is_empty")]
    pub compartments: Vec<CompartmentSpec>,
    /// Species.
    #[serde(default, rename = "species", skip_serializing_if = "Vec::is_empty")]
    pub species: Vec<SpeciesSpec>,
    /// Parameters.
    #[serde(default, rename = "parameter", skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ParameterSpec>,
    /// States.
    #[serde(default, rename = "state", skip_serializing_if = "Vec::is_empty")]
    pub states: Vec<StateSpec>,
    /// Variables.
    #[serde(default, rename = "variable", skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<VariableSpec>,
    /// Initial assignments.
    #[serde(default, rename = "initial_assignment", skip_serializing_if = "Vec::is_empty")]
    pub initial_assignments: Vec<InitialAssignmentSpec>,
    /// Rules.
    #[serde(default, rename = "rule", skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleSpec>,
    /// Reactions.
    #[serde(default, rename = "reaction", skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<ReactionSpec>,
    /// Events.
    #[serde(default, rename = "event", skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventSpec>,
    /// Couplings.
    #[serde(default, rename = "coupling", skip_serializing_if = "Vec::is_empty")]
    pub couplings: Vec<CouplingSpec>,
    /// Phenotypes.
    #[serde(default, rename = "phenotype", skip_serializing_if = "Vec::is_empty")]
    pub phenotypes: Vec<PhenotypeSpec>,
    /// Source files, for diagnostics: (name, text).
    #[serde(skip)]
    pub sources: Vec<(String, String)>,
}

impl ModelSpec {
    /// Every parameter-like element with its provenance, for evidence checks:
    /// (kind, id, provenance).
    pub fn provenance_entries(&self) -> Vec<(&'static str, String, &Provenance)> {
        let mut out = Vec::new();
        for p in &self.parameters {
            out.push(("parameter", p.id.clone(), &p.provenance));
        }
        for s in &self.states {
            out.push(("state", s.id.clone(), &s.provenance));
        }
        for v in &self.variables {
            out.push(("variable", v.id.clone(), &v.provenance));
        }
        for s in &self.species {
            out.push(("species", s.id.clone(), &s.provenance));
        }
        for r in &self.reactions {
            out.push(("reaction", r.id.clone(), &r.provenance));
        }
        for c in &self.couplings {
            out.push(("coupling", format!("{} -> {}", c.from, c.to), &c.provenance));
        }
        for ph in &self.phenotypes {
            for s in &ph.set {
                out.push(("phenotype setting", format!("{}.{}", ph.id, s.parameter), &s.provenance));
            }
        }
        out
    }

    /// The system an id belongs to, if declared.
    pub fn system_of(&self, id: &str) -> Option<&str> {
        fn find(s: &Option<String>) -> Option<&str> {
            s.as_deref()
        }
        self.states
            .iter()
            .find(|s| s.id == id)
            .and_then(|s| find(&s.system))
            .or_else(|| self.variables.iter().find(|s| s.id == id).and_then(|s| find(&s.system)))
            .or_else(|| self.parameters.iter().find(|s| s.id == id).and_then(|s| find(&s.system)))
            .or_else(|| self.species.iter().find(|s| s.id == id).and_then(|s| find(&s.system)))
    }
}

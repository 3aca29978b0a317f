//! The evidence registry (`evidence/registry.toml`, generated from the founding review's claims
//! and the calibration targets) and the provenance check every model element must pass.

use neurex_model::ModelSpec;
use serde::Deserialize;

static REGISTRY: &str = include_str!("../../../evidence/registry.toml");

/// A claim of the founding review.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Claim {
    /// Id (`C2.3`).
    pub id: String,
    /// System.
    pub system: String,
    /// Claim text (English).
    pub text: String,
    /// Species the evidence comes from.
    pub species: String,
}

/// A calibration target.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Target {
    /// Id (`S2-01`).
    pub id: String,
    /// Quantity.
    pub quantity: String,
    /// Population.
    #[serde(default)]
    pub population: String,
    /// Value as published.
    pub value: String,
    /// Source.
    pub source: String,
    /// Confidence grade (C, L, U).
    #[serde(default)]
    pub confidence: String,
}

/// The registry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Registry {
    /// Claims.
    #[serde(rename = "claim")]
    pub claims: Vec<Claim>,
    /// Targets.
    #[serde(rename = "target")]
    pub targets: Vec<Target>,
}

impl Registry {
    /// The registry embedded in the binary.
    pub fn embedded() -> Registry {
        #[derive(Deserialize)]
        struct Raw {
            claim: Vec<toml::Value>,
            target: Vec<toml::Value>,
        }
        // Unknown fields are ignored: the generator may add columns.
        let raw: Raw = toml::from_str(REGISTRY).expect("evidence/registry.toml is valid TOML");
        let claims = raw.claim.into_iter().map(|v| v.try_into().expect("claim entries are well-formed")).collect();
        let targets = raw.target.into_iter().map(|v| v.try_into().expect("target entries are well-formed")).collect();
        Registry { claims, targets }
    }

    /// True if `id` is a claim or target id.
    pub fn knows(&self, id: &str) -> bool {
        self.claims.iter().any(|c| c.id == id) || self.targets.iter().any(|t| t.id == id)
    }

    /// Seed claims of the review proper (C1.1 … C6.1, not the S0 context claims).
    pub fn seed_claims(&self) -> impl Iterator<Item = &Claim> {
        self.claims.iter().filter(|c| c.id.starts_with('C'))
    }
}

/// Every provenance problem in a model: elements with neither evidence nor an assumption,
/// and evidence ids that are not in the registry.
pub fn provenance_problems(spec: &ModelSpec, registry: &Registry) -> Vec<String> {
    let mut out = Vec::new();
    for (kind, id, prov) in spec.provenance_entries() {
        if !prov.is_present() {
            out.push(format!("{kind} `{id}` has neither `evidence` nor `assumption`"));
        }
        for e in &prov.evidence {
            if !registry.knows(e) {
                out.push(format!("{kind} `{id}` cites `{e}`, which is neither a claim nor a target id"));
            }
        }
    }
    for p in &spec.parameters {
        if p.range.is_none() {
            out.push(format!("parameter `{}` has no plausible `range`", p.id));
        }
    }
    out
}

//! Virtual populations: who the patients are. Each patient's parameters are drawn around a
//! phenotype within each parameter's plausible range, shifted by covariates (age, sex, BMI)
//! and by subgroups the evidence supports (an inflamed subgroup, S4-04; an HPA-hyperactive
//! subgroup, S3-04/S3-20), with correlations where biology couples two parameters.
//!
//! A patient is a pure function of its random stream, so of `(master seed, index)`.

use neurex_model::CompiledModel;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A problem with a spec: which field, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{field}`: {reason}")]
pub struct SpecError {
    /// Dotted path of the field (`population.subgroup[0].fraction`).
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl SpecError {
    /// A new error.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SpecError { field: field.into(), reason: reason.into() }
    }
}

/// Where a number comes from: target ids from `targets.md` / claim ids, or a stated assumption.
/// Every non-model effect in a spec must have one or the other.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Target or claim ids (`OUT-17`, `S4-04`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// What was assumed, when no source gives the number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumption: Option<String>,
}

impl Source {
    /// From evidence ids.
    pub fn evidence(ids: &[&str]) -> Self {
        Source { evidence: ids.iter().map(|s| s.to_string()).collect(), assumption: None }
    }
    /// An assumption.
    pub fn assumption(text: &str) -> Self {
        Source { evidence: Vec::new(), assumption: Some(text.to_string()) }
    }
    pub(crate) fn check(&self, field: &str) -> Result<(), SpecError> {
        if self.evidence.is_empty() && self.assumption.as_deref().is_none_or(|a| a.trim().is_empty()) {
            return Err(SpecError::new(
                field,
                "needs `evidence` (target ids) or an `assumption` saying what was assumed",
            ));
        }
        Ok(())
    }
}

/// A normal distribution truncated to `[min, max]` (by clipping).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounded {
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub sd: f64,
    /// Lower bound.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
}

impl Bounded {
    fn check(&self, field: &str) -> Result<(), SpecError> {
        let ok = [self.mean, self.sd, self.min, self.max].iter().all(|v| v.is_finite())
            && self.sd >= 0.0
            && self.min <= self.max;
        if !ok {
            return Err(SpecError::new(field, format!("need finite mean, sd >= 0 and min <= max (got {self:?})")));
        }
        Ok(())
    }
    fn draw(&self, rng: &mut ChaCha8Rng) -> f64 {
        let z: f64 = StandardNormal.sample(rng);
        (self.mean + self.sd * z).clamp(self.min, self.max)
    }
}

/// Covariates: who enrols in a typical depression trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CovariateSpec {
    /// Age in years (default mean 40, SD 12, 18–75: typical adult MDD trials; assumption).
    pub age: Bounded,
    /// Share of women (default 0.65; assumption, women are the majority in exercise trials).
    pub female_fraction: f64,
    /// Body-mass index in kg/m² (default mean 27, SD 5, 17–50; assumption).
    pub bmi: Bounded,
}

impl Default for CovariateSpec {
    fn default() -> Self {
        CovariateSpec {
            age: Bounded { mean: 40.0, sd: 12.0, min: 18.0, max: 75.0 },
            female_fraction: 0.65,
            bmi: Bounded { mean: 27.0, sd: 5.0, min: 17.0, max: 50.0 },
        }
    }
}

/// A covariate that shifts a parameter: `p ← p · exp(per_unit · (x − centre))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CovariateEffectSpec {
    /// `age` (years), `female` (0/1) or `bmi` (kg/m²).
    pub covariate: String,
    /// Model parameter.
    pub parameter: String,
    /// Change of the log-parameter per unit of the covariate.
    pub per_unit: f64,
    /// Covariate value at which the parameter keeps its phenotype value.
    pub centre: f64,
    /// Where the number comes from.
    pub source: Source,
}

/// A subgroup: a share of patients whose parameters are scaled or set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgroupSpec {
    /// Name (`inflamed`).
    pub name: String,
    /// Share of patients in it (independent of other subgroups).
    pub fraction: f64,
    /// Parameters multiplied by a factor.
    #[serde(default)]
    pub scale: BTreeMap<String, f64>,
    /// Parameters set to a value.
    #[serde(default)]
    pub set: BTreeMap<String, f64>,
    /// Where the share and the shifts come from.
    pub source: Source,
}

/// Two parameters whose deviations are correlated (`rho` between their standard normal draws).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrelationSpec {
    /// First parameter.
    pub a: String,
    /// Second parameter (its draw is made to correlate with `a`'s).
    pub b: String,
    /// Correlation, in (−1, 1).
    pub rho: f64,
    /// Where it comes from.
    pub source: Source,
}

/// A virtual population, as written in a trial design's `[population]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PopulationSpec {
    /// Phenotype of the patients (default `depressed`).
    pub phenotype: String,
    /// Share of patients drawn from the `healthy` phenotype instead (default 0).
    pub healthy_fraction: f64,
    /// Spread of every parameter with a declared range: the SD of its log (or of its value,
    /// for ranges reaching 0) is `variability` × a quarter of the log-range, so that 1 puts the
    /// range at about ±2 SD. Default 0.15 (assumption, set on spread alone): screened adults with
    /// MDD then have a baseline HAM-D17 SD of about 4 (SCL-12: 2–7 in depression RCTs) and a
    /// pooled endpoint SD of about 6 (SCL-12: 4–8, the SD the SMD validation rows use); 0.3 gave
    /// a baseline of 26 ± 6.5 (severe, SCL-09) and an endpoint SD near 8.
    pub variability: f64,
    /// Parameters held at the phenotype value besides the exercise inputs, which protocols set
    /// and which are never varied (default: none).
    pub fixed: Vec<String>,
    /// Correlated parameter pairs.
    #[serde(rename = "correlation")]
    pub correlations: Vec<CorrelationSpec>,
    /// Covariate distributions.
    pub covariates: CovariateSpec,
    /// How covariates shift parameters.
    #[serde(rename = "covariate_effect")]
    pub covariate_effects: Vec<CovariateEffectSpec>,
    /// Subgroups.
    #[serde(rename = "subgroup")]
    pub subgroups: Vec<SubgroupSpec>,
}

/// The exercise inputs a protocol sets; never varied.
pub const EXERCISE_INPUTS: [&str; 5] =
    ["exercise_intensity", "exercise_aerobic", "exercise_resistance", "exercise_hiit", "exercise_mind_body"];

impl Default for PopulationSpec {
    fn default() -> Self {
        PopulationSpec {
            phenotype: "depressed".into(),
            healthy_fraction: 0.0,
            variability: 0.15,
            fixed: Vec::new(),
            correlations: Vec::new(),
            covariates: CovariateSpec::default(),
            covariate_effects: Vec::new(),
            subgroups: Vec::new(),
        }
    }
}

impl PopulationSpec {
    /// The population of a typical adult MDD trial for the reference model: covariates acting
    /// on fitness and inflammation, an inflamed and an HPA-hyperactive subgroup.
    pub fn adult_mdd() -> Self {
        let ce = |cov: &str, par: &str, per_unit: f64, centre: f64, why: &str| CovariateEffectSpec {
            covariate: cov.into(),
            parameter: par.into(),
            per_unit,
            centre,
            source: Source::assumption(why),
        };
        PopulationSpec {
            covariate_effects: vec![
                ce("age", "vo2max_untrained", -0.008, 40.0, "VO2max falls ~0.8 %/year in adults (ACSM norms)"),
                ce("female", "vo2max_untrained", -0.2, 0.5, "VO2max ~20 % lower in women (ACSM norms)"),
                ce("bmi", "vo2max_untrained", -0.015, 27.0, "VO2max per kg falls with adiposity"),
                ce("bmi", "innate_immune_set", 0.03, 27.0, "adiposity raises CRP and IL-6 (low-grade inflammation)"),
            ],
            subgroups: vec![
                SubgroupSpec {
                    name: "inflamed".into(),
                    fraction: 0.27,
                    scale: BTreeMap::from([("innate_immune_set".to_string(), 1.6)]),
                    set: BTreeMap::new(),
                    source: Source {
                        evidence: vec!["S4-04".into()],
                        assumption: Some("27 % of patients; the 1.6x innate drive is assumed (realised CRP > 3 mg/L share is reported, not tuned)".into()),
                    },
                },
                SubgroupSpec {
                    name: "hpa_hyperactive".into(),
                    fraction: 0.3,
                    scale: BTreeMap::from([("crh_drive".to_string(), 1.15), ("gr_sensitivity_set".to_string(), 0.85)]),
                    set: BTreeMap::new(),
                    source: Source {
                        evidence: vec!["S3-04".into(), "S3-20".into()],
                        assumption: Some("share (30 %) and shifts assumed; DST non-suppression 40-50 % in melancholia".into()),
                    },
                },
            ],
            correlations: vec![CorrelationSpec {
                a: "crh_drive".into(),
                b: "gr_sensitivity_set".into(),
                rho: -0.5,
                source: Source::assumption("HPA drive and GR resistance co-occur (S3-20); strength assumed"),
            }],
            ..PopulationSpec::default()
        }
    }

    /// Check against a model and resolve names to indices.
    pub fn plan(&self, model: &CompiledModel, prefix: &str) -> Result<PopulationPlan, SpecError> {
        let f = |s: &str| format!("{prefix}.{s}");
        let idx = |field: String, name: &str| {
            model
                .value_index(name)
                .ok_or_else(|| SpecError::new(field, format!("`{name}` is not a parameter of model `{}`", model.id)))
        };
        let known = std::iter::once("healthy").chain(model.phenotype_ids()).collect::<Vec<_>>().join(", ");
        let p_main = model.phenotype_values(&self.phenotype).ok_or_else(|| {
            SpecError::new(f("phenotype"), format!("unknown phenotype `{}` (known: {known})", self.phenotype))
        })?;
        let p_healthy = model.phenotype_values("healthy").expect("healthy always exists");
        if !(0.0..=1.0).contains(&self.healthy_fraction) {
            return Err(SpecError::new(
                f("healthy_fraction"),
                format!("{} is not a fraction in [0, 1]", self.healthy_fraction),
            ));
        }
        if !(self.variability >= 0.0 && self.variability <= 4.0) {
            return Err(SpecError::new(f("variability"), format!("{} must be between 0 and 4", self.variability)));
        }
        let mut fixed = vec![false; model.values.len()];
        for (k, name) in self.fixed.iter().enumerate() {
            fixed[idx(f(&format!("fixed[{k}]")), name)?] = true;
        }
        for name in EXERCISE_INPUTS {
            if let Some(i) = model.value_index(name) {
                fixed[i] = true;
            }
        }
        let varied: Vec<(usize, [f64; 2])> = model
            .ranges
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.filter(|r| r[1] > r[0] && !fixed[i]).map(|r| (i, r)))
            .collect();
        let slot = |field: String, name: &str| -> Result<usize, SpecError> {
            let i = idx(field.clone(), name)?;
            varied
                .iter()
                .position(|(j, _)| *j == i)
                .ok_or_else(|| SpecError::new(field, format!("`{name}` is fixed or has no range, so it is not varied")))
        };
        let mut correlations = Vec::new();
        for (k, c) in self.correlations.iter().enumerate() {
            let at = format!("correlation[{k}]");
            c.source.check(&f(&at))?;
            if !(c.rho > -1.0 && c.rho < 1.0) {
                return Err(SpecError::new(
                    f(&format!("{at}.rho")),
                    format!("{} must lie strictly between -1 and 1", c.rho),
                ));
            }
            correlations.push((slot(f(&format!("{at}.a")), &c.a)?, slot(f(&format!("{at}.b")), &c.b)?, c.rho));
        }
        let cv = &self.covariates;
        cv.age.check(&f("covariates.age"))?;
        cv.bmi.check(&f("covariates.bmi"))?;
        if !(0.0..=1.0).contains(&cv.female_fraction) {
            return Err(SpecError::new(
                f("covariates.female_fraction"),
                format!("{} is not a fraction in [0, 1]", cv.female_fraction),
            ));
        }
        let mut covariate_effects = Vec::new();
        for (k, e) in self.covariate_effects.iter().enumerate() {
            let at = format!("covariate_effect[{k}]");
            e.source.check(&f(&at))?;
            let which = match e.covariate.as_str() {
                "age" => 0,
                "female" => 1,
                "bmi" => 2,
                other => {
                    return Err(SpecError::new(
                        f(&format!("{at}.covariate")),
                        format!("`{other}`: expected `age`, `female` or `bmi`"),
                    ));
                }
            };
            if !(e.per_unit.is_finite() && e.centre.is_finite()) {
                return Err(SpecError::new(f(&at), "per_unit and centre must be finite numbers"));
            }
            covariate_effects.push((which, idx(f(&format!("{at}.parameter")), &e.parameter)?, e.per_unit, e.centre));
        }
        let mut subgroups = Vec::new();
        if self.subgroups.len() > 60 {
            return Err(SpecError::new(f("subgroup"), "at most 60 subgroups"));
        }
        for (k, s) in self.subgroups.iter().enumerate() {
            let at = format!("subgroup[{k}]");
            s.source.check(&f(&at))?;
            if !(0.0..=1.0).contains(&s.fraction) {
                return Err(SpecError::new(
                    f(&format!("{at}.fraction")),
                    format!("{} is not a fraction in [0, 1]", s.fraction),
                ));
            }
            let mut ops = Vec::new();
            for (name, &v) in &s.scale {
                if !(v.is_finite() && v > 0.0) {
                    return Err(SpecError::new(
                        f(&format!("{at}.scale.{name}")),
                        format!("{v} must be a positive factor"),
                    ));
                }
                ops.push((idx(f(&format!("{at}.scale.{name}")), name)?, v, true));
            }
            for (name, &v) in &s.set {
                if !v.is_finite() {
                    return Err(SpecError::new(f(&format!("{at}.set.{name}")), format!("{v} is not a finite number")));
                }
                ops.push((idx(f(&format!("{at}.set.{name}")), name)?, v, false));
            }
            subgroups.push(SubgroupPlan { name: s.name.clone(), fraction: s.fraction, ops });
        }
        Ok(PopulationPlan {
            p_main,
            p_healthy,
            healthy_fraction: self.healthy_fraction,
            variability: self.variability,
            varied,
            correlations,
            covariates: cv.clone(),
            covariate_effects,
            subgroups,
        })
    }
}

#[derive(Debug, Clone)]
struct SubgroupPlan {
    name: String,
    fraction: f64,
    /// (value index, factor or value, is a factor)
    ops: Vec<(usize, f64, bool)>,
}

/// A population spec checked against a model, ready to draw patients.
#[derive(Debug, Clone)]
pub struct PopulationPlan {
    p_main: Vec<f64>,
    p_healthy: Vec<f64>,
    healthy_fraction: f64,
    variability: f64,
    varied: Vec<(usize, [f64; 2])>,
    correlations: Vec<(usize, usize, f64)>,
    covariates: CovariateSpec,
    covariate_effects: Vec<(usize, usize, f64, f64)>,
    subgroups: Vec<SubgroupPlan>,
}

/// One virtual patient: covariates, subgroups and parameter values.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualPatient {
    /// Drawn from the healthy phenotype.
    pub healthy: bool,
    /// Bit k set: member of subgroup k.
    pub subgroups: u64,
    /// Age (years).
    pub age: f64,
    /// Female.
    pub female: bool,
    /// Body-mass index (kg/m²).
    pub bmi: f64,
    /// Model values (indexed like the model's `values`).
    pub p: Vec<f64>,
}

impl PopulationPlan {
    /// Subgroup names, in bit order.
    pub fn subgroup_names(&self) -> Vec<String> {
        self.subgroups.iter().map(|s| s.name.clone()).collect()
    }

    /// The phenotype's values (no variability): the centre of the population.
    pub fn centre(&self, healthy: bool) -> &[f64] {
        if healthy { &self.p_healthy } else { &self.p_main }
    }

    /// Draw one patient from `rng`. Always consumes the same number of draws for the normal
    /// deviates, so one patient's draw never shifts another's.
    pub fn draw(&self, rng: &mut ChaCha8Rng) -> VirtualPatient {
        let healthy = rng.random::<f64>() < self.healthy_fraction;
        let mut p = if healthy { self.p_healthy.clone() } else { self.p_main.clone() };
        let mut z: Vec<f64> = (0..self.varied.len()).map(|_| StandardNormal.sample(rng)).collect();
        for &(a, b, rho) in &self.correlations {
            z[b] = rho * z[a] + (1.0 - rho * rho).sqrt() * z[b];
        }
        for (&(i, [lo, hi]), &zi) in self.varied.iter().zip(&z) {
            let v = p[i];
            let x = if lo > 0.0 && v > 0.0 {
                let sigma = self.variability * (hi / lo).ln() / 4.0;
                v * (sigma * zi).exp()
            } else {
                v + self.variability * (hi - lo) / 4.0 * zi
            };
            p[i] = x.clamp(lo.min(v), hi.max(v));
        }
        let age = self.covariates.age.draw(rng);
        let female = rng.random::<f64>() < self.covariates.female_fraction;
        let bmi = self.covariates.bmi.draw(rng);
        for &(which, i, per_unit, centre) in &self.covariate_effects {
            let x = match which {
                0 => age,
                1 => f64::from(u8::from(female)),
                _ => bmi,
            };
            p[i] *= (per_unit * (x - centre)).exp();
        }
        let mut subgroups = 0u64;
        for (k, s) in self.subgroups.iter().enumerate() {
            let u = rng.random::<f64>();
            if !healthy && u < s.fraction {
                subgroups |= 1 << k;
                for &(i, v, is_factor) in &s.ops {
                    if is_factor {
                        p[i] *= v;
                    } else {
                        p[i] = v;
                    }
                }
            }
        }
        VirtualPatient { healthy, subgroups, age, female, bmi, p }
    }
}

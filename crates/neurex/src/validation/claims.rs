//! The seed claims (C1.1 … C6.1) against the model: each claim lists checks in
//! `validation/claims.toml`; a claim is encoded when at least one check passes on a model element
//! that cites it. Couplings are checked by sign: the declared sign must equal the claim's and the
//! sign of ∂(rate of `to`)/∂(`from`) at the healthy steady state. Behavioural checks (phenotype
//! contrasts, exercise and stress effects, acute nulls) run as validation experiments.

use super::run::{RunOptions, Runner};
use super::spec::{ArmSpec, Comparison, Reference, Role, Sample, Species, Stat, TargetSpec};
use crate::simulation::{ProtocolRef, patient_values};
use crate::stress::StressRef;
use neurex_model::spec::Sign;
use neurex_model::{CompiledModel, ModelSpec};
use neurex_solve::{SolverSettings, steady_state};
use serde::{Deserialize, Serialize};

/// The claims file shipped with neurex.
pub static CLAIMS: &str = include_str!("../../../../validation/claims.toml");

/// The claims file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimsFile {
    /// One per seed claim.
    #[serde(rename = "claim")]
    pub claims: Vec<ClaimSpec>,
}

/// How one claim is encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimSpec {
    /// Claim id.
    pub id: String,
    /// The direction the claim states, in words.
    pub direction: String,
    /// The claim itself is uncertain (C4.4): encoded with its direction marked uncertain.
    #[serde(default)]
    pub uncertain: bool,
    /// The checks.
    #[serde(rename = "check")]
    pub checks: Vec<CheckSpec>,
}

/// One check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum CheckSpec {
    /// A declared coupling with this sign.
    Coupling {
        /// Source state.
        from: String,
        /// Target state.
        to: String,
        /// `+` or `-`.
        sign: String,
    },
    /// Depressed vs healthy, 24-h means.
    Contrast {
        /// Output.
        variable: String,
        /// `+` (higher in depression) or `-`.
        sign: String,
    },
    /// Exercise vs no exercise at the end of a protocol.
    Exercise {
        /// Output.
        variable: String,
        /// `+` or `-`.
        sign: String,
        /// Protocol preset.
        protocol: String,
        /// Weeks.
        weeks: f64,
        /// Phenotype (default `depressed`).
        #[serde(default = "depressed")]
        phenotype: String,
    },
    /// Chronic stress (CUMS) vs none, in rats, after `weeks`.
    Stress {
        /// Output.
        variable: String,
        /// `+` or `-`.
        sign: String,
        /// Weeks.
        weeks: f64,
    },
    /// Running during CUMS vs sedentary CUMS, in rats.
    StressedExercise {
        /// Output.
        variable: String,
        /// `+` or `-`.
        sign: String,
        /// Weeks.
        weeks: f64,
        /// Protocol preset or file.
        protocol: String,
    },
    /// One bout leaves `variable` within `tolerance_percent` of no exercise over `hours` after it.
    AcuteNull {
        /// Output.
        variable: String,
        /// Intensity (`"55% VO2max"`).
        intensity: String,
        /// Minutes.
        minutes: f64,
        /// Hours after the start to watch.
        hours: f64,
        /// Largest allowed deviation (%).
        tolerance_percent: f64,
    },
}

fn depressed() -> String {
    "depressed".into()
}

impl CheckSpec {
    /// The model element whose provenance must cite the claim.
    pub fn element(&self) -> String {
        match self {
            CheckSpec::Coupling { from, to, .. } => format!("{from} -> {to}"),
            CheckSpec::Contrast { variable, .. }
            | CheckSpec::Exercise { variable, .. }
            | CheckSpec::Stress { variable, .. }
            | CheckSpec::StressedExercise { variable, .. }
            | CheckSpec::AcuteNull { variable, .. } => variable.clone(),
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Claim id.
    pub claim: String,
    /// What was checked.
    pub what: String,
    /// The element cites the claim.
    pub cited: bool,
    /// The model agrees with the claim's direction.
    pub agrees: bool,
    /// Numbers behind the verdict.
    pub detail: String,
}

/// The outcome for one claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimResult {
    /// Claim id.
    pub id: String,
    /// Direction.
    pub direction: String,
    /// Uncertain claim.
    pub uncertain: bool,
    /// At least one check on a citing element agrees.
    pub encoded: bool,
    /// The checks.
    pub checks: Vec<CheckResult>,
}

impl ClaimsFile {
    /// The embedded file.
    pub fn embedded() -> ClaimsFile {
        toml::from_str(CLAIMS).expect("validation/claims.toml is valid")
    }
}

fn sign_of(s: &str) -> f64 {
    if s.trim() == "-" { -1.0 } else { 1.0 }
}

/// ∂(rate of `to`)/∂(`from`) at `y`, by central differences.
pub fn coupling_derivative(model: &CompiledModel, y: &[f64], p: &[f64], from: &str, to: &str) -> Option<f64> {
    let i = model.states.iter().position(|s| s.id == from)?;
    let k = model.states.iter().position(|s| s.id == to)?;
    let mut ws = model.workspace();
    let h = 1e-6 * y[i].abs().max(1e-3);
    let rate = |yy: &[f64], ws: &mut neurex_model::Workspace| {
        let mut dy = vec![0.0; yy.len()];
        model.rhs(0.0, yy, p, &mut dy, ws);
        dy[k]
    };
    let mut up = y.to_vec();
    up[i] += h;
    let mut down = y.to_vec();
    down[i] -= h;
    Some((rate(&up, &mut ws) - rate(&down, &mut ws)) / (2.0 * h))
}

/// Every coupling whose declared sign disagrees with the model's partial derivative at the
/// healthy steady state (or whose derivative is zero).
pub fn coupling_sign_problems(spec: &ModelSpec, model: &CompiledModel) -> Result<Vec<String>, String> {
    let (y, p) = healthy_state(model)?;
    let mut out = Vec::new();
    for c in &spec.couplings {
        let Some(d) = coupling_derivative(model, &y, &p, &c.from, &c.to) else {
            out.push(format!("{} -> {}: not both states", c.from, c.to));
            continue;
        };
        let want = match c.sign {
            Some(Sign::Negative) => -1.0,
            Some(Sign::Positive) => 1.0,
            None => continue,
        };
        if d.is_nan() || d * want <= 0.0 {
            out.push(format!("{} -> {}: declared {:?}, derivative {d:e}", c.from, c.to, c.sign));
        }
    }
    Ok(out)
}

fn healthy_state(model: &CompiledModel) -> Result<(Vec<f64>, Vec<f64>), String> {
    let p = patient_values(model, "healthy", &Default::default()).map_err(|e| e.to_string())?;
    let ss = steady_state(model, &p, 0.0, model.equilibration_periods, &SolverSettings::default())
        .map_err(|e| e.to_string())?;
    Ok((ss.y, ss.p))
}

fn cites(spec: &ModelSpec, element: &str, claim: &str) -> bool {
    spec.provenance_entries().iter().any(|(_, id, prov)| id == element && prov.evidence.iter().any(|e| e == claim))
}

fn experiment(check: &CheckSpec) -> Option<TargetSpec> {
    let base = |species, variable: &str, comparison, treatment, control, sample| TargetSpec {
        id: String::new(),
        evidence: vec![],
        role: Role::Validation,
        species,
        quantity: String::new(),
        comparison,
        readout: variable.to_string(),
        readout_b: None,
        readouts: vec![],
        weights: vec![],
        unit: String::new(),
        published: 0.0,
        band: [0.0, 0.0],
        band_source: String::new(),
        confidence: String::new(),
        sd: None,
        sd_source: None,
        scale: Default::default(),
        threshold: None,
        reference: Reference::Control,
        treatment,
        control: Some(control),
        arms: vec![],
        sample,
        pre: None,
        disagreement: None,
        informed_model: false,
        if_missed: None,
        notes: String::new(),
    };
    let weeks = |w: f64| Some(format!("{w} wk"));
    Some(match check {
        CheckSpec::Coupling { .. } => return None,
        CheckSpec::Contrast { variable, .. } => base(
            Species::Human,
            variable,
            Comparison::Difference,
            ArmSpec { phenotype: Some("depressed".into()), duration: Some("1 d".into()), ..Default::default() },
            ArmSpec { phenotype: Some("healthy".into()), ..Default::default() },
            Sample { at: None, window: Some(["0 h".into(), "24 h".into()]), stat: Stat::Mean },
        ),
        CheckSpec::Exercise { variable, protocol, weeks: w, phenotype, .. } => base(
            Species::Human,
            variable,
            Comparison::Difference,
            ArmSpec {
                phenotype: Some(phenotype.clone()),
                protocol: Some(ProtocolRef::Named(protocol.clone())),
                duration: weeks(*w),
                step: Some("6 h".into()),
                ..Default::default()
            },
            ArmSpec::default(),
            Sample::default(),
        ),
        CheckSpec::Stress { variable, weeks: w, .. } => base(
            Species::Rat,
            variable,
            Comparison::Difference,
            ArmSpec {
                stress: Some(StressRef::Named("cums".into())),
                duration: weeks(*w),
                step: Some("6 h".into()),
                ..Default::default()
            },
            ArmSpec { stress: Some(StressRef::Named("none".into())), ..Default::default() },
            Sample::default(),
        ),
        CheckSpec::StressedExercise { variable, weeks: w, protocol, .. } => base(
            Species::Rat,
            variable,
            Comparison::Difference,
            ArmSpec {
                stress: Some(StressRef::Named("cums".into())),
                protocol: Some(ProtocolRef::Named(protocol.clone())),
                duration: weeks(*w),
                step: Some("6 h".into()),
                ..Default::default()
            },
            ArmSpec::default(),
            Sample::default(),
        ),
        CheckSpec::AcuteNull { variable, intensity, minutes, .. } => {
            let p = crate::protocol::Protocol::from_toml(
                "acute check",
                &format!("name = \"single bout\"\nintensity = \"{intensity}\"\nminutes = {minutes}\nsessions_per_week = 1\nweeks = 1\n"),
            )
            .ok()?;
            base(
                Species::Human,
                variable,
                Comparison::PercentChange,
                ArmSpec {
                    protocol: Some(ProtocolRef::Inline(p)),
                    duration: Some("1 d".into()),
                    step: Some("2 min".into()),
                    ..Default::default()
                },
                ArmSpec::default(),
                Sample::default(),
            )
        }
    })
}

/// Check every claim in `file` against the model.
pub fn check_claims(spec: &ModelSpec, model: &CompiledModel, file: &ClaimsFile) -> Result<Vec<ClaimResult>, String> {
    let (y, p) = healthy_state(model)?;
    // Run all behavioural checks in one validation run.
    let mut specs = Vec::new();
    for (ci, c) in file.claims.iter().enumerate() {
        for (k, check) in c.checks.iter().enumerate() {
            if let Some(mut t) = experiment(check) {
                t.id = format!("{ci}/{k}");
                specs.push(t);
            }
        }
    }
    let report = Runner::new(model).run(&specs, &RunOptions::default());
    let mut out = Vec::new();
    for (ci, c) in file.claims.iter().enumerate() {
        let mut checks = Vec::new();
        for (k, check) in c.checks.iter().enumerate() {
            let element = check.element();
            let cited = cites(spec, &element, &c.id);
            let (agrees, detail) = match check {
                CheckSpec::Coupling { from, to, sign } => {
                    let declared = spec.couplings.iter().find(|x| &x.from == from && &x.to == to);
                    let d = coupling_derivative(model, &y, &p, from, to).unwrap_or(f64::NAN);
                    let decl = declared.and_then(|x| x.sign);
                    let decl_sign = match decl {
                        Some(Sign::Negative) => -1.0,
                        Some(Sign::Positive) => 1.0,
                        None => 0.0,
                    };
                    let ok = decl_sign == sign_of(sign) && d * sign_of(sign) > 0.0;
                    (ok, format!("declared {decl:?}, d(rate)/d(source) = {d:.3e}"))
                }
                _ => {
                    let r = report.results.iter().find(|r| r.id == format!("{ci}/{k}"));
                    match (check, r) {
                        (_, None) => (false, "not run".into()),
                        (_, Some(r)) if r.error.is_some() => (false, r.error.clone().unwrap_or_default()),
                        (CheckSpec::AcuteNull { hours, tolerance_percent, .. }, Some(r)) => {
                            let curve = r.curve.as_ref();
                            let worst = curve.map_or(f64::NAN, |cv| {
                                cv.t_h
                                    .iter()
                                    .zip(&cv.y)
                                    .filter(|(t, _)| **t >= 9.0 && **t <= 9.0 + hours)
                                    .map(|(_, y)| y.abs())
                                    .fold(0.0, f64::max)
                            });
                            (worst <= *tolerance_percent, format!("largest deviation {worst:.2} % within {hours} h"))
                        }
                        (
                            CheckSpec::Contrast { sign, .. }
                            | CheckSpec::Exercise { sign, .. }
                            | CheckSpec::Stress { sign, .. }
                            | CheckSpec::StressedExercise { sign, .. },
                            Some(r),
                        ) => (r.simulated * sign_of(sign) > 0.0, format!("difference {:.4}", r.simulated)),
                        (CheckSpec::Coupling { .. }, Some(_)) => unreachable!("couplings are not run"),
                    }
                }
            };
            checks.push(CheckResult { claim: c.id.clone(), what: describe(check), cited, agrees, detail });
        }
        let encoded = checks.iter().any(|k| k.cited && k.agrees);
        out.push(ClaimResult {
            id: c.id.clone(),
            direction: c.direction.clone(),
            uncertain: c.uncertain,
            encoded,
            checks,
        });
    }
    Ok(out)
}

fn describe(c: &CheckSpec) -> String {
    match c {
        CheckSpec::Coupling { from, to, sign } => format!("coupling {from} -> {to} ({sign})"),
        CheckSpec::Contrast { variable, sign } => format!("depressed vs healthy: {variable} ({sign})"),
        CheckSpec::Exercise { variable, sign, protocol, weeks, phenotype } => {
            format!("{protocol} {weeks} wk vs none ({phenotype}): {variable} ({sign})")
        }
        CheckSpec::Stress { variable, sign, weeks } => format!("rat CUMS {weeks} wk vs none: {variable} ({sign})"),
        CheckSpec::StressedExercise { variable, sign, weeks, protocol } => {
            format!("rat CUMS + {protocol} {weeks} wk vs CUMS: {variable} ({sign})")
        }
        CheckSpec::AcuteNull { variable, intensity, minutes, hours, tolerance_percent } => {
            format!("{minutes} min at {intensity}: {variable} within {tolerance_percent} % for {hours} h")
        }
    }
}

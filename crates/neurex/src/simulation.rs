//! One virtual patient under one protocol, against a no-exercise control run from the same
//! steady state.

use crate::error::Error;
use crate::models::{REFERENCE, compile_model, resolve_model};
use crate::protocol::Protocol;
use neurex_model::{CompiledModel, ModelSpec};
use neurex_solve::{DenseRecorder, Schedule, SolveReport, SolverSettings, simulate as solve, steady_state};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A protocol given by name (preset or file) or written inline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProtocolRef {
    /// A preset name or a file path.
    Named(String),
    /// A protocol written out.
    Inline(Protocol),
}

/// A request to simulate one virtual patient. Read by the CLI from flags, and by other front
/// ends from JSON or TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulationJob {
    /// Built-in model id or model file path (default: the reference model).
    pub model: String,
    /// Phenotype (default `depressed`).
    pub phenotype: String,
    /// Protocol (default `aerobic-3x`).
    pub protocol: ProtocolRef,
    /// Weeks to simulate (default 12).
    pub weeks: f64,
    /// Output step in hours (default 1).
    pub output_step_h: f64,
    /// Also run a no-exercise control from the same steady state (default true).
    pub control: bool,
    /// Parameter values overriding the phenotype's.
    pub parameters: BTreeMap<String, f64>,
    /// Integrator settings.
    pub solver: SolverSettings,
}

impl Default for SimulationJob {
    fn default() -> Self {
        SimulationJob {
            model: REFERENCE.to_string(),
            phenotype: "depressed".into(),
            protocol: ProtocolRef::Named("aerobic-3x".into()),
            weeks: 12.0,
            output_step_h: 1.0,
            control: true,
            parameters: BTreeMap::new(),
            solver: SolverSettings::default(),
        }
    }
}

/// Description of one output column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Variable id.
    pub id: String,
    /// Unit.
    pub unit: String,
    /// System.
    pub system: Option<String>,
}

/// One line of the summary: a variable at baseline, at the end, and at the end without exercise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// System (or `outcome`).
    pub system: String,
    /// Variable id.
    pub variable: String,
    /// Unit.
    pub unit: String,
    /// Value at t = 0 (steady state).
    pub baseline: f64,
    /// Value at the end with exercise.
    pub end: f64,
    /// Value at the end of the control run.
    pub control_end: Option<f64>,
}

/// The result of a [`SimulationJob`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationResult {
    /// Model id.
    pub model: String,
    /// Phenotype.
    pub phenotype: String,
    /// The protocol run.
    pub protocol: Protocol,
    /// Output columns.
    pub columns: Vec<Column>,
    /// Output times (h).
    pub times: Vec<f64>,
    /// Exercise run: one row per time.
    pub exercise: Vec<Vec<f64>>,
    /// Control run, if requested.
    pub control: Option<Vec<Vec<f64>>>,
    /// Headline markers and depression scales.
    pub summary: Vec<SummaryRow>,
    /// Periods simulated to reach the steady state.
    pub equilibration_periods: u32,
    /// Solver statistics of the exercise run.
    pub report: SolveReport,
}

impl SimulationResult {
    /// Index of a column by id.
    pub fn column(&self, id: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.id == id)
    }
    /// Series of one variable in the exercise run.
    pub fn series(&self, id: &str) -> Option<Vec<f64>> {
        let j = self.column(id)?;
        Some(self.exercise.iter().map(|r| r[j]).collect())
    }
}

/// The four depression scales, reported in every summary when the model has them.
pub const SCALES: [&str; 4] = ["hamd17", "madrs", "bdi2", "phq9"];

/// Run a job, resolving its model.
pub fn simulate(job: &SimulationJob) -> Result<SimulationResult, Error> {
    let spec = resolve_model(&job.model)?;
    let model = compile_model(&spec)?;
    simulate_model(&spec, &model, job)
}

/// Values of a phenotype with a job's overrides applied.
pub fn patient_values(
    model: &CompiledModel,
    phenotype: &str,
    overrides: &BTreeMap<String, f64>,
) -> Result<Vec<f64>, Error> {
    // A model without phenotypes (e.g. SBML) has only its values as written: the default
    // `depressed` then means `healthy` (those values); other names are errors.
    let phenotype =
        if model.phenotype_ids().next().is_none() && phenotype == "depressed" { "healthy" } else { phenotype };
    let mut p = model.phenotype_values(phenotype).ok_or_else(|| Error::UnknownPhenotype {
        name: phenotype.to_string(),
        known: std::iter::once("healthy").chain(model.phenotype_ids()).collect::<Vec<_>>().join(", "),
    })?;
    for (id, &v) in overrides {
        let i = model.value_index(id).ok_or_else(|| Error::UnknownVariable {
            name: id.clone(),
            hint: " (not a parameter of the model)".into(),
        })?;
        if !v.is_finite() {
            return Err(Error::BadRequest(format!("parameter `{id}` = {v} is not a finite number")));
        }
        p[i] = v;
    }
    Ok(p)
}

/// Run a job on an already compiled model.
pub fn simulate_model(spec: &ModelSpec, model: &CompiledModel, job: &SimulationJob) -> Result<SimulationResult, Error> {
    if !(job.weeks > 0.0 && job.weeks <= 520.0) {
        return Err(Error::BadRequest(format!("weeks = {}: must be more than 0 and at most 520", job.weeks)));
    }
    if !(job.output_step_h > 0.0 && job.output_step_h.is_finite()) {
        return Err(Error::BadRequest(format!("output step = {} h: must be a positive number", job.output_step_h)));
    }
    let protocol = match &job.protocol {
        ProtocolRef::Named(n) => Protocol::resolve(n)?,
        ProtocolRef::Inline(p) => {
            p.validate("(inline)")?;
            p.clone()
        }
    };
    let p = patient_values(model, &job.phenotype, &job.parameters)?;
    let ss = steady_state(model, &p, 0.0, model.equilibration_periods, &job.solver)
        .map_err(|cause| Error::Solve { phase: format!("steady state of the `{}` phenotype", job.phenotype), cause })?;
    let horizon = job.weeks * 168.0;
    let n_out = (horizon / job.output_step_h).round() as usize;
    let times: Vec<f64> = (0..=n_out).map(|k| (k as f64 * job.output_step_h).min(horizon)).collect();
    let schedule = protocol.schedule(model, job.weeks)?;
    let mut rec = DenseRecorder::default();
    let (report, _) = solve(model, &ss.p, &ss.y, 0.0, &times, &schedule, &job.solver, &mut rec)
        .map_err(|cause| Error::Solve { phase: format!("protocol `{}`", protocol.name), cause })?;
    let control = if job.control {
        let mut c = DenseRecorder::default();
        solve(model, &ss.p, &ss.y, 0.0, &times, &Schedule::empty(), &job.solver, &mut c)
            .map_err(|cause| Error::Solve { phase: "no-exercise control".into(), cause })?;
        Some(c.rows)
    } else {
        None
    };
    let columns: Vec<Column> = model
        .outputs
        .iter()
        .map(|o| Column { id: o.id.clone(), unit: o.unit.clone(), system: o.system.clone() })
        .collect();
    let summary = summarise(spec, &columns, &rec.rows, control.as_deref());
    Ok(SimulationResult {
        model: model.id.clone(),
        phenotype: job.phenotype.clone(),
        protocol,
        columns,
        times: rec.times,
        exercise: rec.rows,
        control,
        summary,
        equilibration_periods: ss.periods,
        report,
    })
}

fn summarise(spec: &ModelSpec, columns: &[Column], rows: &[Vec<f64>], control: Option<&[Vec<f64>]>) -> Vec<SummaryRow> {
    let mut wanted: Vec<(String, String)> = Vec::new();
    for sys in &spec.systems {
        for h in &sys.headline {
            wanted.push((sys.id.clone(), h.clone()));
        }
    }
    for s in SCALES {
        if columns.iter().any(|c| c.id == s) && !wanted.iter().any(|(_, v)| v == s) {
            wanted.push(("outcome".into(), s.to_string()));
        }
    }
    if wanted.is_empty() {
        wanted = columns.iter().map(|c| (c.system.clone().unwrap_or_default(), c.id.clone())).collect();
    }
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else { return Vec::new() };
    wanted
        .into_iter()
        .filter_map(|(system, variable)| {
            let j = columns.iter().position(|c| c.id == variable)?;
            Some(SummaryRow {
                system,
                unit: columns[j].unit.clone(),
                baseline: first[j],
                end: last[j],
                control_end: control.and_then(|c| c.last()).map(|r| r[j]),
                variable,
            })
        })
        .collect()
}

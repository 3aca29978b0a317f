//! SBML at the facade: a model as another engine should run it. SBML has no phenotypes, no
//! pre-equilibration and no exercise protocols, so an export first applies them to the spec:
//! the phenotype's parameter values, the (periodic) steady state as initial values, and the
//! protocol's input changes as SBML events at fixed times (`time >= t`). The result simulated
//! from t = 0 is then the same as `neurex simulate` with the same phenotype and protocol.

use crate::error::Error;
use crate::models::resolve_model;
use crate::protocol::Protocol;
use neurex_model::compile::ElementKind;
use neurex_model::spec::{EventAssignmentSpec, EventSpec, Math, ModelSpec, format_number};
use neurex_model::{CompiledModel, Slot, compile};
pub use neurex_sbml::{ExportError, ExportOptions, export, import, import_full};
use neurex_solve::{SolverSettings, steady_state};

/// A request to write a model as SBML.
#[derive(Debug, Clone, PartialEq)]
pub struct SbmlExport {
    /// Built-in model id or model file.
    pub model: String,
    /// Phenotype whose values are written (`healthy` = as written). A model without phenotypes
    /// takes `depressed` as `healthy` too.
    pub phenotype: String,
    /// Protocol preset or file whose sessions become events (`None`: no events).
    pub protocol: Option<String>,
    /// Weeks of protocol to write.
    pub weeks: f64,
    /// Start from the phenotype's (periodic) steady state, as `neurex simulate` does.
    pub steady_state: bool,
    /// Integrator settings for the steady state.
    pub solver: SolverSettings,
}

impl Default for SbmlExport {
    fn default() -> Self {
        SbmlExport {
            model: crate::REFERENCE.into(),
            phenotype: "depressed".into(),
            protocol: None,
            weeks: 12.0,
            steady_state: true,
            solver: SolverSettings::default(),
        }
    }
}

/// The spec to export: phenotype applied, steady state as initial values, protocol as events.
pub fn export_spec(req: &SbmlExport) -> Result<ModelSpec, Error> {
    let mut spec = resolve_model(&req.model)?;
    let model = compile(&spec)?;
    let phenotype =
        if model.phenotype_ids().next().is_none() && req.phenotype == "depressed" { "healthy" } else { &req.phenotype };
    let mut p = crate::simulation::patient_values(&model, phenotype, &Default::default())?;
    let mut y = None;
    if req.steady_state && model.equilibration_periods > 0 {
        let ss = steady_state(&model, &p, 0.0, model.equilibration_periods, &req.solver)
            .map_err(|cause| Error::Solve { phase: format!("steady state of the `{phenotype}` phenotype"), cause })?;
        p = ss.p;
        y = Some(ss.y);
    }
    apply_values(&mut spec, &model, &p, y.as_deref());
    if let Some(name) = &req.protocol {
        let protocol = Protocol::resolve(name)?;
        let schedule = protocol.schedule(&model, req.weeks)?;
        for (k, change) in schedule.changes().iter().enumerate() {
            spec.events.push(EventSpec {
                id: format!("protocol_{}_{}", protocol.name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"), k + 1),
                trigger: Math::new(format!("time >= {}", format_number(change.t))),
                // A change at t = 0 must fire at t = 0.
                initial_value: false,
                assignments: change
                    .set
                    .iter()
                    .map(|&(i, v)| EventAssignmentSpec {
                        variable: model.values[i].id.clone(),
                        math: Math::new(format_number(v)),
                    })
                    .collect(),
                description: format!(
                    "protocol `{}`: input change at t = {} {}",
                    protocol.name, change.t, model.time_unit
                ),
                ..Default::default()
            });
        }
    }
    Ok(spec)
}

/// Write a model as SBML Level 3 Version 2.
pub fn export_sbml(req: &SbmlExport) -> Result<String, Error> {
    let spec = export_spec(req)?;
    export(&spec, &ExportOptions::default()).map_err(|e| Error::Incompatible(e.to_string()))
}

/// Write values `p` and (if given) states `y` into the spec as its values and initial values.
fn apply_values(spec: &mut ModelSpec, model: &CompiledModel, p: &[f64], y: Option<&[f64]>) {
    let value = |id: &str| -> Option<f64> {
        match model.slot(id)? {
            Slot::Value(i) => Some(p[i as usize]),
            Slot::State(i) => y.map(|y| y[i as usize]),
            Slot::Assigned(_) => None,
        }
    };
    for par in &mut spec.parameters {
        if let Some(v) = value(&par.id) {
            par.value = v;
            if par.range.is_some_and(|[lo, hi]| !(lo <= v && v <= hi)) {
                par.range = None;
            }
        }
    }
    for c in &mut spec.compartments {
        if let Some(v) = value(&c.id) {
            c.size = Some(v);
        }
    }
    let Some(y) = y else { return };
    let sizes: Vec<(String, Option<f64>, f64)> =
        spec.compartments.iter().map(|c| (c.id.clone(), c.size, c.spatial_dimensions.unwrap_or(3.0))).collect();
    let mut set = std::collections::HashSet::new();
    for (i, info) in model.states.iter().enumerate() {
        let v = y[i];
        set.insert(info.id.clone());
        match info.kind {
            ElementKind::State => {
                if let Some(s) = spec.states.iter_mut().find(|s| s.id == info.id) {
                    s.initial = Math::new(format_number(v));
                }
            }
            ElementKind::Species => {
                if let Some(s) = spec.species.iter_mut().find(|s| s.id == info.id) {
                    let comp = sizes.iter().find(|(id, _, _)| *id == s.compartment);
                    match comp {
                        Some((_, Some(size), dims)) if !s.has_only_substance_units && *dims != 0.0 => {
                            s.initial_concentration = Some(v / size);
                            s.initial_amount = None;
                        }
                        _ => {
                            s.initial_amount = Some(v);
                            s.initial_concentration = None;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    // The states now start from explicit values: initial assignments to them would override.
    spec.initial_assignments.retain(|ia| !set.contains(&ia.variable));
}

/// Read an SBML file (Level 2 or 3) into a spec; problems are located in the file.
pub fn load_sbml_file(path: &std::path::Path) -> Result<ModelSpec, Error> {
    let name = path.display().to_string();
    let io = |message: String| Error::Io { path: name.clone(), message };
    let len = std::fs::metadata(path).map_err(|e| io(e.to_string()))?.len();
    if len > neurex_sbml::import::MAX_BYTES as u64 {
        return Err(io(format!("{len} bytes is over the SBML size limit of {} bytes", neurex_sbml::import::MAX_BYTES)));
    }
    let text = std::fs::read_to_string(path).map_err(|e| io(e.to_string()))?;
    import(&text).map_err(|mut d| {
        for x in &mut d.0 {
            x.file = Some(name.clone());
        }
        Error::Model(d)
    })
}

//! Compiling a [`ModelSpec`] into a [`CompiledModel`]: every name resolved to an index, every
//! expression turned into a straight-line program, assignment rules ordered, SBML species
//! semantics (amounts vs concentrations) made explicit.

mod emit;
pub mod program;

use crate::diagnostics::{Diagnostic, DiagnosticKind, Diagnostics, did_you_mean, line_col};
use crate::expr::{Expr, parse_expr};
use crate::spec::*;
use crate::units::parse_unit;
use num_dual::Dual64;
use program::{Env, Op, Program, Scratch, run};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Where a name's value lives at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// An ODE state, `y[i]`.
    State(u32),
    /// A value constant between events, `p[i]`.
    Value(u32),
    /// An assignment-rule value, computed from states and values.
    Assigned(u32),
}

/// What kind of element a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementKind {
    /// `[[parameter]]`
    Parameter,
    /// `[[state]]`
    State,
    /// `[[variable]]`
    Variable,
    /// `[[species]]`
    Species,
    /// `[[compartment]]`
    Compartment,
    /// A species reference's stoichiometry.
    Stoichiometry,
}

/// Description of one runtime quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct VarInfo {
    /// Id.
    pub id: String,
    /// Unit string.
    pub unit: String,
    /// System.
    pub system: Option<String>,
    /// Element kind.
    pub kind: ElementKind,
    /// SBML `constant` for values (false if events may change it).
    pub constant: bool,
}

/// Where an event assignment writes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// A state.
    State(u32),
    /// A value.
    Value(u32),
}

/// A compiled event.
#[derive(Debug, Clone)]
pub struct CompiledEvent {
    /// Id.
    pub id: String,
    /// Trigger program (boolean result in `out[0]`).
    pub trigger: Program,
    /// Delay program (`out[0]`).
    pub delay: Option<Program>,
    /// Priority program (`out[0]`).
    pub priority: Option<Program>,
    /// SBML `persistent`.
    pub persistent: bool,
    /// SBML `initialValue`.
    pub initial_value: bool,
    /// SBML `useValuesFromTriggerTime`.
    pub use_values_from_trigger_time: bool,
    /// For a trigger `time >= X` with X constant between events: the program computing X
    /// (`out[0]`). Such a trigger has no root function; the engine stops at X.
    pub time_threshold: Option<Program>,
    /// Targets and the program computing each one's new stored value (`out[i]`).
    pub targets: Vec<Target>,
    /// Computes every assignment's value into `out[0..targets.len()]`.
    pub assignments: Program,
}

/// The indexed, compiled model.
#[derive(Debug, Clone)]
pub struct CompiledModel {
    /// Model id.
    pub id: String,
    /// Unit of time.
    pub time_unit: String,
    /// Period of the time forcing, if any.
    pub period: Option<f64>,
    /// Periods simulated for pre-equilibration.
    pub equilibration_periods: u32,
    /// ODE states.
    pub states: Vec<VarInfo>,
    /// Values (constants and event-changed quantities).
    pub values: Vec<VarInfo>,
    /// Assignment-rule quantities.
    pub assigned: Vec<VarInfo>,
    /// Default values (the `healthy` phenotype), indexed like `values`.
    pub p0: Vec<f64>,
    /// Plausible ranges of values, where declared.
    pub ranges: Vec<Option<[f64; 2]>>,
    /// Output variables (columns), in declaration order.
    pub outputs: Vec<VarInfo>,
    /// Events.
    pub events: Vec<CompiledEvent>,
    /// Number of reactions.
    pub n_reactions: usize,
    /// Number of root functions (relational atoms of triggers and of piecewise conditions).
    pub n_roots: usize,
    /// Which roots belong to event triggers (the rest mark discontinuities of the right-hand side).
    pub root_is_trigger: Vec<bool>,
    index: HashMap<String, Slot>,
    phenotypes: Vec<(String, Vec<(u32, f64)>)>,
    assign_prog: Program,
    rate_prog: Program,
    init_prog: Program,
    root_prog: Program,
    output_prog: Program,
    trigger_prog: Program,
    threshold_prog: Program,
    native: Option<Arc<dyn NativeCode>>,
}

/// Native code for the hot paths (right-hand side and its Jacobian-vector product), attached by
/// a code generator. It must compute exactly what the programs compute.
pub trait NativeCode: Send + Sync + std::fmt::Debug {
    /// `dy = f(t, y, p)`.
    fn rhs(&self, t: f64, y: &[f64], p: &[f64], dy: &mut [f64]);
    /// `out = (∂f/∂y) v`.
    fn jvp(&self, t: f64, y: &[f64], p: &[f64], v: &[f64], out: &mut [f64]);
    /// The Jacobian `∂f/∂y` into `out`, column-major (`out[c·n + i] = ∂f_i/∂y_c`); `false` if it
    /// has no native code.
    fn jacobian(&self, _t: f64, _y: &[f64], _p: &[f64], _out: &mut [f64]) -> bool {
        false
    }
    /// Whether [`Self::jacobian`] has native code.
    fn has_jacobian(&self) -> bool {
        false
    }
    /// Root functions into `out`; `false` if they have no native code (the interpreter runs).
    fn roots(&self, _t: f64, _y: &[f64], _p: &[f64], _out: &mut [f64]) -> bool {
        false
    }
    /// Output values into `out`; `false` if they have no native code (the interpreter runs).
    fn observe(&self, _t: f64, _y: &[f64], _p: &[f64], _out: &mut [f64]) -> bool {
        false
    }
    /// Every event's trigger (non-zero when true) into `out`; `false` without native code.
    fn triggers(&self, _t: f64, _y: &[f64], _p: &[f64], _out: &mut [f64]) -> bool {
        false
    }
    /// Every event's time threshold (NaN if none) into `out`; `false` without native code.
    fn thresholds(&self, _t: f64, _y: &[f64], _p: &[f64], _out: &mut [f64]) -> bool {
        false
    }
}

/// The programs of a compiled model, for code generators.
#[derive(Debug, Clone, Copy)]
pub struct Programs<'a> {
    /// Computes every assigned value (`StoreA`).
    pub assignments: &'a Program,
    /// Computes reaction rates (`StoreR`) and derivatives (`StoreOut`), after `assignments`.
    pub rates: &'a Program,
    /// Computes the root functions (`StoreOut`), after `assignments`.
    pub roots: &'a Program,
    /// Computes the outputs (`StoreOut`), after `assignments`.
    pub outputs: &'a Program,
    /// Computes every event's trigger (`StoreOut(k)`), after `assignments`.
    pub triggers: &'a Program,
    /// Computes every event's time threshold, NaN if it has none (`StoreOut(k)`), after
    /// `assignments`.
    pub thresholds: &'a Program,
}

/// Reusable scratch for one thread evaluating a model.
#[derive(Debug, Clone)]
pub struct Workspace {
    f: Scratch<f64>,
    d: Scratch<Dual64>,
    y: Vec<f64>,
    yd: Vec<Dual64>,
    dyd: Vec<Dual64>,
    p: Vec<f64>,
}

impl CompiledModel {
    /// A workspace sized for this model.
    pub fn workspace(&self) -> Workspace {
        Workspace {
            f: Scratch::new(self.assigned.len(), self.n_reactions),
            d: Scratch::new(self.assigned.len(), self.n_reactions),
            y: vec![0.0; self.states.len()],
            yd: vec![Dual64::from(0.0); self.states.len()],
            dyd: vec![Dual64::from(0.0); self.states.len()],
            p: vec![0.0; self.values.len()],
        }
    }

    /// Where a name lives.
    pub fn slot(&self, id: &str) -> Option<Slot> {
        self.index.get(id).copied()
    }

    /// Index into `values` of a parameter-like name.
    pub fn value_index(&self, id: &str) -> Option<usize> {
        match self.index.get(id) {
            Some(Slot::Value(i)) => Some(*i as usize),
            _ => None,
        }
    }

    /// Ids of the phenotypes the model defines (besides `healthy`).
    pub fn phenotype_ids(&self) -> impl Iterator<Item = &str> {
        self.phenotypes.iter().map(|(id, _)| id.as_str())
    }

    /// Values for a phenotype: `healthy` is the defaults; unknown ids give `None`.
    pub fn phenotype_values(&self, id: &str) -> Option<Vec<f64>> {
        let mut p = self.p0.clone();
        if id == "healthy" {
            return Some(p);
        }
        let (_, set) = self.phenotypes.iter().find(|(pid, _)| pid == id)?;
        for &(i, v) in set {
            p[i as usize] = v;
        }
        Some(p)
    }

    /// Initial states at `t0` from values `p` (initial assignments may also change `p`).
    pub fn initial_state(&self, t0: f64, p: &mut [f64], ws: &mut Workspace) -> Vec<f64> {
        let mut y = vec![0.0; self.states.len()];
        let mut env = Env { t: t0, y: &mut y, p };
        run(&self.init_prog, &mut env, &mut ws.f, &mut []);
        y
    }

    /// The programs, for code generators.
    pub fn programs(&self) -> Programs<'_> {
        Programs {
            assignments: &self.assign_prog,
            rates: &self.rate_prog,
            roots: &self.root_prog,
            outputs: &self.output_prog,
            triggers: &self.trigger_prog,
            thresholds: &self.threshold_prog,
        }
    }

    /// Use native code for the right-hand side and Jacobian-vector products.
    pub fn attach_native(&mut self, code: Arc<dyn NativeCode>) {
        self.native = Some(code);
    }

    /// Whether native code is attached.
    pub fn has_native(&self) -> bool {
        self.native.is_some()
    }

    /// Right-hand side `dy = f(t, y, p)`.
    pub fn rhs(&self, t: f64, y: &[f64], p: &[f64], dy: &mut [f64], ws: &mut Workspace) {
        if let Some(n) = &self.native {
            return n.rhs(t, y, p, dy);
        }
        ws.y.copy_from_slice(y);
        ws.p.copy_from_slice(p);
        let mut env = Env { t, y: &mut ws.y, p: &mut ws.p };
        run(&self.assign_prog, &mut env, &mut ws.f, &mut []);
        run(&self.rate_prog, &mut env, &mut ws.f, dy);
    }

    /// Jacobian-vector product `out = (∂f/∂y) v`, exact (forward-mode dual numbers).
    pub fn jvp(&self, t: f64, y: &[f64], p: &[f64], v: &[f64], out: &mut [f64], ws: &mut Workspace) {
        if let Some(n) = &self.native {
            return n.jvp(t, y, p, v, out);
        }
        for ((d, &yi), &vi) in ws.yd.iter_mut().zip(y).zip(v) {
            *d = Dual64::new(yi, vi);
        }
        ws.p.copy_from_slice(p);
        let mut env = Env { t, y: &mut ws.yd, p: &mut ws.p };
        run(&self.assign_prog, &mut env, &mut ws.d, &mut []);
        run(&self.rate_prog, &mut env, &mut ws.d, &mut ws.dyd);
        for (o, d) in out.iter_mut().zip(&ws.dyd) {
            *o = d.eps;
        }
    }

    /// The Jacobian `∂f/∂y` into `out` (column-major, `n × n`) in one pass, if native code for
    /// it is attached; `false` otherwise (use [`Self::jvp`] column by column).
    pub fn jacobian(&self, t: f64, y: &[f64], p: &[f64], out: &mut [f64]) -> bool {
        self.native.as_ref().is_some_and(|n| n.jacobian(t, y, p, out))
    }

    /// Whether [`Self::jacobian`] is available.
    pub fn has_native_jacobian(&self) -> bool {
        self.native.as_ref().is_some_and(|n| n.has_jacobian())
    }

    /// Root functions (one per relational atom); an event or discontinuity lies where one
    /// changes sign.
    pub fn roots(&self, t: f64, y: &[f64], p: &[f64], out: &mut [f64], ws: &mut Workspace) {
        if let Some(n) = &self.native
            && n.roots(t, y, p, out)
        {
            return;
        }
        self.with_assigned(t, y, p, ws, |m, env, s| run(&m.root_prog, env, s, out));
    }

    /// Values of all output variables (`self.outputs`).
    pub fn observe(&self, t: f64, y: &[f64], p: &[f64], out: &mut [f64], ws: &mut Workspace) {
        if let Some(n) = &self.native
            && n.observe(t, y, p, out)
        {
            return;
        }
        self.with_assigned(t, y, p, ws, |m, env, s| run(&m.output_prog, env, s, out));
    }

    /// Every event's trigger at `(t, y, p)` into `out` (the assignment rules are evaluated once
    /// for all of them).
    pub fn event_triggers(&self, t: f64, y: &[f64], p: &[f64], out: &mut Vec<bool>, ws: &mut Workspace) {
        let mut values = vec![0.0; self.events.len()];
        if !self.native.as_ref().is_some_and(|n| n.triggers(t, y, p, &mut values)) {
            self.with_assigned(t, y, p, ws, |m, env, s| run(&m.trigger_prog, env, s, &mut values));
        }
        out.clear();
        out.extend(values.iter().map(|&v| v != 0.0));
    }

    /// Every event's time threshold at `(t, y, p)` into `out` (`out[k]` is X for a trigger
    /// `time >= X`, see [`CompiledEvent::time_threshold`]; NaN for other events).
    pub fn event_thresholds(&self, t: f64, y: &[f64], p: &[f64], out: &mut [f64], ws: &mut Workspace) {
        if !self.native.as_ref().is_some_and(|n| n.thresholds(t, y, p, out)) {
            self.with_assigned(t, y, p, ws, |m, env, s| run(&m.threshold_prog, env, s, out));
        }
    }

    /// Run an event's trigger, delay, priority or assignments program at `(t, y, p)`.
    pub fn eval_event_program(
        &self,
        prog: &Program,
        t: f64,
        y: &[f64],
        p: &[f64],
        out: &mut [f64],
        ws: &mut Workspace,
    ) {
        self.with_assigned(t, y, p, ws, |_, env, s| run(prog, env, s, out));
    }

    fn with_assigned(
        &self,
        t: f64,
        y: &[f64],
        p: &[f64],
        ws: &mut Workspace,
        f: impl FnOnce(&Self, &mut Env<'_, f64>, &mut Scratch<f64>),
    ) {
        ws.y.copy_from_slice(y);
        ws.p.copy_from_slice(p);
        let mut env = Env { t, y: &mut ws.y, p: &mut ws.p };
        run(&self.assign_prog, &mut env, &mut ws.f, &mut []);
        f(self, &mut env, &mut ws.f);
    }

    /// Instruction counts of the right-hand side: (assignment rules, rates).
    pub fn program_sizes(&self) -> (usize, usize) {
        (self.assign_prog.ops.len(), self.rate_prog.ops.len())
    }

    /// Index of an output column by id.
    pub fn output_index(&self, id: &str) -> Option<usize> {
        self.outputs.iter().position(|o| o.id == id)
    }
}

/// Compile a model spec.
pub fn compile(spec: &ModelSpec) -> Result<CompiledModel, Diagnostics> {
    let mut c = emit::Compiler::new(spec);
    c.declare();
    c.check_values();
    let model = c.build();
    c.diags.into_result(model)
}

pub(crate) fn locate(
    spec: &ModelSpec,
    origin: &Option<Origin>,
    offset: usize,
) -> (Option<String>, Option<(usize, usize)>) {
    match origin {
        Some(o) if o.file < spec.sources.len() => {
            let (name, text) = &spec.sources[o.file];
            (Some(name.clone()), Some(line_col(text, o.span.start + offset)))
        }
        _ => (None, None),
    }
}

pub(crate) fn unknown_symbol(name: &str, known: &HashMap<String, Slot>, extra: &[&str]) -> DiagnosticKind {
    DiagnosticKind::UnknownSymbol {
        name: name.to_string(),
        did_you_mean: did_you_mean(name, known.keys().map(String::as_str).chain(extra.iter().copied())),
    }
}

pub(crate) fn parse_math(m: &Math) -> Result<Expr, (String, usize)> {
    parse_expr(&m.text).map_err(|e| (e.message, e.at))
}

pub(crate) fn check_unit(unit: &str) -> Option<DiagnosticKind> {
    parse_unit(unit).err().map(|e| DiagnosticKind::BadUnit { unit: unit.to_string(), reason: e.0 })
}

pub(crate) fn dummy_program() -> Program {
    let mut p = Program::default();
    p.push(Op::Const(0.0));
    p.finish()
}

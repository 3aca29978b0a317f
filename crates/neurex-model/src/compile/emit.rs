//! The compiler proper: name classification, rule ordering, and code generation.

use super::program::{Fn1, Fn2, Op, Program};
use super::*;
use crate::expr::{BinOp, UnOp};

const CONSTANTS: [&str; 9] = ["time", "pi", "exponentiale", "avogadro", "true", "false", "INF", "NaN", "infinity"];

#[derive(Debug, Clone)]
struct NameInfo {
    slot: Slot,
    /// For species whose symbol means concentration: the compartment to divide by.
    conc_in: Option<String>,
}

/// What an expression belongs to, for diagnostics.
#[derive(Clone)]
struct Site<'a> {
    element: String,
    math: &'a Math,
    origin: &'a Option<Origin>,
}

struct InitItem {
    slot: Slot,
    expr: Expr,
    site_element: String,
    math: Math,
}

pub(crate) struct Compiler<'s> {
    spec: &'s ModelSpec,
    pub(crate) diags: Diagnostics,
    names: HashMap<String, NameInfo>,
    slots: HashMap<String, Slot>,
    states: Vec<VarInfo>,
    values: Vec<VarInfo>,
    assigned: Vec<VarInfo>,
    p0: Vec<f64>,
    ranges: Vec<Option<[f64; 2]>>,
    rate_rules: HashMap<String, (Math, String)>,
    assign_rules: HashMap<String, (Math, String)>,
    functions: HashMap<String, (Vec<String>, Math)>,
    roots: Vec<(Expr, Expr)>,
    root_is_trigger: Vec<bool>,
    collect_roots: Option<bool>,
}

impl<'s> Compiler<'s> {
    pub(crate) fn new(spec: &'s ModelSpec) -> Self {
        Compiler {
            spec,
            diags: Diagnostics::default(),
            names: HashMap::new(),
            slots: HashMap::new(),
            states: Vec::new(),
            values: Vec::new(),
            assigned: Vec::new(),
            p0: Vec::new(),
            ranges: Vec::new(),
            rate_rules: HashMap::new(),
            assign_rules: HashMap::new(),
            functions: HashMap::new(),
            roots: Vec::new(),
            root_is_trigger: Vec::new(),
            collect_roots: None,
        }
    }

    fn diag(&mut self, origin: &Option<Origin>, element: impl Into<String>, kind: DiagnosticKind) {
        let (file, line_col) = locate(self.spec, origin, 0);
        self.diags.push(Diagnostic { file, line_col, element: element.into(), kind });
    }

    fn diag_math(&mut self, site: &Site<'_>, at: usize, kind: DiagnosticKind) {
        let (file, line_col) = match &site.math.origin {
            Some(_) => locate(self.spec, &site.math.origin, at),
            None => locate(self.spec, site.origin, 0),
        };
        self.diags.push(Diagnostic { file, line_col, element: site.element.clone(), kind });
    }

    /// Classify every name into a slot.
    pub(crate) fn declare(&mut self) {
        let spec = self.spec;
        // Rules first: they decide where names live.
        for s in &spec.states {
            self.rate_rules.insert(s.id.clone(), (s.rate.clone(), format!("state `{}`, field `rate`", s.id)));
        }
        for v in &spec.variables {
            self.assign_rules.insert(v.id.clone(), (v.math.clone(), format!("variable `{}`", v.id)));
        }
        for r in &spec.rules {
            let el = format!("{:?} rule for `{}`", r.kind, r.variable).to_lowercase();
            match r.kind {
                RuleKind::Algebraic => {
                    self.diag(&r.origin, el, DiagnosticKind::Unsupported { feature: "algebraic rule".into() });
                    continue;
                }
                RuleKind::Rate | RuleKind::Assignment => {
                    let dup = self.rate_rules.contains_key(&r.variable) || self.assign_rules.contains_key(&r.variable);
                    if dup {
                        self.diag(
                            &r.origin,
                            el.clone(),
                            DiagnosticKind::Invalid(format!("`{}` already has a rule", r.variable)),
                        );
                        continue;
                    }
                    let map = if r.kind == RuleKind::Rate { &mut self.rate_rules } else { &mut self.assign_rules };
                    map.insert(r.variable.clone(), (r.math.clone(), el));
                }
            }
        }
        for f in &spec.functions {
            if self.functions.insert(f.id.clone(), (f.args.clone(), f.math.clone())).is_some() {
                self.diag(
                    &f.origin,
                    format!("function `{}`", f.id),
                    DiagnosticKind::DuplicateName { name: f.id.clone() },
                );
            }
        }
        let in_reaction: HashSet<&str> = spec
            .reactions
            .iter()
            .flat_map(|r| r.reactants.iter().chain(&r.products))
            .map(|s| s.species.as_str())
            .collect();

        let mut seen: HashMap<String, Option<Origin>> = HashMap::new();
        let mut add = |c: &mut Self,
                       id: &str,
                       origin: &Option<Origin>,
                       info: VarInfo,
                       value: f64,
                       range: Option<[f64; 2]>,
                       conc_in: Option<String>,
                       ode: bool| {
            if CONSTANTS.contains(&id) {
                c.diag(origin, format!("`{id}`"), DiagnosticKind::Invalid(format!("`{id}` is a reserved name")));
                return;
            }
            if seen.insert(id.to_string(), origin.clone()).is_some() {
                c.diag(origin, format!("`{id}`"), DiagnosticKind::DuplicateName { name: id.to_string() });
                return;
            }
            let slot = if c.assign_rules.contains_key(id) {
                c.assigned.push(info);
                Slot::Assigned(c.assigned.len() as u32 - 1)
            } else if c.rate_rules.contains_key(id) || ode {
                c.states.push(info);
                Slot::State(c.states.len() as u32 - 1)
            } else {
                c.values.push(info);
                c.p0.push(value);
                c.ranges.push(range);
                Slot::Value(c.values.len() as u32 - 1)
            };
            c.names.insert(id.to_string(), NameInfo { slot, conc_in });
            c.slots.insert(id.to_string(), slot);
        };
        let info = |id: &str, unit: &str, system: &Option<String>, kind: ElementKind, constant: bool| VarInfo {
            id: id.to_string(),
            unit: unit.to_string(),
            system: system.clone(),
            kind,
            constant,
        };
        let dims: HashMap<&str, f64> =
            spec.compartments.iter().map(|c| (c.id.as_str(), c.spatial_dimensions.unwrap_or(3.0))).collect();
        for comp in &spec.compartments {
            let v = comp.size.unwrap_or(f64::NAN);
            let i = info(&comp.id, &comp.unit, &None, ElementKind::Compartment, comp.constant);
            add(self, &comp.id, &comp.origin, i, v, None, None, false);
        }
        for sp in &spec.species {
            if !dims.contains_key(sp.compartment.as_str()) {
                self.diag(
                    &sp.origin,
                    format!("species `{}`", sp.id),
                    unknown_symbol(&sp.compartment, &self.slots, &[]),
                );
            }
            let conc = !sp.has_only_substance_units && dims.get(sp.compartment.as_str()).is_some_and(|&d| d != 0.0);
            let ode = in_reaction.contains(sp.id.as_str()) && !sp.boundary_condition && !sp.constant;
            let v = sp.initial_amount.unwrap_or(f64::NAN);
            let i = info(&sp.id, &sp.unit, &sp.system, ElementKind::Species, sp.constant);
            add(self, &sp.id, &sp.origin, i, v, None, conc.then(|| sp.compartment.clone()), ode);
        }
        for p in &spec.parameters {
            let i = info(&p.id, &p.unit, &p.system, ElementKind::Parameter, p.constant);
            add(self, &p.id, &p.origin, i, p.value, p.range, None, false);
        }
        for s in &spec.states {
            let i = info(&s.id, &s.unit, &s.system, ElementKind::State, false);
            add(self, &s.id, &s.origin, i, f64::NAN, s.range, None, true);
        }
        for v in &spec.variables {
            let i = info(&v.id, &v.unit, &v.system, ElementKind::Variable, false);
            add(self, &v.id, &v.origin, i, f64::NAN, None, None, false);
        }
        for r in &spec.reactions {
            for sr in r.reactants.iter().chain(&r.products) {
                if let Some(id) = &sr.id {
                    let i = info(id, "", &None, ElementKind::Stoichiometry, true);
                    add(self, id, &r.origin, i, sr.stoichiometry, None, None, false);
                }
            }
        }
        // Reaction ids may be used in math (their rate); they are compiled as assigned values.
        for r in &spec.reactions {
            if !r.id.is_empty() {
                if seen.contains_key(&r.id) {
                    self.diag(
                        &r.origin,
                        format!("reaction `{}`", r.id),
                        DiagnosticKind::DuplicateName { name: r.id.clone() },
                    );
                    continue;
                }
                seen.insert(r.id.clone(), r.origin.clone());
                self.assign_rules.insert(r.id.clone(), (r.rate.clone(), format!("reaction `{}`", r.id)));
                self.assigned.push(info(&r.id, "", &r.system, ElementKind::Variable, false));
                let slot = Slot::Assigned(self.assigned.len() as u32 - 1);
                self.names.insert(r.id.clone(), NameInfo { slot, conc_in: None });
                self.slots.insert(r.id.clone(), slot);
            }
        }
        for (var, (_, el)) in self.rate_rules.clone().into_iter().chain(self.assign_rules.clone()) {
            if !self.names.contains_key(&var) {
                let origin = spec.rules.iter().find(|r| r.variable == var).and_then(|r| r.origin.clone());
                self.diag(&origin, el, unknown_symbol(&var, &self.slots, &[]));
            }
        }
    }

    /// Values must be finite and inside their ranges; units must parse.
    pub(crate) fn check_values(&mut self) {
        let spec = self.spec;
        for p in &spec.parameters {
            let el = format!("parameter `{}`", p.id);
            if !p.value.is_finite() {
                self.diag(
                    &p.origin,
                    el.clone(),
                    DiagnosticKind::BadValue(format!("value {} is not a finite number", p.value)),
                );
            }
            if let Some([lo, hi]) = p.range {
                if lo.partial_cmp(&hi).is_none_or(|o| o == std::cmp::Ordering::Greater) {
                    self.diag(&p.origin, el.clone(), DiagnosticKind::BadValue(format!("range [{lo}, {hi}] is empty")));
                } else if !(lo <= p.value && p.value <= hi) {
                    self.diag(
                        &p.origin,
                        el.clone(),
                        DiagnosticKind::BadValue(format!("value {} is outside its range [{lo}, {hi}]", p.value)),
                    );
                }
            }
            if let Some(k) = check_unit(&p.unit) {
                self.diag(&p.origin, el, k);
            }
        }
        for s in &spec.states {
            if let Some(k) = check_unit(&s.unit) {
                self.diag(&s.origin, format!("state `{}`", s.id), k);
            }
        }
        for v in &spec.variables {
            if let Some(k) = check_unit(&v.unit) {
                self.diag(&v.origin, format!("variable `{}`", v.id), k);
            }
        }
        for ph in &spec.phenotypes {
            for s in &ph.set {
                let el = format!("phenotype `{}`, setting `{}`", ph.id, s.parameter);
                match self.slots.get(&s.parameter) {
                    Some(Slot::Value(i)) => {
                        if !s.value.is_finite() {
                            self.diag(
                                &ph.origin,
                                el,
                                DiagnosticKind::BadValue(format!("value {} is not finite", s.value)),
                            );
                        } else if let Some([lo, hi]) = self.ranges[*i as usize]
                            && !(lo <= s.value && s.value <= hi)
                        {
                            self.diag(
                                &ph.origin,
                                el,
                                DiagnosticKind::BadValue(format!(
                                    "value {} is outside the parameter's range [{lo}, {hi}]",
                                    s.value
                                )),
                            );
                        }
                    }
                    Some(_) => self.diag(
                        &ph.origin,
                        el,
                        DiagnosticKind::Invalid(format!("`{}` is not a parameter", s.parameter)),
                    ),
                    None => {
                        let k = unknown_symbol(&s.parameter, &self.slots, &[]);
                        self.diag(&ph.origin, el, k);
                    }
                }
            }
        }
        for sys in &spec.systems {
            for h in &sys.headline {
                if !self.slots.contains_key(h) {
                    let k = unknown_symbol(h, &self.slots, &[]);
                    self.diag(&sys.origin, format!("system `{}`, headline", sys.id), k);
                }
            }
        }
        for c in &spec.couplings {
            for id in [&c.from, &c.to].into_iter().chain(c.via.as_ref()) {
                if !self.slots.contains_key(id) {
                    let k = unknown_symbol(id, &self.slots, &[]);
                    self.diag(&c.origin, format!("coupling `{} -> {}`", c.from, c.to), k);
                }
            }
        }
    }

    // ---- expressions -------------------------------------------------------------------

    fn parse(&mut self, site: &Site<'_>) -> Option<Expr> {
        match parse_math(site.math) {
            Ok(e) => self.inline(e, site, 0),
            Err((message, at)) => {
                self.diag_math(site, at, DiagnosticKind::Expression { message });
                None
            }
        }
    }

    fn inline(&mut self, e: Expr, site: &Site<'_>, depth: usize) -> Option<Expr> {
        if depth > 32 {
            self.diag_math(site, 0, DiagnosticKind::Invalid("function definitions call each other without end".into()));
            return None;
        }
        Some(match e {
            Expr::Call { name, args, at } => {
                let args: Option<Vec<Expr>> = args.into_iter().map(|a| self.inline(a, site, depth)).collect();
                let args = args?;
                if name == "rateOf" && !self.functions.contains_key(&name) {
                    if let [Expr::Sym { name: x, .. }] = args.as_slice()
                        && let Some(e) = self.rate_of(x)
                    {
                        return self.inline(e, site, depth + 1);
                    }
                    let feature = "`rateOf` of an assigned variable or an expression".to_string();
                    self.diag_math(site, at, DiagnosticKind::Unsupported { feature });
                    return None;
                }
                if let Some((params, body)) = self.functions.get(&name).cloned() {
                    if params.len() != args.len() {
                        self.diag_math(
                            site,
                            at,
                            DiagnosticKind::Invalid(format!(
                                "`{name}` takes {} arguments, got {}",
                                params.len(),
                                args.len()
                            )),
                        );
                        return None;
                    }
                    let body = match parse_math(&body) {
                        Ok(b) => b,
                        Err((message, _)) => {
                            self.diag_math(
                                site,
                                at,
                                DiagnosticKind::Expression { message: format!("in function `{name}`: {message}") },
                            );
                            return None;
                        }
                    };
                    let bound: HashMap<&str, &Expr> = params.iter().map(String::as_str).zip(args.iter()).collect();
                    let substituted = substitute(&body, &bound);
                    return self.inline(substituted, site, depth + 1);
                }
                Expr::Call { name, args, at }
            }
            Expr::Unary(op, a) => Expr::Unary(op, Box::new(self.inline(*a, site, depth)?)),
            Expr::Binary(op, a, b) => {
                Expr::Binary(op, Box::new(self.inline(*a, site, depth)?), Box::new(self.inline(*b, site, depth)?))
            }
            other => other,
        })
    }

    /// `rateOf(x)` as an expression: the rate rule of `x`; for a reaction species the sum of
    /// stoichiometry Ã reaction rate (per compartment size for a concentration); 0 for a
    /// value that only events change. `None` for an assigned variable.
    fn rate_of(&self, x: &str) -> Option<Expr> {
        if let Some((m, _)) = self.rate_rules.get(x) {
            return parse_math(m).ok();
        }
        let info = self.names.get(x)?;
        match info.slot {
            Slot::Value(_) => Some(Expr::Num(0.0)),
            Slot::Assigned(_) => None,
            Slot::State(_) => {
                let mut sum = Expr::Num(0.0);
                for r in &self.spec.reactions {
                    for (sr, sign) in r.reactants.iter().map(|s| (s, -1.0)).chain(r.products.iter().map(|s| (s, 1.0))) {
                        if sr.species != x {
                            continue;
                        }
                        if r.id.is_empty() {
                            return None;
                        }
                        let stoich = sr.id.as_ref().map_or(Expr::Num(sr.stoichiometry), |id| Expr::sym(id.clone()));
                        let term = Expr::bin(BinOp::Mul, stoich, Expr::sym(r.id.clone()));
                        sum = Expr::bin(if sign < 0.0 { BinOp::Sub } else { BinOp::Add }, sum, term);
                    }
                }
                Some(match &info.conc_in {
                    Some(c) => Expr::bin(BinOp::Div, sum, Expr::sym(c.clone())),
                    None => sum,
                })
            }
        }
    }

    /// Names (of slots) an inlined expression reads, including compartments of concentrations.
    fn deps(&self, e: &Expr, locals: &HashMap<String, f64>) -> Vec<String> {
        let mut syms = Vec::new();
        e.symbols(&mut syms);
        let mut out = Vec::new();
        for (s, _) in syms {
            if locals.contains_key(&s) {
                continue;
            }
            if let Some(info) = self.names.get(&s) {
                if let Some(c) = &info.conc_in {
                    out.push(c.clone());
                }
                out.push(s);
            }
        }
        out
    }

    fn emit(&mut self, e: &Expr, site: &Site<'_>, locals: &HashMap<String, f64>, prog: &mut Program) -> bool {
        match e {
            Expr::Num(v) => {
                prog.push(Op::Const(*v));
                true
            }
            Expr::Sym { name, at } => self.emit_sym(name, *at, site, locals, prog),
            Expr::Unary(op, a) => {
                let ok = self.emit(a, site, locals, prog);
                prog.push(Op::Call1(if *op == UnOp::Neg { Fn1::Neg } else { Fn1::Not }));
                ok
            }
            Expr::Binary(op, a, b) => {
                if op.is_relational() {
                    self.note_root(a, b);
                }
                let ok = self.emit(a, site, locals, prog) & self.emit(b, site, locals, prog);
                prog.push(Op::Call2(match op {
                    BinOp::Add => Fn2::Add,
                    BinOp::Sub => Fn2::Sub,
                    BinOp::Mul => Fn2::Mul,
                    BinOp::Div => Fn2::Div,
                    BinOp::Pow => Fn2::Pow,
                    BinOp::Lt => Fn2::Lt,
                    BinOp::Le => Fn2::Le,
                    BinOp::Gt => Fn2::Gt,
                    BinOp::Ge => Fn2::Ge,
                    BinOp::Eq => Fn2::Eq,
                    BinOp::Ne => Fn2::Ne,
                    BinOp::And => Fn2::And,
                    BinOp::Or => Fn2::Or,
                }));
                ok
            }
            Expr::Call { name, args, at } => self.emit_call(name, args, *at, site, locals, prog),
        }
    }

    fn note_root(&mut self, a: &Expr, b: &Expr) {
        if let Some(is_trigger) = self.collect_roots {
            // Conditions on constants alone never change: no root needed.
            let mut syms = Vec::new();
            a.symbols(&mut syms);
            b.symbols(&mut syms);
            let varies = syms.iter().any(|(s, _)| {
                s == "time"
                    || matches!(self.slots.get(s), Some(Slot::State(_) | Slot::Assigned(_)))
                    || self.values_changed_by_events().contains(s.as_str())
            });
            if varies || is_trigger {
                self.roots.push((a.clone(), b.clone()));
                self.root_is_trigger.push(is_trigger);
            }
        }
    }

    fn values_changed_by_events(&self) -> HashSet<&str> {
        self.spec.events.iter().flat_map(|e| e.assignments.iter().map(|a| a.variable.as_str())).collect()
    }

    fn emit_sym(
        &mut self,
        name: &str,
        at: usize,
        site: &Site<'_>,
        locals: &HashMap<String, f64>,
        prog: &mut Program,
    ) -> bool {
        if let Some(v) = locals.get(name) {
            prog.push(Op::Const(*v));
            return true;
        }
        let c = match name {
            "time" => {
                prog.push(Op::Time);
                return true;
            }
            "pi" => std::f64::consts::PI,
            "exponentiale" => std::f64::consts::E,
            "avogadro" => 6.022_140_76e23,
            "true" => 1.0,
            "false" => 0.0,
            "INF" | "infinity" => f64::INFINITY,
            "NaN" => f64::NAN,
            _ => {
                let Some(info) = self.names.get(name).cloned() else {
                    let k = unknown_symbol(name, &self.slots, &CONSTANTS);
                    self.diag_math(site, at, k);
                    return false;
                };
                load(prog, info.slot);
                if let Some(comp) = &info.conc_in
                    && !matches!(info.slot, Slot::Assigned(_))
                    && let Some(ci) = self.names.get(comp)
                {
                    load(prog, ci.slot);
                    prog.push(Op::Call2(Fn2::Div));
                }
                return true;
            }
        };
        prog.push(Op::Const(c));
        true
    }

    fn emit_call(
        &mut self,
        name: &str,
        args: &[Expr],
        at: usize,
        site: &Site<'_>,
        locals: &HashMap<String, f64>,
        prog: &mut Program,
    ) -> bool {
        let n = args.len();
        let arity = |c: &mut Self, want: usize| -> bool {
            if n != want {
                c.diag_math(site, at, DiagnosticKind::Invalid(format!("`{name}` takes {want} argument(s), got {n}")));
                false
            } else {
                true
            }
        };
        let fn1 = match name {
            "exp" => Some(Fn1::Exp),
            "ln" => Some(Fn1::Ln),
            "log10" => Some(Fn1::Log10),
            "sqrt" => Some(Fn1::Sqrt),
            "abs" => Some(Fn1::Abs),
            "floor" => Some(Fn1::Floor),
            "ceil" | "ceiling" => Some(Fn1::Ceil),
            "sin" => Some(Fn1::Sin),
            "cos" => Some(Fn1::Cos),
            "tan" => Some(Fn1::Tan),
            "asin" | "arcsin" => Some(Fn1::Asin),
            "acos" | "arccos" => Some(Fn1::Acos),
            "atan" | "arctan" => Some(Fn1::Atan),
            "sinh" => Some(Fn1::Sinh),
            "cosh" => Some(Fn1::Cosh),
            "tanh" => Some(Fn1::Tanh),
            "factorial" => Some(Fn1::Factorial),
            "not" => Some(Fn1::Not),
            _ => None,
        };
        if let Some(f) = fn1 {
            if !arity(self, 1) {
                return false;
            }
            let ok = self.emit(&args[0], site, locals, prog);
            prog.push(Op::Call1(f));
            return ok;
        }
        // Reciprocal trigonometric functions: 1 / f(x).
        let recip = match name {
            "sec" => Some(Fn1::Cos),
            "csc" => Some(Fn1::Sin),
            "cot" => Some(Fn1::Tan),
            "sech" => Some(Fn1::Cosh),
            "csch" => Some(Fn1::Sinh),
            "coth" => Some(Fn1::Tanh),
            _ => None,
        };
        if let Some(f) = recip {
            if !arity(self, 1) {
                return false;
            }
            prog.push(Op::Const(1.0));
            let ok = self.emit(&args[0], site, locals, prog);
            prog.push(Op::Call1(f));
            prog.push(Op::Call2(Fn2::Div));
            return ok;
        }
        match name {
            "pow" | "power" | "root" => {
                if !arity(self, 2) {
                    return false;
                }
                let ok = self.emit(&args[0], site, locals, prog) & self.emit(&args[1], site, locals, prog);
                prog.push(Op::Call2(if name == "root" { Fn2::Root } else { Fn2::Pow }));
                ok
            }
            "log" => match n {
                1 => {
                    let ok = self.emit(&args[0], site, locals, prog);
                    prog.push(Op::Call1(Fn1::Log10));
                    ok
                }
                2 => {
                    let ok = self.emit(&args[0], site, locals, prog) & self.emit(&args[1], site, locals, prog);
                    prog.push(Op::Call2(Fn2::Log));
                    ok
                }
                _ => arity(self, 2),
            },
            "min" | "max" | "and" | "or" | "xor" | "plus" | "times" => {
                let (f, empty) = match name {
                    "min" => (Fn2::Min, f64::INFINITY),
                    "max" => (Fn2::Max, f64::NEG_INFINITY),
                    "and" => (Fn2::And, 1.0),
                    "or" => (Fn2::Or, 0.0),
                    "xor" => (Fn2::Xor, 0.0),
                    "plus" => (Fn2::Add, 0.0),
                    _ => (Fn2::Mul, 1.0),
                };
                if n == 0 {
                    prog.push(Op::Const(empty));
                    return true;
                }
                let mut ok = self.emit(&args[0], site, locals, prog);
                for a in &args[1..] {
                    ok &= self.emit(a, site, locals, prog);
                    prog.push(Op::Call2(f));
                }
                if n == 1 && matches!(f, Fn2::And | Fn2::Or | Fn2::Xor) {
                    prog.push(Op::Const(if f == Fn2::And { 1.0 } else { 0.0 }));
                    prog.push(Op::Call2(f));
                }
                ok
            }
            "piecewise" => {
                if n == 0 {
                    return arity(self, 1);
                }
                // piecewise(v1, c1, v2, c2, ..., [otherwise]) → nested selects.
                let pairs = n / 2;
                let mut ok = true;
                for k in 0..pairs {
                    let cond = &args[2 * k + 1];
                    ok &= self.emit(cond, site, locals, prog);
                    ok &= self.emit(&args[2 * k], site, locals, prog);
                }
                if n % 2 == 1 {
                    ok &= self.emit(&args[n - 1], site, locals, prog);
                } else {
                    prog.push(Op::Const(f64::NAN));
                }
                for _ in 0..pairs {
                    prog.push(Op::Select);
                }
                ok
            }
            "hill" => {
                // hill(x, k, n) = x⁺ⁿ / (kⁿ + x⁺ⁿ), with x⁺ = max(x, 0) so that a tiny negative
                // overshoot of x cannot produce NaN.
                if !arity(self, 3) {
                    return false;
                }
                let xp = Expr::call("max", vec![args[0].clone(), Expr::Num(0.0)]);
                let xn = Expr::bin(BinOp::Pow, xp, args[2].clone());
                let kn = Expr::bin(BinOp::Pow, args[1].clone(), args[2].clone());
                let e = Expr::bin(BinOp::Div, xn.clone(), Expr::bin(BinOp::Add, kn, xn));
                self.emit(&e, site, locals, prog)
            }
            "delay" => {
                self.diag_math(site, at, DiagnosticKind::Unsupported { feature: format!("`{name}` in expressions") });
                false
            }
            _ => {
                let k = DiagnosticKind::UnknownSymbol {
                    name: format!("{name}()"),
                    did_you_mean: did_you_mean(
                        name,
                        self.functions.keys().map(String::as_str).chain(BUILTINS.iter().copied()),
                    )
                    .map(|s| format!("{s}()")),
                };
                self.diag_math(site, at, k);
                false
            }
        }
    }

    // ---- programs ------------------------------------------------------------------------

    pub(crate) fn build(&mut self) -> CompiledModel {
        let spec = self.spec;
        let none = HashMap::new();

        // Assignment rules (and reaction rates used by name), topologically ordered.
        let mut assigned_items: Vec<(u32, Expr)> = Vec::new();
        let rules: Vec<(String, (Math, String))> = self.assign_rules.clone().into_iter().collect();
        let reaction_locals: HashMap<&str, HashMap<String, f64>> = spec
            .reactions
            .iter()
            .map(|r| (r.id.as_str(), r.parameters.iter().map(|p| (p.id.clone(), p.value)).collect()))
            .collect();
        let mut exprs: HashMap<String, (Expr, Math, String)> = HashMap::new();
        for (var, (math, el)) in &rules {
            let origin = self.origin_of(var);
            let site = Site { element: el.clone(), math, origin: &origin };
            if let Some(e) = self.parse(&site) {
                exprs.insert(var.clone(), (e, math.clone(), el.clone()));
            }
        }
        let dep_list: Vec<(String, Vec<String>)> = exprs
            .iter()
            .map(|(k, (e, _, _))| {
                let locals = reaction_locals.get(k.as_str()).cloned().unwrap_or_default();
                (k.clone(), self.deps(e, &locals))
            })
            .collect();
        let order = self.topo_order(dep_list.into_iter(), &|n| matches!(n, Slot::Assigned(_)));
        let mut assign_prog = Program::default();
        self.collect_roots = Some(false);
        for var in order {
            let (e, math, el) = exprs[&var].clone();
            let Some(Slot::Assigned(i)) = self.slots.get(&var).copied() else { continue };
            let origin = self.origin_of(&var);
            let site = Site { element: el, math: &math, origin: &origin };
            let locals = reaction_locals.get(var.as_str()).cloned().unwrap_or_default();
            self.emit(&e, &site, &locals, &mut assign_prog);
            assign_prog.push(Op::StoreA(i));
            assigned_items.push((i, e));
        }

        // Reaction rates, then each state's derivative.
        let mut rate_prog = Program::default();
        let mut n_reactions = 0u32;
        let mut flux: HashMap<String, Vec<(u32, Op, f64)>> = HashMap::new();
        for r in &spec.reactions {
            let site = Site { element: format!("reaction `{}`", r.id), math: &r.rate, origin: &r.origin };
            let locals: HashMap<String, f64> = r.parameters.iter().map(|p| (p.id.clone(), p.value)).collect();
            let Some(e) = self.parse(&site) else { continue };
            self.emit(&e, &site, &locals, &mut rate_prog);
            rate_prog.push(Op::StoreR(n_reactions));
            for (sr, sign) in r.reactants.iter().map(|s| (s, -1.0)).chain(r.products.iter().map(|s| (s, 1.0))) {
                if !self.names.contains_key(&sr.species) {
                    let k = unknown_symbol(&sr.species, &self.slots, &[]);
                    self.diag(&r.origin, format!("reaction `{}`", r.id), k);
                    continue;
                }
                let op = match sr.id.as_ref().and_then(|id| self.slots.get(id)) {
                    Some(&slot) => slot_op(slot),
                    None => Op::Const(sr.stoichiometry),
                };
                flux.entry(sr.species.clone()).or_default().push((n_reactions, op, sign));
            }
            n_reactions += 1;
        }
        let mut state_ids: Vec<(u32, String)> = self
            .slots
            .iter()
            .filter_map(|(k, s)| if let Slot::State(i) = s { Some((*i, k.clone())) } else { None })
            .collect();
        state_ids.sort();
        for (i, id) in &state_ids {
            if let Some((math, el)) = self.rate_rules.get(id).cloned() {
                let origin = self.origin_of(id);
                let site = Site { element: el, math: &math, origin: &origin };
                if let Some(e) = self.parse(&site) {
                    self.emit(&e, &site, &none, &mut rate_prog);
                    // A rate rule on a concentration species gives d(conc)/dt; the state is the amount.
                    if let Some(comp) = self.names.get(id).and_then(|n| n.conc_in.clone())
                        && let Some(ci) = self.names.get(&comp)
                    {
                        load(&mut rate_prog, ci.slot);
                        rate_prog.push(Op::Call2(Fn2::Mul));
                    }
                } else {
                    rate_prog.push(Op::Const(0.0));
                }
            } else if let Some(terms) = flux.get(id) {
                rate_prog.push(Op::Const(0.0));
                for &(r, stoich, sign) in terms {
                    rate_prog.push(Op::R(r));
                    rate_prog.push(stoich);
                    rate_prog.push(Op::Call2(Fn2::Mul));
                    rate_prog.push(Op::Call2(if sign < 0.0 { Fn2::Sub } else { Fn2::Add }));
                }
            } else {
                rate_prog.push(Op::Const(0.0));
            }
            rate_prog.push(Op::StoreOut(*i));
        }
        self.collect_roots = None;

        let init_prog = self.build_init(&assigned_items);

        // Events.
        let mut events = Vec::new();
        for (k, ev) in spec.events.iter().enumerate() {
            let name = if ev.id.is_empty() { format!("event #{}", k + 1) } else { format!("event `{}`", ev.id) };
            events.push(self.build_event(ev, &name));
        }

        // Roots from triggers and piecewise conditions.
        let mut root_prog = Program::default();
        let roots = std::mem::take(&mut self.roots);
        for (k, (a, b)) in roots.iter().enumerate() {
            let m = Math::new("");
            let site = Site { element: "root".into(), math: &m, origin: &None };
            self.emit(a, &site, &none, &mut root_prog);
            self.emit(b, &site, &none, &mut root_prog);
            root_prog.push(Op::Call2(Fn2::Sub));
            root_prog.push(Op::StoreOut(k as u32));
        }

        // Outputs: every quantity that can change, in declaration order.
        let mut outputs = Vec::new();
        let mut output_prog = Program::default();
        let mut push_out = |c: &mut Self, id: &str| {
            let Some(info) = c.names.get(id).cloned() else { return };
            let var = match info.slot {
                Slot::State(i) => c.states[i as usize].clone(),
                Slot::Value(i) => c.values[i as usize].clone(),
                Slot::Assigned(i) => c.assigned[i as usize].clone(),
            };
            let m = Math::new("");
            let site = Site { element: String::new(), math: &m, origin: &None };
            c.emit_sym(id, 0, &site, &HashMap::new(), &mut output_prog);
            output_prog.push(Op::StoreOut(outputs.len() as u32));
            outputs.push(var);
        };
        let changed: HashSet<String> = self.values_changed_by_events().into_iter().map(String::from).collect();
        for comp in &spec.compartments {
            if !comp.constant || self.rate_rules.contains_key(&comp.id) || self.assign_rules.contains_key(&comp.id) {
                push_out(self, &comp.id);
            }
        }
        for sp in &spec.species {
            push_out(self, &sp.id);
        }
        for p in &spec.parameters {
            if !p.constant
                || changed.contains(&p.id)
                || self.rate_rules.contains_key(&p.id)
                || self.assign_rules.contains_key(&p.id)
            {
                push_out(self, &p.id);
            }
        }
        for s in &spec.states {
            push_out(self, &s.id);
        }
        for v in &spec.variables {
            push_out(self, &v.id);
        }

        let phenotypes = spec
            .phenotypes
            .iter()
            .map(|ph| {
                let mut set = Vec::new();
                if let Some(base) = &ph.extends
                    && let Some(b) = spec.phenotypes.iter().find(|p| &p.id == base)
                {
                    set.extend(b.set.iter().filter_map(|s| self.value_slot(&s.parameter).map(|i| (i, s.value))));
                }
                set.extend(ph.set.iter().filter_map(|s| self.value_slot(&s.parameter).map(|i| (i, s.value))));
                (ph.id.clone(), set)
            })
            .collect();

        CompiledModel {
            id: spec.model.id.clone(),
            time_unit: spec.model.time_unit.clone(),
            period: spec.model.period,
            equilibration_periods: spec.model.equilibration_periods.unwrap_or(60),
            states: self.states.clone(),
            values: self.values.clone(),
            assigned: self.assigned.clone(),
            p0: self.p0.clone(),
            ranges: self.ranges.clone(),
            outputs,
            trigger_prog: per_event(events.iter().map(|e| Some(&e.trigger))),
            threshold_prog: per_event(events.iter().map(|e| e.time_threshold.as_ref())),
            events,
            n_reactions: n_reactions as usize,
            n_roots: roots.len(),
            root_is_trigger: self.root_is_trigger.clone(),
            index: self.slots.clone(),
            phenotypes,
            assign_prog: assign_prog.finish(),
            rate_prog: rate_prog.finish(),
            init_prog,
            root_prog: root_prog.finish(),
            output_prog: output_prog.finish(),
            native: None,
        }
    }

    fn value_slot(&self, id: &str) -> Option<u32> {
        match self.slots.get(id) {
            Some(Slot::Value(i)) => Some(*i),
            _ => None,
        }
    }

    fn origin_of(&self, id: &str) -> Option<Origin> {
        let s = self.spec;
        s.states
            .iter()
            .find(|x| x.id == id)
            .and_then(|x| x.origin.clone())
            .or_else(|| s.variables.iter().find(|x| x.id == id).and_then(|x| x.origin.clone()))
            .or_else(|| s.rules.iter().find(|x| x.variable == id).and_then(|x| x.origin.clone()))
            .or_else(|| s.reactions.iter().find(|x| x.id == id).and_then(|x| x.origin.clone()))
    }

    /// Order `items` so that each comes after the items it depends on; report cycles.
    fn topo_order(
        &mut self,
        items: impl Iterator<Item = (String, Vec<String>)>,
        _is_item: &dyn Fn(Slot) -> bool,
    ) -> Vec<String> {
        let items: Vec<(String, Vec<String>)> = items.collect();
        let keys: HashSet<&str> = items.iter().map(|(k, _)| k.as_str()).collect();
        let deps: HashMap<&str, Vec<&str>> = items
            .iter()
            .map(|(k, d)| (k.as_str(), d.iter().map(String::as_str).filter(|x| keys.contains(x)).collect()))
            .collect();
        let mut sorted_keys: Vec<&str> = keys.iter().copied().collect();
        sorted_keys.sort();
        let mut state: HashMap<&str, u8> = HashMap::new();
        let mut out = Vec::new();
        let mut cycle: Option<Vec<String>> = None;
        fn visit<'a>(
            k: &'a str,
            deps: &HashMap<&'a str, Vec<&'a str>>,
            state: &mut HashMap<&'a str, u8>,
            out: &mut Vec<String>,
            path: &mut Vec<&'a str>,
            cycle: &mut Option<Vec<String>>,
        ) {
            match state.get(k) {
                Some(2) => return,
                Some(1) => {
                    if cycle.is_none() {
                        let start = path.iter().position(|p| *p == k).unwrap_or(0);
                        let mut c: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
                        c.push(k.to_string());
                        *cycle = Some(c);
                    }
                    return;
                }
                _ => {}
            }
            state.insert(k, 1);
            path.push(k);
            for d in &deps[k] {
                visit(d, deps, state, out, path, cycle);
            }
            path.pop();
            state.insert(k, 2);
            out.push(k.to_string());
        }
        for k in sorted_keys {
            visit(k, &deps, &mut state, &mut out, &mut Vec::new(), &mut cycle);
        }
        if let Some(c) = cycle {
            let origin = self.origin_of(&c[0]);
            self.diag(&origin, format!("`{}`", c[0]), DiagnosticKind::Cycle(c));
        }
        out
    }

    fn build_init(&mut self, assigned_items: &[(u32, Expr)]) -> Program {
        let spec = self.spec;
        let none = HashMap::new();
        let mut items: Vec<InitItem> = Vec::new();
        let mut targeted: HashSet<String> = HashSet::new();
        for ia in &spec.initial_assignments {
            let el = format!("initial assignment to `{}`", ia.variable);
            let site = Site { element: el.clone(), math: &ia.math, origin: &ia.origin };
            let Some(info) = self.names.get(&ia.variable).cloned() else {
                let k = unknown_symbol(&ia.variable, &self.slots, &[]);
                self.diag(&ia.origin, el, k);
                continue;
            };
            if matches!(info.slot, Slot::Assigned(_)) {
                self.diag(&ia.origin, el, DiagnosticKind::Invalid(format!("`{}` has an assignment rule", ia.variable)));
                continue;
            }
            let Some(mut e) = self.parse(&site) else { continue };
            if let Some(c) = &info.conc_in {
                e = Expr::bin(BinOp::Mul, e, Expr::sym(c.clone()));
            }
            targeted.insert(ia.variable.clone());
            items.push(InitItem { slot: info.slot, expr: e, site_element: el, math: ia.math.clone() });
        }
        for s in &spec.states {
            if targeted.contains(&s.id) {
                continue;
            }
            let el = format!("state `{}`, field `initial`", s.id);
            let site = Site { element: el.clone(), math: &s.initial, origin: &s.origin };
            if let (Some(e), Some(&slot)) = (self.parse(&site), self.slots.get(&s.id)) {
                items.push(InitItem { slot, expr: e, site_element: el, math: s.initial.clone() });
            }
        }
        for sp in &spec.species {
            if targeted.contains(&sp.id) {
                continue;
            }
            let Some(info) = self.names.get(&sp.id).cloned() else { continue };
            if matches!(info.slot, Slot::Assigned(_)) {
                continue;
            }
            let e = match (sp.initial_amount, sp.initial_concentration) {
                (_, Some(c)) => Expr::bin(BinOp::Mul, Expr::Num(c), Expr::sym(sp.compartment.clone())),
                (Some(a), None) => Expr::Num(a),
                (None, None) => continue,
            };
            items.push(InitItem {
                slot: info.slot,
                expr: e,
                site_element: format!("species `{}`", sp.id),
                math: Math::new(""),
            });
        }
        // States of parameters and compartments with rate rules start from their value.
        for (id, info) in self.names.clone() {
            if let Slot::State(_) = info.slot {
                let has = items.iter().any(|it| it.slot == info.slot);
                if !has {
                    let v = spec
                        .parameters
                        .iter()
                        .find(|p| p.id == id)
                        .map(|p| p.value)
                        .or_else(|| spec.compartments.iter().find(|c| c.id == id).and_then(|c| c.size))
                        .unwrap_or(f64::NAN);
                    items.push(InitItem {
                        slot: info.slot,
                        expr: Expr::Num(v),
                        site_element: id.clone(),
                        math: Math::new(""),
                    });
                }
            }
        }
        for (i, e) in assigned_items {
            items.push(InitItem {
                slot: Slot::Assigned(*i),
                expr: e.clone(),
                site_element: String::new(),
                math: Math::new(""),
            });
        }
        let slot_name: HashMap<Slot, String> = self.slots.iter().map(|(k, v)| (*v, k.clone())).collect();
        let by_name: HashMap<String, usize> =
            items.iter().enumerate().filter_map(|(k, it)| slot_name.get(&it.slot).map(|n| (n.clone(), k))).collect();
        let dep_list: Vec<(String, Vec<String>)> = items
            .iter()
            .filter_map(|it| {
                let name = slot_name.get(&it.slot)?.clone();
                let locals = self
                    .spec
                    .reactions
                    .iter()
                    .find(|r| r.id == name)
                    .map(|r| r.parameters.iter().map(|p| (p.id.clone(), p.value)).collect())
                    .unwrap_or_default();
                Some((name, self.deps(&it.expr, &locals)))
            })
            .collect();
        let order = self.topo_order(dep_list.into_iter(), &|_| true);
        let mut prog = Program::default();
        for name in order {
            let Some(&k) = by_name.get(&name) else { continue };
            let it = &items[k];
            let origin = self.origin_of(&name);
            let site = Site { element: it.site_element.clone(), math: &it.math, origin: &origin };
            let locals: HashMap<String, f64> = self
                .spec
                .reactions
                .iter()
                .find(|r| r.id == name)
                .map(|r| r.parameters.iter().map(|p| (p.id.clone(), p.value)).collect())
                .unwrap_or_else(|| none.clone());
            let expr = it.expr.clone();
            let slot = it.slot;
            self.emit(&expr, &site, &locals, &mut prog);
            prog.push(match slot {
                Slot::State(i) => Op::StoreY(i),
                Slot::Value(i) => Op::StoreP(i),
                Slot::Assigned(i) => Op::StoreA(i),
            });
        }
        prog.finish()
    }

    fn build_event(&mut self, ev: &EventSpec, name: &str) -> CompiledEvent {
        let none = HashMap::new();
        let one = |c: &mut Self, m: &Math, field: &str, roots: bool| -> Program {
            let site = Site { element: format!("{name}, field `{field}`"), math: m, origin: &ev.origin };
            let mut p = Program::default();
            c.collect_roots = roots.then_some(true);
            match c.parse(&site) {
                Some(e) => {
                    c.emit(&e, &site, &none, &mut p);
                }
                None => p.push(Op::Const(0.0)),
            }
            c.collect_roots = None;
            p.push(Op::StoreOut(0));
            p.finish()
        };
        // A trigger `time >= X`, with X constant between events, fires at a known time: the
        // engine stops exactly there instead of locating a root (exact event times, and no root
        // function evaluated at every step).
        let time_threshold = self.time_threshold(ev, name);
        let trigger = one(self, &ev.trigger, "trigger", time_threshold.is_none());
        let delay = ev.delay.as_ref().map(|m| one(self, m, "delay", false));
        let priority = ev.priority.as_ref().map(|m| one(self, m, "priority", false));
        let mut targets = Vec::new();
        let mut assignments = Program::default();
        for (k, a) in ev.assignments.iter().enumerate() {
            let el = format!("{name}, assignment to `{}`", a.variable);
            let site = Site { element: el.clone(), math: &a.math, origin: &ev.origin };
            let Some(info) = self.names.get(&a.variable).cloned() else {
                let kd = unknown_symbol(&a.variable, &self.slots, &[]);
                self.diag(&ev.origin, el, kd);
                continue;
            };
            let target = match info.slot {
                Slot::State(i) => Target::State(i),
                Slot::Value(i) => Target::Value(i),
                Slot::Assigned(_) => {
                    self.diag(
                        &ev.origin,
                        el,
                        DiagnosticKind::Invalid(format!("`{}` has an assignment rule", a.variable)),
                    );
                    continue;
                }
            };
            let Some(mut e) = self.parse(&site) else { continue };
            if let Some(c) = &info.conc_in {
                e = Expr::bin(BinOp::Mul, e, Expr::sym(c.clone()));
            }
            self.emit(&e, &site, &none, &mut assignments);
            assignments.push(Op::StoreOut(k as u32));
            targets.push(target);
        }
        // Keep outputs dense even if some assignments failed to compile.
        if targets.len() != ev.assignments.len() {
            targets.clear();
            assignments = dummy_program();
        }
        CompiledEvent {
            id: ev.id.clone(),
            trigger,
            delay,
            priority,
            persistent: ev.persistent,
            initial_value: ev.initial_value,
            use_values_from_trigger_time: ev.use_values_from_trigger_time,
            time_threshold,
            targets,
            assignments: assignments.finish(),
        }
    }

    /// For a trigger that is `time >= X` (or `X <= time`), possibly joined by `&&` to other
    /// conditions, where X and the other conditions depend on neither time nor the states (only
    /// on values, which change at events alone): the program computing X. Such a trigger can only
    /// change at X or at an event, so it needs no root function.
    fn time_threshold(&mut self, ev: &EventSpec, name: &str) -> Option<Program> {
        let e = parse_math(&ev.trigger).ok()?;
        let mut conjuncts = Vec::new();
        flatten_and(&e, &mut conjuncts);
        let is_time = |e: &Expr| matches!(e, Expr::Sym { name, .. } if name == "time");
        let mut threshold = None;
        for c in &conjuncts {
            let x = match c {
                Expr::Binary(BinOp::Ge, a, b) if is_time(a) => Some(&**b),
                Expr::Binary(BinOp::Le, a, b) if is_time(b) => Some(&**a),
                _ => None,
            };
            match x {
                Some(x) if threshold.is_none() => threshold = Some(x),
                _ if self.between_events_constant(c, &mut Vec::new()) => {}
                _ => return None,
            }
        }
        let x = threshold?;
        if !self.between_events_constant(x, &mut Vec::new()) {
            return None;
        }
        let x = x.clone();
        let site = Site { element: format!("{name}, field `trigger`"), math: &ev.trigger, origin: &ev.origin };
        let mut p = Program::default();
        self.emit(&x, &site, &HashMap::new(), &mut p);
        p.push(Op::StoreOut(0));
        Some(p.finish())
    }

    /// Whether `e` depends only on numbers, values and assignment rules of such (not on time,
    /// states, reaction rates or user functions), so that it is constant between events.
    fn between_events_constant(&self, e: &Expr, visiting: &mut Vec<String>) -> bool {
        match e {
            Expr::Num(_) => true,
            Expr::Sym { name, .. } => match self.slots.get(name) {
                Some(Slot::Value(_)) => true,
                Some(Slot::Assigned(_)) => {
                    if visiting.contains(name) {
                        return false;
                    }
                    let Some((math, _)) = self.assign_rules.get(name) else { return false };
                    let Ok(rule) = parse_math(math) else { return false };
                    visiting.push(name.clone());
                    let ok = self.between_events_constant(&rule, visiting);
                    visiting.pop();
                    ok
                }
                _ => false,
            },
            Expr::Unary(_, a) => self.between_events_constant(a, visiting),
            Expr::Binary(_, a, b) => {
                self.between_events_constant(a, visiting) && self.between_events_constant(b, visiting)
            }
            Expr::Call { name, args, .. } => {
                BUILTINS.contains(&name.as_str())
                    && !self.functions.contains_key(name)
                    && args.iter().all(|a| self.between_events_constant(a, visiting))
            }
        }
    }
}

/// One program computing every event's program into `out[k]` (k the event's index), from
/// single-result programs (which store into `out[0]`); NaN where an event has none.
fn per_event<'p>(programs: impl Iterator<Item = Option<&'p Program>>) -> Program {
    let mut all = Program::default();
    for (k, prog) in programs.enumerate() {
        let k = k as u32;
        match prog {
            Some(p) => {
                for &op in &p.ops {
                    all.push(if op == Op::StoreOut(0) { Op::StoreOut(k) } else { op });
                }
            }
            None => {
                all.push(Op::Const(f64::NAN));
                all.push(Op::StoreOut(k));
            }
        }
    }
    all.finish()
}

fn flatten_and<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Binary(BinOp::And, a, b) => {
            flatten_and(a, out);
            flatten_and(b, out);
        }
        // SBML's n-ary `and`, as imported.
        Expr::Call { name, args, .. } if name == "and" && !args.is_empty() => {
            for a in args {
                flatten_and(a, out);
            }
        }
        _ => out.push(e),
    }
}

const BUILTINS: [&str; 24] = [
    "exp",
    "ln",
    "log10",
    "log",
    "sqrt",
    "abs",
    "floor",
    "ceil",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "min",
    "max",
    "pow",
    "root",
    "piecewise",
    "hill",
    "factorial",
];

fn load(prog: &mut Program, slot: Slot) {
    prog.push(slot_op(slot));
}

fn slot_op(slot: Slot) -> Op {
    match slot {
        Slot::State(i) => Op::Y(i),
        Slot::Value(i) => Op::P(i),
        Slot::Assigned(i) => Op::A(i),
    }
}

fn substitute(e: &Expr, bound: &HashMap<&str, &Expr>) -> Expr {
    match e {
        Expr::Sym { name, .. } if bound.contains_key(name.as_str()) => bound[name.as_str()].clone(),
        Expr::Unary(op, a) => Expr::Unary(*op, Box::new(substitute(a, bound))),
        Expr::Binary(op, a, b) => Expr::Binary(*op, Box::new(substitute(a, bound)), Box::new(substitute(b, bound))),
        Expr::Call { name, args, at } => {
            Expr::Call { name: name.clone(), args: args.iter().map(|a| substitute(a, bound)).collect(), at: *at }
        }
        other => other.clone(),
    }
}

//! Native code for neurex models. The interpreter in `neurex-model` evaluates a model's
//! straight-line stack programs one instruction at a time. This crate translates the same
//! programs into Cranelift IR once per model and compiles them to machine code: the
//! right-hand side `f(t, y, p)`, and its forward-mode derivative `(∂f/∂y)·v` (each value
//! carries a tangent; tangents known to be zero, such as those of parameters, are never
//! computed). Transcendental functions call the same Rust functions as the interpreter, so the
//! two back ends agree to rounding.
//!
//! # Safety
//! Calling generated code is `unsafe`. The generated functions read `y[i]`, `p[i]`, `v[i]` and
//! write `out[i]` only for the indices the compiled programs use, which the compiler checked
//! against the model's sizes. [`NativeModel`]'s safe methods assert the slice lengths before
//! every call, and the code is never freed while a [`NativeModel`] exists.

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{AbiParam, FuncRef, InstBuilder, MemFlagsData, Signature, Value, types};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};
use neurex_model::compile::program::{Fn1, Fn2, Op, Program};
use neurex_model::{CompiledModel, NativeCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Why native compilation failed (the interpreter remains available).
#[derive(Debug, thiserror::Error)]
#[error("native code generation failed: {0}")]
pub struct JitError(String);

fn err(e: impl std::fmt::Display) -> JitError {
    JitError(e.to_string())
}

type Kernel = unsafe extern "C" fn(f64, *const f64, *const f64, *const f64, *mut f64);

/// Compiled right-hand side and Jacobian-vector product of one model, and where they compile,
/// its root functions and outputs.
pub struct NativeModel {
    rhs: Kernel,
    jvp: Kernel,
    jacobian: Option<Kernel>,
    roots: Option<Kernel>,
    observe: Option<Kernel>,
    triggers: Option<Kernel>,
    thresholds: Option<Kernel>,
    n_states: usize,
    n_values: usize,
    n_roots: usize,
    n_outputs: usize,
    n_events: usize,
    // Owns the executable memory; kept alive as long as the function pointers.
    _module: Mutex<JITModule>,
}

impl std::fmt::Debug for NativeModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeModel").field("n_states", &self.n_states).field("n_values", &self.n_values).finish()
    }
}

// SAFETY: the generated functions are pure (they touch only their pointer arguments) and the
// module is never mutated after finalisation, so calls from several threads are sound.
unsafe impl Send for NativeModel {}
// SAFETY: as above.
unsafe impl Sync for NativeModel {}

impl NativeModel {
    /// Run a value kernel (roots, outputs, triggers, thresholds) writing `n_out` values; false if
    /// the model has none, so the caller falls back to the interpreter.
    fn call_value_kernel(
        &self,
        k: Option<Kernel>,
        n_out: usize,
        t: f64,
        y: &[f64],
        p: &[f64],
        out: &mut [f64],
    ) -> bool {
        let Some(k) = k else { return false };
        assert!(y.len() >= self.n_states && p.len() >= self.n_values && out.len() >= n_out);
        // SAFETY: lengths checked above; see the crate docs.
        unsafe { k(t, y.as_ptr(), p.as_ptr(), y.as_ptr(), out.as_mut_ptr()) }
        true
    }
}

impl NativeCode for NativeModel {
    fn rhs(&self, t: f64, y: &[f64], p: &[f64], dy: &mut [f64]) {
        assert!(y.len() >= self.n_states && dy.len() >= self.n_states && p.len() >= self.n_values);
        // SAFETY: lengths checked above; see the crate docs.
        unsafe { (self.rhs)(t, y.as_ptr(), p.as_ptr(), y.as_ptr(), dy.as_mut_ptr()) }
    }
    fn jvp(&self, t: f64, y: &[f64], p: &[f64], v: &[f64], out: &mut [f64]) {
        assert!(y.len() >= self.n_states && v.len() >= self.n_states && out.len() >= self.n_states);
        assert!(p.len() >= self.n_values);
        // SAFETY: lengths checked above; see the crate docs.
        unsafe { (self.jvp)(t, y.as_ptr(), p.as_ptr(), v.as_ptr(), out.as_mut_ptr()) }
    }
    fn jacobian(&self, t: f64, y: &[f64], p: &[f64], out: &mut [f64]) -> bool {
        let Some(k) = self.jacobian else { return false };
        let n = self.n_states;
        assert!(y.len() >= n && p.len() >= self.n_values && out.len() >= n * n);
        out[..n * n].fill(0.0);
        // SAFETY: lengths checked above; see the crate docs.
        unsafe { k(t, y.as_ptr(), p.as_ptr(), y.as_ptr(), out.as_mut_ptr()) }
        true
    }
    fn has_jacobian(&self) -> bool {
        self.jacobian.is_some()
    }
    fn roots(&self, t: f64, y: &[f64], p: &[f64], out: &mut [f64]) -> bool {
        self.call_value_kernel(self.roots, self.n_roots, t, y, p, out)
    }
    fn observe(&self, t: f64, y: &[f64], p: &[f64], out: &mut [f64]) -> bool {
        self.call_value_kernel(self.observe, self.n_outputs, t, y, p, out)
    }
    fn triggers(&self, t: f64, y: &[f64], p: &[f64], out: &mut [f64]) -> bool {
        self.call_value_kernel(self.triggers, self.n_events, t, y, p, out)
    }
    fn thresholds(&self, t: f64, y: &[f64], p: &[f64], out: &mut [f64]) -> bool {
        self.call_value_kernel(self.thresholds, self.n_events, t, y, p, out)
    }
}

/// Compile `model`'s right-hand side to native code and attach it, so that
/// [`CompiledModel::rhs`] and [`CompiledModel::jvp`] run it.
pub fn accelerate(model: &mut CompiledModel) -> Result<(), JitError> {
    let native = compile_native(model)?;
    model.attach_native(Arc::new(native));
    Ok(())
}

/// Compile `model`'s right-hand side and Jacobian-vector product.
pub fn compile_native(model: &CompiledModel) -> Result<NativeModel, JitError> {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").map_err(err)?;
    let isa = cranelift_native::builder().map_err(err)?.finish(settings::Flags::new(flags)).map_err(err)?;
    let mut jb = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    for (name, f) in MATH1 {
        jb.symbol(name, f as *const u8);
    }
    for (name, f) in MATH2 {
        jb.symbol(name, f as *const u8);
    }
    let mut module = JITModule::new(jb);
    let progs = model.programs();
    let rhs_progs = [progs.assignments, progs.rates];
    let rhs = build(&mut module, "neurex_rhs", &rhs_progs, Mode::Value)?;
    let jvp = build(&mut module, "neurex_jvp", &rhs_progs, Mode::Jvp)?;
    let n = u32::try_from(model.states.len()).map_err(err)?;
    let jacobian = build(&mut module, "neurex_jacobian", &rhs_progs, Mode::Jacobian(n)).ok();
    // Roots and outputs are optional: a program the generator does not handle (one reading
    // reaction rates, say) stays with the interpreter.
    let roots = build(&mut module, "neurex_roots", &[progs.assignments, progs.roots], Mode::Value).ok();
    let observe = build(&mut module, "neurex_observe", &[progs.assignments, progs.outputs], Mode::Value).ok();
    let triggers = build(&mut module, "neurex_triggers", &[progs.assignments, progs.triggers], Mode::Value).ok();
    let thresholds = build(&mut module, "neurex_thresholds", &[progs.assignments, progs.thresholds], Mode::Value).ok();
    module.finalize_definitions().map_err(err)?;
    let kernel = |id: FuncId| {
        let ptr = module.get_finalized_function(id);
        // SAFETY: every function was declared with the `Kernel` signature (f64 then four
        // pointers, system calling convention) and is finalised.
        unsafe { std::mem::transmute::<*const u8, Kernel>(ptr) }
    };
    Ok(NativeModel {
        rhs: kernel(rhs),
        jvp: kernel(jvp),
        jacobian: jacobian.map(kernel),
        roots: roots.map(kernel),
        observe: observe.map(kernel),
        triggers: triggers.map(kernel),
        thresholds: thresholds.map(kernel),
        n_states: model.states.len(),
        n_values: model.values.len(),
        n_roots: model.n_roots,
        n_outputs: model.outputs.len(),
        n_events: model.events.len(),
        _module: Mutex::new(module),
    })
}

extern "C" fn m_exp(x: f64) -> f64 {
    x.exp()
}
extern "C" fn m_ln(x: f64) -> f64 {
    x.ln()
}
extern "C" fn m_log10(x: f64) -> f64 {
    x.log10()
}
extern "C" fn m_sin(x: f64) -> f64 {
    x.sin()
}
extern "C" fn m_cos(x: f64) -> f64 {
    x.cos()
}
extern "C" fn m_tan(x: f64) -> f64 {
    x.tan()
}
extern "C" fn m_asin(x: f64) -> f64 {
    x.asin()
}
extern "C" fn m_acos(x: f64) -> f64 {
    x.acos()
}
extern "C" fn m_atan(x: f64) -> f64 {
    x.atan()
}
extern "C" fn m_sinh(x: f64) -> f64 {
    x.sinh()
}
extern "C" fn m_cosh(x: f64) -> f64 {
    x.cosh()
}
extern "C" fn m_tanh(x: f64) -> f64 {
    x.tanh()
}
extern "C" fn m_factorial(x: f64) -> f64 {
    if x < 0.0 || x.fract() != 0.0 {
        return f64::NAN;
    }
    (1..=(x as u64)).fold(1.0, |acc, k| acc * k as f64)
}
// The interpreter's power for a constant exponent: exact integer powers, else powf.
extern "C" fn m_pow(a: f64, b: f64) -> f64 {
    if b.fract() == 0.0 && b.abs() <= 64.0 { a.powi(b as i32) } else { a.powf(b) }
}

const MATH1: [(&str, extern "C" fn(f64) -> f64); 13] = [
    ("nx_exp", m_exp),
    ("nx_ln", m_ln),
    ("nx_log10", m_log10),
    ("nx_sin", m_sin),
    ("nx_cos", m_cos),
    ("nx_tan", m_tan),
    ("nx_asin", m_asin),
    ("nx_acos", m_acos),
    ("nx_atan", m_atan),
    ("nx_sinh", m_sinh),
    ("nx_cosh", m_cosh),
    ("nx_tanh", m_tanh),
    ("nx_factorial", m_factorial),
];
const MATH2: [(&str, extern "C" fn(f64, f64) -> f64); 1] = [("nx_pow", m_pow)];

/// What a generated function computes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Values only: `out[i]` is what the program stores.
    Value,
    /// One directional derivative: `out[i]` is the tangent along `v`.
    Jvp,
    /// The whole Jacobian of the stores with respect to the `n` states, column-major into
    /// `out[c·n + i]`; only structurally non-zero entries are written (the caller zeroes).
    Jacobian(u32),
}

/// Non-zero tangent components of a value, by direction (a state index, or 0 for a
/// directional derivative), sorted by direction. Directions missing are exactly zero, so no
/// code is generated for them: parameters, constants and time have none.
type Tan = Vec<(u32, Value)>;

/// A value and its tangent.
#[derive(Clone)]
struct D {
    re: Value,
    eps: Tan,
}

impl D {
    fn constant(re: Value) -> Self {
        D { re, eps: Vec::new() }
    }
}

struct Gen<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    funcs: &'a HashMap<&'static str, FuncRef>,
    /// Values that are literal constants of the program (for exponents known at compile time).
    literals: HashMap<Value, f64>,
}

impl Gen<'_, '_> {
    /// `x^n` for a literal integer `n`, by the binary powering that `f64::powi` (compiler-rt's
    /// `__powidf2`) uses, so that results equal the interpreter's bit for bit.
    fn powi(&mut self, x: Value, n: i32) -> Value {
        let mut m = n.unsigned_abs();
        let mut r: Option<Value> = None;
        let mut base = x;
        loop {
            if m & 1 == 1 {
                r = Some(match r {
                    Some(acc) => self.b.ins().fmul(acc, base),
                    None => base,
                });
            }
            m >>= 1;
            if m == 0 {
                break;
            }
            base = self.b.ins().fmul(base, base);
        }
        let r = match r {
            Some(r) => r,
            None => self.k(1.0),
        };
        if n < 0 {
            let one = self.k(1.0);
            self.b.ins().fdiv(one, r)
        } else {
            r
        }
    }

    fn k(&mut self, x: f64) -> Value {
        self.b.ins().f64const(x)
    }
    fn call(&mut self, name: &str, args: &[Value]) -> Value {
        let f = self.funcs[name];
        let inst = self.b.ins().call(f, args);
        self.b.inst_results(inst)[0]
    }
    fn truth(&mut self, x: Value) -> Value {
        let z = self.k(0.0);
        self.b.ins().fcmp(FloatCC::NotEqual, x, z)
    }
    fn boolean(&mut self, c: Value) -> D {
        let (one, zero) = (self.k(1.0), self.k(0.0));
        D::constant(self.b.ins().select(c, one, zero))
    }
    /// Every component times `scale`.
    fn scale(&mut self, t: &Tan, scale: Value) -> Tan {
        t.iter().map(|&(i, e)| (i, self.b.ins().fmul(e, scale))).collect()
    }
    /// Every component divided by `d`.
    fn div_each(&mut self, t: &Tan, d: Value) -> Tan {
        t.iter().map(|&(i, e)| (i, self.b.ins().fdiv(e, d))).collect()
    }
    fn neg(&mut self, t: &Tan) -> Tan {
        t.iter().map(|&(i, e)| (i, self.b.ins().fneg(e))).collect()
    }
    /// Componentwise `a + b` (a component missing from one side is taken as is).
    fn add(&mut self, a: &Tan, b: &Tan) -> Tan {
        self.merge(a, b, |g, x, y| g.b.ins().fadd(x, y), |_, x| x, |_, y| y)
    }
    fn merge(
        &mut self,
        a: &Tan,
        b: &Tan,
        both: impl Fn(&mut Self, Value, Value) -> Value,
        only_a: impl Fn(&mut Self, Value) -> Value,
        only_b: impl Fn(&mut Self, Value) -> Value,
    ) -> Tan {
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::with_capacity(a.len().max(b.len()));
        while i < a.len() || j < b.len() {
            match (a.get(i), b.get(j)) {
                (Some(&(ia, x)), Some(&(ib, y))) if ia == ib => {
                    out.push((ia, both(self, x, y)));
                    i += 1;
                    j += 1;
                }
                (Some(&(ia, x)), Some(&(ib, _))) if ia < ib => {
                    out.push((ia, only_a(self, x)));
                    i += 1;
                }
                (Some(&(ia, x)), None) => {
                    out.push((ia, only_a(self, x)));
                    i += 1;
                }
                (_, Some(&(ib, y))) => {
                    out.push((ib, only_b(self, y)));
                    j += 1;
                }
                (None, None) => unreachable!("loop condition"),
            }
        }
        out
    }
    fn select(&mut self, c: Value, t: &D, e: &D) -> D {
        let re = self.b.ins().select(c, t.re, e.re);
        let eps = self.merge(
            &t.eps,
            &e.eps,
            |g, x, y| g.b.ins().select(c, x, y),
            |g, x| {
                let z = g.k(0.0);
                g.b.ins().select(c, x, z)
            },
            |g, y| {
                let z = g.k(0.0);
                g.b.ins().select(c, z, y)
            },
        );
        D { re, eps }
    }

    fn op1(&mut self, f: Fn1, x: D) -> D {
        let b = &mut *self;
        match f {
            Fn1::Neg => {
                let re = b.b.ins().fneg(x.re);
                D { re, eps: b.neg(&x.eps) }
            }
            Fn1::Not => {
                let t = b.truth(x.re);
                let (one, zero) = (b.k(1.0), b.k(0.0));
                D::constant(b.b.ins().select(t, zero, one))
            }
            Fn1::Abs => {
                let z = b.k(0.0);
                let neg = b.b.ins().fcmp(FloatCC::LessThan, x.re, z);
                let n = b.op1(Fn1::Neg, x.clone());
                b.select(neg, &n, &x)
            }
            Fn1::Floor => D::constant(b.b.ins().floor(x.re)),
            Fn1::Ceil => D::constant(b.b.ins().ceil(x.re)),
            Fn1::Factorial => D::constant(b.call("nx_factorial", &[x.re])),
            Fn1::Sqrt => {
                let re = b.b.ins().sqrt(x.re);
                let eps = if x.eps.is_empty() {
                    Vec::new()
                } else {
                    let two = b.k(2.0);
                    let den = b.b.ins().fmul(two, re);
                    let one = b.k(1.0);
                    let s = b.b.ins().fdiv(one, den);
                    b.scale(&x.eps, s)
                };
                D { re, eps }
            }
            _ => {
                let name = match f {
                    Fn1::Exp => "nx_exp",
                    Fn1::Ln => "nx_ln",
                    Fn1::Log10 => "nx_log10",
                    Fn1::Sin => "nx_sin",
                    Fn1::Cos => "nx_cos",
                    Fn1::Tan => "nx_tan",
                    Fn1::Asin => "nx_asin",
                    Fn1::Acos => "nx_acos",
                    Fn1::Atan => "nx_atan",
                    Fn1::Sinh => "nx_sinh",
                    Fn1::Cosh => "nx_cosh",
                    _ => "nx_tanh",
                };
                let re = b.call(name, &[x.re]);
                if x.eps.is_empty() {
                    return D::constant(re);
                }
                let one = b.k(1.0);
                // Derivative of f at x.
                let d = match f {
                    Fn1::Exp => re,
                    Fn1::Ln => b.b.ins().fdiv(one, x.re),
                    Fn1::Log10 => {
                        let l10 = b.k(std::f64::consts::LN_10);
                        let den = b.b.ins().fmul(x.re, l10);
                        b.b.ins().fdiv(one, den)
                    }
                    Fn1::Sin => b.call("nx_cos", &[x.re]),
                    Fn1::Cos => {
                        let s = b.call("nx_sin", &[x.re]);
                        b.b.ins().fneg(s)
                    }
                    Fn1::Tan => {
                        let c = b.call("nx_cos", &[x.re]);
                        let c2 = b.b.ins().fmul(c, c);
                        b.b.ins().fdiv(one, c2)
                    }
                    Fn1::Asin | Fn1::Acos => {
                        let x2 = b.b.ins().fmul(x.re, x.re);
                        let r = b.b.ins().fsub(one, x2);
                        let s = b.b.ins().sqrt(r);
                        let d = b.b.ins().fdiv(one, s);
                        if f == Fn1::Acos { b.b.ins().fneg(d) } else { d }
                    }
                    Fn1::Atan => {
                        let x2 = b.b.ins().fmul(x.re, x.re);
                        let den = b.b.ins().fadd(one, x2);
                        b.b.ins().fdiv(one, den)
                    }
                    Fn1::Sinh => b.call("nx_cosh", &[x.re]),
                    Fn1::Cosh => b.call("nx_sinh", &[x.re]),
                    _ => {
                        let t2 = b.b.ins().fmul(re, re);
                        b.b.ins().fsub(one, t2)
                    }
                };
                D { re, eps: b.scale(&x.eps, d) }
            }
        }
    }

    fn op2(&mut self, f: Fn2, x: D, y: D) -> D {
        let b = &mut *self;
        match f {
            Fn2::Add => {
                let re = b.b.ins().fadd(x.re, y.re);
                D { re, eps: b.add(&x.eps, &y.eps) }
            }
            Fn2::Sub => {
                let ny = b.neg(&y.eps);
                let re = b.b.ins().fsub(x.re, y.re);
                D { re, eps: b.add(&x.eps, &ny) }
            }
            Fn2::Mul => {
                let re = b.b.ins().fmul(x.re, y.re);
                let e1 = b.scale(&x.eps, y.re);
                let e2 = b.scale(&y.eps, x.re);
                D { re, eps: b.add(&e1, &e2) }
            }
            Fn2::Div => {
                let re = b.b.ins().fdiv(x.re, y.re);
                // (x' − q·y') / y
                let qy = b.scale(&y.eps, re);
                let num = b.merge(&x.eps, &qy, |g, a, c| g.b.ins().fsub(a, c), |_, a| a, |g, c| g.b.ins().fneg(c));
                D { re, eps: b.div_each(&num, y.re) }
            }
            Fn2::Pow => {
                // Small literal integer exponents (x^2, K^4, x^-1) are multiplied out inline.
                if let Some(&e) = b.literals.get(&y.re)
                    && e.fract() == 0.0
                    && e.abs() <= 16.0
                {
                    let n = e as i32;
                    let re = b.powi(x.re, n);
                    let eps = if x.eps.is_empty() {
                        Vec::new()
                    } else {
                        // d(x^n) = n·x^(n−1)·x'
                        let pm1 = if n == 0 { b.k(0.0) } else { b.powi(x.re, n - 1) };
                        let nk = b.k(e);
                        let s = b.b.ins().fmul(nk, pm1);
                        b.scale(&x.eps, s)
                    };
                    return D { re, eps };
                }
                let re = b.call("nx_pow", &[x.re, y.re]);
                if x.eps.is_empty() && y.eps.is_empty() {
                    return D::constant(re);
                }
                // d(x^y) = y·x^(y−1)·x' + x^y·ln(x)·y'
                let mut eps = Vec::new();
                if !x.eps.is_empty() {
                    // y·x^(y−1) = y·(x^y)/x, reusing x^y; at x = 0 the limit is 0 (y > 1), 1
                    // (y = 1) or ∞ (y < 1).
                    let (zero, one, inf) = (b.k(0.0), b.k(1.0), b.k(f64::INFINITY));
                    let q = b.b.ins().fdiv(re, x.re);
                    let general = b.b.ins().fmul(y.re, q);
                    let gt1 = b.b.ins().fcmp(FloatCC::GreaterThan, y.re, one);
                    let eq1 = b.b.ins().fcmp(FloatCC::Equal, y.re, one);
                    let at_zero_lt = b.b.ins().select(eq1, one, inf);
                    let at_zero = b.b.ins().select(gt1, zero, at_zero_lt);
                    let is_zero = b.b.ins().fcmp(FloatCC::Equal, x.re, zero);
                    let s = b.b.ins().select(is_zero, at_zero, general);
                    eps = b.scale(&x.eps, s);
                }
                if !y.eps.is_empty() {
                    let l = b.call("nx_ln", &[x.re]);
                    let s = b.b.ins().fmul(re, l);
                    let e = b.scale(&y.eps, s);
                    eps = b.add(&eps, &e);
                }
                D { re, eps }
            }
            Fn2::Min | Fn2::Max => {
                let cc = if f == Fn2::Min { FloatCC::LessThan } else { FloatCC::GreaterThan };
                let c1 = b.b.ins().fcmp(cc, y.re, x.re);
                let c2 = b.b.ins().fcmp(FloatCC::Unordered, x.re, x.re);
                let c = b.b.ins().bor(c1, c2);
                b.select(c, &y, &x)
            }
            Fn2::Lt | Fn2::Le | Fn2::Gt | Fn2::Ge | Fn2::Eq | Fn2::Ne => {
                let cc = match f {
                    Fn2::Lt => FloatCC::LessThan,
                    Fn2::Le => FloatCC::LessThanOrEqual,
                    Fn2::Gt => FloatCC::GreaterThan,
                    Fn2::Ge => FloatCC::GreaterThanOrEqual,
                    Fn2::Eq => FloatCC::Equal,
                    _ => FloatCC::NotEqual,
                };
                let c = b.b.ins().fcmp(cc, x.re, y.re);
                b.boolean(c)
            }
            Fn2::And | Fn2::Or | Fn2::Xor => {
                let (tx, ty) = (b.truth(x.re), b.truth(y.re));
                let c = match f {
                    Fn2::And => b.b.ins().band(tx, ty),
                    Fn2::Or => b.b.ins().bor(tx, ty),
                    _ => b.b.ins().bxor(tx, ty),
                };
                b.boolean(c)
            }
            Fn2::Log => {
                // log_x(y) = ln y / ln x
                let ly = b.op1(Fn1::Ln, y);
                let lx = b.op1(Fn1::Ln, x);
                b.op2(Fn2::Div, ly, lx)
            }
            Fn2::Root => {
                // root(x, y) = y^(1/x)
                let one = D::constant(b.k(1.0));
                let inv = b.op2(Fn2::Div, one, x);
                b.op2(Fn2::Pow, y, inv)
            }
        }
    }
}

fn build(module: &mut JITModule, name: &str, programs: &[&Program], mode: Mode) -> Result<FuncId, JitError> {
    let frontend = module.target_config();
    let ptr = frontend.pointer_type();
    let mut sig = Signature::new(module.target_config().default_call_conv);
    sig.params.push(AbiParam::new(types::F64));
    for _ in 0..4 {
        sig.params.push(AbiParam::new(ptr));
    }
    let id = module.declare_function(name, Linkage::Local, &sig).map_err(err)?;
    let mut ctx = module.make_context();
    ctx.func.signature = sig;
    let mut fctx = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let mut funcs = HashMap::new();
        for (n, _) in MATH1 {
            let mut s = module.make_signature();
            s.params.push(AbiParam::new(types::F64));
            s.returns.push(AbiParam::new(types::F64));
            let fid = module.declare_function(n, Linkage::Import, &s).map_err(err)?;
            funcs.insert(n, module.declare_func_in_func(fid, b.func));
        }
        for (n, _) in MATH2 {
            let mut s = module.make_signature();
            s.params.push(AbiParam::new(types::F64));
            s.params.push(AbiParam::new(types::F64));
            s.returns.push(AbiParam::new(types::F64));
            let fid = module.declare_function(n, Linkage::Import, &s).map_err(err)?;
            funcs.insert(n, module.declare_func_in_func(fid, b.func));
        }
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let params = b.block_params(entry).to_vec();
        let (t, y, p, v, out) = (params[0], params[1], params[2], params[3], params[4]);
        let mut g = Gen { b: &mut b, funcs: &funcs, literals: HashMap::new() };
        let flags = MemFlagsData::trusted().with_readonly();
        let mut stack: Vec<D> = Vec::new();
        let mut a: HashMap<u32, D> = HashMap::new();
        let mut r: HashMap<u32, D> = HashMap::new();
        let mut ys: HashMap<u32, D> = HashMap::new();
        let mut ps: HashMap<u32, Value> = HashMap::new();
        let pop = |s: &mut Vec<D>| s.pop().ok_or_else(|| JitError("stack underflow in a compiled program".into()));
        let live = live_statements(programs);
        for (prog, live) in programs.iter().zip(&live) {
            for (op, _) in prog.ops.iter().zip(live).filter(|(_, l)| **l) {
                match *op {
                    Op::Const(c) => {
                        let re = g.k(c);
                        g.literals.insert(re, c);
                        stack.push(D::constant(re));
                    }
                    Op::Y(i) => {
                        let d = match ys.get(&i) {
                            Some(d) => d.clone(),
                            None => {
                                let off = (i as i32) * 8;
                                let re = g.b.ins().load(types::F64, flags, y, off);
                                let eps = match mode {
                                    Mode::Value => Vec::new(),
                                    Mode::Jvp => vec![(0, g.b.ins().load(types::F64, flags, v, off))],
                                    Mode::Jacobian(_) => vec![(i, g.k(1.0))],
                                };
                                let d = D { re, eps };
                                ys.insert(i, d.clone());
                                d
                            }
                        };
                        stack.push(d);
                    }
                    Op::P(i) => {
                        let re = match ps.get(&i) {
                            Some(x) => *x,
                            None => {
                                let x = g.b.ins().load(types::F64, flags, p, (i as i32) * 8);
                                ps.insert(i, x);
                                x
                            }
                        };
                        stack.push(D::constant(re));
                    }
                    Op::A(i) => stack.push(
                        a.get(&i).cloned().ok_or_else(|| JitError(format!("assigned value {i} read before set")))?,
                    ),
                    Op::R(i) => {
                        stack.push(r.get(&i).cloned().ok_or_else(|| JitError(format!("rate {i} read before set")))?)
                    }
                    Op::Time => stack.push(D::constant(t)),
                    Op::Call1(f) => {
                        let x = pop(&mut stack)?;
                        let d = g.op1(f, x);
                        stack.push(d);
                    }
                    Op::Call2(f) => {
                        let yv = pop(&mut stack)?;
                        let xv = pop(&mut stack)?;
                        let d = g.op2(f, xv, yv);
                        stack.push(d);
                    }
                    Op::Select => {
                        let e = pop(&mut stack)?;
                        let th = pop(&mut stack)?;
                        let c = pop(&mut stack)?;
                        let cv = g.truth(c.re);
                        let d = g.select(cv, &th, &e);
                        stack.push(d);
                    }
                    Op::StoreA(i) => {
                        let d = pop(&mut stack)?;
                        a.insert(i, d);
                    }
                    Op::StoreR(i) => {
                        let d = pop(&mut stack)?;
                        r.insert(i, d);
                    }
                    Op::StoreOut(i) => {
                        let d = pop(&mut stack)?;
                        let store = MemFlagsData::trusted();
                        match mode {
                            Mode::Value => {
                                g.b.ins().store(store, d.re, out, (i as i32) * 8);
                            }
                            Mode::Jvp => {
                                let val = match d.eps.first() {
                                    Some(&(_, e)) => e,
                                    None => g.k(0.0),
                                };
                                g.b.ins().store(store, val, out, (i as i32) * 8);
                            }
                            Mode::Jacobian(n) => {
                                for &(c, e) in &d.eps {
                                    let off = i64::from(c) * i64::from(n) + i64::from(i);
                                    let off = i32::try_from(off * 8)
                                        .map_err(|_| JitError("the Jacobian is too large for native code".into()))?;
                                    g.b.ins().store(store, e, out, off);
                                }
                            }
                        }
                    }
                    Op::StoreY(_) | Op::StoreP(_) => {
                        return Err(JitError("state or value stores are not part of a right-hand side".into()));
                    }
                }
            }
        }
        b.ins().return_(&[]);
        b.finalize(frontend);
    }
    module.define_function(id, &mut ctx).map_err(err)?;
    module.clear_context(&mut ctx);
    Ok(id)
}

/// For each instruction of `programs` (run in sequence), whether it contributes to a store into
/// `out`, `y` or `p`. Programs are sequences of statements (an expression and its store); a
/// statement storing an assigned value or a rate nothing later reads is dead. Dropping dead
/// statements matters for root and output kernels, which read a few of the many assignment
/// rules, and for calls into math functions, which the code generator cannot remove itself.
fn live_statements(programs: &[&Program]) -> Vec<Vec<bool>> {
    // Statement boundaries: a store that brings the stack back to empty.
    let mut stmts: Vec<(usize, usize, usize)> = Vec::new(); // (program, start, end exclusive)
    for (k, prog) in programs.iter().enumerate() {
        let (mut depth, mut start) = (0isize, 0);
        for (i, op) in prog.ops.iter().enumerate() {
            depth += op.stack_effect();
            if depth == 0 {
                stmts.push((k, start, i + 1));
                start = i + 1;
            }
        }
        if start < prog.ops.len() {
            // A malformed tail: keep it, so the generator reports it.
            stmts.push((k, start, prog.ops.len()));
        }
    }
    let mut live: Vec<Vec<bool>> = programs.iter().map(|p| vec![false; p.ops.len()]).collect();
    let (mut need_a, mut need_r) = (std::collections::HashSet::new(), std::collections::HashSet::new());
    for &(k, start, end) in stmts.iter().rev() {
        let ops = &programs[k].ops[start..end];
        let keep = match ops.last() {
            Some(Op::StoreA(i)) => need_a.contains(i),
            Some(Op::StoreR(i)) => need_r.contains(i),
            _ => true,
        };
        if !keep {
            continue;
        }
        for op in ops {
            match op {
                Op::A(i) => {
                    need_a.insert(*i);
                }
                Op::R(i) => {
                    need_r.insert(*i);
                }
                _ => {}
            }
        }
        live[k][start..end].fill(true);
    }
    live
}

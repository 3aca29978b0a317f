//! Straight-line stack programs: the compiled form of expressions, evaluated for plain numbers
//! (right-hand side, events) and for dual numbers (exact Jacobian-vector products).

use num_dual::DualNum;

/// One-argument functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fn1 {
    /// e^x
    Exp,
    /// ln x
    Ln,
    /// log10 x
    Log10,
    /// √x
    Sqrt,
    /// |x|
    Abs,
    /// ⌊x⌋
    Floor,
    /// ⌈x⌉
    Ceil,
    /// sin x
    Sin,
    /// cos x
    Cos,
    /// tan x
    Tan,
    /// asin x
    Asin,
    /// acos x
    Acos,
    /// atan x
    Atan,
    /// sinh x
    Sinh,
    /// cosh x
    Cosh,
    /// tanh x
    Tanh,
    /// x!
    Factorial,
    /// logical not
    Not,
    /// -x
    Neg,
}

/// Two-argument operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fn2 {
    /// a + b
    Add,
    /// a − b
    Sub,
    /// a · b
    Mul,
    /// a / b
    Div,
    /// a ^ b
    Pow,
    /// min
    Min,
    /// max
    Max,
    /// a < b
    Lt,
    /// a ≤ b
    Le,
    /// a > b
    Gt,
    /// a ≥ b
    Ge,
    /// a = b
    Eq,
    /// a ≠ b
    Ne,
    /// a and b
    And,
    /// a or b
    Or,
    /// a xor b
    Xor,
    /// log base a of b
    Log,
    /// a-th root of b
    Root,
}

/// An instruction. Loads push; operations pop their operands and push the result; stores pop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// Push a constant.
    Const(f64),
    /// Push state `y[i]`.
    Y(u32),
    /// Push value `p[i]`.
    P(u32),
    /// Push assigned value `a[i]`.
    A(u32),
    /// Push reaction rate `r[i]`.
    R(u32),
    /// Push time.
    Time,
    /// Apply a one-argument function.
    Call1(Fn1),
    /// Apply a two-argument operation.
    Call2(Fn2),
    /// Pop `else`, `then`, `cond`; push `then` if cond ≠ 0 else `else`.
    Select,
    /// Pop into `a[i]`.
    StoreA(u32),
    /// Pop into `r[i]`.
    StoreR(u32),
    /// Pop into output `out[i]`.
    StoreOut(u32),
    /// Pop into `y[i]` (initial values, event assignments).
    StoreY(u32),
    /// Pop into `p[i]`.
    StoreP(u32),
}

/// A straight-line program.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Program {
    /// Instructions.
    pub ops: Vec<Op>,
    /// Deepest stack it needs.
    pub max_stack: usize,
}

impl Op {
    /// How the instruction changes the depth of the evaluation stack.
    pub fn stack_effect(self) -> isize {
        match self {
            Op::Const(_) | Op::Y(_) | Op::P(_) | Op::A(_) | Op::R(_) | Op::Time => 1,
            Op::Call1(_) => 0,
            Op::Call2(_) => -1,
            Op::Select => -2,
            Op::StoreA(_) | Op::StoreR(_) | Op::StoreOut(_) | Op::StoreY(_) | Op::StoreP(_) => -1,
        }
    }
}

impl Program {
    pub(crate) fn push(&mut self, op: Op) {
        self.ops.push(op);
    }
    pub(crate) fn finish(mut self) -> Program {
        let mut depth: isize = 0;
        let mut max = 0;
        for op in &self.ops {
            depth += op.stack_effect();
            max = max.max(depth.max(0) as usize);
        }
        self.max_stack = max;
        self
    }
}

/// Scratch space for evaluating programs without allocating.
#[derive(Debug, Clone, Default)]
pub struct Scratch<T> {
    /// Assigned values.
    pub a: Vec<T>,
    /// Reaction rates.
    pub r: Vec<T>,
    stack: Vec<T>,
}

impl<T: Number> Scratch<T> {
    /// Scratch sized for `n_assigned` assigned values and `n_reactions` rates.
    pub fn new(n_assigned: usize, n_reactions: usize) -> Self {
        let z = T::from(0.0);
        Scratch { a: vec![z; n_assigned], r: vec![z; n_reactions], stack: Vec::with_capacity(64) }
    }
}

fn truth<T: DualNum<Primitive = f64>>(x: &T) -> bool {
    x.re() != 0.0
}

fn boolean<T: DualNum<Primitive = f64>>(b: bool) -> T {
    T::from(if b { 1.0 } else { 0.0 })
}

/// The inputs a program reads; `y` and `p` may be written by stores.
pub struct Env<'a, T> {
    /// Time.
    pub t: f64,
    /// States.
    pub y: &'a mut [T],
    /// Values.
    pub p: &'a mut [f64],
}

/// Run `prog`, writing stores into `scratch`, `env` and `out`.
pub fn run<T: Number>(prog: &Program, env: &mut Env<'_, T>, scratch: &mut Scratch<T>, out: &mut [T]) {
    let st = &mut scratch.stack;
    st.clear();
    for op in &prog.ops {
        match *op {
            Op::Const(c) => st.push(T::from(c)),
            Op::Y(i) => st.push(env.y[i as usize]),
            Op::P(i) => st.push(T::from(env.p[i as usize])),
            Op::A(i) => st.push(scratch.a[i as usize]),
            Op::R(i) => st.push(scratch.r[i as usize]),
            Op::Time => st.push(T::from(env.t)),
            Op::Call1(f) => {
                let x = pop(st);
                st.push(call1(f, x));
            }
            Op::Call2(f) => {
                let b = pop(st);
                let a = pop(st);
                st.push(call2(f, a, b));
            }
            Op::Select => {
                let e = pop(st);
                let t = pop(st);
                let c = pop(st);
                st.push(if truth(&c) { t } else { e });
            }
            Op::StoreA(i) => scratch.a[i as usize] = pop(st),
            Op::StoreR(i) => scratch.r[i as usize] = pop(st),
            Op::StoreOut(i) => out[i as usize] = pop(st),
            Op::StoreY(i) => env.y[i as usize] = pop(st),
            Op::StoreP(i) => env.p[i as usize] = pop(st).re(),
        }
    }
}

fn call1<T: Number>(f: Fn1, x: T) -> T {
    match f {
        Fn1::Exp => x.exp(),
        Fn1::Ln => x.ln(),
        Fn1::Log10 => x.log10(),
        Fn1::Sqrt => x.sqrt(),
        Fn1::Abs => {
            if x.re() < 0.0 {
                -x
            } else {
                x
            }
        }
        Fn1::Floor => T::from(x.re().floor()),
        Fn1::Ceil => T::from(x.re().ceil()),
        Fn1::Sin => x.sin(),
        Fn1::Cos => x.cos(),
        Fn1::Tan => x.tan(),
        Fn1::Asin => x.asin(),
        Fn1::Acos => x.acos(),
        Fn1::Atan => x.atan(),
        Fn1::Sinh => x.sinh(),
        Fn1::Cosh => x.cosh(),
        Fn1::Tanh => x.tanh(),
        Fn1::Factorial => T::from(factorial(x.re())),
        Fn1::Not => boolean(!truth(&x)),
        Fn1::Neg => -x,
    }
}

fn factorial(x: f64) -> f64 {
    if x < 0.0 || x.fract() != 0.0 {
        return f64::NAN;
    }
    (1..=(x as u64)).fold(1.0, |acc, k| acc * k as f64)
}

fn call2<T: Number>(f: Fn2, a: T, b: T) -> T {
    match f {
        Fn2::Add => a + b,
        Fn2::Sub => a - b,
        Fn2::Mul => a * b,
        Fn2::Div => a / b,
        Fn2::Pow => pow(a, b),
        Fn2::Min => {
            if b.re() < a.re() || a.re().is_nan() {
                b
            } else {
                a
            }
        }
        Fn2::Max => {
            if b.re() > a.re() || a.re().is_nan() {
                b
            } else {
                a
            }
        }
        Fn2::Lt => boolean(a.re() < b.re()),
        Fn2::Le => boolean(a.re() <= b.re()),
        Fn2::Gt => boolean(a.re() > b.re()),
        Fn2::Ge => boolean(a.re() >= b.re()),
        Fn2::Eq => boolean(a.re() == b.re()),
        Fn2::Ne => boolean(a.re() != b.re()),
        Fn2::And => boolean(truth(&a) && truth(&b)),
        Fn2::Or => boolean(truth(&a) || truth(&b)),
        Fn2::Xor => boolean(truth(&a) != truth(&b)),
        Fn2::Log => b.ln() / a.ln(),
        Fn2::Root => pow(b, T::from(1.0) / a),
    }
}

// Integer exponents take the exact path (so that negative bases work and derivatives stay
// finite at zero); other exponents go through exp/ln.
fn pow<T: Number>(a: T, b: T) -> T {
    let e = b.re();
    let b_is_const = b.eps_is_zero();
    if b_is_const && e.fract() == 0.0 && e.abs() <= 64.0 {
        return a.powi(e as i32);
    }
    if b_is_const {
        return a.powf(e);
    }
    if a.re() == 0.0 {
        return T::from(0f64.powf(e));
    }
    (b * a.ln()).exp()
}

/// Whether a number carries no derivative part (true for plain f64).
pub trait EpsIsZero {
    /// True if the derivative part is zero.
    fn eps_is_zero(&self) -> bool;
}
impl EpsIsZero for f64 {
    fn eps_is_zero(&self) -> bool {
        true
    }
}
impl EpsIsZero for num_dual::Dual64 {
    fn eps_is_zero(&self) -> bool {
        self.eps == 0.0
    }
}

/// Numbers the programs can run on.
pub trait Number: DualNum<Primitive = f64> + Copy + EpsIsZero {}
impl<T: DualNum<Primitive = f64> + Copy + EpsIsZero> Number for T {}

// Programs are generated with balanced stacks; an empty pop can only mean a compiler bug, and
// yields NaN (caught as a non-finite state) rather than a panic.
fn pop<T: Number>(st: &mut Vec<T>) -> T {
    st.pop().unwrap_or_else(|| T::from(f64::NAN))
}

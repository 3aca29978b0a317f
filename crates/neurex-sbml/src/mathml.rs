//! MathML (the SBML subset) to and from neurex expressions.
//!
//! Reading maps every MathML construct of SBML Level 2 and Level 3 core onto the neurex
//! expression tree; constructs the engine lacks (`arcsinh`, `quotient`, `implies`, ...) are
//! rewritten into equivalent expressions. `delay` is refused. Writing produces MathML that
//! libSBML and libRoadRunner read.

use neurex_model::expr::{BinOp, Expr, UnOp};
use neurex_model::spec::format_number;
use roxmltree::Node;
use std::collections::HashMap;
use std::fmt::Write;

/// The MathML namespace.
pub const MATHML_NS: &str = "http://www.w3.org/1998/Math/MathML";
const SYMBOLS: &str = "http://www.sbml.org/sbml/symbols/";

/// Why a piece of MathML could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum MathError {
    /// A construct neurex does not support (e.g. `delay`).
    Unsupported(String),
    /// Malformed MathML.
    Invalid(String),
}

/// Reads MathML into expressions, renaming ids that clash with neurex's reserved words.
pub(crate) struct Reader<'a> {
    pub(crate) renames: &'a HashMap<String, String>,
}

fn elements<'a, 'i>(n: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(|c| c.is_element())
}

fn invalid<T>(m: impl Into<String>) -> Result<T, MathError> {
    Err(MathError::Invalid(m.into()))
}

fn fold(op: BinOp, mut args: Vec<Expr>, empty: f64) -> Expr {
    if args.is_empty() {
        return Expr::Num(empty);
    }
    let first = args.remove(0);
    args.into_iter().fold(first, |a, b| Expr::bin(op, a, b))
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::call(name, args)
}

fn recip(x: Expr) -> Expr {
    Expr::bin(BinOp::Div, Expr::Num(1.0), x)
}

impl Reader<'_> {
    /// Read a `<math>` element (or any MathML element) into an expression.
    pub(crate) fn read(&self, node: Node<'_, '_>) -> Result<Expr, MathError> {
        let name = node.tag_name().name();
        match name {
            "math" | "semantics" => {
                let Some(first) = elements(node).next() else { return invalid("empty <math>") };
                self.read(first)
            }
            "cn" => read_cn(node).map(Expr::Num),
            "ci" => {
                let id = node.text().unwrap_or("").trim();
                Ok(Expr::sym(self.renames.get(id).cloned().unwrap_or_else(|| id.to_string())))
            }
            "csymbol" => {
                let url = node.attribute("definitionURL").unwrap_or("");
                match url.strip_prefix(SYMBOLS) {
                    Some("time") => Ok(Expr::sym("time")),
                    Some("avogadro") => Ok(Expr::sym("avogadro")),
                    Some("delay") => Err(MathError::Unsupported("delay()".into())),
                    Some(other) => Err(MathError::Unsupported(format!("csymbol `{other}`"))),
                    None => Err(MathError::Unsupported(format!("csymbol `{url}`"))),
                }
            }
            "true" => Ok(Expr::sym("true")),
            "false" => Ok(Expr::sym("false")),
            "pi" => Ok(Expr::sym("pi")),
            "exponentiale" => Ok(Expr::sym("exponentiale")),
            "infinity" => Ok(Expr::Num(f64::INFINITY)),
            "notanumber" => Ok(Expr::Num(f64::NAN)),
            "piecewise" => {
                let mut args = Vec::new();
                let mut otherwise = None;
                for c in elements(node) {
                    let parts: Vec<Node> = elements(c).collect();
                    match (c.tag_name().name(), parts.as_slice()) {
                        ("piece", [v, cond]) => {
                            args.push(self.read(*v)?);
                            args.push(self.read(*cond)?);
                        }
                        ("otherwise", [v]) => otherwise = Some(self.read(*v)?),
                        (other, _) => return invalid(format!("unexpected <{other}> in <piecewise>")),
                    }
                }
                // Without <otherwise> SBML leaves the value undefined; NaN makes that visible.
                args.push(otherwise.unwrap_or(Expr::Num(f64::NAN)));
                Ok(call("piecewise", args))
            }
            "apply" => self.apply(node),
            "lambda" => invalid("<lambda> outside a function definition"),
            other => Err(MathError::Unsupported(format!("MathML <{other}>"))),
        }
    }

    /// Read a `<lambda>`: (argument names, body).
    pub(crate) fn lambda(&self, node: Node<'_, '_>) -> Result<(Vec<String>, Expr), MathError> {
        let node = if node.tag_name().name() == "math" {
            let mut n = elements(node).next().ok_or_else(|| MathError::Invalid("empty <math>".into()))?;
            if n.tag_name().name() == "semantics" {
                n = elements(n).next().ok_or_else(|| MathError::Invalid("empty <semantics>".into()))?;
            }
            n
        } else {
            node
        };
        if node.tag_name().name() != "lambda" {
            return invalid("a function definition must hold a <lambda>");
        }
        let mut args = Vec::new();
        let mut body = None;
        for c in elements(node) {
            if c.tag_name().name() == "bvar" {
                let ci = elements(c).next().ok_or_else(|| MathError::Invalid("empty <bvar>".into()))?;
                let a = ci.text().unwrap_or("").trim();
                args.push(self.renames.get(a).cloned().unwrap_or_else(|| a.to_string()));
            } else {
                body = Some(self.read(c)?);
            }
        }
        let body = body.ok_or_else(|| MathError::Invalid("<lambda> without a body".into()))?;
        Ok((args, body))
    }

    fn apply(&self, node: Node<'_, '_>) -> Result<Expr, MathError> {
        let mut kids = elements(node);
        let Some(op) = kids.next() else { return invalid("empty <apply>") };
        let mut args: Vec<Expr> = Vec::new();
        let mut degree = None;
        let mut logbase = None;
        for c in kids {
            match c.tag_name().name() {
                "degree" | "logbase" => {
                    let inner = elements(c).next().ok_or_else(|| MathError::Invalid("empty qualifier".into()))?;
                    let v = self.read(inner)?;
                    if c.tag_name().name() == "degree" { degree = Some(v) } else { logbase = Some(v) }
                }
                "bvar" => return Err(MathError::Unsupported("<bvar> outside a lambda (calculus)".into())),
                _ => args.push(self.read(c)?),
            }
        }
        let n = args.len();
        let opname = op.tag_name().name();
        let need = |k: usize| -> Result<(), MathError> {
            if n == k { Ok(()) } else { invalid(format!("<{opname}> takes {k} argument(s), got {n}")) }
        };
        let one = |args: &mut Vec<Expr>| args.remove(0);
        Ok(match opname {
            "ci" => {
                let id = op.text().unwrap_or("").trim();
                let id = self.renames.get(id).cloned().unwrap_or_else(|| id.to_string());
                call(&id, args)
            }
            "csymbol" => {
                let url = op.attribute("definitionURL").unwrap_or("");
                match url.strip_prefix(SYMBOLS) {
                    Some("rateOf") => {
                        need(1)?;
                        call("rateOf", args)
                    }
                    Some("delay") => return Err(MathError::Unsupported("delay()".into())),
                    _ => return Err(MathError::Unsupported(format!("csymbol `{url}`"))),
                }
            }
            "plus" => fold(BinOp::Add, args, 0.0),
            "times" => fold(BinOp::Mul, args, 1.0),
            "minus" => match n {
                1 => Expr::Unary(UnOp::Neg, Box::new(one(&mut args))),
                2 => fold(BinOp::Sub, args, 0.0),
                _ => return invalid(format!("<minus> takes 1 or 2 arguments, got {n}")),
            },
            "divide" => {
                need(2)?;
                fold(BinOp::Div, args, 1.0)
            }
            "power" => {
                need(2)?;
                fold(BinOp::Pow, args, 1.0)
            }
            "root" => {
                need(1)?;
                let x = one(&mut args);
                match degree {
                    None => call("sqrt", vec![x]),
                    Some(Expr::Num(2.0)) => call("sqrt", vec![x]),
                    Some(d) => call("root", vec![d, x]),
                }
            }
            "log" => {
                need(1)?;
                let x = one(&mut args);
                match logbase {
                    None => call("log10", vec![x]),
                    Some(Expr::Num(10.0)) => call("log10", vec![x]),
                    Some(b) => call("log", vec![b, x]),
                }
            }
            "exp" | "ln" | "abs" | "floor" | "factorial" | "sin" | "cos" | "tan" | "sec" | "csc" | "cot" | "sinh"
            | "cosh" | "tanh" | "sech" | "csch" | "coth" | "not" => {
                need(1)?;
                if opname == "not" { Expr::Unary(UnOp::Not, Box::new(one(&mut args))) } else { call(opname, args) }
            }
            "ceiling" => {
                need(1)?;
                call("ceil", args)
            }
            "arcsin" | "arccos" | "arctan" => {
                need(1)?;
                call(&opname[3..].replace("sin", "asin").replace("cos", "acos").replace("tan", "atan"), args)
            }
            "arcsec" => {
                need(1)?;
                call("acos", vec![recip(one(&mut args))])
            }
            "arccsc" => {
                need(1)?;
                call("asin", vec![recip(one(&mut args))])
            }
            "arccot" => {
                need(1)?;
                call("atan", vec![recip(one(&mut args))])
            }
            "arcsinh" | "arccsch" => {
                need(1)?;
                let mut x = one(&mut args);
                if opname == "arccsch" {
                    x = recip(x);
                }
                // ln(x + sqrt(x² + 1))
                let r = call(
                    "sqrt",
                    vec![Expr::bin(BinOp::Add, Expr::bin(BinOp::Pow, x.clone(), Expr::Num(2.0)), Expr::Num(1.0))],
                );
                call("ln", vec![Expr::bin(BinOp::Add, x, r)])
            }
            "arccosh" | "arcsech" => {
                need(1)?;
                let mut x = one(&mut args);
                if opname == "arcsech" {
                    x = recip(x);
                }
                let r = call(
                    "sqrt",
                    vec![Expr::bin(BinOp::Sub, Expr::bin(BinOp::Pow, x.clone(), Expr::Num(2.0)), Expr::Num(1.0))],
                );
                call("ln", vec![Expr::bin(BinOp::Add, x, r)])
            }
            "arctanh" | "arccoth" => {
                need(1)?;
                let mut x = one(&mut args);
                if opname == "arccoth" {
                    x = recip(x);
                }
                let q = Expr::bin(
                    BinOp::Div,
                    Expr::bin(BinOp::Add, Expr::Num(1.0), x.clone()),
                    Expr::bin(BinOp::Sub, Expr::Num(1.0), x),
                );
                Expr::bin(BinOp::Mul, Expr::Num(0.5), call("ln", vec![q]))
            }
            "and" | "or" | "xor" => call(opname, args),
            "implies" => {
                need(2)?;
                let b = args.pop().unwrap_or(Expr::Num(0.0));
                let a = args.pop().unwrap_or(Expr::Num(0.0));
                Expr::bin(BinOp::Or, Expr::Unary(UnOp::Not, Box::new(a)), b)
            }
            "max" | "min" => call(opname, args),
            "quotient" | "rem" => {
                need(2)?;
                let b = args.pop().unwrap_or(Expr::Num(1.0));
                let a = args.pop().unwrap_or(Expr::Num(0.0));
                // Integer part of a / b, truncated towards zero (C's fmod convention for rem).
                let q = Expr::bin(BinOp::Div, a.clone(), b.clone());
                let trunc = call(
                    "piecewise",
                    vec![
                        call("floor", vec![q.clone()]),
                        Expr::bin(BinOp::Ge, q.clone(), Expr::Num(0.0)),
                        call("ceil", vec![q]),
                    ],
                );
                if opname == "quotient" { trunc } else { Expr::bin(BinOp::Sub, a, Expr::bin(BinOp::Mul, b, trunc)) }
            }
            "eq" | "neq" | "gt" | "lt" | "geq" | "leq" => {
                let bop = match opname {
                    "eq" => BinOp::Eq,
                    "neq" => BinOp::Ne,
                    "gt" => BinOp::Gt,
                    "lt" => BinOp::Lt,
                    "geq" => BinOp::Ge,
                    _ => BinOp::Le,
                };
                if n < 2 {
                    if opname == "neq" {
                        return invalid("<neq> takes 2 arguments");
                    }
                    return Ok(Expr::sym("true"));
                }
                if opname == "neq" && n != 2 {
                    return invalid("<neq> takes 2 arguments");
                }
                let pairs: Vec<Expr> = args.windows(2).map(|w| Expr::bin(bop, w[0].clone(), w[1].clone())).collect();
                fold(BinOp::And, pairs, 1.0)
            }
            other => return Err(MathError::Unsupported(format!("MathML <{other}>"))),
        })
    }
}

fn read_cn(node: Node<'_, '_>) -> Result<f64, MathError> {
    let kind = node.attribute("type").unwrap_or("real");
    let parts: Vec<String> = node
        .children()
        .filter(|c| c.is_text())
        .map(|c| c.text().unwrap_or("").trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let num = |s: &str| -> Result<f64, MathError> {
        let t = s.trim();
        match t {
            "INF" | "inf" | "Infinity" => Ok(f64::INFINITY),
            "-INF" | "-inf" | "-Infinity" => Ok(f64::NEG_INFINITY),
            "NaN" => Ok(f64::NAN),
            _ => t.parse::<f64>().map_err(|_| MathError::Invalid(format!("`{t}` is not a number"))),
        }
    };
    match kind {
        "e-notation" | "rational" => {
            let [a, b] = parts.as_slice() else { return invalid(format!("<cn type=\"{kind}\"> needs two parts")) };
            let (a, b) = (num(a)?, num(b)?);
            Ok(if kind == "rational" { a / b } else { a * 10f64.powf(b) })
        }
        _ => {
            let text = parts.concat();
            if let Some(base) = node.attribute("base").filter(|b| *b != "10") {
                let base: u32 = base.parse().map_err(|_| MathError::Invalid(format!("bad base {base}")))?;
                return i64::from_str_radix(&text, base)
                    .map(|v| v as f64)
                    .map_err(|_| MathError::Invalid(format!("`{text}` in base {base}")));
            }
            num(&text)
        }
    }
}

// ---- writing ----------------------------------------------------------------------------

/// Write an expression as MathML content (without the `<math>` wrapper), renaming symbols.
pub(crate) fn write_mathml(e: &Expr, out: &mut String, fn_names: &dyn Fn(&str) -> bool) {
    match e {
        Expr::Num(v) => write_num(*v, out),
        Expr::Sym { name, .. } => match name.as_str() {
            "time" => {
                out.push_str(&format!("<csymbol encoding=\"text\" definitionURL=\"{SYMBOLS}time\">time</csymbol>"))
            }
            "avogadro" => out.push_str(&format!(
                "<csymbol encoding=\"text\" definitionURL=\"{SYMBOLS}avogadro\">avogadro</csymbol>"
            )),
            "pi" => out.push_str("<pi/>"),
            "exponentiale" => out.push_str("<exponentiale/>"),
            "true" => out.push_str("<true/>"),
            "false" => out.push_str("<false/>"),
            "INF" | "infinity" => out.push_str("<infinity/>"),
            "NaN" => out.push_str("<notanumber/>"),
            _ => {
                let _ = write!(out, "<ci>{name}</ci>");
            }
        },
        Expr::Unary(op, a) => {
            out.push_str(if *op == UnOp::Neg { "<apply><minus/>" } else { "<apply><not/>" });
            write_mathml(a, out, fn_names);
            out.push_str("</apply>");
        }
        Expr::Binary(op, a, b) => {
            let tag = match op {
                BinOp::Add => "plus",
                BinOp::Sub => "minus",
                BinOp::Mul => "times",
                BinOp::Div => "divide",
                BinOp::Pow => "power",
                BinOp::Lt => "lt",
                BinOp::Le => "leq",
                BinOp::Gt => "gt",
                BinOp::Ge => "geq",
                BinOp::Eq => "eq",
                BinOp::Ne => "neq",
                BinOp::And => "and",
                BinOp::Or => "or",
            };
            let _ = write!(out, "<apply><{tag}/>");
            write_mathml(a, out, fn_names);
            write_mathml(b, out, fn_names);
            out.push_str("</apply>");
        }
        Expr::Call { name, args, .. } => write_call(name, args, out, fn_names),
    }
}

fn write_num(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("<notanumber/>");
    } else if v.is_infinite() {
        if v > 0.0 {
            out.push_str("<infinity/>");
        } else {
            out.push_str("<apply><minus/><infinity/></apply>");
        }
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        let _ = write!(out, "<cn type=\"integer\">{}</cn>", v as i64);
    } else {
        let s = format_number(v);
        match s.split_once('e') {
            Some((m, e)) => {
                let _ = write!(out, "<cn type=\"e-notation\">{m}<sep/>{e}</cn>");
            }
            None => {
                let _ = write!(out, "<cn>{s}</cn>");
            }
        }
    }
}

fn apply(tag: &str, args: &[Expr], out: &mut String, fn_names: &dyn Fn(&str) -> bool) {
    let _ = write!(out, "<apply><{tag}/>");
    for a in args {
        write_mathml(a, out, fn_names);
    }
    out.push_str("</apply>");
}

fn write_call(name: &str, args: &[Expr], out: &mut String, fn_names: &dyn Fn(&str) -> bool) {
    if fn_names(name) {
        let _ = write!(out, "<apply><ci>{name}</ci>");
        for a in args {
            write_mathml(a, out, fn_names);
        }
        out.push_str("</apply>");
        return;
    }
    match (name, args) {
        (
            "exp" | "ln" | "abs" | "floor" | "factorial" | "sin" | "cos" | "tan" | "sec" | "csc" | "cot" | "sinh"
            | "cosh" | "tanh" | "sech" | "csch" | "coth" | "not",
            [_],
        ) => apply(name, args, out, fn_names),
        ("ceil" | "ceiling", [_]) => apply("ceiling", args, out, fn_names),
        ("asin" | "arcsin", [_]) => apply("arcsin", args, out, fn_names),
        ("acos" | "arccos", [_]) => apply("arccos", args, out, fn_names),
        ("atan" | "arctan", [_]) => apply("arctan", args, out, fn_names),
        ("log10" | "log", [_]) => apply("log", args, out, fn_names),
        ("log", [b, x]) => {
            out.push_str("<apply><log/><logbase>");
            write_mathml(b, out, fn_names);
            out.push_str("</logbase>");
            write_mathml(x, out, fn_names);
            out.push_str("</apply>");
        }
        ("sqrt", [_]) => apply("root", args, out, fn_names),
        ("root", [n, x]) => {
            out.push_str("<apply><root/><degree>");
            write_mathml(n, out, fn_names);
            out.push_str("</degree>");
            write_mathml(x, out, fn_names);
            out.push_str("</apply>");
        }
        ("pow" | "power", [_, _]) => apply("power", args, out, fn_names),
        ("and" | "or" | "xor" | "plus" | "times", _) => apply(name, args, out, fn_names),
        ("min" | "max", [single]) => write_mathml(single, out, fn_names),
        ("min" | "max", [first, rest @ ..]) if !rest.is_empty() => {
            // Written as nested piecewise so that every SBML reader (L2 included) takes it.
            let op = if name == "min" { BinOp::Lt } else { BinOp::Gt };
            let mut acc = first.clone();
            for b in rest {
                acc = Expr::call("piecewise", vec![acc.clone(), Expr::bin(op, acc, b.clone()), b.clone()]);
            }
            write_mathml(&acc, out, fn_names);
        }
        ("piecewise", _) => {
            out.push_str("<piecewise>");
            let pairs = args.len() / 2;
            for k in 0..pairs {
                out.push_str("<piece>");
                write_mathml(&args[2 * k], out, fn_names);
                write_mathml(&args[2 * k + 1], out, fn_names);
                out.push_str("</piece>");
            }
            if args.len() % 2 == 1 {
                out.push_str("<otherwise>");
                write_mathml(&args[args.len() - 1], out, fn_names);
                out.push_str("</otherwise>");
            }
            out.push_str("</piecewise>");
        }
        ("hill", [x, k, n]) => {
            // Same as the compiler: x⁺ⁿ / (kⁿ + x⁺ⁿ) with x⁺ = max(x, 0).
            let xp = Expr::call(
                "piecewise",
                vec![x.clone(), Expr::bin(BinOp::Gt, x.clone(), Expr::Num(0.0)), Expr::Num(0.0)],
            );
            let xn = Expr::bin(BinOp::Pow, xp, n.clone());
            let kn = Expr::bin(BinOp::Pow, k.clone(), n.clone());
            write_mathml(&Expr::bin(BinOp::Div, xn.clone(), Expr::bin(BinOp::Add, kn, xn)), out, fn_names);
        }
        ("rateOf", [_]) => {
            let _ = write!(out, "<apply><csymbol encoding=\"text\" definitionURL=\"{SYMBOLS}rateOf\">rateOf</csymbol>");
            write_mathml(&args[0], out, fn_names);
            out.push_str("</apply>");
        }
        _ => {
            // Unknown to MathML: write as a call of a user function (the exporter checks first).
            let _ = write!(out, "<apply><ci>{name}</ci>");
            for a in args {
                write_mathml(a, out, fn_names);
            }
            out.push_str("</apply>");
        }
    }
}

/// True if `name(args…)` is a built-in the writer can express.
pub(crate) fn writable_builtin(name: &str, n: usize) -> bool {
    matches!(
        (name, n),
        (
            "exp"
                | "ln"
                | "abs"
                | "floor"
                | "factorial"
                | "sin"
                | "cos"
                | "tan"
                | "sec"
                | "csc"
                | "cot"
                | "sinh"
                | "cosh"
                | "tanh"
                | "sech"
                | "csch"
                | "coth"
                | "not"
                | "ceil"
                | "ceiling"
                | "asin"
                | "arcsin"
                | "acos"
                | "arccos"
                | "atan"
                | "arctan"
                | "log10"
                | "sqrt"
                | "rateOf",
            1
        ) | ("log", 1 | 2)
            | ("root" | "pow" | "power", 2)
            | ("hill", 3)
    ) || matches!(name, "and" | "or" | "xor" | "plus" | "times" | "piecewise")
        || (matches!(name, "min" | "max") && n >= 1)
}

//! A precedence-climbing parser for the infix expression syntax.

use super::{BinOp, Expr, UnOp};

/// Why an expression did not parse, and where (byte offset in the expression text).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} at offset {at}")]
pub struct ParseError {
    /// What was expected or found.
    pub message: String,
    /// Byte offset in the expression text.
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    End,
}

fn lex(s: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                let mut j = i + 1;
                if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    i = j;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text = &s[start..i];
            let v: f64 =
                text.parse().map_err(|_| ParseError { message: format!("`{text}` is not a number"), at: start })?;
            out.push((Tok::Num(v), start));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                i += 1;
            }
            out.push((Tok::Ident(s[start..i].to_string()), start));
            continue;
        }
        let two = s.get(i..i + 2).unwrap_or("");
        let op: Option<&'static str> = match two {
            "<=" => Some("<="),
            ">=" => Some(">="),
            "==" => Some("=="),
            "!=" => Some("!="),
            "&&" => Some("&&"),
            "||" => Some("||"),
            _ => None,
        };
        if let Some(op) = op {
            out.push((Tok::Op(op), start));
            i += 2;
            continue;
        }
        let tok = match c {
            b'+' => Tok::Op("+"),
            b'-' => Tok::Op("-"),
            b'*' => Tok::Op("*"),
            b'/' => Tok::Op("/"),
            b'^' => Tok::Op("^"),
            b'<' => Tok::Op("<"),
            b'>' => Tok::Op(">"),
            b'!' => Tok::Op("!"),
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b',' => Tok::Comma,
            _ => {
                let ch = s[i..].chars().next().unwrap_or('?');
                return Err(ParseError { message: format!("unexpected character `{ch}`"), at: i });
            }
        };
        out.push((tok, start));
        i += 1;
    }
    out.push((Tok::End, s.len()));
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 200;

fn binop(op: &str) -> Option<BinOp> {
    Some(match op {
        "+" => BinOp::Add,
        "-" => BinOp::Sub,
        "*" => BinOp::Mul,
        "/" => BinOp::Div,
        "^" => BinOp::Pow,
        "<" => BinOp::Lt,
        "<=" => BinOp::Le,
        ">" => BinOp::Gt,
        ">=" => BinOp::Ge,
        "==" => BinOp::Eq,
        "!=" => BinOp::Ne,
        "&&" => BinOp::And,
        "||" => BinOp::Or,
        _ => return None,
    })
}

impl Parser {
    fn peek(&self) -> &(Tok, usize) {
        &self.toks[self.pos]
    }
    fn next(&mut self) -> (Tok, usize) {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn err<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError { message: message.into(), at: self.peek().1 })
    }

    fn expr(&mut self, min_prec: u8) -> Result<Expr, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("expression nested too deeply");
        }
        let mut lhs = self.unary()?;
        while let Some(op) = match &self.peek().0 {
            Tok::Op(o) => binop(o),
            _ => None,
        } {
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            self.next();
            // `^` is right-associative; everything else left-associative.
            let next_min = if op == BinOp::Pow { prec } else { prec + 1 };
            let rhs = if op == BinOp::Pow { self.pow_rhs()? } else { self.expr(next_min)? };
            lhs = Expr::bin(op, lhs, rhs);
        }
        self.depth -= 1;
        Ok(lhs)
    }

    // The right operand of `^` may carry a sign: `x^-2`.
    fn pow_rhs(&mut self) -> Result<Expr, ParseError> {
        self.expr(BinOp::Pow.precedence())
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        match self.peek().0 {
            Tok::Op("-") => {
                self.next();
                // Unary minus binds looser than `^`: -x^2 = -(x^2).
                let e = self.expr(6)?;
                Ok(match e {
                    Expr::Num(v) => Expr::Num(-v),
                    e => Expr::Unary(UnOp::Neg, Box::new(e)),
                })
            }
            Tok::Op("+") => {
                self.next();
                self.expr(6)
            }
            Tok::Op("!") => {
                self.next();
                let e = self.expr(6)?;
                Ok(Expr::Unary(UnOp::Not, Box::new(e)))
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let (tok, at) = self.next();
        match tok {
            Tok::Num(v) => Ok(Expr::Num(v)),
            Tok::Ident(name) => {
                if self.peek().0 == Tok::LParen {
                    self.next();
                    let mut args = Vec::new();
                    if self.peek().0 != Tok::RParen {
                        loop {
                            args.push(self.expr(0)?);
                            match self.peek().0 {
                                Tok::Comma => {
                                    self.next();
                                }
                                Tok::RParen => break,
                                _ => return self.err(format!("expected `,` or `)` in the arguments of `{name}`")),
                            }
                        }
                    }
                    self.next();
                    Ok(Expr::Call { name, args, at })
                } else {
                    Ok(Expr::Sym { name, at })
                }
            }
            Tok::LParen => {
                let e = self.expr(0)?;
                if self.peek().0 != Tok::RParen {
                    return self.err("expected `)`");
                }
                self.next();
                Ok(e)
            }
            Tok::End => Err(ParseError { message: "expected a value, found the end of the expression".into(), at }),
            other => Err(ParseError { message: format!("expected a value, found {}", describe(&other)), at }),
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(v) => format!("number {v}"),
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Op(o) => format!("`{o}`"),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Comma => "`,`".into(),
        Tok::End => "the end".into(),
    }
}

/// Parse an expression.
pub fn parse_expr(text: &str) -> Result<Expr, ParseError> {
    let toks = lex(text)?;
    let mut p = Parser { toks, pos: 0, depth: 0 };
    let e = p.expr(0)?;
    if p.peek().0 != Tok::End {
        return p.err(format!("unexpected {} after a complete expression", describe(&p.peek().0)));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        parse_expr(s).unwrap().to_string()
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(p("1 + 2 * 3"), "1 + 2 * 3");
        assert_eq!(p("(1 + 2) * 3"), "(1 + 2) * 3");
        assert_eq!(p("2 ^ 3 ^ 2"), "2 ^ 3 ^ 2");
        assert_eq!(p("(2 ^ 3) ^ 2"), "(2 ^ 3) ^ 2");
        assert_eq!(p("a - (b - c)"), "a - (b - c)");
        assert_eq!(p("a - b - c"), "a - b - c");
        assert_eq!(p("-x ^ 2"), "-(x ^ 2)");
        assert_eq!(p("x ^ -2"), "x ^ -2");
        assert_eq!(p("a < b && !c || d"), "a < b && !c || d");
    }

    #[test]
    fn calls_and_numbers() {
        assert_eq!(p("hill(x, 1e-3, 2)"), "hill(x, 0.001, 2)");
        assert_eq!(p("piecewise(1, time > 5, 0)"), "piecewise(1, time > 5, 0)");
        assert_eq!(p("f()"), "f()");
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = parse_expr("k * (x + ").unwrap_err();
        assert_eq!(e.at, 9);
        let e = parse_expr("k * x)").unwrap_err();
        assert_eq!(e.at, 5);
        let e = parse_expr("k # x").unwrap_err();
        assert!(e.message.contains('#'));
    }

    #[test]
    fn printing_round_trips() {
        for s in ["a / (b * c)", "a / b * c", "-(a + b)", "piecewise(a, b < c, d)", "1e-300 * x", "exp(-k * time)"] {
            let once = parse_expr(s).unwrap();
            let twice = parse_expr(&once.to_string()).unwrap();
            assert_eq!(once.to_string(), twice.to_string(), "{s}");
        }
    }
}

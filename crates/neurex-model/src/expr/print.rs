//! Printing expressions back to text that parses to the same tree.

use super::{BinOp, Expr, UnOp};
use crate::spec::format_number;
use std::fmt;

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(self, f, 0)
    }
}

fn write_expr(e: &Expr, f: &mut fmt::Formatter<'_>, parent_prec: u8) -> fmt::Result {
    match e {
        Expr::Num(v) => {
            let s = format_number(*v);
            if s.starts_with('-') && parent_prec > 0 { write!(f, "({s})") } else { write!(f, "{s}") }
        }
        Expr::Sym { name, .. } => write!(f, "{name}"),
        Expr::Unary(op, a) => {
            let s = if *op == UnOp::Neg { "-" } else { "!" };
            write!(f, "{s}")?;
            if matches!(**a, Expr::Binary(..)) || matches!(**a, Expr::Num(v) if v < 0.0) {
                write!(f, "(")?;
                write_expr(a, f, 0)?;
                write!(f, ")")
            } else {
                write_expr(a, f, 6)
            }
        }
        Expr::Binary(op, a, b) => {
            let prec = op.precedence();
            let paren = prec < parent_prec;
            if paren {
                write!(f, "(")?;
            }
            // Left operand: needs parentheses if it binds looser; for right-assoc `^`, if equal too.
            let left_min = if *op == BinOp::Pow { prec + 1 } else { prec };
            write_expr(a, f, left_min)?;
            write!(f, " {} ", op.symbol())?;
            let right_min = if *op == BinOp::Pow { prec } else { prec + 1 };
            if *op == BinOp::Pow {
                if let Expr::Num(v) = **b {
                    write!(f, "{}", format_number(v))?;
                } else {
                    write_expr(b, f, right_min)?;
                }
            } else {
                write_expr(b, f, right_min)?;
            }
            if paren {
                write!(f, ")")?;
            }
            Ok(())
        }
        Expr::Call { name, args, .. } => {
            write!(f, "{name}(")?;
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                write_expr(a, f, 0)?;
            }
            write!(f, ")")
        }
    }
}

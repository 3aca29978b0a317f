//! Unit strings: parsed into a scale factor and base dimensions, so that files can be checked
//! and SBML unit definitions written.

use std::fmt;

/// Base dimensions, as exponents: mass (g), length (m), time (s), amount (mol), items.
pub type Dims = [i32; 5];

/// A parsed unit: `value_in_base = scale * value`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    /// Multiplier to base units (g, m, s, mol, item).
    pub scale: f64,
    /// Exponents of the base dimensions.
    pub dims: Dims,
}

impl Unit {
    /// Dimensionless, scale 1.
    pub const ONE: Unit = Unit { scale: 1.0, dims: [0; 5] };

    /// True if it has no dimensions.
    pub fn is_dimensionless(&self) -> bool {
        self.dims == [0; 5]
    }
    fn pow(self, e: i32) -> Unit {
        Unit { scale: self.scale.powi(e), dims: self.dims.map(|d| d * e) }
    }
    fn mul(self, o: Unit) -> Unit {
        let mut dims = self.dims;
        for (d, od) in dims.iter_mut().zip(o.dims) {
            *d += od;
        }
        Unit { scale: self.scale * o.scale, dims }
    }
}

/// Why a unit string was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct UnitError(pub String);

fn base(sym: &str) -> Option<Unit> {
    let d = |dims: Dims, scale: f64| Some(Unit { scale, dims });
    match sym {
        "g" => d([1, 0, 0, 0, 0], 1.0),
        "m" => d([0, 1, 0, 0, 0], 1.0),
        "L" | "l" => d([0, 3, 0, 0, 0], 1e-3),
        "s" => d([0, 0, 1, 0, 0], 1.0),
        "min" => d([0, 0, 1, 0, 0], 60.0),
        "h" => d([0, 0, 1, 0, 0], 3600.0),
        "day" | "d" => d([0, 0, 1, 0, 0], 86400.0),
        "week" | "wk" => d([0, 0, 1, 0, 0], 604800.0),
        "mol" => d([0, 0, 0, 1, 0], 1.0),
        "item" | "cells" | "cell" => d([0, 0, 0, 0, 1], 1.0),
        "1" | "dimensionless" | "fraction" | "points" | "AU" | "au" | "ratio" | "score" => d([0; 5], 1.0),
        "percent" | "%" => d([0; 5], 0.01),
        "bpm" | "METs" | "MET" => d([0; 5], 1.0),
        _ => None,
    }
}

fn prefixed(sym: &str) -> Option<Unit> {
    if let Some(u) = base(sym) {
        return Some(u);
    }
    const PREFIXES: [(&str, f64); 10] = [
        ("p", 1e-12),
        ("n", 1e-9),
        ("u", 1e-6),
        ("µ", 1e-6),
        ("m", 1e-3),
        ("c", 1e-2),
        ("d", 1e-1),
        ("k", 1e3),
        ("f", 1e-15),
        ("M", 1e6),
    ];
    for (p, s) in PREFIXES {
        if let Some(rest) = sym.strip_prefix(p)
            && let Some(u) =
                base(rest).filter(|u| !u.is_dimensionless() && !["min", "h", "day", "d", "week", "wk"].contains(&rest))
        {
            return Some(Unit { scale: u.scale * s, dims: u.dims });
        }
    }
    None
}

/// Parse a unit string such as `nmol/L`, `1/h`, `mL/kg/min`, `mm^3`.
pub fn parse_unit(text: &str) -> Result<Unit, UnitError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(Unit::ONE);
    }
    let mut unit = Unit::ONE;
    let mut divide = false;
    let mut token = String::new();
    let flush = |token: &mut String, divide: bool, unit: &mut Unit| -> Result<(), UnitError> {
        let tok = token.trim();
        if tok.is_empty() {
            return Err(UnitError(format!("missing unit before or after an operator in `{text}`")));
        }
        let (sym, exp) = match tok.split_once('^') {
            Some((s, e)) => {
                let e: i32 = e.trim().parse().map_err(|_| UnitError(format!("bad exponent `{e}` in `{text}`")))?;
                (s.trim(), e)
            }
            None => (tok, 1),
        };
        let u = prefixed(sym).ok_or_else(|| UnitError(format!("unknown unit `{sym}`")))?;
        *unit = unit.mul(u.pow(if divide { -exp } else { exp }));
        token.clear();
        Ok(())
    };
    for c in t.chars() {
        match c {
            '/' | '*' | '·' | ' ' => {
                if c == ' ' && token.trim().is_empty() {
                    continue;
                }
                flush(&mut token, divide, &mut unit)?;
                if c == '/' {
                    divide = true;
                } else if c != ' ' {
                    divide = false;
                }
            }
            _ => token.push(c),
        }
    }
    flush(&mut token, divide, &mut unit)?;
    Ok(unit)
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} x", self.scale)?;
        for (name, e) in ["g", "m", "s", "mol", "item"].iter().zip(self.dims) {
            if e != 0 {
                write!(f, " {name}^{e}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs()
    }

    #[test]
    fn common_units() {
        let u = parse_unit("nmol/L").unwrap();
        assert_eq!(u.dims, [0, -3, 0, 1, 0]);
        assert!(close(u.scale, 1e-6));
        let u = parse_unit("1/h").unwrap();
        assert_eq!(u.dims, [0, 0, -1, 0, 0]);
        assert!(close(u.scale, 1.0 / 3600.0));
        let u = parse_unit("mL/kg/min").unwrap();
        assert_eq!(u.dims, [-1, 3, -1, 0, 0]);
        let u = parse_unit("mm^3").unwrap();
        assert!(close(u.scale, 1e-9));
        assert!(parse_unit("points").unwrap().is_dimensionless());
        assert!(parse_unit("ug/dL").is_ok());
        assert!(parse_unit("pg/mL").is_ok());
    }

    #[test]
    fn rejects_nonsense() {
        assert!(parse_unit("furlongs").is_err());
        assert!(parse_unit("mol/").is_err());
        assert!(parse_unit("m^x").is_err());
    }
}

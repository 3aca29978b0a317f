//! Problems found while reading or compiling a model, each with where and why.

use std::fmt;

/// What is wrong.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// The file is not valid TOML or does not match the schema.
    Syntax(String),
    /// An expression could not be parsed.
    Expression {
        /// What the parser expected.
        message: String,
    },
    /// A name that is not defined.
    UnknownSymbol {
        /// The name.
        name: String,
        /// A close defined name.
        did_you_mean: Option<String>,
    },
    /// Two elements share an id.
    DuplicateName {
        /// The id.
        name: String,
    },
    /// A unit string that is not understood.
    BadUnit {
        /// The unit text.
        unit: String,
        /// Why.
        reason: String,
    },
    /// A number outside what makes sense (NaN, a value outside its range, ...).
    BadValue(String),
    /// Provenance is missing or cites an unknown id.
    Provenance(String),
    /// Assignment rules that depend on each other in a cycle.
    Cycle(Vec<String>),
    /// A construct the engine does not support.
    Unsupported {
        /// The feature, e.g. `algebraic rule`.
        feature: String,
    },
    /// Anything else that makes the model inconsistent.
    Invalid(String),
}

impl fmt::Display for DiagnosticKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiagnosticKind::Syntax(m) => write!(f, "{m}"),
            DiagnosticKind::Expression { message } => write!(f, "bad expression: {message}"),
            DiagnosticKind::UnknownSymbol { name, did_you_mean } => {
                write!(f, "unknown symbol `{name}`")?;
                if let Some(d) = did_you_mean {
                    write!(f, " (did you mean `{d}`?)")?;
                }
                Ok(())
            }
            DiagnosticKind::DuplicateName { name } => write!(f, "`{name}` is defined more than once"),
            DiagnosticKind::BadUnit { unit, reason } => write!(f, "unit `{unit}`: {reason}"),
            DiagnosticKind::BadValue(m) => write!(f, "{m}"),
            DiagnosticKind::Provenance(m) => write!(f, "provenance: {m}"),
            DiagnosticKind::Cycle(ids) => write!(f, "assignment rules form a cycle: {}", ids.join(" -> ")),
            DiagnosticKind::Unsupported { feature } => write!(f, "unsupported: {feature}"),
            DiagnosticKind::Invalid(m) => write!(f, "{m}"),
        }
    }
}

/// One problem, located.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Source file name, when known.
    pub file: Option<String>,
    /// 1-based line and column, when known.
    pub line_col: Option<(usize, usize)>,
    /// The element, e.g. "state `cortisol`, field `rate`".
    pub element: String,
    /// What is wrong.
    pub kind: DiagnosticKind,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line_col) {
            (Some(file), Some((l, c))) => write!(f, "{file}:{l}:{c}: ")?,
            (Some(file), None) => write!(f, "{file}: ")?,
            (None, Some((l, c))) => write!(f, "{l}:{c}: ")?,
            (None, None) => {}
        }
        if !self.element.is_empty() {
            write!(f, "{}: ", self.element)?;
        }
        write!(f, "{}", self.kind)
    }
}

/// All problems found, sorted by position.
#[derive(Debug, Clone, PartialEq, Default, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(f, "{n} problem{} in the model:", if n == 1 { "" } else { "s" })?;
        for d in &self.0 {
            writeln!(f, "  {d}")?;
        }
        Ok(())
    }
}

impl Diagnostics {
    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Add a problem.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    /// `Ok(v)` if empty, else `Err(self)` sorted.
    pub fn into_result<T>(mut self, v: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            Ok(v)
        } else {
            self.0.sort_by(|a, b| (&a.file, a.line_col).cmp(&(&b.file, b.line_col)));
            Err(self)
        }
    }
}

/// 1-based line and column of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |i| offset - i - 1) + 1;
    (line, col)
}

/// "line L, column C: " for a TOML parse error in `text`, or "" if it has no position.
pub fn toml_error_at(text: &str, e: &toml::de::Error) -> String {
    e.span()
        .map(|s| {
            let (l, c) = line_col(text, s.start);
            format!("line {l}, column {c}: ")
        })
        .unwrap_or_default()
}

/// The closest name in `candidates` to `name` by edit distance, if close enough.
pub fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(name, c);
        if d <= (name.len() / 3).max(2) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn suggests_close_names() {
        let names = ["cortisol", "acth", "crh"];
        assert_eq!(did_you_mean("cortisl", names.iter().copied()).as_deref(), Some("cortisol"));
        assert_eq!(did_you_mean("zzzzzzzz", names.iter().copied()), None);
    }
}

//! Calibration that can be rerun: fit the parameters a validation file declares
//! (`[[calibration.parameter]]`) to its `role = "calibration"` targets by bounded Nelder–Mead
//! (Nelder & Mead 1965; Lagarias et al. 1998 coefficients) in coordinates scaled to each
//! parameter's search interval. The objective is the sum over targets of
//! ((simulated − published) / half-width of the band)²: a target at the edge of its band adds 1.

use super::run::{RunOptions, Runner, ValidationReport};
use super::spec::{Role, ValidationFile};
use crate::error::Error;
use neurex_model::CompiledModel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Options of [`calibrate`].
#[derive(Debug, Clone)]
pub struct CalibrateOptions {
    /// Objective evaluations allowed (default 120; each is one validation run of the
    /// calibration targets).
    pub max_evaluations: usize,
    /// Stop when the simplex's objective values differ by less than this (default 1e-3).
    pub tolerance: f64,
    /// Run options (threads, solver).
    pub run: RunOptions,
}

impl Default for CalibrateOptions {
    fn default() -> Self {
        CalibrateOptions { max_evaluations: 120, tolerance: 1e-3, run: RunOptions::default() }
    }
}

/// One fitted parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fitted {
    /// Parameter id.
    pub id: String,
    /// Value in the model before the fit.
    pub start: f64,
    /// Fitted value.
    pub value: f64,
    /// Search interval.
    pub bounds: [f64; 2],
}

/// What a calibration did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationResult {
    /// The parameters.
    pub parameters: Vec<Fitted>,
    /// Objective at the model's current values.
    pub objective_start: f64,
    /// Objective at the fit.
    pub objective: f64,
    /// Objective evaluations.
    pub evaluations: usize,
    /// Calibration targets at the fit.
    pub report: ValidationReport,
}

/// The objective of a report: Σ ((sim − published) / half-width)² over its targets.
pub fn objective(report: &ValidationReport) -> f64 {
    report
        .results
        .iter()
        .map(|r| {
            let half = ((r.band[1] - r.band[0]) / 2.0).max(1e-12);
            let z = (r.simulated - r.published) / half;
            if z.is_finite() { z * z } else { 1e6 }
        })
        .sum()
}

/// Fit the declared parameters to the calibration targets. `progress` is called after each
/// evaluation with (evaluation, objective, best so far).
pub fn calibrate(
    model: &CompiledModel,
    file: &ValidationFile,
    opts: &CalibrateOptions,
    progress: &mut dyn FnMut(usize, f64, f64),
) -> Result<CalibrationResult, Error> {
    let targets: Vec<_> = file.targets.iter().filter(|t| t.role == Role::Calibration).cloned().collect();
    let params = &file.calibration.parameters;
    if targets.is_empty() || params.is_empty() {
        return Err(Error::BadRequest("the validation file declares no calibration targets or parameters".into()));
    }
    let mut start = Vec::new();
    for fp in params {
        let i = model.value_index(&fp.id).ok_or_else(|| Error::UnknownVariable {
            name: fp.id.clone(),
            hint: " (calibration parameter not in the model)".into(),
        })?;
        if fp.bounds[0] >= fp.bounds[1] || fp.bounds.iter().any(|b| !b.is_finite()) {
            return Err(Error::BadRequest(format!("calibration bounds of `{}` are empty", fp.id)));
        }
        start.push(model.p0[i]);
    }
    let runner = Runner::new(model);
    let to_values = |x: &[f64]| -> BTreeMap<String, f64> {
        params
            .iter()
            .zip(x)
            .map(|(fp, &u)| (fp.id.clone(), fp.bounds[0] + u.clamp(0.0, 1.0) * (fp.bounds[1] - fp.bounds[0])))
            .collect()
    };
    let mut evaluations = 0usize;
    let mut best = f64::INFINITY;
    let mut eval = |x: &[f64]| -> f64 {
        let mut o = opts.run.clone();
        o.overrides.extend(to_values(x));
        let f = objective(&runner.run(&targets, &o));
        evaluations += 1;
        best = best.min(f);
        progress(evaluations, f, best);
        f
    };
    let x0: Vec<f64> = params
        .iter()
        .zip(&start)
        .map(|(fp, &v)| ((v - fp.bounds[0]) / (fp.bounds[1] - fp.bounds[0])).clamp(0.0, 1.0))
        .collect();
    let (xbest, fbest, f0) = nelder_mead(&mut eval, &x0, opts.max_evaluations, opts.tolerance);
    let values = to_values(&xbest);
    let mut o = opts.run.clone();
    o.overrides.extend(values.clone());
    let report = runner.run(&targets, &o);
    Ok(CalibrationResult {
        parameters: params
            .iter()
            .zip(&start)
            .map(|(fp, &s)| Fitted { id: fp.id.clone(), start: s, value: values[&fp.id], bounds: fp.bounds })
            .collect(),
        objective_start: f0,
        objective: fbest,
        evaluations,
        report,
    })
}

/// Bounded Nelder–Mead on the unit cube (points are clamped). Returns (best x, best f, f(x0)).
fn nelder_mead(f: &mut dyn FnMut(&[f64]) -> f64, x0: &[f64], max_evals: usize, tol: f64) -> (Vec<f64>, f64, f64) {
    let n = x0.len();
    let clamp = |x: Vec<f64>| x.into_iter().map(|v| v.clamp(0.0, 1.0)).collect::<Vec<_>>();
    let f0 = f(x0);
    let mut simplex: Vec<(Vec<f64>, f64)> = vec![(x0.to_vec(), f0)];
    let mut evals = 1;
    for i in 0..n {
        let mut x = x0.to_vec();
        x[i] = if x[i] + 0.15 <= 1.0 { x[i] + 0.15 } else { x[i] - 0.15 };
        let fx = f(&x);
        evals += 1;
        simplex.push((x, fx));
    }
    while evals < max_evals {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        if (simplex[n].1 - simplex[0].1).abs() < tol {
            break;
        }
        let centroid: Vec<f64> = (0..n).map(|k| simplex[..n].iter().map(|p| p.0[k]).sum::<f64>() / n as f64).collect();
        let along = |c: f64| clamp(centroid.iter().zip(&simplex[n].0).map(|(m, w)| m + c * (m - w)).collect());
        let xr = along(1.0);
        let fr = f(&xr);
        evals += 1;
        if fr < simplex[0].1 {
            let xe = along(2.0);
            let fe = f(&xe);
            evals += 1;
            simplex[n] = if fe < fr { (xe, fe) } else { (xr, fr) };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (xr, fr);
        } else {
            let (xc, fc) = if fr < simplex[n].1 {
                let x = along(0.5);
                let v = f(&x);
                (x, v)
            } else {
                let x = along(-0.5);
                let v = f(&x);
                (x, v)
            };
            evals += 1;
            if fc < simplex[n].1.min(fr) {
                simplex[n] = (xc, fc);
            } else {
                // Shrink toward the best point.
                let best = simplex[0].0.clone();
                for p in simplex.iter_mut().skip(1) {
                    let x: Vec<f64> = best.iter().zip(&p.0).map(|(b, v)| b + 0.5 * (v - b)).collect();
                    p.1 = f(&x);
                    p.0 = x;
                    evals += 1;
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, fx) = simplex.swap_remove(0);
    (x, fx, f0)
}

/// Rewrite the `value = …` line of each named `[[parameter]]` in a model file's text. Returns
/// the new text and the ids found in it.
pub fn patch_parameter_values(text: &str, values: &BTreeMap<String, f64>) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut in_param = false;
    let mut current: Option<String> = None;
    let mut found = Vec::new();
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("[[") {
            in_param = trimmed.starts_with("[[parameter]]");
            current = None;
        } else if in_param && trimmed.starts_with("id") && trimmed.contains('=') {
            let id = trimmed.split_once('=').map(|(_, v)| v.trim().trim_matches('"').to_string());
            current = id.filter(|i| values.contains_key(i));
        } else if in_param
            && let Some(id) = &current
            && trimmed.starts_with("value")
            && trimmed.contains('=')
        {
            let nl = if line.ends_with('\n') { "\n" } else { "" };
            out.push_str(&format!("value = {}{nl}", neurex_model::spec::format_number(round_sig(values[id], 4))));
            found.push(id.clone());
            current = None;
            continue;
        }
        out.push_str(line);
    }
    (out, found)
}

/// Round to `sig` significant digits (fitted values are not more precise than that).
fn round_sig(x: f64, sig: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let p = 10f64.powi(sig - 1 - x.abs().log10().floor() as i32);
    (x * p).round() / p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nelder_mead_finds_the_minimum_of_a_bowl() {
        let mut f = |x: &[f64]| (x[0] - 0.3).powi(2) + 2.0 * (x[1] - 0.7).powi(2);
        let (x, fx, _) = nelder_mead(&mut f, &[0.5, 0.5], 400, 1e-12);
        assert!(fx < 1e-8 && (x[0] - 0.3).abs() < 1e-3 && (x[1] - 0.7).abs() < 1e-3, "{x:?} {fx}");
    }

    #[test]
    fn patch_rewrites_only_the_named_parameter_values() {
        let text = "[[parameter]]\nid = \"a\"\nvalue = 1.0\n\n[[parameter]]\nid = \"b\"\nvalue = 2.0\n[[state]]\nid = \"a\"\nvalue = 3\n";
        let (out, found) = patch_parameter_values(text, &BTreeMap::from([("a".to_string(), 0.123456)]));
        assert_eq!(found, vec!["a".to_string()]);
        assert!(
            out.contains("id = \"a\"\nvalue = 0.1235\n") && out.contains("value = 2.0") && out.contains("value = 3\n")
        );
    }
}

//! A validation report a scientist can read: Markdown with one SVG plot per target (the model's
//! comparison over time, or the simulated number on a line, against the published value and
//! band). Pure text: the caller writes the files.

use super::run::{TargetResult, ValidationReport};
use super::spec::{Role, ValidationFile};
use std::fmt::Write;

/// File name of a target's plot.
pub fn plot_name(id: &str) -> String {
    let s: String = id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    format!("{s}.svg")
}

fn fmt(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 0.1 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The SVG plot of one target.
pub fn plot_svg(r: &TargetResult) -> String {
    let (w, h) = (560.0, 300.0);
    let (l, rm, t, b) = (70.0, 20.0, 40.0, 45.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">"#
    );
    let _ = write!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let verdict = if r.passed { "pass" } else { "MISS" };
    let _ = write!(
        s,
        r#"<text x="{l}" y="16" font-size="13" font-weight="bold">{} ({verdict})</text><text x="{l}" y="31">{}</text>"#,
        esc(&r.id),
        esc(&format!("{}: {} [{}]", r.quantity, r.comparison, r.unit)).chars().take(95).collect::<String>()
    );
    let (x0, x1, y0, y1) = (l, w - rm, t, h - b);
    let band = r.band;
    match &r.curve {
        Some(c) if c.t_h.len() > 1 => {
            let span = c.t_h.last().copied().unwrap_or(1.0) - c.t_h[0];
            let (unit, div) = if span > 24.0 * 21.0 {
                ("weeks", 168.0)
            } else if span > 72.0 {
                ("days", 24.0)
            } else {
                ("hours", 1.0)
            };
            let xs: Vec<f64> = c.t_h.iter().map(|t| t / div).collect();
            let finite = c.y.iter().copied().filter(|v| v.is_finite());
            let (mut lo, mut hi) =
                finite.fold((band[0].min(r.published), band[1].max(r.published)), |(a, b), v| (a.min(v), b.max(v)));
            if r.simulated.is_finite() {
                lo = lo.min(r.simulated);
                hi = hi.max(r.simulated);
            }
            let pad = ((hi - lo) * 0.08).max(1e-9);
            let (lo, hi) = (lo - pad, hi + pad);
            let (xa, xb) = (xs[0], *xs.last().unwrap_or(&1.0));
            let px = |x: f64| x0 + (x - xa) / (xb - xa).max(1e-12) * (x1 - x0);
            let py = |y: f64| y1 - (y - lo) / (hi - lo) * (y1 - y0);
            // Band and published value at the sample time.
            let sx = px(c.sample_h / div);
            let _ = write!(
                s,
                r##"<rect x="{x0}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#f4a261" fill-opacity="0.18"/>"##,
                py(band[1]),
                x1 - x0,
                (py(band[0]) - py(band[1])).max(0.5)
            );
            axes(&mut s, x0, x1, y0, y1, lo, hi, xa, xb, unit);
            let pts: Vec<String> = xs
                .iter()
                .zip(&c.y)
                .filter(|(_, y)| y.is_finite())
                .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
                .collect();
            let _ = write!(
                s,
                r##"<polyline fill="none" stroke="#1d3557" stroke-width="1.4" points="{}"/>"##,
                pts.join(" ")
            );
            let _ = write!(
                s,
                r##"<line x1="{sx:.1}" x2="{sx:.1}" y1="{:.1}" y2="{:.1}" stroke="#e76f51" stroke-width="2"/><rect x="{:.1}" y="{:.1}" width="8" height="8" fill="#e76f51" transform="rotate(45 {sx:.1} {:.1})"/>"##,
                py(band[0]),
                py(band[1]),
                sx - 4.0,
                py(r.published) - 4.0,
                py(r.published)
            );
            if r.simulated.is_finite() {
                let _ = write!(
                    s,
                    r##"<circle cx="{sx:.1}" cy="{:.1}" r="4" fill="none" stroke="#1d3557" stroke-width="2"/>"##,
                    py(r.simulated)
                );
            }
        }
        _ => {
            // A number line: band, published and simulated.
            let mut lo = band[0].min(r.published);
            let mut hi = band[1].max(r.published);
            if r.simulated.is_finite() {
                lo = lo.min(r.simulated);
                hi = hi.max(r.simulated);
            }
            let pad = ((hi - lo) * 0.15).max(1e-9);
            let (lo, hi) = (lo - pad, hi + pad);
            let px = |x: f64| x0 + (x - lo) / (hi - lo) * (x1 - x0);
            let ym = (y0 + y1) / 2.0;
            let _ = write!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="40" fill="#f4a261" fill-opacity="0.3"/><line x1="{x0}" x2="{x1}" y1="{ym}" y2="{ym}" stroke="#333"/>"##,
                px(band[0]),
                ym - 20.0,
                (px(band[1]) - px(band[0])).max(1.0)
            );
            for k in 0..=4 {
                let v = lo + (hi - lo) * f64::from(k) / 4.0;
                let _ = write!(
                    s,
                    r##"<line x1="{0:.1}" x2="{0:.1}" y1="{ym}" y2="{1}" stroke="#333"/><text x="{0:.1}" y="{2}" text-anchor="middle">{3}</text>"##,
                    px(v),
                    ym + 5.0,
                    ym + 18.0,
                    fmt(v)
                );
            }
            let _ = write!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="9" height="9" fill="#e76f51" transform="rotate(45 {:.1} {ym})"/>"##,
                px(r.published) - 4.5,
                ym - 4.5,
                px(r.published)
            );
            if r.simulated.is_finite() {
                let _ = write!(
                    s,
                    r##"<circle cx="{:.1}" cy="{ym}" r="5" fill="none" stroke="#1d3557" stroke-width="2"/>"##,
                    px(r.simulated)
                );
            }
        }
    }
    let _ = write!(
        s,
        r##"<text x="{x0}" y="{}" fill="#555">◆ published {}   band [{}, {}]   ○ model {}</text></svg>"##,
        h - 8.0,
        fmt(r.published),
        fmt(band[0]),
        fmt(band[1]),
        fmt(r.simulated)
    );
    s
}

#[allow(clippy::too_many_arguments)]
fn axes(s: &mut String, x0: f64, x1: f64, y0: f64, y1: f64, lo: f64, hi: f64, xa: f64, xb: f64, unit: &str) {
    let _ = write!(
        s,
        r##"<line x1="{x0}" x2="{x1}" y1="{y1}" y2="{y1}" stroke="#333"/><line x1="{x0}" x2="{x0}" y1="{y0}" y2="{y1}" stroke="#333"/>"##
    );
    for k in 0..=4 {
        let f = f64::from(k) / 4.0;
        let (yv, yp) = (lo + (hi - lo) * f, y1 - f * (y1 - y0));
        let (xv, xp) = (xa + (xb - xa) * f, x0 + f * (x1 - x0));
        let _ = write!(
            s,
            r##"<text x="{}" y="{:.1}" text-anchor="end">{}</text><line x1="{}" x2="{x1}" y1="{yp:.1}" y2="{yp:.1}" stroke="#ddd"/><text x="{xp:.1}" y="{}" text-anchor="middle">{}</text>"##,
            x0 - 4.0,
            yp + 4.0,
            fmt(yv),
            x0,
            y1 + 15.0,
            fmt(xv)
        );
    }
    let _ = write!(s, r#"<text x="{:.1}" y="{}" text-anchor="middle">{unit}</text>"#, (x0 + x1) / 2.0, y1 + 30.0);
}

fn table(out: &mut String, rows: &[&TargetResult]) {
    out.push_str("| target | species | quantity | comparison | published | band | model | result | plot |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {}{} | {:?} | {} | {} | {} | [{}, {}] | {} | {} | [svg](plots/{}) |",
            r.id,
            if r.informed_model { " †" } else { "" },
            r.species,
            md_cell(&r.quantity),
            r.comparison,
            fmt(r.published),
            fmt(r.band[0]),
            fmt(r.band[1]),
            fmt(r.simulated),
            if r.passed { "pass" } else { "**miss**" },
            plot_name(&r.id)
        );
    }
}

/// The Markdown report. Plots are expected at `plots/<plot_name(id)>`.
pub fn markdown(report: &ValidationReport, file: &ValidationFile) -> String {
    let mut out = String::new();
    let pct = |p: usize, t: usize| if t == 0 { 0.0 } else { 100.0 * p as f64 / t as f64 };
    let _ = writeln!(out, "# neurex validation report\n");
    let _ = writeln!(
        out,
        "Model `{}`. Every target is a simulated experiment under the study's conditions (species, phenotype, protocol, stress, sampling time) compared with the published value; the band comes from the study's CI, or from a documented rule for rows graded U and for bounds. Experiments: `validation/targets.toml`; rerun with `neurex validate --report DIR`.\n",
        report.model
    );
    let _ = writeln!(
        out,
        "**{} of {} targets pass ({:.0} %).** Calibration targets (fitted by `neurex calibrate`): {} of {}. Validation-only targets: {} of {}.\n",
        report.passed,
        report.total,
        pct(report.passed, report.total),
        report.calibration.passed,
        report.calibration.total,
        report.validation.passed,
        report.validation.total
    );
    out.push_str("† the reference model's author set numbers by hand with this row in view (docs/reference-model.md): such a pass is a consistency check, not independent validation.\n\n");
    let misses: Vec<&TargetResult> = report.results.iter().filter(|r| !r.passed).collect();
    let _ = writeln!(out, "## Misses ({})\n", misses.len());
    if misses.is_empty() {
        out.push_str("None.\n\n");
    }
    for r in &misses {
        let _ = writeln!(
            out,
            "- **{}** ({}): published {} [{}, {}], model {}. {}{}",
            r.id,
            md_cell(&r.quantity),
            fmt(r.published),
            fmt(r.band[0]),
            fmt(r.band[1]),
            fmt(r.simulated),
            r.if_missed
                .as_deref()
                .map_or_else(|| "Likely reason: not yet analysed.".to_string(), |s| format!("Likely reason: {s}")),
            r.error.as_deref().map_or(String::new(), |e| format!(" Error: {e}"))
        );
    }
    for (role, title) in [(Role::Calibration, "Calibration targets"), (Role::Validation, "Validation-only targets")] {
        let rows: Vec<&TargetResult> = report.results.iter().filter(|r| r.role == role).collect();
        let _ = writeln!(out, "\n## {title} ({} of {} pass)\n", rows.iter().filter(|r| r.passed).count(), rows.len());
        table(&mut out, &rows);
    }
    if !file.calibration.parameters.is_empty() {
        out.push_str("\n## What `neurex calibrate` fits\n\n");
        let _ = writeln!(out, "{}\n", file.calibration.description.trim());
        for p in &file.calibration.parameters {
            let _ = writeln!(out, "- `{}` in [{}, {}]", p.id, fmt(p.bounds[0]), fmt(p.bounds[1]));
        }
    }
    if !file.positions.is_empty() {
        out.push_str("\n## Where sources disagree: the model's positions\n\n");
        for p in &file.positions {
            let tested: Vec<String> = p
                .targets
                .iter()
                .map(|id| match report.results.iter().find(|r| &r.id == id) {
                    Some(r) => format!("{id} {}", if r.passed { "pass" } else { "miss" }),
                    None => format!("{id} (not run)"),
                })
                .collect();
            let _ = writeln!(
                out,
                "- **{}** ({}). {}{}",
                p.id,
                p.kind,
                p.text.trim(),
                if tested.is_empty() { String::new() } else { format!(" Tested by: {}.", tested.join(", ")) }
            );
        }
    }
    out.push_str("\n## Plots\n\n");
    for r in &report.results {
        let _ = writeln!(out, "### {}\n\n{}\n\n![{}](plots/{})\n", r.id, md_cell(&r.notes), r.id, plot_name(&r.id));
    }
    out
}

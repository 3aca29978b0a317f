//! The dose–response plot: effect against the first scan axis, one line per combination of the
//! other axes, with the 5–95 % band as dashed lines.

use anyhow::Result;
use neurex::studies::scan::ScanReport;
use neurex_formats::{Panel, Series, plot_panels};
use std::path::Path;

/// Draw a scan. The engine's plotting draws against time, so the x axis is the index of the
/// first axis's value (labelled in the title).
pub fn effect_plot(path: &Path, r: &ScanReport) -> Result<()> {
    let first: Vec<String> = {
        let mut v: Vec<String> = Vec::new();
        for p in &r.points {
            if !v.contains(&p.values[0]) {
                v.push(p.values[0].clone());
            }
        }
        v
    };
    let k = first.len();
    let groups = r.points.len() / k.max(1);
    let mut series = Vec::new();
    for g in 0..groups {
        // Points are ordered with the last axis fastest; collect the ones sharing the other axes.
        let pts: Vec<_> = r.points.iter().enumerate().filter(|(i, _)| (i % groups) == g).map(|(_, p)| p).collect();
        let label = if pts[0].values.len() > 1 { pts[0].values[1..].join(", ") } else { "effect".into() };
        series.push(Series {
            label: label.clone(),
            values: pts.iter().map(|p| p.effect.mean).collect(),
            dashed: false,
            colour: g,
        });
        series.push(Series {
            label: format!("{label} p05"),
            values: pts.iter().map(|p| p.p05).collect(),
            dashed: true,
            colour: g,
        });
        series.push(Series {
            label: format!("{label} p95"),
            values: pts.iter().map(|p| p.p95).collect(),
            dashed: true,
            colour: g,
        });
    }
    let x: Vec<f64> = (0..k).map(|i| i as f64 * 168.0).collect();
    let title =
        format!("{}: effect on {} vs {} = {} (x: value index)", r.name, r.outcome, r.axes[0], first.join(" | "));
    plot_panels(
        path,
        &title,
        &x,
        &[Panel { title: format!("{} change vs no exercise", r.outcome), y_label: "points".into(), series }],
    )?;
    Ok(())
}

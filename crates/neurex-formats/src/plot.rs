//! SVG plots: a grid of panels, each with a few series against time in weeks.

use crate::{FormatError, write_atomically};
use plotters::prelude::*;
use std::path::Path;

/// One line.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Values, one per time.
    pub values: Vec<f64>,
    /// Dashed (e.g. the control run).
    pub dashed: bool,
    /// Colour index (series with the same index share a colour).
    pub colour: usize,
}

/// One panel.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Title.
    pub title: String,
    /// Y-axis label.
    pub y_label: String,
    /// Lines.
    pub series: Vec<Series>,
}

/// Draw `panels` against `times_h` (shown in weeks) into an SVG file.
pub fn plot_panels(path: &Path, title: &str, times_h: &[f64], panels: &[Panel]) -> Result<(), FormatError> {
    let name = path.display().to_string();
    let enc = |e: &dyn std::fmt::Display| FormatError::Encode { path: name.clone(), message: e.to_string() };
    let cols = 2usize;
    let rows = panels.len().div_ceil(cols).max(1);
    let (w, h) = (1200u32, 60 + 360 * rows as u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| enc(&e))?;
        let root = root.titled(title, ("sans-serif", 22)).map_err(|e| enc(&e))?;
        let areas = root.split_evenly((rows, cols));
        let t_end = times_h.last().copied().unwrap_or(1.0) / 168.0;
        for (panel, area) in panels.iter().zip(areas.iter()) {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for s in &panel.series {
                for &v in &s.values {
                    if v.is_finite() {
                        lo = lo.min(v);
                        hi = hi.max(v);
                    }
                }
            }
            if !lo.is_finite() {
                (lo, hi) = (0.0, 1.0);
            }
            let pad = ((hi - lo) * 0.08).max(1e-9 * hi.abs().max(1.0));
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(60)
                .build_cartesian_2d(0.0..t_end.max(1e-9), (lo - pad)..(hi + pad))
                .map_err(|e| enc(&e))?;
            chart
                .configure_mesh()
                .x_desc("week")
                .y_desc(panel.y_label.as_str())
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(|e| enc(&e))?;
            for s in &panel.series {
                let colour = Palette99::pick(s.colour).to_rgba();
                let points = times_h.iter().zip(&s.values).map(|(t, v)| (t / 168.0, *v));
                let style = ShapeStyle { color: colour, filled: false, stroke_width: if s.dashed { 1 } else { 2 } };
                let drawn = if s.dashed {
                    chart.draw_series(DashedLineSeries::new(points, 6, 4, style))
                } else {
                    chart.draw_series(LineSeries::new(points, style))
                };
                drawn
                    .map_err(|e| enc(&e))?
                    .label(s.label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour));
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .label_font(("sans-serif", 12))
                .draw()
                .map_err(|e| enc(&e))?;
        }
        root.present().map_err(|e| enc(&e))?;
    }
    write_atomically(path, |f| {
        use std::io::Write;
        f.write_all(svg.as_bytes()).map_err(|source| FormatError::Io { path: name.clone(), source })
    })
}

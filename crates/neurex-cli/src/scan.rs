//! `neurex scan`: dose–response over protocol fields, as CSV and an SVG plot.

use crate::trial::Bar;
use anyhow::{Context, Result};
use clap::Args;
use neurex::studies::scan::{AxisSpec, ScanReport, ScanSpec, scan};
use neurex::studies::{ExerciseRef, Protocols};
use neurex_formats::write_atomically;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `neurex scan`.
#[derive(Args, Debug, Clone)]
pub struct ScanArgs {
    /// Scan file (TOML, see `ScanSpec`); flags below override or build one.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Protocol whose fields are varied (preset or file).
    #[arg(long)]
    pub base: Option<String>,
    /// An axis: FIELD=V1,V2,... (repeatable), e.g. `--axis minutes=15,30,45,60` or
    /// `--axis "intensity=40% VO2max,60% VO2max"` or `--axis modality=aerobic,resistance`.
    #[arg(long, value_name = "FIELD=VALUES")]
    pub axis: Vec<String>,
    /// Virtual patients.
    #[arg(long)]
    pub patients: Option<u64>,
    /// Weeks.
    #[arg(long)]
    pub weeks: Option<f64>,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the grid to this CSV file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Draw effect against the first axis (one line per value of the others) to this SVG file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn value(text: &str) -> toml::Value {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(f) = t.parse::<f64>() {
        return toml::Value::Float(f);
    }
    toml::Value::String(t.to_string())
}

/// CSV of a scan report.
pub(crate) fn csv(r: &ScanReport) -> String {
    let mut s = r.axes.join(",");
    s.push_str(",weeks,effect_mean,effect_sd,effect_p05,effect_p95,patients,failures\n");
    for p in &r.points {
        let vals: Vec<String> =
            p.values.iter().map(|v| if v.contains(',') { format!("\"{v}\"") } else { v.clone() }).collect();
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            vals.join(","),
            p.weeks,
            p.effect.mean,
            p.effect.sd,
            p.p05,
            p.p95,
            p.effect.n,
            p.failures
        ));
    }
    s
}

/// Run `neurex scan`.
pub fn run(args: &ScanArgs) -> Result<()> {
    let mut spec = match &args.spec {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str::<ScanSpec>(&text).with_context(|| format!("{}", p.display()))?
        }
        None => ScanSpec::default(),
    };
    if let Some(b) = &args.base {
        spec.base = ExerciseRef::Named(b.clone());
    }
    for a in &args.axis {
        let (field, values) = a.split_once('=').with_context(|| format!("--axis {a}: expected FIELD=V1,V2,..."))?;
        spec.axes.push(AxisSpec { field: field.trim().to_string(), values: values.split(',').map(value).collect() });
    }
    if let Some(n) = args.patients {
        spec.patients = n;
    }
    if let Some(w) = args.weeks {
        spec.weeks = w;
    }
    if spec.axes.is_empty() {
        spec.axes.push(AxisSpec {
            field: "minutes".into(),
            values: [10, 20, 30, 45, 60].into_iter().map(toml::Value::Integer).collect(),
        });
    }
    let model = neurex::reference_model()?;
    let bar = Bar::new("patients");
    let report = scan(&model, &spec, &Protocols, args.seed, &bar)?;
    bar.0.finish_and_clear();
    if let Some(p) = &args.csv {
        let text = csv(&report);
        write_atomically(p, |f| {
            f.write_all(text.as_bytes())
                .map_err(|source| neurex_formats::FormatError::Io { path: p.display().to_string(), source })
        })?;
    }
    if let Some(p) = &args.plot {
        crate::plot_xy::effect_plot(p, &report)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", csv(&report));
    }
    Ok(())
}

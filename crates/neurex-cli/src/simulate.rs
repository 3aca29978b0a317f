//! `neurex simulate`: one virtual patient, one protocol, against no exercise.

use anyhow::{Context, Result, bail};
use clap::Args;
use neurex::simulation::{ProtocolRef, SimulationJob, SimulationResult};
use neurex_formats::{Panel, Series, Table, TableFormat, plot_panels, write_table};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Arguments of `neurex simulate`.
#[derive(Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Model file (TOML) or built-in model id.
    #[arg(long, default_value = neurex::REFERENCE)]
    pub model: String,
    /// Phenotype: `healthy`, `depressed`, or any the model defines.
    #[arg(long, default_value = "depressed")]
    pub phenotype: String,
    /// Protocol file (TOML) or preset (see `neurex presets`).
    #[arg(long, default_value = "aerobic-3x")]
    pub protocol: String,
    /// Weeks to simulate.
    #[arg(long, default_value_t = 12.0, allow_negative_numbers = true)]
    pub weeks: f64,
    /// Output step in hours.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub step: f64,
    /// Write the time series (wide: time_h, then one column per variable) to a .csv or .parquet file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only these variables in --out (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Draw one panel per system to an SVG file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Override a parameter: --param name=value (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Relative tolerance of the integrator.
    #[arg(long, default_value_t = 1e-6)]
    pub rtol: f64,
    /// Absolute tolerance of the integrator.
    #[arg(long, default_value_t = 1e-9)]
    pub atol: f64,
}

impl Default for SimulateArgs {
    fn default() -> Self {
        SimulateArgs {
            model: neurex::REFERENCE.into(),
            phenotype: "depressed".into(),
            protocol: "aerobic-3x".into(),
            weeks: 12.0,
            step: 1.0,
            out: None,
            columns: Vec::new(),
            plot: None,
            json: false,
            params: Vec::new(),
            rtol: 1e-6,
            atol: 1e-9,
        }
    }
}

#[derive(Serialize)]
struct JsonVariable {
    system: String,
    unit: String,
    baseline: f64,
    end: f64,
    control_end: Option<f64>,
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    model: &'a str,
    phenotype: &'a str,
    protocol: &'a neurex::Protocol,
    weeks: f64,
    variables: BTreeMap<&'a str, JsonVariable>,
    solver: &'a neurex::solve::SolveReport,
    equilibration_periods: u32,
}

/// Run `neurex simulate`.
pub fn run(args: &SimulateArgs) -> Result<()> {
    // Check output paths before spending time on the simulation.
    if let Some(out) = &args.out
        && TableFormat::from_path(out).is_none()
    {
        bail!("--out {}: use a .csv or .parquet file name", out.display());
    }
    if let Some(plot) = &args.plot
        && plot.extension().is_none_or(|e| e != "svg")
    {
        bail!("--plot {}: use a .svg file name", plot.display());
    }
    let mut parameters = BTreeMap::new();
    for p in &args.params {
        let (k, v) = p.split_once('=').with_context(|| format!("--param {p}: expected NAME=VALUE"))?;
        let v: f64 = v.trim().parse().with_context(|| format!("--param {p}: `{v}` is not a number"))?;
        parameters.insert(k.trim().to_string(), v);
    }
    let job = SimulationJob {
        model: args.model.clone(),
        phenotype: args.phenotype.clone(),
        protocol: ProtocolRef::Named(args.protocol.clone()),
        weeks: args.weeks,
        output_step_h: args.step,
        control: true,
        parameters,
        solver: neurex::solve::SolverSettings { rtol: args.rtol, atol: args.atol, ..Default::default() },
    };
    let spec = neurex::resolve_model(&job.model)?;
    let model = neurex::compile_model(&spec)?;
    for c in &args.columns {
        if model.output_index(c).is_none() {
            let hint = neurex::model::diagnostics::did_you_mean(c, model.outputs.iter().map(|o| o.id.as_str()))
                .map(|d| format!(" (did you mean `{d}`?)"))
                .unwrap_or_default();
            bail!(neurex::Error::UnknownVariable { name: c.clone(), hint });
        }
    }
    let result = neurex::simulate_model(&spec, &model, &job)?;

    if let Some(out) = &args.out {
        write_series(out, &result, &args.columns)?;
    }
    if let Some(plot) = &args.plot {
        write_plot(plot, &spec, &result)?;
    }
    if args.json {
        let variables = result
            .summary
            .iter()
            .map(|r| {
                (
                    r.variable.as_str(),
                    JsonVariable {
                        system: r.system.clone(),
                        unit: r.unit.clone(),
                        baseline: r.baseline,
                        end: r.end,
                        control_end: r.control_end,
                    },
                )
            })
            .collect();
        let s = JsonSummary {
            model: &result.model,
            phenotype: &result.phenotype,
            protocol: &result.protocol,
            weeks: args.weeks,
            variables,
            solver: &result.report,
            equilibration_periods: result.equilibration_periods,
        };
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        print_summary(&result, args);
        if let Some(out) = &args.out {
            println!("time series: {}", out.display());
        }
        if let Some(plot) = &args.plot {
            println!("plot: {}", plot.display());
        }
    }
    Ok(())
}

fn print_summary(r: &SimulationResult, args: &SimulateArgs) {
    println!(
        "neurex: model `{}`, phenotype `{}`, protocol `{}` ({}), {} weeks",
        r.model, r.phenotype, r.protocol.name, r.protocol.description, args.weeks
    );
    println!(
        "{:<11} {:<24} {:>12} {:>12} {:>8} {:>14} {:>12}",
        "system", "variable", "baseline", "end", "change", "control end", "vs control"
    );
    for row in &r.summary {
        let pct =
            |a: f64, b: f64| if b.abs() > 1e-12 { format!("{:+.1}%", 100.0 * (a - b) / b.abs()) } else { "-".into() };
        let (ctrl, vs) = match row.control_end {
            Some(c) => (format!("{c:.4}"), pct(row.end, c)),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<11} {:<24} {:>12.4} {:>12.4} {:>8} {:>14} {:>12}",
            row.system,
            format!("{} ({})", row.variable, row.unit),
            row.baseline,
            row.end,
            pct(row.end, row.baseline),
            ctrl,
            vs
        );
    }
    println!(
        "steady state after {} periods; {} solver steps, {} restarts",
        r.equilibration_periods, r.report.steps, r.report.restarts
    );
}

fn write_series(out: &std::path::Path, r: &SimulationResult, only: &[String]) -> Result<()> {
    let (columns, rows): (Vec<String>, Vec<Vec<f64>>) = if only.is_empty() {
        (r.columns.iter().map(|c| c.id.clone()).collect(), r.exercise.clone())
    } else {
        let idx: Vec<usize> = only.iter().filter_map(|c| r.column(c)).collect();
        (only.to_vec(), r.exercise.iter().map(|row| idx.iter().map(|&j| row[j]).collect()).collect())
    };
    write_table(out, Table { columns: &columns, times: &r.times, rows: &rows })?;
    Ok(())
}

fn write_plot(path: &std::path::Path, spec: &neurex::model::ModelSpec, r: &SimulationResult) -> Result<()> {
    let mut groups: Vec<(String, Vec<String>)> = spec
        .systems
        .iter()
        .map(|s| (if s.name.is_empty() { s.id.clone() } else { s.name.clone() }, s.headline.clone()))
        .collect();
    let scales: Vec<String> =
        neurex::simulation::SCALES.iter().filter(|s| r.column(s).is_some()).map(|s| s.to_string()).collect();
    if !scales.is_empty() {
        groups.push(("Depression severity".into(), scales));
    }
    if groups.is_empty() {
        groups.push(("All outputs".into(), r.columns.iter().take(8).map(|c| c.id.clone()).collect()));
    }
    let control = r.control.as_ref();
    let panels: Vec<Panel> = groups
        .into_iter()
        .map(|(title, vars)| {
            let mut series = Vec::new();
            let relative = vars.len() > 1;
            for (k, v) in vars.iter().enumerate() {
                let Some(j) = r.column(v) else { continue };
                let base = r.exercise.first().map_or(1.0, |row| row[j]);
                let scale = |x: f64| if relative && base.abs() > 1e-12 { 100.0 * x / base } else { x };
                series.push(Series {
                    label: v.clone(),
                    values: r.exercise.iter().map(|row| scale(row[j])).collect(),
                    dashed: false,
                    colour: k,
                });
                if let Some(c) = control {
                    series.push(Series {
                        label: format!("{v} (no exercise)"),
                        values: c.iter().map(|row| scale(row[j])).collect(),
                        dashed: true,
                        colour: k,
                    });
                }
            }
            let y_label = if relative {
                "% of baseline".to_string()
            } else {
                vars.first()
                    .and_then(|v| r.columns.iter().find(|c| &c.id == v))
                    .map_or(String::new(), |c| c.unit.clone())
            };
            Panel { title, y_label, series }
        })
        .collect();
    let title = format!("{}: {} phenotype, {} vs no exercise", r.model, r.phenotype, r.protocol.name);
    plot_panels(path, &title, &r.times, &panels)?;
    Ok(())
}

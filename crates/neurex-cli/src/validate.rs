//! `neurex validate`: run every target of a validation file as a simulated experiment and
//! compare it with the published value.

use anyhow::{Context, Result, bail};
use clap::Args;
use neurex::validation::{self, RunOptions, Runner, ValidationFile, report};
use std::path::{Path, PathBuf};

/// Arguments of `neurex validate`.
#[derive(Args, Debug, Default)]
pub struct ValidateArgs {
    /// Validation file (default: the built-in validation/targets.toml).
    #[arg(long)]
    pub targets: Option<PathBuf>,
    /// Model file or built-in model id.
    #[arg(long, default_value = neurex::REFERENCE)]
    pub model: String,
    /// Only targets whose id starts with one of these (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Print JSON (every field, plus passed/total) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write a Markdown report with one SVG plot per target into this directory.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Fail (exit 1) if a target on this passing list (one id per line) no longer passes.
    #[arg(long)]
    pub ratchet: Option<PathBuf>,
    /// Write the ids of the passing targets to this file (updates the ratchet).
    #[arg(long)]
    pub write_passing: Option<PathBuf>,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

fn load(args: &ValidateArgs) -> Result<ValidationFile> {
    Ok(match &args.targets {
        None => ValidationFile::embedded(),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            ValidationFile::parse(&p.display().to_string(), &text)?
        }
    })
}

/// Run `neurex validate`. Fails if the ratchet does not hold.
pub fn run(args: &ValidateArgs) -> Result<()> {
    let file = load(args)?;
    let spec = neurex::resolve_model(&args.model)?;
    let model = neurex::compile_model(&spec)?;
    let targets: Vec<_> = file
        .targets
        .iter()
        .filter(|t| args.only.is_empty() || args.only.iter().any(|o| t.id.starts_with(o.as_str())))
        .cloned()
        .collect();
    if targets.is_empty() {
        bail!("no targets match {:?}", args.only);
    }
    let opts = RunOptions { threads: args.threads.max(1), ..RunOptions::default() };
    let rep = Runner::new(&model).run(&targets, &opts);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rep)?);
    } else {
        print_table(&rep);
    }
    if let Some(dir) = &args.report {
        write_report(dir, &rep, &file)?;
        eprintln!("report written to {}", dir.join("report.md").display());
    }
    if let Some(p) = &args.write_passing {
        let mut text = String::from(
            "# Targets that pass `neurex validate` (the CI ratchet). Regenerate with\n# `neurex validate --write-passing validation/passing.txt` only after checking every change.\n",
        );
        for r in rep.results.iter().filter(|r| r.passed) {
            text.push_str(&r.id);
            text.push('\n');
        }
        write_file(p, text.as_bytes())?;
    }
    if let Some(p) = &args.ratchet {
        let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        let wanted: Vec<String> = validation::passing_ids(&text)
            .into_iter()
            .filter(|id| args.only.is_empty() || args.only.iter().any(|o| id.starts_with(o.as_str())))
            .collect();
        let lost = validation::regressions(&rep, &wanted);
        if !lost.is_empty() {
            bail!("ratchet: {} target(s) passed before and fail now: {}", lost.len(), lost.join(", "));
        }
        eprintln!("ratchet: all {} previously passing targets still pass", wanted.len());
    }
    Ok(())
}

fn print_table(rep: &validation::ValidationReport) {
    println!(
        "{:<14} {:<5} {:<11} {:>10} {:>10} {:>22}  {:<6} quantity",
        "target", "role", "comparison", "published", "simulated", "band", "result"
    );
    for r in &rep.results {
        let role = match r.role {
            validation::Role::Calibration => "cal",
            validation::Role::Validation => "val",
        };
        println!(
            "{:<14} {:<5} {:<11} {:>10.4} {:>10.4} {:>22}  {:<6} {}",
            r.id,
            role,
            r.comparison.chars().take(11).collect::<String>(),
            r.published,
            r.simulated,
            format!("[{:.3}, {:.3}]", r.band[0], r.band[1]),
            if r.passed { "pass" } else { "MISS" },
            r.quantity.chars().take(60).collect::<String>()
        );
        if let Some(e) = &r.error {
            println!("{:<14} error: {e}", "");
        }
    }
    println!(
        "\n{} of {} targets pass ({:.0} %); calibration {}/{}, validation-only {}/{}",
        rep.passed,
        rep.total,
        100.0 * rep.passed as f64 / rep.total.max(1) as f64,
        rep.calibration.passed,
        rep.calibration.total,
        rep.validation.passed,
        rep.validation.total
    );
}

fn write_report(dir: &Path, rep: &validation::ValidationReport, file: &ValidationFile) -> Result<()> {
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).with_context(|| format!("creating {}", plots.display()))?;
    for r in &rep.results {
        write_file(&plots.join(report::plot_name(&r.id)), report::plot_svg(r).as_bytes())?;
    }
    write_file(&dir.join("report.md"), report::markdown(rep, file).as_bytes())?;
    write_file(&dir.join("report.json"), serde_json::to_string_pretty(rep)?.as_bytes())?;
    Ok(())
}

/// Write a whole file atomically.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    neurex_formats::write_atomically(path, |f| {
        f.write_all(bytes)
            .map_err(|source| neurex_formats::FormatError::Io { path: path.display().to_string(), source })
    })?;
    Ok(())
}

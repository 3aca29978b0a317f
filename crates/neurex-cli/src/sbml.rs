//! `neurex sbml`: export a model as SBML, check an SBML file, run the SBML Test Suite.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use neurex::sbml::SbmlExport;
use neurex_sbml::suite;
use std::path::PathBuf;

/// Arguments of `neurex sbml`.
#[derive(Args, Debug)]
pub struct SbmlArgs {
    #[command(subcommand)]
    pub command: SbmlCommand,
}

/// The `neurex sbml` subcommands.
#[derive(Subcommand, Debug)]
pub enum SbmlCommand {
    /// Write a model as SBML Level 3 Version 2: the phenotype's values, its steady state as
    /// initial values, the protocol's sessions as events, provenance as annotations.
    Export(ExportArgs),
    /// Read an SBML file (Level 2 or 3) and compile it; unsupported features are named.
    Check(CheckArgs),
    /// Run the SBML Test Suite's semantic cases under DIR/cases/ and report conformance.
    Suite(SuiteArgs),
}

/// Arguments of `neurex sbml export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Model file or built-in model id.
    #[arg(long, default_value = neurex::REFERENCE)]
    pub model: String,
    /// Protocol preset or file whose sessions become events (default: none).
    #[arg(long)]
    pub protocol: Option<String>,
    /// Phenotype whose values are written.
    #[arg(long, default_value = "depressed")]
    pub phenotype: String,
    /// Weeks of protocol to write as events.
    #[arg(long, default_value_t = 12.0)]
    pub weeks: f64,
    /// Write the model's own initial values instead of its steady state.
    #[arg(long)]
    pub no_steady_state: bool,
    /// Output file (.xml).
    #[arg(long)]
    pub out: PathBuf,
}

/// Arguments of `neurex sbml check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// SBML file.
    pub file: PathBuf,
}

/// Arguments of `neurex sbml suite`.
#[derive(Args, Debug)]
pub struct SuiteArgs {
    /// Suite folder (holding cases/), e.g. ../shared/sbml-test-suite.
    pub dir: PathBuf,
    /// Print the report as JSON (passed, attempted, total, and per case id, result, reason).
    #[arg(long)]
    pub json: bool,
    /// Also list every case that was attempted and failed, with its reason.
    #[arg(long)]
    pub failures: bool,
    /// Write the ids of the passing cases to this file (the ratchet list).
    #[arg(long)]
    pub write_passing: Option<PathBuf>,
}

/// Run `neurex sbml`.
pub fn run(args: &SbmlArgs) -> Result<()> {
    match &args.command {
        SbmlCommand::Export(a) => export(a),
        SbmlCommand::Check(a) => check(a),
        SbmlCommand::Suite(a) => run_suite(a),
    }
}

fn export(a: &ExportArgs) -> Result<()> {
    if a.out.extension().is_none_or(|e| e != "xml") {
        bail!("--out {}: use a .xml file name", a.out.display());
    }
    let req = SbmlExport {
        model: a.model.clone(),
        phenotype: a.phenotype.clone(),
        protocol: a.protocol.clone().filter(|p| p != "none"),
        weeks: a.weeks,
        steady_state: !a.no_steady_state,
        ..Default::default()
    };
    let xml = neurex::sbml::export_sbml(&req)?;
    let tmp = a.out.with_extension("xml.tmp");
    std::fs::write(&tmp, &xml).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &a.out).with_context(|| format!("writing {}", a.out.display()))?;
    println!("wrote {} ({} bytes, SBML Level 3 Version 2)", a.out.display(), xml.len());
    Ok(())
}

fn check(a: &CheckArgs) -> Result<()> {
    let name = a.file.display().to_string();
    let text = std::fs::read_to_string(&a.file).with_context(|| format!("reading {name}"))?;
    let imported = neurex_sbml::import_full(&text).map_err(|mut d| {
        for x in &mut d.0 {
            x.file = Some(name.clone());
        }
        anyhow::anyhow!("{d}")
    })?;
    let s = &imported.spec;
    println!(
        "{name}: SBML Level {} Version {}, model `{}`: {} compartments, {} species, {} parameters, {} reactions, {} rules, {} events, {} function definitions",
        imported.level,
        imported.version,
        s.model.id,
        s.compartments.len(),
        s.species.len(),
        s.parameters.len(),
        s.reactions.len(),
        s.rules.len(),
        s.events.len(),
        s.functions.len()
    );
    for (from, to) in &imported.renamed {
        println!("  renamed `{from}` to `{to}` (a reserved name in neurex)");
    }
    let model = neurex::model::compile(s).map_err(|d| anyhow::anyhow!("{name}: {d}"))?;
    println!(
        "compiled: {} states, {} values, {} assigned variables, {} events",
        model.states.len(),
        model.values.len(),
        model.assigned.len(),
        model.events.len()
    );
    Ok(())
}

fn run_suite(a: &SuiteArgs) -> Result<()> {
    let cases = if a.dir.join("cases").is_dir() { a.dir.join("cases") } else { a.dir.clone() };
    if suite::case_dirs(&cases).is_empty() {
        bail!("{}: no SBML Test Suite case folders (NNNNN/) under it or under its cases/", a.dir.display());
    }
    let start = std::time::Instant::now();
    let report = suite::run(&a.dir);
    let secs = start.elapsed().as_secs_f64();
    if let Some(path) = &a.write_passing {
        std::fs::write(path, suite::Baseline::render(&report.passing()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
        if a.failures {
            println!("\nfailed cases:");
            for c in report.cases.iter().filter(|c| c.result == suite::Outcome::Fail) {
                println!("  {}: {}", c.id, c.reason);
            }
        }
        println!("\n{:.1} s", secs);
    }
    if report.panics > 0 {
        bail!("{} case(s) panicked", report.panics);
    }
    Ok(())
}

//! `neurex`: the command line. Parses arguments, calls the library, prints and writes results.
//! No domain logic lives here.

mod attribute;
mod calibrate;
mod check;
mod explain;
mod graph;
mod plot_xy;
mod prescribe;
mod sbml;
mod scan;
mod simulate;
mod trial;
mod validate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Simulate how exercise treats depression, mechanism by mechanism.
#[derive(Parser)]
#[command(name = "neurex", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate one virtual patient under a protocol, against a no-exercise control.
    Simulate(simulate::SimulateArgs),
    /// Check a model file: parse, compile, and verify every element's provenance.
    Check(check::CheckArgs),
    /// Run an in-silico randomised trial over a virtual population.
    Trial(trial::TrialArgs),
    /// Dose-response scan over protocol fields (CSV and SVG).
    Scan(scan::ScanArgs),
    /// Share of the exercise effect carried by each of the five systems.
    Attribute(attribute::AttributeArgs),
    /// Rank protocols for one patient from known baseline values.
    Prescribe(prescribe::PrescribeArgs),
    /// SBML: export a model, check an SBML file, run the SBML Test Suite.
    Sbml(sbml::SbmlArgs),
    /// Run every calibration target as a simulated experiment and compare with the published value.
    Validate(validate::ValidateArgs),
    /// Fit the declared parameters to the calibration targets (rerunnable; --write updates the model).
    Calibrate(calibrate::CalibrateArgs),
    /// Explain a variable: what drives it and what it drives, with signs, evidence and sources.
    Explain(explain::ExplainArgs),
    /// Draw the mechanism map (five systems, couplings with signs) as SVG or Graphviz DOT.
    Graph(graph::GraphArgs),
    /// List the protocol presets and built-in models.
    Presets,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => simulate::run(&simulate::SimulateArgs::default()),
        Some(Command::Simulate(a)) => simulate::run(&a),
        Some(Command::Check(a)) => check::run(&a),
        Some(Command::Sbml(a)) => sbml::run(&a),
        Some(Command::Trial(a)) => trial::run(&a),
        Some(Command::Scan(a)) => scan::run(&a),
        Some(Command::Attribute(a)) => attribute::run(&a),
        Some(Command::Prescribe(a)) => prescribe::run(&a),
        Some(Command::Validate(a)) => validate::run(&a),
        Some(Command::Calibrate(a)) => calibrate::run(&a),
        Some(Command::Explain(a)) => explain::run(&a),
        Some(Command::Graph(a)) => graph::run(&a),
        Some(Command::Presets) => {
            presets();
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn presets() {
    println!("Protocol presets:");
    for name in neurex::protocol::preset_names() {
        let p = neurex::Protocol::preset(name).expect("presets are valid");
        println!("  {name:<14} {}", p.description);
    }
    println!("\nBuilt-in models:");
    for m in neurex::models::builtin_models() {
        println!("  {m}");
    }
}

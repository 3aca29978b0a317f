//! `neurex check`: is this model well-formed and is every number sourced?

use anyhow::{Result, bail};
use clap::Args;
use neurex::evidence::{Registry, provenance_problems};

/// Arguments of `neurex check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Model file or built-in model id.
    #[arg(default_value = neurex::REFERENCE)]
    pub model: String,
}

/// Run `neurex check`.
pub fn run(args: &CheckArgs) -> Result<()> {
    let spec = neurex::resolve_model(&args.model)?;
    let model = neurex::model::compile(&spec)?;
    println!(
        "{}: {} states, {} parameters and values, {} assigned variables, {} events",
        model.id,
        model.states.len(),
        model.values.len(),
        model.assigned.len(),
        model.events.len()
    );
    let problems = provenance_problems(&spec, &Registry::embedded());
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("  {p}");
        }
        bail!("{} provenance problem(s)", problems.len());
    }
    println!("provenance: every element cites evidence or states an assumption");
    Ok(())
}

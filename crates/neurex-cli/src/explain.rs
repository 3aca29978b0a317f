//! `neurex explain <variable>`: what drives a variable and what it drives, with signs,
//! evidence ids and sources.

use anyhow::{Result, anyhow};
use clap::Args;
use neurex::evidence::Registry;

/// Arguments of `neurex explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// State, variable or parameter id (e.g. `serum_bdnf`).
    pub variable: String,
    /// Model file or built-in model id.
    #[arg(long, default_value = neurex::REFERENCE)]
    pub model: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Run `neurex explain`.
pub fn run(args: &ExplainArgs) -> Result<()> {
    let spec = neurex::resolve_model(&args.model)?;
    let e = neurex::explain::explain(&spec, &args.variable, &Registry::embedded()).map_err(|m| anyhow!(m))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&e)?);
    } else {
        print!("{}", neurex::explain::explanation_text(&e));
    }
    Ok(())
}

//! `neurex graph --out FILE.svg|FILE.dot`: the mechanism map.

use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `neurex graph`.
#[derive(Args, Debug)]
pub struct GraphArgs {
    /// Output file: `.svg` (self-contained drawing) or `.dot` (Graphviz).
    #[arg(long)]
    pub out: PathBuf,
    /// Model file or built-in model id.
    #[arg(long, default_value = neurex::REFERENCE)]
    pub model: String,
}

/// Run `neurex graph`.
pub fn run(args: &GraphArgs) -> Result<()> {
    let spec = neurex::resolve_model(&args.model)?;
    let text = match args.out.extension().and_then(|e| e.to_str()) {
        Some("svg") => neurex::explain::graph_svg(&spec),
        Some("dot") | Some("gv") => neurex::explain::graph_dot(&spec),
        _ => bail!("{}: use a .svg or .dot file name", args.out.display()),
    };
    crate::validate::write_file(&args.out, text.as_bytes())?;
    eprintln!("{}: {} couplings", args.out.display(), spec.couplings.len());
    Ok(())
}

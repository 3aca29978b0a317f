//! `neurex attribute`: which of the five systems carries exercise's effect on depression.

use crate::trial::Bar;
use anyhow::Result;
use clap::Args;
use neurex::studies::attribution::{AttributionSpec, Cut, attribute};
use neurex::studies::{ExerciseRef, Protocols};

/// Arguments of `neurex attribute`.
#[derive(Args, Debug, Clone)]
pub struct AttributeArgs {
    /// Protocol (preset or file).
    #[arg(long, default_value = "aerobic-3x")]
    pub protocol: String,
    /// Virtual patients.
    #[arg(long, default_value_t = 40)]
    pub patients: u64,
    /// Weeks.
    #[arg(long, default_value_t = 12.0)]
    pub weeks: f64,
    /// Cut only exercise's inputs into each system (default: inputs and outgoing couplings).
    #[arg(long)]
    pub inputs_only: bool,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Run `neurex attribute`.
pub fn run(args: &AttributeArgs) -> Result<()> {
    let spec = neurex::reference_spec()?;
    let model = neurex::compile_model(&spec)?;
    let study = AttributionSpec {
        protocol: ExerciseRef::Named(args.protocol.clone()),
        patients: args.patients,
        weeks: args.weeks,
        cut: if args.inputs_only { Cut::Inputs } else { Cut::InputsAndOutgoing },
        ..AttributionSpec::default()
    };
    let bar = Bar::new("patients");
    let r = attribute(&spec, &model, &study, &Protocols, args.seed, &bar)?;
    bar.0.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    println!(
        "Effect of `{}` on {} after {} weeks: {:.2} points (mean of {} patients; {} excluded)",
        r.protocol, r.outcome, args.weeks, r.effect, r.patients, r.excluded
    );
    println!(
        "{:<12} {:>12} {:>8} {:>18} {:>18} {:>11}",
        "system", "contribution", "share", "95% CI of mean", "p05..p95", "normalised"
    );
    for s in &r.systems {
        println!(
            "{:<12} {:>12.2} {:>7.1}% {:>8.1}%..{:>6.1}% {:>8.1}%..{:>6.1}% {:>10.1}%",
            s.system,
            s.contribution,
            100.0 * s.share,
            100.0 * s.share_ci[0],
            100.0 * s.share_ci[1],
            100.0 * s.share_p05_p95[0],
            100.0 * s.share_p05_p95[1],
            100.0 * s.normalised_share
        );
    }
    println!(
        "Largest: {} — {} C2.6 (BDNF largest)",
        r.largest,
        if r.agrees_with_c2_6 { "agrees with" } else { "does not agree with" }
    );
    Ok(())
}

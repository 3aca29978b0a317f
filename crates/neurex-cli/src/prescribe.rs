//! `neurex prescribe`: rank protocols for one patient from what is known about them.

use crate::trial::Bar;
use anyhow::{Context, Result, bail};
use clap::Args;
use neurex::studies::prescribe::{PrescribeSpec, prescribe};
use neurex::studies::{ExerciseRef, Protocols};

/// Arguments of `neurex prescribe`.
#[derive(Args, Debug, Clone)]
pub struct PrescribeArgs {
    /// A known baseline value: NAME=VALUE, repeatable. Names: hamd17, crp, il6, cortisol,
    /// serum_bdnf, vo2max (or any model output), age, bmi, sex (female|male).
    #[arg(long = "known", value_name = "NAME=VALUE")]
    pub known: Vec<String>,
    /// Candidate protocols (presets or files; default: every exercise preset).
    #[arg(long = "candidate")]
    pub candidates: Vec<String>,
    /// Virtual patients weighted.
    #[arg(long, default_value_t = 400)]
    pub pool: u64,
    /// Weeks.
    #[arg(long, default_value_t = 12.0)]
    pub weeks: f64,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Run `neurex prescribe`.
pub fn run(args: &PrescribeArgs) -> Result<()> {
    let mut spec = PrescribeSpec { pool: args.pool, weeks: args.weeks, ..PrescribeSpec::default() };
    for k in &args.known {
        let (name, value) = k.split_once('=').with_context(|| format!("--known {k}: expected NAME=VALUE"))?;
        let name = name.trim();
        if name == "sex" {
            let female = match value.trim().to_ascii_lowercase().as_str() {
                "female" | "f" | "woman" => 1.0,
                "male" | "m" | "man" => 0.0,
                other => bail!("--known sex={other}: expected female or male"),
            };
            spec.known.insert("female".into(), female);
            continue;
        }
        let v: f64 = value.trim().parse().with_context(|| format!("--known {k}: `{value}` is not a number"))?;
        spec.known.insert(name.to_string(), v);
    }
    let names: Vec<String> = if args.candidates.is_empty() {
        neurex::protocol::preset_names().into_iter().filter(|n| *n != "none").map(String::from).collect()
    } else {
        args.candidates.clone()
    };
    spec.candidates = names.into_iter().map(ExerciseRef::Named).collect();
    let model = neurex::reference_model()?;
    let bar = Bar::new("virtual patients");
    let r = prescribe(&model, &spec, &Protocols, args.seed, &bar)?;
    bar.0.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    println!(
        "Predicted {} after {} weeks; effective sample size {:.1} of {} virtual patients; without exercise {:.1}",
        r.outcome, args.weeks, r.effective_sample_size, r.pool, r.no_exercise
    );
    println!("{:<4} {:<16} {:>10} {:>18} {:>10}", "rank", "protocol", "predicted", "10-90% interval", "vs none");
    for (i, c) in r.ranking.iter().enumerate() {
        println!(
            "{:<4} {:<16} {:>10.1} {:>8.1} to {:>6.1} {:>10.2}",
            i + 1,
            c.protocol,
            c.predicted,
            c.interval[0],
            c.interval[1],
            c.effect
        );
    }
    Ok(())
}

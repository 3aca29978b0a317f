//! `neurex calibrate`: fit the parameters the validation file declares to its calibration
//! targets, print the result, and (with `--write`) rewrite their values in the model files.

use anyhow::{Context, Result, bail};
use clap::Args;
use neurex::validation::calibrate::{CalibrateOptions, calibrate, patch_parameter_values};
use neurex::validation::{RunOptions, ValidationFile};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Arguments of `neurex calibrate`.
#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Validation file (default: the built-in validation/targets.toml).
    #[arg(long)]
    pub targets: Option<PathBuf>,
    /// Model directory whose TOML files hold the parameters (for --write and as the model).
    #[arg(long, default_value = "models/exercise_depression")]
    pub model_dir: PathBuf,
    /// Objective evaluations allowed.
    #[arg(long, default_value_t = 120)]
    pub max_evaluations: usize,
    /// Rewrite the fitted values in the model files (otherwise only print them).
    #[arg(long)]
    pub write: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

/// Run `neurex calibrate`.
pub fn run(args: &CalibrateArgs) -> Result<()> {
    let file = match &args.targets {
        None => ValidationFile::embedded(),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            ValidationFile::parse(&p.display().to_string(), &text)?
        }
    };
    let entry = args.model_dir.join("model.toml");
    let spec = if entry.is_file() {
        neurex::models::load_model_file(&entry)?
    } else {
        eprintln!("{} not found: calibrating the built-in reference model", entry.display());
        neurex::reference_spec()?
    };
    let model = neurex::compile_model(&spec)?;
    let opts = CalibrateOptions {
        max_evaluations: args.max_evaluations,
        run: RunOptions { threads: args.threads.max(1), ..RunOptions::default() },
        ..CalibrateOptions::default()
    };
    let result = calibrate(&model, &file, &opts, &mut |k, f, best| {
        eprintln!("evaluation {k:>4}: objective {f:>12.4}  best {best:>12.4}");
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        println!(
            "objective {:.4} -> {:.4} in {} evaluations",
            result.objective_start, result.objective, result.evaluations
        );
        println!("{:<34} {:>12} {:>12}   bounds", "parameter", "before", "fitted");
        for p in &result.parameters {
            println!("{:<34} {:>12.5} {:>12.5}   [{}, {}]", p.id, p.start, p.value, p.bounds[0], p.bounds[1]);
        }
        println!("\ncalibration targets at the fit:");
        for r in &result.report.results {
            println!(
                "  {:<14} published {:>9.3}  model {:>9.3}  band [{:.3}, {:.3}]  {}",
                r.id,
                r.published,
                r.simulated,
                r.band[0],
                r.band[1],
                if r.passed { "pass" } else { "MISS" }
            );
        }
    }
    if args.write {
        let values: BTreeMap<String, f64> = result.parameters.iter().map(|p| (p.id.clone(), p.value)).collect();
        let mut found_all = Vec::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&args.model_dir)
            .with_context(|| format!("reading {}", args.model_dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f)?;
            let (new, found) = patch_parameter_values(&text, &values);
            if !found.is_empty() {
                crate::validate::write_file(&f, new.as_bytes())?;
                eprintln!("{}: {}", f.display(), found.join(", "));
                found_all.extend(found);
            }
        }
        let missing: Vec<&String> = values.keys().filter(|k| !found_all.contains(k)).collect();
        if !missing.is_empty() {
            bail!("parameters not found in {}: {missing:?}", args.model_dir.display());
        }
        eprintln!("wrote {} fitted values; rebuild and rerun `neurex validate`", found_all.len());
    }
    Ok(())
}

//! `neurex trial`: an in-silico randomised trial. Per-patient results go to
//! `DIR/patients/part-NNNNNN.parquet`, one file per chunk, so a killed run resumes where it
//! stopped, and `--shard i/n` runs can be merged with `--merge`.

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use neurex::studies::Protocols;
use neurex::studies::endpoints::{PowerReport, power_by_resampling, sample_size_by_resampling};
use neurex::studies::store::MergedStore;
use neurex::studies::trial::{PatientRecord, Progress, RunOutcome, Status, Trial};
use neurex::studies::{ChunkStore, MemoryStore, TrialOptions, TrialReport, TrialSpec};
use neurex_formats::{Records, read_records, write_atomically, write_records};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `neurex trial`.
#[derive(Args, Debug, Clone)]
pub struct TrialArgs {
    /// Trial design: a preset name or a .toml file.
    #[arg(long, default_value = "exercise-vs-control")]
    pub design: String,
    /// Patients randomised (default: the design's n).
    #[arg(long)]
    pub n: Option<u64>,
    /// Master seed: every patient is reproducible from (seed, index).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output directory (per-patient Parquet chunks, endpoints.json, arms.csv). Re-running into
    /// the same directory resumes.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the endpoints as JSON.
    #[arg(long)]
    pub json: bool,
    /// Run only shard i of n (chunks c with c mod n = i − 1), e.g. `--shard 1/2`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Merge the chunks of these shard directories (repeatable) into --out and report.
    #[arg(long, value_name = "DIR")]
    pub merge: Vec<PathBuf>,
    /// Patients per chunk (the unit of resuming and sharding).
    #[arg(long, default_value_t = 50)]
    pub chunk_size: u64,
    /// Stop after this many chunks (to test resuming).
    #[arg(long, hide = true)]
    pub stop_after_chunks: Option<u64>,
    /// Power of the first comparison with this many patients per arm, by resampling the simulated arms.
    #[arg(long)]
    pub power_n: Option<u64>,
    /// Patients per arm needed for this power (first comparison), by resampling.
    #[arg(long)]
    pub target_power: Option<f64>,
    /// Resampled trials for --power-n / --target-power.
    #[arg(long, default_value_t = 1000)]
    pub replicates: u32,
    /// Print every stored patient record of --out as CSV on stdout (chunk by chunk) and exit.
    #[arg(long)]
    pub dump: bool,
    /// List the design presets and exit.
    #[arg(long)]
    pub list: bool,
}

/// What identifies a run in its directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Manifest {
    design: TrialSpec,
    seed: u64,
    n: u64,
    chunk_size: u64,
    columns: Vec<String>,
    version: String,
}

/// Chunks as Parquet files under `dir/patients/`.
pub(crate) struct ParquetStore {
    dir: PathBuf,
    columns: Vec<String>,
}

impl ParquetStore {
    fn part(&self, chunk: u64) -> PathBuf {
        self.dir.join("patients").join(format!("part-{chunk:06}.parquet"))
    }
}

fn to_records(records: &[PatientRecord], columns: &[String]) -> Records {
    let ints = |name: &str, f: &dyn Fn(&PatientRecord) -> i64| (name.to_string(), records.iter().map(f).collect());
    let floats = |name: &str, f: &dyn Fn(&PatientRecord) -> f64| (name.to_string(), records.iter().map(f).collect());
    let mut out = Records {
        ints: vec![
            ints("index", &|r| r.index as i64),
            ints("status", &|r| r.status as i64),
            ints("screened", &|r| i64::from(r.screened)),
            ints("solver_failures", &|r| i64::from(r.solver_failures)),
            ints("arm", &|r| i64::from(r.arm)),
            ints("subgroups", &|r| r.subgroups as i64),
        ],
        floats: vec![
            floats("age", &|r| r.age),
            floats("female", &|r| r.female),
            floats("bmi", &|r| r.bmi),
            floats("adherence", &|r| r.adherence),
            floats("dropout_week", &|r| r.dropout_week),
        ],
    };
    for (k, c) in columns.iter().enumerate() {
        out.floats.push((c.clone(), records.iter().map(|r| r.values[k]).collect()));
    }
    out
}

fn from_records(r: &Records, columns: &[String]) -> Result<Vec<PatientRecord>, String> {
    let int = |n: &str| r.ints.iter().find(|c| c.0 == n).map(|c| &c.1).ok_or_else(|| format!("column `{n}` missing"));
    let flt = |n: &str| r.floats.iter().find(|c| c.0 == n).map(|c| &c.1).ok_or_else(|| format!("column `{n}` missing"));
    let (index, status, screened, failures, arm, subgroups) =
        (int("index")?, int("status")?, int("screened")?, int("solver_failures")?, int("arm")?, int("subgroups")?);
    let (age, female, bmi, adherence, dropout) =
        (flt("age")?, flt("female")?, flt("bmi")?, flt("adherence")?, flt("dropout_week")?);
    let values: Vec<&Vec<f64>> = columns.iter().map(|c| flt(c)).collect::<Result<_, _>>()?;
    (0..index.len())
        .map(|i| {
            Ok(PatientRecord {
                index: index[i] as u64,
                status: Status::from_code(status[i]).ok_or_else(|| format!("bad status {}", status[i]))?,
                screened: screened[i] as u32,
                solver_failures: failures[i] as u32,
                arm: arm[i] as u32,
                subgroups: subgroups[i] as u64,
                age: age[i],
                female: female[i],
                bmi: bmi[i],
                adherence: adherence[i],
                dropout_week: dropout[i],
                values: values.iter().map(|v| v[i]).collect(),
            })
        })
        .collect()
}

impl ChunkStore for ParquetStore {
    fn has(&self, chunk: u64) -> bool {
        self.part(chunk).is_file()
    }
    fn save(&mut self, chunk: u64, records: &[PatientRecord]) -> Result<(), String> {
        write_records(&self.part(chunk), &to_records(records, &self.columns)).map_err(|e| e.to_string())
    }
    fn load(&self, chunk: u64) -> Result<Vec<PatientRecord>, String> {
        let r = read_records(&self.part(chunk)).map_err(|e| e.to_string())?;
        from_records(&r, &self.columns)
    }
}

/// A progress bar on stderr with rate and ETA (hidden when stderr is not a terminal).
pub(crate) struct Bar(pub(crate) ProgressBar);

impl Bar {
    pub(crate) fn new(what: &str) -> Bar {
        let bar = ProgressBar::new(0);
        let style = format!("{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {what} ({{per_sec}}, ETA {{eta}})");
        bar.set_style(ProgressStyle::with_template(&style).expect("valid template").progress_chars("=> "));
        Bar(bar)
    }
}

impl Progress for Bar {
    fn begin(&self, total: u64, done: u64) {
        self.0.set_length(total);
        self.0.set_position(done);
        self.0.reset_eta();
    }
    fn patient_done(&self) {
        self.0.inc(1);
    }
}

/// Read a design given as a preset name or a file.
pub(crate) fn load_design(design: &str) -> Result<TrialSpec> {
    if neurex::studies::trial::preset_names().contains(&design) {
        return Ok(TrialSpec::preset(design)?);
    }
    let path = Path::new(design);
    if path.is_file() {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {design}"))?;
        return Ok(TrialSpec::from_toml(design, &text)?);
    }
    Ok(TrialSpec::preset(design)?)
}

fn parse_shard(s: &str) -> Result<(u64, u64)> {
    let (i, n) = s.split_once('/').with_context(|| format!("--shard {s}: expected I/N, e.g. 1/2"))?;
    let (i, n): (u64, u64) = (
        i.trim().parse().context("--shard: I is not a number")?,
        n.trim().parse().context("--shard: N is not a number")?,
    );
    if n == 0 || i == 0 || i > n {
        bail!("--shard {s}: need 1 <= I <= N");
    }
    Ok((i, n))
}

fn prepare_dir(dir: &Path, manifest: &Manifest) -> Result<()> {
    std::fs::create_dir_all(dir.join("patients")).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("manifest.json");
    if path.is_file() {
        let text = std::fs::read_to_string(&path)?;
        let old: Manifest = serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
        if old != *manifest {
            bail!(
                "{} holds a different run (design, seed, n, chunk size or version differ); use another --out directory",
                dir.display()
            );
        }
        return Ok(());
    }
    let text = serde_json::to_string_pretty(manifest)?;
    write_atomically(&path, |f| {
        f.write_all(text.as_bytes())
            .map_err(|source| neurex_formats::FormatError::Io { path: path.display().to_string(), source })
    })?;
    Ok(())
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomically(path, |f| {
        f.write_all(text.as_bytes())
            .map_err(|source| neurex_formats::FormatError::Io { path: path.display().to_string(), source })
    })?;
    Ok(())
}

fn arms_csv(report: &TrialReport) -> String {
    let mut s = String::from(
        "arm,randomised,dropouts,dropout_rate,analysed,baseline_mean,baseline_sd,end_mean,end_sd,change_mean,change_sd,response_rate,remission_rate,hedges_g,hedges_g_ci_low,hedges_g_ci_high\n",
    );
    let o = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    for a in &report.arms {
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            a.arm,
            a.randomised,
            a.dropouts,
            a.dropout_rate,
            a.analysed,
            a.baseline.mean,
            a.baseline.sd,
            a.end.mean,
            a.end.sd,
            a.change.mean,
            a.change.sd,
            a.response_rate,
            a.remission_rate,
            o(a.hedges_g),
            o(a.hedges_g_ci.map(|c| c[0])),
            o(a.hedges_g_ci.map(|c| c[1]))
        ));
    }
    s
}

fn print_report(r: &TrialReport) {
    println!(
        "Trial `{}` on model `{}`: seed {}, {} randomised of {} asked ({} candidates screened)",
        r.design, r.model, r.seed, r.randomised, r.n, r.screened
    );
    println!(
        "{:<16} {:>6} {:>8} {:>9} {:>9} {:>9} {:>8} {:>8} {:>20}",
        "arm", "n", "dropout", "baseline", "end", "change", "response", "remiss.", "Hedges g (95% CI)"
    );
    for a in &r.arms {
        let g = match (a.hedges_g, a.hedges_g_ci) {
            (Some(g), Some(ci)) => format!("{g:.2} ({:.2} to {:.2})", ci[0], ci[1]),
            _ => "—".into(),
        };
        println!(
            "{:<16} {:>6} {:>7.1}% {:>9.2} {:>9.2} {:>9.2} {:>7.1}% {:>7.1}% {:>20}",
            a.arm,
            a.randomised,
            100.0 * a.dropout_rate,
            a.baseline.mean,
            a.end.mean,
            a.change.mean,
            100.0 * a.response_rate,
            100.0 * a.remission_rate,
            g
        );
    }
    for c in &r.comparisons {
        let nnt = c.nnt_response.map(|x| format!("{x:.1}")).unwrap_or_else(|| "—".into());
        println!(
            "{} vs {}: change difference {:.2} points, NNT (response) {nnt}",
            c.treatment, c.control, c.change_difference
        );
    }
    if let Some(s) = r.crp_above_3_share {
        println!("CRP > 3 mg/L at baseline: {:.1}% (S4-04: 27%)", 100.0 * s);
    }
}

/// The JSON printed by `--json`.
#[derive(Serialize)]
struct JsonOut<'a> {
    #[serde(flatten)]
    report: &'a TrialReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    power: Option<PowerReport>,
}

/// Run `neurex trial`.
pub fn run(args: &TrialArgs) -> Result<()> {
    if args.list {
        for (name, _) in neurex::studies::trial::PRESETS {
            let d = TrialSpec::preset(name)?;
            println!("{name:<28} {}", d.description);
        }
        return Ok(());
    }
    let design = load_design(&args.design)?;
    let spec = neurex::resolve_model(&design.model)?;
    let model = neurex::compile_model(&spec)?;
    let protocols = Protocols;
    let trial = Trial::new(&model, design.clone(), &protocols)?;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?.unwrap_or((1, 1));
    let options = TrialOptions {
        seed: args.seed,
        n: args.n,
        chunk_size: args.chunk_size,
        shard,
        stop_after_chunks: args.stop_after_chunks,
    };
    let n = args.n.unwrap_or(design.n);
    let columns = trial.value_columns().to_vec();
    let manifest = Manifest {
        design,
        seed: args.seed,
        n,
        chunk_size: args.chunk_size,
        columns: columns.clone(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    if args.dump {
        let dir = args.out.as_ref().context("--dump needs --out DIR")?;
        let store = ParquetStore { dir: dir.clone(), columns: columns.clone() };
        let mut header = PatientRecord::FIXED.join(",");
        for c in &columns {
            header.push(',');
            header.push_str(c);
        }
        println!("{header}");
        for c in 0..n.div_ceil(args.chunk_size) {
            if !store.has(c) {
                continue;
            }
            for r in store.load(c).map_err(|m| anyhow::anyhow!("chunk {c}: {m}"))? {
                let mut line = format!(
                    "{},{},{},{},{},{},{},{},{},{},{}",
                    r.index,
                    r.status as u8,
                    r.screened,
                    r.solver_failures,
                    r.arm,
                    r.subgroups,
                    r.age,
                    r.female,
                    r.bmi,
                    r.adherence,
                    r.dropout_week
                );
                for v in &r.values {
                    line.push_str(&format!(",{v}"));
                }
                println!("{line}");
            }
        }
        return Ok(());
    }
    let bar = Bar::new("patients");
    let outcome = if !args.merge.is_empty() {
        let mut parts = Vec::new();
        for d in &args.merge {
            let text = std::fs::read_to_string(d.join("manifest.json"))
                .with_context(|| format!("{}: not a trial directory", d.display()))?;
            let m: Manifest = serde_json::from_str(&text)?;
            if m != manifest {
                bail!("{} holds a different run (design, seed, n, chunk size or version differ)", d.display());
            }
            parts.push(ParquetStore { dir: d.clone(), columns: columns.clone() });
        }
        let merged = MergedStore { parts: parts.iter().map(|p| p as &dyn ChunkStore).collect() };
        let chunks = n.div_ceil(args.chunk_size);
        let missing: Vec<u64> = (0..chunks).filter(|&c| !merged.has(c)).collect();
        if !missing.is_empty() {
            bail!(
                "cannot merge: {} of {chunks} chunks are in none of the directories (first missing: chunk {})",
                missing.len(),
                missing[0]
            );
        }
        let report = trial.report(&options, &merged)?;
        if let Some(dir) = &args.out {
            prepare_dir(dir, &manifest)?;
            let mut out = ParquetStore { dir: dir.clone(), columns: columns.clone() };
            for c in 0..chunks {
                if !out.has(c) {
                    let recs = merged.load(c).map_err(|m| anyhow::anyhow!("chunk {c}: {m}"))?;
                    out.save(c, &recs).map_err(|m| anyhow::anyhow!("chunk {c}: {m}"))?;
                }
            }
        }
        (RunOutcome::Complete(Box::new(report)), Some(merged_values(&trial, &options, &merged)?))
    } else if let Some(dir) = &args.out {
        prepare_dir(dir, &manifest)?;
        let mut store = ParquetStore { dir: dir.clone(), columns: columns.clone() };
        let outcome = trial.run(&options, &mut store, &bar)?;
        let values = match &outcome {
            RunOutcome::Complete(_) if args.power_n.is_some() || args.target_power.is_some() => {
                Some(merged_values(&trial, &options, &store)?)
            }
            _ => None,
        };
        (outcome, values)
    } else {
        let mut store = MemoryStore::default();
        let outcome = trial.run(&options, &mut store, &bar)?;
        let values = Some(merged_values(&trial, &options, &store)?);
        (outcome, values)
    };
    bar.0.finish_and_clear();
    let (outcome, values) = outcome;
    let report = match outcome {
        RunOutcome::Complete(r) => r,
        RunOutcome::Partial { stored, total } => {
            eprintln!(
                "stored {stored} of {total} chunks; run the other shards, then merge with --merge (or re-run to resume)"
            );
            return Ok(());
        }
    };
    let power = match (values, trial_first_comparison(&trial)) {
        (Some(v), Some((t, c))) => {
            if let Some(np) = args.power_n {
                power_by_resampling(&v[t], &v[c], np, args.replicates, args.seed)
            } else if let Some(target) = args.target_power {
                if !(target > 0.0 && target < 1.0) {
                    bail!("--target-power {target}: must be between 0 and 1");
                }
                let r = sample_size_by_resampling(&v[t], &v[c], target, args.replicates, args.seed, 100_000);
                if r.is_none() {
                    eprintln!("power {target} is not reached with up to 100000 patients per arm");
                }
                r
            } else {
                None
            }
        }
        _ => None,
    };
    if let Some(dir) = &args.out {
        write_text(&dir.join("endpoints.json"), &(serde_json::to_string_pretty(&*report)? + "\n"))?;
        write_text(&dir.join("arms.csv"), &arms_csv(&report))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&JsonOut { report: &report, power })?);
    } else {
        print_report(&report);
        if let Some(p) = power {
            println!(
                "power with {} per arm: {:.1}% ({} resampled trials; mean g {:.2})",
                p.n_per_arm,
                100.0 * p.power,
                p.replicates,
                p.mean_g
            );
        }
    }
    Ok(())
}

fn trial_first_comparison(trial: &Trial<'_>) -> Option<(usize, usize)> {
    let spec = trial.spec();
    let names: Vec<&str> = spec.arms.iter().map(|a| a.name.as_str()).collect();
    match spec.comparisons.first() {
        Some([t, c]) => Some((names.iter().position(|n| n == t)?, names.iter().position(|n| n == c)?)),
        None if names.len() > 1 => Some((1, 0)),
        None => None,
    }
}

/// Per arm, each patient's (baseline, end) value of the primary outcome (end missing on drop-out).
type ArmValues = Vec<Vec<(f64, Option<f64>)>>;

fn merged_values(trial: &Trial<'_>, options: &TrialOptions, store: &dyn ChunkStore) -> Result<ArmValues> {
    Ok(trial.primary_values(options, store)?)
}

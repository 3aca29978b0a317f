//! The SBML Test Suite's semantic cases, run in place.
//!
//! Each case folder `NNNNN/` holds the model (`NNNNN-sbml-l3v2.xml`, or the highest other
//! level and version present), `NNNNN-settings.txt` (start, duration, steps, variables,
//! tolerances, which variables are amounts and which concentrations), the expected
//! `NNNNN-results.csv` and `NNNNN-model.m` (component and test tags). A case passes when every
//! reported variable at every output time satisfies the suite's rule
//! `|simulated − expected| ≤ absolute + relative·|expected|`.
//!
//! A case is *unsupported* when the importer or compiler refuses a feature by name (the comp
//! and fbc packages, algebraic rules, fast reactions, `delay()`); it then counts in the total
//! but not in the attempted cases. Anything else that goes wrong, including a panic, is a
//! failure with its reason.

use crate::import::import_full;
use neurex_model::diagnostics::{DiagnosticKind, Diagnostics};
use neurex_model::{CompiledModel, Slot, compile};
use neurex_solve::{Recorder, Schedule, SolverSettings, simulate};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every value within tolerance.
    Pass,
    /// Ran, but a value is off, or the run failed.
    Fail,
    /// Refused: a named feature is not supported.
    Unsupported,
}

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Case id (`00001`).
    pub id: String,
    /// Outcome.
    pub result: Outcome,
    /// Why it failed or was refused (empty on a pass).
    pub reason: String,
    /// The case's componentTags.
    #[serde(skip)]
    pub component_tags: Vec<String>,
    /// The case's testTags.
    #[serde(skip)]
    pub test_tags: Vec<String>,
    /// True if the run panicked (a bug, always).
    #[serde(skip)]
    pub panicked: bool,
}

/// Counts for one tag.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TagCount {
    /// Cases with the tag that passed.
    pub passed: usize,
    /// Cases with the tag that were attempted (not refused as unsupported).
    pub attempted: usize,
    /// Cases with the tag.
    pub total: usize,
}

/// The result of a whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Cases that passed.
    pub passed: usize,
    /// Cases attempted (total minus unsupported).
    pub attempted: usize,
    /// Cases found.
    pub total: usize,
    /// Runs that panicked.
    pub panics: usize,
    /// By componentTag.
    pub component_tags: BTreeMap<String, TagCount>,
    /// By testTag.
    pub test_tags: BTreeMap<String, TagCount>,
    /// Refused features and how many cases each one stopped.
    pub unsupported_features: BTreeMap<String, usize>,
    /// Every case.
    pub cases: Vec<CaseResult>,
}

/// The simulation settings of a case (`NNNNN-settings.txt`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseSettings {
    /// Start time.
    pub start: f64,
    /// Duration.
    pub duration: f64,
    /// Number of output intervals.
    pub steps: usize,
    /// Variables to report.
    pub variables: Vec<String>,
    /// Absolute tolerance of the comparison.
    pub absolute: f64,
    /// Relative tolerance of the comparison.
    pub relative: f64,
    /// Species reported as amounts.
    pub amount: Vec<String>,
    /// Species reported as concentrations.
    pub concentration: Vec<String>,
}

impl CaseSettings {
    /// Parse a settings file.
    pub fn parse(text: &str) -> Result<CaseSettings, String> {
        let mut s = CaseSettings { absolute: 1e-10, relative: 1e-4, ..Default::default() };
        let list = |v: &str| v.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect::<Vec<_>>();
        let num =
            |k: &str, v: &str| v.trim().parse::<f64>().map_err(|_| format!("settings: `{k}: {v}` is not a number"));
        for line in text.lines() {
            let Some((k, v)) = line.split_once(':') else { continue };
            match k.trim() {
                "start" => s.start = num(k, v)?,
                "duration" => s.duration = num(k, v)?,
                "steps" => s.steps = num(k, v)? as usize,
                "variables" => s.variables = list(v),
                "absolute" => s.absolute = num(k, v)?,
                "relative" => s.relative = num(k, v)?,
                "amount" => s.amount = list(v),
                "concentration" => s.concentration = list(v),
                _ => {}
            }
        }
        Ok(s)
    }
}

/// The model file of a case: L3V2, else L3V1, else the highest Level 2.
pub fn model_file(case_dir: &Path, id: &str) -> Option<PathBuf> {
    ["l3v2", "l3v1", "l2v5", "l2v4", "l2v3", "l2v2", "l2v1"]
        .iter()
        .map(|lv| case_dir.join(format!("{id}-sbml-{lv}.xml")))
        .find(|p| p.is_file())
}

fn tags(model_m: &str, key: &str) -> Vec<String> {
    model_m
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(key))
        .map(|rest| {
            rest.trim_start_matches(':').split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
        })
        .unwrap_or_default()
}

fn unsupported_of(d: &Diagnostics) -> Option<String> {
    let feats: BTreeSet<String> =
        d.0.iter()
            .filter_map(|x| match &x.kind {
                DiagnosticKind::Unsupported { feature } => Some(feature.clone()),
                _ => None,
            })
            .collect();
    (!feats.is_empty()).then(|| feats.into_iter().collect::<Vec<_>>().join(", "))
}

fn first_lines(d: &Diagnostics) -> String {
    d.0.iter().take(2).map(|x| x.to_string()).collect::<Vec<_>>().join("; ")
}

struct Rows(Vec<(f64, Vec<f64>)>);
impl Recorder for Rows {
    fn record(&mut self, t: f64, values: &[f64]) {
        self.0.push((t, values.to_vec()));
    }
}

/// How to read one reported variable from a row of outputs.
enum Column {
    /// An output column, times or divided by a compartment (an output or a constant).
    Output { j: usize, scale: Option<(bool, CompSize)> },
    /// A value that does not change after t0.
    Constant(f64),
}

#[derive(Clone, Copy)]
enum CompSize {
    Output(usize),
    Constant(f64),
}

/// Run one case folder.
pub fn run_case(case_dir: &Path) -> CaseResult {
    let id = case_dir.file_name().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let model_m = std::fs::read_to_string(case_dir.join(format!("{id}-model.m"))).unwrap_or_default();
    let component_tags = tags(&model_m, "componentTags");
    let test_tags = tags(&model_m, "testTags");
    let mut result = CaseResult {
        id: id.clone(),
        result: Outcome::Fail,
        reason: String::new(),
        component_tags,
        test_tags,
        panicked: false,
    };
    if tags(&model_m, "testType").iter().any(|t| t == "FluxBalanceSteadyState") {
        result.result = Outcome::Unsupported;
        result.reason = "unsupported: fbc package (flux balance steady state)".into();
        return result;
    }
    let dir = case_dir.to_path_buf();
    let run = std::panic::catch_unwind(move || run_case_inner(&dir, &id));
    match run {
        Ok(Ok(())) => result.result = Outcome::Pass,
        Ok(Err((outcome, reason))) => {
            result.result = outcome;
            result.reason = reason;
        }
        Err(p) => {
            result.panicked = true;
            result.reason = format!(
                "panic: {}",
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            );
        }
    }
    result
}

type CaseError = (Outcome, String);

fn fail(m: impl Into<String>) -> CaseError {
    (Outcome::Fail, m.into())
}

fn run_case_inner(dir: &Path, id: &str) -> Result<(), CaseError> {
    let file = model_file(dir, id).ok_or_else(|| fail("no model file"))?;
    let text = std::fs::read_to_string(&file).map_err(|e| fail(format!("{}: {e}", file.display())))?;
    let settings_text =
        std::fs::read_to_string(dir.join(format!("{id}-settings.txt"))).map_err(|e| fail(format!("settings: {e}")))?;
    let settings = CaseSettings::parse(&settings_text).map_err(fail)?;
    let expected = read_results(&dir.join(format!("{id}-results.csv"))).map_err(fail)?;

    let imported = import_full(&text).map_err(|d| match unsupported_of(&d) {
        Some(f) => (Outcome::Unsupported, format!("unsupported: {f}")),
        None => fail(format!("import: {}", first_lines(&d))),
    })?;
    let model = compile(&imported.spec).map_err(|d| match unsupported_of(&d) {
        Some(f) => (Outcome::Unsupported, format!("unsupported: {f}")),
        None => fail(format!("compile: {}", first_lines(&d))),
    })?;

    let times: Vec<f64> = expected.times.clone();
    let mut p = model.p0.clone();
    let mut ws = model.workspace();
    let y0 = model.initial_state(settings.start, &mut p, &mut ws);
    let atol = (settings.absolute * 1e-6).clamp(1e-22, 1e-10);
    let solver = SolverSettings { rtol: 1e-9, atol, max_steps: 1_000_000, max_events_per_time: 1_000 };
    let mut rows = Rows(Vec::new());
    simulate(&model, &p, &y0, settings.start, &times, &Schedule::empty(), &solver, &mut rows)
        .map_err(|e| fail(format!("simulate: {e}")))?;
    if rows.0.len() != times.len() {
        return Err(fail(format!("{} output rows for {} times", rows.0.len(), times.len())));
    }

    let columns: Vec<(String, Column)> = expected
        .columns
        .iter()
        .map(|name| column(&model, &imported, &settings, name, &p).map(|c| (name.clone(), c)))
        .collect::<Result<_, _>>()?;
    let mut worst: Option<(f64, String)> = None;
    for (k, (t, row)) in rows.0.iter().enumerate() {
        for (c, (name, col)) in columns.iter().enumerate() {
            let sim = match col {
                Column::Constant(v) => *v,
                Column::Output { j, scale } => {
                    let v = row[*j];
                    match scale {
                        None => v,
                        Some((mul, size)) => {
                            let s = match size {
                                CompSize::Output(i) => row[*i],
                                CompSize::Constant(s) => *s,
                            };
                            if *mul { v * s } else { v / s }
                        }
                    }
                }
            };
            let want = expected.rows[k][c];
            let ok = if want.is_nan() {
                sim.is_nan()
            } else if want.is_infinite() {
                sim == want
            } else {
                (sim - want).abs() <= settings.absolute + settings.relative * want.abs()
            };
            if !ok {
                let excess = (sim - want).abs() / (settings.absolute + settings.relative * want.abs());
                let excess = if excess.is_nan() { f64::INFINITY } else { excess };
                if worst.as_ref().is_none_or(|(w, _)| excess > *w) {
                    worst = Some((excess, format!("{name} at t = {t}: {sim} instead of {want}")));
                }
            }
        }
    }
    match worst {
        None => Ok(()),
        Some((_, m)) => Err(fail(m)),
    }
}

fn column(
    model: &CompiledModel,
    im: &crate::Imported,
    s: &CaseSettings,
    name: &str,
    p: &[f64],
) -> Result<Column, CaseError> {
    let nid = im.neurex_id(name);
    let species = im.spec.species.iter().find(|sp| sp.id == nid);
    // What the model's symbol means, and what the case asks for.
    let mut scale = None;
    if let Some(sp) = species {
        let dims = im
            .spec
            .compartments
            .iter()
            .find(|c| c.id == sp.compartment)
            .and_then(|c| c.spatial_dimensions)
            .unwrap_or(3.0);
        let symbol_is_conc = !sp.has_only_substance_units && dims != 0.0;
        let want_amount = s.amount.iter().any(|a| a == name);
        let want_conc = s.concentration.iter().any(|a| a == name);
        let size = match model.output_index(&sp.compartment) {
            Some(j) => CompSize::Output(j),
            None => match model.slot(&sp.compartment) {
                Some(Slot::Value(i)) => CompSize::Constant(p[i as usize]),
                _ => return Err(fail(format!("size of compartment `{}` is not available", sp.compartment))),
            },
        };
        if symbol_is_conc && want_amount {
            scale = Some((true, size));
        } else if !symbol_is_conc && want_conc && dims != 0.0 {
            scale = Some((false, size));
        }
    }
    if let Some(j) = model.output_index(nid) {
        return Ok(Column::Output { j, scale });
    }
    match model.slot(nid) {
        Some(Slot::Value(i)) => {
            let v = p[i as usize];
            Ok(match scale {
                None => Column::Constant(v),
                Some((mul, CompSize::Constant(c))) => Column::Constant(if mul { v * c } else { v / c }),
                Some((mul, size)) => {
                    // A constant species in a changing compartment: rare; treat via the output.
                    let _ = (mul, size);
                    return Err(fail(format!("`{name}` is constant in a changing compartment")));
                }
            })
        }
        Some(_) => Err(fail(format!("`{name}` is not among the model's outputs"))),
        None => Err(fail(format!("`{name}` is not in the model"))),
    }
}

struct Expected {
    columns: Vec<String>,
    times: Vec<f64>,
    rows: Vec<Vec<f64>>,
}

fn read_results(path: &Path) -> Result<Expected, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines.next().ok_or("empty results")?.split(',').map(|s| s.trim().to_string()).collect();
    let mut times = Vec::new();
    let mut rows = Vec::new();
    for l in lines {
        let vals: Vec<f64> = l
            .split(',')
            .map(|v| match v.trim() {
                "INF" | "inf" | "Infinity" => Ok(f64::INFINITY),
                "-INF" | "-inf" | "-Infinity" => Ok(f64::NEG_INFINITY),
                "NaN" | "nan" => Ok(f64::NAN),
                t => t.parse::<f64>().map_err(|_| format!("results: `{t}` is not a number")),
            })
            .collect::<Result<_, _>>()?;
        if vals.len() != header.len() {
            return Err("results: ragged row".into());
        }
        times.push(vals[0]);
        rows.push(vals[1..].to_vec());
    }
    Ok(Expected { columns: header[1..].to_vec(), times, rows })
}

/// Case folders under `cases_dir` (named by five digits), sorted.
pub fn case_dirs(cases_dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(cases_dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().chars().all(|c| c.is_ascii_digit()))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Run every case under `suite_dir/cases/` (or under `suite_dir` itself if it holds the case
/// folders), in parallel.
pub fn run(suite_dir: &Path) -> Report {
    let cases = if suite_dir.join("cases").is_dir() { suite_dir.join("cases") } else { suite_dir.to_path_buf() };
    let dirs = case_dirs(&cases);
    // Quiet the default panic message: panics are caught and reported per case.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let results: Vec<CaseResult> = dirs.par_iter().map(|d| run_case(d)).collect();
    std::panic::set_hook(hook);
    Report::new(results)
}

impl Report {
    /// Summarise case results.
    pub fn new(cases: Vec<CaseResult>) -> Report {
        let mut r = Report {
            passed: 0,
            attempted: 0,
            total: cases.len(),
            panics: 0,
            component_tags: BTreeMap::new(),
            test_tags: BTreeMap::new(),
            unsupported_features: BTreeMap::new(),
            cases: Vec::new(),
        };
        for c in &cases {
            let passed = c.result == Outcome::Pass;
            let attempted = c.result != Outcome::Unsupported;
            r.passed += usize::from(passed);
            r.attempted += usize::from(attempted);
            r.panics += usize::from(c.panicked);
            if !attempted {
                for f in c.reason.trim_start_matches("unsupported: ").split(", ") {
                    *r.unsupported_features.entry(f.to_string()).or_default() += 1;
                }
            }
            for (map, tags) in [(&mut r.component_tags, &c.component_tags), (&mut r.test_tags, &c.test_tags)] {
                for t in tags {
                    let e = map.entry(t.clone()).or_default();
                    e.total += 1;
                    e.attempted += usize::from(attempted);
                    e.passed += usize::from(passed);
                }
            }
        }
        r.cases = cases;
        r
    }

    /// Ids of the cases that passed.
    pub fn passing(&self) -> BTreeSet<String> {
        self.cases.iter().filter(|c| c.result == Outcome::Pass).map(|c| c.id.clone()).collect()
    }

    /// Cases in `baseline` that no longer pass.
    pub fn newly_failing<'a>(&'a self, baseline: &Baseline) -> Vec<&'a CaseResult> {
        self.cases.iter().filter(|c| c.result != Outcome::Pass && baseline.0.contains(&c.id)).collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "SBML Test Suite: {} passed / {} attempted / {} total ({} panics)",
            self.passed, self.attempted, self.total, self.panics
        )?;
        writeln!(f, "\nby componentTag:            passed attempted  total")?;
        for (t, c) in &self.component_tags {
            writeln!(f, "  {t:<26} {:>6} {:>9} {:>6}", c.passed, c.attempted, c.total)?;
        }
        writeln!(f, "\nby testTag:                 passed attempted  total")?;
        for (t, c) in &self.test_tags {
            writeln!(f, "  {t:<26} {:>6} {:>9} {:>6}", c.passed, c.attempted, c.total)?;
        }
        writeln!(f, "\nnot supported (cases refused):")?;
        for (feat, n) in &self.unsupported_features {
            writeln!(f, "  {n:>5}  {feat}")?;
        }
        Ok(())
    }
}

/// The committed list of passing case ids (the ratchet).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline(pub BTreeSet<String>);

impl Baseline {
    /// Read a list of ids, one a line; `#` starts a comment.
    pub fn parse(text: &str) -> Baseline {
        Baseline(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }
    /// Read from a file (missing file: empty).
    pub fn load(path: &Path) -> Baseline {
        Baseline::parse(&std::fs::read_to_string(path).unwrap_or_default())
    }
    /// The file text for a set of passing ids.
    pub fn render(ids: &BTreeSet<String>) -> String {
        let mut s =
            String::from("# SBML Test Suite cases that pass (the ratchet): a case listed here must keep passing.\n");
        s.push_str("# Regenerate with: cargo run --release -p neurex-cli -- sbml suite ../shared/sbml-test-suite --write-passing crates/neurex-sbml/tests/data/sbml_passing.txt\n");
        for id in ids {
            s.push_str(id);
            s.push('\n');
        }
        s
    }
}

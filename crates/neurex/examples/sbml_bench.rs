//! The neurex side of the cross-engine benchmark (tools/bench_sbml.py): simulate an SBML model
//! once (median of repeats) and as an ensemble of virtual patients, and print JSON.
//!
//! ```text
//! cargo run --release -p neurex --example sbml_bench -- MODEL.xml --end 2016 --points 2017 \
//!     --rtol 1e-6 --atol 1e-9 --readout D [--ensemble params.csv --n 1000] [--threads 1] [--repeats 5]
//!     [--series-rows K]
//! ```
//! `--series-rows K` also prints the readout trajectories of the ensemble's first K rows.
//! The ensemble CSV has a header `patient,<param>,<param>,…` and one row per patient. Each
//! patient is simulated from the model's initial values (initial assignments evaluated with its
//! parameters) with the same output grid as the single run.

use neurex::solve::{Recorder, Schedule, SolverSettings, simulate};
use std::time::Instant;

struct Keep {
    rows: Vec<Vec<f64>>,
}
impl Recorder for Keep {
    fn record(&mut self, _t: f64, values: &[f64]) {
        self.rows.push(values.to_vec());
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let file = args.first().expect("usage: sbml_bench MODEL.xml [options]").clone();
    let num = |n: &str, d: f64| arg(&args, n).map_or(d, |v| v.parse().expect("a number"));
    let end = num("--end", 2016.0);
    let points = num("--points", 2017.0) as usize;
    let settings = SolverSettings { rtol: num("--rtol", 1e-6), atol: num("--atol", 1e-9), ..SolverSettings::default() };
    let readout = arg(&args, "--readout").expect("--readout ID");
    let repeats = num("--repeats", 5.0) as usize;
    let threads = num("--threads", 1.0) as usize;

    let t_load = Instant::now();
    let text = std::fs::read_to_string(&file).expect("model file");
    let spec = neurex::sbml::import(&text).unwrap_or_else(|d| panic!("{d}"));
    let model = neurex::compile_model(&spec).unwrap_or_else(|e| panic!("{e}"));
    let load_s = t_load.elapsed().as_secs_f64();
    let j = model.output_index(&readout).unwrap_or_else(|| panic!("no output `{readout}`"));
    let times: Vec<f64> = (0..points).map(|k| end * k as f64 / (points - 1) as f64).collect();

    let run = |p: &mut Vec<f64>| -> Result<(Vec<f64>, neurex::solve::SolveReport), String> {
        let mut ws = model.workspace();
        let y0 = model.initial_state(0.0, p, &mut ws);
        let mut rec = Keep { rows: Vec::with_capacity(points) };
        let (rep, _) = simulate(&model, p, &y0, 0.0, &times, &Schedule::empty(), &settings, &mut rec)
            .map_err(|e| e.to_string())?;
        Ok((rec.rows.iter().map(|r| r[j]).collect(), rep))
    };

    // One simulation: median of repeats.
    let mut walls = Vec::new();
    let mut series = Vec::new();
    let mut report = neurex::solve::SolveReport::default();
    for _ in 0..repeats.max(1) {
        let mut p = model.p0.clone();
        let t = Instant::now();
        let (s, r) = run(&mut p).expect("nominal simulation");
        walls.push(t.elapsed().as_secs_f64());
        series = s;
        report = r;
    }
    walls.sort_by(f64::total_cmp);
    let median = walls[walls.len() / 2];

    let mut out = serde_json::json!({
        "engine": "neurex",
        "load_s": load_s,
        "single_median_s": median,
        "single_min_s": walls[0],
        "rhs_evaluations": report.rhs_evaluations,
        "report": report,
        "readout_series": series,
    });

    if let Some(csv) = arg(&args, "--ensemble") {
        let text = std::fs::read_to_string(&csv).expect("ensemble CSV");
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("header").split(',').skip(1).collect();
        let idx: Vec<usize> = header
            .iter()
            .map(|h| {
                model.value_index(h.trim()).unwrap_or_else(|| panic!("ensemble parameter `{h}` is not a model value"))
            })
            .collect();
        let n = num("--n", f64::INFINITY);
        let patients: Vec<Vec<f64>> = lines
            .take(if n.is_finite() { n as usize } else { usize::MAX })
            .map(|l| l.split(',').skip(1).map(|v| v.trim().parse().expect("number")).collect())
            .collect();
        let t = Instant::now();
        let chunk = patients.len().div_ceil(threads.max(1));
        let results: Vec<Result<f64, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = patients
                .chunks(chunk.max(1))
                .map(|part| {
                    let run = &run;
                    let idx = &idx;
                    let p0 = &model.p0;
                    s.spawn(move || {
                        part.iter()
                            .map(|vals| {
                                let mut p = p0.clone();
                                for (&i, &v) in idx.iter().zip(vals) {
                                    p[i] = v;
                                }
                                run(&mut p).map(|(s, _)| *s.last().unwrap())
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("worker")).collect()
        });
        let wall = t.elapsed().as_secs_f64();
        let ok: Vec<f64> = results.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
        out["ensemble"] = serde_json::json!({
            "n": patients.len(),
            "threads": threads,
            "wall_s": wall,
            "sims_per_s": patients.len() as f64 / wall,
            "failures": results.len() - ok.len(),
            "mean_final_readout": ok.iter().sum::<f64>() / ok.len().max(1) as f64,
        });
        // Trajectories of the first rows, for accuracy checks over several parameter sets.
        let k = num("--series-rows", 0.0) as usize;
        let rows: Vec<Vec<f64>> = patients
            .iter()
            .take(k)
            .map(|vals| {
                let mut p = model.p0.clone();
                for (&i, &v) in idx.iter().zip(vals) {
                    p[i] = v;
                }
                run(&mut p).map(|(s, _)| s).unwrap_or_default()
            })
            .collect();
        out["row_series"] = serde_json::json!(rows);
    }
    println!("{out}");
}

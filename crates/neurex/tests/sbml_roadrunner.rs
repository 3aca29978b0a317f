//! Cross-engine checks through SBML: the reference model exported with a phenotype, its steady
//! state and a protocol as events runs in libRoadRunner as it runs in neurex; and the BioModels
//! files in ../shared/science/sbml-models load, simulate, and agree with libRoadRunner.
//!
//! libRoadRunner comes from the project's Python venv (`tools/setup_python.sh` makes
//! `.venv`); without it these tests print a message and skip.

use neurex::sbml::{SbmlExport, export_sbml, import_full};
use neurex::simulation::{ProtocolRef, SimulationJob};
use neurex::solve::{DenseRecorder, Schedule, SolverSettings, simulate};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's Python, if it has libRoadRunner and libSBML. Under `tools/test.sh` (which sets
/// `NEUREX_REQUIRE_LIBROADRUNNER`) a missing venv is a failure, not a skip.
fn python() -> Option<PathBuf> {
    let py = root().join(".venv/bin/python");
    let ok = py.exists()
        && Command::new(&py).args(["-c", "import roadrunner, libsbml"]).output().is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    let why = format!("{} lacks libroadrunner/python-libsbml (run tools/setup_python.sh)", py.display());
    assert!(std::env::var_os("NEUREX_REQUIRE_LIBROADRUNNER").is_none(), "{why}");
    eprintln!("skipping: {why}");
    None
}

struct RrResult {
    /// Set when libRoadRunner refused to load the model.
    refused: Option<String>,
    libsbml_errors: usize,
    messages: Vec<String>,
    times: Vec<f64>,
    columns: Vec<(String, Vec<f64>)>,
}

fn roadrunner(py: &Path, model: &Path, end: f64, points: usize, ids: &[String]) -> RrResult {
    let json = tmp_file(&format!("{}.rr.json", model.file_stem().unwrap().to_string_lossy()));
    let out = Command::new(py)
        .arg(root().join("tools/roadrunner_compare.py"))
        .arg(model)
        .args(["--end", &end.to_string(), "--points", &points.to_string(), "--ids", &ids.join(",")])
        .args(["--rtol", "1e-9", "--atol", "1e-12"])
        .arg("--out")
        .arg(&json)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "roadrunner_compare.py failed on {}: {}",
        model.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&json).expect("roadrunner_compare.py wrote its JSON");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON from roadrunner_compare.py");
    let nums = |x: &serde_json::Value| {
        x.as_array().unwrap().iter().map(|f| f.as_f64().unwrap_or(f64::NAN)).collect::<Vec<f64>>()
    };
    RrResult {
        refused: v["roadrunner_error"].as_str().map(str::to_string),
        libsbml_errors: v["libsbml_errors"].as_u64().unwrap() as usize,
        messages: v["libsbml_messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap_or("").to_string())
            .collect(),
        times: if v["times"].is_array() { nums(&v["times"]) } else { Vec::new() },
        columns: if v["columns"].is_object() {
            ids.iter().map(|id| (id.clone(), nums(&v["columns"][id]))).collect()
        } else {
            Vec::new()
        },
    }
}

/// Worst |a − b| / (atol + rtol·|b|) over a column, with atol scaled to the column's size.
fn worst(a: &[f64], b: &[f64], rtol: f64, atol_rel: f64) -> (f64, usize) {
    let scale = b.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(1e-300);
    let atol = atol_rel * scale;
    a.iter().zip(b).enumerate().fold((0.0, 0), |(w, wi), (i, (x, y))| {
        let e = (x - y).abs() / (atol + rtol * y.abs());
        if e > w { (e, i) } else { (w, wi) }
    })
}

fn tmp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neurex-sbml-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn reference_model_exported_to_sbml_runs_the_same_in_libroadrunner() {
    let Some(py) = python() else { return };
    let weeks = 12.0;
    let solver = SolverSettings { rtol: 1e-9, atol: 1e-11, ..SolverSettings::default() };
    let req = SbmlExport {
        protocol: Some("aerobic-3x".into()),
        weeks,
        phenotype: "depressed".into(),
        solver: solver.clone(),
        ..SbmlExport::default()
    };
    let xml = export_sbml(&req).unwrap_or_else(|e| panic!("{e}"));
    let file = tmp_file("exercise_depression.xml");
    std::fs::write(&file, &xml).unwrap();

    let job = SimulationJob {
        phenotype: "depressed".into(),
        protocol: ProtocolRef::Named("aerobic-3x".into()),
        weeks,
        output_step_h: 1.0,
        control: false,
        solver,
        ..SimulationJob::default()
    };
    let native = neurex::simulate(&job).unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<String> = native.summary.iter().map(|r| r.variable.clone()).collect();
    assert!(ids.len() >= 10, "headline markers and scales: {ids:?}");
    let rr = roadrunner(&py, &file, weeks * 168.0, native.times.len(), &ids);
    assert!(rr.refused.is_none(), "libRoadRunner refused the export: {:?}", rr.refused);
    assert_eq!(rr.libsbml_errors, 0, "libSBML errors in the export: {:?}", rr.messages);
    assert_eq!(rr.times.len(), native.times.len());
    for (id, col) in &rr.columns {
        let mine = native.series(id).unwrap();
        let (w, i) = worst(&mine, col, 1e-4, 1e-6);
        println!("{id:<24} worst {w:.2e} of tolerance at t = {} h", native.times[i]);
        assert!(w <= 1.0, "{id} at t = {} h: neurex {} vs libRoadRunner {}", native.times[i], mine[i], col[i]);
    }
}

/// The BioModels files and how long to simulate each (in its own time unit).
const BIOMODELS: [(&str, f64); 13] = [
    ("Best2009_MODEL1502230000.xml", 100.0),
    ("Bingzheng1990_MODEL1172200168.xml", 100.0),
    ("Dwivedi2014_BIOMD0000000534.xml", 100.0),
    ("Egli2004_MODEL0912452142.xml", 100.0),
    ("GonzalezHeydrich1994_MODEL0911270004.xml", 100.0),
    ("Gupta2007A_MODEL1006230111.xml", 100.0),
    ("Gupta2007B_MODEL1006230036.xml", 100.0),
    ("Jelic2005_MODEL1006230013.xml", 100.0),
    ("Kolodkin2013_BIOMD0000000576.xml", 100.0),
    ("Kyrylov2005_MODEL0478740924.xml", 100.0),
    ("Liu1999_MODEL1006230060.xml", 100.0),
    ("Reynolds2006_BIOMD0000000714.xml", 100.0),
    ("Stavrum2013_MODEL1310160000.xml", 100.0),
];

#[test]
fn biomodels_load_simulate_and_agree_with_libroadrunner() {
    let dir = root().join("../shared/science/sbml-models");
    if !dir.is_dir() {
        eprintln!("skipping: {} is not present", dir.display());
        return;
    }
    let py = python();
    let mut failures = Vec::new();
    for (file, end) in BIOMODELS {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let imported = import_full(&text).unwrap_or_else(|d| panic!("{file}: {d}"));
        let model = neurex::model::compile(&imported.spec).unwrap_or_else(|d| panic!("{file}: {d}"));
        let points = 201;
        let times: Vec<f64> = (0..points).map(|k| end * k as f64 / (points - 1) as f64).collect();
        let mut p = model.p0.clone();
        let mut ws = model.workspace();
        let y0 = model.initial_state(0.0, &mut p, &mut ws);
        let settings = SolverSettings { rtol: 1e-9, atol: 1e-12, ..SolverSettings::default() };
        let mut rec = DenseRecorder::default();
        simulate(&model, &p, &y0, 0.0, &times, &Schedule::empty(), &settings, &mut rec)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(rec.rows.iter().flatten().all(|v| v.is_finite()), "{file}: non-finite outputs");
        let Some(py) = &py else { continue };
        // Compare every output that keeps its SBML id.
        let renamed: Vec<&str> = imported.renamed.iter().map(|(_, n)| n.as_str()).collect();
        let ids: Vec<String> =
            model.outputs.iter().map(|o| o.id.clone()).filter(|id| !renamed.contains(&id.as_str())).collect();
        let rr = roadrunner(py, &path, end, points, &ids);
        if let Some(why) = &rr.refused {
            println!("{file:<44} libRoadRunner refuses it, not compared: {why}");
            continue;
        }
        let mut worst_all = (0.0, String::new());
        for (k, (id, col)) in rr.columns.iter().enumerate() {
            let j = model.output_index(&ids[k]).unwrap();
            let mine = rec.column(j);
            let (w, i) = worst(&mine, col, 1e-4, 1e-6);
            if w > worst_all.0 {
                worst_all = (w, format!("{id} at t = {}: neurex {} vs libRoadRunner {}", times[i], mine[i], col[i]));
            }
        }
        println!("{file:<44} {} outputs, worst {:.2e} of tolerance ({})", ids.len(), worst_all.0, worst_all.1);
        if worst_all.0 > 1.0 {
            failures.push(format!("{file}: {}", worst_all.1));
        }
    }
    assert!(failures.is_empty(), "disagreements with libRoadRunner:\n{}", failures.join("\n"));
}

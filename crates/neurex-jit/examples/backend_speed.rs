//! Times one 12-week simulation of a model file on the interpreter and on native code, from the
//! model's steady state, with a 3 x 45 min/week session schedule set directly on its
//! `exercise_intensity` and `exercise_aerobic` inputs.
//!
//! cargo run --release -p neurex-jit --example backend_speed [-- models/exercise_depression/model.toml]

use neurex_model::{compile, load_with};
use neurex_solve::{DenseRecorder, InputChange, Schedule, SolverSettings, simulate, steady_state};
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "models/exercise_depression/model.toml".into());
    let text = std::fs::read_to_string(&path).expect("model file");
    let spec = load_with(&path, &text, &mut |p| std::fs::read_to_string(p).map_err(|e| e.to_string())).expect("loads");
    let interp = compile(&spec).expect("compiles");
    let mut native = interp.clone();
    let t = Instant::now();
    neurex_jit::accelerate(&mut native).expect("jit");
    println!("native compilation: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let settings = SolverSettings::default();
    let p = interp.phenotype_values("depressed").unwrap_or_else(|| interp.p0.clone());
    let ss = steady_state(&native, &p, 0.0, interp.equilibration_periods, &settings).expect("steady state");
    let (ii, ia) = (interp.value_index("exercise_intensity"), interp.value_index("exercise_aerobic"));
    let mut changes = Vec::new();
    if let (Some(ii), Some(ia)) = (ii, ia) {
        for w in 0..12 {
            for d in [0, 2, 4] {
                let t0 = f64::from(w * 7 + d) * 24.0 + 9.0;
                changes.push(InputChange { t: t0, set: vec![(ii, 0.65), (ia, 1.0)] });
                changes.push(InputChange { t: t0 + 0.75, set: vec![(ii, 0.0), (ia, 0.0)] });
            }
        }
    }
    let schedule = Schedule::new(changes);
    let times: Vec<f64> = (0..=2016).map(f64::from).collect();
    let backends: Vec<(&str, &neurex_model::CompiledModel)> = if std::env::var_os("NATIVE_ONLY").is_some() {
        vec![("native", &native)]
    } else {
        vec![("interpreter", &interp), ("native", &native)]
    };
    for (name, m) in backends {
        let reps = 5;
        let mut last = None;
        let t = Instant::now();
        for _ in 0..reps {
            let mut rec = DenseRecorder::default();
            let (report, _) = simulate(m, &ss.p, &ss.y, 0.0, &times, &schedule, &settings, &mut rec).expect("solves");
            last = Some((report, rec.rows.last().cloned().unwrap_or_default()));
        }
        let ms = t.elapsed().as_secs_f64() * 1e3 / f64::from(reps);
        let (report, row) = last.expect("ran");
        println!(
            "{name:>12}: {ms:.1} ms per 12-week simulation ({} steps); last row checksum {:.12e}",
            report.steps,
            row.iter().sum::<f64>()
        );
    }
    let t = Instant::now();
    steady_state(&native, &p, 0.0, interp.equilibration_periods, &settings).expect("steady state");
    println!("steady state (native): {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
}

//! Wall time of one 12-week simulation of the reference model with hourly output (from the
//! steady state, exercise run only), and of the steady-state search.

use criterion::{Criterion, criterion_group, criterion_main};
use neurex::protocol::Protocol;
use neurex::simulation::patient_values;
use neurex_solve::{DenseRecorder, SolverSettings, simulate, steady_state};

fn bench(c: &mut Criterion) {
    let model = neurex::reference_model().expect("reference model compiles");
    let settings = SolverSettings::default();
    let p = patient_values(&model, "depressed", &Default::default()).unwrap();
    let ss = steady_state(&model, &p, 0.0, model.equilibration_periods, &settings).unwrap();
    let schedule = Protocol::preset("aerobic-3x").unwrap().schedule(&model, 12.0).unwrap();
    let times: Vec<f64> = (0..=2016).map(f64::from).collect();
    let mut g = c.benchmark_group("reference_model");
    g.sample_size(10);
    g.bench_function("12_weeks_aerobic_3x_hourly", |b| {
        b.iter(|| {
            let mut rec = DenseRecorder::default();
            simulate(&model, &ss.p, &ss.y, 0.0, &times, &schedule, &settings, &mut rec).unwrap()
        })
    });
    g.bench_function("steady_state_depressed", |b| {
        b.iter(|| steady_state(&model, &p, 0.0, model.equilibration_periods, &settings).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

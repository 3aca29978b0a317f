//! Engine tests against analytic solutions, restart equivalence, events and failures.

use neurex_model::{CompiledModel, compile, parse_model_str};
use neurex_solve::{DenseRecorder, InputChange, Schedule, SolveError, SolverSettings, simulate, steady_state};

fn model(name: &str, text: &str) -> CompiledModel {
    let spec = parse_model_str(name, text).unwrap_or_else(|d| panic!("{d}"));
    compile(&spec).unwrap_or_else(|d| panic!("{d}"))
}

const DECAY: &str = include_str!("../../../models/fixtures/decay.toml");
const LOGISTIC: &str = include_str!("../../../models/fixtures/logistic.toml");
const TWO: &str = include_str!("../../../models/fixtures/two_compartment.toml");
const EVENT: &str = include_str!("../../../models/fixtures/decay_with_event.toml");
const BLOW_UP: &str = include_str!("../../../models/fixtures/blow_up.toml");

fn tight() -> SolverSettings {
    SolverSettings { rtol: 1e-8, atol: 1e-10, ..SolverSettings::default() }
}

fn run(m: &CompiledModel, times: &[f64], schedule: &Schedule, s: &SolverSettings) -> DenseRecorder {
    let mut p = m.p0.clone();
    let mut ws = m.workspace();
    let y0 = m.initial_state(0.0, &mut p, &mut ws);
    let mut rec = DenseRecorder::default();
    simulate(m, &p, &y0, 0.0, times, schedule, s, &mut rec).unwrap_or_else(|e| panic!("{e}"));
    rec
}

/// The worst error relative to the requested tolerance: ≤ 1 means within `atol + rtol·|exact|`.
fn worst(sim: &[f64], exact: &[f64], s: &SolverSettings) -> f64 {
    sim.iter().zip(exact).map(|(a, e)| (a - e).abs() / (s.atol + s.rtol * e.abs())).fold(0.0, f64::max)
}

// Global error of an adaptive method with local error control is a modest multiple of the
// requested tolerance; we accept up to 20x (CVODE's documentation gives the same caveat).
const GLOBAL_FACTOR: f64 = 20.0;

fn grid(end: f64, n: usize) -> Vec<f64> {
    (0..=n).map(|i| end * i as f64 / n as f64).collect()
}

#[test]
fn exponential_decay_matches_analytic_solution() {
    let m = model("decay.toml", DECAY);
    let s = tight();
    let times = grid(10.0, 40);
    let rec = run(&m, &times, &Schedule::empty(), &s);
    let j = m.output_index("y").unwrap();
    let exact: Vec<f64> = times.iter().map(|t| 2.5 * (-0.7 * t).exp()).collect();
    let w = worst(&rec.column(j), &exact, &s);
    eprintln!("worst error {w:.3} x tolerance");
    assert!(w <= GLOBAL_FACTOR, "worst error {w} x tolerance");
}

#[test]
fn logistic_growth_matches_analytic_solution() {
    let m = model("logistic.toml", LOGISTIC);
    let s = tight();
    let times = grid(20.0, 80);
    let rec = run(&m, &times, &Schedule::empty(), &s);
    let j = m.output_index("cells").unwrap();
    let exact: Vec<f64> = times.iter().map(|t| 100.0 / (1.0 + (100.0 / 2.0 - 1.0) * (-0.9 * t).exp())).collect();
    let w = worst(&rec.column(j), &exact, &s);
    eprintln!("worst error {w:.3} x tolerance");
    assert!(w <= GLOBAL_FACTOR, "worst error {w} x tolerance");
}

/// Exact solution of the two-compartment chain under a piecewise-constant input.
fn two_compartment_exact(switches: &[(f64, f64)], t: f64) -> (f64, f64) {
    let (k1, k2) = (1.3, 0.4);
    let (mut a, mut b, mut t0, mut u) = (0.0, 0.0, 0.0, 0.0);
    let advance = |a: &mut f64, b: &mut f64, u: f64, tau: f64| {
        let c1 = k1 * (*a - u / k1) / (k2 - k1);
        let c2 = *b - u / k2 - c1;
        *a = u / k1 + (*a - u / k1) * (-k1 * tau).exp();
        *b = u / k2 + c1 * (-k1 * tau).exp() + c2 * (-k2 * tau).exp();
    };
    for &(ts, us) in switches {
        if ts >= t {
            break;
        }
        advance(&mut a, &mut b, u, ts - t0);
        t0 = ts;
        u = us;
    }
    advance(&mut a, &mut b, u, t - t0);
    (a, b)
}

fn two_compartment_schedule(m: &CompiledModel, switches: &[(f64, f64)]) -> Schedule {
    let iu = m.value_index("u").unwrap();
    Schedule::new(switches.iter().map(|&(t, u)| InputChange { t, set: vec![(iu, u)] }).collect())
}

#[test]
fn step_input_switched_at_known_times_matches_analytic_solution() {
    let m = model("two_compartment.toml", TWO);
    let s = tight();
    // A session from 1 h to 1.75 h (a boundary between output times), and one starting exactly
    // at the output time 5.5 h.
    let switches = [(1.0, 2.0), (1.75, 0.0), (5.5, 1.0), (8.0, 0.0)];
    let times = grid(10.0, 20);
    assert!(times.contains(&5.5));
    let rec = run(&m, &times, &two_compartment_schedule(&m, &switches), &s);
    let (ja, jb) = (m.output_index("a").unwrap(), m.output_index("b").unwrap());
    let exact_a: Vec<f64> = times.iter().map(|&t| two_compartment_exact(&switches, t).0).collect();
    let exact_b: Vec<f64> = times.iter().map(|&t| two_compartment_exact(&switches, t).1).collect();
    let wa = worst(&rec.column(ja), &exact_a, &s);
    let wb = worst(&rec.column(jb), &exact_b, &s);
    eprintln!("worst errors a {wa:.3}, b {wb:.3} x tolerance");
    assert!(wa <= GLOBAL_FACTOR && wb <= GLOBAL_FACTOR, "worst errors a {wa}, b {wb} x tolerance");
    // The assignment rule follows the states.
    let jt = m.output_index("total").unwrap();
    for (k, row) in rec.rows.iter().enumerate() {
        assert!((row[jt] - row[ja] - row[jb]).abs() < 1e-12, "row {k}");
    }
}

#[test]
fn restarting_midway_gives_the_same_answer() {
    let m = model("two_compartment.toml", TWO);
    let s = tight();
    let switches = [(1.0, 2.0), (1.75, 0.0), (5.5, 1.0), (8.0, 0.0)];
    let sched = two_compartment_schedule(&m, &switches);
    let mut p = m.p0.clone();
    let mut ws = m.workspace();
    let y0 = m.initial_state(0.0, &mut p, &mut ws);
    let mut whole = DenseRecorder::default();
    simulate(&m, &p, &y0, 0.0, &[10.0], &sched, &s, &mut whole).unwrap();
    for t_mid in [1.75, 3.3, 5.5] {
        let mut first = DenseRecorder::default();
        let (_, fin) = simulate(&m, &p, &y0, 0.0, &[t_mid], &sched, &s, &mut first).unwrap();
        let mut second = DenseRecorder::default();
        simulate(&m, &fin.p, &fin.y, t_mid, &[10.0], &sched, &s, &mut second).unwrap();
        let w = worst(&second.rows[0], &whole.rows[0], &s);
        assert!(w <= GLOBAL_FACTOR, "restart at {t_mid}: {w} x tolerance");
    }
}

#[test]
fn events_are_located_by_root_finding_not_by_the_output_grid() {
    let m = model("decay_with_event.toml", EVENT);
    let s = tight();
    struct Log(Vec<f64>);
    impl neurex_solve::Recorder for Log {
        fn record(&mut self, _t: f64, _v: &[f64]) {}
        fn event(&mut self, t: f64, _id: &str) {
            self.0.push(t);
        }
    }
    for outputs in [vec![10.0], grid(10.0, 7), grid(10.0, 1000)] {
        let mut p = m.p0.clone();
        let mut ws = m.workspace();
        let y0 = m.initial_state(0.0, &mut p, &mut ws);
        let mut log = Log(Vec::new());
        simulate(&m, &p, &y0, 0.0, &outputs, &Schedule::empty(), &s, &mut log).unwrap();
        let period = std::f64::consts::LN_2 / 0.5;
        assert_eq!(log.0.len(), 7, "resets in 10 h with {} outputs", outputs.len());
        for (n, t) in log.0.iter().enumerate() {
            let exact = (n + 1) as f64 * period;
            assert!((t - exact).abs() < 1e-6, "reset {n} at {t}, expected {exact}");
        }
    }
}

#[test]
fn solver_failure_is_an_error_not_a_panic() {
    let m = model("blow_up.toml", BLOW_UP);
    let mut p = m.p0.clone();
    let mut ws = m.workspace();
    let y0 = m.initial_state(0.0, &mut p, &mut ws);
    let mut rec = DenseRecorder::default();
    let err =
        simulate(&m, &p, &y0, 0.0, &[0.5, 2.0], &Schedule::empty(), &SolverSettings::default(), &mut rec).unwrap_err();
    assert!(
        matches!(err, SolveError::Integrator { .. } | SolveError::NonFinite { .. } | SolveError::TooManySteps { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("t = "), "{err}");
}

#[test]
fn bad_output_times_are_rejected() {
    let m = model("decay.toml", DECAY);
    let mut rec = DenseRecorder::default();
    let y0 = [2.5];
    for times in [vec![1.0, 0.5], vec![f64::NAN], vec![-1.0]] {
        let err = simulate(&m, &m.p0, &y0, 0.0, &times, &Schedule::empty(), &SolverSettings::default(), &mut rec)
            .unwrap_err();
        assert!(matches!(err, SolveError::BadSettings(_)), "{err}");
    }
}

#[test]
fn steady_state_of_a_fixed_point_model() {
    // Logistic growth settles at its capacity.
    let m = model("logistic.toml", LOGISTIC);
    let ss = steady_state(&m, &m.p0, 0.0, 200, &SolverSettings::default()).unwrap();
    assert!((ss.y[0] - 100.0).abs() < 1e-4, "{:?}", ss.y);
}

// A session schedule like the peer benchmark's: `time >= t_on && n < n_total`, where `t_on` is an
// assignment rule of the session counter that events change. Such triggers are known stops: the
// events fire exactly at 1, 3 and 5 h, without root finding, and the state matches the analytic
// solution of y' = u − y with u switched at those times.
const SESSIONS: &str = r#"
[model]
id = "sessions"
time_unit = "h"
[[parameter]]
id = "n"
value = 0.0
constant = false
assumption = "test fixture: sessions started"
[[parameter]]
id = "n_total"
value = 3.0
assumption = "test fixture"
[[parameter]]
id = "u"
value = 0.0
constant = false
assumption = "test fixture: input"
[[variable]]
id = "t_on"
math = "1 + 2 * n"
assumption = "test fixture: next session start"
[[state]]
id = "y"
initial = 0.0
rate = "u - y"
assumption = "test fixture"
[[event]]
id = "start"
trigger = "time >= t_on && n < n_total"
assignments = [{ variable = "u", math = "1 - u" }, { variable = "n", math = "n + 1" }]
"#;

#[test]
fn time_scheduled_events_stop_exactly_at_their_times_without_root_finding() {
    let m = model("sessions.toml", SESSIONS);
    assert_eq!(m.n_roots, 0, "a time-scheduled trigger needs no root function");
    struct Log(Vec<f64>, Vec<Vec<f64>>);
    impl neurex_solve::Recorder for Log {
        fn record(&mut self, _t: f64, v: &[f64]) {
            self.1.push(v.to_vec());
        }
        fn event(&mut self, t: f64, _id: &str) {
            self.0.push(t);
        }
    }
    let s = tight();
    let mut p = m.p0.clone();
    let mut ws = m.workspace();
    let y0 = m.initial_state(0.0, &mut p, &mut ws);
    let mut log = Log(Vec::new(), Vec::new());
    let (report, _) = simulate(&m, &p, &y0, 0.0, &[8.0], &Schedule::empty(), &s, &mut log).unwrap();
    assert_eq!(log.0, vec![1.0, 3.0, 5.0], "event times");
    assert_eq!(report.roots_found, 0);
    // u = 1 on [1, 3) and [5, 8]; 0 elsewhere.
    let mut y: f64 = 0.0;
    for (a, b, u) in [(1.0, 3.0, 1.0), (3.0, 5.0, 0.0), (5.0, 8.0, 1.0)] {
        y = u + (y - u) * f64::exp(-(b - a));
    }
    let y8 = log.1[0][m.output_index("y").unwrap()];
    assert!((y8 - y).abs() < GLOBAL_FACTOR * (s.atol + s.rtol * y), "y(8) = {y8} vs exact {y}");
}

/// The linear solver hands its factorisation and fill patterns from one integrator to the next
/// on a thread; what ran before must not change a simulation's results by a single bit.
#[test]
fn results_do_not_depend_on_what_ran_before_on_the_thread() {
    let two = model("two_compartment.toml", TWO);
    let schedule = two_compartment_schedule(&two, &[(1.0, 2.0), (1.75, 0.0), (3.0, 1.5)]);
    let times = grid(6.0, 24);
    let bits = |rec: &DenseRecorder| rec.rows.iter().flatten().map(|v| v.to_bits()).collect::<Vec<_>>();
    let alone = std::thread::spawn({
        let (two, schedule, times) = (two.clone(), schedule.clone(), times.clone());
        move || run(&two, &times, &schedule, &tight())
    })
    .join()
    .unwrap();
    // Other models, other tolerances and the same one, then the one compared.
    let event = model("decay_with_event.toml", EVENT);
    let logistic = model("logistic.toml", LOGISTIC);
    run(&event, &grid(10.0, 40), &Schedule::empty(), &tight());
    run(&logistic, &grid(20.0, 80), &Schedule::empty(), &SolverSettings::default());
    run(&two, &times, &schedule, &SolverSettings::default());
    let after = run(&two, &times, &schedule, &tight());
    assert_eq!(bits(&alone), bits(&after));
}

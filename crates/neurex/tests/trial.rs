//! Issue 4 on the reference model: the `exercise-vs-control` preset, 2,000 patients, seed 1, as
//! `neurex trial --design exercise-vs-control --n 2000 --seed 1 --json` runs it.

use neurex::studies::trial::{NoProgress, RunOutcome, Trial};
use neurex::studies::{ArmEndpoints, MemoryStore, Protocols, TrialOptions, TrialReport, TrialSpec};

fn run() -> TrialReport {
    let design = TrialSpec::preset("exercise-vs-control").unwrap_or_else(|e| panic!("{e}"));
    let spec = neurex::resolve_model(&design.model).unwrap_or_else(|e| panic!("{e}"));
    let model = neurex::compile_model(&spec).unwrap_or_else(|e| panic!("{e}"));
    let trial = Trial::new(&model, design, &Protocols).unwrap_or_else(|e| panic!("{e}"));
    let options = TrialOptions { seed: 1, n: Some(2000), ..TrialOptions::default() };
    let mut store = MemoryStore::default();
    match trial.run(&options, &mut store, &NoProgress).unwrap_or_else(|e| panic!("{e}")) {
        RunOutcome::Complete(report) => *report,
        _ => panic!("the trial did not complete"),
    }
}

fn arm<'a>(r: &'a TrialReport, name: &str) -> &'a ArmEndpoints {
    r.arms.iter().find(|a| a.arm == name).unwrap_or_else(|| panic!("no arm {name}"))
}

/// One test, so the 2,000 patients are simulated once: the effect (OUT-01/07), drop-out (OUT-17)
/// and the spread the effect is measured against (SCL-12, SCL-09).
#[test]
fn exercise_vs_control_reproduces_the_pooled_effect_dropout_and_spread_of_mdd_trials() {
    let r = run();
    let (ex, co) = (arm(&r, "exercise"), arm(&r, "control"));
    eprintln!(
        "g {:?} CI {:?}; drop-out {:.3} / {:.3}; baseline {:.2} ± {:.2} / {:.2} ± {:.2}; end SD {:.2} / {:.2}; \
         change {:.2} / {:.2}",
        ex.hedges_g,
        ex.hedges_g_ci,
        ex.dropout_rate,
        co.dropout_rate,
        ex.baseline.mean,
        ex.baseline.sd,
        co.baseline.mean,
        co.baseline.sd,
        ex.end.sd,
        co.end.sd,
        ex.change.mean,
        co.change.mean
    );
    assert_eq!(r.simulation_failures, 0);
    let g = ex.hedges_g.expect("exercise is compared with control");
    assert!((-0.80..=-0.45).contains(&g), "Hedges g {g} outside OUT-01's [-0.80, -0.45]");
    assert!((0.15..=0.22).contains(&ex.dropout_rate), "exercise drop-out {} outside OUT-17", ex.dropout_rate);
    assert!(ex.dropout_rate < co.dropout_rate, "OUT-17: less drop-out with exercise than without");
    for a in [ex, co] {
        assert!((2.0..=7.0).contains(&a.baseline.sd), "{}: baseline SD {} outside SCL-12's 2-7", a.arm, a.baseline.sd);
        assert!((4.0..=8.0).contains(&a.end.sd), "{}: endpoint SD {} outside SCL-12's 4-8", a.arm, a.end.sd);
        assert!((17.0..=28.0).contains(&a.baseline.mean), "{}: baseline mean {}", a.arm, a.baseline.mean);
    }
}

//! The reference model against the founding review's directions and the acute targets, and the
//! provenance of every number in it.

use neurex::evidence::{Registry, provenance_problems};
use neurex::model::CompiledModel;
use neurex::protocol::Protocol;
use neurex::simulation::patient_values;
use neurex::solve::{DenseRecorder, Schedule, SolverSettings, SteadyState, simulate, steady_state};
use std::sync::OnceLock;

struct Fixture {
    model: CompiledModel,
    depressed: SteadyState,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let model = neurex::reference_model().unwrap_or_else(|e| panic!("{e}"));
        let p = patient_values(&model, "depressed", &Default::default()).unwrap();
        let depressed = steady_state(&model, &p, 0.0, model.equilibration_periods, &SolverSettings::default())
            .unwrap_or_else(|e| panic!("{e}"));
        Fixture { model, depressed }
    })
}

fn run(protocol: &Protocol, weeks: f64, step_h: f64) -> DenseRecorder {
    let f = fixture();
    let schedule = protocol.schedule(&f.model, weeks).unwrap();
    let n = (weeks * 168.0 / step_h).round() as usize;
    let times: Vec<f64> = (0..=n).map(|k| k as f64 * step_h).collect();
    let mut rec = DenseRecorder::default();
    simulate(&f.model, &f.depressed.p, &f.depressed.y, 0.0, &times, &schedule, &SolverSettings::default(), &mut rec)
        .unwrap_or_else(|e| panic!("{e}"));
    rec
}

fn col(rec: &DenseRecorder, id: &str) -> Vec<f64> {
    let j = fixture().model.output_index(id).unwrap_or_else(|| panic!("the reference model has no output `{id}`"));
    rec.column(j)
}

fn one_session(intensity: &str, minutes: f64) -> Protocol {
    Protocol::from_toml(
        "test",
        &format!("name = \"single\"\nintensity = \"{intensity}\"\nminutes = {minutes}\nsessions_per_week = 1\nweeks = 1\ntime_of_day = 9.0\n"),
    )
    .unwrap()
}

#[test]
fn every_parameter_has_provenance_that_exists() {
    let spec = neurex::reference_spec().unwrap();
    let problems = provenance_problems(&spec, &Registry::embedded());
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn provenance_check_catches_missing_and_unknown_ids() {
    let text = "[model]\nid = \"m\"\n[[parameter]]\nid = \"a\"\nvalue = 1\nrange = [0, 2]\n\
                [[parameter]]\nid = \"b\"\nvalue = 1\nrange = [0, 2]\nevidence = [\"C9.9\"]\n";
    let spec = neurex::model::parse_model_str("m.toml", text).unwrap();
    let problems = provenance_problems(&spec, &Registry::embedded());
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("`a`") && problems[1].contains("C9.9"));
}

#[test]
fn every_seed_claim_is_cited_by_the_model() {
    let spec = neurex::reference_spec().unwrap();
    let cited: std::collections::HashSet<String> =
        spec.provenance_entries().into_iter().flat_map(|(_, _, p)| p.evidence.clone()).collect();
    let missing: Vec<String> =
        Registry::embedded().seed_claims().map(|c| c.id.clone()).filter(|id| !cited.contains(id)).collect();
    assert!(missing.is_empty(), "claims without a model element: {missing:?}");
}

#[test]
fn phenotypes_differ_in_the_reported_directions() {
    let f = fixture();
    let ph = patient_values(&f.model, "healthy", &Default::default()).unwrap();
    let healthy = steady_state(&f.model, &ph, 0.0, f.model.equilibration_periods, &SolverSettings::default()).unwrap();
    // Compare the daily means of a few markers between phenotypes.
    let mean = |ss: &SteadyState, id: &str| {
        let times: Vec<f64> = (0..24).map(f64::from).collect();
        let mut rec = DenseRecorder::default();
        simulate(&f.model, &ss.p, &ss.y, 0.0, &times, &Schedule::empty(), &SolverSettings::default(), &mut rec)
            .unwrap();
        let j = f.model.output_index(id).unwrap();
        rec.column(j).iter().sum::<f64>() / 24.0
    };
    let d = &f.depressed;
    // C3.1/S3-04 cortisol up; C2.2 serum BDNF down; C4.1/S4-02 IL-6, CRP, TNF-α up; C5.1/S5-04
    // hippocampus smaller; C1.2 5-HT and NE lower; the outcome worse.
    for (id, sign) in [
        ("cortisol", 1.0),
        ("serum_bdnf", -1.0),
        ("il6", 1.0),
        ("crp", 1.0),
        ("tnf_alpha", 1.0),
        ("hippocampal_volume", -1.0),
        ("serotonin", -1.0),
        ("norepinephrine", -1.0),
        ("hamd17", 1.0),
    ] {
        let (h, dd) = (mean(&healthy, id), mean(d, id));
        assert!(sign * (dd - h) > 0.0, "{id}: healthy {h}, depressed {dd}");
    }
}

#[test]
fn a_no_exercise_patient_stays_at_its_periodic_steady_state() {
    let rec = run(&Protocol::none(), 12.0, 24.0);
    let f = fixture();
    let (first, last) = (&rec.rows[0], rec.rows.last().unwrap());
    for s in &f.model.states {
        let j = f.model.output_index(&s.id).unwrap();
        let o = s;
        let drift = (last[j] - first[j]).abs() / (1e-6 + 1e-4 * first[j].abs());
        assert!(drift <= 1.0, "{} drifts from {} to {} over 12 weeks", o.id, first[j], last[j]);
    }
}

struct Chronic {
    exercise: DenseRecorder,
    control: DenseRecorder,
}

fn chronic() -> &'static Chronic {
    static C: OnceLock<Chronic> = OnceLock::new();
    C.get_or_init(|| Chronic {
        exercise: run(&Protocol::preset("aerobic-3x").unwrap(), 12.0, 0.25),
        control: run(&Protocol::none(), 12.0, 0.25),
    })
}

fn end(rec: &DenseRecorder, id: &str) -> f64 {
    *col(rec, id).last().unwrap()
}

#[test]
fn twelve_weeks_of_aerobic_exercise_lower_hamd17() {
    let c = chronic();
    let (ex, ctl) = (end(&c.exercise, "hamd17"), end(&c.control, "hamd17"));
    assert!(ex < ctl - 1.0, "hamd17 after 12 weeks: exercise {ex}, control {ctl}");
}

#[test]
fn twelve_weeks_of_aerobic_exercise_move_markers_in_the_seed_directions() {
    let c = chronic();
    let mut wrong = Vec::new();
    // C2.3/C2.5/S2-03, C5.1/S5-03, C1.4, C4.6, C5.2/C5.3.
    for (id, sign) in [
        ("serum_bdnf", 1.0),
        ("hippocampal_volume", 1.0),
        ("serotonin", 1.0),
        ("norepinephrine", 1.0),
        ("dopamine", 1.0),
        ("tnf_alpha", -1.0),
        ("crp", -1.0),
        ("mature_oligodendrocytes", 1.0),
    ] {
        let (ex, ctl) = (end(&c.exercise, id), end(&c.control, id));
        if sign * (ex - ctl) <= 0.0 {
            wrong.push(format!("{id}: exercise {ex}, control {ctl}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Rise of a variable during a session beyond what the circadian rhythm does anyway: the peak,
/// within [start, start + 2 h], of its change from the session start minus the control run's
/// change over the same hours.
fn session_rise(rec: &DenseRecorder, control: &DenseRecorder, id: &str, start_h: f64) -> f64 {
    let (v, c) = (col(rec, id), col(control, id));
    let at = |t: f64| rec.times.iter().position(|&x| x >= t - 1e-9).unwrap();
    let (i0, i1) = (at(start_h), at(start_h + 2.0));
    (i0..=i1).map(|i| (v[i] - v[i0]) - (c[i] - c[i0])).fold(f64::NEG_INFINITY, f64::max)
}

/// Acute runs: one week at one-minute resolution, with the matching control.
fn acute(protocol: &Protocol) -> (DenseRecorder, &'static DenseRecorder) {
    static CONTROL: OnceLock<DenseRecorder> = OnceLock::new();
    let control = CONTROL.get_or_init(|| run(&Protocol::none(), 1.0, 1.0 / 60.0));
    (run(protocol, 1.0, 1.0 / 60.0), control)
}

fn index_at(rec: &DenseRecorder, t: f64) -> usize {
    rec.times.iter().position(|&x| x >= t - 1e-9).unwrap()
}

#[test]
fn cortisol_reactivity_adapts_and_growth_hormone_responds_after_training() {
    let c = chronic();
    let sessions = Protocol::preset("aerobic-3x").unwrap().sessions(12.0);
    let (first, last) = (sessions[0].start_h, sessions.last().unwrap().start_h);
    let rise = |id: &str, t: f64| session_rise(&c.exercise, &c.control, id, t);
    let (r0, r12) = (rise("cortisol", first), rise("cortisol", last));
    assert!(r12 < r0, "cortisol rise in the first session {r0}, in the last {r12} (C3.2: the axis adapts)");
    let gh = col(&c.exercise, "growth_hormone");
    let i = c.exercise.times.iter().position(|&t| t >= last).unwrap();
    let rise = rise("growth_hormone", last);
    assert!(rise > 0.5 * gh[i], "GH rises by {rise} from {} in the last session (C3.4)", gh[i]);
}

#[test]
fn serum_bdnf_rises_during_a_bout_and_returns_within_about_an_hour() {
    let (rec, ctl) = acute(&one_session("65% VO2max", 30.0));
    let (v, c) = (col(&rec, "serum_bdnf"), col(ctl, "serum_bdnf"));
    let excess = |t: f64| v[index_at(&rec, t)] - c[index_at(&rec, t)];
    let base = c[index_at(&rec, 9.5)];
    assert!(excess(9.5) > 0.05 * base, "S2-01/02: BDNF {base} without, +{} at the end of the bout", excess(9.5));
    let left = excess(10.5) / excess(9.5);
    assert!(left < 0.25, "one hour after the bout {:.0}% of the rise remains", 100.0 * left);
}

#[test]
fn cortisol_rises_far_more_at_80_than_at_40_percent_vo2max() {
    let effect = |intensity: &str| {
        let (rec, ctl) = acute(&one_session(intensity, 30.0));
        let i = index_at(&rec, 9.5);
        col(&rec, "cortisol")[i] / col(ctl, "cortisol")[i] - 1.0
    };
    let (low, high) = (effect("40% VO2max"), effect("80% VO2max"));
    // S3-01: +5.7 % at 40 % vs +83 % at 80 % (rest: -6.6 %).
    assert!(high > 0.3 && high > 4.0 * low.max(0.0), "cortisol vs no exercise: 40% -> {low:+.3}, 80% -> {high:+.3}");
}

#[test]
fn muscle_il6_rises_with_duration_while_inflammatory_markers_stay_put() {
    let peak = |minutes: f64| {
        let (rec, ctl) = acute(&one_session("65% VO2max", minutes));
        let (v, c) = (col(&rec, "muscle_il6"), col(ctl, "muscle_il6"));
        v.iter().zip(&c).map(|(a, b)| a - b).fold(f64::NEG_INFINITY, f64::max)
    };
    let (p30, p60, p90) = (peak(30.0), peak(60.0), peak(90.0));
    assert!(p30 > 0.0 && p60 > p30 && p90 > p60, "muscle IL-6 peaks: {p30}, {p60}, {p90}");
    // C4.3: a 30-min moderate bout leaves inflammatory cytokines and CRP essentially unchanged.
    let (rec, ctl) = acute(&one_session("55% VO2max", 30.0));
    for id in ["il6", "tnf_alpha", "crp"] {
        let (v, c) = (col(&rec, id), col(ctl, id));
        let window = index_at(&rec, 9.0)..=index_at(&rec, 13.0);
        let max_dev = window.map(|i| (v[i] - c[i]).abs() / c[i]).fold(0.0, f64::max);
        assert!(max_dev < 0.05, "{id} moves {:.1}% within 4 h of a moderate bout", 100.0 * max_dev);
    }
}

#[test]
fn loose_tolerances_still_solve_and_agree() {
    // Regression: diffsol's cumulative Newton-failure limit ended long loose-tolerance runs, and
    // the steady-state search depended on the caller's tolerances.
    let f = fixture();
    let protocol = Protocol::preset("aerobic-3x").unwrap();
    let schedule = protocol.schedule(&f.model, 12.0).unwrap();
    let p = patient_values(&f.model, "depressed", &Default::default()).unwrap();
    let j = f.model.output_index("hamd17").unwrap();
    let mut ends = Vec::new();
    for (rtol, atol) in [(1e-6, 1e-9), (1e-4, 1e-6)] {
        let s = SolverSettings { rtol, atol, ..SolverSettings::default() };
        let ss = steady_state(&f.model, &p, 0.0, f.model.equilibration_periods, &s).unwrap_or_else(|e| panic!("{e}"));
        let mut rec = DenseRecorder::default();
        simulate(&f.model, &ss.p, &ss.y, 0.0, &[2016.0], &schedule, &s, &mut rec).unwrap_or_else(|e| panic!("{e}"));
        ends.push(rec.rows[0][j]);
    }
    assert!((ends[0] - ends[1]).abs() < 0.01, "hamd17 at 12 weeks: {ends:?}");
}

//! Integration tests of the study layer on a toy model: determinism across thread counts,
//! shards and resumes; reproducibility of a patient from (seed, index); clear errors on bad
//! designs.

use neurex_analysis::store::MergedStore;
use neurex_analysis::trial::{PatientRecord, RunOutcome, Trial};
use neurex_analysis::{ChunkStore, ExerciseRef, MemoryStore, ScheduleSource, TrialOptions, TrialSpec};
use neurex_model::{CompiledModel, compile, parse_model_str};
use neurex_solve::{InputChange, Schedule};

fn toy() -> CompiledModel {
    let spec = parse_model_str("toy.toml", include_str!("data/toy.toml")).unwrap_or_else(|d| panic!("{d}"));
    compile(&spec).unwrap_or_else(|d| panic!("{d}"))
}

/// Sessions of `minutes` at 60 % intensity, `per_week` a week at 09:00, thinned by adherence.
struct ToyProtocols;

fn fields(e: &ExerciseRef) -> Result<(f64, u32), String> {
    match e {
        ExerciseRef::Named(n) if n == "aerobic" => Ok((60.0, 3)),
        ExerciseRef::Named(n) => Err(format!("unknown protocol `{n}`")),
        ExerciseRef::Inline(t) => {
            let num = |k: &str, d: f64| {
                t.get(k).map_or(Ok(d), |v| {
                    v.as_float().or(v.as_integer().map(|i| i as f64)).ok_or(format!("`{k}` is not a number"))
                })
            };
            let minutes = num("minutes", 60.0)?;
            let per_week = num("sessions_per_week", 3.0)?;
            if !(minutes > 0.0 && minutes <= 600.0) {
                return Err(format!("minutes = {minutes}: must be in (0, 600]"));
            }
            Ok((minutes, per_week as u32))
        }
    }
}

impl ScheduleSource for ToyProtocols {
    fn to_table(&self, e: &ExerciseRef) -> Result<toml::Table, String> {
        let (m, s) = fields(e)?;
        let mut t = toml::Table::new();
        t.insert("minutes".into(), toml::Value::Float(m));
        t.insert("sessions_per_week".into(), toml::Value::Integer(i64::from(s)));
        Ok(t)
    }
    fn schedule(&self, model: &CompiledModel, e: &ExerciseRef, weeks: f64, adherence: f64) -> Result<Schedule, String> {
        let (minutes, per_week) = fields(e)?;
        let i = model.value_index("exercise_intensity").ok_or("no exercise input")?;
        let mut changes = Vec::new();
        let mut k = 0usize;
        for w in 0..weeks.ceil() as usize {
            for s in 0..per_week as usize {
                let start = ((w * 7 + s * 7 / per_week as usize) * 24) as f64 + 9.0;
                let done = ((k + 1) as f64 * adherence).floor() > (k as f64 * adherence).floor();
                k += 1;
                if done && start < weeks * 168.0 {
                    changes.push(InputChange { t: start, set: vec![(i, 0.6)] });
                    changes.push(InputChange { t: start + minutes / 60.0, set: vec![(i, 0.0)] });
                }
            }
        }
        Ok(Schedule::new(changes))
    }
}

const DESIGN: &str = r#"
name = "toy-trial"
model = "toy"
weeks = 6
visits_weeks = [0, 3, 6]
n = 37
comparisons = [["exercise", "control"]]
scales = ["hamd17"]
biomarkers = ["crp"]

[population]
variability = 0.5

[[population.subgroup]]
name = "inflamed"
fraction = 0.3
scale = { innate_immune_set = 2.0 }
source = { assumption = "test" }

[[inclusion]]
output = "hamd17"
min = 17

[rater_error]
sd = { hamd17 = 2.0 }
source = { assumption = "test" }

[[arm]]
name = "control"
[[arm.effect]]
name = "natural-course"
points = 3.0
sd_points = 2.0
onset_weeks = 2.0
source = { assumption = "test" }
[arm.dropout]
probability = 0.25
source = { assumption = "test" }

[[arm]]
name = "exercise"
exercise = "aerobic"
[arm.dropout]
probability = 0.18
per_point = 0.05
source = { evidence = ["OUT-17"] }
"#;

fn design() -> TrialSpec {
    TrialSpec::from_toml("toy design", DESIGN).unwrap()
}

fn run_with_threads(trial: &Trial<'_>, options: &TrialOptions, threads: usize) -> (String, MemoryStore) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let mut store = MemoryStore::default();
    let outcome = pool.install(|| trial.run(options, &mut store, &neurex_analysis::trial::NoProgress)).unwrap();
    let RunOutcome::Complete(report) = outcome else { panic!("incomplete") };
    (serde_json::to_string(&report).unwrap(), store)
}

fn bits(store: &dyn ChunkStore, chunks: u64) -> Vec<String> {
    (0..chunks).flat_map(|c| store.load(c).unwrap()).map(|r| record_bits(&r)).collect()
}

fn record_bits(r: &PatientRecord) -> String {
    let f = |x: f64| format!("{:016x}", x.to_bits());
    let vals: Vec<String> = r.values.iter().map(|&x| f(x)).collect();
    format!(
        "{} {:?} {} {} {} {} {} {} {} {} {} {}",
        r.index,
        r.status,
        r.screened,
        r.solver_failures,
        r.arm,
        r.subgroups,
        f(r.age),
        f(r.female),
        f(r.bmi),
        f(r.adherence),
        f(r.dropout_week),
        vals.join(",")
    )
}

#[test]
fn trial_is_bitwise_identical_on_1_and_2_threads() {
    let model = toy();
    let trial = Trial::new(&model, design(), &ToyProtocols).unwrap();
    let options = TrialOptions { seed: 7, chunk_size: 5, ..TrialOptions::default() };
    let (a, sa) = run_with_threads(&trial, &options, 1);
    let (b, sb) = run_with_threads(&trial, &options, 2);
    assert_eq!(a, b);
    assert_eq!(bits(&sa, 8), bits(&sb, 8));
    // The run did something: patients in both arms, an effect of exercise, drop-outs.
    let report: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(report["randomised"], 37);
    assert!(report["arms"][1]["hedges_g"].as_f64().is_some(), "{report}");
    assert!(report["arms"][1]["adherence"].as_f64().unwrap() > 0.5, "{report}");
}

#[test]
fn shards_merge_to_exactly_the_unsharded_run() {
    let model = toy();
    let trial = Trial::new(&model, design(), &ToyProtocols).unwrap();
    let whole = TrialOptions { seed: 3, chunk_size: 4, ..TrialOptions::default() };
    let (expected, all) = run_with_threads(&trial, &whole, 2);
    let mut s1 = MemoryStore::default();
    let mut s2 = MemoryStore::default();
    let np = neurex_analysis::trial::NoProgress;
    let r1 = trial.run(&TrialOptions { shard: (1, 2), ..whole.clone() }, &mut s1, &np).unwrap();
    let r2 = trial.run(&TrialOptions { shard: (2, 2), ..whole.clone() }, &mut s2, &np).unwrap();
    assert!(matches!(r1, RunOutcome::Partial { .. }) && matches!(r2, RunOutcome::Partial { .. }));
    assert!(s1.chunks.keys().all(|c| c % 2 == 0) && s2.chunks.keys().all(|c| c % 2 == 1));
    let merged = MergedStore { parts: vec![&s1, &s2] };
    let report = trial.report(&whole, &merged).unwrap();
    assert_eq!(serde_json::to_string(&report).unwrap(), expected);
    assert_eq!(bits(&merged, 10), bits(&all, 10));
}

#[test]
fn an_interrupted_run_resumes_without_losing_or_repeating_patients() {
    let model = toy();
    let trial = Trial::new(&model, design(), &ToyProtocols).unwrap();
    let options = TrialOptions { seed: 11, chunk_size: 5, ..TrialOptions::default() };
    let (expected, all) = run_with_threads(&trial, &options, 2);
    let mut store = MemoryStore::default();
    let np = neurex_analysis::trial::NoProgress;
    let first = trial.run(&TrialOptions { stop_after_chunks: Some(3), ..options.clone() }, &mut store, &np).unwrap();
    assert!(matches!(first, RunOutcome::Partial { stored: 3, total: 8 }), "{first:?}");
    let RunOutcome::Complete(report) = trial.run(&options, &mut store, &np).unwrap() else { panic!("incomplete") };
    assert_eq!(serde_json::to_string(&report).unwrap(), expected);
    assert_eq!(bits(&store, 8), bits(&all, 8));
}

#[test]
fn a_patient_is_reproducible_from_seed_and_index_alone() {
    let model = toy();
    let trial = Trial::new(&model, design(), &ToyProtocols).unwrap();
    let options = TrialOptions { seed: 5, chunk_size: 10, ..TrialOptions::default() };
    let (_, store) = run_with_threads(&trial, &options, 2);
    let stored = store.load(2).unwrap();
    let alone = trial.patient(5, 23);
    assert_eq!(record_bits(&alone), record_bits(&stored[3]));
    assert_ne!(record_bits(&trial.patient(6, 23)), record_bits(&alone));
    // With a larger trial, patient 23 is the same patient.
    let bigger = TrialOptions { n: Some(60), ..options };
    let (_, big) = run_with_threads(&trial, &bigger, 1);
    assert_eq!(record_bits(&big.load(2).unwrap()[3]), record_bits(&alone));
}

#[test]
fn bad_designs_give_errors_naming_the_field() {
    let model = toy();
    let cases: [(&str, &str, &str); 12] = [
        ("n = 37\n", "n = -3\n", "n"),
        ("weeks = 6\n", "weeks = 0\n", "weeks"),
        ("visits_weeks = [0, 3, 6]", "visits_weeks = [1, 3, 6]", "visits_weeks"),
        ("visits_weeks = [0, 3, 6]", "visits_weeks = [0, 6, 3]", "visits_weeks"),
        ("probability = 0.25", "probability = 1.5", "arm[0].dropout.probability"),
        ("source = { evidence = [\"OUT-17\"] }", "source = {}", "arm[1].dropout"),
        ("exercise = \"aerobic\"", "exercise = \"sprint\"", "arm[1].exercise"),
        ("output = \"hamd17\"", "output = \"hamd18\"", "inclusion[0].output"),
        ("fraction = 0.3", "fraction = 3.0", "population.subgroup[0].fraction"),
        ("innate_immune_set = 2.0", "innate_immun_set = 2.0", "population.subgroup[0].scale.innate_immun_set"),
        ("sd_points = 2.0", "sd_points = -2.0", "arm[0].effect[0].sd_points"),
        (
            "comparisons = [[\"exercise\", \"control\"]]",
            "comparisons = [[\"exercise\", \"placebo\"]]",
            "comparisons[0][1]",
        ),
    ];
    for (from, to, field) in cases {
        assert!(DESIGN.contains(from), "{from}");
        let text = DESIGN.replacen(from, to, 1);
        let err = TrialSpec::from_toml("bad.toml", &text)
            .map_err(|e| e.to_string())
            .and_then(|spec| Trial::new(&model, spec, &ToyProtocols).map(|_| ()).map_err(|e| e.to_string()));
        let msg = err.expect_err(to);
        assert!(msg.contains(field), "{to}: {msg}");
    }
    // Unknown fields and wrong types name the line.
    let err = TrialSpec::from_toml("bad.toml", &DESIGN.replacen("weeks = 6", "weeks = 6\nspeed = 3", 1))
        .unwrap_err()
        .to_string();
    assert!(err.contains("speed") && err.contains("line"), "{err}");
    let err =
        TrialSpec::from_toml("bad.toml", &DESIGN.replacen("weeks = 6", "weeks = \"six\"", 1)).unwrap_err().to_string();
    assert!(err.contains("line"), "{err}");
}

#[test]
fn presets_parse() {
    for name in neurex_analysis::trial::preset_names() {
        let d = TrialSpec::preset(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!d.arms.is_empty());
        for arm in &d.arms {
            for e in &arm.effects {
                assert!(
                    !e.source.evidence.is_empty() || e.source.assumption.is_some(),
                    "{name}/{}: {}",
                    arm.name,
                    e.name
                );
            }
        }
    }
}

#[test]
fn a_scan_and_an_attribution_and_a_prescription_run_on_the_toy_model() {
    use neurex_analysis::scan::{AxisSpec, ScanSpec, scan};
    let model = toy();
    let spec = ScanSpec {
        base: ExerciseRef::Named("aerobic".into()),
        axes: vec![AxisSpec {
            field: "minutes".into(),
            values: vec![toml::Value::Integer(15), toml::Value::Integer(60)],
        }],
        weeks: 4.0,
        patients: 6,
        population: Default::default(),
        ..ScanSpec::default()
    };
    let np = neurex_analysis::trial::NoProgress;
    let r = scan(&model, &spec, &ToyProtocols, 1, &np).unwrap();
    assert_eq!(r.points.len(), 2);
    // More minutes, more relief (a more negative effect).
    assert!(r.points[1].effect.mean < r.points[0].effect.mean && r.points[0].effect.mean < 0.0, "{r:?}");
    let bad = ScanSpec {
        axes: vec![AxisSpec { field: "minutes".into(), values: vec![toml::Value::Integer(-5)] }],
        ..spec.clone()
    };
    let err = scan(&model, &bad, &ToyProtocols, 1, &np).unwrap_err().to_string();
    assert!(err.contains("minutes = -5"), "{err}");

    use neurex_analysis::prescribe::{PrescribeSpec, prescribe};
    let p = PrescribeSpec {
        known: [("hamd17".to_string(), 24.0), ("crp".to_string(), 2.0)].into_iter().collect(),
        candidates: vec![
            ExerciseRef::Named("aerobic".into()),
            ExerciseRef::Inline(toml::Table::from_iter([("minutes".to_string(), toml::Value::Integer(20))])),
        ],
        weeks: 4.0,
        pool: 30,
        population: Default::default(),
        ..PrescribeSpec::default()
    };
    let r = prescribe(&model, &p, &ToyProtocols, 2, &np).unwrap();
    assert_eq!(r.ranking[0].protocol, "aerobic");
    assert!(r.ranking[0].interval[0] <= r.ranking[0].predicted && r.ranking[0].predicted <= r.ranking[0].interval[1]);
    assert!(r.effective_sample_size >= 1.0);
}

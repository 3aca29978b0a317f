//! Evidence and validation (issue 3): every seed claim encoded with the right sign, every coupling
//! sign checked numerically, the validation ratchet, and the seed's qualitative findings.

use neurex::evidence::Registry;
use neurex::model::CompiledModel;
use neurex::validation::claims::{ClaimsFile, check_claims, coupling_sign_problems};
use neurex::validation::{
    PASSING, RunOptions, Runner, TargetSpec, ValidationFile, ValidationReport, passing_ids, regressions,
};
use std::sync::OnceLock;

fn model() -> &'static CompiledModel {
    static M: OnceLock<CompiledModel> = OnceLock::new();
    M.get_or_init(|| neurex::reference_model().unwrap_or_else(|e| panic!("{e}")))
}

fn run_toml(text: &str) -> ValidationReport {
    let file = ValidationFile::parse("test", text).unwrap_or_else(|e| panic!("{e}"));
    Runner::new(model()).run(&file.targets, &RunOptions::default())
}

#[test]
fn every_seed_claim_is_encoded_by_an_element_whose_sign_agrees() {
    let spec = neurex::reference_spec().unwrap();
    let file = ClaimsFile::embedded();
    let results = check_claims(&spec, model(), &file).unwrap_or_else(|e| panic!("{e}"));
    let registry = Registry::embedded();
    let mut problems = Vec::new();
    for claim in registry.seed_claims() {
        match results.iter().find(|r| r.id == claim.id) {
            None => problems.push(format!("{}: no entry in validation/claims.toml", claim.id)),
            Some(r) if !r.encoded => {
                problems.push(format!("{}: no check passes on a citing element: {:#?}", r.id, r.checks))
            }
            Some(_) => {}
        }
    }
    // C4.4 is uncertain in the claims and is marked so.
    assert!(results.iter().any(|r| r.id == "C4.4" && r.uncertain), "C4.4 must be marked uncertain");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_coupling_sign_agrees_with_the_equations() {
    let spec = neurex::reference_spec().unwrap();
    let problems = coupling_sign_problems(&spec, model()).unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn validation_targets_cite_known_ids_and_cover_the_required_systems() {
    let registry = Registry::embedded();
    let file = ValidationFile::embedded();
    let mut unknown = Vec::new();
    for t in &file.targets {
        for id in t.evidence_ids() {
            if !registry.knows(&id) {
                unknown.push(format!("{}: {id}", t.id));
            }
        }
    }
    assert!(unknown.is_empty(), "unknown evidence ids: {unknown:?}");
    let registry_targets = file.targets.iter().filter(|t| !t.id.starts_with('C')).count();
    assert!(registry_targets >= 40, "only {registry_targets} registry targets");
    for prefix in ["OUT-", "S1-", "S2-", "S3-", "S4-", "S5-", "ROD-", "SCL-"] {
        assert!(file.targets.iter().any(|t| t.id.starts_with(prefix)), "no {prefix} target");
    }
    for p in &file.positions {
        for t in &p.targets {
            assert!(file.targets.iter().any(|x| &x.id == t), "position {} names unknown target {t}", p.id);
        }
    }
    assert_eq!(file.positions.len(), 11, "one position per item of 'Where sources disagree'");
}

/// The ratchet: every target on validation/passing.txt still passes.
#[test]
fn no_previously_passing_target_fails() {
    let file = ValidationFile::embedded();
    let report = Runner::new(model()).run(&file.targets, &RunOptions::default());
    let lost = regressions(&report, &passing_ids(PASSING));
    let misses: Vec<String> = report
        .results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| format!("{} published {} model {}", r.id, r.published, r.simulated))
        .collect();
    eprintln!("{} of {} targets pass; misses:\n{}", report.passed, report.total, misses.join("\n"));
    assert!(lost.is_empty(), "targets that passed before and fail now: {lost:?}");
}

/// C2.6: the BDNF (neurotrophic) pathway carries the largest share of the 12-week effect.
#[test]
fn the_bdnf_pathway_carries_the_largest_share_of_the_antidepressant_effect() {
    let systems = [
        ("neurotrophic_deficit", "severity_weight_neurotrophic"),
        ("monoamine_deficit", "severity_weight_monoamine"),
        ("hpa_deficit", "severity_weight_hpa"),
        ("immune_deficit", "severity_weight_immune"),
        ("structural_deficit", "severity_weight_structure"),
    ];
    let mut text = String::new();
    for k in 0..systems.len() {
        let mut order: Vec<usize> = vec![k];
        order.extend((0..systems.len()).filter(|&j| j != k));
        let readouts: Vec<String> = order.iter().map(|&j| format!("\"{}\"", systems[j].0)).collect();
        let weights: Vec<String> = order.iter().map(|&j| format!("\"{}\"", systems[j].1)).collect();
        text.push_str(&format!(
            "[[target]]\nid = \"{}\"\nspecies = \"human\"\nquantity = \"share\"\ncomparison = \"share\"\nreadouts = [{}]\nweights = [{}]\npublished = 0\nband = [0, 1]\nband_source = \"-\"\ntreatment = {{ protocol = \"aerobic-3x\", step = \"6 h\" }}\n\n",
            systems[k].0,
            readouts.join(", "),
            weights.join(", ")
        ));
    }
    let report = run_toml(&text);
    let shares: Vec<(String, f64)> = report.results.iter().map(|r| (r.id.clone(), r.simulated)).collect();
    eprintln!("shares of the 12-week HAM-D effect: {shares:?}");
    let total: f64 = shares.iter().map(|s| s.1).sum();
    assert!((total - 1.0).abs() < 1e-6, "shares sum to {total}");
    let (best, _) = shares.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    assert_eq!(best, "neurotrophic_deficit", "C2.6: {shares:?}");
}

/// C4.3: one moderate bout leaves IL-6, TNF-alpha and CRP unchanged in depressed patients, while
/// 12 weeks of training lower TNF-alpha and CRP.
#[test]
fn acute_exercise_leaves_cytokines_unchanged_while_training_lowers_tnf_and_crp() {
    let file = ValidationFile::embedded();
    let acute: Vec<TargetSpec> = file.targets.iter().filter(|t| t.id.starts_with("C4.3/")).cloned().collect();
    assert_eq!(acute.len(), 3);
    let report = Runner::new(model()).run(&acute, &RunOptions::default());
    for r in &report.results {
        assert!(r.passed, "{}: {} % vs no exercise (band {:?})", r.id, r.simulated, r.band);
    }
    let chronic = run_toml(
        "[[target]]\nid = \"tnf\"\nspecies = \"human\"\nquantity = \"TNF\"\ncomparison = \"percent_change\"\nreadout = \"tnf_alpha\"\npublished = -10\nband = [-100, 0]\nband_source = \"-\"\ntreatment = { protocol = \"aerobic-3x\", step = \"6 h\" }\n\n\
         [[target]]\nid = \"crp\"\nspecies = \"human\"\nquantity = \"CRP\"\ncomparison = \"percent_change\"\nreadout = \"crp\"\npublished = -10\nband = [-100, 0]\nband_source = \"-\"\ntreatment = { protocol = \"aerobic-3x\", step = \"6 h\" }\n",
    );
    for r in &chronic.results {
        assert!(r.simulated < -2.0, "{} after 12 weeks: {:+.1} % vs no exercise", r.id, r.simulated);
    }
}

/// C3.4: GH rises markedly after an acute bout, and still does after 12 weeks of training.
#[test]
fn growth_hormone_rises_acutely_and_the_response_persists_at_twelve_weeks() {
    // aerobic-3x: first session day 0 at 09:00; last session of week 12 on day 81 (Friday) at 09:00.
    let target = |id: &str, from: &str, to: &str| {
        format!(
            "[[target]]\nid = \"{id}\"\nspecies = \"human\"\nquantity = \"GH rise\"\ncomparison = \"difference\"\nreadout = \"growth_hormone\"\npublished = 1\nband = [0.5, 100]\nband_source = \"-\"\ntreatment = {{ protocol = \"aerobic-3x\", step = \"5 min\" }}\nsample = {{ window = [\"{from}\", \"{to}\"], stat = \"max\" }}\n\n"
        )
    };
    let report = run_toml(&(target("first", "9 h", "11 h") + &target("last", "1953 h", "1955 h")));
    let (first, last) = (report.results[0].simulated, report.results[1].simulated);
    assert!(first > 1.0, "GH rise in the first session: {first} ug/L");
    assert!(last > 0.5 * first, "GH rise in the last session {last} vs first {first} (C3.4: persists)");
}

//! The SBML Test Suite's semantic cases, run in place from `../shared/sbml-test-suite`, against
//! the committed list of passing cases (the ratchet): a case that passed must keep passing.

use neurex_sbml::suite::{self, Baseline};
use std::path::{Path, PathBuf};

fn suite_dir() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("../shared/sbml-test-suite");
    dir.join("cases").is_dir().then_some(dir)
}

#[test]
fn sbml_semantic_suite_does_not_regress() {
    let Some(dir) = suite_dir() else {
        eprintln!("skipping: the shared SBML test suite (../shared/sbml-test-suite) is not present");
        return;
    };
    let report = suite::run(&dir);
    println!("{report}");
    let baseline_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sbml_passing.txt");
    if let Ok(out) = std::env::var("NEUREX_WRITE_SBML_PASSING") {
        let target = if out.is_empty() || out == "1" { baseline_path.clone() } else { PathBuf::from(out) };
        std::fs::write(&target, Baseline::render(&report.passing())).unwrap();
        println!("wrote {}", target.display());
    }
    assert_eq!(
        report.panics,
        0,
        "panics: {:?}",
        report.cases.iter().filter(|c| c.panicked).map(|c| (&c.id, &c.reason)).collect::<Vec<_>>()
    );
    let baseline = Baseline::load(&baseline_path);
    let regressions = report.newly_failing(&baseline);
    assert!(
        regressions.is_empty(),
        "{} case(s) that passed now fail:\n{}",
        regressions.len(),
        regressions.iter().map(|c| format!("  {}: {}", c.id, c.reason)).collect::<Vec<_>>().join("\n")
    );
    // Unsupported cases fail with the feature named.
    for c in report.cases.iter().filter(|c| c.result == suite::Outcome::Unsupported) {
        assert!(c.reason.starts_with("unsupported: "), "{}: {}", c.id, c.reason);
    }
}

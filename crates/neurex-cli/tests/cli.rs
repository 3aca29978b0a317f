//! Drives the real `neurex` binary: the default run, outputs, and every kind of bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn neurex(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neurex")).args(args).current_dir(dir).output().expect("the binary runs")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// Runs a command that must fail: non-zero exit, a message containing every `needles`, and
/// no output file left in `dir` beyond what was there.
fn fails(args: &[&str], dir: &Path, needles: &[&str]) {
    let before = files_in(dir);
    let o = neurex(args, dir);
    let (out, err) = text(&o);
    assert!(!o.status.success(), "{args:?} succeeded:\n{out}");
    assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: message lacks `{n}`:\n{err}");
    }
    assert_eq!(files_in(dir), before, "{args:?} left files behind");
}

#[test]
fn default_run_prints_the_summary_and_json_has_the_fields() {
    let dir = tempfile::tempdir().unwrap();
    let o = neurex(&[], dir.path());
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    for word in ["aerobic-3x", "depressed", "hamd17", "madrs", "bdi2", "phq9", "cortisol", "serum_bdnf"] {
        assert!(out.contains(word), "summary lacks {word}:\n{out}");
    }
    let o = neurex(&["simulate", "--json", "--weeks", "2"], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let h = &v["variables"]["hamd17"];
    for f in ["baseline", "end", "control_end"] {
        assert!(h[f].is_f64(), "hamd17.{f} missing: {h}");
    }
}

#[test]
fn writes_csv_parquet_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let o = neurex(&["simulate", "--weeks", "1", "--out", "run.csv", "--plot", "run.svg"], dir.path());
    assert!(o.status.success(), "{}", text(&o).1);
    let csv = std::fs::read_to_string(dir.path().join("run.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("time_h,") && header.contains(",cortisol,") && header.contains("hamd17"), "{header}");
    assert_eq!(csv.lines().count(), 1 + 169, "hourly rows for one week");
    assert!(std::fs::read_to_string(dir.path().join("run.svg")).unwrap().contains("<svg"));
    let o = neurex(&["simulate", "--weeks", "1", "--out", "run.parquet", "--columns", "hamd17,cortisol"], dir.path());
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(std::fs::metadata(dir.path().join("run.parquet")).unwrap().len() > 0);
}

#[test]
fn malformed_model_file_names_file_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[model]\nid = \"m\"\n\n[[state]]\nid = \"x\"\ninitial = 1\nrate = \"-k * x\"\n",
    )
    .unwrap();
    fails(
        &["simulate", "--model", "bad.toml", "--protocol", "none", "--out", "o.csv"],
        dir.path(),
        &["bad.toml:7:", "unknown symbol `k`"],
    );
    std::fs::write(dir.path().join("syntax.toml"), "[model]\nid = \"m\"\n[[parameter]]\nid = \"k\"\nvalue = \n")
        .unwrap();
    fails(&["check", "syntax.toml"], dir.path(), &["syntax.toml:5:"]);
    std::fs::write(
        dir.path().join("expr.toml"),
        "[model]\nid = \"m\"\n[[state]]\nid = \"x\"\ninitial = 1\nrate = \"(x + \"\n",
    )
    .unwrap();
    fails(&["check", "expr.toml"], dir.path(), &["expr.toml:6:", "bad expression"]);
}

#[test]
fn malformed_protocols_and_impossible_doses_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    fails(
        &["simulate", "--protocol", "marathon-daily", "--out", "o.csv"],
        dir.path(),
        &["unknown protocol `marathon-daily`", "aerobic-3x"],
    );
    for (body, needle) in [
        ("minutes = -30\nsessions_per_week = 3\n", "minutes"),
        ("minutes = 30\nsessions_per_week = 3\nintensity = \"NaN% VO2max\"\n", "intensity"),
        ("minutes = 30\nsessions_per_week = 3\nintensity = \"300% VO2max\"\n", "intensity"),
        ("minutes = 30\nsessions_per_week = 3\nintesity = \"60% VO2max\"\n", "intesity"),
        ("minutes = 30\nsessions_per_week = \"three\"\n", "line 2"),
    ] {
        std::fs::write(dir.path().join("p.toml"), body).unwrap();
        fails(&["simulate", "--protocol", "p.toml", "--out", "o.csv"], dir.path(), &["p.toml", needle]);
    }
    fails(&["simulate", "--weeks", "-2", "--out", "o.csv"], dir.path(), &["weeks"]);
    fails(&["simulate", "--weeks", "NaN", "--out", "o.csv"], dir.path(), &["weeks"]);
}

#[test]
fn unknown_names_are_refused_with_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    fails(
        &["simulate", "--columns", "cortisl", "--out", "o.csv"],
        dir.path(),
        &["unknown variable `cortisl`", "cortisol"],
    );
    fails(&["simulate", "--param", "no_such_parameter=1", "--out", "o.csv"], dir.path(), &["no_such_parameter"]);
    fails(
        &["simulate", "--phenotype", "anxious", "--out", "o.csv"],
        dir.path(),
        &["unknown phenotype `anxious`", "depressed"],
    );
    fails(&["simulate", "--out", "o.xlsx"], dir.path(), &[".csv"]);
}

#[test]
fn a_model_the_solver_cannot_integrate_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let blow_up = repo().join("models/fixtures/blow_up.toml");
    let before = files_in(dir.path());
    let o = neurex(
        &[
            "simulate",
            "--model",
            blow_up.to_str().unwrap(),
            "--phenotype",
            "healthy",
            "--protocol",
            "none",
            "--out",
            "o.csv",
        ],
        dir.path(),
    );
    let (_, err) = text(&o);
    assert!(!o.status.success() && !err.contains("panicked"), "{err}");
    assert!(err.contains("t = "), "the message says when: {err}");
    assert_eq!(files_in(dir.path()), before);
}

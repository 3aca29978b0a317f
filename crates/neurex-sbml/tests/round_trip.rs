//! Round trips: SBML → neurex → SBML → neurex simulates the same, and what the importer must
//! refuse it refuses by name; XML is parsed safely.

use neurex_model::compile;
use neurex_sbml::{ExportOptions, export, import, import_full};
use neurex_solve::{DenseRecorder, Schedule, SolverSettings, simulate};
use std::path::Path;

fn run(spec: &neurex_model::ModelSpec, end: f64) -> (Vec<String>, DenseRecorder) {
    let model = compile(spec).unwrap_or_else(|d| panic!("{d}"));
    let times: Vec<f64> = (0..=50).map(|k| end * k as f64 / 50.0).collect();
    let mut p = model.p0.clone();
    let mut ws = model.workspace();
    let y0 = model.initial_state(0.0, &mut p, &mut ws);
    let mut rec = DenseRecorder::default();
    let s = SolverSettings { rtol: 1e-9, atol: 1e-12, ..SolverSettings::default() };
    simulate(&model, &p, &y0, 0.0, &times, &Schedule::empty(), &s, &mut rec).unwrap_or_else(|e| panic!("{e}"));
    (model.outputs.iter().map(|o| o.id.clone()).collect(), rec)
}

#[test]
fn biomodels_survive_an_sbml_round_trip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/science/sbml-models");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        eprintln!("skipping: {} is not present", dir.display());
        return;
    };
    let mut files: Vec<_> =
        rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "xml")).collect();
    files.sort();
    assert!(!files.is_empty());
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let spec = import(&std::fs::read_to_string(&f).unwrap()).unwrap_or_else(|d| panic!("{name}: {d}"));
        let xml = export(&spec, &ExportOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let back = import(&xml).unwrap_or_else(|d| panic!("{name} (re-imported): {d}\n{xml}"));
        let (ids_a, a) = run(&spec, 50.0);
        let (ids_b, b) = run(&back, 50.0);
        for (j, id) in ids_a.iter().enumerate() {
            let k =
                ids_b.iter().position(|x| x == id).unwrap_or_else(|| panic!("{name}: `{id}` lost in the round trip"));
            for (ra, rb) in a.rows.iter().zip(&b.rows) {
                let (x, y) = (ra[j], rb[k]);
                assert!((x - y).abs() <= 1e-9 + 1e-7 * y.abs(), "{name}: `{id}` {x} vs {y}");
            }
        }
    }
}

const MINIMAL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="m">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies><species id="S" compartment="c" initialAmount="1" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
    BODY
  </model>
</sbml>"#;

fn with(body: &str) -> String {
    MINIMAL.replace("BODY", body)
}

#[test]
fn unsupported_features_are_refused_by_name() {
    let math = r#"<math xmlns="http://www.w3.org/1998/Math/MathML"><ci>S</ci></math>"#;
    let cases = [
        (format!("<listOfRules><algebraicRule>{math}</algebraicRule></listOfRules>"), "unsupported: algebraic rule"),
        (
            format!(
                r#"<listOfReactions><reaction id="r" reversible="false" fast="true"><listOfReactants><speciesReference species="S" stoichiometry="1" constant="true"/></listOfReactants><kineticLaw>{math}</kineticLaw></reaction></listOfReactions>"#
            ),
            "unsupported: fast reaction",
        ),
        (
            r#"<listOfParameters><parameter id="p" constant="false"/></listOfParameters><listOfRules><assignmentRule variable="p"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/delay">delay</csymbol><ci>S</ci><cn>1</cn></apply></math></assignmentRule></listOfRules>"#.to_string(),
            "unsupported: delay()",
        ),
        (
            r#"<comp:listOfSubmodels xmlns:comp="http://www.sbml.org/sbml/level3/version1/comp/version1"><comp:submodel comp:id="a" comp:modelRef="b"/></comp:listOfSubmodels>"#.to_string(),
            "unsupported: comp package",
        ),
    ];
    for (body, want) in cases {
        let err = import(&with(&body)).unwrap_err().to_string();
        assert!(err.contains(want), "{want}: got {err}");
    }
    // The element is named too.
    let err = import(&with(&cases_fast())).unwrap_err().to_string();
    assert!(err.contains("reaction `r`"), "{err}");
}

fn cases_fast() -> String {
    r#"<listOfReactions><reaction id="r" reversible="false" fast="true"><kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><cn>1</cn></math></kineticLaw></reaction></listOfReactions>"#.to_string()
}

#[test]
fn xml_is_parsed_safely() {
    // Entity expansion ("billion laughs") is refused: DTDs are not allowed at all.
    let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model id="m" name="&lol2;"/></sbml>"#;
    let err = import(bomb).unwrap_err().to_string();
    assert!(err.contains("not well-formed XML") || err.contains("DTD"), "{err}");
    // External entities likewise.
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><sbml level="3" version="2"><model id="&e;"/></sbml>"#;
    assert!(import(xxe).is_err());
    // Not SBML.
    assert!(import("<html/>").unwrap_err().to_string().contains("not <sbml>"));
    assert!(import("not xml").is_err());
}

#[test]
fn ids_clashing_with_reserved_names_are_renamed() {
    let body = r#"<listOfParameters><parameter id="time" value="2" constant="true"/><parameter id="x" constant="false"/></listOfParameters>
<listOfRules><assignmentRule variable="x"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>time</ci><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol></apply></math></assignmentRule></listOfRules>"#;
    let im = import_full(&with(body)).unwrap();
    assert_eq!(im.neurex_id("time"), "time_");
    let rule = &im.spec.rules[0];
    assert_eq!(rule.math.text, "time_ * time");
}

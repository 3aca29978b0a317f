//! Native code computes what the interpreter computes: the right-hand side to rounding, and the
//! Jacobian-vector product to rounding.

use neurex_model::{CompiledModel, compile, parse_model_str};

const MODEL: &str = r#"
[model]
id = "all_functions"
[[function]]
id = "sat"
args = ["x", "k"]
math = "x / (k + x)"
[[parameter]]
id = "k"
value = 0.7
[[parameter]]
id = "n"
value = 2.0
[[parameter]]
id = "q"
value = 1.5
[[state]]
id = "a"
initial = 1.2
rate = "-k * a + sat(b, 0.5) + piecewise(1, time > 3, 0.5 * a, a < 1, 0) + hill(b, 1, n)"
[[state]]
id = "b"
initial = 0.8
rate = "exp(-a) - ln(1 + b) * sqrt(b) + sin(a) * cos(b) - tan(0.1 * a) + abs(a - b) + max(a, b) - min(a, 2 * b)"
[[state]]
id = "c"
initial = 2.0
rate = "a ^ n - b ^ q + c ^ a / 10 + a ^ 2 - b ^ 3 + c ^ -1 + (a + b) ^ 5 - c ^ 0 + b ^ 0.5 + log10(c) + log(2, c) + root(3, c) + floor(c) + atanh_like"
[[variable]]
id = "atanh_like"
math = "atan(a) + asin(0.5 * b / (1 + b)) + acos(0.2) + sinh(0.1 * c) - cosh(0.1 * a) + tanh(b) + (a > b && b >= 0.1 || !(c == 2)) + factorial(3) - sec(a) + csc(1 + b) - cot(1 + c)"
"#;

fn model() -> CompiledModel {
    compile(&parse_model_str("m.toml", MODEL).unwrap_or_else(|d| panic!("{d}"))).unwrap_or_else(|d| panic!("{d}"))
}

#[test]
fn native_right_hand_side_and_jacobian_match_the_interpreter() {
    let interp = model();
    let mut native = model();
    neurex_jit::accelerate(&mut native).unwrap();
    let mut ws = interp.workspace();
    let n = interp.states.len();
    let states = [[1.2, 0.8, 2.0], [0.3, 2.5, 0.7], [0.9, 0.9, 3.1]];
    for (k, y) in states.iter().enumerate() {
        for t in [0.0, 2.0, 4.0] {
            let (mut d1, mut d2) = (vec![0.0; n], vec![0.0; n]);
            interp.rhs(t, y, &interp.p0, &mut d1, &mut ws);
            native.rhs(t, y, &native.p0, &mut d2, &mut ws);
            for i in 0..n {
                assert!(
                    (d1[i] - d2[i]).abs() <= 1e-13 * d1[i].abs().max(1.0),
                    "rhs {i} at state {k}, t {t}: {} vs {}",
                    d1[i],
                    d2[i]
                );
            }
            for dir in 0..n {
                let mut v = vec![0.0; n];
                v[dir] = 1.0;
                v[(dir + 1) % n] = 0.5;
                let (mut j1, mut j2) = (vec![0.0; n], vec![0.0; n]);
                interp.jvp(t, y, &interp.p0, &v, &mut j1, &mut ws);
                native.jvp(t, y, &native.p0, &v, &mut j2, &mut ws);
                for i in 0..n {
                    assert!(
                        (j1[i] - j2[i]).abs() <= 1e-12 * j1[i].abs().max(1.0),
                        "jvp {i} dir {dir}: {} vs {}",
                        j1[i],
                        j2[i]
                    );
                }
            }
        }
    }
}

#[test]
fn native_roots_and_outputs_match_the_interpreter() {
    use neurex_model::NativeCode;
    let interp = model();
    assert!(interp.n_roots >= 2, "the test model has piecewise conditions");
    let code = neurex_jit::compile_native(&interp).unwrap();
    let mut ws = interp.workspace();
    let p = &interp.p0;
    for y in [[1.2, 0.8, 2.0], [0.3, 2.5, 0.7], [0.9, 0.9, 3.1]] {
        for t in [0.0, 2.0, 4.0] {
            let (mut r1, mut r2) = (vec![0.0; interp.n_roots], vec![f64::NAN; interp.n_roots]);
            interp.roots(t, &y, p, &mut r1, &mut ws);
            assert!(code.roots(t, &y, p, &mut r2), "the root functions compile");
            assert_eq!(r1, r2, "roots at {y:?}, t {t}");
            let m = interp.outputs.len();
            let (mut o1, mut o2) = (vec![0.0; m], vec![f64::NAN; m]);
            interp.observe(t, &y, p, &mut o1, &mut ws);
            assert!(code.observe(t, &y, p, &mut o2), "the outputs compile");
            for i in 0..m {
                assert!(
                    (o1[i] - o2[i]).abs() <= 1e-13 * o1[i].abs().max(1.0),
                    "output `{}`: {} vs {}",
                    interp.outputs[i].id,
                    o1[i],
                    o2[i]
                );
            }
        }
    }
}

#[test]
fn native_jacobian_equals_the_jacobian_vector_products_column_by_column() {
    let interp = model();
    let mut native = model();
    neurex_jit::accelerate(&mut native).unwrap();
    let mut ws = interp.workspace();
    let n = interp.states.len();
    let p = &interp.p0;
    for y in [[1.2, 0.8, 2.0], [0.3, 2.5, 0.7], [0.9, 0.9, 3.1]] {
        for t in [0.0, 2.0, 4.0] {
            let mut jac = vec![f64::NAN; n * n];
            assert!(native.has_native_jacobian() && native.jacobian(t, &y, p, &mut jac), "the Jacobian compiles");
            for c in 0..n {
                let mut v = vec![0.0; n];
                v[c] = 1.0;
                let mut col = vec![0.0; n];
                interp.jvp(t, &y, p, &v, &mut col, &mut ws);
                for i in 0..n {
                    let j = jac[c * n + i];
                    assert!(
                        (col[i] - j).abs() <= 1e-12 * col[i].abs().max(1.0),
                        "∂f{i}/∂y{c} at {y:?}, t {t}: {} (jvp) vs {j}",
                        col[i]
                    );
                }
            }
        }
    }
    assert!(!interp.jacobian(0.0, &[1.0, 1.0, 1.0], p, &mut vec![0.0; n * n]), "no native code, no Jacobian");
}

#[test]
fn native_event_triggers_and_thresholds_match_the_interpreter() {
    use neurex_model::NativeCode;
    const EVENTS: &str = r#"
[model]
id = "events"
[[parameter]]
id = "n"
value = 1.0
constant = false
[[variable]]
id = "t_on"
math = "2 + 3 * floor(n / 2)"
[[state]]
id = "y"
initial = 0.2
rate = "1 - y"
[[event]]
id = "session"
trigger = "time >= t_on && n < 3"
assignments = [{ variable = "n", math = "n + 1" }]
[[event]]
id = "high"
trigger = "y > 0.5"
assignments = [{ variable = "y", math = "0" }]
"#;
    let m = compile(&parse_model_str("events.toml", EVENTS).unwrap_or_else(|d| panic!("{d}")))
        .unwrap_or_else(|d| panic!("{d}"));
    assert!(m.events[0].time_threshold.is_some() && m.events[1].time_threshold.is_none());
    let code = neurex_jit::compile_native(&m).unwrap();
    let mut ws = m.workspace();
    for (t, y, n) in [(0.0, 0.2, 1.0), (2.0, 0.7, 1.0), (6.5, 0.4, 2.0), (9.0, 0.9, 3.0)] {
        let mut p = m.p0.clone();
        p[m.value_index("n").unwrap()] = n;
        let mut interp = Vec::new();
        m.event_triggers(t, &[y], &p, &mut interp, &mut ws);
        let mut native = vec![f64::NAN; 2];
        assert!(code.triggers(t, &[y], &p, &mut native), "the triggers compile");
        assert_eq!(interp, native.iter().map(|&v| v != 0.0).collect::<Vec<_>>(), "triggers at t {t}");
        let mut th = vec![0.0; 2];
        m.event_thresholds(t, &[y], &p, &mut th, &mut ws);
        let mut th_native = vec![0.0; 2];
        assert!(code.thresholds(t, &[y], &p, &mut th_native), "the thresholds compile");
        assert_eq!(th[0], th_native[0]);
        assert_eq!(th[0], 2.0 + 3.0 * (n / 2.0f64).floor());
        assert!(th[1].is_nan() && th_native[1].is_nan(), "no threshold for a state trigger");
    }
}

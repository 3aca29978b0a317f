//! Prints the size of the reference model's compiled right-hand side.
fn main() {
    let m = neurex::reference_model().expect("compiles");
    let (a, r) = m.program_sizes();
    println!(
        "states {}, values {}, assigned {}, ops: assignments {a}, rates {r}",
        m.states.len(),
        m.values.len(),
        m.assigned.len()
    );
}

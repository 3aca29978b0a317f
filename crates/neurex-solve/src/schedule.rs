//! Known-time discontinuities: changes of model values (exercise on/off, drug doses) at
//! fixed times. The engine stops exactly at each and restarts the integrator cleanly.

/// Set some values at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct InputChange {
    /// When.
    pub t: f64,
    /// (index into the model's values, new value).
    pub set: Vec<(usize, f64)>,
}

/// Input changes in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schedule {
    changes: Vec<InputChange>,
}

impl Schedule {
    /// A schedule from changes in any order (stable for equal times).
    pub fn new(mut changes: Vec<InputChange>) -> Self {
        changes.sort_by(|a, b| a.t.total_cmp(&b.t));
        Schedule { changes }
    }
    /// No changes.
    pub fn empty() -> Self {
        Schedule::default()
    }
    /// The changes, in time order.
    pub fn changes(&self) -> &[InputChange] {
        &self.changes
    }
}

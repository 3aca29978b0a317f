//! Where outputs go: a sink called at each requested time, so that callers can stream to disk
//! or keep only summaries instead of holding whole trajectories.

/// Receives output values at requested times.
pub trait Recorder {
    /// Called once per requested output time with the values of the model's outputs.
    fn record(&mut self, t: f64, values: &[f64]);
    /// Called when an event executes (default: ignored).
    fn event(&mut self, _t: f64, _event_id: &str) {}
}

/// Keeps every output in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DenseRecorder {
    /// Output times.
    pub times: Vec<f64>,
    /// One row per time, one column per output.
    pub rows: Vec<Vec<f64>>,
}

impl Recorder for DenseRecorder {
    fn record(&mut self, t: f64, values: &[f64]) {
        self.times.push(t);
        self.rows.push(values.to_vec());
    }
}

impl DenseRecorder {
    /// The time series of one output column.
    pub fn column(&self, j: usize) -> Vec<f64> {
        self.rows.iter().map(|r| r[j]).collect()
    }
}

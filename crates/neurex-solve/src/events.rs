//! SBML event semantics: firing on false→true trigger transitions, delays, priorities,
//! persistence, values from trigger or execution time, and cascades at one time point.

use crate::recorder::Recorder;
use crate::settings::{SolveError, SolverSettings};
use neurex_model::compile::{Target, program::Program};
use neurex_model::{CompiledModel, Workspace};

struct Queued {
    event: usize,
    time: f64,
    values: Option<Vec<f64>>,
    seq: u64,
}

/// The trigger history and queue of fired-but-not-executed events.
pub(crate) struct EventState {
    prev: Vec<bool>,
    pending: Vec<Queued>,
    seq: u64,
    out: Vec<f64>,
    now: Vec<bool>,
    thresholds: Vec<f64>,
}

fn eval1(
    model: &CompiledModel,
    prog: &Program,
    t: f64,
    y: &[f64],
    p: &[f64],
    ws: &mut Workspace,
    out: &mut [f64],
) -> f64 {
    model.eval_event_program(prog, t, y, p, out, ws);
    out[0]
}

impl EventState {
    pub(crate) fn new(model: &CompiledModel) -> Self {
        let n_out = model.events.iter().map(|e| e.targets.len()).max().unwrap_or(0).max(1);
        EventState {
            prev: model.events.iter().map(|e| e.initial_value).collect(),
            pending: Vec::new(),
            seq: 0,
            out: vec![0.0; n_out],
            now: Vec::new(),
            thresholds: Vec::new(),
        }
    }

    /// Earliest time a delayed event is due.
    pub(crate) fn next_due(&self) -> Option<f64> {
        self.pending.iter().map(|q| q.time).min_by(f64::total_cmp)
    }

    /// The earliest time after `t` at which a `time >= X` trigger that is now false becomes true.
    pub(crate) fn next_time_trigger(
        &mut self,
        model: &CompiledModel,
        t: f64,
        y: &[f64],
        p: &[f64],
        ws: &mut Workspace,
    ) -> Option<f64> {
        if !model.events.iter().any(|e| e.time_threshold.is_some()) {
            return None;
        }
        self.thresholds.resize(model.events.len(), f64::NAN);
        model.event_thresholds(t, y, p, &mut self.thresholds, ws);
        let mut next: Option<f64> = None;
        for i in 0..model.events.len() {
            let x = self.thresholds[i];
            if self.prev[i] || !(x > t && x.is_finite()) || next.is_some_and(|n| n <= x) {
                continue;
            }
            // The other conditions of the trigger do not change before the next event either:
            // skip a threshold at which the trigger would stay false.
            model.event_triggers(x, y, p, &mut self.now, ws);
            if self.now[i] {
                next = Some(x);
            }
        }
        next
    }

    /// True if evaluating the triggers at `(t, y, p)` would change any of them.
    pub(crate) fn would_change(
        &mut self,
        model: &CompiledModel,
        t: f64,
        y: &[f64],
        p: &[f64],
        ws: &mut Workspace,
    ) -> bool {
        model.event_triggers(t, y, p, &mut self.now, ws);
        self.now.iter().zip(&self.prev).any(|(now, prev)| now != prev)
    }

    /// True if any event has a trigger at all.
    pub(crate) fn any(&self) -> bool {
        !self.prev.is_empty()
    }

    /// Carry out everything that happens at `t`. Triggers are first evaluated at `probe`
    /// (a point just after a located root), then at `(t, y, p)` after each execution.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn process(
        &mut self,
        model: &CompiledModel,
        t: f64,
        y: &mut [f64],
        p: &mut [f64],
        ws: &mut Workspace,
        settings: &SolverSettings,
        recorder: &mut dyn Recorder,
        probe: Option<(f64, &[f64])>,
    ) -> Result<usize, SolveError> {
        if !self.any() {
            return Ok(0);
        }
        let mut ready: Vec<Queued> = Vec::new();
        let mut executed = 0;
        let mut probe = probe;
        let due_tol = 1e-12 * t.abs().max(1.0);
        loop {
            // All triggers at one point: nothing changes y or p until an event executes below.
            match probe {
                Some((tp, yp)) => model.event_triggers(tp, yp, p, &mut self.now, ws),
                None => model.event_triggers(t, y, p, &mut self.now, ws),
            }
            for (i, ev) in model.events.iter().enumerate() {
                let now = self.now[i];
                if !self.prev[i] && now {
                    let delay = match &ev.delay {
                        Some(d) => eval1(model, d, t, y, p, ws, &mut self.out),
                        None => 0.0,
                    };
                    let values = ev.use_values_from_trigger_time.then(|| self.assignment_values(model, i, t, y, p, ws));
                    self.seq += 1;
                    let q = Queued { event: i, time: t + delay.max(0.0), values, seq: self.seq };
                    if delay > 0.0 {
                        self.pending.push(q);
                    } else {
                        ready.push(q);
                    }
                } else if self.prev[i] && !now && !ev.persistent {
                    self.pending.retain(|q| q.event != i);
                    ready.retain(|q| q.event != i);
                }
                self.prev[i] = now;
            }
            probe = None;
            let mut k = 0;
            while k < self.pending.len() {
                if self.pending[k].time <= t + due_tol {
                    ready.push(self.pending.remove(k));
                } else {
                    k += 1;
                }
            }
            if ready.is_empty() {
                return Ok(executed);
            }
            // Highest priority first; ties in firing order.
            let mut best: Option<(usize, f64, u64)> = None;
            for (k, q) in ready.iter().enumerate() {
                let pr = match &model.events[q.event].priority {
                    Some(pp) => eval1(model, pp, t, y, p, ws, &mut self.out),
                    None => f64::NEG_INFINITY,
                };
                let pr = if pr.is_nan() { f64::NEG_INFINITY } else { pr };
                let better = best.is_none_or(|(_, bp, bs)| pr > bp || (pr == bp && q.seq < bs));
                if better {
                    best = Some((k, pr, q.seq));
                }
            }
            let best = best.map_or(0, |b| b.0);
            let q = ready.remove(best);
            let values = match q.values {
                Some(v) => v,
                None => self.assignment_values(model, q.event, t, y, p, ws),
            };
            for (target, v) in model.events[q.event].targets.iter().zip(values) {
                match *target {
                    Target::State(i) => y[i as usize] = v,
                    Target::Value(i) => p[i as usize] = v,
                }
            }
            executed += 1;
            recorder.event(t, &model.events[q.event].id);
            if executed > settings.max_events_per_time {
                return Err(SolveError::EventLoop { t, limit: settings.max_events_per_time });
            }
        }
    }

    fn assignment_values(
        &mut self,
        model: &CompiledModel,
        i: usize,
        t: f64,
        y: &[f64],
        p: &[f64],
        ws: &mut Workspace,
    ) -> Vec<f64> {
        let ev = &model.events[i];
        model.eval_event_program(&ev.assignments, t, y, p, &mut self.out, ws);
        self.out[..ev.targets.len()].to_vec()
    }
}

//! Trial endpoints: change from baseline per arm, between-arm Hedges g with its 95 % CI,
//! response (≥ 50 % fall) and remission rates, NNT, biomarker changes; and power by resampling.
//! Everything is reduced in patient-index order, so the numbers are bitwise reproducible.

use crate::rng::purpose_rng;
use crate::trial::{Missing, PatientRecord, Status, Trial};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// Running mean and variance (Welford 1962), order-dependent only through the order of `add`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Welford {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    /// Add one value.
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }
    /// Count.
    pub fn n(&self) -> u64 {
        self.n
    }
    /// Mean (NaN when empty).
    pub fn mean(&self) -> f64 {
        if self.n == 0 { f64::NAN } else { self.mean }
    }
    /// Sample SD (n − 1; NaN below 2 values).
    pub fn sd(&self) -> f64 {
        if self.n < 2 { f64::NAN } else { (self.m2 / (self.n - 1) as f64).sqrt() }
    }
}

/// Hedges g of group 1 against group 2 with its 95 % CI (Hedges & Olkin 1985; Borenstein et al.
/// 2009, eqs 4.18–4.24): `g = J·(m1 − m2)/s_pooled`, `J = 1 − 3/(4(n1+n2) − 9)`,
/// `Var(g) = J²·((n1+n2)/(n1·n2) + d²/(2(n1+n2)))`.
pub fn hedges_g(m1: f64, sd1: f64, n1: u64, m2: f64, sd2: f64, n2: u64) -> Option<(f64, [f64; 2])> {
    if n1 < 2 || n2 < 2 {
        return None;
    }
    let (a, b) = (n1 as f64, n2 as f64);
    let s = (((a - 1.0) * sd1 * sd1 + (b - 1.0) * sd2 * sd2) / (a + b - 2.0)).sqrt();
    if s.is_nan() || s <= 0.0 {
        return None;
    }
    let d = (m1 - m2) / s;
    let j = 1.0 - 3.0 / (4.0 * (a + b) - 9.0);
    let g = j * d;
    let var = j * j * ((a + b) / (a * b) + d * d / (2.0 * (a + b)));
    let half = 1.959_963_984_540_054 * var.sqrt();
    Some((g, [g - half, g + half]))
}

/// Number needed to treat for a difference in rates (None when the treatment is not better).
pub fn nnt(rate_treatment: f64, rate_control: f64) -> Option<f64> {
    let d = rate_treatment - rate_control;
    if d > 0.0 { Some(1.0 / d) } else { None }
}

/// Mean and SD of a quantity in one arm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanSd {
    /// Patients.
    pub n: u64,
    /// Mean.
    pub mean: f64,
    /// SD.
    pub sd: f64,
}

impl From<Welford> for MeanSd {
    fn from(w: Welford) -> Self {
        MeanSd { n: w.n(), mean: w.mean(), sd: w.sd() }
    }
}

/// A biomarker in one arm: baseline, end and change (completers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BiomarkerChange {
    /// Output id.
    pub id: String,
    /// At baseline.
    pub baseline: MeanSd,
    /// At the last visit.
    pub end: MeanSd,
    /// End − baseline.
    pub change: MeanSd,
}

/// Endpoints of one arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmEndpoints {
    /// Arm name.
    pub arm: String,
    /// Patients randomised to it.
    pub randomised: u64,
    /// Of whom dropped out.
    pub dropouts: u64,
    /// Share who dropped out.
    pub dropout_rate: f64,
    /// Patients analysed at the end (completers, or all under LOCF).
    pub analysed: u64,
    /// Primary scale at baseline (analysed patients).
    pub baseline: MeanSd,
    /// Primary scale at the end.
    pub end: MeanSd,
    /// End − baseline.
    pub change: MeanSd,
    /// Share with a fall of at least 50 %.
    pub response_rate: f64,
    /// Share at or below the remission threshold at the end.
    pub remission_rate: f64,
    /// Hedges g of the end scores against the comparator arm (the first comparison naming
    /// this arm as treatment).
    pub hedges_g: Option<f64>,
    /// Its 95 % CI.
    pub hedges_g_ci: Option<[f64; 2]>,
    /// Mean of the primary scale at each visit (observed patients).
    pub visits: Vec<(f64, MeanSd)>,
    /// Mean attendance of exercise sessions.
    pub adherence: Option<f64>,
    /// Biomarkers.
    pub biomarkers: Vec<BiomarkerChange>,
}

/// One between-arm comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Treatment arm.
    pub treatment: String,
    /// Comparator arm.
    pub control: String,
    /// Hedges g of end scores (negative: less depression with the treatment).
    pub hedges_g: Option<f64>,
    /// 95 % CI.
    pub hedges_g_ci: Option<[f64; 2]>,
    /// Hedges g of the changes from baseline.
    pub hedges_g_change: Option<f64>,
    /// Difference in mean change (points).
    pub change_difference: f64,
    /// Difference in response rates.
    pub response_difference: f64,
    /// NNT for response.
    pub nnt_response: Option<f64>,
    /// NNT for remission.
    pub nnt_remission: Option<f64>,
}

/// The report of a trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialReport {
    /// Design name.
    pub design: String,
    /// Model id.
    pub model: String,
    /// Master seed.
    pub seed: u64,
    /// Patients asked for.
    pub n: u64,
    /// Patients randomised (the rest failed screening or simulation).
    pub randomised: u64,
    /// Candidates screened in total.
    pub screened: u64,
    /// Patients for whom no candidate qualified.
    pub screen_failures: u64,
    /// Candidates whose steady state failed.
    pub solver_failures: u64,
    /// Randomised patients whose simulation failed.
    pub simulation_failures: u64,
    /// Primary scale.
    pub primary: String,
    /// Analysis of drop-outs.
    pub missing: Missing,
    /// Weeks.
    pub weeks: f64,
    /// Realised share of randomised patients in each subgroup.
    pub subgroup_shares: Vec<(String, f64)>,
    /// Share of randomised patients with CRP > 3 mg/L at baseline (S4-04: 27 %), if CRP is recorded.
    pub crp_above_3_share: Option<f64>,
    /// Per arm.
    pub arms: Vec<ArmEndpoints>,
    /// Between arms.
    pub comparisons: Vec<Comparison>,
    /// neurex-analysis version.
    pub version: String,
}

#[derive(Debug, Clone, Default)]
struct ArmAcc {
    randomised: u64,
    dropouts: u64,
    base: Welford,
    end: Welford,
    change: Welford,
    responders: u64,
    remitters: u64,
    visits: Vec<Welford>,
    adherence: Welford,
    bio: Vec<[Welford; 3]>,
}

/// Reduces patient records, in index order, to a [`TrialReport`].
pub struct EndpointAccumulator<'t, 'a> {
    trial: &'t Trial<'a>,
    arms: Vec<ArmAcc>,
    randomised: u64,
    screened: u64,
    screen_failures: u64,
    solver_failures: u64,
    simulation_failures: u64,
    subgroups: Vec<u64>,
    crp: (u64, u64),
}

impl<'t, 'a> EndpointAccumulator<'t, 'a> {
    pub(crate) fn new(trial: &'t Trial<'a>) -> Self {
        let lay = &trial.layout;
        let arm = ArmAcc {
            visits: vec![Welford::default(); lay.visits.len()],
            bio: vec![Default::default(); lay.biomarkers.len()],
            ..Default::default()
        };
        EndpointAccumulator {
            trial,
            arms: vec![arm; trial.spec.arms.len()],
            randomised: 0,
            screened: 0,
            screen_failures: 0,
            solver_failures: 0,
            simulation_failures: 0,
            subgroups: vec![0; trial.population.subgroup_names().len()],
            crp: (0, 0),
        }
    }

    /// Add the next patient (in index order).
    pub fn add(&mut self, r: &PatientRecord) {
        let lay = &self.trial.layout;
        self.screened += u64::from(r.screened);
        self.solver_failures += u64::from(r.solver_failures);
        match r.status {
            Status::ScreenFailed => {
                self.screen_failures += 1;
                return;
            }
            Status::SolveFailed => {
                self.simulation_failures += 1;
                return;
            }
            Status::Randomised => {}
        }
        self.randomised += 1;
        for (k, c) in self.subgroups.iter_mut().enumerate() {
            *c += (r.subgroups >> k) & 1;
        }
        let last = lay.visits.len() - 1;
        if let Some(b) = lay.biomarkers.iter().position(|(id, _)| id == "crp") {
            self.crp.1 += 1;
            self.crp.0 += u64::from(r.values[lay.biomarker_at(b, 0)] > 3.0);
        }
        let a = &mut self.arms[r.arm as usize];
        a.randomised += 1;
        if !r.dropout_week.is_nan() {
            a.dropouts += 1;
        }
        if !r.adherence.is_nan() {
            a.adherence.add(r.adherence);
        }
        for v in 0..lay.visits.len() {
            let x = r.values[lay.scale_at(lay.primary, v)];
            if !x.is_nan() {
                a.visits[v].add(x);
            }
        }
        if let Some((base, Some(end))) = lay.primary_pair(r, self.trial.spec.missing) {
            a.base.add(base);
            a.end.add(end);
            a.change.add(end - base);
            if base > 0.0 && (base - end) / base >= 0.5 {
                a.responders += 1;
            }
            if self.trial.remission().is_some_and(|t| end <= t) {
                a.remitters += 1;
            }
        }
        for (b, acc) in a.bio.iter_mut().enumerate() {
            let (x0, x1) = (r.values[lay.biomarker_at(b, 0)], r.values[lay.biomarker_at(b, last)]);
            if !x0.is_nan() && !x1.is_nan() {
                acc[0].add(x0);
                acc[1].add(x1);
                acc[2].add(x1 - x0);
            }
        }
    }

    /// The report.
    pub fn finish(self, seed: u64, n: u64) -> TrialReport {
        let tr = self.trial;
        let lay = &tr.layout;
        let rate = |k: u64, n: u64| if n == 0 { f64::NAN } else { k as f64 / n as f64 };
        let mut arms: Vec<ArmEndpoints> = self
            .arms
            .iter()
            .zip(&tr.spec.arms)
            .map(|(a, spec)| ArmEndpoints {
                arm: spec.name.clone(),
                randomised: a.randomised,
                dropouts: a.dropouts,
                dropout_rate: rate(a.dropouts, a.randomised),
                analysed: a.end.n(),
                baseline: a.base.into(),
                end: a.end.into(),
                change: a.change.into(),
                response_rate: rate(a.responders, a.end.n()),
                remission_rate: rate(a.remitters, a.end.n()),
                hedges_g: None,
                hedges_g_ci: None,
                visits: lay.visits.iter().zip(&a.visits).map(|(w, acc)| (*w, (*acc).into())).collect(),
                adherence: (a.adherence.n() > 0).then(|| a.adherence.mean()),
                biomarkers: lay
                    .biomarkers
                    .iter()
                    .zip(&a.bio)
                    .map(|((id, _), acc)| BiomarkerChange {
                        id: id.clone(),
                        baseline: acc[0].into(),
                        end: acc[1].into(),
                        change: acc[2].into(),
                    })
                    .collect(),
            })
            .collect();
        let comparisons: Vec<Comparison> = tr
            .comparisons
            .iter()
            .map(|&(t, c)| {
                let (at, ac) = (&self.arms[t], &self.arms[c]);
                let g = hedges_g(at.end.mean(), at.end.sd(), at.end.n(), ac.end.mean(), ac.end.sd(), ac.end.n());
                let gc = hedges_g(
                    at.change.mean(),
                    at.change.sd(),
                    at.change.n(),
                    ac.change.mean(),
                    ac.change.sd(),
                    ac.change.n(),
                );
                let (rt, rc) = (arms[t].response_rate, arms[c].response_rate);
                Comparison {
                    treatment: arms[t].arm.clone(),
                    control: arms[c].arm.clone(),
                    hedges_g: g.map(|x| x.0),
                    hedges_g_ci: g.map(|x| x.1),
                    hedges_g_change: gc.map(|x| x.0),
                    change_difference: at.change.mean() - ac.change.mean(),
                    response_difference: rt - rc,
                    nnt_response: nnt(rt, rc),
                    nnt_remission: nnt(arms[t].remission_rate, arms[c].remission_rate),
                }
            })
            .collect();
        for (k, &(t, _)) in tr.comparisons.iter().enumerate() {
            if arms[t].hedges_g.is_none() {
                arms[t].hedges_g = comparisons[k].hedges_g;
                arms[t].hedges_g_ci = comparisons[k].hedges_g_ci;
            }
        }
        TrialReport {
            design: tr.spec.name.clone(),
            model: tr.model.id.clone(),
            seed,
            n,
            randomised: self.randomised,
            screened: self.screened,
            screen_failures: self.screen_failures,
            solver_failures: self.solver_failures,
            simulation_failures: self.simulation_failures,
            primary: tr.spec.primary.clone(),
            missing: tr.spec.missing,
            weeks: tr.spec.weeks,
            subgroup_shares: tr
                .population
                .subgroup_names()
                .into_iter()
                .zip(&self.subgroups)
                .map(|(s, &k)| (s, rate(k, self.randomised)))
                .collect(),
            crp_above_3_share: (self.crp.1 > 0).then(|| rate(self.crp.0, self.crp.1)),
            arms,
            comparisons,
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// One randomised patient's primary scale: (baseline, end or `None` for a drop-out analysed as
/// missing).
pub type PrimaryPair = (f64, Option<f64>);

/// Power of a comparison at a given size, estimated by resampling trials from simulated arms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerReport {
    /// Patients randomised per arm in each resampled trial.
    pub n_per_arm: u64,
    /// Resampled trials.
    pub replicates: u32,
    /// Share of them whose Hedges g CI excludes 0 in the treatment's favour (two-sided 5 %).
    pub power: f64,
    /// Mean g across replicates.
    pub mean_g: f64,
}

/// Power of `treatment` vs `control` (each a list of (baseline, end or None) per randomised
/// patient) with `n_per_arm` randomised per arm: `replicates` trials drawn with replacement.
pub fn power_by_resampling(
    treatment: &[(f64, Option<f64>)],
    control: &[(f64, Option<f64>)],
    n_per_arm: u64,
    replicates: u32,
    seed: u64,
) -> Option<PowerReport> {
    if treatment.is_empty() || control.is_empty() || replicates == 0 || n_per_arm < 2 {
        return None;
    }
    let mut hits = 0u32;
    let mut gs = Welford::default();
    for r in 0..replicates {
        let mut rng = purpose_rng(seed, 2, (n_per_arm << 20) ^ u64::from(r));
        let mut draw = |pool: &[(f64, Option<f64>)]| {
            let mut w = Welford::default();
            for _ in 0..n_per_arm {
                if let Some(e) = pool[rng.random_range(0..pool.len())].1 {
                    w.add(e);
                }
            }
            w
        };
        let (t, c) = (draw(treatment), draw(control));
        if let Some((g, ci)) = hedges_g(t.mean(), t.sd(), t.n(), c.mean(), c.sd(), c.n()) {
            gs.add(g);
            if ci[1] < 0.0 {
                hits += 1;
            }
        }
    }
    Some(PowerReport { n_per_arm, replicates, power: f64::from(hits) / f64::from(replicates), mean_g: gs.mean() })
}

/// Smallest n per arm (to within 5 %) reaching `target` power, searching up to `max_n`.
pub fn sample_size_by_resampling(
    treatment: &[(f64, Option<f64>)],
    control: &[(f64, Option<f64>)],
    target: f64,
    replicates: u32,
    seed: u64,
    max_n: u64,
) -> Option<PowerReport> {
    let at = |n: u64| power_by_resampling(treatment, control, n, replicates, seed);
    let mut hi = 4u64;
    let mut best = loop {
        let r = at(hi)?;
        if r.power >= target {
            break r;
        }
        if hi >= max_n {
            return None;
        }
        hi = (hi * 2).min(max_n);
    };
    let mut lo = hi / 2;
    while hi - lo > (hi / 20).max(1) {
        let mid = (lo + hi) / 2;
        let r = at(mid)?;
        if r.power >= target {
            hi = mid;
            best = r;
        } else {
            lo = mid;
        }
    }
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hedges_g_matches_a_hand_computed_example() {
        // Group 1: mean 10, SD 4, n 20; group 2: mean 13, SD 5, n 22.
        // s_pooled = sqrt((19·16 + 21·25)/40) = sqrt(829/40) = 4.552472...
        // d = −3/4.552472 = −0.658986...; J = 1 − 3/(4·42 − 9) = 1 − 3/159 = 0.981132...
        // g = −0.646553...; Var = J²·(42/440 + d²/84) = 0.962620·(0.0954545 + 0.0051698) = 0.0968638
        // CI = g ± 1.959964·0.311229 = [−1.256548, −0.036558]
        let (g, ci) = hedges_g(10.0, 4.0, 20, 13.0, 5.0, 22).unwrap();
        assert!((g - (-0.646_553)).abs() < 1e-5, "{g}");
        assert!((ci[0] - (-1.256_55)).abs() < 1e-4, "{ci:?}");
        assert!((ci[1] - (-0.036_56)).abs() < 1e-4, "{ci:?}");
        assert!(hedges_g(1.0, 1.0, 1, 2.0, 1.0, 5).is_none());
        assert!(hedges_g(1.0, 0.0, 5, 1.0, 0.0, 5).is_none());
    }

    #[test]
    fn welford_and_nnt() {
        let mut w = Welford::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            w.add(x);
        }
        assert!((w.mean() - 5.0).abs() < 1e-12);
        assert!((w.sd() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(nnt(0.5, 0.3).map(|x| (x * 1e9).round() / 1e9), Some(5.0));
        assert_eq!(nnt(0.3, 0.5), None);
    }

    #[test]
    fn power_grows_with_n() {
        let t: Vec<(f64, Option<f64>)> = (0..200).map(|i| (20.0, Some(10.0 + f64::from(i % 10)))).collect();
        let c: Vec<(f64, Option<f64>)> = (0..200).map(|i| (20.0, Some(13.0 + f64::from(i % 10)))).collect();
        let small = power_by_resampling(&t, &c, 5, 200, 1).unwrap();
        let large = power_by_resampling(&t, &c, 60, 200, 1).unwrap();
        assert!(small.power < large.power, "{small:?} {large:?}");
        let n = sample_size_by_resampling(&t, &c, 0.8, 200, 1, 1000).unwrap();
        assert!(n.power >= 0.8 && n.n_per_arm < 60, "{n:?}");
    }
}

//! Exercise protocols: what a person does, in the words of an exercise prescription
//! (modality, intensity, minutes, sessions per week, time of day, weeks, adherence), turned into
//! a schedule of known-time changes of the model's exercise inputs.

use crate::error::Error;
use neurex_model::CompiledModel;
use neurex_solve::{InputChange, Schedule};
use serde::{Deserialize, Serialize};

/// Exercise modality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Modality {
    /// Continuous aerobic exercise (walking, jogging, cycling).
    Aerobic,
    /// Resistance (strength) training.
    Resistance,
    /// High-intensity interval training.
    Hiit,
    /// Mind–body exercise (yoga, tai chi, qigong).
    MindBody,
}

impl Modality {
    /// The model parameter flagging this modality.
    pub fn input(self) -> &'static str {
        match self {
            Modality::Aerobic => "exercise_aerobic",
            Modality::Resistance => "exercise_resistance",
            Modality::Hiit => "exercise_hiit",
            Modality::MindBody => "exercise_mind_body",
        }
    }
}

/// The exercise input parameters a model must declare to take protocols.
pub const EXERCISE_INPUTS: [&str; 5] =
    ["exercise_intensity", "exercise_aerobic", "exercise_resistance", "exercise_hiit", "exercise_mind_body"];

/// An exercise protocol, as written in a protocol file.
///
/// ```toml
/// name = "aerobic-3x"
/// modality = "aerobic"
/// intensity = "65% VO2max"   # or "60% HRR", "6 METs", "RPE 13"
/// minutes = 45
/// sessions_per_week = 3
/// time_of_day = 9.0          # clock hour at which sessions start
/// weeks = 12
/// adherence = 1.0            # fraction of sessions actually done
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// What it is, and where it comes from.
    #[serde(default)]
    pub description: String,
    /// Modality.
    #[serde(default = "aerobic")]
    pub modality: Modality,
    /// Intensity: `"<x>% VO2max"`, `"<x>% HRR"`, `"<x> METs"`, `"<x> m/min"` (rodent treadmill) or
    /// `"RPE <x>"` (Borg 6–20).
    #[serde(default = "moderate")]
    pub intensity: String,
    /// Minutes per session.
    #[serde(default)]
    pub minutes: f64,
    /// Sessions per week (0–7, at most one a day).
    #[serde(default)]
    pub sessions_per_week: u32,
    /// Clock hour at which sessions start (0–24).
    #[serde(default = "nine")]
    pub time_of_day: f64,
    /// Weeks of training (default: the simulation's length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weeks: Option<f64>,
    /// Fraction of prescribed sessions actually done (0–1).
    #[serde(default = "full")]
    pub adherence: f64,
    /// VO2max in mL/kg/min, used to convert METs to %VO2max (default 30: a sedentary adult;
    /// assumption, DOSE-02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vo2max_ml_kg_min: Option<f64>,
}

fn aerobic() -> Modality {
    Modality::Aerobic
}
fn moderate() -> String {
    "55% VO2max".into()
}
fn nine() -> f64 {
    9.0
}
fn full() -> f64 {
    1.0
}

/// One session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Session {
    /// Start, hours from the start of the simulation.
    pub start_h: f64,
    /// Duration, hours.
    pub duration_h: f64,
    /// Intensity as a fraction of VO2max.
    pub intensity: f64,
    /// Modality.
    pub modality: Modality,
}

/// Presets: (name, TOML text). They mirror common prescriptions (DOSE-01/03/04).
pub const PRESETS: [(&str, &str); 7] = [
    ("none", "name = \"none\"\ndescription = \"No exercise (control)\"\nsessions_per_week = 0\n"),
    (
        "who-moderate",
        "name = \"who-moderate\"\ndescription = \"WHO guideline: 5 x 30 min moderate aerobic (150 min/wk; DOSE-03, DOSE-04)\"\nmodality = \"aerobic\"\nintensity = \"55% VO2max\"\nminutes = 30\nsessions_per_week = 5\n",
    ),
    (
        "aerobic-3x",
        "name = \"aerobic-3x\"\ndescription = \"3 x 45 min aerobic at 65% VO2max, the typical supervised trial arm (OUT-01, DOSE-04)\"\nmodality = \"aerobic\"\nintensity = \"65% VO2max\"\nminutes = 45\nsessions_per_week = 3\n",
    ),
    (
        "vigorous-3x",
        "name = \"vigorous-3x\"\ndescription = \"3 x 40 min vigorous aerobic at 75% VO2max (DOSE-01 vigorous 64-90%; DOSE-04)\"\nmodality = \"aerobic\"\nintensity = \"75% VO2max\"\nminutes = 40\nsessions_per_week = 3\n",
    ),
    (
        "resistance-2x",
        "name = \"resistance-2x\"\ndescription = \"2 x 45 min resistance training at RPE 14 (OUT-02 strength arm; DOSE-01 RPE classes)\"\nmodality = \"resistance\"\nintensity = \"RPE 14\"\nminutes = 45\nsessions_per_week = 2\n",
    ),
    (
        "hiit-3x",
        "name = \"hiit-3x\"\ndescription = \"3 x 25 min high-intensity intervals averaging 85% VO2max (DOSE-01 vigorous to near-maximal)\"\nmodality = \"hiit\"\nintensity = \"85% VO2max\"\nminutes = 25\nsessions_per_week = 3\n",
    ),
    (
        "yoga-3x",
        "name = \"yoga-3x\"\ndescription = \"3 x 60 min mind-body exercise (yoga) at RPE 10, light (OUT-02 yoga arm; DOSE-01)\"\nmodality = \"mind-body\"\nintensity = \"RPE 10\"\nminutes = 60\nsessions_per_week = 3\n",
    ),
];

/// Names of the presets.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|(n, _)| *n).collect()
}

impl Protocol {
    /// Parse a protocol file's text; errors name the line and column.
    pub fn from_toml(source_name: &str, text: &str) -> Result<Protocol, Error> {
        let p: Protocol = toml::from_str(text).map_err(|e| {
            let at = neurex_model::diagnostics::toml_error_at(text, &e);
            Error::Protocol { source_name: source_name.to_string(), message: format!("{at}{}", e.message().trim()) }
        })?;
        p.validate(source_name)?;
        Ok(p)
    }

    /// A preset by name.
    pub fn preset(name: &str) -> Result<Protocol, Error> {
        let (_, text) = PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| Error::UnknownProtocol { name: name.to_string(), known: preset_names().join(", ") })?;
        Protocol::from_toml(&format!("preset `{name}`"), text)
    }

    /// A preset name or a protocol file path.
    pub fn resolve(source: &str) -> Result<Protocol, Error> {
        if preset_names().contains(&source) {
            return Protocol::preset(source);
        }
        let path = std::path::Path::new(source);
        if path.is_file() {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Io { path: source.to_string(), message: e.to_string() })?;
            return Protocol::from_toml(source, &text);
        }
        Err(Error::UnknownProtocol { name: source.to_string(), known: preset_names().join(", ") })
    }

    /// No exercise.
    pub fn none() -> Protocol {
        Protocol::preset("none").expect("the `none` preset is valid")
    }

    /// Intensity as a fraction of VO2max (DOSE-01 class boundaries; DOSE-02 for METs).
    pub fn intensity_fraction(&self) -> Result<f64, String> {
        parse_intensity(&self.intensity, self.vo2max_ml_kg_min.unwrap_or(30.0))
    }

    /// Check every number is possible; the message says which field and why.
    pub fn validate(&self, source_name: &str) -> Result<(), Error> {
        let bad = |m: String| Err(Error::Protocol { source_name: source_name.to_string(), message: m });
        if self.sessions_per_week > 7 {
            return bad(format!("sessions_per_week = {}: at most 7 (one session a day)", self.sessions_per_week));
        }
        if self.sessions_per_week > 0 {
            if !(self.minutes > 0.0 && self.minutes <= 600.0) {
                return bad(format!("minutes = {}: must be more than 0 and at most 600 per session", self.minutes));
            }
            if let Err(m) = self.intensity_fraction() {
                return bad(format!("intensity = {:?}: {m}", self.intensity));
            }
        } else if !(self.minutes >= 0.0 && self.minutes <= 600.0) {
            return bad(format!("minutes = {}: must be between 0 and 600", self.minutes));
        }
        if !(0.0..24.0).contains(&self.time_of_day) {
            return bad(format!("time_of_day = {}: a clock hour in [0, 24)", self.time_of_day));
        }
        if self.time_of_day * 60.0 + self.minutes > 24.0 * 60.0 {
            return bad("a session must end before midnight (time_of_day + minutes)".into());
        }
        if let Some(w) = self.weeks
            && !(w > 0.0 && w <= 520.0)
        {
            return bad(format!("weeks = {w}: must be more than 0 and at most 520"));
        }
        if !(0.0..=1.0).contains(&self.adherence) {
            return bad(format!("adherence = {}: a fraction between 0 and 1", self.adherence));
        }
        if let Some(v) = self.vo2max_ml_kg_min
            && !(v > 5.0 && v < 100.0)
        {
            return bad(format!("vo2max_ml_kg_min = {v}: must be between 5 and 100"));
        }
        Ok(())
    }

    /// The sessions within `horizon_weeks` (or the protocol's own weeks if shorter).
    pub fn sessions(&self, horizon_weeks: f64) -> Vec<Session> {
        let n = self.sessions_per_week as usize;
        if n == 0 || self.adherence == 0.0 {
            return Vec::new();
        }
        let weeks = self.weeks.unwrap_or(horizon_weeks).min(horizon_weeks);
        let intensity = self.intensity_fraction().unwrap_or(0.0);
        // Spread sessions evenly over the week: 3/wk → Mon, Wed, Fri.
        let days: Vec<usize> = (0..n).map(|k| k * 7 / n).collect();
        let mut out = Vec::new();
        let mut k = 0usize;
        let full_weeks = weeks.ceil() as usize;
        for w in 0..full_weeks {
            for &d in &days {
                let start_h = ((w * 7 + d) as f64) * 24.0 + self.time_of_day;
                if start_h >= weeks * 168.0 {
                    continue;
                }
                // Deterministic thinning: session k is done iff it completes a whole unit of
                // adherence, so that a fraction a of sessions is done, evenly spread.
                let done = ((k + 1) as f64 * self.adherence).floor() > (k as f64 * self.adherence).floor();
                k += 1;
                if done {
                    out.push(Session { start_h, duration_h: self.minutes / 60.0, intensity, modality: self.modality });
                }
            }
        }
        out
    }

    /// The schedule of input changes for `model` over `horizon_weeks`.
    pub fn schedule(&self, model: &CompiledModel, horizon_weeks: f64) -> Result<Schedule, Error> {
        let sessions = self.sessions(horizon_weeks);
        if sessions.is_empty() {
            return Ok(Schedule::empty());
        }
        let idx = |name: &str| {
            model.value_index(name).ok_or_else(|| {
                Error::Incompatible(format!(
                    "protocols set the parameter `{name}`, which model `{}` does not declare",
                    model.id
                ))
            })
        };
        let intensity = idx("exercise_intensity")?;
        let flags: Vec<usize> = [Modality::Aerobic, Modality::Resistance, Modality::Hiit, Modality::MindBody]
            .iter()
            .map(|m| idx(m.input()))
            .collect::<Result<_, _>>()?;
        let flag = idx(self.modality.input())?;
        let mut changes = Vec::with_capacity(2 * sessions.len());
        for s in sessions {
            let mut on = vec![(intensity, s.intensity)];
            on.extend(flags.iter().map(|&f| (f, if f == flag { 1.0 } else { 0.0 })));
            changes.push(InputChange { t: s.start_h, set: on });
            let mut off = vec![(intensity, 0.0)];
            off.extend(flags.iter().map(|&f| (f, 0.0)));
            changes.push(InputChange { t: s.start_h + s.duration_h, set: off });
        }
        Ok(Schedule::new(changes))
    }
}

/// Parse an intensity string into a fraction of VO2max.
///
/// - `%VO2max`: as is.
/// - `%HRR`: %VO2max ≈ 10 + 0.9 · %HRR, a straight line through the ACSM class boundaries
///   (HRR 40/60/90 % ↔ VO2max 46/64/91 %; DOSE-01).
/// - `METs`: METs · 3.5 / VO2max (DOSE-02; 1 MET = 3.5 mL O2/kg/min).
/// - `m/min`: rodent treadmill speed, piecewise linear through DOSE-10 (15 m/min moderate,
///   25 m/min vigorous).
/// - `RPE` (Borg 6–20): piecewise linear through the class boundaries RPE 9/12/14/18 ↔
///   37/46/64/91 % VO2max (DOSE-01), with RPE 6 ↔ 20 % and RPE 20 ↔ 100 % (assumption: ends
///   of the scale).
pub fn parse_intensity(text: &str, vo2max_ml_kg_min: f64) -> Result<f64, String> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase().replace(' ', "");
    let num = |s: &str| -> Result<f64, String> {
        let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
        if v.is_finite() { Ok(v) } else { Err(format!("`{s}` is not a finite number")) }
    };
    let frac = if let Some(x) = lower.strip_suffix("%vo2max") {
        let v = num(x)?;
        if !(v > 0.0 && v <= 120.0) {
            return Err(format!("{v}% VO2max is outside (0, 120]"));
        }
        v / 100.0
    } else if let Some(x) = lower.strip_suffix("%hrr") {
        let v = num(x)?;
        if !(v > 0.0 && v <= 100.0) {
            return Err(format!("{v}% HRR is outside (0, 100]"));
        }
        (10.0 + 0.9 * v) / 100.0
    } else if let Some(x) = lower.strip_suffix("mets").or_else(|| lower.strip_suffix("met")) {
        let v = num(x)?;
        if !(v > 0.0 && v <= 25.0) {
            return Err(format!("{v} METs is outside (0, 25]"));
        }
        let f = v * 3.5 / vo2max_ml_kg_min;
        if f > 1.2 {
            return Err(format!(
                "{v} METs is {:.0}% of a VO2max of {vo2max_ml_kg_min} mL/kg/min: impossible",
                f * 100.0
            ));
        }
        f
    } else if let Some(x) = lower.strip_suffix("m/min") {
        // Rodent treadmill speed (DOSE-10, U): 15 m/min ≈ moderate (55 % VO2max), 25 m/min ≈
        // vigorous near the rat lactate threshold (75 %); straight lines through (0, 10 %) (rest),
        // those two points and (40, 100 %).
        let v = num(x)?;
        if !(v > 0.0 && v <= 40.0) {
            return Err(format!("{v} m/min is outside (0, 40] (rodent treadmill speeds)"));
        }
        let pts = [(0.0, 10.0), (15.0, 55.0), (25.0, 75.0), (40.0, 100.0)];
        interpolate(&pts, v) / 100.0
    } else if let Some(x) = lower.strip_prefix("rpe") {
        let v = num(x)?;
        if !(6.0..=20.0).contains(&v) {
            return Err(format!("RPE {v} is outside the Borg scale 6-20"));
        }
        let pts = [(6.0, 20.0), (9.0, 37.0), (12.0, 46.0), (14.0, 64.0), (18.0, 91.0), (20.0, 100.0)];
        interpolate(&pts, v) / 100.0
    } else {
        return Err("expected \"<x>% VO2max\", \"<x>% HRR\", \"<x> METs\", \"<x> m/min\" or \"RPE <x>\"".into());
    };
    Ok(frac)
}

/// Piecewise-linear interpolation through `pts` (x increasing); beyond the last point, its y.
fn interpolate(pts: &[(f64, f64)], v: f64) -> f64 {
    for w in pts.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if v <= x1 {
            return y0 + (y1 - y0) * (v - x0) / (x1 - x0);
        }
    }
    pts.last().map_or(f64::NAN, |p| p.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intensity_conversions_follow_acsm_classes() {
        assert!((parse_intensity("65% VO2max", 30.0).unwrap() - 0.65).abs() < 1e-12);
        // HRR 40 % is the moderate lower bound, ≈ 46 % VO2max.
        assert!((parse_intensity("40% HRR", 30.0).unwrap() - 0.46).abs() < 1e-12);
        assert!((parse_intensity("RPE 12", 30.0).unwrap() - 0.46).abs() < 1e-12);
        assert!((parse_intensity("6 METs", 35.0).unwrap() - 0.6).abs() < 1e-12);
        for bad in ["-5% VO2max", "NaN% VO2max", "RPE 25", "fast", "30 METs", "150% HRR"] {
            assert!(parse_intensity(bad, 30.0).is_err(), "{bad}");
        }
    }

    #[test]
    fn presets_are_valid_and_schedules_spread_sessions() {
        for name in preset_names() {
            Protocol::preset(name).unwrap();
        }
        let p = Protocol::preset("aerobic-3x").unwrap();
        let s = p.sessions(12.0);
        assert_eq!(s.len(), 36);
        assert_eq!(s[0].start_h, 9.0);
        assert_eq!(s[1].start_h, 2.0 * 24.0 + 9.0);
        assert!((s[0].duration_h - 0.75).abs() < 1e-12);
    }

    #[test]
    fn adherence_thins_sessions_evenly() {
        let mut p = Protocol::preset("aerobic-3x").unwrap();
        p.adherence = 0.5;
        assert_eq!(p.sessions(12.0).len(), 18);
        p.adherence = 0.0;
        assert!(p.sessions(12.0).is_empty());
    }

    #[test]
    fn impossible_doses_are_rejected_with_the_field_named() {
        let cases = [
            ("minutes = -30\nsessions_per_week = 3\n", "minutes"),
            ("minutes = 30\nsessions_per_week = 9\n", "sessions_per_week"),
            ("minutes = 30\nsessions_per_week = 3\nintensity = \"200% VO2max\"\n", "intensity"),
            ("minutes = nan\nsessions_per_week = 3\n", "minutes"),
            ("minutes = 30\nsessions_per_week = 3\nadherence = 1.5\n", "adherence"),
            ("minutes = 30\nsessions_per_week = 3\nspeed = 3\n", "speed"),
        ];
        for (text, field) in cases {
            let err = Protocol::from_toml("p.toml", text).unwrap_err().to_string();
            assert!(err.contains(field), "{text}: {err}");
        }
    }
}

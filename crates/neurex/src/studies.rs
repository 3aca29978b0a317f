//! Studies over virtual populations (trials, scans, attribution, prescription) from
//! `neurex-analysis`, connected to this crate's protocols: [`Protocols`] turns the exercise
//! references of a trial design or scan into input schedules.

use crate::protocol::Protocol;
use neurex_model::CompiledModel;
use neurex_solve::Schedule;

pub use neurex_analysis::*;

/// Exercise protocols for studies: presets, protocol files, or inline protocol tables.
#[derive(Debug, Clone, Copy, Default)]
pub struct Protocols;

impl Protocols {
    /// The protocol an exercise reference names.
    pub fn resolve(exercise: &ExerciseRef) -> Result<Protocol, String> {
        match exercise {
            ExerciseRef::Named(name) => Protocol::resolve(name).map_err(|e| e.to_string()),
            ExerciseRef::Inline(table) => {
                let text = toml::to_string(table).map_err(|e| e.to_string())?;
                let name = table.get("name").and_then(|v| v.as_str()).unwrap_or("inline protocol").to_string();
                Protocol::from_toml(&name, &text).map_err(|e| e.to_string())
            }
        }
    }
}

impl ScheduleSource for Protocols {
    fn to_table(&self, exercise: &ExerciseRef) -> Result<toml::Table, String> {
        let p = Protocols::resolve(exercise)?;
        toml::Table::try_from(&p).map_err(|e| e.to_string())
    }

    fn schedule(
        &self,
        model: &CompiledModel,
        exercise: &ExerciseRef,
        horizon_weeks: f64,
        adherence: f64,
    ) -> Result<Schedule, String> {
        let mut p = Protocols::resolve(exercise)?;
        p.adherence *= adherence.clamp(0.0, 1.0);
        p.schedule(model, horizon_weeks).map_err(|e| e.to_string())
    }
}

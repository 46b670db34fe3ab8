//! The evaluation of one run as a document: what was compared, the skill, and the quality checks. It is written
//! as `evaluation.json`, every number of the evaluation for machines, and is what the HTML report is drawn from.

use serde::{Deserialize, Serialize};

use crate::change::ChangeReport;
use crate::qa::QaReport;
use crate::skill::SkillReport;

/// Everything an evaluation of a run found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evaluation {
    /// The run evaluated.
    pub run_id: String,
    /// Its variable.
    pub variable: String,
    /// The variable's unit.
    pub units: String,
    /// The daily store evaluated.
    pub downscaled: String,
    /// The observations it is compared with.
    pub observations: String,
    /// Skill against the observations; null when the output and the observations share no day.
    pub skill: Option<SkillReport>,
    /// Why there is no skill, when there is none.
    pub skill_skipped: Option<String>,
    /// The product's change between the historical and the scenario period against the raw model's; null for a
    /// historical run or when the historical run is not found.
    pub change_signal: Option<ChangeReport>,
    /// Why there is no change signal, when there is none.
    pub change_signal_skipped: Option<String>,
    /// The quality checks of the output.
    pub qa: QaReport,
    /// The program that made the evaluation, with its version.
    pub producer: String,
}

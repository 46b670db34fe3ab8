//! What the run records' states and levels are in Prefect's terms.
//!
//! The records' words are matched as text rather than as the engine's enums, so that a state the engine adds
//! later (`retrying`, say) is still mirrored, by [`unknown`]'s rule, instead of failing this crate's build or
//! being dropped.

use downscale_engine::{LogLevel, RunRecord, TaskRecord};
use serde::Serialize;

/// The state types of Prefect 3 that the records map to (of its `SCHEDULED`, `PENDING`, `RUNNING`, `COMPLETED`,
/// `FAILED`, `CANCELLED`, `CRASHED`, `PAUSED`, `CANCELLING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum StateType {
    Pending,
    Running,
    Completed,
    Failed,
    /// Ended without finishing: the process was killed or the machine lost.
    Crashed,
}

/// A Prefect state as sent: its type, a name when it is not the type's own (`Cached`), and a message (an error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct State {
    #[serde(rename = "type")]
    kind: StateType,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl State {
    fn of(kind: StateType) -> State {
        State { kind, name: None, message: None }
    }

    fn named(kind: StateType, name: &str) -> State {
        State { kind, name: Some(name.to_owned()), message: None }
    }

    fn with_message(mut self, message: Option<&str>) -> State {
        self.message = message.map(str::to_owned);
        self
    }

    /// The state a flow run is created in, before it is known to run.
    pub(crate) fn pending() -> State {
        State::of(StateType::Pending)
    }

    /// Prefect's word for the type, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self.kind {
            StateType::Pending => "PENDING",
            StateType::Running => "RUNNING",
            StateType::Completed => "COMPLETED",
            StateType::Failed => "FAILED",
            StateType::Crashed => "CRASHED",
        }
    }
}

/// Why an interrupted run or task is `CRASHED`, in Prefect's words for a crash.
const INTERRUPTED: &str = "its process ended without finishing it (killed, or the machine lost)";

/// A run's state.
pub(crate) fn of_run(run: &RunRecord) -> State {
    match run.state.as_str() {
        "running" => State::of(StateType::Running),
        "succeeded" => State::of(StateType::Completed),
        "failed" => State::of(StateType::Failed).with_message(run.error.as_deref()),
        "interrupted" => State::of(StateType::Crashed).with_message(Some(INTERRUPTED)),
        other => unknown(other, run.ended_at.is_some(), run.error.as_deref()),
    }
}

/// A task's state: a cache hit is `COMPLETED` named `Cached`, as Prefect names its own cache hits.
pub(crate) fn of_task(task: &TaskRecord) -> State {
    match task.state.as_str() {
        "pending" => State::of(StateType::Pending),
        "running" => State::of(StateType::Running),
        "succeeded" => State::of(StateType::Completed),
        "cached" => State::named(StateType::Completed, "Cached"),
        "failed" => State::of(StateType::Failed).with_message(task.error.as_deref()),
        "interrupted" => State::of(StateType::Crashed).with_message(Some(INTERRUPTED)),
        other => unknown(other, task.ended_at.is_some(), task.error.as_deref()),
    }
}

/// A state word this mapping does not know, named by the word (`Retrying`) and typed by what the record tells:
/// not ended is `RUNNING` (Prefect's own `Retrying` is a running state), ended with an error `FAILED`, ended
/// without one `COMPLETED`.
fn unknown(word: &str, ended: bool, error: Option<&str>) -> State {
    let mut letters = word.chars();
    let name: String = letters.next().map(|first| first.to_uppercase().chain(letters).collect()).unwrap_or_default();
    match (ended, error) {
        (false, _) => State::named(StateType::Running, &name),
        (true, Some(error)) => State::named(StateType::Failed, &name).with_message(Some(error)),
        (true, None) => State::named(StateType::Completed, &name),
    }
}

/// Python's logging level of a records' level (what Prefect stores): a level added later counts as info.
pub(crate) fn log_level(level: LogLevel) -> u8 {
    match level.as_str() {
        "warn" => 30,
        "error" => 40,
        _ => 20,
    }
}

#[cfg(test)]
mod tests {
    use downscale_engine::{RunState, TaskState};
    use serde_json::json;

    use super::*;

    fn task(state: TaskState, error: Option<&str>) -> TaskRecord {
        TaskRecord {
            task_id: "get_obs".into(),
            name: "get_obs".into(),
            cache_key: "00".into(),
            inputs: Vec::new(),
            state,
            cache_hit: state == TaskState::Cached,
            attempts: 1,
            started_at: None,
            ended_at: None,
            wall_seconds: None,
            cpu_seconds: None,
            peak_rss_bytes: None,
            bytes_read: None,
            bytes_written: None,
            error: error.map(str::to_owned),
            tiles_total: None,
            tiles_done: None,
            jobs: None,
        }
    }

    fn sent(state: &State) -> serde_json::Value {
        serde_json::to_value(state).unwrap()
    }

    #[test]
    fn task_states_are_sent_as_prefect_states() {
        let cases = [
            (TaskState::Pending, None, json!({"type": "PENDING"})),
            (TaskState::Running, None, json!({"type": "RUNNING"})),
            (TaskState::Succeeded, None, json!({"type": "COMPLETED"})),
            (TaskState::Cached, None, json!({"type": "COMPLETED", "name": "Cached"})),
            (TaskState::Failed, Some("tas.nc: damaged"), json!({"type": "FAILED", "message": "tas.nc: damaged"})),
            (TaskState::Interrupted, None, json!({"type": "CRASHED", "message": INTERRUPTED})),
        ];
        for (state, error, expected) in cases {
            assert_eq!(sent(&of_task(&task(state, error))), expected, "{state}");
        }
    }

    #[test]
    fn run_states_are_sent_as_prefect_states_with_the_error() {
        let mut run = RunRecord {
            id: 1,
            run_id: "r".into(),
            flow: "bcsd".into(),
            parameter_file: None,
            parameters: "{}".into(),
            state: RunState::Running,
            runtime: "ci".into(),
            host: "h".into(),
            pid: 1,
            started_at: "2030-01-01T00:00:00.000Z".into(),
            ended_at: None,
            manifest: None,
            error: None,
            dashboard: None,
            batch: None,
        };
        assert_eq!(sent(&of_run(&run)), json!({"type": "RUNNING"}));
        run.state = RunState::Succeeded;
        assert_eq!(sent(&of_run(&run)), json!({"type": "COMPLETED"}));
        (run.state, run.error) = (RunState::Failed, Some("task get_obs: tas.nc: damaged".into()));
        assert_eq!(sent(&of_run(&run)), json!({"type": "FAILED", "message": "task get_obs: tas.nc: damaged"}));
        run.state = RunState::Interrupted;
        assert_eq!(sent(&of_run(&run)), json!({"type": "CRASHED", "message": INTERRUPTED}));
    }

    #[test]
    fn a_state_added_later_is_named_by_its_word_and_typed_by_the_record() {
        assert_eq!(
            sent(&unknown("retrying", false, Some("timed out"))),
            json!({"type": "RUNNING", "name": "Retrying"})
        );
        assert_eq!(
            sent(&unknown("abandoned", true, Some("gave up"))),
            json!({"type": "FAILED", "name": "Abandoned", "message": "gave up"})
        );
        assert_eq!(sent(&unknown("skipped", true, None)), json!({"type": "COMPLETED", "name": "Skipped"}));
    }

    #[test]
    fn levels_are_python_logging_levels() {
        assert_eq!([LogLevel::Info, LogLevel::Warn, LogLevel::Error].map(log_level), [20, 30, 40]);
    }
}

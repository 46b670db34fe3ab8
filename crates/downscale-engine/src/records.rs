//! Run records in SQLite: runs, their tasks and log lines, so that `downscale runs` and the dashboard can answer
//! "what ran, what was cached, what failed and why, what did it cost" long after the terminal is gone.
//!
//! The database is opened in WAL mode with a busy timeout, so several processes (a run, `runs list`, the
//! dashboard) can use it at once. A run whose process died without finishing (killed, machine lost) stays
//! `running` in the file; opening the records marks such runs of this host `interrupted`.

use std::path::Path;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

pub use self::values::{LogLevel, RunState, TaskState, UnknownValue};
use crate::error::EngineError;

mod values;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    flow TEXT NOT NULL,
    parameter_file TEXT,
    parameters TEXT NOT NULL,
    state TEXT NOT NULL,
    runtime TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    manifest TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS tasks (
    run INTEGER NOT NULL REFERENCES runs(id),
    task_id TEXT NOT NULL,
    name TEXT NOT NULL,
    cache_key TEXT NOT NULL,
    state TEXT NOT NULL,
    cache_hit INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    started_at TEXT,
    ended_at TEXT,
    wall_seconds REAL,
    cpu_seconds REAL,
    peak_rss_bytes INTEGER,
    bytes_read INTEGER,
    bytes_written INTEGER,
    error TEXT,
    PRIMARY KEY (run, task_id)
);
CREATE TABLE IF NOT EXISTS logs (
    run INTEGER NOT NULL REFERENCES runs(id),
    task_id TEXT,
    at TEXT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_by_run ON logs(run);
";

/// A run as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// The record's number: a run id may be run many times.
    pub id: i64,
    /// The run id; every run of one id has its own record.
    pub run_id: String,
    /// The flow's name (`bcsd`).
    pub flow: String,
    /// The parameter file as the user named it.
    pub parameter_file: Option<String>,
    /// The parameters as JSON text.
    pub parameters: String,
    /// Where the run is.
    pub state: RunState,
    /// The runtime it ran on (`local`, `ci`).
    pub runtime: String,
    /// The machine that ran it: only that machine can tell a dead run from a live one.
    pub host: String,
    /// UTC, RFC 3339.
    pub started_at: String,
    /// UTC, RFC 3339; `None` while running.
    pub ended_at: Option<String>,
    /// Where its manifest is, once written.
    pub manifest: Option<String>,
    /// Why it failed, as one line.
    pub error: Option<String>,
}

/// A task of a run as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRecord {
    /// The task's id in its flow.
    pub task_id: String,
    /// The task's name: the kind of work.
    pub name: String,
    /// Its cache key, in hex.
    pub cache_key: String,
    /// Where it is.
    pub state: TaskState,
    /// Whether its artifact was found complete (the same as `state` being `cached`, stored for queries).
    pub cache_hit: bool,
    /// Executions started, retries included; 0 for a cache hit.
    pub attempts: u32,
    /// UTC, RFC 3339; `None` until reached.
    pub started_at: Option<String>,
    /// UTC, RFC 3339; `None` until ended.
    pub ended_at: Option<String>,
    /// Wall-clock time of its last execution.
    pub wall_seconds: Option<f64>,
    /// CPU time (user and system, every thread) of the process during its last execution: the task's own when
    /// it ran alone in its process.
    pub cpu_seconds: Option<f64>,
    /// The process's peak resident memory during its last execution, when the system tells it.
    pub peak_rss_bytes: Option<u64>,
    /// Bytes it read through its context.
    pub bytes_read: Option<u64>,
    /// Bytes of its artifact.
    pub bytes_written: Option<u64>,
    /// Why it failed, as one line.
    pub error: Option<String>,
}

/// A log line of a run as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRecord {
    /// The task it is about; `None` for the run as a whole.
    pub task_id: Option<String>,
    /// UTC, RFC 3339.
    pub at: String,
    /// How much it matters.
    pub level: LogLevel,
    /// One line.
    pub message: String,
}

/// What a finished task reports: recorded by the process that runs the flow, and written beside the task's
/// artifact ([`TaskStateFile`](crate::TaskStateFile)) by the process that executed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskReport {
    /// How it ended: `succeeded`, `cached` or `failed`. Whether it was a cache hit is recorded from it, so the
    /// two cannot disagree.
    pub state: TaskState,
    /// Executions started, retries included.
    pub attempts: u32,
    /// Wall-clock time of the last execution.
    pub wall_seconds: f64,
    /// CPU time of the last execution.
    pub cpu_seconds: f64,
    /// Peak resident memory during the last execution, when the system tells it.
    pub peak_rss_bytes: Option<u64>,
    /// Bytes read through the task's context.
    pub bytes_read: u64,
    /// Bytes of the artifact.
    pub bytes_written: u64,
    /// Why it failed, as one line.
    pub error: Option<String>,
    /// When its first execution started, or when it was found in the cache (UTC, RFC 3339).
    pub started_at: String,
    /// When it ended (UTC, RFC 3339).
    pub ended_at: String,
}

impl TaskReport {
    /// A task that ended without an execution to measure: found in the cache, or failed (its cache could not be
    /// looked at, or every attempt failed and only the count and the error are worth keeping).
    pub fn unmeasured(state: TaskState, attempts: u32, error: Option<String>) -> TaskReport {
        let now = crate::now_utc();
        TaskReport {
            started_at: now.clone(),
            ended_at: now,
            state,
            attempts,
            wall_seconds: 0.0,
            cpu_seconds: 0.0,
            peak_rss_bytes: None,
            bytes_read: 0,
            bytes_written: 0,
            error,
        }
    }
}

/// The start of a run.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    /// The run id of the parameter file run.
    pub run_id: &'a str,
    /// The flow's name.
    pub flow: &'a str,
    /// The parameter file as the user named it.
    pub parameter_file: Option<&'a str>,
    /// The parameters as JSON text.
    pub parameters: &'a str,
    /// The runtime's name.
    pub runtime: &'a str,
}

/// The SQLite file of runs, tasks and log lines (`run_records`), shared by every run on a machine.
pub struct Records {
    connection: Connection,
    path: String,
}

impl Records {
    /// Opens (creating if needed) the records at `path`.
    pub fn open(path: &Path) -> Result<Records, EngineError> {
        let display = path.display().to_string();
        let fail = |e: &dyn std::fmt::Display| EngineError::Records { path: display.clone(), detail: e.to_string() };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| fail(&e))?;
        }
        let connection = Connection::open(path).map_err(|e| fail(&e))?;
        connection.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| fail(&e))?;
        connection.pragma_update(None, "journal_mode", "WAL").map_err(|e| fail(&e))?;
        connection.execute_batch(SCHEMA).map_err(|e| fail(&e))?;
        let records = Records { connection, path: display };
        records.mark_interrupted()?;
        Ok(records)
    }

    /// A stored word this version does not know stays typed ([`UnknownValue`]), not SQLite's conversion error
    /// with a column index.
    fn fail(&self, error: rusqlite::Error) -> EngineError {
        if let rusqlite::Error::FromSqlConversionFailure(_, _, cause) = &error
            && let Some(unknown) = cause.downcast_ref::<UnknownValue>()
        {
            return EngineError::UnknownRecordValue { path: self.path.clone(), source: unknown.clone() };
        }
        EngineError::Records { path: self.path.clone(), detail: error.to_string() }
    }

    /// Runs of this host left `running` by a process that no longer exists.
    fn mark_interrupted(&self) -> Result<(), EngineError> {
        let host = crate::resources::host_name();
        let mut statement = self
            .connection
            .prepare("SELECT id, pid FROM runs WHERE state = ?1 AND host = ?2")
            .map_err(|e| self.fail(e))?;
        let stale: Vec<i64> = statement
            .query_map(params![RunState::Running, host], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))
            .map_err(|e| self.fail(e))?
            .filter_map(Result::ok)
            .filter(|(_, pid)| !Path::new(&format!("/proc/{pid}")).exists())
            .map(|(id, _)| id)
            .collect();
        for id in stale {
            self.connection
                .execute("UPDATE runs SET state = ?2 WHERE id = ?1", params![id, RunState::Interrupted])
                .map_err(|e| self.fail(e))?;
            self.connection
                .execute(
                    "UPDATE tasks SET state = ?2 WHERE run = ?1 AND state = ?3",
                    params![id, TaskState::Interrupted, TaskState::Running],
                )
                .map_err(|e| self.fail(e))?;
        }
        Ok(())
    }

    /// Records a run as running on this host; returns its record number.
    pub fn start_run(&self, run: &NewRun) -> Result<i64, EngineError> {
        self.connection
            .execute(
                "INSERT INTO runs (run_id, flow, parameter_file, parameters, state, runtime, host, pid, started_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    run.run_id,
                    run.flow,
                    run.parameter_file,
                    run.parameters,
                    RunState::Running,
                    run.runtime,
                    crate::resources::host_name(),
                    std::process::id(),
                    crate::now_utc()
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(self.connection.last_insert_rowid())
    }

    /// Records how run `run` ended, with its manifest and its error as one line.
    pub fn finish_run(
        &self,
        run: i64,
        succeeded: bool,
        manifest: Option<&str>,
        error: Option<&str>,
    ) -> Result<(), EngineError> {
        let state = if succeeded { RunState::Succeeded } else { RunState::Failed };
        self.connection
            .execute(
                "UPDATE runs SET state = ?2, ended_at = ?3, manifest = ?4, error = ?5 WHERE id = ?1",
                params![run, state, crate::now_utc(), manifest, error],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Lists every task of the flow as pending, so the records show what a run will do before it does it.
    pub fn plan_task(&self, run: i64, task_id: &str, name: &str, key: &str) -> Result<(), EngineError> {
        self.connection
            .execute(
                "INSERT INTO tasks (run, task_id, name, cache_key, state) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![run, task_id, name, key, TaskState::Pending],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records that the task started (its cache is looked at first).
    pub fn task_started(&self, run: i64, task_id: &str) -> Result<(), EngineError> {
        self.connection
            .execute(
                "UPDATE tasks SET state = ?3, started_at = ?4 WHERE run = ?1 AND task_id = ?2",
                params![run, task_id, TaskState::Running, crate::now_utc()],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records how the task ended and what it measured.
    pub fn task_finished(&self, run: i64, task_id: &str, report: &TaskReport) -> Result<(), EngineError> {
        self.connection
            .execute(
                "UPDATE tasks SET state = ?3, cache_hit = ?4, attempts = ?5, ended_at = ?6, wall_seconds = ?7,
                 cpu_seconds = ?8, peak_rss_bytes = ?9, bytes_read = ?10, bytes_written = ?11, error = ?12,
                 started_at = ?13
                 WHERE run = ?1 AND task_id = ?2",
                params![
                    run,
                    task_id,
                    report.state,
                    report.state == TaskState::Cached,
                    report.attempts,
                    report.ended_at,
                    report.wall_seconds,
                    report.cpu_seconds,
                    report.peak_rss_bytes.map(sqlite_integer),
                    sqlite_integer(report.bytes_read),
                    sqlite_integer(report.bytes_written),
                    report.error,
                    report.started_at
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records a log line of run `run`, about a task or (`None`) the run.
    pub fn log(&self, run: i64, task_id: Option<&str>, level: LogLevel, message: &str) -> Result<(), EngineError> {
        self.connection
            .execute(
                "INSERT INTO logs (run, task_id, at, level, message) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![run, task_id, crate::now_utc(), level, message],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// The newest runs first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, EngineError> {
        self.query_runs("SELECT * FROM runs ORDER BY id DESC LIMIT ?1", [limit as i64])
    }

    /// A run by its number, or the newest run with that run id.
    pub fn find_run(&self, selector: &str) -> Result<Option<RunRecord>, EngineError> {
        if let Ok(id) = selector.parse::<i64>() {
            return Ok(self.query_runs("SELECT * FROM runs WHERE id = ?1", [id])?.pop());
        }
        self.latest_run(selector)
    }

    /// The newest run of `run_id`, taken as a run id even when it is all digits (unlike [`Records::find_run`]).
    pub fn latest_run(&self, run_id: &str) -> Result<Option<RunRecord>, EngineError> {
        Ok(self.query_runs("SELECT * FROM runs WHERE run_id = ?1 ORDER BY id DESC LIMIT 1", [run_id])?.pop())
    }

    fn query_runs<P: rusqlite::Params>(&self, sql: &str, parameters: P) -> Result<Vec<RunRecord>, EngineError> {
        let mut statement = self.connection.prepare(sql).map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map(parameters, |row| {
                Ok(RunRecord {
                    id: row.get("id")?,
                    run_id: row.get("run_id")?,
                    flow: row.get("flow")?,
                    parameter_file: row.get("parameter_file")?,
                    parameters: row.get("parameters")?,
                    state: row.get("state")?,
                    runtime: row.get("runtime")?,
                    host: row.get("host")?,
                    started_at: row.get("started_at")?,
                    ended_at: row.get("ended_at")?,
                    manifest: row.get("manifest")?,
                    error: row.get("error")?,
                })
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.fail(e))
    }

    /// The tasks of run `run`, in the order they were planned.
    pub fn tasks(&self, run: i64) -> Result<Vec<TaskRecord>, EngineError> {
        let mut statement =
            self.connection.prepare("SELECT * FROM tasks WHERE run = ?1 ORDER BY rowid").map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([run], |row| {
                Ok(TaskRecord {
                    task_id: row.get("task_id")?,
                    name: row.get("name")?,
                    cache_key: row.get("cache_key")?,
                    state: row.get("state")?,
                    cache_hit: row.get("cache_hit")?,
                    attempts: row.get("attempts")?,
                    started_at: row.get("started_at")?,
                    ended_at: row.get("ended_at")?,
                    wall_seconds: row.get("wall_seconds")?,
                    cpu_seconds: row.get("cpu_seconds")?,
                    peak_rss_bytes: row.get::<_, Option<i64>>("peak_rss_bytes")?.map(|b| b as u64),
                    bytes_read: row.get::<_, Option<i64>>("bytes_read")?.map(|b| b as u64),
                    bytes_written: row.get::<_, Option<i64>>("bytes_written")?.map(|b| b as u64),
                    error: row.get("error")?,
                })
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.fail(e))
    }

    /// The log lines of run `run`, in the order written.
    pub fn logs(&self, run: i64) -> Result<Vec<LogRecord>, EngineError> {
        let mut statement = self
            .connection
            .prepare("SELECT task_id, at, level, message FROM logs WHERE run = ?1 ORDER BY rowid")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([run], |row| {
                Ok(LogRecord { task_id: row.get(0)?, at: row.get(1)?, level: row.get(2)?, message: row.get(3)? })
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.fail(e))
    }
}

/// SQLite integers are signed 64-bit; byte counts of one task never come near 2^63.
fn sqlite_integer(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records in a temporary folder holding one run with one planned task and one log line.
    fn one_run() -> (tempfile::TempDir, Records, i64) {
        let dir = tempfile::tempdir().unwrap();
        let records = Records::open(&dir.path().join("runs.sqlite")).unwrap();
        let run = NewRun { run_id: "r", flow: "f", parameter_file: None, parameters: "{}", runtime: "ci" };
        let id = records.start_run(&run).unwrap();
        records.plan_task(id, "t", "t", "key").unwrap();
        records.log(id, Some("t"), LogLevel::Warn, "retrying").unwrap();
        (dir, records, id)
    }

    /// Changes the stored file behind the records' back, as another program (or version) would.
    fn alter(dir: &tempfile::TempDir, sql: &str) {
        Connection::open(dir.path().join("runs.sqlite")).unwrap().execute(sql, []).unwrap();
    }

    #[test]
    fn states_and_levels_are_stored_as_the_words_earlier_versions_wrote() {
        let (dir, records, id) = one_run();
        records.task_finished(id, "t", &TaskReport::unmeasured(TaskState::Cached, 0, None)).unwrap();
        records.finish_run(id, true, None, None).unwrap();
        let raw = Connection::open(dir.path().join("runs.sqlite")).unwrap();
        let text = |sql: &str| raw.query_row(sql, [], |row| row.get::<_, String>(0)).unwrap();
        assert_eq!(text("SELECT state FROM runs"), "succeeded");
        assert_eq!(text("SELECT state || ' ' || cache_hit FROM tasks"), "cached 1");
        assert_eq!(text("SELECT level FROM logs"), "warn");
        assert_eq!(records.tasks(id).unwrap()[0].state, TaskState::Cached);
        assert_eq!(records.runs(1).unwrap()[0].state, RunState::Succeeded);
        assert_eq!(records.logs(id).unwrap()[0].level, LogLevel::Warn);
    }

    #[test]
    fn an_unknown_stored_word_is_an_error_naming_it() {
        let (dir, records, id) = one_run();
        alter(&dir, "UPDATE tasks SET state = 'exploded'");
        let error = records.tasks(id).unwrap_err();
        let EngineError::UnknownRecordValue { source, .. } = &error else { panic!("{error:?}") };
        assert_eq!((source.kind, source.value.as_str()), ("task state", "exploded"));
        let message = downscale_message::one_line(&error);
        assert!(message.contains("unknown task state 'exploded'") && message.contains("runs.sqlite"), "{message}");

        alter(&dir, "UPDATE runs SET state = 'paused'");
        for error in [records.runs(10).unwrap_err(), records.find_run("r").unwrap_err()] {
            assert!(error.to_string().contains("unknown run state 'paused'"), "{error}");
        }
        alter(&dir, "UPDATE logs SET level = 'trace'");
        assert!(records.logs(id).unwrap_err().to_string().contains("unknown log level 'trace'"));
        // Opening such a file still works: the sweep of interrupted runs reads no state it does not ask for.
        Records::open(&dir.path().join("runs.sqlite")).unwrap();
    }

    #[test]
    fn a_run_whose_process_is_gone_is_interrupted_with_its_running_task() {
        let (dir, records, id) = one_run();
        records.plan_task(id, "later", "later", "key").unwrap();
        records.task_started(id, "t").unwrap();
        // No process has this id: Linux's largest is 2^22.
        alter(&dir, &format!("UPDATE runs SET pid = {}", u32::MAX));
        let reopened = Records::open(&dir.path().join("runs.sqlite")).unwrap();
        assert_eq!(reopened.find_run("r").unwrap().unwrap().state, RunState::Interrupted);
        let states: Vec<TaskState> = reopened.tasks(id).unwrap().into_iter().map(|t| t.state).collect();
        assert_eq!(states, [TaskState::Interrupted, TaskState::Pending]);
    }
}

//! Run records in SQLite: runs, their tasks and log lines, so that `downscale runs` and the dashboard can answer
//! "what ran, what was cached, what failed and why, what did it cost" long after the terminal is gone.
//!
//! The database is opened in WAL mode with a busy timeout, so several processes (a run, `runs list`, the
//! dashboard) can use it at once. A run whose process died without finishing (killed, machine lost) stays
//! `running` in the file; opening the records marks such runs of this host `interrupted`.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, params};

pub use self::types::{
    LogFilter, LogRecord, NewRun, ResourceSample, RunFilter, RunRecord, RunSummary, TaskRecord, TaskReport,
};
pub use self::values::{LogLevel, RunState, TaskState, UnknownValue};
use crate::error::EngineError;

mod query;
mod schema;
mod types;
mod values;

/// The SQLite file of runs, tasks and log lines (`run_records`), shared by every run on a machine.
pub struct Records {
    connection: Connection,
    path: String,
}

impl Records {
    /// Opens (creating if needed) the records at `path`, bringing a file written by an earlier version up to
    /// date.
    pub fn open(path: &Path) -> Result<Records, EngineError> {
        let display = path.display().to_string();
        let fail = |e: &dyn std::fmt::Display| EngineError::Records { path: display.clone(), detail: e.to_string() };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| fail(&e))?;
        }
        let connection = Connection::open(path).map_err(|e| fail(&e))?;
        connection.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| fail(&e))?;
        connection.pragma_update(None, "journal_mode", "WAL").map_err(|e| fail(&e))?;
        // In WAL mode NORMAL cannot corrupt the file; it may lose the last lines written before a power cut, and
        // spares a sync per line, which matters when a run reports tiles and log lines by the hundred.
        connection.pragma_update(None, "synchronous", "NORMAL").map_err(|e| fail(&e))?;
        schema::bring_up_to_date(&connection).map_err(|e| fail(&e))?;
        let records = Records { connection, path: display };
        records.mark_interrupted()?;
        Ok(records)
    }

    /// Opens existing records for reading only, as a viewer does: nothing is created, changed or swept. The file
    /// must have been opened once by [`Records::open`] of this version (the dashboard does so when it starts).
    pub fn open_read_only(path: &Path) -> Result<Records, EngineError> {
        let display = path.display().to_string();
        let fail = |e: &dyn std::fmt::Display| EngineError::Records { path: display.clone(), detail: e.to_string() };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let connection = Connection::open_with_flags(path, flags).map_err(|e| fail(&e))?;
        connection.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| fail(&e))?;
        Ok(Records { connection, path: display })
    }

    /// The file's path, for messages.
    pub fn path(&self) -> &str {
        &self.path
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
                    "UPDATE tasks SET state = ?2 WHERE run = ?1 AND state IN (?3, ?4)",
                    params![id, TaskState::Interrupted, TaskState::Running, TaskState::Retrying],
                )
                .map_err(|e| self.fail(e))?;
        }
        Ok(())
    }

    /// Records a run as running on this host; returns its record number.
    pub fn start_run(&self, run: &NewRun) -> Result<i64, EngineError> {
        self.connection
            .execute(
                "INSERT INTO runs (run_id, flow, parameter_file, parameters, state, runtime, host, pid, started_at, batch)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    run.run_id,
                    run.flow,
                    run.parameter_file,
                    run.parameters,
                    RunState::Running,
                    run.runtime,
                    crate::resources::host_name(),
                    std::process::id(),
                    crate::now_utc(),
                    run.batch
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

    /// Records where the cluster's own dashboard of run `run` is.
    pub fn set_dashboard(&self, run: i64, dashboard: &str) -> Result<(), EngineError> {
        self.connection
            .execute("UPDATE runs SET dashboard = ?2 WHERE id = ?1", params![run, dashboard])
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Lists a task of the flow as pending, with the tasks it reads (its edges), so the records show what a run
    /// will do, and in what order, before it does it.
    pub fn plan_task(
        &self,
        run: i64,
        task_id: &str,
        name: &str,
        key: &str,
        inputs: &[&str],
    ) -> Result<(), EngineError> {
        let inputs = serde_json::to_string(inputs).map_err(|e| EngineError::Records {
            path: self.path.clone(),
            detail: format!("the inputs of task '{task_id}': {e}"),
        })?;
        self.connection
            .execute(
                "INSERT INTO tasks (run, task_id, name, cache_key, state, inputs) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![run, task_id, name, key, TaskState::Pending, inputs],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records that the task started (its cache is looked at first).
    pub fn task_started(&self, run: i64, task_id: &str) -> Result<(), EngineError> {
        self.connection
            .execute(
                "UPDATE tasks SET state = ?3, started_at = COALESCE(started_at, ?4) WHERE run = ?1 AND task_id = ?2",
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

    /// Records that an attempt of the task failed with a transient error and another will follow (the next
    /// attempt's start is recorded by [`Records::task_started`]).
    pub fn task_retrying(&self, run: i64, task_id: &str) -> Result<(), EngineError> {
        self.connection
            .execute(
                "UPDATE tasks SET state = ?3 WHERE run = ?1 AND task_id = ?2",
                params![run, task_id, TaskState::Retrying],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records how many of the task's tiles (or shards) are done, of how many.
    pub fn task_tiles(&self, run: i64, task_id: &str, done: u64, total: u64) -> Result<(), EngineError> {
        self.connection
            .execute(
                "UPDATE tasks SET tiles_done = ?3, tiles_total = ?4 WHERE run = ?1 AND task_id = ?2",
                params![run, task_id, sqlite_integer(done), sqlite_integer(total)],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records the cluster jobs that run the task (`12345`, `12346_[0-7]`).
    pub fn task_jobs(&self, run: i64, task_id: &str, jobs: &str) -> Result<(), EngineError> {
        self.connection
            .execute("UPDATE tasks SET jobs = ?3 WHERE run = ?1 AND task_id = ?2", params![run, task_id, jobs])
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records what the process running run `run` uses now.
    pub fn sample(&self, run: i64, cpu_cores: f64, rss_bytes: u64) -> Result<(), EngineError> {
        self.connection
            .execute(
                "INSERT INTO samples (run, at, cpu_cores, rss_bytes) VALUES (?1, ?2, ?3, ?4)",
                params![run, crate::now_utc(), cpu_cores, sqlite_integer(rss_bytes)],
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

    /// Records many log lines of run `run` at once, each about a task or (`None`) the run, in one transaction.
    /// [`Records::log`] commits each line on its own, and a commit per line costs tens of microseconds: the million
    /// lines that `downscale bench dashboard` writes (the records of a machine that has run for years, to time the
    /// dashboard against) take a minute more that way than this way.
    pub fn log_many(&self, run: i64, lines: &[(Option<&str>, LogLevel, &str)]) -> Result<(), EngineError> {
        let transaction = self.connection.unchecked_transaction().map_err(|e| self.fail(e))?;
        {
            let mut statement = transaction
                .prepare_cached("INSERT INTO logs (run, task_id, at, level, message) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(|e| self.fail(e))?;
            let at = crate::now_utc();
            for (task_id, level, message) in lines {
                statement.execute(params![run, task_id, at, level, message]).map_err(|e| self.fail(e))?;
            }
        }
        transaction.commit().map_err(|e| self.fail(e))
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
        let run = NewRun { run_id: "r", flow: "f", parameter_file: None, parameters: "{}", runtime: "ci", batch: None };
        let id = records.start_run(&run).unwrap();
        records.plan_task(id, "t", "t", "key", &[]).unwrap();
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
        records.plan_task(id, "later", "later", "key", &["t"]).unwrap();
        records.task_started(id, "t").unwrap();
        // No process has this id: Linux's largest is 2^22.
        alter(&dir, &format!("UPDATE runs SET pid = {}", u32::MAX));
        let reopened = Records::open(&dir.path().join("runs.sqlite")).unwrap();
        assert_eq!(reopened.find_run("r").unwrap().unwrap().state, RunState::Interrupted);
        let states: Vec<TaskState> = reopened.tasks(id).unwrap().into_iter().map(|t| t.state).collect();
        assert_eq!(states, [TaskState::Interrupted, TaskState::Pending]);
    }

    #[test]
    fn a_file_of_an_earlier_version_gains_the_new_columns_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.sqlite");
        {
            // The tables as the first versions wrote them, with a finished run.
            let old = Connection::open(&path).unwrap();
            old.execute_batch(
                "CREATE TABLE runs (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, flow TEXT NOT NULL,
                   parameter_file TEXT, parameters TEXT NOT NULL, state TEXT NOT NULL, runtime TEXT NOT NULL,
                   host TEXT NOT NULL, pid INTEGER NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, manifest TEXT,
                   error TEXT);
                 CREATE TABLE tasks (run INTEGER NOT NULL, task_id TEXT NOT NULL, name TEXT NOT NULL,
                   cache_key TEXT NOT NULL, state TEXT NOT NULL, cache_hit INTEGER NOT NULL DEFAULT 0,
                   attempts INTEGER NOT NULL DEFAULT 0, started_at TEXT, ended_at TEXT, wall_seconds REAL,
                   cpu_seconds REAL, peak_rss_bytes INTEGER, bytes_read INTEGER, bytes_written INTEGER, error TEXT,
                   PRIMARY KEY (run, task_id));
                 CREATE TABLE logs (run INTEGER NOT NULL, task_id TEXT, at TEXT NOT NULL, level TEXT NOT NULL,
                   message TEXT NOT NULL);
                 INSERT INTO runs VALUES (1, 'old', 'bcsd', NULL, '{}', 'succeeded', 'ci', 'h', 1, 't', 't', NULL,
                   NULL);
                 INSERT INTO tasks (run, task_id, name, cache_key, state) VALUES (1, 'a', 'a', 'k', 'succeeded');",
            )
            .unwrap();
        }
        let records = Records::open(&path).unwrap();
        let run = records.find_run("old").unwrap().unwrap();
        assert_eq!((run.dashboard, run.batch), (None, None));
        let task = &records.tasks(1).unwrap()[0];
        assert_eq!((task.inputs.len(), task.tiles_total, task.jobs.as_deref()), (0, None, None));
        // Opening it again changes nothing.
        Records::open(&path).unwrap();
        assert_eq!(records.runs(10).unwrap().len(), 1);
    }

    #[test]
    fn edges_tiles_retries_jobs_and_samples_read_back() {
        let (_dir, records, id) = one_run();
        records.plan_task(id, "b", "b", "key", &["t"]).unwrap();
        records.task_started(id, "t").unwrap();
        let first_start = records.tasks(id).unwrap()[0].started_at.clone();
        records.task_retrying(id, "t").unwrap();
        assert_eq!(records.tasks(id).unwrap()[0].state, TaskState::Retrying);
        records.task_started(id, "t").unwrap();
        let task = &records.tasks(id).unwrap()[0];
        assert_eq!((task.state, &task.started_at), (TaskState::Running, &first_start), "a retry keeps the start");
        records.task_tiles(id, "t", 3, 8).unwrap();
        records.task_jobs(id, "t", "12_[0,1]").unwrap();
        records.set_dashboard(id, "http://127.0.0.1:8787/status").unwrap();
        records.sample(id, 1.5, 1 << 30).unwrap();
        let tasks = records.tasks(id).unwrap();
        assert_eq!(
            (tasks[0].tiles_done, tasks[0].tiles_total, tasks[0].jobs.as_deref()),
            (Some(3), Some(8), Some("12_[0,1]"))
        );
        assert_eq!(tasks[1].inputs, ["t"]);
        assert_eq!(records.find_run("r").unwrap().unwrap().dashboard.as_deref(), Some("http://127.0.0.1:8787/status"));
        let samples = records.samples(id).unwrap();
        assert_eq!((samples.len(), samples[0].cpu_cores, samples[0].rss_bytes), (1, 1.5, 1 << 30));
    }

    #[test]
    fn run_lists_filter_and_page_and_count_tasks() {
        let (_dir, records, first) = one_run();
        records.task_finished(first, "t", &TaskReport::unmeasured(TaskState::Cached, 0, None)).unwrap();
        records.finish_run(first, true, None, None).unwrap();
        let second = records
            .start_run(&NewRun {
                run_id: "pr_gard",
                flow: "gard",
                parameter_file: Some("params/pr.json"),
                parameters: r#"{"variable": "pr"}"#,
                runtime: "local",
                batch: Some("params 2026"),
            })
            .unwrap();
        records.plan_task(second, "a", "a", "k", &[]).unwrap();
        records.plan_task(second, "b", "b", "k", &["a"]).unwrap();
        let all = records.run_summaries(&RunFilter { limit: 10, ..RunFilter::default() }).unwrap();
        let ids: Vec<i64> = all.iter().map(|s| s.run.id).collect();
        assert_eq!(ids, [second, first], "newest first");
        assert_eq!((all[0].tasks_total, all[0].tasks_ended, all[1].tasks_total, all[1].tasks_ended), (2, 0, 1, 1));
        let running = RunFilter { state: Some(RunState::Running), limit: 10, ..RunFilter::default() };
        assert_eq!(records.run_summaries(&running).unwrap()[0].run.run_id, "pr_gard");
        let by_flow = RunFilter { flow: Some("f".into()), limit: 10, ..RunFilter::default() };
        assert_eq!(records.run_summaries(&by_flow).unwrap()[0].run.id, first);
        let by_text = RunFilter { text: Some("PARAMS/PR".into()), limit: 10, ..RunFilter::default() };
        assert_eq!(records.run_summaries(&by_text).unwrap().len(), 1);
        let next_page = RunFilter { before: Some(second), limit: 1, ..RunFilter::default() };
        assert_eq!(records.run_summaries(&next_page).unwrap()[0].run.id, first);
        let none = RunFilter { text: Some("nothing like it".into()), limit: 10, ..RunFilter::default() };
        assert!(records.run_summaries(&none).unwrap().is_empty());
    }

    #[test]
    fn a_watcher_finds_the_run_its_own_process_started_after_it_began() {
        let (dir, records, first) = one_run();
        // Times are written to the millisecond: the watcher starts a little after the first run did.
        std::thread::sleep(std::time::Duration::from_millis(5));
        let since = crate::now_utc();
        assert_eq!(records.run_of_process("r", std::process::id(), &since).unwrap(), None, "started before");
        let new = NewRun { run_id: "r", flow: "f", parameter_file: None, parameters: "{}", runtime: "ci", batch: None };
        let second = records.start_run(&new).unwrap();
        let found = records.run_of_process("r", std::process::id(), &since).unwrap().map(|run| run.id);
        assert_eq!(found, Some(second));
        assert!(second > first);
        // Another process's run of the same id is not this one's.
        alter(&dir, &format!("UPDATE runs SET pid = {} WHERE id = {second}", u32::MAX));
        assert_eq!(records.run_of_process("r", std::process::id(), &since).unwrap(), None);
    }

    #[test]
    fn log_pages_are_the_last_lines_or_those_after_one_filtered_by_level_and_task() {
        let (_dir, records, id) = one_run();
        for n in 0..10 {
            let (task, level) = if n % 2 == 0 { (Some("t"), LogLevel::Info) } else { (None, LogLevel::Error) };
            records.log(id, task, level, &format!("line {n}")).unwrap();
        }
        let messages = |filter: LogFilter| -> Vec<String> {
            records.log_page(id, &filter).unwrap().into_iter().map(|l| l.message).collect()
        };
        assert_eq!(messages(LogFilter { limit: 2, ..LogFilter::default() }), ["line 8", "line 9"]);
        let all = records.logs(id).unwrap();
        assert_eq!(all.len(), 11);
        let after = all[5].seq;
        assert_eq!(messages(LogFilter { after: Some(after), limit: 2, ..LogFilter::default() }), ["line 5", "line 6"]);
        let errors = LogFilter { level: Some(LogLevel::Error), limit: 100, ..LogFilter::default() };
        assert_eq!(messages(errors).len(), 5);
        let of_task =
            LogFilter { task: Some("t".into()), level: Some(LogLevel::Info), limit: 100, ..LogFilter::default() };
        assert_eq!(messages(of_task), ["line 0", "line 2", "line 4", "line 6", "line 8"]);
    }

    #[test]
    fn many_lines_at_once_read_back_in_order_after_the_earlier_ones() {
        let (_dir, records, id) = one_run();
        records.log_many(id, &[(None, LogLevel::Info, "first"), (Some("t"), LogLevel::Error, "second")]).unwrap();
        records.log_many(id, &[]).unwrap();
        let lines: Vec<(Option<String>, LogLevel, String)> =
            records.logs(id).unwrap().into_iter().map(|l| (l.task_id, l.level, l.message)).collect();
        assert_eq!(
            lines,
            [
                (Some("t".into()), LogLevel::Warn, "retrying".into()),
                (None, LogLevel::Info, "first".into()),
                (Some("t".into()), LogLevel::Error, "second".into())
            ]
        );
    }
}

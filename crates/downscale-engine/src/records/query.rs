//! Reading the run records: what `downscale runs` prints and the dashboard serves. Every list is bounded and
//! answered from an index (runs by number, tasks by run, log lines and samples by run), so a file of many thousands
//! of runs and millions of log lines answers a page in milliseconds.

use rusqlite::types::Value;
use rusqlite::{Row, params_from_iter};

use super::types::{LogFilter, LogRecord, ResourceSample, RunFilter, RunRecord, RunSummary, TaskRecord};
use super::values::TaskState;
use super::{Records, sqlite_integer};
use crate::error::EngineError;

impl Records {
    /// The newest runs first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, EngineError> {
        self.query_runs("SELECT * FROM runs ORDER BY id DESC LIMIT ?1", vec![Value::from(limit_value(limit))])
    }

    /// A run by its number, or the newest run with that run id.
    pub fn find_run(&self, selector: &str) -> Result<Option<RunRecord>, EngineError> {
        if let Ok(id) = selector.parse::<i64>() {
            return Ok(self.query_runs("SELECT * FROM runs WHERE id = ?1", vec![Value::from(id)])?.pop());
        }
        self.latest_run(selector)
    }

    /// The newest run of `run_id`, taken as a run id even when it is all digits (unlike [`Records::find_run`]).
    pub fn latest_run(&self, run_id: &str) -> Result<Option<RunRecord>, EngineError> {
        let sql = "SELECT * FROM runs WHERE run_id = ?1 ORDER BY id DESC LIMIT 1";
        Ok(self.query_runs(sql, vec![Value::from(run_id.to_string())])?.pop())
    }

    /// The newest run of `run_id` that process `pid` of this host started at or after `since` (RFC 3339 UTC, as the
    /// records write times, which sort as text): a watcher's own run, never an earlier run of the same id nor one
    /// another process runs at the same time.
    pub fn run_of_process(&self, run_id: &str, pid: u32, since: &str) -> Result<Option<RunRecord>, EngineError> {
        let sql = "SELECT * FROM runs WHERE run_id = ?1 AND pid = ?2 AND host = ?3 AND started_at >= ?4 \
                   ORDER BY id DESC LIMIT 1";
        let values = vec![
            Value::from(run_id.to_string()),
            Value::from(i64::from(pid)),
            Value::from(crate::resources::host_name()),
            Value::from(since.to_string()),
        ];
        Ok(self.query_runs(sql, values)?.pop())
    }

    /// The runs `filter` selects, newest first, each with how far its tasks are.
    pub fn run_summaries(&self, filter: &RunFilter) -> Result<Vec<RunSummary>, EngineError> {
        let mut values: Vec<Value> = Vec::new();
        let mut sql = String::from("SELECT * FROM runs WHERE 1");
        if let Some(state) = filter.state {
            let state = bind(&mut values, state.as_str().to_string());
            sql.push_str(&format!(" AND state = {state}"));
        }
        if let Some(flow) = &filter.flow {
            let flow = bind(&mut values, flow.clone());
            sql.push_str(&format!(" AND flow = {flow}"));
        }
        if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
            let text = bind(&mut values, text.to_ascii_lowercase());
            sql.push_str(&format!(
                " AND (instr(lower(run_id), {text}) OR instr(lower(ifnull(parameter_file, '')), {text}) \
                 OR instr(lower(parameters), {text}) OR instr(lower(ifnull(error, '')), {text}))"
            ));
        }
        if let Some(before) = filter.before {
            let before = bind(&mut values, before);
            sql.push_str(&format!(" AND id < {before}"));
        }
        let limit = bind(&mut values, limit_value(filter.limit));
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {limit}"));
        let runs = self.query_runs(&sql, values)?;
        let counts = self.task_counts(&runs)?;
        Ok(runs
            .into_iter()
            .map(|run| {
                let (tasks_total, tasks_ended) = counts.get(&run.id).copied().unwrap_or((0, 0));
                RunSummary { run, tasks_total, tasks_ended }
            })
            .collect())
    }

    /// For each run: its tasks, and those ended.
    fn task_counts(&self, runs: &[RunRecord]) -> Result<std::collections::HashMap<i64, (u64, u64)>, EngineError> {
        let mut counts = std::collections::HashMap::new();
        if runs.is_empty() {
            return Ok(counts);
        }
        let ended = [TaskState::Succeeded, TaskState::Cached, TaskState::Failed];
        let placeholders = vec!["?"; runs.len()].join(", ");
        let sql = format!(
            "SELECT run, COUNT(*), SUM(state IN ('{}', '{}', '{}')) FROM tasks WHERE run IN ({placeholders}) \
             GROUP BY run",
            ended[0], ended[1], ended[2]
        );
        let mut statement = self.connection.prepare(&sql).map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map(params_from_iter(runs.iter().map(|r| r.id)), |row| {
                Ok((row.get::<_, i64>(0)?, (row.get::<_, i64>(1)? as u64, row.get::<_, i64>(2)? as u64)))
            })
            .map_err(|e| self.fail(e))?;
        for row in rows {
            let (run, count) = row.map_err(|e| self.fail(e))?;
            counts.insert(run, count);
        }
        Ok(counts)
    }

    fn query_runs(&self, sql: &str, values: Vec<Value>) -> Result<Vec<RunRecord>, EngineError> {
        let mut statement = self.connection.prepare(sql).map_err(|e| self.fail(e))?;
        let rows = statement.query_map(params_from_iter(values), run_record).map_err(|e| self.fail(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.fail(e))
    }

    /// The tasks of run `run`, in the order they were planned.
    pub fn tasks(&self, run: i64) -> Result<Vec<TaskRecord>, EngineError> {
        let mut statement =
            self.connection.prepare("SELECT * FROM tasks WHERE run = ?1 ORDER BY rowid").map_err(|e| self.fail(e))?;
        let rows = statement.query_map([run], task_record).map_err(|e| self.fail(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.fail(e))
    }

    /// Every log line of run `run`, in the order written.
    pub fn logs(&self, run: i64) -> Result<Vec<LogRecord>, EngineError> {
        self.log_page(run, &LogFilter { limit: usize::MAX, after: Some(0), ..LogFilter::default() })
    }

    /// The log lines of run `run` that `filter` selects, in the order written.
    pub fn log_page(&self, run: i64, filter: &LogFilter) -> Result<Vec<LogRecord>, EngineError> {
        let mut values = Vec::new();
        let run = bind(&mut values, run);
        let mut sql = format!("SELECT rowid, task_id, at, level, message FROM logs WHERE run = {run}");
        if let Some(level) = filter.level {
            let level = bind(&mut values, level.as_str().to_string());
            sql.push_str(&format!(" AND level = {level}"));
        }
        if let Some(task) = &filter.task {
            let task = bind(&mut values, task.clone());
            sql.push_str(&format!(" AND task_id = {task}"));
        }
        let limit = bind(&mut values, limit_value(filter.limit));
        // Without `after`, the last lines: taken newest first through the index, then put back in order.
        let newest_first = filter.after.is_none();
        match filter.after {
            Some(after) => {
                let after = bind(&mut values, after);
                sql.push_str(&format!(" AND rowid > {after} ORDER BY rowid LIMIT {limit}"));
            }
            None => sql.push_str(&format!(" ORDER BY rowid DESC LIMIT {limit}")),
        }
        let mut statement = self.connection.prepare(&sql).map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map(params_from_iter(values), |row| {
                Ok(LogRecord {
                    seq: row.get(0)?,
                    task_id: row.get(1)?,
                    at: row.get(2)?,
                    level: row.get(3)?,
                    message: row.get(4)?,
                })
            })
            .map_err(|e| self.fail(e))?;
        let mut lines = rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.fail(e))?;
        if newest_first {
            lines.reverse();
        }
        Ok(lines)
    }

    /// The resources sampled while run `run` ran, oldest first.
    pub fn samples(&self, run: i64) -> Result<Vec<ResourceSample>, EngineError> {
        let mut statement = self
            .connection
            .prepare("SELECT at, cpu_cores, rss_bytes FROM samples WHERE run = ?1 ORDER BY rowid")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([run], |row| {
                Ok(ResourceSample { at: row.get(0)?, cpu_cores: row.get(1)?, rss_bytes: row.get::<_, i64>(2)? as u64 })
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.fail(e))
    }
}

/// Adds a value to bind and returns its numbered placeholder.
fn bind(values: &mut Vec<Value>, value: impl Into<Value>) -> String {
    values.push(value.into());
    format!("?{}", values.len())
}

/// SQLite's LIMIT is a signed 64-bit integer; "no limit" is the largest.
fn limit_value(limit: usize) -> i64 {
    sqlite_integer(limit as u64)
}

fn run_record(row: &Row) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: row.get("id")?,
        run_id: row.get("run_id")?,
        flow: row.get("flow")?,
        parameter_file: row.get("parameter_file")?,
        parameters: row.get("parameters")?,
        state: row.get("state")?,
        runtime: row.get("runtime")?,
        host: row.get("host")?,
        pid: row.get("pid")?,
        started_at: row.get("started_at")?,
        ended_at: row.get("ended_at")?,
        manifest: row.get("manifest")?,
        error: row.get("error")?,
        dashboard: row.get("dashboard")?,
        batch: row.get("batch")?,
    })
}

fn task_record(row: &Row) -> rusqlite::Result<TaskRecord> {
    let count = |name: &str| row.get::<_, Option<i64>>(name).map(|v| v.map(|v| v as u64));
    // Edges are written by this crate as a JSON list of ids; records from before edges were kept have none.
    let inputs = row
        .get::<_, Option<String>>("inputs")?
        .map(|text| serde_json::from_str::<Vec<String>>(&text))
        .transpose()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))?
        .unwrap_or_default();
    Ok(TaskRecord {
        task_id: row.get("task_id")?,
        name: row.get("name")?,
        cache_key: row.get("cache_key")?,
        inputs,
        state: row.get("state")?,
        cache_hit: row.get("cache_hit")?,
        attempts: row.get("attempts")?,
        started_at: row.get("started_at")?,
        ended_at: row.get("ended_at")?,
        wall_seconds: row.get("wall_seconds")?,
        cpu_seconds: row.get("cpu_seconds")?,
        peak_rss_bytes: count("peak_rss_bytes")?,
        bytes_read: count("bytes_read")?,
        bytes_written: count("bytes_written")?,
        error: row.get("error")?,
        tiles_total: count("tiles_total")?,
        tiles_done: count("tiles_done")?,
        jobs: row.get("jobs")?,
    })
}

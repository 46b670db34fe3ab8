//! The tables of the run records, and how a file written by an earlier version is brought up to them.
//!
//! Tables are only ever extended: a column is added with `ALTER TABLE ... ADD COLUMN` (NULL in old rows, which every
//! reader takes as "not recorded"), never renamed or dropped, so a file stays readable by the version that wrote it.

use rusqlite::Connection;

/// The tables as the first versions created them.
const TABLES: &str = "
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
CREATE TABLE IF NOT EXISTS samples (
    run INTEGER NOT NULL REFERENCES runs(id),
    at TEXT NOT NULL,
    cpu_cores REAL NOT NULL,
    rss_bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_by_run ON samples(run);
CREATE INDEX IF NOT EXISTS runs_by_state ON runs(state);
-- The newest run of a run id: `runs show`, `batch status` and the API look runs up by it.
CREATE INDEX IF NOT EXISTS runs_by_run_id ON runs(run_id);
";

/// Columns added after the first versions: `(table, column, declaration)`.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    // Where the cluster's own dashboard of the run is (Dask), when it has one.
    ("runs", "dashboard", "TEXT"),
    // The `downscale batch` invocation the run belongs to, so lists can group a batch's runs.
    ("runs", "batch", "TEXT"),
    // The ids of the tasks whose artifacts it reads, as a JSON array: the edges of the flow's graph.
    ("tasks", "inputs", "TEXT"),
    // Tiles or shards of a task that announces them, and how many are done.
    ("tasks", "tiles_total", "INTEGER"),
    ("tasks", "tiles_done", "INTEGER"),
    // The cluster jobs that ran it (`12345`, `12346_[0-7]`), for a runtime on a cluster.
    ("tasks", "jobs", "TEXT"),
];

/// Creates the tables and adds the columns an older file lacks, in one write transaction, so two processes opening
/// an old file at once do not both add a column.
pub(super) fn bring_up_to_date(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch("BEGIN IMMEDIATE")?;
    let changed = (|| {
        connection.execute_batch(TABLES)?;
        for (table, column, declaration) in ADDED_COLUMNS {
            if !has_column(connection, table, column)? {
                connection.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {declaration}"))?;
            }
        }
        Ok(())
    })();
    match changed {
        Ok(()) => connection.execute_batch("COMMIT"),
        Err(error) => {
            let _ = connection.execute_batch("ROLLBACK");
            Err(error)
        }
    }
}

fn has_column(connection: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    let mut statement = connection.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = statement.query_map([], |row| row.get::<_, String>("name"))?;
    for name in names {
        if name? == column {
            return Ok(true);
        }
    }
    Ok(false)
}

//! A run followed in the run records and mirrored to Prefect, from a thread of its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use downscale_engine::records::LogFilter;
use downscale_engine::{Records, RunRecord};
use downscale_message::one_line;
use serde_json::Value;

use crate::client::{Client, LogLine, NewFlowRun, NewTaskRun, PrefectApi};
use crate::error::PrefectError;
use crate::states::{self, State};

/// How often the records are read: Prefect's UI refreshes about as often.
const POLL: Duration = Duration::from_secs(1);

/// Failed syncs in a row after which a busy server is given up on: about three polls of a run, or three tries of its
/// last sync, each waiting at most the client's timeout.
const PATIENCE: u32 = 3;

/// Log lines per request: a run's first sync may hold hundreds, and Prefect takes them as one list.
const LOG_BATCH: usize = 200;

/// The mirror of one run: started before the run, finished after it.
///
/// The run itself is never failed by it, nor slowed while it runs. Its thread reads the records and talks to
/// Prefect; when Prefect cannot be reached or refuses a call (or the records cannot be read), it logs one warning and
/// mirrors nothing more of that run, except that a busy server (a timeout, a server error) is tried again a few
/// times first.
pub struct Mirror {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Mirror {
    /// Starts following the run `run_id` that this process is about to record in the records at `records`: the
    /// newest run of that id with this process's pid, started at or after now (so an earlier run of the same id,
    /// or one another process runs at the same time, is never taken for it).
    pub fn start(api: &PrefectApi, records: &Path, run_id: &str) -> Mirror {
        let follower = Follower {
            api: api.clone(),
            records: records.to_path_buf(),
            run_id: run_id.to_owned(),
            pid: std::process::id(),
            since: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        let (stop, stopped) = mpsc::channel();
        let spawned = std::thread::Builder::new().name("prefect-mirror".into()).spawn(move || follower.follow(stopped));
        match spawned {
            Ok(thread) => Mirror { stop: Some(stop), thread: Some(thread) },
            Err(error) => {
                tracing::warn!("run {run_id} is not reported to Prefect: no thread for it ({error})");
                Mirror { stop: None, thread: None }
            }
        }
    }

    /// Sends what changed since the last poll (the run's end, its last tasks and lines) and waits for it. A
    /// mirror that is dropped does the same, so a run that ends in an error still shows how it ended.
    pub fn finish(self) {
        drop(self);
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        // The thread takes a closed channel as the signal for its last sync.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the mirror's thread needs to find its run.
struct Follower {
    api: PrefectApi,
    records: PathBuf,
    run_id: String,
    pid: u32,
    /// When the mirror started, as the records write times (RFC 3339 UTC, milliseconds), which sort as text.
    since: String,
}

impl Follower {
    /// Syncs every [`POLL`] and once more when told to stop. A server that is busy (a timeout, a 5xx) is tried again
    /// at the next poll, and the last sync at once, up to [`PATIENCE`] times in a row; any other failure, or running
    /// out of patience, ends the mirroring. Either way the first trouble is the one warning.
    fn follow(self, stopped: Receiver<()>) {
        let mut session = match Session::open(&self) {
            Ok(session) => session,
            Err(error) => return self.give_up(&error, false),
        };
        let (mut failures, mut warned) = (0, false);
        loop {
            let last = !matches!(stopped.recv_timeout(POLL), Err(RecvTimeoutError::Timeout));
            loop {
                match session.step(&self) {
                    Ok(()) => {
                        failures = 0;
                        break;
                    }
                    Err(error) => {
                        failures += 1;
                        if !error.is_passing() || failures >= PATIENCE {
                            return self.give_up(&error, warned);
                        }
                        if !warned {
                            tracing::warn!(
                                "run {}: {}; reporting to Prefect goes on when it answers, and the run goes on",
                                self.run_id,
                                one_line(&error)
                            );
                            warned = true;
                        }
                        // Until the run ends, the next poll tries again; its last sync is tried again at once.
                        if !last {
                            break;
                        }
                    }
                }
            }
            if last {
                return;
            }
        }
    }

    /// Ends the mirroring: with the one warning, unless the trouble was already warned of.
    fn give_up(&self, error: &PrefectError, warned: bool) {
        let message = format!("run {} is not reported to Prefect any more ({})", self.run_id, one_line(error));
        if warned {
            tracing::debug!("{message}");
        } else {
            tracing::warn!("{message}; the run goes on");
        }
    }
}

/// The records, the server, and what has been sent so far.
struct Session {
    client: Client,
    records: Records,
    records_path: String,
    run: Option<Mirrored>,
}

/// A run mirrored as a flow run.
struct Mirrored {
    record: i64,
    flow_run: String,
    state: State,
    /// Each task's task run and the state last sent for it.
    tasks: HashMap<String, (String, State)>,
    /// The place ([`LogRecord::seq`](downscale_engine::records::LogRecord::seq)) of the last log line sent.
    last_line: i64,
}

impl Session {
    fn open(follower: &Follower) -> Result<Session, PrefectError> {
        let records_path = follower.records.display().to_string();
        let records = Records::open(&follower.records).map_err(|e| unreadable(&records_path, &e))?;
        let client = Client::new(&follower.api)?;
        Ok(Session { client, records, records_path, run: None })
    }

    /// Sends what changed: the flow run once the run is recorded, then new task runs and changed states, new log
    /// lines, and last the run's own state, so that a finished flow run already shows all its tasks.
    fn step(&mut self, follower: &Follower) -> Result<(), PrefectError> {
        if self.run.is_none() {
            let found = self.records.run_of_process(&follower.run_id, follower.pid, &follower.since);
            let Some(run) = found.map_err(|e| unreadable(&self.records_path, &e))? else { return Ok(()) };
            self.run = Some(self.create_flow_run(&run)?);
        }
        let Some(mirrored) = self.run.as_mut() else { return Ok(()) };
        let record = mirrored.record;
        let tasks = self.records.tasks(record).map_err(|e| unreadable(&self.records_path, &e))?;
        for task in &tasks {
            let state = states::of_task(task);
            match mirrored.tasks.get_mut(&task.task_id) {
                None => {
                    let new = NewTaskRun {
                        flow_run_id: &mirrored.flow_run,
                        task_key: &task.name,
                        dynamic_key: &task.task_id,
                        state: &state,
                    };
                    let id = self.client.create_task_run(&new)?;
                    mirrored.tasks.insert(task.task_id.clone(), (id, state));
                }
                Some((id, sent)) if *sent != state => {
                    self.client.set_task_run_state(id, &state)?;
                    *sent = state;
                }
                Some(_) => {}
            }
        }
        loop {
            let page = LogFilter { after: Some(mirrored.last_line), limit: LOG_BATCH, ..LogFilter::default() };
            let batch = self.records.log_page(record, &page).map_err(|e| unreadable(&self.records_path, &e))?;
            let Some(last) = batch.last() else { break };
            let lines: Vec<LogLine> = batch
                .iter()
                .map(|line| LogLine {
                    name: "downscale",
                    level: states::log_level(line.level),
                    message: &line.message,
                    timestamp: &line.at,
                    flow_run_id: &mirrored.flow_run,
                    task_run_id: line.task_id.as_ref().and_then(|t| mirrored.tasks.get(t)).map(|(id, _)| id.as_str()),
                })
                .collect();
            self.client.send_logs(&lines)?;
            mirrored.last_line = last.seq;
        }
        let run = self.record(record)?;
        let state = states::of_run(&run);
        let Some(mirrored) = self.run.as_mut() else { return Ok(()) };
        if state != mirrored.state {
            self.client.set_flow_run_state(&mirrored.flow_run, &state)?;
            mirrored.state = state;
        }
        Ok(())
    }

    fn record(&self, record: i64) -> Result<RunRecord, PrefectError> {
        let found = self.records.find_run(&record.to_string()).map_err(|e| unreadable(&self.records_path, &e))?;
        found.ok_or_else(|| PrefectError::Records {
            path: self.records_path.clone(),
            detail: format!("run record {record} is gone"),
        })
    }

    /// The flow run of `run`, created pending.
    fn create_flow_run(&self, run: &RunRecord) -> Result<Mirrored, PrefectError> {
        let flow_id = self.client.flow(&run.flow)?;
        // The records hold the parameters as a JSON object; anything else is shown as its text.
        let parameters = match serde_json::from_str(&run.parameters) {
            Ok(Value::Object(parameters)) => Value::Object(parameters),
            _ => serde_json::json!({ "parameters": run.parameters }),
        };
        let new = NewFlowRun {
            flow_id: &flow_id,
            name: &run.run_id,
            parameters,
            tags: vec!["downscale".to_owned(), format!("runtime:{}", run.runtime)],
        };
        let flow_run = self.client.create_flow_run(&new)?;
        // Kept from here as pending: the state the server holds. The sync that follows sets it running (or
        // further), and a failure of that call is tried again without making a second flow run.
        Ok(Mirrored { record: run.id, flow_run, state: State::pending(), tasks: HashMap::new(), last_line: 0 })
    }
}

/// The records at `path` could not be read.
fn unreadable(path: &str, error: &(dyn std::error::Error + 'static)) -> PrefectError {
    PrefectError::Records { path: path.to_owned(), detail: one_line(error) }
}

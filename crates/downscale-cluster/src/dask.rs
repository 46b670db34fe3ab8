//! The `dask` runtime's cluster: a small Python program (`dask_driver.py`, built into this binary and run with
//! `runtimes.dask.python`) connects to the scheduler at `runtimes.dask.scheduler_address`, or starts a LocalCluster
//! when there is none, and runs each job's `downscale task` command on a worker. Only an address is needed, so any
//! Dask cluster serves (dask-jobqueue on a batch system, dask-gateway, dask-kubernetes). This side speaks JSON lines
//! with the driver over its standard input and output; the protocol is described in the driver.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use downscale_config::DaskRuntime;
use downscale_engine::{Cluster, EngineError, JobRef, JobRequest, JobStatus};
use downscale_message::one_line_text;
use serde_json::{Value, json};

/// The driver program, run with `python -c`.
const DRIVER: &str = include_str!("dask_driver.py");

/// How long the driver may take to connect or start a LocalCluster (worker processes import numpy and dask).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(120);

/// Jobs on a Dask cluster, as `runtimes.dask` configures them.
pub(crate) struct DaskCluster {
    settings: DaskRuntime,
    /// Each worker's memory in bytes (a share of RAM resolved already).
    memory_limit: u64,
    /// The working directory of every job: this process's, as for Slurm.
    work_dir: String,
    driver: Mutex<Option<Driver>>,
}

/// The running driver and what it has said.
struct Driver {
    child: Child,
    requests: ChildStdin,
    events: Receiver<Value>,
    statuses: HashMap<String, JobStatus>,
    /// Each array job's elements, so that waiting on the whole array waits on each.
    arrays: HashMap<String, Vec<usize>>,
    dashboard: Option<String>,
    next_job: u64,
}

impl DaskCluster {
    pub(crate) fn new(settings: DaskRuntime, memory_limit: u64) -> DaskCluster {
        let work_dir = std::env::current_dir().map(|dir| dir.display().to_string()).unwrap_or_else(|_| ".".into());
        DaskCluster { settings, memory_limit, work_dir, driver: Mutex::new(None) }
    }

    fn driver(&self) -> MutexGuard<'_, Option<Driver>> {
        self.driver.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Where the jobs run, for messages: the scheduler's address or the local cluster.
    fn place(&self) -> String {
        match &self.settings.scheduler_address {
            Some(address) => format!("runtimes.dask.scheduler_address = '{address}'"),
            None => "a local cluster".to_string(),
        }
    }

    /// Starts the driver and waits until it is connected.
    fn start(&self) -> Result<Driver, EngineError> {
        let settings = json!({
            "scheduler_address": self.settings.scheduler_address,
            "n_workers": self.settings.n_workers,
            "threads_per_worker": self.settings.threads_per_worker,
            "memory_limit": self.memory_limit,
        });
        let python = &self.settings.python;
        let mut child = Command::new(python)
            .args(["-c", DRIVER, &settings.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| match error.kind() {
                std::io::ErrorKind::NotFound => {
                    problem(format!("runtimes.dask.python = '{python}' is not a program here (or not on PATH)"))
                }
                _ => problem(format!("cannot start runtimes.dask.python = '{python}': {error}")),
            })?;
        let requests = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, events) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(event) = serde_json::from_str::<Value>(&line)
                    && sender.send(event).is_err()
                {
                    break;
                }
            }
        });
        let mut driver = Driver {
            child,
            requests,
            events,
            statuses: HashMap::new(),
            arrays: HashMap::new(),
            dashboard: None,
            next_job: 1,
        };
        let first = match driver.events.recv_timeout(CONNECT_TIMEOUT) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => {
                let _ = driver.child.kill();
                return Err(problem(format!("{} did not answer within {} s", self.place(), CONNECT_TIMEOUT.as_secs())));
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = driver.child.wait().map(|s| s.to_string()).unwrap_or_default();
                return Err(problem(format!("the driver ({python}) ended before connecting ({status})")));
            }
        };
        match first["event"].as_str() {
            Some("ready") => {
                driver.dashboard = first["dashboard"].as_str().map(str::to_string);
                Ok(driver)
            }
            _ => {
                let _ = driver.child.wait();
                let said = one_line_text(first["message"].as_str().unwrap_or("no reason given"));
                Err(problem(match first["kind"].as_str() {
                    Some("import") => format!(
                        "runtimes.dask.python = '{python}' cannot import dask.distributed ({said}): install \
                         dask[distributed] into that environment, or name one that has it"
                    ),
                    _ => format!("cannot use {}: {said}", self.place()),
                }))
            }
        }
    }
}

impl Driver {
    fn send(&mut self, request: &Value) -> Result<(), EngineError> {
        writeln!(self.requests, "{request}")
            .and_then(|()| self.requests.flush())
            .map_err(|error| problem(format!("the driver stopped listening: {error}")))
    }

    /// Takes in every event the driver has sent so far.
    fn drain(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            let Some(id) = event["id"].as_str() else { continue };
            let status = match event["status"].as_str() {
                Some("succeeded") => JobStatus::Succeeded,
                Some("failed") => JobStatus::Failed(event["reason"].as_str().unwrap_or("failed").to_string()),
                _ => continue,
            };
            self.statuses.insert(id.to_string(), status);
        }
    }

    /// The driver's ids of what `job` names: itself, or each element of an array job named whole.
    fn ids(&self, job: &JobRef) -> Vec<String> {
        match (job.element, self.arrays.get(&job.job)) {
            (None, Some(elements)) => elements.iter().map(|e| format!("{}_{e}", job.job)).collect(),
            _ => vec![job.to_string()],
        }
    }
}

impl Drop for DaskCluster {
    fn drop(&mut self) {
        if let Some(mut driver) = self.driver().take() {
            // The driver closes its client and, when it started one, its local cluster's workers.
            let _ = driver.send(&json!({"op": "close"}));
            for _ in 0..100 {
                if matches!(driver.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = driver.child.kill();
        }
    }
}

impl Cluster for DaskCluster {
    fn check(&self) -> Result<(), EngineError> {
        let mut driver = self.driver();
        if driver.is_none() {
            *driver = Some(self.start()?);
        }
        Ok(())
    }

    fn submit(&self, request: &JobRequest) -> Result<String, EngineError> {
        let mut guard = self.driver();
        let driver = guard.as_mut().ok_or_else(|| problem("the driver is not started".into()))?;
        let job = driver.next_job.to_string();
        driver.next_job += 1;
        let after: Vec<String> = request.after.iter().flat_map(|job| driver.ids(job)).collect();
        let jobs: Vec<(String, Vec<String>)> = match &request.elements {
            None => vec![(job.clone(), request.command.clone())],
            Some(elements) => {
                driver.arrays.insert(job.clone(), elements.clone());
                elements
                    .iter()
                    .map(|element| {
                        let mut command = request.command.clone();
                        command.extend(["--shard".to_string(), element.to_string()]);
                        (format!("{job}_{element}"), command)
                    })
                    .collect()
            }
        };
        for (id, command) in jobs {
            let submit = json!({"op": "submit", "id": id, "command": command, "cwd": self.work_dir, "after": after});
            driver.send(&submit)?;
            driver.statuses.insert(id, JobStatus::Pending);
        }
        Ok(job)
    }

    fn poll(&self, jobs: &[JobRef]) -> Result<HashMap<JobRef, JobStatus>, EngineError> {
        let mut guard = self.driver();
        let driver = guard.as_mut().ok_or_else(|| problem("the driver is not started".into()))?;
        driver.drain();
        if let Ok(Some(status)) = driver.child.try_wait() {
            return Err(problem(format!("the driver ended while jobs were running ({status})")));
        }
        Ok(jobs
            .iter()
            .filter_map(|job| driver.statuses.get(&job.to_string()).map(|status| (job.clone(), status.clone())))
            .collect())
    }

    fn cancel(&self, jobs: &[JobRef]) -> Result<(), EngineError> {
        let mut guard = self.driver();
        let Some(driver) = guard.as_mut() else { return Ok(()) };
        let ids: Vec<String> = jobs.iter().flat_map(|job| driver.ids(job)).collect();
        if ids.is_empty() {
            return Ok(());
        }
        driver.send(&json!({"op": "cancel", "ids": ids}))
    }

    fn log_tail(&self, _job: &JobRef) -> Option<String> {
        // The command's last error line is the failure's reason already (see `dask_driver.py`).
        None
    }

    fn dashboard(&self) -> Option<String> {
        self.driver().as_ref().and_then(|driver| driver.dashboard.clone())
    }

    fn resubmissions(&self) -> u32 {
        self.settings.resubmissions
    }
}

fn problem(detail: String) -> EngineError {
    EngineError::Runtime { runtime: "dask", detail }
}

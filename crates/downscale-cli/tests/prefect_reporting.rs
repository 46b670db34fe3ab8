//! `reporting.prefect.api_url`: runs mirrored to a real Prefect 3 server (the repository's `.venv-prefect`, from
//! `scripts/setup.sh`), started by the test on a free port of the loopback interface with its analytics off and
//! its home in a temporary folder. A run shows as a flow run named by its run id with a task run per task of its
//! flow, their final states and its log lines; a failing run shows as failed with its error; a batch's runs show
//! the same way; and a Prefect that is not there, or does not answer, costs the run one warning and nothing else.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{damaged_model_catalog, iberia_example, isolated, repo, shipped_catalog_settings};
use downscale_engine::{Records, RunRecord, TaskState};
use serde_json::{Value, json};

/// A Prefect server of this test, killed when dropped.
struct PrefectServer {
    child: Child,
    port: u16,
    home: tempfile::TempDir,
}

impl PrefectServer {
    /// Starts `prefect server start` (SQLite in its home) and waits until `/api/health` answers.
    fn start() -> PrefectServer {
        let prefect = repo().join(".venv-prefect/bin/prefect");
        assert!(prefect.exists(), "{} is missing: scripts/setup.sh installs it", prefect.display());
        let home = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = std::fs::File::create(home.path().join("server.log")).unwrap();
        let mut command = Command::new(prefect);
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("PREFECT_")) {
            command.env_remove(name);
        }
        // Nothing leaves the machine: no analytics, no UI (whose promotional content is fetched from outside).
        command
            .args(["server", "start", "--host", "127.0.0.1", "--port", &port.to_string()])
            .env("PREFECT_HOME", home.path())
            .env("DO_NOT_TRACK", "1")
            .env("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
            .env("PREFECT_SERVER_UI_ENABLED", "false")
            .env("PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT", "false")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let mut server = PrefectServer { child: command.spawn().unwrap(), port, home };
        let started = Instant::now();
        while !matches!(server.request("GET", "health", None), Some((200, _))) {
            let log = std::fs::read_to_string(server.home.path().join("server.log")).unwrap_or_default();
            assert!(server.child.try_wait().unwrap().is_none(), "the Prefect server ended: {log}");
            assert!(started.elapsed() < Duration::from_secs(180), "the Prefect server did not start: {log}");
            std::thread::sleep(Duration::from_millis(250));
        }
        server
    }

    fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
    }

    /// `method /api/<path>` with a JSON body: the status and the JSON answer, or `None` when nothing answers.
    /// HTTP/1.0, so that the answer has a length and the connection closes after it.
    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Value)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let body = body.map(Value::to_string).unwrap_or_default();
        let request = format!(
            "{method} /api/{path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).ok()?;
        let text = String::from_utf8_lossy(&response);
        let (head, json) = text.split_once("\r\n\r\n")?;
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        Some((status, serde_json::from_str(json).unwrap_or(Value::Null)))
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.request("POST", path, Some(&body)).expect("the Prefect server answers");
        assert_eq!(status, 200, "POST {path}: {answer}");
        answer
    }

    /// The one flow run named `name`.
    fn flow_run_named(&self, name: &str) -> Value {
        let runs = self.post("flow_runs/filter", json!({"flow_runs": {"name": {"any_": [name]}}}));
        let runs = runs.as_array().unwrap();
        assert_eq!(runs.len(), 1, "{runs:?}");
        let id = runs[0]["id"].as_str().unwrap();
        let (status, run) = self.request("GET", &format!("flow_runs/{id}"), None).unwrap();
        assert_eq!(status, 200, "{run}");
        run
    }

    /// The task runs of flow run `id` by name: `(state type, state name, state message)`.
    fn task_runs(&self, id: &str) -> Vec<(String, [Value; 3])> {
        let runs = self.post("task_runs/filter", json!({"flow_runs": {"id": {"any_": [id]}}}));
        let mut runs: Vec<(String, [Value; 3])> = runs
            .as_array()
            .unwrap()
            .iter()
            .map(|run| {
                let state =
                    [run["state"]["type"].clone(), run["state"]["name"].clone(), run["state"]["message"].clone()];
                (run["name"].as_str().unwrap().to_owned(), state)
            })
            .collect();
        runs.sort_by(|a, b| a.0.cmp(&b.0));
        runs
    }

    /// The log lines of flow run `id`, oldest first.
    fn logs(&self, id: &str) -> Vec<Value> {
        let body = json!({"logs": {"flow_run_id": {"any_": [id]}}, "sort": "TIMESTAMP_ASC", "limit": 200});
        self.post("logs/filter", body).as_array().unwrap().clone()
    }
}

impl Drop for PrefectServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port of the loopback interface that nothing listens on (the listener that found it is closed again).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `downscale run` of `param_file` on the `ci` runtime with isolated configuration, storage and records under
/// `dir`, the shipped catalogs (or the model catalog `model`), and runs reported to `api_url`.
fn run(dir: &Path, param_file: &Path, model: Option<&Path>, api_url: &str) -> Output {
    let mut command = isolated(dir);
    command.args(["run", "--runtime", "ci", "--param-file"]).arg(param_file);
    command.args(shipped_catalog_settings(dir, "results"));
    if let Some(model) = model {
        command.arg("--set").arg(format!("data_catalog.model={}", model.display()));
    }
    command.args(["--set", &format!("reporting.prefect.api_url={api_url}")]);
    command.output().unwrap()
}

/// The flow's task ids of `param_file`, from `downscale plan`.
fn planned_task_ids(dir: &Path, param_file: &Path) -> Vec<String> {
    let output = isolated(dir).args(["plan", "--param-file"]).arg(param_file).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids = plan["tasks"].as_array().unwrap().iter().map(|task| task["spec"]["id"].as_str().unwrap().to_owned());
    let mut ids: Vec<String> = ids.collect();
    ids.sort();
    ids
}

/// The newest run in the records under `dir`, with its tasks and log lines.
fn recorded(dir: &Path) -> (RunRecord, Vec<downscale_engine::TaskRecord>, Vec<downscale_engine::records::LogRecord>) {
    let records = Records::open(&dir.join("runs.sqlite")).unwrap();
    let run = records.runs(1).unwrap().remove(0);
    let (tasks, logs) = (records.tasks(run.id).unwrap(), records.logs(run.id).unwrap());
    (run, tasks, logs)
}

/// The lines of `stderr` that speak of Prefect.
fn prefect_lines(output: &Output) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr.lines().filter(|line| line.contains("Prefect")).map(str::to_owned).collect()
}

fn instant(text: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn a_run_and_a_failing_run_show_in_prefect_with_their_tasks_states_and_log_lines() {
    let server = PrefectServer::start();

    // A run that succeeds: every task of its flow completed, every log line there with its own time.
    let dir = tempfile::tempdir().unwrap();
    let param_file = iberia_example("pr");
    let output = run(dir.path(), &param_file, None, &server.api_url());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(prefect_lines(&output), Vec::<String>::new());
    let (record, tasks, logs) = recorded(dir.path());
    let flow_run = server.flow_run_named(&record.run_id);
    assert_eq!((&flow_run["state"]["type"], &flow_run["state"]["name"]), (&json!("COMPLETED"), &json!("Completed")));
    assert_eq!(flow_run["parameters"], serde_json::from_str::<Value>(&record.parameters).unwrap());
    let task_runs = server.task_runs(flow_run["id"].as_str().unwrap());
    let names: Vec<String> = task_runs.iter().map(|(name, _)| name.clone()).collect();
    assert_eq!(names, planned_task_ids(dir.path(), &param_file));
    assert!(tasks.iter().all(|task| task.state == TaskState::Succeeded), "{tasks:?}");
    assert!(task_runs.iter().all(|(_, state)| state[0] == "COMPLETED"), "{task_runs:?}");
    let lines = server.logs(flow_run["id"].as_str().unwrap());
    assert_eq!(lines.len(), logs.len(), "{lines:?}");
    for (line, logged) in lines.iter().zip(&logs) {
        assert_eq!(line["message"], logged.message.as_str());
        assert_eq!(instant(line["timestamp"].as_str().unwrap()), instant(&logged.at));
        assert_eq!(line["task_run_id"].is_string(), logged.task_id.is_some(), "{line}");
    }

    // The same flow, every task found in the cache: a new flow run, its task runs `Cached`.
    let output = run(dir.path(), &param_file, None, &server.api_url());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let runs = server.post("flow_runs/filter", json!({"flow_runs": {"name": {"any_": [record.run_id]}}}));
    let cached = runs.as_array().unwrap().iter().find(|run| run["id"] != flow_run["id"]).expect("a second flow run");
    let task_runs = server.task_runs(cached["id"].as_str().unwrap());
    assert_eq!(task_runs.len(), names.len());
    assert!(task_runs.iter().all(|(_, state)| state[..2] == [json!("COMPLETED"), json!("Cached")]), "{task_runs:?}");

    // A run whose input is damaged: failed, with the failing task's error; the tasks after it still pending.
    let dir = tempfile::tempdir().unwrap();
    let model = damaged_model_catalog(dir.path());
    let output = run(dir.path(), &iberia_example("tas"), Some(&model), &server.api_url());
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let (record, tasks, _) = recorded(dir.path());
    let error = record.error.clone().expect("the failed run's error is recorded");
    let flow_run = server.flow_run_named(&record.run_id);
    assert_eq!(flow_run["state"]["type"], "FAILED");
    assert_eq!(flow_run["state"]["message"], error.as_str());
    let task_runs = server.task_runs(flow_run["id"].as_str().unwrap());
    let state = |id: &str| task_runs.iter().find(|(name, _)| name == id).unwrap().1.clone();
    let failed = tasks.iter().find(|task| task.state == TaskState::Failed).unwrap();
    assert_eq!(failed.task_id, "get_experiment_predict");
    assert_eq!(state("get_experiment_predict")[0], "FAILED");
    assert_eq!(state("get_experiment_predict")[2], failed.error.as_deref().unwrap());
    assert!(failed.error.as_deref().unwrap().contains("tas_rcp85_damaged.nc"));
    assert_eq!(state("bias_correct")[0], "PENDING");
    let lines = server.logs(flow_run["id"].as_str().unwrap());
    assert!(lines.iter().any(|line| line["level"] == 40), "an error line: {lines:?}");

    // `downscale batch` mirrors its runs the same way: the same run id, now completed, as a flow run of its own.
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("params");
    std::fs::create_dir(&params).unwrap();
    std::fs::copy(iberia_example("tas"), params.join("tas.json")).unwrap();
    let mut command = isolated(dir.path());
    command.args(["batch", "--runtime", "ci", "--param-dir"]).arg(&params);
    command.args(shipped_catalog_settings(dir.path(), "results"));
    let output = command.args(["--set", &format!("reporting.prefect.api_url={}", server.api_url())]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let runs = server.post("flow_runs/filter", json!({"flow_runs": {"name": {"any_": [record.run_id]}}}));
    let states: Vec<&Value> = runs.as_array().unwrap().iter().map(|run| &run["state"]["type"]).collect();
    assert_eq!(states.len(), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(states.contains(&&json!("COMPLETED")) && states.contains(&&json!("FAILED")), "{states:?}: {stderr}");
}

#[test]
fn a_prefect_that_is_not_there_or_does_not_answer_costs_one_warning_and_nothing_else() {
    // Nothing listens on the first port; the second accepts connections (the kernel's backlog) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    for port in [free_port(), silent_port] {
        let dir = tempfile::tempdir().unwrap();
        // Credentials in the URL are never shown.
        let api_url = format!("http://admin:hunter2@127.0.0.1:{port}/api");
        let output = run(dir.path(), &iberia_example("tas"), None, &api_url);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let warnings = prefect_lines(&output);
        assert_eq!(warnings.len(), 1, "{stderr}");
        assert!(warnings[0].contains("WARN") && warnings[0].contains(&format!("127.0.0.1:{port}/api")), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
        let (record, _, _) = recorded(dir.path());
        assert_eq!(record.state.as_str(), "succeeded");
    }
    drop(silent);
}

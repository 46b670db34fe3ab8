//! The calls of Prefect 3's REST API that a mirror makes, over HTTP with short timeouts.
//!
//! The HTTP client is reqwest's async one on a current-thread tokio runtime owned by the mirror's thread, driven
//! with `block_on`. Its blocking client would do the same with a runtime thread of its own behind every client,
//! and turning on its `blocking` (or `json`) feature changes reqwest for every crate of the workspace, as Cargo
//! unifies features: object_store's whole stack would be built twice over for a handful of small JSON requests.
//! Bodies are serialised with serde_json directly for the same reason.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use url::Url;

use crate::error::PrefectError;
use crate::states::State;

/// How long a request may take, connecting included. Prefect answers these calls in milliseconds; a server that
/// needs longer is treated as down, so that the end of a run never waits long on it.
const TIMEOUT: Duration = Duration::from_secs(2);

/// The address of a Prefect 3 server's REST API, `/api` included (`http://127.0.0.1:4200/api`), as Prefect's own
/// `PREFECT_API_URL` is written. A user name and password in it (`http://admin:pass@host/api`) are sent as basic
/// authentication, which Prefect's `PREFECT_SERVER_API_AUTH_STRING` asks for, and are never shown: `Display` and
/// `Debug` give the address without them.
#[derive(Clone)]
pub struct PrefectApi {
    /// The URL with a trailing `/`, so that endpoints join below it rather than replacing its last segment.
    base: Url,
    /// The URL as given, without user name and password.
    shown: String,
}

impl PrefectApi {
    /// Checks that `text` is an http(s) URL with a host.
    pub fn parse(text: &str) -> Result<PrefectApi, PrefectError> {
        let invalid = || PrefectError::Url { shown: without_credentials(text) };
        let mut base = Url::parse(text).map_err(|_| invalid())?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none_or(str::is_empty) {
            return Err(invalid());
        }
        let mut shown = base.clone();
        // Cannot fail on an http(s) URL with a host.
        let _ = (shown.set_username(""), shown.set_password(None));
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(PrefectApi { base, shown: shown.as_str().trim_end_matches('/').to_owned() })
    }
}

impl fmt::Display for PrefectApi {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for PrefectApi {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_tuple("PrefectApi").field(&self.shown).finish()
    }
}

/// `text` without what could be credentials, for a message about a URL that is not one: everything after
/// `://` (or from the start) up to its last `@`.
fn without_credentials(text: &str) -> String {
    let start = text.find("://").map_or(0, |i| i + 3);
    let shown = match text[start..].rfind('@') {
        Some(at) => format!("{}{}", &text[..start], &text[start + at + 1..]),
        None => text.to_owned(),
    };
    downscale_message::one_line_text(&shown)
}

/// A new flow run: what Prefect's UI lists.
pub(crate) struct NewFlowRun<'a> {
    pub(crate) flow_id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) parameters: Value,
    pub(crate) tags: Vec<String>,
}

/// A new task run of a flow run.
pub(crate) struct NewTaskRun<'a> {
    pub(crate) flow_run_id: &'a str,
    /// The kind of work (the task's name): Prefect groups task runs by it.
    pub(crate) task_key: &'a str,
    /// The task's id, which tells apart task runs of one kind in a flow run.
    pub(crate) dynamic_key: &'a str,
    pub(crate) state: &'a State,
}

/// A log line as Prefect stores it.
#[derive(Serialize)]
pub(crate) struct LogLine<'a> {
    pub(crate) name: &'static str,
    /// Python's logging levels: 20 info, 30 warning, 40 error.
    pub(crate) level: u8,
    pub(crate) message: &'a str,
    /// When it was written to the run records (RFC 3339), not when it reached Prefect.
    pub(crate) timestamp: &'a str,
    pub(crate) flow_run_id: &'a str,
    pub(crate) task_run_id: Option<&'a str>,
}

/// A connection to one Prefect server, used from one thread.
pub(crate) struct Client {
    api: PrefectApi,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Client {
    pub(crate) fn new(api: &PrefectApi) -> Result<Client, PrefectError> {
        let failed = |e: &dyn std::error::Error| PrefectError::Client {
            detail: downscale_message::one_line_text(&e.to_string()),
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| failed(&e))?;
        let _inside = runtime.enter();
        let http = reqwest::Client::builder()
            .connect_timeout(TIMEOUT)
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| failed(&e.without_url()))?;
        Ok(Client { api: api.clone(), http, runtime })
    }

    /// `POST /flows/`: the id of the flow named `name`, created if new (Prefect keeps one flow per name).
    pub(crate) fn flow(&self, name: &str) -> Result<String, PrefectError> {
        self.created("creating the flow", "flows/", &json!({ "name": name }))
    }

    /// `POST /flow_runs/`, pending: the new flow run's id.
    pub(crate) fn create_flow_run(&self, run: &NewFlowRun) -> Result<String, PrefectError> {
        let body = json!({
            "flow_id": run.flow_id,
            "name": run.name,
            "parameters": run.parameters,
            "tags": run.tags,
            "state": State::pending(),
        });
        self.created("creating the flow run", "flow_runs/", &body)
    }

    /// `POST /task_runs/`: the new task run's id.
    pub(crate) fn create_task_run(&self, task: &NewTaskRun) -> Result<String, PrefectError> {
        let body = json!({
            "flow_run_id": task.flow_run_id,
            "task_key": task.task_key,
            "dynamic_key": task.dynamic_key,
            "name": task.dynamic_key,
            "state": task.state,
        });
        self.created("creating a task run", "task_runs/", &body)
    }

    /// `POST /flow_runs/{id}/set_state`, forced: the records say what happened, Prefect's orchestration rules
    /// (which would refuse, say, a task run that skips `RUNNING`) have no say in it.
    pub(crate) fn set_flow_run_state(&self, id: &str, state: &State) -> Result<(), PrefectError> {
        self.set_state("setting a flow run's state", &format!("flow_runs/{id}/set_state"), state)
    }

    /// `POST /task_runs/{id}/set_state`, forced.
    pub(crate) fn set_task_run_state(&self, id: &str, state: &State) -> Result<(), PrefectError> {
        self.set_state("setting a task run's state", &format!("task_runs/{id}/set_state"), state)
    }

    /// `POST /logs/`.
    pub(crate) fn send_logs(&self, lines: &[LogLine]) -> Result<(), PrefectError> {
        self.post("sending log lines", "logs/", &json!(lines)).map(drop)
    }

    fn set_state(&self, what: &'static str, path: &str, state: &State) -> Result<(), PrefectError> {
        let answer = self.post(what, path, &json!({ "state": state, "force": true }))?;
        match answer["status"].as_str() {
            Some("ACCEPT") => Ok(()),
            status => Err(self.bad_answer(
                what,
                format!(
                    "status {} for state {} ({})",
                    status.unwrap_or("none"),
                    state.type_name(),
                    answer["details"]["reason"].as_str().unwrap_or("no reason given")
                ),
            )),
        }
    }

    /// A `POST` whose answer is the created object: its `id`.
    fn created(&self, what: &'static str, path: &str, body: &Value) -> Result<String, PrefectError> {
        let answer = self.post(what, path, body)?;
        answer["id"].as_str().map(str::to_owned).ok_or_else(|| self.bad_answer(what, "no id".to_owned()))
    }

    fn post(&self, what: &'static str, path: &str, body: &Value) -> Result<Value, PrefectError> {
        let url = self.api.base.join(path).map_err(|e| self.bad_answer(what, e.to_string()))?;
        let unreachable = |source: reqwest::Error| PrefectError::Unreachable {
            what,
            api: self.api.to_string(),
            source: source.without_url(),
        };
        self.runtime.block_on(async {
            let response = self
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string())
                .send()
                .await
                .map_err(unreachable)?;
            let status = response.status();
            let bytes = response.bytes().await.map_err(unreachable)?;
            if !status.is_success() {
                let text = String::from_utf8_lossy(&bytes);
                let body = downscale_message::one_line_text(&text.chars().take(300).collect::<String>());
                return Err(PrefectError::Refused { what, api: self.api.to_string(), status: status.as_u16(), body });
            }
            if bytes.is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_slice(&bytes).map_err(|e| self.bad_answer(what, format!("no JSON ({e})")))
        })
    }

    fn bad_answer(&self, what: &'static str, problem: String) -> PrefectError {
        PrefectError::Answer { what, api: self.api.to_string(), problem }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_url_is_http_and_is_shown_without_credentials() {
        let api = PrefectApi::parse("https://admin:hunter2@prefect.example:4200/api").unwrap();
        assert_eq!(api.to_string(), "https://prefect.example:4200/api");
        assert!(!format!("{api:?}").contains("hunter2"));
        assert_eq!(api.base.join("flows/").unwrap().as_str(), "https://admin:hunter2@prefect.example:4200/api/flows/");
        let trailing = PrefectApi::parse("http://127.0.0.1:4200/api/").unwrap();
        assert_eq!(trailing.base.join("logs/").unwrap().as_str(), "http://127.0.0.1:4200/api/logs/");

        for wrong in
            ["127.0.0.1:4200/api", "ftp://admin:hunter2@host/api", "http://", "file:///api", "admin:hunter2@x y"]
        {
            let error = PrefectApi::parse(wrong).unwrap_err().to_string();
            assert!(error.contains("expected an http:// or https:// URL") && !error.contains("hunter2"), "{error}");
        }
    }
}

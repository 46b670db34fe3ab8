//! The crate's one error type: every message is one line, and none shows credentials of the server's URL.

/// Why Prefect could not be reported to.
#[derive(Debug, thiserror::Error)]
pub enum PrefectError {
    /// The configured address is not an http(s) URL.
    #[error("Prefect API URL '{shown}': expected an http:// or https:// URL such as http://127.0.0.1:4200/api")]
    Url {
        /// The address as given, its password hidden.
        shown: String,
    },
    /// The HTTP client could not be set up (no thread, no TLS configuration).
    #[error("Prefect client: {detail}")]
    Client {
        /// The library's reason.
        detail: String,
    },
    /// A request got no answer in time: nothing listening, connection refused or reset, timed out.
    #[error("{what}: no answer from Prefect at {api}")]
    Unreachable {
        /// What was being sent, e.g. `creating the flow run`.
        what: &'static str,
        /// The server's address, without credentials.
        api: String,
        /// The HTTP client's error, without the URL (which may hold credentials).
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("{what}: Prefect at {api} answered {status}: {body}")]
    Refused {
        /// What was being sent.
        what: &'static str,
        /// The server's address, without credentials.
        api: String,
        /// The HTTP status.
        status: u16,
        /// The start of the answer's body, as one line.
        body: String,
    },
    /// The server answered 2xx with something that is not what its API returns.
    #[error("{what}: Prefect at {api} answered with {problem}")]
    Answer {
        /// What was being sent.
        what: &'static str,
        /// The server's address, without credentials.
        api: String,
        /// What was wrong with the answer.
        problem: String,
    },
    /// The run records could not be read.
    #[error("reading the run records {path}: {detail}")]
    Records {
        /// The records file.
        path: String,
        /// The reason, as one line.
        detail: String,
    },
}

impl PrefectError {
    /// Whether a later attempt may succeed: a request that timed out (a busy server) or a server error (5xx). A
    /// refused connection (nothing listening), a refusal of what was sent or an answer of the wrong shape will not
    /// change by asking again.
    pub(crate) fn is_passing(&self) -> bool {
        match self {
            PrefectError::Unreachable { source, .. } => source.is_timeout(),
            PrefectError::Refused { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_busy_server_is_worth_asking_again() {
        let refused = |status| PrefectError::Refused {
            what: "creating the flow run",
            api: "x".into(),
            status,
            body: String::new(),
        };
        assert!(refused(503).is_passing() && refused(500).is_passing());
        assert!(!refused(422).is_passing() && !refused(404).is_passing());
        let answer = PrefectError::Answer { what: "creating the flow run", api: "x".into(), problem: "no id".into() };
        assert!(!answer.is_passing());
        assert!(!PrefectError::Records { path: "runs.sqlite".into(), detail: "locked".into() }.is_passing());
    }
}

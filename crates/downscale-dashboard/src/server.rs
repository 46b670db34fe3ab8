//! Binding, routing and the state every request shares.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use downscale_engine::Records;

use crate::auth::{Token, require_token};
use crate::confine::StorageRoots;
use crate::error::{ApiError, DashboardError};

/// How often runs of this host whose process died are marked `interrupted` while the dashboard serves, so a
/// killed run does not show `running` until something else opens the records.
const INTERRUPTED_SWEEP: std::time::Duration = std::time::Duration::from_secs(10);

/// How the dashboard is served.
#[derive(Debug, Clone)]
pub struct DashboardOptions {
    /// Where it listens; loopback unless a token is given.
    pub bind: SocketAddr,
    /// The run records it shows (`run_records`).
    pub records: PathBuf,
    /// The token every request must carry; required to bind beyond loopback.
    pub token: Option<String>,
    /// The storage whose stores it may read for maps.
    pub roots: StorageRoots,
}

/// What every request shares.
pub(crate) struct AppState {
    pub(crate) token: Option<Token>,
    pub(crate) roots: StorageRoots,
    records_path: PathBuf,
    /// Read-only connections to the records, one per request at a time (a connection serves one thread).
    connections: Mutex<Vec<Records>>,
}

impl AppState {
    /// Runs `query` on a records connection of the pool, on a thread where blocking is allowed.
    pub(crate) async fn with_records<T, F>(self: &Arc<Self>, query: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Records) -> Result<T, ApiError> + Send + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = state.connections.lock().ok().and_then(|mut pool| pool.pop());
            let records = match pooled {
                Some(records) => records,
                None => Records::open_read_only(&state.records_path)?,
            };
            let answer = query(&records);
            if let Ok(mut pool) = state.connections.lock() {
                pool.push(records);
            }
            answer
        })
        .await
        .map_err(|error| ApiError::internal(&error))?
    }
}

/// A bound dashboard, ready to serve.
pub struct Dashboard {
    listener: std::net::TcpListener,
    state: Arc<AppState>,
}

impl Dashboard {
    /// Checks the options, brings the records up to date (creating an empty file if there is none yet, so the page
    /// shows "no runs" rather than an error) and binds.
    pub fn bind(options: DashboardOptions) -> Result<Dashboard, DashboardError> {
        if !options.bind.ip().is_loopback() && options.token.as_deref().is_none_or(str::is_empty) {
            return Err(DashboardError::TokenRequired { address: options.bind });
        }
        drop(Records::open(&options.records)?);
        let listener = std::net::TcpListener::bind(options.bind)
            .map_err(|source| DashboardError::Bind { address: options.bind, source })?;
        listener.set_nonblocking(true).map_err(|source| DashboardError::Bind { address: options.bind, source })?;
        let state = AppState {
            token: options.token.as_deref().filter(|t| !t.is_empty()).map(Token::new),
            roots: options.roots,
            records_path: options.records,
            connections: Mutex::new(Vec::new()),
        };
        Ok(Dashboard { listener, state: Arc::new(state) })
    }

    /// The address it listens on (with the port the system chose for port 0).
    pub fn address(&self) -> Result<SocketAddr, DashboardError> {
        self.listener.local_addr().map_err(DashboardError::Serve)
    }

    /// Serves until the process ends.
    pub fn serve(self) -> Result<(), DashboardError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_io()
            .enable_time()
            .build()
            .map_err(DashboardError::Serve)?;
        let state = self.state.clone();
        runtime.spawn(async move {
            let mut every = tokio::time::interval(INTERRUPTED_SWEEP);
            loop {
                every.tick().await;
                let path = state.records_path.clone();
                // Opening the records for writing marks the runs of this host whose process is gone.
                let swept = tokio::task::spawn_blocking(move || Records::open(&path).map(drop)).await;
                if let Ok(Err(error)) = swept {
                    tracing::warn!("{}", downscale_message::one_line(&error));
                }
            }
        });
        let router = router(self.state);
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(self.listener).map_err(DashboardError::Serve)?;
            axum::serve(listener, router).await.map_err(DashboardError::Serve)
        })
    }
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(|| asset("text/html; charset=utf-8", include_str!("assets/index.html"))))
        .route("/assets/app.js", get(|| asset("text/javascript; charset=utf-8", include_str!("assets/app.js"))))
        .route("/assets/app.css", get(|| asset("text/css; charset=utf-8", include_str!("assets/app.css"))))
        .merge(crate::api::routes())
        .merge(crate::images::routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), require_token))
        .with_state(state)
}

/// A page asset from the binary: the page works offline and cannot be altered on disk.
async fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")], body)
}

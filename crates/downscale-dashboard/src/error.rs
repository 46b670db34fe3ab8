//! The dashboard's errors: those that stop it from starting, and those a request answers with.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why the dashboard cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// Binding beyond loopback without a token would show every run to the network.
    #[error(
        "--bind {address}: an address other than loopback needs a token (--token or dashboard.token), so that only \
         people who have it see the runs"
    )]
    TokenRequired {
        /// The address asked for.
        address: std::net::SocketAddr,
    },
    /// The address cannot be listened on.
    #[error("--bind {address}: {source}")]
    Bind {
        /// The address asked for.
        address: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The records cannot be opened.
    #[error(transparent)]
    Records(#[from] downscale_engine::EngineError),
    /// The server stopped on an error.
    #[error("the dashboard's server stopped: {0}")]
    Serve(#[source] std::io::Error),
}

/// A request's failure: its status and a one-line reason, sent as `{"error": "..."}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::NOT_FOUND, message: message.into() }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::FORBIDDEN, message: message.into() }
    }

    pub(crate) fn internal(error: &(dyn std::error::Error + 'static)) -> ApiError {
        ApiError { status: StatusCode::INTERNAL_SERVER_ERROR, message: downscale_message::one_line(error) }
    }
}

impl From<downscale_engine::EngineError> for ApiError {
    fn from(error: downscale_engine::EngineError) -> ApiError {
        ApiError::internal(&error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(serde_json::json!({ "error": self.message }))).into_response()
    }
}

//! The token that guards a dashboard bound beyond loopback.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use blake2::{Blake2s256, Digest};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::server::AppState;

/// A token, kept only as its digest: comparing digests of equal length in constant time tells nothing of the
/// token (not even its length) through the time an answer takes.
pub(crate) struct Token {
    digest: [u8; 32],
}

impl Token {
    pub(crate) fn new(text: &str) -> Token {
        Token { digest: Blake2s256::digest(text.as_bytes()).into() }
    }

    fn matches(&self, offered: &str) -> bool {
        let offered: [u8; 32] = Blake2s256::digest(offered.as_bytes()).into();
        offered.ct_eq(&self.digest).into()
    }
}

/// Refuses a request without the token, when there is one: `Authorization: Bearer <token>`, or `?token=<token>`
/// (how the page itself and its images are requested from a browser's address bar and `<img>` tags).
pub(crate) async fn require_token(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let Some(token) = &state.token else { return next.run(request).await };
    let from_header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_string);
    let from_query = Query::<HashMap<String, String>>::try_from_uri(request.uri())
        .ok()
        .and_then(|Query(query)| query.get("token").cloned());
    if from_header.or(from_query).is_some_and(|offered| token.matches(&offered)) {
        next.run(request).await
    } else {
        ApiError { status: StatusCode::UNAUTHORIZED, message: "this dashboard needs its token".into() }.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_token_matches() {
        let token = Token::new("s3cret-token");
        assert!(token.matches("s3cret-token"));
        for other in ["", "s3cret-toke", "s3cret-token ", "S3CRET-TOKEN"] {
            assert!(!token.matches(other), "{other:?}");
        }
    }
}

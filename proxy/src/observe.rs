//! Logs and request ids: [`init_logging`] sets up `tracing` (human-readable or JSON with
//! `--log-format json`), [`request_id`] gives every request an id (the client's or a
//! reverse proxy's `X-Request-Id` when it is a sane token, else a new UUID), returns it
//! as `X-Request-Id` and [`make_span`] puts it on the request's log span.
//!
//! Invariant: the span names the path only, never the query string (it holds addresses).

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::config::LogFormat;

/// The request id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Sets up logging on stderr in `format`; the level comes from `RUST_LOG` (default
/// `info`).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,mailsetup_proxy=info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

/// Whether a request id from outside may be kept: 1 to 64 of `A-Za-z0-9._-`.
fn is_sane(value: &HeaderValue) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// Wraps the whole service: drops an unusable incoming `X-Request-Id`, sets a new one
/// when there is none, and copies it to the response.
pub fn request_id(router: Router) -> Router {
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(tower::util::MapRequestLayer::new(
            |mut req: Request<axum::body::Body>| {
                if req.headers().get(REQUEST_ID).is_some_and(|v| !is_sane(v)) {
                    req.headers_mut().remove(REQUEST_ID);
                }
                req
            },
        ))
}

/// The log span of one request: method, path (never the query) and request id.
pub fn make_span<B>(req: &Request<B>) -> tracing::Span {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_ids_are_kept() {
        assert!(is_sane(&HeaderValue::from_static("abc-123_X.y")));
        assert!(!is_sane(&HeaderValue::from_static("")));
        assert!(!is_sane(&HeaderValue::from_static("a b")));
        assert!(!is_sane(&HeaderValue::from_static("a\"b")));
        let long = "a".repeat(65);
        assert!(!is_sane(
            &HeaderValue::from_str(&long).unwrap_or(HeaderValue::from_static(""))
        ));
    }
}

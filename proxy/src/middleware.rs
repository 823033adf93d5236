//! The one middleware stack at the edge (trace, body limit, timeout) and the static site.

use std::path::Path;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::AppState;

/// Largest request body accepted, in bytes. A check request is well under 4 KiB.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Wraps the whole router in the edge layers.
pub fn edge(router: Router, _state: &AppState) -> Router {
    router
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(120),
        ))
        .layer(TraceLayer::new_for_http())
}

/// The built front end; unknown paths get `index.html` so client-side routes work.
pub fn static_site(dir: &Path) -> Router {
    let index = dir.join("index.html");
    Router::new().fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)))
}

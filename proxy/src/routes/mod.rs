//! The JSON API's routes, one module per area; handlers are thin.

mod check;
mod discover;
mod health;
mod oauth;
mod providers;
mod ready;

pub(crate) use providers::load_providers;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

/// The `/api/v1` router.
pub fn api(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(ready::ready))
        .route("/openapi.json", get(crate::openapi::serve))
        .route("/providers", get(providers::list))
        .route("/providers/lookup", get(providers::lookup))
        .route("/check", post(check::check))
        .route("/check/stream", post(check::check_stream))
        .route("/discover", get(discover::discover))
        .route("/oauth/providers", get(oauth::providers))
        .route("/oauth/{provider}/start", get(oauth::start))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(crate::error::api_error_shape))
        // A page for people, not JSON: its 4xx keep their HTML (they name the diagnosis),
        // so it is added outside the JSON error shape.
        .route("/oauth/callback", get(oauth::callback))
        .with_state(state)
}

async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::NotFound
}

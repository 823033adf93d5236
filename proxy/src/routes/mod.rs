//! The JSON API's routes, one module per area; handlers are thin.

mod health;

use axum::Router;
use axum::routing::get;

use crate::AppState;

/// The `/api/v1` router.
pub fn api(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not_found",
        "No such API route.",
    )
}

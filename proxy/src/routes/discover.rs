//! `GET /api/v1/discover?email=ADDRESS`: finds the servers of the address's domain.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use mailsetup_shared::api::{DiscoverResponse, Lang};
use mailsetup_shared::email::EmailAddress;

use crate::AppState;
use crate::discover::Target;
use crate::error::{ApiError, Json};

/// The query string.
#[derive(Debug, serde::Deserialize)]
pub struct DiscoverQuery {
    /// The mailbox address.
    email: Option<String>,
}

/// Runs discovery for the address (or answers from the cache).
pub async fn discover(
    State(state): State<AppState>,
    query: Result<Query<DiscoverQuery>, QueryRejection>,
) -> Result<Json<DiscoverResponse>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid("email", e.body_text()))?;
    let raw = query
        .email
        .ok_or_else(|| ApiError::invalid("email", "Give the address as ?email=..."))?;
    let email = EmailAddress::parse(&raw).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_email",
            e.message(Lang::En),
        )
        .with_field("email")
    })?;
    let answer = state.discover.discover(&Target::from_email(&email)).await;
    state.metrics.discovery_done(&answer);
    Ok(Json(answer))
}

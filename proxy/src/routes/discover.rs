//! `GET /api/v1/discover?email=ADDRESS`: finds the servers of the address's domain; the
//! trace details are in the language of `Accept-Language`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use mailsetup_shared::api::{DiscoverResponse, Text};
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
    let no_address = || {
        ApiError::invalid(
            "email",
            Text::new(
                "Give the address as ?email=name@example.com.",
                "Укажите адрес так: ?email=name@example.com.",
            ),
        )
    };
    let Query(query) = query.map_err(|_| no_address())?;
    let raw = query.email.ok_or_else(no_address)?;
    let email = EmailAddress::parse(&raw)
        .map_err(|e| ApiError::InvalidEmail(super::providers::email_text(&e)))?;
    // The answer may be shared with requests in other languages (cache, a discovery
    // already running); it is put into this request's language only here.
    let answer = state.discover.answer(&Target::from_email(&email)).await;
    let answer = answer.render(crate::error::lang());
    state.metrics.discovery_done(&answer);
    Ok(Json(answer))
}

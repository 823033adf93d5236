//! Sign in with the provider (OAuth 2.0; the flow is in `crate::oauth`):
//!
//! - `GET /api/v1/oauth/providers`: the providers the operator configured a client for.
//! - `GET /api/v1/oauth/{provider}/start?email=ADDRESS[&mode=popup|redirect]
//!   [&return_to=PATH][&credentials=true][&locale=en|ru]`: 303 to the provider's
//!   authorization endpoint, with the browser-binding cookie.
//! - `GET /api/v1/oauth/callback?code&state` (or `?error&state`): the callback page.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mailsetup_shared::oauth::{OAuthProvider, OAuthProviders};

use crate::AppState;
use crate::error::{ApiError, Json};
use crate::oauth::flow::{self, CallbackQuery};
use crate::oauth::start::StartQuery;

/// The providers offering "Sign in with ...", in the order of the configuration file.
pub async fn providers(State(state): State<AppState>) -> Json<OAuthProviders> {
    Json(OAuthProviders {
        providers: state
            .oauth
            .config
            .clients()
            .map(|c| OAuthProvider {
                id: c.provider.clone(),
                name: c.name.clone(),
                sasl: c.sasl,
            })
            .collect(),
    })
}

/// 303 to the provider; 400 for a bad address, mode or `return_to`, or a provider
/// without a configured client.
pub async fn start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    query: Result<Query<StartQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.unwrap_or_default();
    let started = crate::oauth::start::start(
        &state.oauth,
        &provider,
        &query,
        cookie(&headers).as_deref(),
        crate::error::lang(),
        flow::unix_now(),
    )?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&started.location) {
        h.insert(header::LOCATION, v);
    }
    if let Some(c) = started.set_cookie
        && let Ok(v) = HeaderValue::from_str(&c)
    {
        h.insert(header::SET_COOKIE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

/// The callback page (never a 5xx for anything the request carries).
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(query) = query.unwrap_or_default();
    flow::callback(
        &state,
        query,
        cookie(&headers).as_deref(),
        crate::error::lang(),
    )
    .await
    .into_response()
}

/// The browser-binding cookie's value.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == crate::oauth::COOKIE).then(|| value.to_owned())
        })
}

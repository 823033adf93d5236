//! `GET /api/v1/ready`: readiness. 200 `{"status":"ready","version":...}` when the proxy
//! can serve checks (its shared state store answers: always in memory, Redis when
//! `--redis-url` is set), else 503 `store_unavailable`. `GET /api/v1/health` stays a
//! liveness answer that never touches the store.

use axum::extract::State;
use mailsetup_shared::api::Health;

use crate::AppState;
use crate::error::{ApiError, Json};

/// Answers 200 when checks can be served, 503 `store_unavailable` otherwise.
pub async fn ready(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok(Json(Health {
            status: "ready".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        })),
        Err(err) => {
            tracing::warn!(%err, "not ready");
            Err(crate::error::ApiError::StoreUnavailable)
        }
    }
}

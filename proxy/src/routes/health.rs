//! `GET /api/v1/health`: liveness and version.

use mailsetup_shared::api::Health;

use crate::error::Json;

/// Answers `{"status":"ok","version":"<crate version>"}`.
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

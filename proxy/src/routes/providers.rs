//! `GET /api/v1/providers` (the whole knowledge base) and
//! `GET /api/v1/providers/lookup?email=ADDRESS` (the provider for an address's domain, from
//! the knowledge base alone: no network).

use axum::extract::{Query, State};
use mailsetup_shared::api::{Lang, Provider, Text};
use mailsetup_shared::email::{self, EmailAddress};
use serde::Deserialize;

use crate::AppState;
use crate::error::{ApiError, Json};

/// The query of the lookup route.
#[derive(Debug, Deserialize)]
pub struct LookupQuery {
    /// The address to look up.
    #[serde(default)]
    pub email: Option<String>,
}

/// Every provider the proxy knows (built in plus the operator's), most used first.
pub async fn list(State(state): State<AppState>) -> Json<Vec<Provider>> {
    Json(state.providers.all().to_vec())
}

/// The provider for `?email=`: 200 with it, 404 `unknown_provider`, 400 `invalid_email`.
pub async fn lookup(
    State(state): State<AppState>,
    query: Result<Query<LookupQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Provider>, ApiError> {
    let raw = query.ok().and_then(|Query(q)| q.email).unwrap_or_default();
    let address = EmailAddress::parse(&raw).map_err(|e| ApiError::InvalidEmail(email_text(&e)))?;
    if let Some(p) = state.providers.by_domain(address.domain()) {
        return Ok(Json(p.clone()));
    }
    Err(ApiError::UnknownProvider {
        domain: address.domain_unicode().to_owned(),
        suggestion: email::suggest(address.as_str()),
    })
}

/// An address error in every language.
pub(crate) fn email_text(e: &email::EmailError) -> Text {
    Text::new(e.message(Lang::En), e.message(Lang::Ru))
}

/// The built-in providers plus the operator's file, if any: JSON (`[...]` or
/// `{"provider":[...]}`) or TOML (`[[provider]]` tables, chosen by a `.toml` extension),
/// checked against the same schema as the built-in data. Any problem stops the start.
pub(crate) fn load_providers(
    file: Option<&std::path::Path>,
) -> anyhow::Result<mailsetup_shared::providers::Registry> {
    use anyhow::Context as _;
    use mailsetup_shared::providers::Registry;
    let registry = Registry::builtin();
    let Some(path) = file else {
        return Ok(registry);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the providers file {}", path.display()))?;
    let is_toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let json = if is_toml {
        let value: serde_json::Value = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        value.to_string()
    } else {
        text
    };
    let extra = mailsetup_shared::providers::parse_json(&json)
        .map_err(|e| anyhow::anyhow!("{} fails the provider schema:\n{e}", path.display()))?;
    tracing::info!(file = %path.display(), count = extra.len(), "operator providers loaded");
    Ok(registry.with_extra(extra))
}

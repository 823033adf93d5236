//! The flow's second step, `callback` (the first is `start.rs`): in this order, each refusal its own diagnosis: `state` opens (else
//! `oauth_state_invalid`, 400) and is in time (`oauth_state_expired`, 400); the browser
//! brings the cookie that started the flow (`oauth_state_invalid`, 403); the flow was not
//! finished before, on any replica (the store's single-use mark; `oauth_state_invalid`,
//! 400; the store down: 503 `store_unavailable`); the provider did not refuse
//! (`oauth_denied` for `access_denied`, else `oauth_provider_error`); the code exchange
//! works (`oauth_exchange_failed`: a wrong code or PKCE verifier); the grant has the mail
//! scopes (`oauth_scope_missing`); the id_token's address, when there is one, is the one
//! typed (`oauth_account_mismatch`). Then the real check with the token, on the
//! provider's servers: the same steps and diagnoses as a password check.

use axum::http::StatusCode;
use mailsetup_shared::api::{
    CheckRequest, Diagnosis, DiagnosisCode, IncomingProtocol, IncomingTarget, Lang, OutgoingTarget,
    Protocol, Provider,
};
use mailsetup_shared::email::EmailAddress;
use mailsetup_shared::oauth::{OAuthGrant, OAuthOutcome};
use serde::Deserialize;

use super::page::Page;
use super::state::{FlowState, Mode, StateError, s256};
use super::{OAuthClient, token};
use crate::AppState;
use crate::check::CheckError;

/// `GET /api/v1/oauth/callback` query.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    /// The authorization code.
    #[serde(default)]
    pub code: Option<String>,
    /// Our sealed state.
    #[serde(default)]
    pub state: Option<String>,
    /// The provider's refusal (`access_denied`).
    #[serde(default)]
    pub error: Option<String>,
}

/// Finishes a flow and renders the page for it. `cookie` is the browser's binding cookie.
pub async fn callback(
    app: &AppState,
    query: CallbackQuery,
    cookie: Option<&str>,
    lang: Lang,
) -> Page {
    let oauth = &app.oauth;
    let refused = |status: StatusCode, code: DiagnosisCode, lang: Lang| Page {
        status,
        outcome: OAuthOutcome {
            provider: String::new(),
            email: String::new(),
            check: None,
            error: Some(diagnosis(code, lang, None, None)),
            grant: None,
        },
        mode: Mode::Popup,
        return_to: None,
        origin: oauth.origin(),
        lang,
    };
    let now = unix_now();
    let flow = match query.state.as_deref().map(|s| oauth.key.open(s, now)) {
        Some(Ok(flow)) => flow,
        Some(Err(StateError::Expired)) => {
            return refused(
                StatusCode::BAD_REQUEST,
                DiagnosisCode::OauthStateExpired,
                lang,
            );
        }
        Some(Err(StateError::Invalid)) | None => {
            return refused(
                StatusCode::BAD_REQUEST,
                DiagnosisCode::OauthStateInvalid,
                lang,
            );
        }
    };
    let lang = flow.lang;
    let page = |status: StatusCode, outcome: OAuthOutcome| Page {
        status,
        outcome,
        mode: flow.mode,
        return_to: flow.return_to.clone(),
        origin: oauth.origin(),
        lang,
    };
    let provider = app.providers.by_id(&flow.provider).cloned();
    let stopped = |code: DiagnosisCode, reply: Option<String>| OAuthOutcome {
        provider: flow.provider.clone(),
        email: flow.email.clone(),
        check: None,
        error: Some(diagnosis(code, lang, provider.as_ref(), reply)),
        grant: None,
    };
    if cookie.map(s256).as_deref() != Some(flow.browser.as_str()) {
        return page(
            StatusCode::FORBIDDEN,
            stopped(DiagnosisCode::OauthStateInvalid, None),
        );
    }
    // Single use, on every replica: the first callback takes the one token of a bucket
    // that lives longer than the state itself.
    let mark = format!("oauth:state:{}", s256(&flow.id));
    match app.store.take_token(&mark, 1, oauth.state_ttl * 2).await {
        Ok(None) => {}
        Ok(Some(_)) => {
            return page(
                StatusCode::BAD_REQUEST,
                stopped(DiagnosisCode::OauthStateInvalid, None),
            );
        }
        Err(err) => {
            tracing::warn!(%err, "oauth callback: the store is unavailable");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                stopped(DiagnosisCode::StoreUnavailable, None),
            );
        }
    }
    if let Some(error) = &query.error {
        let code = if error == "access_denied" {
            DiagnosisCode::OauthDenied
        } else {
            DiagnosisCode::OauthProviderError
        };
        let word: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return page(StatusCode::OK, stopped(code, Some(word)));
    }
    let Some(client) = oauth.config.client(&flow.provider) else {
        return page(
            StatusCode::OK,
            stopped(DiagnosisCode::OauthProviderError, None),
        );
    };
    let Some(code) = query
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 4096)
    else {
        return page(
            StatusCode::BAD_REQUEST,
            stopped(DiagnosisCode::OauthProviderError, None),
        );
    };
    let grant = match token::exchange(
        &oauth.http,
        client,
        code,
        &flow.verifier,
        &oauth.redirect_uri(),
    )
    .await
    {
        Ok(g) => g,
        Err(token::ExchangeError::Refused(word)) => {
            return page(
                StatusCode::OK,
                stopped(DiagnosisCode::OauthExchangeFailed, Some(word)),
            );
        }
        Err(token::ExchangeError::Failed(what)) => {
            tracing::info!(provider = %flow.provider, %what, "oauth code exchange failed");
            return page(
                StatusCode::OK,
                stopped(DiagnosisCode::OauthExchangeFailed, Some(what)),
            );
        }
    };
    let granted: Vec<String> = match &grant.scope {
        Some(s) => s.split_whitespace().map(str::to_owned).collect(),
        None => client.scopes.clone(),
    };
    if let Some(missing) = client.mail_scopes.iter().find(|m| !granted.contains(m)) {
        return page(
            StatusCode::OK,
            stopped(DiagnosisCode::OauthScopeMissing, Some(missing.clone())),
        );
    }
    if let Some(account) = grant.id.as_ref().and_then(|id| id.email.as_deref())
        && !same_address(account, &flow.email)
    {
        return page(
            StatusCode::OK,
            stopped(
                DiagnosisCode::OauthAccountMismatch,
                Some(account.to_owned()),
            ),
        );
    }
    let started = std::time::Instant::now();
    let request = check_request(&flow, &grant, client, provider.as_ref());
    let _running = app.metrics.in_flight();
    let report = match app.checker.check(&request, lang, provider.as_ref()).await {
        Ok(r) => r,
        Err(CheckError::StoreUnavailable(_)) => {
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                stopped(DiagnosisCode::StoreUnavailable, None),
            );
        }
        Err(other) => {
            let text = match other {
                CheckError::Invalid { message, .. } | CheckError::NotAllowed { message, .. } => {
                    message.get(lang).to_owned()
                }
                _ => String::new(),
            };
            return page(
                StatusCode::OK,
                stopped(DiagnosisCode::OauthProviderError, Some(text)),
            );
        }
    };
    app.metrics.check_done(&report, started.elapsed());
    let grant = flow.credentials.then(|| OAuthGrant {
        provider: flow.provider.clone(),
        access_token: grant.access_token,
        refresh_token: grant.refresh_token,
        expires_at: grant.expires_in.map(|s| now + s),
        scopes: granted,
    });
    page(
        StatusCode::OK,
        OAuthOutcome {
            provider: flow.provider.clone(),
            email: flow.email.clone(),
            check: Some(report),
            error: None,
            grant,
        },
    )
}

/// The check a finished sign-in runs: the provider's first IMAP (else POP3) and SMTP
/// servers, logging in as the address with the token.
fn check_request(
    flow: &FlowState,
    grant: &token::Grant,
    client: &OAuthClient,
    provider: Option<&Provider>,
) -> CheckRequest {
    let incoming = provider.and_then(|p| {
        p.servers_for(Protocol::Imap)
            .next()
            .or_else(|| p.servers_for(Protocol::Pop3).next())
            .map(|s| IncomingTarget {
                protocol: if s.protocol == Protocol::Pop3 {
                    IncomingProtocol::Pop3
                } else {
                    IncomingProtocol::Imap
                },
                host: s.host.clone(),
                port: s.port,
                security: s.security,
            })
    });
    let outgoing = provider.and_then(|p| {
        p.servers_for(Protocol::Smtp)
            .next()
            .map(|s| OutgoingTarget {
                host: s.host.clone(),
                port: s.port,
                security: s.security,
            })
    });
    CheckRequest {
        email: flow.email.clone(),
        username: None,
        password: None,
        auth: Some(mailsetup_shared::api::Auth::Oauth2 {
            access_token: mailsetup_shared::secret::Token::new(grant.access_token.expose()),
            sasl: Some(client.sasl),
        }),
        incoming,
        outgoing,
    }
}

/// Two addresses are the same mailbox: same text after the one address parser (domain
/// in punycode, lowercase), compared without case.
fn same_address(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        EmailAddress::parse(s)
            .map(|e| e.as_str().to_ascii_lowercase())
            .unwrap_or_else(|_| s.trim().to_ascii_lowercase())
    };
    norm(a) == norm(b)
}

fn diagnosis(
    code: DiagnosisCode,
    lang: Lang,
    provider: Option<&Provider>,
    reply: Option<String>,
) -> Diagnosis {
    mailsetup_shared::diagnose::explain(code, lang, provider, reply)
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

//! The code exchange at the provider's token endpoint (RFC 6749 4.1.3 with PKCE): one
//! HTTP/1.1 POST by the proxy's one HTTP client ([`crate::http_client`]) to an address the
//! egress policy accepted (the operator's endpoint: any port, but loopback and private
//! addresses only with `--allow-private-targets`), TLS verified against the endpoint's
//! host, the connect and the handshake each under its own timeout, the whole exchange
//! under one deadline, the answer bounded; the POST is sent once, to the first address
//! that accepts a connection (the code is single-use). The id_token, fetched directly from the token
//! endpoint over TLS, is trusted without a signature check (OpenID Connect Core 3.1.3.7)
//! and read only for its `email`, `aud` and `exp`.
//!
//! Invariant: the code, the verifier, the client secret and every token stay in this
//! module's values and [`Token`]s; nothing here logs them, and errors quote only the
//! provider's `error` code (a short ASCII word), never its body.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::Full;
use mailsetup_shared::secret::Token;
use serde::Deserialize;

use super::config::{Endpoint, OAuthClient};
use crate::dns::Resolver;
use crate::http_client::{self, Bodies, Destination, HttpError, Limits};
use crate::policy::EgressPolicy;

/// The largest token response read.
const MAX_BODY: usize = 64 * 1024;
/// The largest response head read.
const MAX_HEAD: usize = 16 * 1024;

/// Where and how token requests go.
#[derive(Clone, Debug)]
pub struct TokenHttp {
    /// The one resolver.
    pub resolver: Resolver,
    /// The egress policy (address classes).
    pub policy: EgressPolicy,
    /// TLS with the web PKI roots plus `--extra-ca`.
    pub tls: Arc<rustls::ClientConfig>,
    /// How long the TCP connect to one address may take (`--connect-timeout`).
    pub connect_timeout: Duration,
    /// How long the TLS handshake may take (`--tls-timeout`).
    pub tls_timeout: Duration,
    /// The whole exchange's deadline.
    pub timeout: Duration,
}

/// What the token endpoint granted.
#[derive(Debug)]
pub struct Grant {
    /// The access token.
    pub access_token: Token,
    /// The refresh token, when given.
    pub refresh_token: Option<Token>,
    /// Seconds the access token lives.
    pub expires_in: Option<u64>,
    /// The scopes granted, when the endpoint says (else: those asked for).
    pub scope: Option<String>,
    /// The id_token's claims we read, when one came.
    pub id: Option<IdClaims>,
}

/// What the id_token says that the flow checks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct IdClaims {
    /// The account's address.
    #[serde(default)]
    pub email: Option<String>,
    /// The audience: our client id (a string or a list).
    #[serde(default)]
    pub aud: serde_json::Value,
    /// Expiry.
    #[serde(default)]
    pub exp: Option<u64>,
}

/// Why no grant came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExchangeError {
    /// The endpoint refused (`invalid_grant`: a wrong or reused code, a wrong PKCE
    /// verifier...): its `error` code.
    Refused(String),
    /// The endpoint could not be reached or answered nonsense: what happened.
    Failed(String),
}

/// The token endpoint's JSON answer.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// Exchanges `code` (with its PKCE `verifier`) for tokens at `client`'s token endpoint.
pub async fn exchange(
    http: &TokenHttp,
    client: &OAuthClient,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
) -> Result<Grant, ExchangeError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", client.client_id.as_str()),
        ("code_verifier", verifier),
    ];
    if let Some(secret) = &client.client_secret {
        form.push(("client_secret", secret.expose()));
    }
    let body = serde_urlencoded::to_string(&form)
        .map_err(|_| ExchangeError::Failed("cannot encode the token request".to_owned()))?;
    let endpoint = Endpoint::parse(&client.token_url).map_err(ExchangeError::Failed)?;
    let (status, bytes) = tokio::time::timeout(http.timeout, post(http, &endpoint, body))
        .await
        .map_err(|_| {
            ExchangeError::Failed(format!(
                "the token endpoint did not answer within {} s",
                http.timeout.as_secs()
            ))
        })??;
    let parsed: TokenResponse = serde_json::from_slice(&bytes).map_err(|_| {
        ExchangeError::Failed(format!(
            "the token endpoint answered HTTP {status} without JSON"
        ))
    })?;
    if let Some(error) = parsed.error {
        return Err(ExchangeError::Refused(short_word(&error)));
    }
    let Some(access_token) = parsed.access_token.filter(|_| status == 200) else {
        return Err(ExchangeError::Failed(format!(
            "the token endpoint answered HTTP {status} without an access token"
        )));
    };
    let expires_in = match parsed.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let id = match parsed.id_token {
        None => None,
        Some(jwt) => Some(id_claims(&jwt, &client.client_id)?),
    };
    Ok(Grant {
        access_token: Token::new(access_token),
        refresh_token: parsed.refresh_token.map(Token::new),
        expires_in,
        scope: parsed.scope,
        id,
    })
}

/// The claims of an id_token from the token endpoint, after checking it is for us.
fn id_claims(jwt: &str, client_id: &str) -> Result<IdClaims, ExchangeError> {
    let bad = || ExchangeError::Failed("the id_token is not a JWT for this client".to_owned());
    let payload = jwt.split('.').nth(1).ok_or_else(bad)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| bad())?;
    let claims: IdClaims = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let for_us = match &claims.aud {
        serde_json::Value::String(a) => a == client_id,
        serde_json::Value::Array(list) => list.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !for_us {
        return Err(bad());
    }
    Ok(claims)
}

/// A provider's `error` code as a short ASCII word (it is quoted to the user).
fn short_word(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(64)
        .collect()
}

async fn post(
    http: &TokenHttp,
    endpoint: &Endpoint,
    body: String,
) -> Result<(u16, Bytes), ExchangeError> {
    let failed =
        |what: String| ExchangeError::Failed(format!("token endpoint {}: {what}", endpoint.host));
    let tls = if endpoint.https {
        let name = rustls::pki_types::ServerName::try_from(endpoint.host.clone())
            .map_err(|_| failed("not a TLS server name".to_owned()))?;
        Some((http.tls.clone(), name))
    } else {
        None
    };
    let request = hyper::Request::post(endpoint.path.as_str())
        .header(hyper::header::HOST, endpoint.host_header())
        .header(
            hyper::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(hyper::header::ACCEPT, "application/json")
        .header(hyper::header::USER_AGENT, "mailsetup")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| failed(format!("HTTP: {e}")))?;
    let to = Destination {
        host: endpoint.host.clone(),
        port: endpoint.port,
        tls,
    };
    let limits = Limits {
        connect: http.connect_timeout,
        handshake: http.tls_timeout,
        max_head: MAX_HEAD,
        max_body: MAX_BODY,
        bodies: Bodies::All,
    };
    let policy = http.policy;
    let answer = http_client::send(
        &http.resolver,
        |a| policy.check_configured_endpoint(a),
        &to,
        request,
        &limits,
    )
    .await
    .map_err(|e| {
        failed(match e {
            HttpError::Resolve(reason) => reason,
            HttpError::Connect { addr, error } => format!("cannot connect to {addr}: {error}"),
            HttpError::Tls { error, .. } => format!("TLS: {error}"),
            HttpError::Http { error, .. } => format!("HTTP: {error}"),
            HttpError::TooLarge { kib } => format!("the answer is over {kib} KB"),
        })
    })?;
    Ok((answer.status, answer.body))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn jwt(claims: &str) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(claims))
    }

    #[test]
    fn id_tokens_are_read_only_when_they_are_for_us() {
        let c = id_claims(&jwt(r#"{"email":"a@b.c","aud":"me","exp":5}"#), "me").unwrap();
        assert_eq!(c.email.as_deref(), Some("a@b.c"));
        assert!(id_claims(&jwt(r#"{"aud":["x","me"]}"#), "me").is_ok());
        assert!(id_claims(&jwt(r#"{"email":"a@b.c","aud":"other"}"#), "me").is_err());
        assert!(id_claims("not-a-jwt", "me").is_err());
        assert_eq!(short_word("invalid_grant<script>"), "invalid_grantscript");
    }
}

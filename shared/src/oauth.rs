//! The OAuth 2.0 sign-in contract between the proxy, the wizard and the host app.
//!
//! The flow (authorization code with PKCE S256): the wizard opens
//! `GET /api/v1/oauth/{provider}/start?email=ADDRESS` in a popup (or the same tab when popups
//! are blocked); the provider sends the browser back to `GET /api/v1/oauth/callback`, where
//! the proxy exchanges the code and runs the real IMAP/POP3 + SMTP check with the token. The
//! callback page hands an [`OAuthOutcome`] to the wizard that opened the flow, in an
//! [`OAuthMessage`] posted to the proxy's own origin (popup) or kept in the tab's
//! `sessionStorage` under [`OAUTH_STORAGE_KEY`] (same-tab redirect).
//!
//! Invariant: tokens are [`Token`]s (redacted `Debug`, zeroized); the proxy never logs,
//! stores or caches them, and the wizard hands them to the host only when it opted in.

use serde::{Deserialize, Serialize};

pub use crate::api::{Auth, OAuthSasl};
use crate::api::{CheckResponse, Diagnosis};
use crate::secret::Token;

/// A provider's OAuth 2.0 facts from the knowledge base (`[provider.oauth]` in
/// `shared/data/providers.toml`; see [`crate::providers::oauth_facts`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthFacts {
    /// The authorization endpoint.
    pub authorization_url: String,
    /// The token endpoint.
    pub token_url: String,
    /// Every scope asked for (mail, refresh, `openid email`).
    pub scopes: Vec<String>,
    /// The scopes IMAP/POP3/SMTP logins need; a grant without one is `oauth_scope_missing`.
    pub mail_scopes: Vec<String>,
    /// Extra authorization request parameters (`access_type=offline`).
    #[serde(default)]
    pub authorization_params: std::collections::BTreeMap<String, String>,
    /// SASL mechanisms the mail servers accept, preferred first.
    pub sasl: Vec<OAuthSasl>,
    /// Whether the provider supports PKCE S256.
    pub pkce: bool,
    /// Whether the token endpoint wants a client secret.
    pub client_secret_required: bool,
    /// Where the facts come from.
    pub sources: Vec<String>,
}

/// One provider the operator configured an OAuth client for
/// (`GET /api/v1/oauth/providers`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OAuthProvider {
    /// The provider id (built-in or from `--providers-file`).
    pub id: String,
    /// The name to show ("Google", "Microsoft").
    pub name: String,
    /// The mechanism the check will use.
    pub sasl: OAuthSasl,
}

/// `GET /api/v1/oauth/providers` response: providers that offer "Sign in with ...".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OAuthProviders {
    /// Configured providers; empty when the operator configured none.
    pub providers: Vec<OAuthProvider>,
}

/// What a successful sign-in grants, handed to the host only when it opted in
/// (`data-return-credentials`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OAuthGrant {
    /// The provider id.
    pub provider: String,
    /// The access token.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub access_token: Token,
    /// The refresh token, when the provider gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Password))]
    pub refresh_token: Option<Token>,
    /// When the access token expires, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The scopes granted.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// How a sign-in ended: the check's report, or why the flow stopped before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OAuthOutcome {
    /// The provider id.
    pub provider: String,
    /// The address the user typed (the flow's `email`).
    pub email: String,
    /// The check made with the token, as `POST /api/v1/check` answers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckResponse>,
    /// Why the flow stopped before or instead of a check (`oauth_denied`,
    /// `oauth_scope_missing`, `oauth_account_mismatch`, ...), in plain words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Diagnosis>,
    /// The tokens; present only in the message to the wizard, which passes them to the
    /// host only when it opted in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<OAuthGrant>,
}

impl OAuthOutcome {
    /// Whether the sign-in worked and every checked side logged in.
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.check.as_ref().is_some_and(|c| c.ok)
    }
}

/// The `postMessage` envelope the callback page sends to the wizard that opened it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthMessage {
    /// Always [`OAUTH_MESSAGE_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The flow's result.
    pub outcome: OAuthOutcome,
}

/// `OAuthMessage.type`.
pub const OAUTH_MESSAGE_TYPE: &str = "mailsetup:oauth";

/// The `sessionStorage` key the callback page leaves the outcome under after a same-tab
/// redirect; the wizard reads and removes it at start.
pub const OAUTH_STORAGE_KEY: &str = "mailsetup:oauth";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_wire_forms() {
        let a: Auth = serde_json::from_str(r#"{"method":"oauth2","access_token":"tok"}"#).unwrap();
        assert!(matches!(&a, Auth::Oauth2 { access_token, .. } if access_token.expose() == "tok"));
        assert_eq!(
            format!("{a:?}"),
            "Oauth2 { access_token: Token([redacted]) }"
        );
        let p: Auth = serde_json::from_str(r#"{"method":"password","password":"pw"}"#).unwrap();
        assert!(matches!(&p, Auth::Password { password } if password.expose() == "pw"));
        assert!(serde_json::from_str::<Auth>(r#"{"method":"kerberos"}"#).is_err());
        assert!(serde_json::from_str::<Auth>(r#"{"method":"oauth2"}"#).is_err());
    }

    #[test]
    fn message_wire_form() {
        let m = OAuthMessage {
            kind: OAUTH_MESSAGE_TYPE.into(),
            outcome: OAuthOutcome {
                provider: "gmail".into(),
                email: "a@gmail.com".into(),
                check: None,
                error: None,
                grant: None,
            },
        };
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            json,
            r#"{"type":"mailsetup:oauth","outcome":{"provider":"gmail","email":"a@gmail.com"}}"#
        );
        assert!(!m.outcome.ok());
    }
}

//! `POST /api/v1/check`: the request (targets and how to log in), the report of each side,
//! its steps and the diagnosis of a failure.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{IncomingProtocol, Protocol, Security};
use crate::secret::{Password, Token};

/// The incoming side of a check request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IncomingTarget {
    /// IMAP or POP3.
    pub protocol: IncomingProtocol,
    /// Host name or IP literal.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS mode.
    pub security: Security,
}

/// The outgoing (SMTP) side of a check request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OutgoingTarget {
    /// Host name or IP literal.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS mode.
    pub security: Security,
}

/// `POST /api/v1/check` request body. Either side may be left out; exactly one of
/// `password` and `auth` says how to log in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The mailbox address (also the sender checked with `MAIL FROM`).
    pub email: String,
    /// Login name; defaults to `email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The (app) password. Never echoed back. Give this or `auth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Password))]
    pub password: Option<Password>,
    /// How to log in, instead of `password`: an OAuth 2.0 access token
    /// (`{"method": "oauth2", "access_token": "..."}`) or a password
    /// (`{"method": "password", "password": "..."}`). Never echoed back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    /// The server to fetch mail from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incoming: Option<IncomingTarget>,
    /// The server to send mail through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outgoing: Option<OutgoingTarget>,
}

impl CheckRequest {
    /// The one credential the request logs in with: `None` when it gives none, or both a
    /// `password` and an `auth`.
    pub fn credential(&self) -> Option<Credential<'_>> {
        match (&self.password, &self.auth) {
            (Some(password), None) | (None, Some(Auth::Password { password })) => {
                Some(Credential::Password(password))
            }
            (None, Some(Auth::Oauth2 { access_token, sasl })) => Some(Credential::OAuth2 {
                token: access_token,
                sasl: *sasl,
            }),
            _ => None,
        }
    }
}

/// What a check logs in with, borrowed from its [`CheckRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential<'a> {
    /// A password or app password (LOGIN, USER/PASS, SASL PLAIN or LOGIN).
    Password(&'a Password),
    /// An OAuth 2.0 access token (SASL XOAUTH2 or OAUTHBEARER).
    OAuth2 {
        /// The bearer token.
        token: &'a Token,
        /// The mechanism asked for; the server's offer decides when absent.
        sasl: Option<OAuthSasl>,
    },
}

impl Credential<'_> {
    /// The secret itself, for the one place that sends it and the redactor.
    pub fn secret(&self) -> &str {
        match self {
            Self::Password(p) => p.expose(),
            Self::OAuth2 { token, .. } => token.expose(),
        }
    }
}

/// How a check logs in (`CheckRequest.auth`). Wire form:
/// `{"method": "password", "password": "..."}` or
/// `{"method": "oauth2", "access_token": "...", "sasl": "xoauth2"}` (`sasl` optional).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// A password or app password.
    Password {
        /// The secret.
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
        password: Password,
    },
    /// An OAuth 2.0 access token, sent with SASL XOAUTH2 or OAUTHBEARER.
    Oauth2 {
        /// The bearer token.
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
        access_token: Token,
        /// The mechanism to use; when absent, the one the server offers
        /// (OAUTHBEARER, the standard one, when it offers both).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sasl: Option<OAuthSasl>,
    },
}

/// Redacted; `sasl` is shown only when given.
impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password { password } => f
                .debug_struct("Password")
                .field("password", password)
                .finish(),
            Self::Oauth2 { access_token, sasl } => {
                let mut s = f.debug_struct("Oauth2");
                s.field("access_token", access_token);
                if let Some(sasl) = sasl {
                    s.field("sasl", sasl);
                }
                s.finish()
            }
        }
    }
}

wire_enum! {
    /// The SASL mechanism that carries an OAuth 2.0 token.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum OAuthSasl {
        /// Google's and Microsoft's `XOAUTH2`.
        Xoauth2 = "xoauth2",
        /// RFC 7628 `OAUTHBEARER`.
        Oauthbearer = "oauthbearer",
    }
}

impl OAuthSasl {
    /// The mechanism's name in `AUTHENTICATE`/`AUTH` commands and capability lists.
    pub fn mechanism(self) -> &'static str {
        match self {
            Self::Xoauth2 => "XOAUTH2",
            Self::Oauthbearer => "OAUTHBEARER",
        }
    }
}

wire_enum! {
    /// Which side of a check: where mail comes from, or where it goes.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum Side {
        /// IMAP or POP3 (`CheckRequest.incoming`, `CheckResponse.incoming`).
        Incoming = "incoming",
        /// SMTP (`CheckRequest.outgoing`, `CheckResponse.outgoing`).
        Outgoing = "outgoing",
    }
}

/// `POST /api/v1/check` response body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckResponse {
    /// True when every requested side succeeded.
    pub ok: bool,
    /// Report of the incoming side, when it was requested.
    #[serde(default)]
    pub incoming: Option<SideReport>,
    /// Report of the outgoing side, when it was requested.
    #[serde(default)]
    pub outgoing: Option<SideReport>,
}

/// What happened on one side of a check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SideReport {
    /// True when the login (and the follow-up checks) succeeded.
    pub ok: bool,
    /// The protocol checked.
    pub protocol: Protocol,
    /// The host checked, as requested.
    #[serde(default)]
    pub host: String,
    /// The port checked.
    #[serde(default)]
    pub port: u16,
    /// The TLS mode checked.
    #[serde(default = "default_security")]
    pub security: Security,
    /// Every step taken, in order; the last failed one explains the diagnosis.
    pub steps: Vec<StepReport>,
    /// Why the side failed, in plain words; `null` on success.
    pub diagnosis: Option<Diagnosis>,
    /// The TLS session, when one was made (also on certificate failures, when known).
    #[serde(default)]
    pub tls: Option<TlsInfo>,
    /// Server capabilities that matter to a mail app (IDLE, MOVE, UIDPLUS, CONDSTORE,
    /// SIZE, 8BITMIME...), after login.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
}

fn default_security() -> Security {
    Security::Tls
}

wire_enum! {
    /// The name of one step of a check.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum StepKind {
        /// DNS resolution and the egress policy check.
        Resolve = "resolve",
        /// TCP connect.
        Connect = "connect",
        /// TLS handshake (implicit TLS, or after STARTTLS).
        Tls = "tls",
        /// The server's greeting.
        Greeting = "greeting",
        /// EHLO (SMTP).
        Ehlo = "ehlo",
        /// STARTTLS / STLS.
        Starttls = "starttls",
        /// CAPABILITY / CAPA / EHLO keywords.
        Capabilities = "capabilities",
        /// Login.
        Auth = "auth",
        /// IMAP: opening INBOX; POP3: STAT.
        Mailbox = "mailbox",
        /// SMTP: MAIL FROM with the sender address, then RSET (nothing is sent).
        Sender = "sender",
        /// LOGOUT / QUIT.
        Logout = "logout",
    }
}

/// One step of a check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepReport {
    /// Which step.
    pub step: StepKind,
    /// Whether it succeeded.
    pub ok: bool,
    /// How long it took, in milliseconds.
    pub ms: u64,
    /// What was learnt (the address connected to, the greeting, the failure).
    #[serde(default)]
    pub detail: Option<String>,
}

wire_enum! {
    /// Stable diagnosis codes. Host apps rely on these names.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum DiagnosisCode {
        /// The host name does not exist or has no address.
        DnsNotFound = "dns_not_found",
        /// The proxy's DNS resolver gave no answer (timeout, SERVFAIL, REFUSED, unreachable):
        /// a problem on the service's side, not the user's.
        DnsFailed = "dns_failed",
        /// Nothing listens on that port.
        ConnectRefused = "connect_refused",
        /// The connection attempt timed out.
        ConnectTimeout = "connect_timeout",
        /// The TLS handshake failed for a reason other than the certificate.
        TlsFailed = "tls_failed",
        /// The server's certificate has expired.
        CertExpired = "cert_expired",
        /// The certificate is for other names.
        CertHostnameMismatch = "cert_hostname_mismatch",
        /// The certificate is not issued by a trusted authority.
        CertUntrusted = "cert_untrusted",
        /// STARTTLS was asked for but the server does not offer it.
        StarttlsUnavailable = "starttls_unavailable",
        /// The server refuses logins without encryption.
        PlaintextRefused = "plaintext_refused",
        /// The server speaks another protocol than the one configured.
        WrongProtocol = "wrong_protocol",
        /// Wrong user name or password.
        AuthFailed = "auth_failed",
        /// The provider wants an app password, not the account password.
        AppPasswordRequired = "app_password_required",
        /// IMAP/POP/SMTP access is switched off for the mailbox.
        ProtocolDisabled = "protocol_disabled",
        /// The provider wants the user to log in via the web first.
        WebLoginRequired = "web_login_required",
        /// The account is disabled or blocked.
        AccountDisabled = "account_disabled",
        /// Basic authentication is disabled; only OAuth works.
        OauthRequired = "oauth_required",
        /// The server refuses more connections from this client.
        TooManyConnections = "too_many_connections",
        /// The server is rate limiting.
        RateLimitedByServer = "rate_limited_by_server",
        /// The server stopped answering.
        ServerTimeout = "server_timeout",
        /// The server answered something unexpected.
        ProtocolError = "protocol_error",
        /// The login worked but the server will not send mail from this address
        /// (`MAIL FROM` refused: the address is not the account's own or an alias of it).
        SenderRejected = "sender_rejected",
        /// The OAuth token was refused: expired, revoked, or issued for another app or
        /// account.
        OauthTokenRejected = "oauth_token_rejected",
        /// The OAuth token is valid but does not grant mail access (IMAP/POP/SMTP scope).
        OauthScopeMissing = "oauth_scope_missing",
        /// The user declined the provider's consent screen.
        OauthDenied = "oauth_denied",
        /// The token belongs to another mailbox than the address typed.
        OauthAccountMismatch = "oauth_account_mismatch",
        /// The sign-in came back with a `state` that is forged, replayed or from another
        /// browser.
        OauthStateInvalid = "oauth_state_invalid",
        /// The sign-in took too long and its `state` expired.
        OauthStateExpired = "oauth_state_expired",
        /// The provider refused to exchange the authorization code for a token.
        OauthExchangeFailed = "oauth_exchange_failed",
        /// The provider reported an error of its own during sign-in.
        OauthProviderError = "oauth_provider_error",
        /// The service's shared store could not answer, so a sign-in could not be finished
        /// (the API's `store_unavailable` error, for the sign-in's outcome): nothing the
        /// user did; try again later.
        StoreUnavailable = "store_unavailable",
    }
}

/// A link shown with a diagnosis or a preparation step.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Link {
    /// What the link opens, in the response's language.
    pub title: String,
    /// Absolute https URL.
    pub url: String,
}

/// Why a side failed, in plain words, and what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Diagnosis {
    /// Stable code.
    pub code: DiagnosisCode,
    /// What is wrong, in the language asked for.
    pub message: String,
    /// What to do about it, naming the provider's own settings where known.
    pub advice: String,
    /// The server's own words, when it said something.
    #[serde(default)]
    pub server_reply: Option<String>,
    /// Pages that help (provider settings, help articles).
    #[serde(default)]
    pub links: Vec<Link>,
    /// Names the server's certificate carries, on a host name mismatch, so the UI can
    /// suggest the right host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cert_names: Vec<String>,
}

/// The TLS session a check made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TlsInfo {
    /// `TLSv1.3` or `TLSv1.2`.
    pub version: String,
    /// Negotiated cipher suite.
    pub cipher: String,
    /// Certificate subject (distinguished name).
    pub subject: String,
    /// Certificate issuer (distinguished name).
    pub issuer: String,
    /// DNS names and IP addresses the certificate is valid for.
    pub names: Vec<String>,
    /// Expiry, RFC 3339.
    pub not_after: String,
    /// SHA-256 fingerprint of the leaf certificate, lowercase hex with colons.
    pub sha256: String,
}

//! The JSON API between the front end (and host apps) and the proxy, as Rust types.
//!
//! These names are a product contract: host apps and operators rely on them. Extend freely,
//! never rename. Every enum serializes as `snake_case` strings.

use serde::{Deserialize, Serialize};

use crate::secret::Password;

/// The API version prefix every route lives under.
pub const API_PREFIX: &str = "/api/v1";

/// A mail protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// IMAP4rev1 (RFC 3501).
    Imap,
    /// POP3 (RFC 1939).
    Pop3,
    /// SMTP submission (RFC 6409).
    Smtp,
}

impl Protocol {
    /// The lowercase wire name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Imap => "imap",
            Self::Pop3 => "pop3",
            Self::Smtp => "smtp",
        }
    }

    /// The name users see ("IMAP", "POP3", "SMTP").
    pub fn label(self) -> &'static str {
        match self {
            Self::Imap => "IMAP",
            Self::Pop3 => "POP3",
            Self::Smtp => "SMTP",
        }
    }
}

/// The protocols that fetch mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IncomingProtocol {
    /// IMAP (recommended: folders, flags and several devices stay in sync).
    Imap,
    /// POP3 (downloads the inbox only).
    Pop3,
}

impl From<IncomingProtocol> for Protocol {
    fn from(p: IncomingProtocol) -> Self {
        match p {
            IncomingProtocol::Imap => Protocol::Imap,
            IncomingProtocol::Pop3 => Protocol::Pop3,
        }
    }
}

/// How a connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// TLS from the first byte ("SSL/TLS", ports 993, 995, 465).
    Tls,
    /// Plain connection upgraded with STARTTLS/STLS (ports 143, 110, 587).
    Starttls,
    /// No encryption at all; only when the operator allows it.
    None,
}

impl Security {
    /// The lowercase wire name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::Starttls => "starttls",
            Self::None => "none",
        }
    }
}

/// Which login name a server expects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UsernameForm {
    /// The whole address, `alice@example.com`.
    #[default]
    Email,
    /// Only the part before `@`, `alice`.
    LocalPart,
}

impl UsernameForm {
    /// The login name for `email` in this form.
    pub fn apply(self, email: &str) -> String {
        match self {
            Self::Email => email.to_owned(),
            Self::LocalPart => email.split('@').next().unwrap_or(email).to_owned(),
        }
    }
}

/// One server of a provider or a discovery candidate.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Server {
    /// Which protocol the server speaks.
    pub protocol: Protocol,
    /// Host name (ASCII, punycode for IDN).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS mode.
    pub security: Security,
    /// Which login name the server expects.
    #[serde(default)]
    pub username: UsernameForm,
}

/// A text in every language the product speaks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Text {
    /// English.
    pub en: String,
    /// Russian.
    pub ru: String,
}

impl Text {
    /// Builds a text from its English and Russian versions.
    pub fn new(en: impl Into<String>, ru: impl Into<String>) -> Self {
        Self {
            en: en.into(),
            ru: ru.into(),
        }
    }

    /// The text in `lang`, English for anything but Russian.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ru => &self.ru,
        }
    }
}

/// A language of the user interface and of diagnoses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// Russian.
    Ru,
}

impl Lang {
    /// Picks the language from an `Accept-Language` header or a BCP 47 tag list:
    /// the first of `ru`/`en` in order of preference (q-values honoured), else English.
    pub fn from_accept_language(header: &str) -> Self {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = if tag == "ru" || tag.starts_with("ru-") {
                Lang::Ru
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }

    /// The BCP 47 code, `en` or `ru`.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ru => "ru",
        }
    }
}

/// `GET /api/v1/health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `"ok"` from `/health` whenever the proxy answers; `"ready"` from `/ready` when it
    /// can serve checks.
    pub status: String,
    /// The proxy's crate version.
    pub version: String,
}

/// Declares [`ErrorCode`] from one list, so the serde name, `as_str` and `ALL` never
/// disagree.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// The stable code of a request-level error (`ErrorDetail.code`). A product
        /// contract: extend, never rename.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl ErrorCode {
            /// Every code.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it appears on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }
        }
    };
}

error_codes! {
    /// The body or a field is malformed.
    InvalidRequest = "invalid_request",
    /// The address is not a mail address.
    InvalidEmail = "invalid_email",
    /// No provider is known for the address's domain.
    UnknownProvider = "unknown_provider",
    /// The egress policy forbids the target.
    TargetNotAllowed = "target_not_allowed",
    /// The page's origin may not use the API.
    OriginNotAllowed = "origin_not_allowed",
    /// Too many requests from this client, or failed logins for this account.
    RateLimited = "rate_limited",
    /// Every check slot is busy.
    Overloaded = "overloaded",
    /// The body is over the limit.
    BodyTooLarge = "body_too_large",
    /// The body or the whole request took too long.
    Timeout = "timeout",
    /// No such API route.
    NotFound = "not_found",
    /// The route does not take this method.
    MethodNotAllowed = "method_not_allowed",
    /// The service failed to answer.
    InternalError = "internal_error",
    /// Checks are paused: the shared state (Redis) cannot be reached.
    StoreUnavailable = "store_unavailable",
}

/// The one shape of every request-level error: `{"error": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_request`, `invalid_email`,
    /// `unknown_provider`, `target_not_allowed`, `rate_limited`, `overloaded`,
    /// `store_unavailable`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// The request field at fault, when there is one (`"incoming.port"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

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

/// `POST /api/v1/check` request body. Either side may be left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The mailbox address (also the sender checked with `MAIL FROM`).
    pub email: String,
    /// Login name; defaults to `email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The (app) password. Never echoed back.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub password: Password,
    /// The server to fetch mail from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incoming: Option<IncomingTarget>,
    /// The server to send mail through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outgoing: Option<OutgoingTarget>,
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

/// The name of one step of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// DNS resolution and the egress policy check.
    Resolve,
    /// TCP connect.
    Connect,
    /// TLS handshake (implicit TLS, or after STARTTLS).
    Tls,
    /// The server's greeting.
    Greeting,
    /// EHLO (SMTP).
    Ehlo,
    /// STARTTLS / STLS.
    Starttls,
    /// CAPABILITY / CAPA / EHLO keywords.
    Capabilities,
    /// Login.
    Auth,
    /// IMAP: opening INBOX; POP3: STAT.
    Mailbox,
    /// SMTP: MAIL FROM with the sender address, then RSET (nothing is sent).
    Sender,
    /// LOGOUT / QUIT.
    Logout,
}

impl StepKind {
    /// The `snake_case` wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resolve => "resolve",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Greeting => "greeting",
            Self::Ehlo => "ehlo",
            Self::Starttls => "starttls",
            Self::Capabilities => "capabilities",
            Self::Auth => "auth",
            Self::Mailbox => "mailbox",
            Self::Sender => "sender",
            Self::Logout => "logout",
        }
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

/// Stable diagnosis codes. Host apps rely on these names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisCode {
    /// The host name does not exist or has no address.
    DnsNotFound,
    /// The proxy's DNS resolver gave no answer (timeout, SERVFAIL, REFUSED, unreachable):
    /// a problem on the service's side, not the user's.
    DnsFailed,
    /// Nothing listens on that port.
    ConnectRefused,
    /// The connection attempt timed out.
    ConnectTimeout,
    /// The TLS handshake failed for a reason other than the certificate.
    TlsFailed,
    /// The server's certificate has expired.
    CertExpired,
    /// The certificate is for other names.
    CertHostnameMismatch,
    /// The certificate is not issued by a trusted authority.
    CertUntrusted,
    /// STARTTLS was asked for but the server does not offer it.
    StarttlsUnavailable,
    /// The server refuses logins without encryption.
    PlaintextRefused,
    /// The server speaks another protocol than the one configured.
    WrongProtocol,
    /// Wrong user name or password.
    AuthFailed,
    /// The provider wants an app password, not the account password.
    AppPasswordRequired,
    /// IMAP/POP/SMTP access is switched off for the mailbox.
    ProtocolDisabled,
    /// The provider wants the user to log in via the web first.
    WebLoginRequired,
    /// The account is disabled or blocked.
    AccountDisabled,
    /// Basic authentication is disabled; only OAuth works.
    OauthRequired,
    /// The server refuses more connections from this client.
    TooManyConnections,
    /// The server is rate limiting.
    RateLimitedByServer,
    /// The server stopped answering.
    ServerTimeout,
    /// The server answered something unexpected.
    ProtocolError,
    /// The login worked but the server will not send mail from this address
    /// (`MAIL FROM` refused: the address is not the account's own or an alias of it).
    SenderRejected,
}

impl DiagnosisCode {
    /// Every code, in declaration order.
    pub const ALL: [DiagnosisCode; 22] = [
        Self::DnsNotFound,
        Self::DnsFailed,
        Self::ConnectRefused,
        Self::ConnectTimeout,
        Self::TlsFailed,
        Self::CertExpired,
        Self::CertHostnameMismatch,
        Self::CertUntrusted,
        Self::StarttlsUnavailable,
        Self::PlaintextRefused,
        Self::WrongProtocol,
        Self::AuthFailed,
        Self::AppPasswordRequired,
        Self::ProtocolDisabled,
        Self::WebLoginRequired,
        Self::AccountDisabled,
        Self::OauthRequired,
        Self::TooManyConnections,
        Self::RateLimitedByServer,
        Self::ServerTimeout,
        Self::ProtocolError,
        Self::SenderRejected,
    ];

    /// The `snake_case` wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DnsNotFound => "dns_not_found",
            Self::DnsFailed => "dns_failed",
            Self::ConnectRefused => "connect_refused",
            Self::ConnectTimeout => "connect_timeout",
            Self::TlsFailed => "tls_failed",
            Self::CertExpired => "cert_expired",
            Self::CertHostnameMismatch => "cert_hostname_mismatch",
            Self::CertUntrusted => "cert_untrusted",
            Self::StarttlsUnavailable => "starttls_unavailable",
            Self::PlaintextRefused => "plaintext_refused",
            Self::WrongProtocol => "wrong_protocol",
            Self::AuthFailed => "auth_failed",
            Self::AppPasswordRequired => "app_password_required",
            Self::ProtocolDisabled => "protocol_disabled",
            Self::WebLoginRequired => "web_login_required",
            Self::AccountDisabled => "account_disabled",
            Self::OauthRequired => "oauth_required",
            Self::TooManyConnections => "too_many_connections",
            Self::RateLimitedByServer => "rate_limited_by_server",
            Self::ServerTimeout => "server_timeout",
            Self::ProtocolError => "protocol_error",
            Self::SenderRejected => "sender_rejected",
        }
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

/// How well a provider works with third-party mail apps that log in with a password.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProviderStatus {
    /// Works with the account password or with no preparation at all.
    Works,
    /// Works after the user prepares the account (enable IMAP, 2FA, app password...).
    NeedsPreparation,
    /// Only OAuth works; a password (even an app password) is refused.
    OauthOnly,
    /// Does not work with third-party apps at all, or only through a local bridge.
    Broken,
}

/// What a preparation step is about, so the UI can pick an icon and order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepTopic {
    /// Switch on IMAP/POP access in webmail.
    EnableAccess,
    /// Turn on two-step verification.
    TwoFactor,
    /// Create an app password.
    AppPassword,
    /// Anything else (a bridge to install, a setting to check).
    Other,
}

/// One thing the user must do before a third-party app can log in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrepStep {
    /// What the step is about.
    pub topic: StepTopic,
    /// Short title.
    pub title: Text,
    /// What to click and what to expect, in full sentences.
    pub body: Text,
    /// The provider's own settings page for this step.
    #[serde(default)]
    pub url: Option<String>,
}

/// Letters an app password is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Charset {
    /// a-z only.
    Lowercase,
    /// a-z and A-Z.
    Letters,
    /// a-z and 0-9.
    LowercaseDigits,
    /// a-z, A-Z and 0-9.
    Alphanumeric,
}

/// What a provider's app passwords look like.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppPasswordFormat {
    /// Number of significant characters (spaces excluded).
    pub length: u8,
    /// Which characters occur.
    pub charset: Charset,
    /// Shown in groups of this many characters separated by spaces, if so.
    #[serde(default)]
    pub group: Option<u8>,
    /// How it looks, for the hint under the field ("16 letters in groups of four").
    pub hint: Text,
    /// How sure the knowledge base is about this format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    /// Where the format comes from (an https URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Why a provider's first IMAP or SMTP server is not one Thunderbird's ISPDB lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IspdbDiffers {
    /// Why, in a full sentence.
    pub reason: String,
    /// The newer source that says otherwise.
    pub source: String,
}

/// Everything the product knows about one mail provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Provider {
    /// Stable id, e.g. `gmail`, `yandex`.
    pub id: String,
    /// Display name (English, and every language without its own name).
    pub name: String,
    /// The name in Russian where the service has one ("Яндекс Почта"); see
    /// `Provider::display_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_ru: Option<String>,
    /// Domains served: exact (`gmail.com`), a suffix pattern (`*.onmicrosoft.com`) or a
    /// label under any public suffix (`outlook.*`, see `providers::suffix`).
    pub domains: Vec<String>,
    /// MX host patterns that reveal the provider behind a custom domain
    /// (`*.google.com`, `mx.yandex.net`).
    #[serde(default)]
    pub mx: Vec<String>,
    /// Servers for IMAP, POP3 and SMTP, each protocol in preference order.
    pub servers: Vec<Server>,
    /// How well it works with password logins.
    pub status: ProviderStatus,
    /// Why, for anything but `works`.
    #[serde(default)]
    pub status_note: Option<Text>,
    /// What the user must do first, in order.
    #[serde(default)]
    pub steps: Vec<PrepStep>,
    /// What app passwords look like, when the provider has them.
    #[serde(default)]
    pub app_password: Option<AppPasswordFormat>,
    /// What resets or revokes app passwords.
    #[serde(default)]
    pub resets: Vec<Text>,
    /// Limits worth knowing (daily transfer caps, connection limits).
    #[serde(default)]
    pub limits: Vec<Text>,
    /// The provider's help pages the facts come from.
    pub sources: Vec<String>,
    /// Why the first IMAP or SMTP server differs from Thunderbird's ISPDB, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ispdb_differs: Option<IspdbDiffers>,
}

impl Provider {
    /// The servers for `protocol`, in preference order.
    pub fn servers_for(&self, protocol: Protocol) -> impl Iterator<Item = &Server> {
        self.servers.iter().filter(move |s| s.protocol == protocol)
    }
}

/// Where a discovery candidate came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CandidateSource {
    /// The built-in provider knowledge base, by the address's domain.
    Builtin,
    /// The domain's MX hosts belong to a known provider.
    Mx,
    /// RFC 6186 SRV records.
    Srv,
    /// Mozilla autoconfig served by the domain itself.
    Autoconfig,
    /// Thunderbird's central ISP database.
    Ispdb,
    /// Microsoft Autodiscover.
    Autodiscover,
    /// Probing the usual host names and ports.
    Guess,
}

/// How far a discovery candidate, or a fact in the knowledge base, can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// A guess, or data fetched over plain HTTP; for a fact, one secondary source.
    Low,
    /// DNS data (SRV) or a central database; for a fact, several secondary sources agree.
    Medium,
    /// The knowledge base, or the domain's own answer over HTTPS; for a fact, the
    /// provider's own help.
    High,
}

/// One complete set of servers found by discovery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    /// Where to fetch mail (IMAP or POP3).
    pub incoming: Server,
    /// Where to send mail (SMTP).
    pub outgoing: Server,
    /// Which method found it.
    pub source: CandidateSource,
    /// How far to trust it.
    pub confidence: Confidence,
}

/// One thing discovery tried, for transparency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceEntry {
    /// The method (`builtin`, `mx`, `srv`, `autoconfig`, `ispdb`, `autodiscover`, `guess`).
    pub method: String,
    /// What was asked: a DNS name, a URL, `host:port`.
    pub target: String,
    /// Whether it gave a usable answer.
    pub ok: bool,
    /// How long it took, in milliseconds.
    pub ms: u64,
    /// What was learnt, or why it failed (`timed out` at the deadline).
    #[serde(default)]
    pub detail: Option<String>,
}

/// `GET /api/v1/discover?email=...` response body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiscoverResponse {
    /// The address's domain (ASCII, lowercase).
    pub domain: String,
    /// The known provider behind the domain (by domain or MX), if any.
    pub provider: Option<Provider>,
    /// Server sets found, best first.
    pub candidates: Vec<Candidate>,
    /// Everything tried, in the order it finished.
    pub trace: Vec<TraceEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_preferred_known_language() {
        assert_eq!(
            Lang::from_accept_language("ru-RU,ru;q=0.9,en;q=0.8"),
            Lang::Ru
        );
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,ru;q=0.8"),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language("de-DE,ru;q=0.5"), Lang::Ru);
        assert_eq!(Lang::from_accept_language("de-DE"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::from_accept_language("en;q=0.2, ru;q=0.7"), Lang::Ru);
    }

    #[test]
    fn diagnosis_codes_serialize_as_their_names() {
        for code in DiagnosisCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn check_request_parses_the_documented_shape_and_rejects_unknown_fields() {
        let req: CheckRequest = serde_json::from_str(
            r#"{"email":"alice@example.com","password":"abcd efgh ijkl mnop",
                "incoming":{"protocol":"imap","host":"imap.example.com","port":993,"security":"tls"},
                "outgoing":{"host":"smtp.example.com","port":465,"security":"tls"}}"#,
        )
        .unwrap();
        assert_eq!(req.incoming.unwrap().protocol, IncomingProtocol::Imap);
        assert!(req.username.is_none());
        assert!(
            serde_json::from_str::<CheckRequest>(r#"{"email":"a@b.c","password":"x","bogus":1}"#)
                .is_err()
        );
    }

    #[test]
    fn username_form_applies() {
        assert_eq!(UsernameForm::Email.apply("a@b.c"), "a@b.c");
        assert_eq!(UsernameForm::LocalPart.apply("a@b.c"), "a");
    }
}

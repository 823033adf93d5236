//! The JSON API between the front end (and host apps) and the proxy, as Rust types.
//!
//! These names are a product contract: host apps and operators rely on them. Extend freely,
//! never rename. Every enum whose values travel as strings is declared with `wire_enum!`
//! (`Variant = "name"`), so its serde name, `as_str`, `from_wire` and `ALL` come from one
//! list.
//!
//! The parts: [`check`] (`POST /api/v1/check`: request, report, steps, diagnoses),
//! [`stream`] (the live `check/stream` events), [`errors`] (request-level errors),
//! [`providers`] (the knowledge base's records), [`discover`] (`GET /api/v1/discover`).
//! Everything is re-exported here, so `mailsetup_shared::api::CheckRequest` is the path.

pub mod check;
pub mod discover;
pub mod errors;
pub mod providers;
pub mod stream;
#[cfg(test)]
mod tests;

pub use check::*;
pub use discover::*;
pub use errors::*;
pub use providers::*;
pub use stream::*;

use serde::{Deserialize, Serialize};

/// The API version prefix every route lives under.
pub const API_PREFIX: &str = "/api/v1";

wire_enum! {
    /// A mail protocol.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum Protocol {
        /// IMAP4rev1 (RFC 3501).
        Imap = "imap",
        /// POP3 (RFC 1939).
        Pop3 = "pop3",
        /// SMTP submission (RFC 6409).
        Smtp = "smtp",
    }
}

impl Protocol {
    /// The name users see ("IMAP", "POP3", "SMTP").
    pub fn label(self) -> &'static str {
        match self {
            Self::Imap => "IMAP",
            Self::Pop3 => "POP3",
            Self::Smtp => "SMTP",
        }
    }
}

wire_enum! {
    /// The protocols that fetch mail.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum IncomingProtocol {
        /// IMAP (recommended: folders, flags and several devices stay in sync).
        Imap = "imap",
        /// POP3 (downloads the inbox only).
        Pop3 = "pop3",
    }
}

impl From<IncomingProtocol> for Protocol {
    fn from(p: IncomingProtocol) -> Self {
        match p {
            IncomingProtocol::Imap => Protocol::Imap,
            IncomingProtocol::Pop3 => Protocol::Pop3,
        }
    }
}

wire_enum! {
    /// How a connection is secured.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum Security {
        /// TLS from the first byte ("SSL/TLS", ports 993, 995, 465).
        Tls = "tls",
        /// Plain connection upgraded with STARTTLS/STLS (ports 143, 110, 587).
        Starttls = "starttls",
        /// No encryption at all; only when the operator allows it.
        None = "none",
    }
}

wire_enum! {
    /// Which login name a server expects.
    #[derive(Default)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum UsernameForm {
        /// The whole address, `alice@example.com`.
        #[default]
        Email = "email",
        /// Only the part before `@`, `alice`.
        LocalPart = "local_part",
    }
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

wire_enum! {
    /// A language of the user interface and of diagnoses.
    #[derive(Default)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum Lang {
        /// English (the default).
        #[default]
        En = "en",
        /// Russian.
        Ru = "ru",
    }
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
        self.as_str()
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

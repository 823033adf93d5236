//! The provider knowledge base's records (`GET /api/v1/providers`, `/lookup`), as the
//! front end and host apps read them.

use serde::{Deserialize, Serialize};

use super::{Protocol, Server, Text};

wire_enum! {
    /// How well a provider works with third-party mail apps that log in with a password.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum ProviderStatus {
        /// Works with the account password or with no preparation at all.
        Works = "works",
        /// Works after the user prepares the account (enable IMAP, 2FA, app password...).
        NeedsPreparation = "needs_preparation",
        /// Only OAuth works; a password (even an app password) is refused.
        OauthOnly = "oauth_only",
        /// Does not work with third-party apps at all, or only through a local bridge.
        Broken = "broken",
    }
}

wire_enum! {
    /// What a preparation step is about, so the UI can pick an icon and order.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum StepTopic {
        /// Switch on IMAP/POP access in webmail.
        EnableAccess = "enable_access",
        /// Turn on two-step verification.
        TwoFactor = "two_factor",
        /// Create an app password.
        AppPassword = "app_password",
        /// Anything else (a bridge to install, a setting to check).
        Other = "other",
    }
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

wire_enum! {
    /// Letters an app password is made of.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum Charset {
        /// a-z only.
        Lowercase = "lowercase",
        /// a-z and A-Z.
        Letters = "letters",
        /// a-z and 0-9.
        LowercaseDigits = "lowercase_digits",
        /// a-z, A-Z and 0-9.
        Alphanumeric = "alphanumeric",
    }
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

wire_enum! {
    /// How far a discovery candidate, or a fact in the knowledge base, can be trusted.
    #[derive(PartialOrd, Ord)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum Confidence {
        /// A guess, or data fetched over plain HTTP; for a fact, one secondary source.
        Low = "low",
        /// DNS data (SRV) or a central database; for a fact, several secondary sources agree.
        Medium = "medium",
        /// The knowledge base, or the domain's own answer over HTTPS; for a fact, the
        /// provider's own help.
        High = "high",
    }
}

//! The mailsetup wizard, a Leptos CSR app: [`App`] holds the wizard state (a plain
//! [`wizard::Wizard`] in one signal), the language and the embed options, and shows one
//! step at a time.

#![warn(missing_docs)]

pub mod i18n;
pub mod rules;
pub mod sse;
pub mod wizard;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod embed;
#[cfg(target_arch = "wasm32")]
mod later;
#[cfg(target_arch = "wasm32")]
mod oauth;
#[cfg(target_arch = "wasm32")]
mod split;
#[cfg(target_arch = "wasm32")]
mod steps;
#[cfg(target_arch = "wasm32")]
mod ui;

#[cfg(target_arch = "wasm32")]
pub use ui::App;

/// Options given by the URL (the embed loader sets them) or by the page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Running inside the embed loader's iframe.
    pub embed: bool,
    /// Forced language (`en`/`ru`).
    pub locale: Option<String>,
    /// Pre-filled address.
    pub email: Option<String>,
    /// Allowed provider ids (empty: all; `other` allows unknown domains).
    pub providers: Vec<String>,
    /// Whether the secret (the password, or a sign-in's tokens) is handed to the host app
    /// (`return_credentials`; the older `return_password` means the same).
    pub return_credentials: bool,
    /// The only origin `postMessage` talks to.
    pub parent_origin: Option<String>,
    /// The loader's id for this frame, echoed in messages.
    pub frame: Option<String>,
}

impl Options {
    /// Parses `key=value` pairs (already URL-decoded).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut o = Self::default();
        for (k, v) in pairs {
            let v = v.trim();
            match k {
                "embed" => o.embed = matches!(v, "1" | "true" | ""),
                "locale" if !v.is_empty() => o.locale = Some(v.to_owned()),
                "email" if !v.is_empty() => o.email = Some(v.to_owned()),
                "providers" => {
                    o.providers = v
                        .split(',')
                        .map(|p| p.trim().to_lowercase())
                        .filter(|p| !p.is_empty())
                        .collect();
                }
                "return_credentials" | "return_password" => {
                    o.return_credentials = matches!(v, "1" | "true");
                }
                "parent_origin" if !v.is_empty() => o.parent_origin = Some(v.to_owned()),
                "frame" if !v.is_empty() => o.frame = Some(v.to_owned()),
                _ => {}
            }
        }
        o
    }
}

/// A message to the host page (`postMessage` to the loader), as serde writes it:
/// `{"source":"mailsetup","type":"mailsetup:verified","frame":"mailsetup-1","detail":{...}}`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HostMessage<'a> {
    /// Always `mailsetup`.
    pub source: &'static str,
    /// `mailsetup:verified`, `mailsetup:cancelled`.
    #[serde(rename = "type")]
    pub kind: &'a str,
    /// The loader's id of the frame.
    pub frame: Option<&'a str>,
    /// The verified settings (`null` for `mailsetup:cancelled`).
    pub detail: Option<&'a wizard::Verified>,
}

impl<'a> HostMessage<'a> {
    /// A message of `kind` for the loader's `frame`.
    pub fn new(
        kind: &'a str,
        frame: Option<&'a str>,
        detail: Option<&'a wizard::Verified>,
    ) -> Self {
        Self {
            source: "mailsetup",
            kind,
            frame,
            detail,
        }
    }
}

/// Whether `url` (a referrer) belongs to `origin` (`scheme://host[:port]`): exactly, or
/// followed by a path, so `https://a.com.evil.net` is not `https://a.com`.
pub fn same_origin(url: &str, origin: &str) -> bool {
    let origin = origin.trim_end_matches('/');
    url == origin
        || url
            .strip_prefix(origin)
            .is_some_and(|rest| rest.starts_with(['/', '?', '#']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrer_origin_match_is_exact() {
        assert!(same_origin(
            "https://crm.example.com/settings/mail",
            "https://crm.example.com"
        ));
        assert!(same_origin(
            "https://crm.example.com/",
            "https://crm.example.com"
        ));
        assert!(same_origin(
            "https://crm.example.com",
            "https://crm.example.com"
        ));
        assert!(!same_origin(
            "https://crm.example.com.evil.net/",
            "https://crm.example.com"
        ));
        assert!(!same_origin(
            "https://crm.example.com:8443/",
            "https://crm.example.com"
        ));
        assert!(!same_origin(
            "http://crm.example.com/",
            "https://crm.example.com"
        ));
    }

    #[test]
    fn options_parse() {
        let o = Options::from_pairs([
            ("embed", "1"),
            ("locale", "ru"),
            ("providers", "gmail, Yandex,"),
            ("return_password", "false"),
            ("parent_origin", "https://app.example.com"),
        ]);
        assert!(o.embed);
        assert_eq!(o.locale.as_deref(), Some("ru"));
        assert_eq!(o.providers, vec!["gmail", "yandex"]);
        assert!(!o.return_credentials);
        assert_eq!(o.parent_origin.as_deref(), Some("https://app.example.com"));
    }

    #[test]
    fn return_password_is_an_alias_of_return_credentials() {
        assert!(Options::from_pairs([("return_credentials", "true")]).return_credentials);
        assert!(Options::from_pairs([("return_password", "true")]).return_credentials);
        assert!(!Options::from_pairs([("return_credentials", "no")]).return_credentials);
        assert!(!Options::from_pairs([("embed", "1")]).return_credentials);
    }

    #[test]
    fn host_messages_are_built_with_serde() {
        let m = HostMessage::new("mailsetup:cancelled", Some("mailsetup-1"), None);
        assert_eq!(
            serde_json::to_string(&m).unwrap_or_default(),
            r#"{"source":"mailsetup","type":"mailsetup:cancelled","frame":"mailsetup-1","detail":null}"#
        );
        let v = wizard::Verified {
            email: "a\"b@example.com".into(),
            username: "a".into(),
            provider: None,
            incoming: wizard::VerifiedServer {
                protocol: mailsetup_shared::api::Protocol::Imap,
                host: "imap.example.com".into(),
                port: 993,
                security: mailsetup_shared::api::Security::Tls,
            },
            outgoing: wizard::VerifiedServer {
                protocol: mailsetup_shared::api::Protocol::Smtp,
                host: "smtp.example.com".into(),
                port: 465,
                security: mailsetup_shared::api::Security::Tls,
            },
            auth: wizard::AuthKind::Password,
            password: None,
            grant: None,
        };
        let text = serde_json::to_string(&HostMessage::new(
            "mailsetup:verified",
            Some("x\"y"),
            Some(&v),
        ))
        .unwrap_or_default();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back["frame"], "x\"y");
        assert_eq!(back["detail"]["email"], "a\"b@example.com");
        assert_eq!(back["detail"]["auth"], "password");
        assert_eq!(back["detail"]["incoming"]["port"], 993);
    }
}

//! The provider knowledge base: which provider serves a domain or an MX host, its servers,
//! its status and the preparation steps its users must take.
//!
//! The data is `shared/data/providers.toml`. The build script checks it against the schema
//! in `providers/schema.rs` and embeds it as JSON, so the wasm build carries no TOML
//! parser, a bad entry fails the build (and `cargo test`), and the embedded data can never
//! be stale. Operators add providers with [`Registry::from_json`] (same schema, checked the
//! same way) and [`Registry::with_extra`].

use std::sync::OnceLock;

use crate::api::Provider;

/// The schema of the data file and its check, shared with the build script.
pub mod schema {
    include!("providers/schema.rs");
}

/// The embedded data file as JSON, written by `build.rs`.
const BUILTIN_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/providers.json"));

/// The embedded domain index, written by `build.rs`: the same providers with their texts
/// emptied.
const INDEX_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/providers-index.json"));

/// A set of providers with lookups by id, address domain and MX host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registry {
    providers: Vec<Provider>,
}

/// The built-in registry, parsed once.
pub fn builtin() -> &'static Registry {
    static BUILTIN: OnceLock<Registry> = OnceLock::new();
    BUILTIN.get_or_init(|| Registry {
        // The build script wrote this JSON from data that passed the schema check, and a
        // unit test parses it, so failing here means a broken build, not bad input.
        #[allow(clippy::expect_used)]
        providers: serde_json::from_str(BUILTIN_JSON)
            .expect("build.rs writes providers.json that matches api::Provider"),
    })
}

/// The built-in providers with only what lookups read (ids, names, domains, MX patterns,
/// status): servers, preparation steps, notes, limits and sources are empty. For questions
/// like "is this domain known?" (typo suggestions), so a build that asks only those (the
/// front end's first screen) carries a few kilobytes instead of the whole knowledge base.
/// Every lookup answers the same provider id as in [`builtin()`].
pub fn builtin_index() -> &'static Registry {
    static INDEX: OnceLock<Registry> = OnceLock::new();
    INDEX.get_or_init(|| Registry {
        // Written by the build script from the checked data, parsed by a unit test.
        #[allow(clippy::expect_used)]
        providers: serde_json::from_str(INDEX_JSON)
            .expect("build.rs writes providers-index.json that matches api::Provider"),
    })
}

/// Parses and checks providers in the data file's schema from JSON: either an array of
/// providers or an object `{"provider": [...]}` (the shape of the TOML file, so a TOML file
/// converted to JSON works too). Every schema problem is reported, one per line.
pub fn parse_json(text: &str) -> Result<Vec<Provider>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let raw: Vec<schema::RawProvider> = if value.is_array() {
        serde_json::from_value(value).map_err(|e| format!("does not match the schema: {e}"))?
    } else {
        serde_json::from_value::<schema::RawFile>(value)
            .map_err(|e| format!("does not match the schema: {e}"))?
            .provider
    };
    let errors = schema::check_providers(&raw);
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    let json = serde_json::to_value(&raw).map_err(|e| e.to_string())?;
    serde_json::from_value(json).map_err(|e| e.to_string())
}

impl Registry {
    /// A registry of the built-in data file (a clone of [`builtin()`]).
    pub fn builtin() -> Registry {
        builtin().clone()
    }

    /// A registry of exactly these providers, unchecked (tests, or data already checked).
    pub fn from_providers(providers: Vec<Provider>) -> Registry {
        Registry { providers }
    }

    /// A registry of the providers in `text` (see [`parse_json`]), schema-checked.
    pub fn from_json(text: &str) -> Result<Registry, String> {
        parse_json(text).map(Registry::from_providers)
    }

    /// This registry with `extra` providers added in front, so they win every lookup;
    /// an extra provider with the id of an existing one replaces it.
    #[must_use]
    pub fn with_extra(self, extra: Vec<Provider>) -> Registry {
        let mut providers = extra;
        for p in self.providers {
            if !providers.iter().any(|e| e.id == p.id) {
                providers.push(p);
            }
        }
        Registry { providers }
    }

    /// Every provider, the most used first.
    pub fn all(&self) -> &[Provider] {
        &self.providers
    }

    /// The provider with this id.
    pub fn by_id(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.id == id)
    }

    /// The provider serving addresses at `domain` (any case, Unicode or punycode, a
    /// trailing dot tolerated): an exact domain first, then the longest `*.suffix` pattern.
    pub fn by_domain(&self, domain: &str) -> Option<&Provider> {
        let domain = normalize_host(domain)?;
        self.lookup(&domain, |p| &p.domains)
    }

    /// The provider whose MX host patterns match `mx_host` (a trailing dot tolerated), for
    /// custom domains hosted by a provider (Google Workspace, Microsoft 365, Yandex 360...).
    pub fn by_mx_host(&self, mx_host: &str) -> Option<&Provider> {
        let host = normalize_host(mx_host)?;
        self.lookup(&host, |p| &p.mx)
    }

    fn lookup(
        &self,
        name: &str,
        patterns: impl Fn(&Provider) -> &Vec<String>,
    ) -> Option<&Provider> {
        if let Some(p) = self
            .providers
            .iter()
            .find(|p| patterns(p).iter().any(|d| d == name))
        {
            return Some(p);
        }
        let mut best: Option<(usize, &Provider)> = None;
        for p in &self.providers {
            for pattern in patterns(p) {
                let Some(suffix) = pattern.strip_prefix("*.") else {
                    continue;
                };
                let matches = name.len() > suffix.len() + 1
                    && name.ends_with(suffix)
                    && name.as_bytes()[name.len() - suffix.len() - 1] == b'.';
                if matches && best.is_none_or(|(len, _)| suffix.len() > len) {
                    best = Some((suffix.len(), p));
                }
            }
        }
        best.map(|(_, p)| p)
    }

    /// Every exact domain of every provider, in registry order (for typo suggestions).
    pub fn exact_domains(&self) -> impl Iterator<Item = &str> {
        self.providers
            .iter()
            .flat_map(|p| p.domains.iter())
            .filter(|d| !d.starts_with("*."))
            .map(String::as_str)
    }
}

/// Lowercase ASCII (punycode) form of a host name, without a trailing dot; `None` when it
/// is not a valid name.
fn normalize_host(host: &str) -> Option<String> {
    let host = host.trim();
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return None;
    }
    crate::idn::to_ascii(host).ok().filter(|h| !h.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ProviderStatus;

    #[test]
    fn builtin_json_parses_and_is_not_empty() {
        assert!(builtin().all().len() >= 2);
        assert_eq!(builtin().all()[0].id, "gmail");
        assert_eq!(builtin().all()[1].id, "yandex");
    }

    #[test]
    fn the_index_answers_every_lookup_like_the_full_registry() {
        let (full, index) = (builtin(), builtin_index());
        assert_eq!(full.all().len(), index.all().len());
        for (p, i) in full.all().iter().zip(index.all()) {
            assert_eq!(
                (&p.id, &p.name, &p.domains, &p.mx),
                (&i.id, &i.name, &i.domains, &i.mx)
            );
            assert_eq!(p.status, i.status);
            assert!(i.servers.is_empty() && i.steps.is_empty() && i.sources.is_empty());
            assert!(i.status_note.is_none() && i.app_password.is_none());
        }
        for name in full
            .all()
            .iter()
            .flat_map(|p| p.domains.iter().chain(&p.mx))
        {
            let probe = name.replace("*.", "x.");
            let id = |r: &'static Registry| r.by_domain(&probe).map(|p| p.id.clone());
            assert_eq!(id(full), id(index), "{probe}");
            let id = |r: &'static Registry| r.by_mx_host(&probe).map(|p| p.id.clone());
            assert_eq!(id(full), id(index), "{probe}");
        }
        assert!(
            INDEX_JSON.len() * 4 < BUILTIN_JSON.len(),
            "{}",
            INDEX_JSON.len()
        );
    }

    #[test]
    fn the_data_file_passes_the_schema_check() {
        let text = include_str!("../data/providers.toml");
        let file: schema::RawFile = toml::from_str(text).unwrap();
        let errors = schema::check_providers(&file.provider);
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        assert_eq!(file.provider.len(), builtin().all().len());
    }

    #[test]
    fn lookups_by_domain_are_case_insensitive_and_tolerate_a_trailing_dot() {
        let r = builtin();
        assert_eq!(r.by_domain("gmail.com").unwrap().id, "gmail");
        assert_eq!(r.by_domain("GoogleMail.COM.").unwrap().id, "gmail");
        assert_eq!(r.by_domain(" ya.ru ").unwrap().id, "yandex");
        assert!(r.by_domain("example.org").is_none());
        assert!(r.by_domain("").is_none());
        assert!(r.by_domain("..").is_none());
    }

    #[test]
    fn every_domain_and_mx_pattern_of_every_provider_finds_it() {
        let r = builtin();
        for p in r.all() {
            for d in &p.domains {
                let probe = match d.strip_prefix("*.") {
                    Some(suffix) => format!("tenant.{suffix}"),
                    None => d.to_uppercase(),
                };
                assert_eq!(r.by_domain(&probe).map(|x| &x.id), Some(&p.id), "{probe}");
            }
            for m in &p.mx {
                let probe = match m.strip_prefix("*.") {
                    Some(suffix) => format!("mx1.{suffix}."),
                    None => format!("{m}."),
                };
                assert_eq!(r.by_mx_host(&probe).map(|x| &x.id), Some(&p.id), "{probe}");
            }
        }
    }

    #[test]
    fn lookup_table() {
        let r = builtin();
        let domains = [
            ("gmail.com", "gmail"),
            ("GoogleMail.com", "gmail"),
            ("yandex.kz", "yandex"),
            ("ya.ru", "yandex"),
            ("narod.ru", "yandex"),
            ("hotmail.co.uk", "outlook"),
            ("live.ru", "outlook"),
            ("msn.com", "outlook"),
            ("yahoo.co.uk", "yahoo"),
            ("ymail.com", "yahoo"),
            ("yahoo.co.jp", "yahoo_japan"),
            ("me.com", "icloud"),
            ("mac.com", "icloud"),
            ("bk.ru", "mailru"),
            ("internet.ru", "mailru"),
            ("lenta.ru", "rambler"),
            ("ro.ru", "rambler"),
            ("gmx.de", "gmx_de"),
            ("gmx.com", "gmx_com"),
            ("web.de", "webde"),
            ("pm.me", "proton"),
            ("foxmail.com", "qq"),
            ("126.com", "netease126"),
            ("t-online.de", "tonline"),
            ("contoso.onmicrosoft.com", "microsoft365"),
        ];
        for (d, id) in domains {
            assert_eq!(r.by_domain(d).map(|p| p.id.as_str()), Some(id), "{d}");
        }
        let mx = [
            ("aspmx.l.google.com.", "google_workspace"),
            ("alt1.aspmx.l.google.com", "google_workspace"),
            ("smtp.google.com", "google_workspace"),
            ("contoso-com.mail.protection.outlook.com", "microsoft365"),
            ("mx.yandex.net.", "yandex360"),
            ("emx.mail.ru", "vk_workmail"),
            ("mx.zoho.com", "zoho"),
            ("mx.zoho.eu", "zoho_eu"),
            ("in1-smtp.messagingengine.com", "fastmail"),
            ("mail.protonmail.ch", "proton"),
            ("mx01.mail.icloud.com", "icloud"),
        ];
        for (h, id) in mx {
            assert_eq!(r.by_mx_host(h).map(|p| p.id.as_str()), Some(id), "{h}");
        }
        assert!(r.by_mx_host("mx.example.com").is_none());
        assert!(r.by_mx_host("google.com").is_none());
    }

    #[test]
    fn coverage_and_honest_statuses() {
        let r = builtin();
        assert!(r.all().len() >= 30, "{}", r.all().len());
        assert_eq!(
            r.by_id("outlook").unwrap().status,
            ProviderStatus::OauthOnly
        );
        assert_eq!(r.by_id("proton").unwrap().status, ProviderStatus::Broken);
        let gmail = r.by_id("gmail").unwrap();
        assert_eq!(gmail.app_password.as_ref().unwrap().length, 16);
        assert!(
            gmail
                .limits
                .iter()
                .any(|l| l.en.contains("2500 MB") && l.en.contains("500 MB"))
        );
        assert_eq!(r.by_id("yandex").unwrap().resets.len(), 4);
        for p in r.all() {
            assert!(!p.sources.is_empty(), "{}", p.id);
        }
    }

    /// A minimal valid provider in TOML, to break one rule at a time.
    const GOOD: &str = r#"
[[provider]]
id = "x"
name = "X"
domains = ["x.example"]
status = "needs_preparation"
status_note = { en = "e", ru = "р" }
sources = ["https://x.example/help"]
servers = [
  { protocol = "imap", host = "imap.x.example", port = 993, security = "tls" },
  { protocol = "smtp", host = "smtp.x.example", port = 465, security = "tls" },
]
[[provider.steps]]
topic = "app_password"
url = "https://x.example/settings#apps"
title = { en = "t", ru = "т" }
body = { en = "b", ru = "б" }
"#;

    fn schema_errors(toml_text: &str) -> Vec<String> {
        match toml::from_str::<schema::RawFile>(toml_text) {
            Ok(f) => schema::check_providers(&f.provider),
            Err(e) => vec![e.to_string()],
        }
    }

    #[test]
    fn schema_check_rejects_each_broken_rule() {
        assert!(schema_errors(GOOD).is_empty(), "{:?}", schema_errors(GOOD));
        let twice = format!("{GOOD}{}", GOOD.replace("id = \"x\"", "id = \"y\""));
        let cases = [
            (
                GOOD.replace("name = \"X\"", "name = \"X\"\ncolour = \"red\""),
                "unknown field",
            ),
            (
                GOOD.replace("sources = [\"https://x.example/help\"]", "sources = []"),
                "no source",
            ),
            (
                GOOD.replace("https://x.example/help", "http://x.example/help"),
                "not a valid https URL",
            ),
            (
                GOOD.replace("https://x.example/help", "https://x example/help"),
                "not a valid https URL",
            ),
            (
                GOOD.replace("https://x.example/settings#apps", "https://x.example/a b"),
                "step 1 url",
            ),
            (
                GOOD.replace("ru = \"б\"", "ru = \"\""),
                "Russian text is empty",
            ),
            (
                GOOD.replace("en = \"t\"", "en = \" \""),
                "English text is empty",
            ),
            (
                GOOD.replace("[\"x.example\"]", "[\"X.example\"]"),
                "not a lowercase ASCII domain",
            ),
            (
                GOOD.replace("[\"x.example\"]", "[\"x_y.example\"]"),
                "not a lowercase ASCII domain",
            ),
            (
                GOOD.replace("status_note = { en = \"e\", ru = \"р\" }\n", ""),
                "needs a status_note",
            ),
            (
                GOOD.replace(
                    "security = \"tls\" },\n  { protocol = \"smtp\"",
                    "security = \"tls\" },\n  { protocol = \"smpt\"",
                ),
                "unknown variant",
            ),
            (GOOD.replace("port = 993", "port = 0"), "port 0"),
            (
                GOOD.replace("\"smtp\", host", "\"imap\", host"),
                "no SMTP server",
            ),
            (
                GOOD.replace("topic = \"app_password\"", "topic = \"app_pasword\""),
                "unknown variant",
            ),
            (twice.clone(), "already claimed"),
            (
                format!("{GOOD}{}", GOOD.replace("x.example\"]", "z.example\"]")),
                "used twice",
            ),
        ];
        for (text, want) in cases {
            let errors = schema_errors(&text);
            assert!(
                errors.iter().any(|e| e.contains(want)),
                "want {want:?}, got {errors:?}"
            );
        }
    }

    fn extra(id: &str, domains: &[&str], mx: &[&str]) -> String {
        format!(
            r#"[{{"id":"{id}","name":"X","domains":{},"mx":{},"status":"broken",
                "status_note":{{"en":"e","ru":"р"}},"sources":["https://example.com/help"]}}]"#,
            serde_json::to_string(domains).unwrap(),
            serde_json::to_string(mx).unwrap()
        )
    }

    #[test]
    fn operator_providers_win_and_suffix_patterns_match_subdomains_only() {
        let json = extra(
            "corp",
            &["gmail.com", "*.corp.example", "xn--e1afmkfd.xn--p1ai"],
            &["*.mx.corp.example"],
        );
        let added = Registry::from_json(&json).unwrap();
        let r = Registry::builtin().with_extra(added.all().to_vec());
        assert_eq!(r.by_domain("gmail.com").unwrap().id, "corp");
        assert_eq!(r.by_domain("googlemail.com").unwrap().id, "gmail");
        assert_eq!(r.by_domain("a.b.corp.example").unwrap().id, "corp");
        assert!(r.by_domain("corp.example").is_none());
        assert!(r.by_domain("xcorp.example").is_none());
        assert_eq!(r.by_domain("ПРИМЕР.РФ").unwrap().id, "corp");
        assert_eq!(r.by_mx_host("mx1.mx.corp.example.").unwrap().id, "corp");
        assert_eq!(r.by_id("corp").unwrap().status, ProviderStatus::Broken);
    }

    #[test]
    fn operator_files_are_schema_checked() {
        assert!(Registry::from_json("not json").is_err());
        // Unknown key.
        let bad = extra("x", &["x.example"], &[]).replace("\"name\"", "\"nmae\"");
        assert!(Registry::from_json(&bad).unwrap_err().contains("nmae"));
        // No source.
        let bad = extra("x", &["x.example"], &[]).replace("https://example.com/help", "");
        assert!(Registry::from_json(&bad).is_err());
        // Plain http source.
        let bad = extra("x", &["x.example"], &[]).replace("https://", "http://");
        assert!(Registry::from_json(&bad).unwrap_err().contains("https"));
        // Uppercase domain.
        assert!(Registry::from_json(&extra("x", &["X.example"], &[])).is_err());
        // The object shape of the TOML file works too.
        let obj = format!(r#"{{"provider":{}}}"#, extra("x", &["x.example"], &[]));
        assert_eq!(Registry::from_json(&obj).unwrap().all().len(), 1);
    }
}

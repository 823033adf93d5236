//! The provider knowledge base: which provider serves a domain or an MX host, its servers,
//! its status and the preparation steps its users must take.
//!
//! The data is `shared/data/providers.toml`. The build script checks it against the schema
//! in `providers/schema.rs` and embeds it as JSON, so the wasm build carries no TOML
//! parser, a bad entry fails the build (and `cargo test`), and the embedded data can never
//! be stale. Operators add providers with [`Registry::from_json`] (same schema, checked the
//! same way, but server hosts may be IP addresses or single-label names and domains may be
//! written in Unicode) and [`Registry::with_extra`].
//!
//! Domain patterns: an exact domain (`gmail.com`) wins; then the longest `*.suffix`
//! (any subdomain of the suffix); then `label.*`, the label under a public suffix (see
//! [`suffix`]: `outlook.*` matches `outlook.at` and `outlook.com.ar`, not
//! `outlook.evil.com`).

use std::sync::OnceLock;

use crate::api::{Lang, Provider};

/// The schema of the data file and its check, shared with the build script.
pub mod schema {
    include!("providers/schema.rs");
    include!("providers/schema_oauth.rs");
}

pub mod suffix;

/// The embedded data file as JSON, written by `build.rs`.
const BUILTIN_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/providers.json"));

/// The embedded domain index, written by `build.rs`: a line per provider, its id and its
/// domain patterns, separated by spaces.
const INDEX_TEXT: &str = include_str!(concat!(env!("OUT_DIR"), "/providers-domains.txt"));

/// The `[provider.oauth]` tables by provider id, written by `build.rs` apart from the
/// rest so that only code asking for OAuth facts carries them.
const OAUTH_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/providers-oauth.json"));

/// The built-in OAuth 2.0 facts of provider `id` (endpoints, scopes, SASL mechanisms),
/// when the knowledge base has them.
pub fn oauth_facts(id: &str) -> Option<&'static crate::oauth::OAuthFacts> {
    static FACTS: OnceLock<std::collections::BTreeMap<String, crate::oauth::OAuthFacts>> =
        OnceLock::new();
    FACTS
        .get_or_init(|| {
            // Written by the build script from checked data, parsed by a unit test.
            #[allow(clippy::expect_used)]
            serde_json::from_str(OAUTH_JSON)
                .expect("build.rs writes providers-oauth.json that matches oauth::OAuthFacts")
        })
        .get(id)
}

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

/// The built-in providers' domain patterns, for questions like "is this domain known?"
/// (typo suggestions): a build that asks only those (the front end's first screen)
/// carries a few kilobytes of plain text and no JSON decoder, instead of the whole
/// knowledge base. Answers like [`Registry::by_domain`] of [`builtin()`].
pub fn builtin_index() -> &'static DomainIndex {
    static INDEX: OnceLock<DomainIndex> = OnceLock::new();
    INDEX.get_or_init(|| DomainIndex::parse(INDEX_TEXT))
}

/// Providers' ids and domain patterns, without anything else.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainIndex {
    entries: Vec<(String, Vec<String>)>,
}

impl DomainIndex {
    /// Reads the index's text: a line per provider, its id then its domain patterns,
    /// separated by spaces.
    fn parse(text: &str) -> DomainIndex {
        let entries = text
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace().map(str::to_owned);
                Some((words.next()?, words.collect()))
            })
            .collect();
        DomainIndex { entries }
    }

    /// The id of the provider serving addresses at `domain`, as [`Registry::by_domain`].
    pub fn by_domain(&self, domain: &str) -> Option<&str> {
        by_domain(self.entries.iter().map(|(id, d)| (id, d)), domain).map(String::as_str)
    }

    /// Every exact domain of every provider, in registry order.
    pub fn exact_domains(&self) -> impl Iterator<Item = &str> {
        exact(self.entries.iter().flat_map(|(_, d)| d))
    }
}

/// Parses and checks providers in the data file's schema from JSON: either an array of
/// providers or an object `{"provider": [...]}` (the shape of the TOML file, so a TOML file
/// converted to JSON works too). Every schema problem is reported, one per line.
pub fn parse_json(text: &str) -> Result<Vec<Provider>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let mut raw: Vec<schema::RawProvider> = if value.is_array() {
        serde_json::from_value(value).map_err(|e| format!("does not match the schema: {e}"))?
    } else {
        serde_json::from_value::<schema::RawFile>(value)
            .map_err(|e| format!("does not match the schema: {e}"))?
            .provider
    };
    for p in &mut raw {
        to_punycode(p);
    }
    if let Some(p) = raw.iter().find(|p| p.oauth.is_some()) {
        return Err(format!(
            "provider `{}`: an operator's OAuth endpoints go in --oauth-config \
             (authorization_url, token_url, scopes, sasl), not in the providers file",
            p.id
        ));
    }
    let errors = schema::check_providers(&raw, schema::DataOrigin::Operator);
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    let json = serde_json::to_value(&raw).map_err(|e| e.to_string())?;
    serde_json::from_value(json).map_err(|e| e.to_string())
}

/// Rewrites the Unicode names of an operator's provider (domains, `*.suffix` and `label.*`
/// patterns, MX patterns, server hosts) as punycode, so `пример.рф` is stored as
/// `xn--e1afmkfd.xn--p1ai` (through [`crate::validate::validate_host`], the check of every
/// host field). ASCII names are left as written, so the schema check still
/// refuses uppercase or malformed ones; a name that does not convert is left as written
/// and refused by the check, naming it.
fn to_punycode(p: &mut schema::RawProvider) {
    fn convert(name: &mut String) {
        if name.is_ascii() {
            return;
        }
        let (prefix, core, suffix) = if let Some(rest) = name.strip_prefix("*.") {
            ("*.", rest, "")
        } else if let Some(rest) = name.strip_suffix(".*") {
            ("", rest, ".*")
        } else {
            ("", name.as_str(), "")
        };
        // The same IDN conversion and label check as every host field.
        if let Ok(ascii) = crate::validate::validate_host(core) {
            *name = format!("{prefix}{ascii}{suffix}");
        }
    }
    p.domains.iter_mut().for_each(convert);
    p.mx.iter_mut().for_each(convert);
    p.servers.iter_mut().for_each(|s| convert(&mut s.host));
}

impl Provider {
    /// The provider's name in `lang`: the Russian name where the data has one, else
    /// [`Provider::name`] (which is also the English name).
    pub fn display_name(&self, lang: Lang) -> &str {
        match (lang, &self.name_ru) {
            (Lang::Ru, Some(ru)) => ru,
            _ => &self.name,
        }
    }
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
    /// trailing dot tolerated): an exact domain first, then the longest `*.suffix` pattern,
    /// then a `label.*` pattern when the rest of the domain is a public suffix.
    pub fn by_domain(&self, domain: &str) -> Option<&Provider> {
        by_domain(self.providers.iter().map(|p| (p, &p.domains)), domain)
    }

    /// The provider whose MX host patterns match `mx_host` (a trailing dot tolerated), for
    /// custom domains hosted by a provider (Google Workspace, Microsoft 365, Yandex 360...).
    pub fn by_mx_host(&self, mx_host: &str) -> Option<&Provider> {
        let host = normalize_host(mx_host)?;
        best_match(self.providers.iter().map(|p| (p, &p.mx)), &host)
    }

    /// Every exact domain of every provider, in registry order (for typo suggestions).
    pub fn exact_domains(&self) -> impl Iterator<Item = &str> {
        exact(self.providers.iter().flat_map(|p| &p.domains))
    }
}

/// The entry serving addresses at `domain`: an exact domain first, then the longest
/// `*.suffix` pattern, then a `label.*` pattern when the rest of the domain is a public
/// suffix. One rule for the registry and the domain index.
fn by_domain<'a, T>(
    entries: impl Iterator<Item = (&'a T, &'a Vec<String>)> + Clone,
    domain: &str,
) -> Option<&'a T> {
    let domain = normalize_host(domain)?;
    best_match(entries.clone(), &domain).or_else(|| {
        let label = suffix::label_under_public_suffix(&domain)?;
        entries
            .into_iter()
            .find(|(_, patterns)| patterns.iter().any(|d| d.strip_suffix(".*") == Some(label)))
            .map(|(t, _)| t)
    })
}

/// The entry with a pattern equal to `name`, else the one with the longest `*.suffix`
/// pattern `name` is under (the first such entry wins a tie).
fn best_match<'a, T>(
    entries: impl Iterator<Item = (&'a T, &'a Vec<String>)> + Clone,
    name: &str,
) -> Option<&'a T> {
    if let Some((t, _)) = entries
        .clone()
        .find(|(_, patterns)| patterns.iter().any(|d| d == name))
    {
        return Some(t);
    }
    let mut best: Option<(usize, &T)> = None;
    for (t, patterns) in entries {
        for pattern in patterns {
            let Some(suffix) = pattern.strip_prefix("*.") else {
                continue;
            };
            let matches = name.len() > suffix.len() + 1
                && name.ends_with(suffix)
                && name.as_bytes()[name.len() - suffix.len() - 1] == b'.';
            if matches && best.is_none_or(|(len, _)| suffix.len() > len) {
                best = Some((suffix.len(), t));
            }
        }
    }
    best.map(|(_, t)| t)
}

/// The exact domains among `patterns` (no `*.suffix`, no `label.*`).
fn exact<'a>(patterns: impl Iterator<Item = &'a String>) -> impl Iterator<Item = &'a str> {
    patterns
        .filter(|d| !d.starts_with("*.") && !d.ends_with(".*"))
        .map(String::as_str)
}

/// Lowercase ASCII (punycode) form of a host name, without a trailing dot; `None` when it
/// is not a valid name (so a pattern such as `outlook.*` or `*.example` never matches itself).
fn normalize_host(host: &str) -> Option<String> {
    let host = host.trim();
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return None;
    }
    crate::idn::to_ascii(host).ok().filter(|h| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod oauth_tests;

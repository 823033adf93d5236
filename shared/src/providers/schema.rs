// The schema of the provider data file and its check.
//
// This file is `include!`d by two crates: by shared/build.rs, which checks
// shared/data/providers.toml at build time and fails the build on any error, and by
// `mailsetup_shared::providers::schema`, where the same check runs in `cargo test` and on
// operators' extra provider files. So it uses no `crate::` paths and has no inner
// attributes (an `include!`d file may not have a `//!` doc; this comment stands in for it).
//
// The raw types mirror `api::Provider` field by field but deny unknown keys, so a typo in
// the data file is an error instead of a silently ignored field.

use serde::{Deserialize, Serialize};

/// The whole data file: `[[provider]]` tables.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    /// Every provider, in the order the file lists them (the most used first).
    #[serde(default)]
    pub provider: Vec<RawProvider>,
}

/// A text in English and Russian.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawText {
    /// English.
    pub en: String,
    /// Russian.
    pub ru: String,
}

/// One server of a provider.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    /// `imap`, `pop3` or `smtp`.
    pub protocol: RawProtocol,
    /// Host name, lowercase ASCII.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// `tls`, `starttls` or `none`.
    pub security: RawSecurity,
    /// `email` (default) or `local_part`.
    #[serde(default)]
    pub username: RawUsernameForm,
}

/// The protocols, as in `api::Protocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawProtocol {
    /// IMAP.
    Imap,
    /// POP3.
    Pop3,
    /// SMTP.
    Smtp,
}

/// The TLS modes, as in `api::Security`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawSecurity {
    /// Implicit TLS.
    Tls,
    /// STARTTLS.
    Starttls,
    /// No encryption.
    None,
}

/// The login name forms, as in `api::UsernameForm`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawUsernameForm {
    /// The whole address.
    #[default]
    Email,
    /// The part before `@`.
    LocalPart,
}

/// The statuses, as in `api::ProviderStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawStatus {
    /// Works with no preparation.
    Works,
    /// Works after preparation.
    NeedsPreparation,
    /// OAuth only.
    OauthOnly,
    /// Does not work with password logins at all.
    Broken,
}

/// The step topics, as in `api::StepTopic`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawTopic {
    /// Enable IMAP/POP access.
    EnableAccess,
    /// Turn on two-step verification.
    TwoFactor,
    /// Create an app password.
    AppPassword,
    /// Anything else.
    Other,
}

/// The app password alphabets, as in `api::Charset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawCharset {
    /// a-z.
    Lowercase,
    /// a-z, A-Z.
    Letters,
    /// a-z, 0-9.
    LowercaseDigits,
    /// a-z, A-Z, 0-9.
    Alphanumeric,
}

/// One preparation step.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// What the step is about.
    pub topic: RawTopic,
    /// Short title.
    pub title: RawText,
    /// Full instructions.
    pub body: RawText,
    /// The provider's settings page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// How sure the data is about a fact, as in `api::Confidence`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawConfidence {
    /// Seen in one secondary source or inferred.
    Low,
    /// Several secondary sources agree.
    Medium,
    /// The provider's own help says so.
    High,
}

/// Why a provider's first IMAP or SMTP server is not one Thunderbird's ISPDB lists.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawIspdbDiffers {
    /// Why, in a full sentence.
    pub reason: String,
    /// The newer source (https) that says otherwise.
    pub source: String,
}

/// What the provider's app passwords look like.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAppPassword {
    /// Significant characters.
    pub length: u8,
    /// Alphabet.
    pub charset: RawCharset,
    /// Group size when shown grouped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<u8>,
    /// The hint under the password field.
    pub hint: RawText,
    /// How sure the data is about this format (required in the built-in data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<RawConfidence>,
    /// Where the format comes from, an https URL (required in the built-in data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One provider, as written in the data file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The name Russian speakers know the service by, where one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_ru: Option<String>,
    /// Exact domains, `*.suffix` patterns and `label.*` patterns.
    #[serde(default)]
    pub domains: Vec<String>,
    /// MX host patterns.
    #[serde(default)]
    pub mx: Vec<String>,
    /// Servers in preference order per protocol.
    #[serde(default)]
    pub servers: Vec<RawServer>,
    /// How well password logins work.
    pub status: RawStatus,
    /// Why, for anything but `works`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_note: Option<RawText>,
    /// Preparation steps.
    #[serde(default)]
    pub steps: Vec<RawStep>,
    /// App password format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_password: Option<RawAppPassword>,
    /// What resets app passwords.
    #[serde(default)]
    pub resets: Vec<RawText>,
    /// Limits worth knowing.
    #[serde(default)]
    pub limits: Vec<RawText>,
    /// Help pages the facts come from.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Why the first IMAP or SMTP server differs from Thunderbird's ISPDB, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ispdb_differs: Option<RawIspdbDiffers>,
    /// OAuth 2.0 sign-in facts (schema_oauth.rs), where the provider offers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<RawOAuth>,
}

/// Whose file is checked: the built-in data gets the strictest rules; an operator's
/// `--providers-file` may also name on-premises servers by IP address or by a single-label
/// name (`localhost`, `mail`), and need not rate its app-password formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataOrigin {
    /// shared/data/providers.toml.
    Builtin,
    /// An operator's `--providers-file`.
    Operator,
}

/// True for a lowercase ASCII host name of two or more LDH labels (punycode allowed).
pub fn schema_valid_domain(d: &str) -> bool {
    if d.is_empty() || d.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = d.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let label_ok = schema_valid_label;
    let tld_ok = labels
        .last()
        .is_some_and(|t| !t.bytes().all(|b| b.is_ascii_digit()));
    labels.iter().all(|l| label_ok(l)) && tld_ok
}

/// True for one lowercase LDH label (`mail`, `localhost`).
pub fn schema_valid_label(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && !l.starts_with('-')
        && !l.ends_with('-')
        && l.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// True for an exact domain, a `*.suffix` pattern over a valid domain, or a `label.*`
/// pattern ("this label under any public suffix", see `providers::suffix`).
pub fn schema_valid_pattern(p: &str) -> bool {
    if let Some(label) = p.strip_suffix(".*") {
        return schema_valid_label(label) && !label.bytes().all(|b| b.is_ascii_digit());
    }
    schema_valid_domain(p.strip_prefix("*.").unwrap_or(p))
}

/// True for a server host the data may name: a lowercase host name of two or more labels;
/// for operator files also an IPv4 or IPv6 address (without brackets) or one label.
pub fn schema_valid_server_host(h: &str, origin: DataOrigin) -> bool {
    match origin {
        DataOrigin::Builtin => schema_valid_domain(h),
        DataOrigin::Operator => {
            schema_valid_domain(h)
                || h.parse::<std::net::IpAddr>().is_ok()
                || (schema_valid_label(h) && !h.bytes().all(|b| b.is_ascii_digit()))
        }
    }
}

/// True for an absolute `https://host[:port][/path][?query][#fragment]` URL with a valid
/// lowercase host and no spaces, quotes or angle brackets.
pub fn schema_valid_https_url(u: &str) -> bool {
    let Some(rest) = u.strip_prefix("https://") else {
        return false;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = match authority.split_once(':') {
        Some((h, port)) => {
            if port.is_empty() || port.parse::<u16>().is_err() {
                return false;
            }
            h
        }
        None => authority,
    };
    schema_valid_domain(host)
        && tail
            .chars()
            .all(|c| c.is_ascii_graphic() && !"\"<>\\^`{|}".contains(c))
}

fn schema_check_text(errors: &mut Vec<String>, id: &str, what: &str, t: &RawText) {
    if t.en.trim().is_empty() {
        errors.push(format!(
            "provider `{id}`: {what}: the English text is empty"
        ));
    }
    if t.ru.trim().is_empty() {
        errors.push(format!(
            "provider `{id}`: {what}: the Russian text is empty"
        ));
    }
}

/// Checks a list of providers against the schema's rules; every problem is one message
/// naming the provider. An empty result means the list is good.
///
/// Rules: ids unique and `[a-z0-9_-]+`; a name (and a non-empty `name_ru` if given);
/// domains lowercase valid names, `*.suffix` or `label.*` patterns, MX patterns names or
/// `*.suffix`, no domain claimed twice; servers on valid hosts (see
/// [`schema_valid_server_host`]) and non-zero ports, with an incoming and an SMTP server
/// for providers that work; at least one https source; every URL https and well formed;
/// every text non-empty in English and Russian; a status note for anything but `works`;
/// steps for `needs_preparation`; a sane app password format, in the built-in data with
/// its confidence and an https source; an `ispdb_differs` with a reason and an https source.
pub fn check_providers(list: &[RawProvider], origin: DataOrigin) -> Vec<String> {
    let mut errors = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    let mut domains: std::collections::BTreeMap<String, String> = Default::default();
    for p in list {
        let id = p.id.as_str();
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        {
            errors.push(format!("provider `{id}`: the id must be [a-z0-9_-]+"));
        }
        if !ids.insert(id.to_owned()) {
            errors.push(format!("provider `{id}`: the id is used twice"));
        }
        if p.name.trim().is_empty() {
            errors.push(format!("provider `{id}`: the name is empty"));
        }
        if p.name_ru.as_ref().is_some_and(|n| n.trim().is_empty()) {
            errors.push(format!("provider `{id}`: name_ru is empty (leave it out instead)"));
        }
        if p.domains.is_empty() && p.mx.is_empty() {
            errors.push(format!("provider `{id}`: neither domains nor mx patterns"));
        }
        for d in &p.domains {
            if !schema_valid_pattern(d) {
                errors.push(format!(
                    "provider `{id}`: domain `{d}` is not a lowercase ASCII domain, *.suffix or label.*"
                ));
            }
            if let Some(other) = domains.insert(d.clone(), id.to_owned()) {
                errors.push(format!(
                    "provider `{id}`: domain `{d}` is already claimed by `{other}`"
                ));
            }
        }
        for m in &p.mx {
            if m.ends_with(".*") || !schema_valid_pattern(m) {
                errors.push(format!(
                    "provider `{id}`: mx pattern `{m}` is not a lowercase host or *.suffix"
                ));
            }
        }
        for s in &p.servers {
            if !schema_valid_server_host(&s.host, origin) {
                let allowed = match origin {
                    DataOrigin::Builtin => "a lowercase host name",
                    DataOrigin::Operator => {
                        "a lowercase host name, a single-label name or an IP address"
                    }
                };
                errors.push(format!(
                    "provider `{id}`: server host `{}` is not {allowed}",
                    s.host
                ));
            }
            if s.port == 0 {
                errors.push(format!("provider `{id}`: server `{}` has port 0", s.host));
            }
        }
        let has = |proto: RawProtocol| p.servers.iter().any(|s| s.protocol == proto);
        let usable = matches!(p.status, RawStatus::Works | RawStatus::NeedsPreparation);
        if usable && !(has(RawProtocol::Imap) || has(RawProtocol::Pop3)) {
            errors.push(format!("provider `{id}`: no IMAP or POP3 server"));
        }
        if usable && !has(RawProtocol::Smtp) {
            errors.push(format!("provider `{id}`: no SMTP server"));
        }
        if p.sources.is_empty() {
            errors.push(format!(
                "provider `{id}`: no source (provider help page) cited"
            ));
        }
        for u in &p.sources {
            if !schema_valid_https_url(u) {
                errors.push(format!(
                    "provider `{id}`: source `{u}` is not a valid https URL"
                ));
            }
        }
        match (&p.status, &p.status_note) {
            (RawStatus::Works, _) => {}
            (_, None) => errors.push(format!(
                "provider `{id}`: a status other than `works` needs a status_note"
            )),
            (_, Some(_)) => {}
        }
        if let Some(t) = &p.status_note {
            schema_check_text(&mut errors, id, "status_note", t);
        }
        if p.status == RawStatus::NeedsPreparation && p.steps.is_empty() {
            errors.push(format!(
                "provider `{id}`: status `needs_preparation` but no steps"
            ));
        }
        for (i, s) in p.steps.iter().enumerate() {
            schema_check_text(&mut errors, id, &format!("step {} title", i + 1), &s.title);
            schema_check_text(&mut errors, id, &format!("step {} body", i + 1), &s.body);
            if let Some(u) = &s.url
                && !schema_valid_https_url(u)
            {
                errors.push(format!(
                    "provider `{id}`: step {} url `{u}` is not a valid https URL",
                    i + 1
                ));
            }
        }
        if let Some(a) = &p.app_password {
            if a.length == 0 {
                errors.push(format!("provider `{id}`: app_password length is 0"));
            }
            if let Some(g) = a.group
                && (g == 0 || g > a.length)
            {
                errors.push(format!(
                    "provider `{id}`: app_password group is out of range"
                ));
            }
            schema_check_text(&mut errors, id, "app_password hint", &a.hint);
            if origin == DataOrigin::Builtin && a.confidence.is_none() {
                errors.push(format!(
                    "provider `{id}`: app_password needs a confidence (low, medium, high)"
                ));
            }
            match (&a.source, origin) {
                (None, DataOrigin::Builtin) => errors.push(format!(
                    "provider `{id}`: app_password needs a source (an https URL)"
                )),
                (Some(u), _) if !schema_valid_https_url(u) => errors.push(format!(
                    "provider `{id}`: app_password source `{u}` is not a valid https URL"
                )),
                _ => {}
            }
        }
        if let Some(d) = &p.ispdb_differs {
            if d.reason.trim().is_empty() {
                errors.push(format!("provider `{id}`: ispdb_differs needs a reason"));
            }
            if !schema_valid_https_url(&d.source) {
                errors.push(format!(
                    "provider `{id}`: ispdb_differs source `{}` is not a valid https URL",
                    d.source
                ));
            }
        }
        if let Some(o) = &p.oauth {
            check_oauth(&mut errors, id, o);
        }
        for t in &p.resets {
            schema_check_text(&mut errors, id, "resets", t);
        }
        for t in &p.limits {
            schema_check_text(&mut errors, id, "limits", t);
        }
    }
    errors
}

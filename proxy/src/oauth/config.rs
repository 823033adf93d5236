//! `--oauth-config FILE`: the operator's OAuth clients, one TOML table per provider id
//! (built in or from `--providers-file`), checked at start with messages that name the
//! table and the key at fault.
//!
//! ```toml
//! [gmail]
//! client_id = "1234.apps.googleusercontent.com"
//! client_secret_env = "MAILSETUP_GMAIL_CLIENT_SECRET"  # omit for public clients
//! # optional overrides of the provider data:
//! # authorization_url = "...", token_url = "...", scopes = ["..."], sasl = "xoauth2"
//! # mail_scopes = ["..."] (default: the scopes but openid, email, profile, offline_access)
//! # authorization_params = { prompt = "consent" } (replaces the provider data's)
//! ```
//!
//! Endpoints must be https, except http on a loopback host (`127.0.0.0/8`, `[::1]`,
//! `localhost`), for tests and an identity provider on the same machine.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::{Context as _, bail};
use mailsetup_shared::oauth::OAuthSasl;
use mailsetup_shared::providers::{Registry, oauth_facts};
use serde::Deserialize;

/// Scopes that never carry mail access: what is left of a provider's scopes without them
/// are its mail scopes, when the data does not list them.
const IDENTITY_SCOPES: [&str; 4] = ["openid", "email", "profile", "offline_access"];

/// Authorization request parameters mailsetup sets itself.
const RESERVED_PARAMS: [&str; 8] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "login_hint",
];

/// One table of the file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    client_id: String,
    #[serde(default)]
    client_secret_env: Option<String>,
    #[serde(default)]
    authorization_url: Option<String>,
    #[serde(default)]
    token_url: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    mail_scopes: Option<Vec<String>>,
    #[serde(default)]
    sasl: Option<OAuthSasl>,
    #[serde(default)]
    authorization_params: Option<BTreeMap<String, String>>,
}

/// A client secret, read from the environment at start; `Debug` never shows it.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a secret (read from the environment, or given by a test).
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret, for the token request only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// The operator's client for one provider, with the provider data's facts merged in.
#[derive(Clone, Debug)]
pub struct OAuthClient {
    /// The provider id.
    pub provider: String,
    /// The provider's name ("Gmail").
    pub name: String,
    /// `client_id`.
    pub client_id: String,
    /// The secret, for confidential clients.
    pub client_secret: Option<ClientSecret>,
    /// The authorization endpoint.
    pub authorization_url: String,
    /// The token endpoint.
    pub token_url: String,
    /// Every scope asked for.
    pub scopes: Vec<String>,
    /// The scopes a grant must include for mail logins.
    pub mail_scopes: Vec<String>,
    /// Extra authorization request parameters (from the provider data).
    pub authorization_params: BTreeMap<String, String>,
    /// The mechanism the check logs in with.
    pub sasl: OAuthSasl,
}

/// Every configured client, by provider id.
#[derive(Clone, Debug, Default)]
pub struct OAuthConfig {
    clients: BTreeMap<String, OAuthClient>,
}

impl OAuthConfig {
    /// Reads and checks `path` against `registry`, reading secrets with `env`.
    ///
    /// # Errors
    /// The first problem, naming the file, the table and the key.
    pub fn load(
        path: &Path,
        registry: &Registry,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read --oauth-config {}", path.display()))?;
        Self::parse(&text, registry, env)
            .with_context(|| format!("--oauth-config {}", path.display()))
    }

    /// Parses and checks the file's text (see [`OAuthConfig::load`]).
    ///
    /// # Errors
    /// The first problem, naming the table and the key.
    pub fn parse(
        text: &str,
        registry: &Registry,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let raw: BTreeMap<String, RawClient> =
            toml::from_str(text).context("not a table of [provider-id] tables")?;
        let mut clients = BTreeMap::new();
        for (id, raw) in raw {
            let client = client(&id, raw, registry, &env).with_context(|| format!("[{id}]"))?;
            clients.insert(id, client);
        }
        Ok(Self { clients })
    }

    /// The client for provider `id`.
    pub fn client(&self, id: &str) -> Option<&OAuthClient> {
        self.clients.get(id)
    }

    /// Every client, by provider id.
    pub fn clients(&self) -> impl Iterator<Item = &OAuthClient> {
        self.clients.values()
    }

    /// Whether no client is configured.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// A configuration of exactly these clients (tests, benchmarks).
    pub fn from_clients(clients: Vec<OAuthClient>) -> Self {
        Self {
            clients: clients
                .into_iter()
                .map(|c| (c.provider.clone(), c))
                .collect(),
        }
    }
}

fn client(
    id: &str,
    raw: RawClient,
    registry: &Registry,
    env: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<OAuthClient> {
    let Some(provider) = registry.by_id(id) else {
        let known: Vec<&str> = registry.all().iter().map(|p| p.id.as_str()).collect();
        bail!(
            "unknown provider id `{id}`: use a built-in id ({}) or one from --providers-file",
            known.join(", ")
        );
    };
    let facts = oauth_facts(id);
    if raw.client_id.trim().is_empty() {
        bail!("client_id is empty");
    }
    let client_secret = match &raw.client_secret_env {
        None => None,
        Some(var) => match env(var) {
            Some(v) if !v.trim().is_empty() => Some(ClientSecret(v.trim().to_owned())),
            _ => bail!(
                "client_secret_env: the environment variable {var} is not set or empty \
                 (it must hold the client secret; omit client_secret_env for a public client)"
            ),
        },
    };
    let authorization_url = raw
        .authorization_url
        .or_else(|| facts.map(|f| f.authorization_url.clone()))
        .with_context(|| {
            format!(
                "authorization_url is required: the provider data has no OAuth endpoints for `{id}`"
            )
        })?;
    let token_url = raw
        .token_url
        .or_else(|| facts.map(|f| f.token_url.clone()))
        .with_context(|| {
            format!("token_url is required: the provider data has no OAuth endpoints for `{id}`")
        })?;
    check_endpoint("authorization_url", &authorization_url)?;
    check_endpoint("token_url", &token_url)?;
    let scopes = raw
        .scopes
        .or_else(|| facts.map(|f| f.scopes.clone()))
        .with_context(|| format!("scopes are required: the provider data has none for `{id}`"))?;
    if scopes.is_empty() {
        bail!("scopes: give at least one scope");
    }
    if let Some(bad) = scopes
        .iter()
        .find(|s| s.is_empty() || !s.chars().all(|c| c.is_ascii_graphic() && c != '"'))
    {
        bail!("scopes: `{bad}` is not a scope (no spaces or quotes)");
    }
    let mail_scopes = match raw.mail_scopes {
        Some(m) => m,
        None => match facts {
            Some(f) if f.mail_scopes.iter().all(|m| scopes.contains(m)) => f.mail_scopes.clone(),
            _ => scopes
                .iter()
                .filter(|s| !IDENTITY_SCOPES.contains(&s.as_str()))
                .cloned()
                .collect(),
        },
    };
    if let Some(m) = mail_scopes.iter().find(|m| !scopes.contains(m)) {
        bail!("mail_scopes: `{m}` is not among the scopes asked for");
    }
    let authorization_params = raw
        .authorization_params
        .or_else(|| facts.map(|f| f.authorization_params.clone()))
        .unwrap_or_default();
    if let Some(k) = authorization_params
        .keys()
        .find(|k| RESERVED_PARAMS.contains(&k.as_str()))
    {
        bail!("authorization_params: `{k}` is set by mailsetup itself");
    }
    let sasl = raw
        .sasl
        .or_else(|| facts.and_then(|f| f.sasl.first().copied()))
        .unwrap_or(OAuthSasl::Xoauth2);
    Ok(OAuthClient {
        provider: id.to_owned(),
        name: provider.name.clone(),
        client_id: raw.client_id.trim().to_owned(),
        client_secret,
        authorization_url,
        token_url,
        scopes,
        mail_scopes,
        authorization_params,
        sasl,
    })
}

/// https anywhere, http only on a loopback host; no user information, fragment or spaces.
fn check_endpoint(key: &str, url: &str) -> anyhow::Result<()> {
    let parsed = Endpoint::parse(url).map_err(|e| anyhow::anyhow!("{key} `{url}`: {e}"))?;
    if !parsed.https && !parsed.is_loopback() {
        bail!("{key} `{url}`: must be https (http only on a loopback host)");
    }
    Ok(())
}

/// An endpoint URL split into what a request needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// https or http.
    pub https: bool,
    /// The host (IPv6 without brackets), lowercase.
    pub host: String,
    /// The port.
    pub port: u16,
    /// Path and query (`/token`).
    pub path: String,
}

impl Endpoint {
    /// Parses an absolute `http(s)://host[:port][/path][?query]` URL.
    ///
    /// # Errors
    /// What is wrong with it, in a few words.
    pub fn parse(url: &str) -> Result<Self, String> {
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("spaces or control characters".to_owned());
        }
        let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err("not an https:// URL".to_owned());
        };
        if url.contains('#') {
            return Err("a fragment (#) is not allowed".to_owned());
        }
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.is_empty() || authority.contains('@') {
            return Err("no host, or user information in the URL".to_owned());
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && (!h.contains(':') || h.ends_with(']')) => (
                h,
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("bad port `{p}`"))?,
            ),
            _ => (authority, if https { 443 } else { 80 }),
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if host.is_empty() {
            return Err("no host".to_owned());
        }
        let path = if path.is_empty() {
            "/".to_owned()
        } else if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        Ok(Self {
            https,
            host,
            port,
            path,
        })
    }

    /// Whether the host is `localhost` or a loopback address.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The `Host` header value.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = if self.https { 443 } else { 80 };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "GMAIL_SECRET").then(|| "s3cret".to_owned())
    }

    fn parse(text: &str) -> anyhow::Result<OAuthConfig> {
        OAuthConfig::parse(text, &Registry::builtin(), env)
    }

    fn error(text: &str) -> String {
        format!("{:#}", parse(text).unwrap_err())
    }

    #[test]
    fn a_built_in_provider_takes_its_facts_from_the_data() {
        let c = parse("[gmail]\nclient_id = \"1234.apps\"\nclient_secret_env = \"GMAIL_SECRET\"\n")
            .unwrap();
        let g = c.client("gmail").unwrap();
        assert_eq!(g.token_url, "https://oauth2.googleapis.com/token");
        assert_eq!(g.mail_scopes, ["https://mail.google.com/"]);
        assert_eq!(g.sasl, OAuthSasl::Xoauth2);
        assert_eq!(g.client_secret.as_ref().unwrap().expose(), "s3cret");
        assert_eq!(g.authorization_params["access_type"], "offline");
        assert!(!format!("{c:?}").contains("s3cret"));
        let ms = parse("[microsoft365]\nclient_id = \"abc\"\n").unwrap();
        let ms = ms.client("microsoft365").unwrap();
        assert!(ms.client_secret.is_none());
        assert!(ms.authorization_url.contains("/organizations/"));
    }

    #[test]
    fn overrides_and_operator_endpoints() {
        let c = parse(
            "[icloud]\nclient_id = \"x\"\nauthorization_url = \"http://127.0.0.1:9000/auth\"\n\
             token_url = \"http://[::1]:9000/token\"\nscopes = [\"openid\", \"mail\"]\nsasl = \"oauthbearer\"\n",
        )
        .unwrap();
        let i = c.client("icloud").unwrap();
        assert_eq!(i.mail_scopes, ["mail"]);
        assert_eq!(i.sasl, OAuthSasl::Oauthbearer);
        assert_eq!(i.name, "iCloud Mail");
    }

    #[test]
    fn every_mistake_gets_a_clear_message() {
        let cases = [
            (
                "[nosuch]\nclient_id = \"x\"\n",
                "unknown provider id `nosuch`",
            ),
            (
                "[gmail]\nclient_id = \"x\"\nclient_secret_env = \"UNSET_VAR\"\n",
                "UNSET_VAR is not set",
            ),
            (
                "[gmail]\nclient_id = \"x\"\ntoken_url = \"http://oauth.example.com/token\"\n",
                "must be https",
            ),
            (
                "[gmail]\nclient_id = \"x\"\ntoken_url = \"https://u:p@oauth.example.com/token\"\n",
                "user information",
            ),
            (
                "[gmail]\nclient_id = \"x\"\ntoken_url = \"ftp://x/\"\n",
                "not an https",
            ),
            ("[gmail]\nclient_id = \"\"\n", "client_id is empty"),
            (
                "[gmail]\nclient_id = \"x\"\nclient_sekret_env = \"A\"\n",
                "unknown field",
            ),
            (
                "[icloud]\nclient_id = \"x\"\n",
                "authorization_url is required",
            ),
            (
                "[gmail]\nclient_id = \"x\"\nscopes = []\n",
                "at least one scope",
            ),
            (
                "[gmail]\nclient_id = \"x\"\nscopes = [\"a b\"]\n",
                "not a scope",
            ),
            (
                "[gmail]\nclient_id = \"x\"\nsasl = \"plain\"\n",
                "unknown variant",
            ),
        ];
        for (text, want) in cases {
            let e = error(text);
            assert!(e.contains(want), "want {want:?} in {e:?}");
        }
        assert!(
            error("[gmail]\nclient_id = \"x\"\nclient_secret_env = \"UNSET_VAR\"\n")
                .contains("[gmail]")
        );
    }

    #[test]
    fn endpoints_parse() {
        let e = Endpoint::parse("https://login.example.com/o/token?x=1").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("login.example.com", 443, "/o/token?x=1")
        );
        assert_eq!(e.host_header(), "login.example.com");
        let l = Endpoint::parse("http://[::1]:8080").unwrap();
        assert!(l.is_loopback());
        assert_eq!(
            (l.path.as_str(), l.host_header().as_str()),
            ("/", "[::1]:8080")
        );
        assert!(Endpoint::parse("https://h/#x").is_err());
        assert!(Endpoint::parse("https://h:0/").is_err());
    }
}

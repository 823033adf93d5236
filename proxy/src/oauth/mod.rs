//! Sign in with the provider (OAuth 2.0 authorization code with PKCE S256), then the real
//! check with the token.
//!
//! - `config.rs`: `--oauth-config`, the operator's clients merged with the provider data's
//!   `[provider.oauth]` facts, checked at start.
//! - `state.rs`: the flow state sealed into `state` (ChaCha20-Poly1305, `--secret-key-file`),
//!   the browser-binding cookie, PKCE.
//! - `start.rs`: `start`, the redirect to the provider with PKCE, `state` and the cookie.
//! - `flow.rs`: `callback`: state checks, code exchange, account and scope checks, the
//!   check itself, each ending in its outcome.
//! - `token.rs`: the token request over the policy-checked connection.
//! - `page.rs`: the callback page that hands the outcome to the wizard.
//!
//! The routes are in `routes/oauth.rs`.
//!
//! Invariant: no flow state lives in one process's memory: what the callback needs travels
//! sealed in `state`, and the single-use mark is in the shared store, so any replica with
//! the same `--secret-key-file` and store finishes a flow any other started.

pub mod config;
pub mod flow;
pub mod page;
pub mod start;
pub mod state;
pub mod token;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};

pub use config::{OAuthClient, OAuthConfig};

/// The callback's path under the proxy's public URL.
pub const CALLBACK_PATH: &str = "/api/v1/oauth/callback";

/// The browser-binding cookie.
pub const COOKIE: &str = "mailsetup_oauth";

/// What the OAuth routes need, built once at start.
#[derive(Debug)]
pub struct OAuth {
    /// The operator's clients.
    pub config: OAuthConfig,
    /// Seals flow state.
    pub key: state::SealKey,
    /// The token request's connection settings.
    pub http: token::TokenHttp,
    /// `--public-url` (no trailing slash), when given.
    pub public_url: Option<String>,
    /// How long a started flow may take to come back.
    pub state_ttl: Duration,
}

impl OAuth {
    /// Reads `--oauth-config` and `--secret-key-file` and checks them with the rest of the
    /// configuration: a configured client needs `--public-url` (the redirect URI), and
    /// several replicas (`--redis-url`) need a shared `--secret-key-file`.
    ///
    /// # Errors
    /// The first problem, in words an operator can act on.
    pub fn from_config(
        config: &crate::Config,
        registry: &mailsetup_shared::providers::Registry,
        resolver: crate::dns::Resolver,
    ) -> anyhow::Result<Self> {
        let clients = match &config.oauth_config {
            Some(path) => OAuthConfig::load(path, registry, |name| std::env::var(name).ok())?,
            None => OAuthConfig::default(),
        };
        if !clients.is_empty() && config.public_url.is_none() {
            bail!(
                "--oauth-config needs --public-url: the providers send users back to \
                 {{public-url}}{CALLBACK_PATH}, the redirect URI registered with each client"
            );
        }
        let key = match &config.secret_key_file {
            Some(path) => state::SealKey::from_file(path)?,
            None if !clients.is_empty() && config.redis_url.is_some() => bail!(
                "--oauth-config with --redis-url (several replicas) needs --secret-key-file: \
                 the same key on every replica, so a sign-in started on one can finish on another"
            ),
            None => state::SealKey::random()?,
        };
        let (provider, verifier) = crate::check::tls::trust(&config.extra_ca)?;
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS versions")?
            .with_webpki_verifier(verifier)
            .with_no_client_auth();
        Ok(Self {
            config: clients,
            key,
            http: token::TokenHttp {
                resolver,
                policy: crate::policy::EgressPolicy {
                    allow_any_port: config.allow_any_port,
                    allow_private_targets: config.allow_private_targets,
                },
                tls: Arc::new(tls),
                connect_timeout: config.connect_timeout.get(),
                tls_timeout: config.tls_timeout.get(),
                timeout: config.connect_timeout.get() + Duration::from_secs(10),
            },
            public_url: config.public_url.clone(),
            state_ttl: config.oauth_state_ttl.get(),
        })
    }

    /// `{public-url}/api/v1/oauth/callback`.
    pub fn redirect_uri(&self) -> String {
        format!(
            "{}{CALLBACK_PATH}",
            self.public_url.as_deref().unwrap_or("")
        )
    }

    /// The proxy's own origin (`--public-url`'s), the only target of the page's message.
    pub fn origin(&self) -> String {
        let url = self.public_url.as_deref().unwrap_or("");
        match url.split_once("://") {
            Some((scheme, rest)) => {
                format!("{scheme}://{}", rest.split('/').next().unwrap_or(""))
            }
            None => String::new(),
        }
    }

    /// Whether cookies must be `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

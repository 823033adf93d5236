//! The mailsetup proxy as a library: [`app`] builds the whole HTTP service from an
//! [`AppState`], so tests drive it with `tower::ServiceExt::oneshot` and no socket, and
//! `main.rs` only parses flags and serves it.
//!
//! Invariant: only the `check` and `discover` modules open sockets to mail servers, and
//! only `http_client` (for discovery and OAuth) to web servers; every one of those goes
//! through the egress policy first.

#![warn(missing_docs)]

pub mod check;
pub mod config;
pub mod discover;
pub mod dns;
pub mod error;
pub mod http_client;
pub mod i18n;
pub mod limits;
pub mod metrics;
mod middleware;
pub mod oauth;
pub mod observe;
pub mod openapi;
mod origin;
pub mod policy;
mod routes;
pub mod serve;
pub mod static_files;
pub mod store;

use std::sync::Arc;

use axum::Router;

pub use config::Config;

/// Everything a request handler may need. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The operator's configuration.
    pub config: Arc<Config>,
    /// Server discovery for any domain (resolver, TLS roots, cache).
    pub discover: Arc<discover::Discoverer>,
    /// Connection checks (TLS roots, egress policy, timeouts).
    pub checker: Arc<check::Checker>,
    /// The provider knowledge base: built in plus the operator's `--providers-file`.
    pub providers: Arc<mailsetup_shared::providers::Registry>,
    /// Shared state (memory, or Redis with `--redis-url`).
    pub store: store::SharedStore,
    /// This proxy's metrics (served with `--metrics-listen`).
    pub metrics: Arc<metrics::Metrics>,
    /// Sign in with the provider: the operator's OAuth clients, the state key.
    pub oauth: Arc<oauth::OAuth>,
}

impl AppState {
    /// Builds the state from a configuration, checking what can be checked up front.
    pub fn new(config: Config) -> anyhow::Result<Self> {
        Self::with_discover_ports(config, discover::DiscoverPorts::default())
    }

    /// [`AppState::new`] with discovery probing `ports` instead of the standard ones: only
    /// tests do this (their fixtures listen on loopback high ports), so it is no flag.
    pub fn with_discover_ports(
        config: Config,
        ports: discover::DiscoverPorts,
    ) -> anyhow::Result<Self> {
        let providers = Arc::new(routes::load_providers(config.providers_file.as_deref())?);
        let metrics = Arc::new(metrics::Metrics::new());
        let store = store::from_config(&config, metrics.clone())?;
        // One resolver (`--dns-server` or the system's) for checks and discovery alike.
        let resolver = dns::Resolver::with_settings(dns::DnsSettings {
            server: config.dns_server,
            timeout: config.dns_query_timeout.get(),
            ..dns::DnsSettings::default()
        })?;
        let discover = Arc::new(
            discover::Discoverer::with_resolver(
                discover::DiscoverSettings::from_config(&config, ports)?,
                policy::EgressPolicy {
                    allow_any_port: config.allow_any_port,
                    allow_private_targets: config.allow_private_targets,
                },
                &config.extra_ca,
                providers.clone(),
                resolver.clone(),
            )?
            .with_store(store.clone()),
        );
        let oauth = Arc::new(oauth::OAuth::from_config(
            &config,
            &providers,
            resolver.clone(),
        )?);
        let checker =
            Arc::new(check::Checker::new(&config, resolver)?.with_store(&config, store.clone()));
        Ok(Self {
            providers,
            discover,
            checker,
            store,
            metrics,
            oauth,
            config: Arc::new(config),
        })
    }
}

/// The whole HTTP service: `/api/v1/...` plus the built front end.
pub fn app(state: AppState) -> Router {
    let api = routes::api(state.clone());
    let site = static_files::site(&state.config.static_dir);
    let router = middleware::edge(
        Router::new()
            .nest(mailsetup_shared::api::API_PREFIX, api)
            .merge(site),
        &state,
    );
    observe::request_id(router)
}

pub use serve::serve;

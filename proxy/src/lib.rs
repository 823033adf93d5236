//! The mailsetup proxy as a library: [`app`] builds the whole HTTP service from an
//! [`AppState`], so tests drive it with `tower::ServiceExt::oneshot` and no socket, and
//! `main.rs` only parses flags and serves it.
//!
//! Invariant: only the `check` and `discover` modules open sockets to mail servers, and
//! every one of those goes through the egress policy first.

#![warn(missing_docs)]

pub mod check;
pub mod config;
pub mod discover;
pub mod error;
pub mod limits;
mod middleware;
pub mod policy;
mod routes;
pub mod static_files;

use std::future::Future;
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
}

impl AppState {
    /// Builds the state from a configuration, checking what can be checked up front.
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let providers = Arc::new(routes::load_providers(config.providers_file.as_deref())?);
        let discover = Arc::new(discover::Discoverer::new(
            discover::DiscoverSettings::from_config(&config)?,
            policy::EgressPolicy {
                allow_any_port: config.allow_any_port,
                allow_private_targets: config.allow_private_targets,
            },
            &config.extra_ca,
            providers.clone(),
        )?);
        let checker = Arc::new(check::Checker::new(&config)?);
        Ok(Self {
            providers,
            discover,
            checker,
            config: Arc::new(config),
        })
    }
}

/// The whole HTTP service: `/api/v1/...` plus the built front end.
pub fn app(state: AppState) -> Router {
    let api = routes::api(state.clone());
    let site = static_files::site(&state.config.static_dir);
    middleware::edge(
        Router::new()
            .nest(mailsetup_shared::api::API_PREFIX, api)
            .merge(site),
        &state,
    )
}

/// Serves [`app`] on `listener` until `shutdown` resolves, then lets requests in flight end.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

//! The mailsetup proxy as a library: [`app`] builds the whole HTTP service from an
//! [`AppState`], so tests drive it with `tower::ServiceExt::oneshot` and no socket, and
//! `main.rs` only parses flags and serves it.
//!
//! Invariant: only the `check` and `discover` modules open sockets to mail servers, and
//! every one of those goes through the egress policy first.

#![warn(missing_docs)]

pub mod config;
pub mod error;
mod middleware;
pub mod policy;
mod routes;

use std::future::Future;
use std::sync::Arc;

use axum::Router;

pub use config::Config;

/// Everything a request handler may need. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The operator's configuration.
    pub config: Arc<Config>,
}

impl AppState {
    /// Builds the state from a configuration, checking what can be checked up front.
    pub fn new(config: Config) -> anyhow::Result<Self> {
        Ok(Self {
            config: Arc::new(config),
        })
    }
}

/// The whole HTTP service: `/api/v1/...` plus the built front end.
pub fn app(state: AppState) -> Router {
    let api = routes::api(state.clone());
    let site = middleware::static_site(&state.config.static_dir);
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

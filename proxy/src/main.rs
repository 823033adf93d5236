//! The `mailsetup-proxy` binary: parses the command line, sets up logging and serves
//! [`mailsetup_proxy::app`] until Ctrl-C or SIGTERM.

use anyhow::Context as _;
use clap::Parser as _;
use mailsetup_proxy::config::Config;

/// jemalloc with a background thread returns freed memory to the system within about a
/// second of a burst, where glibc's malloc keeps its per-thread arenas (see
/// docs/BENCHMARKS.md, "Capacity of one replica").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    mailsetup_proxy::observe::init_logging(config.log_format);
    let fd_limit = mailsetup_proxy::serve::raise_fd_limit();
    tracing::debug!(?fd_limit, "open-file limit");
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr().context("listener has no address")?;
    let state = mailsetup_proxy::AppState::new(config).context("invalid configuration")?;
    tracing::info!(%addr, static_dir = %state.config.static_dir.display(), "mailsetup proxy listening");
    if let Some(metrics_addr) = state.config.metrics_listen {
        let metrics_listener = tokio::net::TcpListener::bind(metrics_addr)
            .await
            .with_context(|| format!("cannot listen on {metrics_addr} for metrics"))?;
        tracing::info!(addr = %metrics_addr, "metrics at /metrics");
        let metrics = state.metrics.clone();
        tokio::spawn(async move {
            if let Err(err) =
                mailsetup_proxy::metrics::serve(metrics_listener, metrics, std::future::pending())
                    .await
            {
                tracing::error!(%err, "metrics listener stopped");
            }
        });
    }
    if let Some(url) = &state.config.redis_url {
        tracing::info!(redis = %url, "shared state in Redis");
    }
    println!("mailsetup is running at http://{addr}/  (Ctrl-C to stop)");
    mailsetup_proxy::serve(listener, state, shutdown_signal()).await
}

/// Resolves on Ctrl-C or SIGTERM, whichever comes first.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

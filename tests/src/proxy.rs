//! The real proxy on a real loopback socket, served from a runtime thread of its own so
//! synchronous tests, async tests and child processes (the browser) can all reach it.

use std::net::SocketAddr;

use anyhow::Context as _;
use mailsetup_proxy::{AppState, Config};

/// A proxy serving on `127.0.0.1:<port>` until dropped.
#[derive(Debug)]
pub struct RunningProxy {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where it serves `/metrics` (when the configuration has `metrics_listen`; the
    /// address given there is replaced by a free loopback port).
    pub metrics_addr: Option<SocketAddr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningProxy {
    /// Starts the proxy with `config` (its `listen` is replaced by a free loopback port).
    pub fn start(config: Config) -> anyhow::Result<Self> {
        Self::serve(AppState::new(config).context("proxy state")?)
    }

    /// Serves `state` (its configuration's `listen` is replaced by a free loopback port).
    pub fn serve(state: AppState) -> anyhow::Result<Self> {
        Self::serve_at(state, 0)
    }

    /// Serves `state` on `127.0.0.1:port` (0: a free one), for a proxy whose public URL
    /// must be known before it starts (the OAuth redirect URI).
    pub fn serve_at(state: AppState, port: u16) -> anyhow::Result<Self> {
        let with_metrics = state.config.metrics_listen.is_some();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        type Ready = anyhow::Result<(SocketAddr, Option<SocketAddr>)>;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Ready>();
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(err) => {
                    let _ = ready_tx.send(Err(err.into()));
                    return;
                }
            };
            runtime.block_on(async move {
                // The same listen backlog as the binary (tokio's `TcpListener::bind`: 1024),
                // so a burst of connections behaves as in production.
                let listener = match listen_on_loopback(port) {
                    Ok(l) => l,
                    Err(err) => {
                        let _ = ready_tx.send(Err(err));
                        return;
                    }
                };
                let addr = match listener.local_addr() {
                    Ok(a) => a,
                    Err(err) => {
                        let _ = ready_tx.send(Err(err.into()));
                        return;
                    }
                };
                let (stop_all, _) = tokio::sync::watch::channel(false);
                let mut metrics_addr = None;
                if with_metrics {
                    let metrics_listener = match listen_on_loopback(0) {
                        Ok(l) => l,
                        Err(err) => {
                            let _ = ready_tx.send(Err(err));
                            return;
                        }
                    };
                    metrics_addr = metrics_listener.local_addr().ok();
                    let mut stop = stop_all.subscribe();
                    let metrics = state.metrics.clone();
                    tokio::spawn(async move {
                        let shutdown = async move {
                            let _ = stop.changed().await;
                        };
                        let _ =
                            mailsetup_proxy::metrics::serve(metrics_listener, metrics, shutdown)
                                .await;
                    });
                }
                let _ = ready_tx.send(Ok((addr, metrics_addr)));
                let shutdown = async move {
                    let _ = stop_rx.await;
                    let _ = stop_all.send(true);
                };
                if let Err(err) = mailsetup_proxy::serve(listener, state, shutdown).await {
                    eprintln!("test proxy stopped with an error: {err:#}");
                }
            });
        });
        let (addr, metrics_addr) = ready_rx.recv().context("proxy thread died")??;
        Ok(Self {
            addr,
            metrics_addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A listener on a free loopback port with a backlog of 1024.
fn listen_on_loopback(port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4().context("socket")?;
    socket
        .bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .context("bind a loopback port")?;
    socket.listen(1024).context("listen")
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

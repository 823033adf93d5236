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
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningProxy {
    /// Starts the proxy with `config` (its `listen` is replaced by a free loopback port).
    pub fn start(config: Config) -> anyhow::Result<Self> {
        let state = AppState::new(config).context("proxy state")?;
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").context("bind a loopback port")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<()>>();
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
                let listener = match tokio::net::TcpListener::from_std(std_listener) {
                    Ok(l) => l,
                    Err(err) => {
                        let _ = ready_tx.send(Err(err.into()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                let shutdown = async {
                    let _ = stop_rx.await;
                };
                if let Err(err) = mailsetup_proxy::serve(listener, state, shutdown).await {
                    eprintln!("test proxy stopped with an error: {err:#}");
                }
            });
        });
        ready_rx.recv().context("proxy thread died")??;
        Ok(Self {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
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

//! The accept loop: HTTP/1.1 connections served by hyper with a timer, so that slow or idle
//! clients cannot hold the proxy's sockets and memory.
//!
//! `axum::serve` runs hyper without a timer, so a client that sends half a request line
//! keeps its socket forever. Here every connection gets:
//! - a header read timeout (`--header-timeout`): the whole request head must arrive within
//!   it; hyper restarts the same timer while a keep-alive connection waits for its next
//!   request, so it is also the idle timeout between requests;
//! - a cap on the request head (`--max-header-bytes`, answered with 431) and on hyper's read
//!   buffer, so an unfinished head costs at most that much memory;
//! - a cap on connections per client address (`--max-connections-per-client`; counted
//!   like the rate limit, [`crate::limits::client_key`]: an IPv6 client per /64) and in all
//!   (`--max-connections`, never more than the open-file limit allows). A connection over
//!   either cap is closed at once, so a flood of idle sockets from one client never stops
//!   another client from being served.
//!
//! When the process runs out of file handles, `accept` fails: the loop backs off (up to a
//! second) and logs one line per 10 s with a count, not one per failure.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tower::ServiceExt as _;

use crate::AppState;
use crate::limits::client_key;

/// Connection limits of the accept loop, from the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnLimits {
    /// Time for a request head to arrive, and for an idle keep-alive connection to stay.
    pub header_timeout: Duration,
    /// Largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
    /// Connections one client address (IPv6: one /64) may hold; 0: no cap.
    pub per_client: usize,
    /// Connections in all.
    pub total: usize,
}

/// File handles kept free for what the proxy itself opens (check and discovery sockets,
/// static files, logs) when `--max-connections` is fitted under the open-file limit.
const RESERVED_FDS: u64 = 512;

impl ConnLimits {
    /// The limits from the configuration, with the total fitted under `fd_limit` (the
    /// process's open-file limit, when known).
    pub fn new(config: &crate::Config, fd_limit: Option<u64>) -> Self {
        let mut total = config.max_connections.max(1);
        if let Some(limit) = fd_limit {
            let room =
                usize::try_from(limit.saturating_sub(RESERVED_FDS).max(16)).unwrap_or(usize::MAX);
            total = total.min(room);
        }
        Self {
            header_timeout: config.header_timeout.get(),
            max_header_bytes: config.max_header_bytes.max(1024),
            // Behind a trusted reverse proxy every connection comes from it: the per-client
            // cap belongs there (nginx `limit_conn`), not here.
            per_client: if config.trust_forwarded_for {
                0
            } else {
                config.max_connections_per_client
            },
            total,
        }
    }
}

/// Raises the soft open-file limit to the hard limit where the system allows it, and
/// returns the soft limit in force afterwards.
pub fn raise_fd_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(err) => {
            tracing::warn!(%err, "cannot raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// Serves [`crate::app`] on `listener` until `shutdown` resolves, then lets requests in
/// flight end (at most `drain` long).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let limits = ConnLimits::new(&state.config, current_fd_limit());
    tracing::debug!(?limits, "connection limits");
    let router = crate::app(state);
    let counts = Arc::new(ConnCounts::default());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut backoff = AcceptBackoff::default();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(ok) => {
                backoff.reset();
                ok
            }
            Err(err) => {
                if let Some(pause) = backoff.failed(&err) {
                    tokio::time::sleep(pause).await;
                }
                continue;
            }
        };
        let Some(slot) = counts.admit(peer.ip(), &limits) else {
            // Dropping the stream closes it at once: the client learns now, not after a
            // timeout, and holds nothing.
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = hyper::service::service_fn({
            let router: Router = router.clone();
            move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                router.clone().oneshot(req)
            }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_header_size(limits.max_header_bytes)
            .max_buf_size(limits.max_header_bytes.max(8192) * 2)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(err) = conn.await {
                tracing::debug!(%err, %peer, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!(
        open = graceful.count(),
        "waiting for open connections to finish"
    );
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {DRAIN:?}; stopping anyway");
    }
    Ok(())
}

/// How long a graceful shutdown waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(30);

fn current_fd_limit() -> Option<u64> {
    rlimit::getrlimit(rlimit::Resource::NOFILE)
        .ok()
        .map(|(soft, _)| soft)
}

/// Open connections, per client and in all.
#[derive(Debug, Default)]
struct ConnCounts {
    inner: Mutex<CountsInner>,
}

#[derive(Debug, Default)]
struct CountsInner {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
    refused: u64,
    last_report: Option<Instant>,
}

impl ConnCounts {
    /// A slot for a new connection from `ip`, or `None` when a cap is reached.
    fn admit(self: &Arc<Self>, ip: IpAddr, limits: &ConnLimits) -> Option<ConnSlot> {
        let key = client_key(ip);
        let Ok(mut inner) = self.inner.lock() else {
            return None;
        };
        let mine = inner.per_client.get(&key).copied().unwrap_or(0);
        if inner.total >= limits.total || (limits.per_client > 0 && mine >= limits.per_client) {
            inner.refused += 1;
            let now = Instant::now();
            if inner
                .last_report
                .is_none_or(|t| now.duration_since(t) >= REPORT_EVERY)
            {
                tracing::warn!(
                    client = %key,
                    refused = inner.refused,
                    open = inner.total,
                    "connection cap reached: closing new connections"
                );
                inner.last_report = Some(now);
                inner.refused = 0;
            }
            return None;
        }
        inner.total += 1;
        *inner.per_client.entry(key).or_insert(0) += 1;
        Some(ConnSlot {
            counts: self.clone(),
            key,
        })
    }
}

/// One open connection's place in [`ConnCounts`], given back on drop.
#[derive(Debug)]
struct ConnSlot {
    counts: Arc<ConnCounts>,
    key: IpAddr,
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.counts.inner.lock() {
            inner.total = inner.total.saturating_sub(1);
            if let Some(n) = inner.per_client.get_mut(&self.key) {
                *n -= 1;
                if *n == 0 {
                    inner.per_client.remove(&self.key);
                }
            }
        }
    }
}

/// At most one log line per this long about refused connections or accept failures.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// The pause after failed `accept`s: growing while they go on, reset by a success.
#[derive(Debug, Default)]
struct AcceptBackoff {
    pause: Option<Duration>,
    failures: u64,
    last_report: Option<Instant>,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    fn reset(&mut self) {
        self.pause = None;
    }

    /// Counts a failure; the pause before the next `accept`, if any. Out of file handles
    /// (or memory), accepting again at once would only spin.
    fn failed(&mut self, err: &std::io::Error) -> Option<Duration> {
        self.failures += 1;
        let now = Instant::now();
        if self
            .last_report
            .is_none_or(|t| now.duration_since(t) >= REPORT_EVERY)
        {
            tracing::error!(%err, failures = self.failures, "accept failed");
            self.last_report = Some(now);
            self.failures = 0;
        }
        if !is_resource_exhaustion(err) {
            return None;
        }
        let pause = self.pause.map_or(Self::FIRST, |p| (p * 2).min(Self::MAX));
        self.pause = Some(pause);
        Some(pause)
    }
}

/// EMFILE, ENFILE, ENOBUFS, ENOMEM: the process or system is out of something.
fn is_resource_exhaustion(err: &std::io::Error) -> bool {
    matches!(err.raw_os_error(), Some(23 | 24 | 105 | 12))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn ipv6_clients_count_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn caps_per_client_and_in_all() {
        let counts = Arc::new(ConnCounts::default());
        let limits = ConnLimits {
            header_timeout: Duration::from_secs(1),
            max_header_bytes: 8192,
            per_client: 2,
            total: 3,
        };
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let a1 = counts.admit(a, &limits).unwrap();
        let _a2 = counts.admit(a, &limits).unwrap();
        assert!(counts.admit(a, &limits).is_none(), "third from one client");
        let _b1 = counts.admit(b, &limits).unwrap();
        assert!(counts.admit(b, &limits).is_none(), "over the total");
        drop(a1);
        assert!(
            counts.admit(a, &limits).is_some(),
            "a closed slot is free again"
        );
    }

    #[test]
    fn accept_backoff_grows_only_for_exhaustion() {
        let mut b = AcceptBackoff::default();
        let emfile = std::io::Error::from_raw_os_error(24);
        assert_eq!(b.failed(&emfile), Some(AcceptBackoff::FIRST));
        assert_eq!(b.failed(&emfile), Some(AcceptBackoff::FIRST * 2));
        for _ in 0..20 {
            b.failed(&emfile);
        }
        assert_eq!(b.failed(&emfile), Some(AcceptBackoff::MAX));
        b.reset();
        assert_eq!(b.failed(&emfile), Some(AcceptBackoff::FIRST));
        let aborted = std::io::Error::from(std::io::ErrorKind::ConnectionAborted);
        assert_eq!(b.failed(&aborted), None);
    }
}

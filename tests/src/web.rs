//! A small web server on loopback for discovery tests: one HTTPS port (certificate from the
//! harness CA, see [`crate::certs::issue`]) and one plain-HTTP port, both serving the same
//! [`Site`]: fixed answers by host name and path (autoconfig XML, bogus XML, redirects,
//! slow answers, chunked bodies). Records every request line. Stopped when dropped.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// One fixed answer.
#[derive(Clone, Debug)]
pub struct Route {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Send the body with `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// Serve only on this scheme (`"http"` or `"https"`); `None`: both.
    pub scheme: Option<&'static str>,
}

impl Route {
    /// 200 with an XML body.
    pub fn xml(body: impl Into<String>) -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".to_owned(), "text/xml".to_owned())],
            body: body.into().into_bytes(),
            delay: Duration::ZERO,
            chunked: false,
            scheme: None,
        }
    }

    /// A redirect to `location`.
    pub fn redirect(location: &str) -> Self {
        Self {
            status: 302,
            headers: vec![("Location".to_owned(), location.to_owned())],
            body: Vec::new(),
            delay: Duration::ZERO,
            chunked: false,
            scheme: None,
        }
    }

    /// An empty answer with `status`.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            ..Self::xml("")
        }
    }

    /// The same answer, after `delay`.
    #[must_use]
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The same answer, only on `scheme` (`"http"` or `"https"`).
    #[must_use]
    pub fn only(mut self, scheme: &'static str) -> Self {
        self.scheme = Some(scheme);
        self
    }

    /// The same answer, chunked.
    #[must_use]
    pub fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }
}

/// Answers by (host, path without query); anything else is 404.
#[derive(Clone, Debug, Default)]
pub struct Site {
    routes: HashMap<(String, String), Vec<Route>>,
}

impl Site {
    /// An empty site.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `route` at `host` + `path`.
    #[must_use]
    pub fn route(mut self, host: &str, path: &str, route: Route) -> Self {
        self.routes
            .entry((host.to_ascii_lowercase(), path.to_owned()))
            .or_default()
            .push(route);
        self
    }
}

/// The running server.
#[derive(Debug)]
pub struct WebServer {
    /// The HTTPS port's address (127.0.0.1).
    pub https: SocketAddr,
    /// The plain-HTTP port's address (127.0.0.1).
    pub http: SocketAddr,
    /// Every request as `scheme host path?query`, in arrival order.
    pub requests: Arc<Mutex<Vec<String>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WebServer {
    /// Serves `site` with the certificate and key in the PEM files given.
    pub fn start(site: Site, cert_pem: &Path, key_pem: &Path) -> anyhow::Result<Self> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_pem)
            .with_context(|| format!("read {}", cert_pem.display()))?
            .collect::<Result<_, _>>()?;
        let key = PrivateKeyDer::from_pem_file(key_pem)
            .with_context(|| format!("read {}", key_pem.display()))?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

        let https_l = std::net::TcpListener::bind("127.0.0.1:0")?;
        let http_l = std::net::TcpListener::bind("127.0.0.1:0")?;
        https_l.set_nonblocking(true)?;
        http_l.set_nonblocking(true)?;
        let (https, http) = (https_l.local_addr()?, http_l.local_addr()?);
        let site = Arc::new(site);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let (Ok(https_l), Ok(http_l)) = (
                    tokio::net::TcpListener::from_std(https_l),
                    tokio::net::TcpListener::from_std(http_l),
                ) else {
                    return;
                };
                let tls_loop = {
                    let (site, log) = (site.clone(), log.clone());
                    async move {
                        loop {
                            let Ok((tcp, _)) = https_l.accept().await else {
                                continue;
                            };
                            let (acceptor, site, log) =
                                (acceptor.clone(), site.clone(), log.clone());
                            tokio::spawn(async move {
                                if let Ok(tls) = acceptor.accept(tcp).await {
                                    serve_one(tls, "https", &site, &log).await;
                                }
                            });
                        }
                    }
                };
                let plain_loop = async move {
                    loop {
                        let Ok((tcp, _)) = http_l.accept().await else {
                            continue;
                        };
                        let (site, log) = (site.clone(), log.clone());
                        tokio::spawn(async move {
                            serve_one(tcp, "http", &site, &log).await;
                        });
                    }
                };
                tokio::select! {
                    _ = stop_rx => {}
                    () = tls_loop => {}
                    () = plain_loop => {}
                }
            });
        });
        Ok(Self {
            https,
            http,
            requests,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The requests seen so far.
    pub fn seen(&self) -> Vec<String> {
        self.requests.lock().map(|g| g.clone()).unwrap_or_default()
    }
}

async fn serve_one<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    scheme: &str,
    site: &Site,
    log: &Mutex<Vec<String>>,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 16 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    // Read the request body too (closing with unread data would reset the connection).
    let body_len = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0)
        .min(1024 * 1024);
    let head_len = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(head.len(), |p| p + 4);
    let mut have = head.len() - head_len;
    while have < body_len {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => have += n,
        }
    }
    let target = text
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_owned();
    let host = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("host").then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    let host = host
        .rsplit_once(':')
        .map_or(host.as_str(), |(h, _)| h)
        .to_ascii_lowercase();
    if let Ok(mut g) = log.lock() {
        g.push(format!("{scheme} {host} {target}"));
    }
    let path = target.split('?').next().unwrap_or("/").to_owned();
    let route = site
        .routes
        .get(&(host, path))
        .and_then(|rs| rs.iter().find(|r| r.scheme.is_none_or(|s| s == scheme)))
        .cloned()
        .unwrap_or(Route {
            status: 404,
            headers: Vec::new(),
            body: b"not found".to_vec(),
            delay: Duration::ZERO,
            chunked: false,
            scheme: None,
        });
    tokio::time::sleep(route.delay).await;
    let mut out = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", route.status);
    for (k, v) in &route.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    let mut bytes;
    if route.chunked {
        out.push_str("Transfer-Encoding: chunked\r\n\r\n");
        bytes = out.into_bytes();
        for chunk in route.body.chunks(100) {
            bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            bytes.extend_from_slice(chunk);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"0\r\n\r\n");
    } else {
        out.push_str(&format!("Content-Length: {}\r\n\r\n", route.body.len()));
        bytes = out.into_bytes();
        bytes.extend_from_slice(&route.body);
    }
    let _ = s.write_all(&bytes).await;
    let _ = s.shutdown().await;
}

impl Drop for WebServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

//! HTTP/1.1 for autoconfig and Autodiscover documents, by hyper's client over a connection
//! discovery opened itself: resolves once through discovery's resolver, checks each address
//! with [`EgressPolicy::check_web`], connects to exactly that address (TLS verified against
//! the host name; the connect and the handshake each under `STEP_TIMEOUT`), bounds the head
//! and the body, and follows at most two redirects, each checked again (never from HTTPS
//! down to HTTP). hyper does the wire format (status line, headers, chunked and
//! length-delimited bodies) and refuses malformed heads (a bare CR or
//! a control character in a header cannot smuggle text into the next request).
//!
//! [`EgressPolicy::check_web`]: crate::policy::EgressPolicy::check_web

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use hyper::header;
use hyper_util::rt::TokioIo;
use mailsetup_shared::api::Text;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::Discoverer;
use crate::i18n;

/// Redirects followed at most.
const MAX_REDIRECTS: usize = 2;
/// How long the TCP connect and the TLS handshake each may take, per address.
const STEP_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest response head accepted (hyper's read buffer; at least 8 KiB).
const MAX_HEADER: usize = 16 * 1024;

/// A fetched document.
#[derive(Debug)]
pub struct Fetched {
    /// The body.
    pub body: Vec<u8>,
    /// The URLs redirected to, in order.
    pub redirects: Vec<String>,
}

/// Why a fetch failed. [`FetchError::text`] is what the trace says.
#[derive(Debug, PartialEq, Eq)]
pub enum FetchError {
    /// The URL (or a redirect's `Location`) has spaces or control characters.
    UnsafeUrl,
    /// Not an `http://` or `https://` URL.
    NotHttp(String),
    /// User info or no host in the URL.
    BadAuthority(String),
    /// A port that is not a number.
    BadPort(String),
    /// The name did not resolve to an address the policy allows.
    Dns(Text),
    /// The host cannot be a TLS server name.
    BadName(Text),
    /// No connection to any address.
    Connect {
        /// The last address tried.
        addr: SocketAddr,
        /// The system's words.
        error: String,
    },
    /// The TLS handshake failed (certificate, protocol).
    Tls {
        /// The address.
        addr: SocketAddr,
        /// rustls's words.
        error: String,
    },
    /// Not a usable HTTP/1.x response (hyper's words), or the connection broke.
    Http {
        /// The address.
        addr: SocketAddr,
        /// What went wrong.
        error: String,
    },
    /// The body is larger than allowed.
    TooLarge {
        /// The limit, in KiB.
        kib: usize,
    },
    /// A status other than 200 or a redirect.
    Status(u16),
    /// A redirect without a `Location`.
    NoLocation(u16),
    /// More than [`MAX_REDIRECTS`] redirects.
    TooManyRedirects,
    /// A redirect from HTTPS to plain HTTP.
    Downgrade(String),
}

impl FetchError {
    /// The trace's words, in English and Russian.
    pub fn text(&self) -> Text {
        match self {
            Self::UnsafeUrl => Text::new(
                "a URL with spaces or control characters",
                "адрес (URL) с пробелами или управляющими символами",
            ),
            Self::NotHttp(url) => Text::new(
                format!("not an http(s) URL: {url}"),
                format!("это не адрес http(s): {url}"),
            ),
            Self::BadAuthority(url) => Text::new(
                format!("unsupported URL authority: {url}"),
                format!("неподдерживаемая часть адреса с именем сервера: {url}"),
            ),
            Self::BadPort(url) => Text::new(
                format!("bad port in {url}"),
                format!("неверный порт в {url}"),
            ),
            Self::Dns(text) | Self::BadName(text) => text.clone(),
            Self::Connect { addr, error } => Text::new(
                format!("connect to {addr}: {error}"),
                format!("соединение с {addr} не установлено: {error}"),
            ),
            Self::Tls { addr, error } => Text::new(
                format!("{addr}: TLS with {addr}: {error}"),
                format!("{addr}: TLS с {addr} не удался: {error}"),
            ),
            Self::Http { addr, error } => i18n::verbatim(format!("{addr}: HTTP: {error}")),
            Self::TooLarge { kib } => Text::new(
                format!("body larger than {kib} KiB"),
                format!("тело ответа больше {kib} КиБ"),
            ),
            Self::Status(status) => i18n::verbatim(format!("HTTP {status}")),
            Self::NoLocation(status) => Text::new(
                format!("HTTP {status} without Location"),
                format!("HTTP {status} без заголовка Location"),
            ),
            Self::TooManyRedirects => Text::new(
                format!("more than {MAX_REDIRECTS} redirects"),
                format!("больше {MAX_REDIRECTS} перенаправлений"),
            ),
            Self::Downgrade(location) => Text::new(
                format!("refused a redirect from HTTPS to {location}"),
                format!("перенаправление с HTTPS на {location} отклонено"),
            ),
        }
    }
}

/// A URL split into what a GET needs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Url {
    https: bool,
    host: String,
    port: Option<u16>,
    path: String,
}

fn parse_url(url: &str) -> Result<Url, FetchError> {
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(FetchError::UnsafeUrl);
    }
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(FetchError::NotHttp(url.to_owned()));
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.contains('@') || authority.is_empty() {
        return Err(FetchError::BadAuthority(url.to_owned()));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && (!h.starts_with('[') || h.ends_with(']')) => {
            let port = p
                .parse::<u16>()
                .map_err(|_| FetchError::BadPort(url.to_owned()))?;
            (h, Some(port))
        }
        _ => (authority, None),
    };
    let path = path.split('#').next().unwrap_or("");
    let path = if path.is_empty() || path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    Ok(Url {
        https,
        host: host.to_ascii_lowercase(),
        port,
        path,
    })
}

/// GETs `url` with a body of at most `max_body` bytes. `port` overrides the URL's port
/// (discovery's configured web ports); redirects use their own URL's port.
pub async fn get(
    d: &Discoverer,
    url: &str,
    port: Option<u16>,
    max_body: usize,
) -> Result<Fetched, FetchError> {
    fetch(d, url, port, max_body, None).await
}

/// POSTs the XML `body` to `url` (redirects are followed with the same POST), like
/// [`get`] otherwise.
pub async fn post_xml(
    d: &Discoverer,
    url: &str,
    port: Option<u16>,
    max_body: usize,
    body: &str,
) -> Result<Fetched, FetchError> {
    fetch(d, url, port, max_body, Some(body)).await
}

async fn fetch(
    d: &Discoverer,
    url: &str,
    port: Option<u16>,
    max_body: usize,
    post: Option<&str>,
) -> Result<Fetched, FetchError> {
    let mut current = parse_url(url)?;
    let mut port_override = port;
    let mut redirects = Vec::new();
    loop {
        let port = port_override
            .or(current.port)
            .unwrap_or(if current.https { 443 } else { 80 });
        let response = once(d, &current, port, max_body, post).await?;
        match response.status {
            200 => {
                return Ok(Fetched {
                    body: response.body,
                    redirects,
                });
            }
            301 | 302 | 303 | 307 | 308 => {
                let location = response
                    .location
                    .ok_or(FetchError::NoLocation(response.status))?;
                if redirects.len() >= MAX_REDIRECTS {
                    return Err(FetchError::TooManyRedirects);
                }
                let next = if location.starts_with('/') {
                    if location
                        .chars()
                        .any(|c| c.is_control() || c.is_whitespace())
                    {
                        return Err(FetchError::UnsafeUrl);
                    }
                    Url {
                        path: location.clone(),
                        ..current.clone()
                    }
                } else {
                    parse_url(&location)?
                };
                if current.https && !next.https {
                    return Err(FetchError::Downgrade(location));
                }
                let shown = format!(
                    "{}://{}{}{}",
                    if next.https { "https" } else { "http" },
                    next.host,
                    next.port.map(|p| format!(":{p}")).unwrap_or_default(),
                    next.path
                );
                redirects.push(shown);
                // A redirect to the same host keeps the configured port.
                if next.host != current.host || next.port.is_some() {
                    port_override = None;
                }
                current = next;
            }
            s => return Err(FetchError::Status(s)),
        }
    }
}

/// A response as discovery needs it: the body only for 200.
#[derive(Debug)]
struct Response {
    status: u16,
    location: Option<String>,
    body: Vec<u8>,
}

async fn once(
    d: &Discoverer,
    url: &Url,
    port: u16,
    max_body: usize,
    post: Option<&str>,
) -> Result<Response, FetchError> {
    let policy = d.policy;
    let addrs = d
        .resolver
        .resolve_checked(&url.host, port, |a| policy.check_web(a))
        .await
        .map_err(|e| {
            FetchError::Dns(i18n::prefixed(
                &i18n::verbatim(format!("{}: ", url.host)),
                &i18n::dns_reason(&e),
            ))
        })?;
    let mut last = FetchError::Dns(i18n::verbatim(format!("{}: no address", url.host)));
    for addr in addrs {
        let tcp = match connect(addr, STEP_TIMEOUT).await {
            Ok(tcp) => tcp,
            Err(e) => {
                last = e;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let request = request(url, post);
        if !url.https {
            return exchange(tcp, request, max_body, addr).await;
        }
        let name = super::tls::server_name(&url.host).map_err(FetchError::BadName)?;
        let tls = handshake(d.tls.strict.clone(), name, tcp, addr, STEP_TIMEOUT).await?;
        return exchange(EofIsEnd(tls), request, max_body, addr).await;
    }
    Err(last)
}

/// The TCP connect to one address, under its own timeout, so that an address that never
/// answers leaves time for the next one (the whole fetch stays under discovery's deadline).
async fn connect(addr: SocketAddr, limit: Duration) -> Result<TcpStream, FetchError> {
    let error = match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
        Ok(Ok(tcp)) => return Ok(tcp),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("timed out after {} ms", limit.as_millis()),
    };
    Err(FetchError::Connect { addr, error })
}

/// The TLS handshake (verified against the host name), under its own timeout: a server
/// that accepts the connection and then says nothing is a TLS failure, not a stall.
async fn handshake(
    config: std::sync::Arc<rustls::ClientConfig>,
    name: rustls::pki_types::ServerName<'static>,
    tcp: TcpStream,
    addr: SocketAddr,
    limit: Duration,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, FetchError> {
    let connector = tokio_rustls::TlsConnector::from(config);
    let error = match tokio::time::timeout(limit, connector.connect(name, tcp)).await {
        Ok(Ok(tls)) => return Ok(tls),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no handshake within {} ms (timed out)", limit.as_millis()),
    };
    Err(FetchError::Tls { addr, error })
}

/// The GET (or the XML POST) for `url`.
fn request(url: &Url, post: Option<&str>) -> hyper::Request<Full<Bytes>> {
    let host = match url.port {
        Some(p) => format!("{}:{p}", url.host),
        None => url.host.clone(),
    };
    let builder = hyper::Request::builder()
        .uri(url.path.as_str())
        .header(header::HOST, host)
        .header(header::USER_AGENT, "mailsetup-discover")
        .header(header::ACCEPT, "application/xml, text/xml, */*")
        .header(header::CONNECTION, "close");
    let built = match post {
        Some(body) => builder
            .method(hyper::Method::POST)
            .header(header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .body(Full::new(Bytes::from(body.to_owned()))),
        None => builder.body(Full::new(Bytes::new())),
    };
    // The path passed parse_url's checks (no spaces, no control characters), which are
    // stricter than a request target's; an unexpected refusal sends "/" instead.
    built.unwrap_or_else(|_| hyper::Request::new(Full::new(Bytes::new())))
}

/// One request and its response over `io`, by hyper's HTTP/1.1 client: the head at most
/// [`MAX_HEADER`] bytes, a 200's body at most `max_body`.
async fn exchange<IO>(
    io: IO,
    request: hyper::Request<Full<Bytes>>,
    max_body: usize,
    addr: SocketAddr,
) -> Result<Response, FetchError>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let broken = |e: hyper::Error| FetchError::Http {
        addr,
        error: e.to_string(),
    };
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .max_buf_size(MAX_HEADER)
        .handshake::<_, Full<Bytes>>(TokioIo::new(io))
        .await
        .map_err(broken)?;
    let work = async {
        let response = sender.send_request(request).await.map_err(broken)?;
        let status = response.status().as_u16();
        let location = match response.headers().get(header::LOCATION) {
            None => None,
            Some(v) => Some(v.to_str().map_err(|_| FetchError::UnsafeUrl)?.to_owned()),
        };
        let body = if status == 200 {
            Limited::new(response.into_body(), max_body)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        FetchError::TooLarge {
                            kib: max_body / 1024,
                        }
                    } else {
                        FetchError::Http {
                            addr,
                            error: e.to_string(),
                        }
                    }
                })?
                .to_bytes()
                .to_vec()
        } else {
            Vec::new()
        };
        Ok(Response {
            status,
            location,
            body,
        })
    };
    // The connection is driven here, not in a task of its own, so a discovery cut short
    // by its deadline drops it with everything else.
    let mut conn = std::pin::pin!(conn);
    let mut work = std::pin::pin!(work);
    tokio::select! {
        // The request is queued before the connection is first driven.
        biased;
        r = &mut work => r,
        c = &mut conn => match c {
            Ok(()) => work.await,
            Err(e) => Err(broken(e)),
        },
    }
}

/// A TLS stream whose peer may close without `close_notify` (many web servers do): such an
/// end reads as the end of the stream, and hyper judges what arrived (a body shorter than
/// its length is still an error).
struct EofIsEnd<S>(S);

impl<S: AsyncRead + Unpin> AsyncRead for EofIsEnd<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.0).poll_read(cx, buf) {
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => Poll::Ready(Ok(())),
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for EofIsEnd<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;

//! The one small HTTP/1.1 client of the proxy's own web requests (discovery's autoconfig
//! and Autodiscover documents, OAuth's code exchange): hyper's client over a connection
//! made here to an address the caller's egress rule accepted. It resolves once through the
//! proxy's resolver, connects to exactly a checked address (the TCP connect and the TLS
//! handshake each under their own timeout, per address; an address that cannot be reached
//! leaves its turn to the next one), verifies TLS against the caller's server name, bounds
//! the response head and body, and says what failed in a typed [`HttpError`].
//!
//! Once a connection is made, its answer (or its failure) is the answer: a request is never
//! sent twice (a POST carrying a one-time code must not be replayed). Redirects, the
//! request's headers and what an answer means are the caller's.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::dns::Resolver;
use crate::policy::PolicyError;

/// Where a request goes.
#[derive(Clone, Debug)]
pub struct Destination {
    /// The host name (or IP literal) to resolve.
    pub host: String,
    /// The port.
    pub port: u16,
    /// For HTTPS: the TLS configuration and the name the certificate must carry.
    pub tls: Option<(
        Arc<rustls::ClientConfig>,
        rustls::pki_types::ServerName<'static>,
    )>,
}

/// The bounds of one request.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long the TCP connect to one address may take.
    pub connect: Duration,
    /// How long the TLS handshake may take.
    pub handshake: Duration,
    /// The largest response head (hyper's read buffer; at least 8 KiB).
    pub max_head: usize,
    /// The largest body read.
    pub max_body: usize,
    /// Which responses' bodies are read (the others' are left unread).
    pub bodies: Bodies,
}

/// Which responses' bodies are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bodies {
    /// Only a 200's.
    OnlyOk,
    /// Every response's (an error's JSON too).
    All,
}

/// A response: status, head and the body read (empty when not read).
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The response head's fields.
    pub headers: hyper::HeaderMap,
    /// The body, at most [`Limits::max_body`] bytes.
    pub body: Bytes,
}

/// Why no response came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpError {
    /// The name did not resolve to an address the caller's rule allows (the resolver's or
    /// the policy's words).
    Resolve(String),
    /// No connection to any address.
    Connect {
        /// The last address tried.
        addr: SocketAddr,
        /// The system's words (or that it timed out).
        error: String,
    },
    /// The TLS handshake failed (certificate, protocol) or timed out.
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
    /// The body is larger than [`Limits::max_body`].
    TooLarge {
        /// The limit, in KiB.
        kib: usize,
    },
}

/// Sends `request` to `to`: resolved by `resolver`, each address checked by `allow`, the
/// first address that accepts the connection gets the request.
pub async fn send(
    resolver: &Resolver,
    allow: impl Fn(SocketAddr) -> Result<(), PolicyError>,
    to: &Destination,
    request: hyper::Request<Full<Bytes>>,
    limits: &Limits,
) -> Result<Response, HttpError> {
    let addrs = resolver
        .resolve_checked(&to.host, to.port, allow)
        .await
        .map_err(HttpError::Resolve)?;
    let mut last = HttpError::Resolve("no address".to_owned());
    for addr in addrs {
        let tcp = match connect(addr, limits.connect).await {
            Ok(tcp) => tcp,
            Err(e) => {
                last = e;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        return match &to.tls {
            None => exchange(tcp, request, limits, addr).await,
            Some((config, name)) => {
                let tls =
                    handshake(config.clone(), name.clone(), tcp, addr, limits.handshake).await?;
                exchange(EofIsEnd(tls), request, limits, addr).await
            }
        };
    }
    Err(last)
}

/// The TCP connect to one address, under its own timeout, so that an address that never
/// answers leaves time for the next one.
pub(crate) async fn connect(addr: SocketAddr, limit: Duration) -> Result<TcpStream, HttpError> {
    let error = match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
        Ok(Ok(tcp)) => return Ok(tcp),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("timed out after {} ms", limit.as_millis()),
    };
    Err(HttpError::Connect { addr, error })
}

/// The TLS handshake (verified against `name`), under its own timeout: a server that
/// accepts the connection and then says nothing is a TLS failure, not a stall.
pub(crate) async fn handshake(
    config: Arc<rustls::ClientConfig>,
    name: rustls::pki_types::ServerName<'static>,
    tcp: TcpStream,
    addr: SocketAddr,
    limit: Duration,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, HttpError> {
    let connector = tokio_rustls::TlsConnector::from(config);
    let error = match tokio::time::timeout(limit, connector.connect(name, tcp)).await {
        Ok(Ok(tls)) => return Ok(tls),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no handshake within {} ms (timed out)", limit.as_millis()),
    };
    Err(HttpError::Tls { addr, error })
}

/// One request and its response over `io`, by hyper's HTTP/1.1 client: the head at most
/// [`Limits::max_head`] bytes, a body (of the responses [`Limits::bodies`] names) at most
/// [`Limits::max_body`].
pub(crate) async fn exchange<IO>(
    io: IO,
    request: hyper::Request<Full<Bytes>>,
    limits: &Limits,
    addr: SocketAddr,
) -> Result<Response, HttpError>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let broken = |e: hyper::Error| HttpError::Http {
        addr,
        error: e.to_string(),
    };
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .max_buf_size(limits.max_head)
        .handshake::<_, Full<Bytes>>(TokioIo::new(io))
        .await
        .map_err(broken)?;
    let max_body = limits.max_body;
    let read_body = limits.bodies;
    let work = async {
        let response = sender.send_request(request).await.map_err(broken)?;
        let status = response.status().as_u16();
        let (head, body) = response.into_parts();
        let body = if status == 200 || read_body == Bodies::All {
            Limited::new(body, max_body)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        HttpError::TooLarge {
                            kib: max_body / 1024,
                        }
                    } else {
                        HttpError::Http {
                            addr,
                            error: e.to_string(),
                        }
                    }
                })?
                .to_bytes()
        } else {
            Bytes::new()
        };
        Ok(Response {
            status,
            headers: head.headers,
            body,
        })
    };
    // The connection is driven here, not in a task of its own, so a caller cut short by
    // its deadline drops it with everything else.
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

/// For tests: the client's end of an in-memory connection whose server reads one request
/// head, answers `raw` and closes.
#[cfg(test)]
pub(crate) fn answering(raw: &'static [u8]) -> tokio::io::DuplexStream {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (client, mut server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        // Read the request head first, as a server does.
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match server.read(&mut byte).await {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let _ = server.write_all(raw).await;
        let _ = server.shutdown().await;
        // Keep the stream open until the client has read everything.
        let mut sink = Vec::new();
        let _ = server.read_to_end(&mut sink).await;
    });
    client
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The answer to a POST from a server that sends `raw` and closes, read with `bodies`.
    async fn answer(raw: &'static [u8], bodies: Bodies) -> Result<Response, HttpError> {
        let client = answering(raw);
        let request = hyper::Request::post("/token")
            .header(hyper::header::HOST, "a.example")
            .body(Full::new(Bytes::from_static(b"code=x")))
            .unwrap();
        let limits = Limits {
            connect: Duration::from_secs(1),
            handshake: Duration::from_secs(1),
            max_head: 16 * 1024,
            max_body: 64,
            bodies,
        };
        let addr = SocketAddr::from(([192, 0, 2, 1], 443));
        exchange(client, request, &limits, addr).await
    }

    /// An error's JSON is read when the caller wants every body (the token endpoint's
    /// `{"error": ...}`), and left unread when it wants a 200's only (discovery).
    #[tokio::test]
    async fn bodies_are_read_as_the_caller_says_and_bounded() {
        const REFUSED: &[u8] =
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 25\r\n\r\n{\"error\":\"invalid_grant\"}";
        let all = answer(REFUSED, Bodies::All).await.unwrap();
        assert_eq!(all.status, 400);
        assert_eq!(&all.body[..], &b"{\"error\":\"invalid_grant\"}"[..]);
        let only_ok = answer(REFUSED, Bodies::OnlyOk).await.unwrap();
        assert_eq!((only_ok.status, only_ok.body.len()), (400, 0));
        let big: &'static [u8] = Box::leak(
            format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Length: 100\r\n\r\n{}",
                "x".repeat(100)
            )
            .into_bytes()
            .into_boxed_slice(),
        );
        assert_eq!(
            answer(big, Bodies::All).await.unwrap_err(),
            HttpError::TooLarge { kib: 0 }
        );
        assert_eq!(answer(big, Bodies::OnlyOk).await.unwrap().status, 400);
    }
}

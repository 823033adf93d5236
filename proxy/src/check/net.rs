//! The network layer of a check: resolve a name once, connect to exactly the addresses the
//! egress policy accepted, and a bounded line reader over plain TCP or TLS.
//!
//! Invariant: a connection is only ever opened to a `SocketAddr` that
//! [`crate::policy::EgressPolicy::check`] accepted (see [`resolve`] and [`connect`]); the
//! name is resolved once, by the proxy's one resolver ([`crate::dns`]), never a second
//! time. Every read has a deadline and every line and the whole session have a size cap,
//! so a hostile server (silence, one byte a second, a 10 MB line, endless garbage) costs at
//! most [`MAX_LINE`] + one read buffer of memory and ends in a [`NetError`] within the reply
//! timeout.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::TcpStream;

use crate::dns::{DnsError, Resolver};
use mailsetup_shared::api::Text;

use crate::i18n::{self, duration};
use crate::policy::{EgressPolicy, PolicyError};

/// Longest line (reply) accepted from a server, in bytes.
pub const MAX_LINE: usize = 64 * 1024;
/// Most bytes read from one server in one check.
pub const MAX_SESSION: usize = 1024 * 1024;
/// Longest server text kept for a report (`server_reply`, step details), in characters.
pub const MAX_REPLY_TEXT: usize = 512;

/// Bytes a connection's read buffer starts with (most server lines are shorter).
const INITIAL_BUFFER: usize = 256;

/// Beyond this capacity, a read buffer shrinks back once its long line is read.
const RETAINED_BUFFER: usize = 4096;

/// Why a network operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The operation did not finish in time.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// A line longer than [`MAX_LINE`].
    #[error("the server sent a line longer than {MAX_LINE} bytes")]
    LineTooLong,
    /// More than [`MAX_SESSION`] bytes in one check.
    #[error("the server sent more than {MAX_SESSION} bytes")]
    TooMuchData,
    /// The server sent bytes after its STARTTLS "go ahead", before the handshake.
    #[error("the server sent data before the TLS handshake")]
    EarlyData,
    /// STARTTLS on a connection that is encrypted already.
    #[error("already TLS")]
    AlreadyTls,
    /// A socket error.
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl NetError {
    /// What happened, in every language (the English is the `Display` text).
    pub fn text(&self) -> Text {
        let ru = match self {
            Self::Timeout(d) => format!("нет ответа за {}", duration(*d).ru),
            Self::Closed => "сервер закрыл соединение".to_owned(),
            Self::LineTooLong => format!("сервер прислал строку длиннее {MAX_LINE} байт"),
            Self::TooMuchData => format!("сервер прислал больше {MAX_SESSION} байт"),
            Self::EarlyData => "сервер прислал данные до начала TLS".to_owned(),
            Self::AlreadyTls => "соединение уже зашифровано".to_owned(),
            Self::Io(err) => format!("ошибка сети: {err}"),
        };
        Text::new(self.to_string(), ru)
    }
}

/// Why a name could not be turned into allowed addresses.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The name does not exist or has no address (`dns_not_found`).
    #[error("{host} does not resolve: {reason}")]
    NotFound {
        /// The name looked up.
        host: String,
        /// The resolver's words.
        reason: String,
    },
    /// The resolver gave no answer: it timed out, refused, failed or could not be reached
    /// (`dns_failed`).
    #[error("the DNS lookup of {host} failed: {reason}")]
    Failed {
        /// The name looked up.
        host: String,
        /// What went wrong.
        reason: String,
    },
    /// A resolved address is refused by the egress policy.
    #[error("{0}")]
    Policy(#[from] PolicyError),
}

impl ResolveError {
    /// What happened, in every language (the English is the `Display` text).
    pub fn text(&self) -> Text {
        match self {
            Self::NotFound { host, reason } => Text::new(
                self.to_string(),
                format!(
                    "имя {host} не находится в DNS: {}",
                    i18n::dns_reason(reason).ru
                ),
            ),
            Self::Failed { host, reason } => Text::new(
                self.to_string(),
                format!(
                    "поиск {host} в DNS не удался: {}",
                    i18n::dns_reason(reason).ru
                ),
            ),
            Self::Policy(err) => err.message(),
        }
    }
}

/// Resolves `host` (ASCII: punycode for international names) once with the proxy's
/// resolver, within `timeout` (the lookup is cancelled then), and checks every address
/// against `policy`; all must pass (a name that mixes public and private addresses is
/// refused as a whole). An IP literal (also `[::1]`) is used as is, without DNS.
pub async fn resolve(
    resolver: &Resolver,
    policy: &EgressPolicy,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, ResolveError> {
    policy.check_port(port)?;
    let ips = match tokio::time::timeout(timeout, resolver.ips(host)).await {
        Err(_) => {
            return Err(ResolveError::Failed {
                host: host.to_owned(),
                reason: format!("no answer within {timeout:?}"),
            });
        }
        Ok(Err(DnsError::NotFound(reason))) => {
            return Err(ResolveError::NotFound {
                host: host.to_owned(),
                reason,
            });
        }
        Ok(Err(DnsError::Failed(reason))) => {
            return Err(ResolveError::Failed {
                host: host.to_owned(),
                reason,
            });
        }
        Ok(Ok(ips)) => ips,
    };
    let mut unique: Vec<SocketAddr> = Vec::with_capacity(ips.len());
    for ip in ips {
        let addr = SocketAddr::new(ip, port);
        policy.check(addr)?;
        if !unique.contains(&addr) {
            unique.push(addr);
        }
    }
    Ok(unique)
}

/// Why no connection could be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Every address refused the connection.
    #[error("connection refused by {0}")]
    Refused(SocketAddr),
    /// The attempts did not finish in time.
    #[error("connecting to {0} timed out")]
    Timeout(SocketAddr),
    /// Another socket error.
    #[error("connecting to {addr} failed: {err}")]
    Other {
        /// The address tried last.
        addr: SocketAddr,
        /// What went wrong.
        err: io::Error,
    },
}

impl ConnectError {
    /// What happened, in every language (the English is the `Display` text).
    pub fn text(&self) -> Text {
        let ru = match self {
            Self::Refused(addr) => format!("{addr} отказал в соединении"),
            Self::Timeout(addr) => format!("соединение с {addr} не установилось вовремя"),
            Self::Other { addr, err } => format!("не удалось соединиться с {addr}: {err}"),
        };
        Text::new(self.to_string(), ru)
    }
}

/// Connects to the first of `addrs` (already accepted by the policy) that answers, each
/// attempt within `timeout`. Returns the stream and the address it connected to.
pub async fn connect(
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), ConnectError> {
    let mut last = None;
    for &addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok((stream, addr));
            }
            Ok(Err(err)) if err.kind() == io::ErrorKind::ConnectionRefused => {
                last = Some(ConnectError::Refused(addr));
            }
            Ok(Err(err)) => last = Some(ConnectError::Other { addr, err }),
            Err(_) => last = Some(ConnectError::Timeout(addr)),
        }
    }
    Err(last.unwrap_or(ConnectError::Other {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        err: io::Error::other("no address to connect to"),
    }))
}

/// A plain or TLS stream.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A connection to a mail server that reads whole lines, each within the reply timeout and
/// at most [`MAX_LINE`] long.
#[derive(Debug)]
pub struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    total: usize,
    reply_timeout: Duration,
}

impl Conn {
    /// Wraps a connected stream.
    pub fn new(stream: Stream, reply_timeout: Duration) -> Self {
        Self {
            stream,
            // Most replies are short lines: start small and grow only for a long one.
            buf: Vec::with_capacity(INITIAL_BUFFER),
            total: 0,
            reply_timeout,
        }
    }

    /// Whether the stream is TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// The TLS stream, when it is one.
    pub fn tls(&self) -> Option<&tokio_rustls::client::TlsStream<TcpStream>> {
        match &self.stream {
            Stream::Tls(s) => Some(s),
            Stream::Plain(_) => None,
        }
    }

    /// Gives the plain TCP stream back for a STARTTLS upgrade. Fails when bytes the server
    /// sent after its "go ahead" are waiting (they would be injected before the handshake)
    /// or when the stream is TLS already.
    pub fn into_plain(self) -> Result<(TcpStream, usize), NetError> {
        if !self.buf.is_empty() {
            return Err(NetError::EarlyData);
        }
        match self.stream {
            Stream::Plain(s) => Ok((s, self.total)),
            Stream::Tls(_) => Err(NetError::AlreadyTls),
        }
    }

    /// Wraps an upgraded stream, carrying over the bytes read so far.
    pub fn upgraded(stream: Stream, total: usize, reply_timeout: Duration) -> Self {
        let mut c = Self::new(stream, reply_timeout);
        c.total = total;
        c
    }

    /// Reads one line (without CR LF), lossily decoded, within the reply timeout.
    pub async fn read_line(&mut self) -> Result<String, NetError> {
        let timeout = self.reply_timeout;
        match tokio::time::timeout(timeout, self.read_line_inner()).await {
            Ok(r) => r,
            Err(_) => Err(NetError::Timeout(timeout)),
        }
    }

    async fn read_line_inner(&mut self) -> Result<String, NetError> {
        let mut scanned = 0;
        loop {
            if let Some(pos) = self.buf[scanned..].iter().position(|&b| b == b'\n') {
                let end = scanned + pos;
                let text = String::from_utf8_lossy(&self.buf[..=end])
                    .trim_end_matches(['\r', '\n'])
                    .to_owned();
                self.buf.drain(..=end);
                // A long line grew the buffer: give the memory back once it is read.
                if self.buf.capacity() > RETAINED_BUFFER && self.buf.len() <= INITIAL_BUFFER {
                    self.buf.shrink_to(INITIAL_BUFFER);
                }
                return Ok(text);
            }
            scanned = self.buf.len();
            if self.buf.len() > MAX_LINE {
                return Err(NetError::LineTooLong);
            }
            // At most one chunk per read, straight into the buffer.
            let n = (&mut self.stream)
                .take(4096)
                .read_buf(&mut self.buf)
                .await?;
            if n == 0 {
                return Err(NetError::Closed);
            }
            self.total += n;
            if self.total > MAX_SESSION {
                return Err(NetError::TooMuchData);
            }
        }
    }

    /// Reads exactly `n` bytes (an IMAP literal) within the reply timeout; `n` over
    /// [`MAX_LINE`] is refused before anything is read or allocated.
    pub async fn read_bytes(&mut self, n: usize) -> Result<Vec<u8>, NetError> {
        if n > MAX_LINE {
            return Err(NetError::LineTooLong);
        }
        let timeout = self.reply_timeout;
        let fut = async {
            while self.buf.len() < n {
                let got = (&mut self.stream)
                    .take(4096)
                    .read_buf(&mut self.buf)
                    .await?;
                if got == 0 {
                    return Err(NetError::Closed);
                }
                self.total += got;
                if self.total > MAX_SESSION {
                    return Err(NetError::TooMuchData);
                }
            }
            Ok(self.buf.drain(..n).collect())
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(NetError::Timeout(timeout)),
        }
    }

    /// The local address of the connection (for SMTP's EHLO).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.stream {
            Stream::Plain(s) => s.local_addr().ok(),
            Stream::Tls(s) => s.get_ref().0.local_addr().ok(),
        }
    }

    /// Writes `line` and CR LF and flushes, within the reply timeout. The line is not
    /// copied (it may hold a password).
    pub async fn send_line(&mut self, line: &str) -> Result<(), NetError> {
        let timeout = self.reply_timeout;
        let fut = async {
            self.stream.write_all(line.as_bytes()).await?;
            self.stream.write_all(b"\r\n").await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(NetError::Timeout(timeout)),
        }
    }

    /// Closes the connection politely, not waiting long.
    pub async fn shutdown(&mut self) {
        let _ = tokio::time::timeout(Duration::from_millis(500), self.stream.shutdown()).await;
    }
}

/// A server's words made safe to show: control characters replaced, at most
/// [`MAX_REPLY_TEXT`] characters.
pub fn clean_text(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_REPLY_TEXT)
        .collect();
    if s.chars().count() > MAX_REPLY_TEXT {
        out.push('…');
    }
    out.trim().to_owned()
}

/// What a probe saw before any TLS handshake of STARTTLS, or inside implicit TLS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Probed {
    /// The greeting, made safe to show (see [`clean_text`]).
    pub greeting: String,
    /// The capabilities (IMAP), CAPA tags (POP3) or EHLO keywords (SMTP) seen on the way
    /// to STARTTLS, or in an IMAP greeting; empty when none were asked for.
    pub capabilities: Vec<String>,
}

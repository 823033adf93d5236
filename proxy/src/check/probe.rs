//! Probing a mail server without logging in (discovery's guessing): connect to one address
//! the egress policy accepted, read the greeting, ask for the capabilities, STARTTLS (STLS
//! on POP3), make TLS, and report what was seen. The conversation is the check sessions'
//! own steps up to STARTTLS (`session::probe` over `imap::Imap`, `pop3::Pop3`,
//! `smtp::Smtp`, with their reply readers) over the bounded [`Conn`]; the connect, the handshake and every reply have their own timeout
//! ([`ProbeLimits`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use mailsetup_shared::api::{Protocol, Security, Text};
use rustls::ClientConfig;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::failure::Failure;
pub use super::net::Probed;
use super::net::{self, Conn, NetError, Stream};
use super::{imap, pop3, session, smtp, tls};
use crate::i18n;
use crate::policy::EgressPolicy;

/// The timeouts of one probe's steps.
#[derive(Clone, Copy, Debug)]
pub struct ProbeLimits {
    /// The TCP connect.
    pub connect: Duration,
    /// Each TLS handshake.
    pub tls: Duration,
    /// Each server reply.
    pub reply: Duration,
}

/// One server to probe.
#[derive(Clone, Debug)]
pub struct Probe<'a> {
    /// The protocol spoken.
    pub protocol: Protocol,
    /// Implicit TLS, or STARTTLS (`None` is probed like STARTTLS).
    pub security: Security,
    /// The host name (the TLS server name).
    pub host: &'a str,
    /// The port.
    pub port: u16,
    /// The TLS configuration of the handshake (discovery's records the certificate).
    pub tls: Arc<ClientConfig>,
    /// The step timeouts.
    pub limits: ProbeLimits,
}

impl Probe<'_> {
    /// The first of `ips` the egress policy accepts at this probe's port, or why none.
    pub fn address(&self, policy: &EgressPolicy, ips: &[IpAddr]) -> Result<SocketAddr, Text> {
        let mut refusal = None;
        for ip in ips {
            let addr = SocketAddr::new(*ip, self.port);
            match policy.check(addr) {
                Ok(()) => return Ok(addr),
                Err(e) => {
                    refusal.get_or_insert(e);
                }
            }
        }
        Err(refusal.map_or_else(
            || i18n::dns_reason("no address"),
            |e| i18n::dns_reason(format!("refused by the egress policy: {e}")),
        ))
    }

    /// Connects to `addr` (from [`Probe::address`]), has the protocol's conversation and
    /// makes TLS, the protocol's way. No login is tried.
    pub async fn run(&self, addr: SocketAddr) -> Result<Probed, Text> {
        let (tcp, _) = net::connect(&[addr], self.limits.connect)
            .await
            .map_err(|e| e.text())?;
        match self.security {
            Security::Tls => {
                let tls = self
                    .handshake(tcp, Text::new("TLS handshake", "TLS-рукопожатие"))
                    .await?;
                let mut conn = Conn::new(Stream::Tls(Box::new(tls)), self.limits.reply);
                converse(&mut conn, self.protocol, false).await
            }
            Security::Starttls | Security::None => {
                let mut conn = Conn::new(Stream::Plain(tcp), self.limits.reply);
                let probed = converse(&mut conn, self.protocol, true).await?;
                let (tcp, read) = conn.into_plain().map_err(|e| e.text())?;
                let tls = self
                    .handshake(
                        tcp,
                        Text::new(
                            "TLS handshake after STARTTLS",
                            "TLS-рукопожатие после STARTTLS",
                        ),
                    )
                    .await?;
                let mut conn = Conn::upgraded(Stream::Tls(Box::new(tls)), read, self.limits.reply);
                // Polite end; the answer does not matter.
                conn.shutdown().await;
                Ok(probed)
            }
        }
    }

    /// A TLS handshake over `tcp` within the TLS timeout; `what` names it in failures.
    async fn handshake(&self, tcp: TcpStream, what: Text) -> Result<TlsStream<TcpStream>, Text> {
        let name = tls::server_name(self.host)?;
        let connector = tokio_rustls::TlsConnector::from(self.tls.clone());
        let fail = |why: Text| {
            Text::new(
                format!("{}: {}", what.en, why.en),
                format!("{}: {}", what.ru, why.ru),
            )
        };
        match tokio::time::timeout(self.limits.tls, connector.connect(name, tcp)).await {
            Err(_) => Err(fail(NetError::Timeout(self.limits.tls).text())),
            Ok(Err(e)) => Err(fail(i18n::verbatim(e.to_string()))),
            Ok(Ok(s)) => Ok(s),
        }
    }
}

/// The protocol's conversation up to TLS: the greeting, and when `starttls`, the
/// capabilities, STARTTLS and the go-ahead.
async fn converse(conn: &mut Conn, protocol: Protocol, starttls: bool) -> Result<Probed, Text> {
    let r = match protocol {
        Protocol::Imap => session::probe::<imap::Imap>(conn, starttls).await,
        Protocol::Pop3 => session::probe::<pop3::Pop3>(conn, starttls).await,
        Protocol::Smtp => session::probe::<smtp::Smtp>(conn, starttls).await,
    };
    r.map_err(|f: Failure| f.detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection to a loopback server that sends `bytes` and closes.
    async fn serving(bytes: &'static [u8]) -> Conn {
        use tokio::io::AsyncWriteExt as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let _ = s.write_all(bytes).await;
            let _ = s.shutdown().await;
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        Conn::new(Stream::Plain(tcp), Duration::from_secs(5))
    }

    async fn greeting(bytes: &'static [u8], protocol: Protocol) -> Result<Probed, Text> {
        converse(&mut serving(bytes).await, protocol, false).await
    }

    #[tokio::test]
    async fn greetings_are_recognised() {
        let imap = b"* OK [CAPABILITY IMAP4rev1] ready\r\n";
        assert!(greeting(imap, Protocol::Imap).await.is_ok());
        let smtp = b"220-first\r\n220 ready\r\n";
        assert!(greeting(smtp, Protocol::Smtp).await.is_ok());
        let http = b"HTTP/1.1 400 Bad Request\r\n";
        assert!(greeting(http, Protocol::Pop3).await.is_err());
        let closed = b"";
        assert!(greeting(closed, Protocol::Imap).await.is_err());
    }

    /// A connection to a loopback server that greets with `greeting`, then answers each
    /// line it reads with the next of `answers`.
    async fn scripted(greeting: &'static str, answers: &'static [&'static str]) -> Conn {
        use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let (read, mut write) = s.into_split();
            let mut lines = tokio::io::BufReader::new(read).lines();
            write.write_all(greeting.as_bytes()).await.unwrap();
            for answer in answers {
                if lines.next_line().await.ok().flatten().is_none() {
                    return;
                }
                write.write_all(answer.as_bytes()).await.unwrap();
            }
            let _ = lines.next_line().await;
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        Conn::new(Stream::Plain(tcp), Duration::from_secs(5))
    }

    /// The STARTTLS probe of `protocol` against a [`scripted`] server.
    async fn starttls_probe(
        protocol: Protocol,
        greeting: &'static str,
        answers: &'static [&'static str],
    ) -> Result<Probed, Text> {
        converse(&mut scripted(greeting, answers).await, protocol, true).await
    }

    #[tokio::test]
    async fn a_refused_starttls_is_said_in_the_servers_words() {
        let pop3 = ["+OK\r\nSTLS\r\n.\r\n", "-ERR not now\r\n"].as_slice();
        let err = starttls_probe(Protocol::Pop3, "+OK ready\r\n", pop3).await;
        assert_eq!(err.unwrap_err().en, "STLS refused: -ERR not now");
        let smtp = ["250-mx\r\n250 STARTTLS\r\n", "454 TLS not available\r\n"].as_slice();
        let err = starttls_probe(Protocol::Smtp, "220 mx ESMTP\r\n", smtp).await;
        assert_eq!(
            err.unwrap_err().en,
            "STARTTLS refused: 454 TLS not available"
        );
        let imap = "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n";
        let probed = starttls_probe(Protocol::Imap, imap, &["a1 OK go\r\n"]).await;
        assert_eq!(probed.unwrap().capabilities, ["IMAP4REV1", "STARTTLS"]);
    }

    #[tokio::test]
    async fn starttls_not_offered_is_said_before_asking() {
        let imap = b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n";
        let err = converse(&mut serving(imap).await, Protocol::Imap, true)
            .await
            .unwrap_err();
        assert!(err.en.contains("does not offer STARTTLS"), "{err:?}");
    }
}

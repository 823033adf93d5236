//! One side of a check: connect to the checked addresses, make the TLS session (implicit
//! or after STARTTLS), run the protocol session, all under the side timeout; the steps go
//! to the side's recorder ([`SideRun`]). The steps of a session, the same for every
//! protocol, are [`SideRun::session`]'s: each is one call of a [`Session`] method, which
//! the recorder wraps.

use std::net::SocketAddr;

use mailsetup_shared::api::{
    DiagnosisCode, Lang, Protocol, Provider, Security, Side, SideReport, StepKind, StepReport, Text,
};
use tracing::Instrument as _;

use super::failure::Failure;
use super::net::{self, Conn, Stream};
use super::record::SideRun;
use super::request::Creds;
use super::session::Session;
use super::{Checker, Events, PreparedSide, imap, pop3, redact, sasl, smtp, tls};
use crate::i18n;

impl Checker {
    pub(super) async fn run_side(
        &self,
        prepared: PreparedSide,
        creds: &Creds<'_>,
        lang: Lang,
        provider: Option<&Provider>,
        events: Option<Events>,
    ) -> SideReport {
        let target = prepared.target;
        let span = tracing::info_span!(
            "check_side",
            host = %target.host,
            port = target.port,
            protocol = target.protocol.as_str()
        );
        let redactor = redact::Redactor::new(creds.username, creds.credential.secret())
            .with_payloads(&sasl::Exchange::payloads(creds.login(&target)));
        let mut run = SideRun::new(self, &target, provider, &redactor, lang, creds.token());
        let side = if target.protocol == Protocol::Smtp {
            Side::Outgoing
        } else {
            Side::Incoming
        };
        run.events = events.map(|tx| (tx, side));
        let result = async {
            let addrs = match prepared.resolved {
                Ok(addrs) => {
                    let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
                    run.push_step(StepReport {
                        step: StepKind::Resolve,
                        ok: true,
                        ms: prepared.resolve_ms,
                        detail: Some(list.join(", ")),
                    });
                    addrs
                }
                Err((code, reason)) => {
                    run.push_step(StepReport {
                        step: StepKind::Resolve,
                        ok: false,
                        ms: prepared.resolve_ms,
                        detail: Some(reason.get(lang).to_owned()),
                    });
                    return Err(Failure::new(code, reason));
                }
            };
            match tokio::time::timeout(self.limits.side, run.protocol(&addrs, creds)).await {
                Ok(r) => r,
                Err(_) => {
                    let code = match run.current {
                        Some((StepKind::Connect, _)) => DiagnosisCode::ConnectTimeout,
                        _ => DiagnosisCode::ServerTimeout,
                    };
                    let limit = i18n::duration(self.limits.side);
                    Err(Failure::new(
                        code,
                        Text::new(
                            format!("the whole check took longer than {}", limit.en),
                            format!("вся проверка заняла больше {}", limit.ru),
                        ),
                    ))
                }
            }
        }
        .instrument(span)
        .await;
        run.finish(result, lang)
    }
}

impl SideRun<'_> {
    pub(super) async fn protocol(
        &mut self,
        addrs: &[SocketAddr],
        creds: &Creds<'_>,
    ) -> Result<(), Failure> {
        let conn = self.open(addrs).await?;
        let login = creds.login(self.target);
        match self.target.protocol {
            Protocol::Imap => self.session::<imap::Imap>(conn, login, creds.email).await,
            Protocol::Pop3 => self.session::<pop3::Pop3>(conn, login, creds.email).await,
            Protocol::Smtp => self.session::<smtp::Smtp>(conn, login, creds.email).await,
        }
    }

    /// The steps of a protocol session on a connected (and, for implicit TLS, encrypted)
    /// `conn`: greeting, the capabilities, for STARTTLS the command, the TLS step and the
    /// capabilities again, login (IMAP lists its capabilities once more), the account's
    /// use, logout.
    #[tracing::instrument(skip_all, fields(host = %self.target.host, port = self.target.port, protocol = self.target.protocol.as_str()))]
    async fn session<S: Session>(
        &mut self,
        mut conn: Conn,
        login: sasl::Login<'_>,
        email: &str,
    ) -> Result<(), Failure> {
        let mut s = S::new(&conn);
        self.step(StepKind::Greeting, s.greeting(&mut conn)).await?;
        self.step(S::LIST, s.list(&mut conn)).await?;
        if self.target.security == Security::Starttls {
            self.step(StepKind::Starttls, s.starttls(&mut conn)).await?;
            conn = self.starttls_upgrade(conn).await?;
            self.step(S::LIST, s.list(&mut conn)).await?;
        }
        if !S::LIST_AFTER_LOGIN {
            self.capabilities = s.interesting();
        }
        self.step(StepKind::Auth, s.login(&mut conn, login)).await?;
        if S::LIST_AFTER_LOGIN {
            self.step(S::LIST, s.list(&mut conn)).await?;
            self.capabilities = s.interesting();
        }
        self.step(S::USE, s.use_account(&mut conn, email)).await?;
        self.logout(s.logout(&mut conn)).await;
        conn.shutdown().await;
        Ok(())
    }

    /// Connects, and makes the TLS session for implicit TLS.
    #[tracing::instrument(skip_all, fields(host = %self.target.host, port = self.target.port, protocol = self.target.protocol.as_str()))]
    pub(super) async fn open(&mut self, addrs: &[SocketAddr]) -> Result<Conn, Failure> {
        self.start(StepKind::Connect);
        let (tcp, addr) = match net::connect(addrs, self.limits().connect).await {
            Ok(ok) => ok,
            Err(err) => {
                let code = match &err {
                    net::ConnectError::Refused(_) => DiagnosisCode::ConnectRefused,
                    net::ConnectError::Timeout(_) => DiagnosisCode::ConnectTimeout,
                    // Unreachable networks look like a firewall dropping packets.
                    net::ConnectError::Other { err, .. }
                        if matches!(
                            err.kind(),
                            std::io::ErrorKind::HostUnreachable
                                | std::io::ErrorKind::NetworkUnreachable
                        ) =>
                    {
                        DiagnosisCode::ConnectTimeout
                    }
                    net::ConnectError::Other { .. } => DiagnosisCode::ConnectRefused,
                };
                return Err(self.fail(Failure::new(code, err.text())));
            }
        };
        self.done(Text::new(
            format!("connected to {addr}"),
            format!("соединение с {addr} установлено"),
        ));
        tracing::debug!(%addr, "connected");
        if self.target.security == Security::Tls {
            self.upgrade(tcp, 0).await
        } else {
            Ok(Conn::new(Stream::Plain(tcp), self.limits().reply))
        }
    }

    /// The TLS step: handshake over `tcp`, recording what the certificate says.
    pub(super) async fn upgrade(
        &mut self,
        tcp: tokio::net::TcpStream,
        read: usize,
    ) -> Result<Conn, Failure> {
        self.start(StepKind::Tls);
        let host = self.target.host.clone();
        match tls::handshake(&self.checker.tls, tcp, &host, self.limits().tls).await {
            Ok((stream, info)) => {
                let (version, names) = (
                    format!("{} {}", info.version, info.cipher),
                    info.names.join(", "),
                );
                let detail = Text::new(
                    format!("{version}, certificate for {names}"),
                    format!("{version}, сертификат для {names}"),
                );
                self.tls = Some(info);
                self.done(detail);
                Ok(Conn::upgraded(
                    Stream::Tls(Box::new(stream)),
                    read,
                    self.limits().reply,
                ))
            }
            Err(f) => {
                let mut failure = Failure::new(f.code, f.detail);
                if let Some(cert) = f.cert {
                    if f.code == DiagnosisCode::CertHostnameMismatch {
                        failure.cert_names = cert.names.clone();
                    }
                    self.tls = Some(cert);
                }
                Err(self.fail(failure))
            }
        }
    }

    /// STARTTLS after the server said "go ahead".
    pub(super) async fn starttls_upgrade(&mut self, conn: Conn) -> Result<Conn, Failure> {
        let (tcp, read) = match conn.into_plain() {
            Ok(x) => x,
            Err(err) => {
                self.start(StepKind::Tls);
                return Err(self.fail(Failure::new(DiagnosisCode::ProtocolError, err.text())));
            }
        };
        self.upgrade(tcp, read).await
    }
}

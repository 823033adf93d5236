//! Connection checks: log in to a user's IMAP/POP3/SMTP servers the way a mail app would,
//! record every step, and explain a failure in plain words.
//!
//! A check is validated and resolved up front ([`Checker::prepare`]): bad fields are
//! [`CheckError::Invalid`], targets the egress policy refuses are
//! [`CheckError::NotAllowed`], names that do not resolve become a `dns_not_found` side
//! report, and a resolver that gives no answer a `dns_failed` one. Then both sides run
//! concurrently ([`Checker::run`]), each under the side timeout, every step under its own
//! timeout (see [`net`]).
//!
//! Invariant: sockets go only to the addresses [`net::resolve`] checked against the policy;
//! the password is sent only by the protocol modules, never logged, never put in a report.
//!
//! The protocol clients are small and our own rather than async-imap and lettre, because
//! neither keeps our invariants: async-imap grows its read buffer until a response parses
//! (its `ImapStream` allows up to 512 MiB in the versions we read), so a 10 MB line is read
//! whole; lettre's `AsyncSmtpTransport` resolves the host name itself (we must connect to
//! the address the policy checked), its connection reads replies with an unbounded
//! `read_line`, and its error hides the rustls error behind `is_tls()`, which loses the
//! certificate diagnosis. Each client here reads through [`net::Conn`], which bounds every
//! line and the whole session and puts a deadline on every reply.

pub mod diag;
mod failure;
pub mod guard;
mod imap;
pub mod net;
mod pop3;
pub mod redact;
mod sasl;
mod smtp;
pub mod tls;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mailsetup_shared::api::{
    CheckRequest, CheckResponse, Credential, DiagnosisCode, IncomingProtocol, Lang, Protocol,
    Provider, Security, Side, SideReport, StepEvent, StepKind, StepReport, Text, TlsInfo,
};
use mailsetup_shared::email::EmailAddress;
use mailsetup_shared::validate::parse_host;
use tracing::Instrument as _;

use crate::config::Config;
use crate::dns::Resolver;
use crate::i18n::{self, verbatim};
use crate::policy::EgressPolicy;
use failure::{Failure, GREETING, bad_greeting, unclean_logout};
use net::{Conn, ResolveError, Stream};
use tls::TlsSettings;

/// Everything a check needs that lives as long as the proxy.
#[derive(Debug)]
pub struct Checker {
    resolver: Resolver,
    tls: TlsSettings,
    policy: EgressPolicy,
    allow_plaintext: bool,
    limits: Limits,
    logins: guard::LoginGuard,
}

/// The timeouts of a check.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// One TCP connect.
    pub connect: Duration,
    /// One TLS handshake.
    pub tls: Duration,
    /// Each server reply.
    pub reply: Duration,
    /// One whole side.
    pub side: Duration,
}

/// A request-level refusal (4xx).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// A field is malformed (400 `invalid_request`).
    #[error("{}", message.en)]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        message: Text,
    },
    /// Too many failed logins for this account lately (429 `rate_limited`).
    #[error("too many failed logins; retry after {retry_after} s")]
    TooManyFailedLogins {
        /// Seconds until a check of this account is accepted again.
        retry_after: u64,
    },
    /// The shared state store cannot be reached, so failed logins cannot be counted
    /// (503 `store_unavailable`).
    #[error(transparent)]
    StoreUnavailable(crate::store::StoreError),
    /// The policy forbids the target (403 `target_not_allowed`).
    #[error("{}", message.en)]
    NotAllowed {
        /// The field at fault.
        field: &'static str,
        /// Why.
        message: Text,
    },
}

impl Checker {
    /// Builds the checker from the operator's configuration (loads `--extra-ca` files),
    /// resolving names with `resolver` (the proxy's one resolver, shared with discovery).
    pub fn new(config: &Config, resolver: Resolver) -> anyhow::Result<Self> {
        Ok(Self {
            resolver,
            tls: TlsSettings::new(&config.extra_ca)?,
            policy: EgressPolicy {
                allow_any_port: config.allow_any_port,
                allow_private_targets: config.allow_private_targets,
            },
            allow_plaintext: config.allow_plaintext,
            logins: guard::LoginGuard::new(
                config.max_failed_logins,
                config.failed_login_window.get(),
            ),
            limits: Limits {
                connect: config.connect_timeout.get(),
                tls: config.tls_timeout.get(),
                reply: config.reply_timeout.get(),
                side: config.side_timeout.get(),
            },
        })
    }

    /// Counts failed logins in `store` (shared by replicas when it is Redis).
    #[must_use]
    pub fn with_store(mut self, config: &Config, store: crate::store::SharedStore) -> Self {
        self.logins = guard::LoginGuard::with_store(
            config.max_failed_logins,
            config.failed_login_window.get(),
            store,
        );
        self
    }

    /// Validates, resolves and runs a whole check.
    pub async fn check(
        &self,
        req: &CheckRequest,
        lang: Lang,
        provider: Option<&Provider>,
    ) -> Result<CheckResponse, CheckError> {
        let prepared = self.prepare(req).await?;
        Ok(Box::pin(self.run(req, prepared, lang, provider, None)).await)
    }

    /// Validates the request and resolves both targets once, checking every address
    /// against the egress policy.
    pub async fn prepare(&self, req: &CheckRequest) -> Result<Prepared, CheckError> {
        validate(req)?;
        let mut targets = Vec::new();
        if let Some(inc) = &req.incoming {
            targets.push((
                "incoming",
                Target::new(inc.protocol.into(), &inc.host, inc.port, inc.security),
            ));
        }
        if let Some(out) = &req.outgoing {
            targets.push((
                "outgoing",
                Target::new(Protocol::Smtp, &out.host, out.port, out.security),
            ));
        }
        for (side, target) in &targets {
            if target.security == Security::None && !self.allow_plaintext {
                return Err(CheckError::NotAllowed {
                    field: if *side == "incoming" {
                        "incoming.security"
                    } else {
                        "outgoing.security"
                    },
                    message: Text::new(
                        "This proxy does not send passwords without encryption; choose TLS or \
                         STARTTLS.",
                        "Этот сервис не передаёт пароли без шифрования; выберите TLS или \
                         STARTTLS.",
                    ),
                });
            }
        }
        // Both names are looked up at the same time.
        let mut it = targets.into_iter();
        let sides = match (it.next(), it.next()) {
            (Some(a), Some(b)) => {
                let (a, b) = tokio::join!(self.prepare_side(a), self.prepare_side(b));
                vec![a?, b?]
            }
            (Some(a), None) => vec![self.prepare_side(a).await?],
            _ => Vec::new(),
        };
        // The failed-login guard counts per login and server (name and addresses), so no
        // field the client chooses freely resets it.
        let login = login_name(req);
        let mut sides = sides;
        for side in &mut sides {
            let ips: Vec<std::net::IpAddr> = side
                .resolved
                .as_ref()
                .map(|addrs| addrs.iter().map(SocketAddr::ip).collect())
                .unwrap_or_default();
            side.guard_keys = guard::LoginGuard::keys(login, &side.target.host, &ips);
            match self.logins.check_all(&side.guard_keys).await {
                Ok(()) => {}
                Err(guard::GuardError::Locked(wait)) => {
                    return Err(CheckError::TooManyFailedLogins {
                        retry_after: wait.as_secs().max(1),
                    });
                }
                Err(guard::GuardError::Store(err)) => {
                    return Err(CheckError::StoreUnavailable(err));
                }
            }
        }
        Ok(Prepared { sides })
    }

    /// Resolves one side's host once and checks every address against the policy.
    async fn prepare_side(
        &self,
        (side, target): (&'static str, Target),
    ) -> Result<PreparedSide, CheckError> {
        let started = Instant::now();
        let resolved = match net::resolve(
            &self.resolver,
            &self.policy,
            &target.host,
            target.port,
            self.limits.connect,
        )
        .await
        {
            Ok(addrs) => Ok(addrs),
            Err(ResolveError::Policy(err)) => {
                let field = match (side, err) {
                    ("incoming", crate::policy::PolicyError::PortNotAllowed(_)) => "incoming.port",
                    (_, crate::policy::PolicyError::PortNotAllowed(_)) => "outgoing.port",
                    ("incoming", _) => "incoming.host",
                    _ => "outgoing.host",
                };
                return Err(CheckError::NotAllowed {
                    field,
                    message: err.message(),
                });
            }
            Err(err @ ResolveError::NotFound { .. }) => {
                Err((DiagnosisCode::DnsNotFound, err.text()))
            }
            Err(err @ ResolveError::Failed { .. }) => Err((DiagnosisCode::DnsFailed, err.text())),
        };
        Ok(PreparedSide {
            target,
            resolved,
            resolve_ms: elapsed_ms(started),
            guard_keys: Vec::new(),
        })
    }

    /// Runs the prepared sides concurrently; when `events` is given, every step is also
    /// sent there as soon as it ends.
    pub async fn run(
        &self,
        req: &CheckRequest,
        prepared: Prepared,
        lang: Lang,
        provider: Option<&Provider>,
        events: Option<Events>,
    ) -> CheckResponse {
        let email = network_address(&req.email);
        let Some(credential) = req.credential() else {
            // `prepare` validated the request; a request without one credential has no
            // side to run.
            return CheckResponse {
                ok: false,
                incoming: None,
                outgoing: None,
            };
        };
        let creds = Creds {
            email: &email,
            username: login_name(req),
            credential,
        };
        let run_one = |side: PreparedSide| {
            let events = events.clone();
            let creds = &creds;
            Box::pin(async move { self.run_side(side, creds, lang, provider, events).await })
        };
        let keys: Vec<Vec<guard::AccountKey>> = prepared
            .sides
            .iter()
            .map(|side| side.guard_keys.clone())
            .collect();
        let mut sides = prepared.sides.into_iter();
        let (first, second) = (sides.next().map(run_one), sides.next().map(run_one));
        let (first, second) = tokio::join!(optional(first), optional(second));
        let (mut incoming, mut outgoing) = (None, None);
        for (report, keys) in [first, second].into_iter().flatten().zip(&keys) {
            // Count refused logins (the server saw the password and said no); a login that
            // worked forgets earlier failures of that login at that server.
            let auth = report.steps.iter().find(|s| s.step == StepKind::Auth);
            if let Some(auth) = auth {
                let refused = !auth.ok
                    && report
                        .diagnosis
                        .as_ref()
                        .is_some_and(|d| d.server_reply.is_some());
                if (auth.ok || refused)
                    && let Err(err) = self.logins.record_all(keys, refused).await
                {
                    tracing::warn!(%err, "a login outcome could not be recorded");
                }
            }
            if report.protocol == Protocol::Smtp {
                outgoing = Some(report);
            } else {
                incoming = Some(report);
            }
        }
        let ok = incoming.as_ref().is_none_or(|r: &SideReport| r.ok)
            && outgoing.as_ref().is_none_or(|r: &SideReport| r.ok);
        CheckResponse {
            ok,
            incoming,
            outgoing,
        }
    }

    async fn run_side(
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
        let mut run = SideRun::new(self, &target, provider, &redactor, lang);
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

/// Where live step events go (`POST /api/v1/check/stream`).
pub type Events = tokio::sync::mpsc::UnboundedSender<StepEvent>;

/// A validated request, resolved.
#[derive(Debug)]
pub struct Prepared {
    sides: Vec<PreparedSide>,
}

#[derive(Debug)]
struct PreparedSide {
    target: Target,
    /// The checked addresses, or the diagnosis (`dns_not_found`, `dns_failed`) and why.
    resolved: Result<Vec<SocketAddr>, (DiagnosisCode, Text)>,
    resolve_ms: u64,
    /// This side's keys in the failed-login guard.
    guard_keys: Vec<guard::AccountKey>,
}

/// One server to check.
#[derive(Clone, Debug)]
struct Target {
    protocol: Protocol,
    /// The host for the network: ASCII (punycode for international names); what is
    /// resolved, the TLS server name and the name certificates are checked against.
    host: String,
    /// The host for people (reports): the name in Unicode, or the IP address.
    display: String,
    port: u16,
    security: Security,
}

impl Target {
    /// A target from a validated request field.
    fn new(protocol: Protocol, host: &str, port: u16, security: Security) -> Self {
        let (host, display) = match parse_host(host) {
            Ok(h) => (h.ascii().to_owned(), h.unicode().to_owned()),
            // Not reached after `validate`; kept as typed.
            Err(_) => (host.trim().to_owned(), host.trim().to_owned()),
        };
        Self {
            protocol,
            host,
            display,
            port,
            security,
        }
    }
}

/// Who logs in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Creds<'a> {
    email: &'a str,
    username: &'a str,
    credential: Credential<'a>,
}

impl Creds<'_> {
    /// The login for a SASL exchange with `target`.
    fn login<'t>(&'t self, target: &'t Target) -> sasl::Login<'t> {
        sasl::Login {
            username: self.username,
            credential: self.credential,
            host: &target.host,
            port: target.port,
        }
    }

    /// Whether the login is with an OAuth token.
    fn token(&self) -> bool {
        matches!(self.credential, Credential::OAuth2 { .. })
    }
}

/// The running record of one side.
struct SideRun<'a> {
    checker: &'a Checker,
    target: &'a Target,
    provider: Option<&'a Provider>,
    steps: Vec<StepReport>,
    current: Option<(StepKind, Instant)>,
    tls: Option<TlsInfo>,
    capabilities: Vec<String>,
    tag: u32,
    events: Option<(Events, Side)>,
    /// Takes the secret out of every server text before it is recorded.
    redactor: &'a redact::Redactor,
    /// The language step details are written in.
    lang: Lang,
}

impl<'a> SideRun<'a> {
    fn new(
        checker: &'a Checker,
        target: &'a Target,
        provider: Option<&'a Provider>,
        redactor: &'a redact::Redactor,
        lang: Lang,
    ) -> Self {
        Self {
            checker,
            target,
            provider,
            redactor,
            lang,
            steps: Vec::new(),
            current: None,
            tls: None,
            capabilities: Vec::new(),
            tag: 0,
            events: None,
        }
    }

    fn limits(&self) -> Limits {
        self.checker.limits
    }

    /// Starts a step (ending an unfinished one as failed).
    fn start(&mut self, step: StepKind) {
        self.close_current(false, None);
        self.current = Some((step, Instant::now()));
    }

    /// Starts the greeting step and reads the server's first line (IMAP, POP3).
    async fn read_greeting(&mut self, conn: &mut Conn) -> Result<String, Failure> {
        self.start(StepKind::Greeting);
        conn.read_line()
            .await
            .map_err(|e| self.fail(Failure::net(e, GREETING)))
    }

    /// Ends the current step as done, with `detail` in the request's language.
    fn done(&mut self, detail: Text) {
        self.close_current(true, Some(detail));
    }

    /// Ends the current step as done, quoting the server (its words are not translated).
    fn quote(&mut self, server_words: String) {
        self.done(verbatim(server_words));
    }

    /// Ends the current step as failed and hands the failure on.
    fn fail(&mut self, failure: Failure) -> Failure {
        self.close_current(false, Some(failure.detail.clone()));
        failure
    }

    fn close_current(&mut self, ok: bool, detail: Option<Text>) {
        if let Some((step, started)) = self.current.take() {
            let detail = detail.map(|d| d.get(self.lang).to_owned());
            self.push_step(StepReport {
                step,
                ok,
                ms: elapsed_ms(started),
                detail,
            });
        }
    }

    /// Records a finished step and tells the live listener, if any. The detail may quote
    /// the server, so the secret is taken out first.
    fn push_step(&mut self, mut report: StepReport) {
        report.detail = report.detail.map(|d| self.redactor.text(&d));
        if let Some((tx, side)) = &self.events {
            let _ = tx.send(StepEvent {
                side: *side,
                step: report.clone(),
            });
        }
        self.steps.push(report);
    }

    /// Classifies a server's refusal with the shared rules.
    fn classify(&self, stage: diag::Stage, reply: &str) -> Failure {
        let code = diag::classify_reply(&diag::ReplyContext {
            protocol: self.target.protocol,
            stage,
            reply,
            provider: self.provider,
        });
        Failure::reply(code, reply)
    }

    /// Classifies a refused login: the server's words (with a token server's JSON error)
    /// by the shared rules, then what a refusal means for a token (see [`diag::login`]).
    fn refused_login(
        &self,
        creds: &Creds<'_>,
        reply: &str,
        error: Option<&sasl::OAuthError>,
    ) -> Failure {
        let words = match error {
            Some(e) if !e.text.is_empty() => format!("{reply}\n{}", e.text),
            _ => reply.to_owned(),
        };
        let mut f = self.classify(diag::Stage::Auth, &words);
        f.code = diag::login(f.code, creds.token(), error);
        f
    }

    /// The next command tag (IMAP).
    fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("a{}", self.tag)
    }

    async fn protocol(&mut self, addrs: &[SocketAddr], creds: &Creds<'_>) -> Result<(), Failure> {
        let conn = self.open(addrs).await?;
        match self.target.protocol {
            Protocol::Imap => imap::run(self, conn, creds).await,
            Protocol::Pop3 => pop3::run(self, conn, creds).await,
            Protocol::Smtp => smtp::run(self, conn, creds).await,
        }
    }

    /// Connects, and makes the TLS session for implicit TLS.
    #[tracing::instrument(skip_all, fields(host = %self.target.host, port = self.target.port, protocol = self.target.protocol.as_str()))]
    async fn open(&mut self, addrs: &[SocketAddr]) -> Result<Conn, Failure> {
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
    async fn upgrade(&mut self, tcp: tokio::net::TcpStream, read: usize) -> Result<Conn, Failure> {
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
    async fn starttls_upgrade(&mut self, conn: Conn) -> Result<Conn, Failure> {
        let (tcp, read) = match conn.into_plain() {
            Ok(x) => x,
            Err(err) => {
                self.start(StepKind::Tls);
                return Err(self.fail(Failure::new(DiagnosisCode::ProtocolError, err.text())));
            }
        };
        self.upgrade(tcp, read).await
    }

    /// Whether sending a password now would go unencrypted.
    fn plaintext(&self, conn: &Conn) -> bool {
        !conn.is_tls()
    }

    fn finish(mut self, result: Result<(), Failure>, lang: Lang) -> SideReport {
        let diagnosis = match result {
            Ok(()) => {
                self.close_current(true, None);
                None
            }
            Err(failure) => {
                if self.current.is_some() {
                    self.close_current(false, Some(failure.detail.clone()));
                }
                tracing::info!(code = failure.code.as_str(), "check side failed");
                let reply = failure.server_reply.map(|r| self.redactor.text(&r));
                let mut d = diag::explain(failure.code, lang, self.provider, reply);
                d.cert_names = failure.cert_names;
                Some(d)
            }
        };
        SideReport {
            ok: diagnosis.is_none(),
            protocol: self.target.protocol,
            host: self.target.display.clone(),
            port: self.target.port,
            security: self.target.security,
            steps: self.steps,
            diagnosis,
            tls: self.tls,
            capabilities: self
                .capabilities
                .iter()
                .map(|c| self.redactor.text(c))
                .collect(),
        }
    }
}

/// The address as the network needs it (SMTP's `MAIL FROM`): an international domain in
/// punycode, since servers without SMTPUTF8 refuse UTF-8 there. An address the shared
/// parser does not take (it passed `validate`) is used as sent.
fn network_address(email: &str) -> String {
    match EmailAddress::parse(email) {
        Ok(address) => address.as_str().to_owned(),
        Err(_) => email.trim().to_owned(),
    }
}

/// The login name of a request: `username`, or the address when it is absent or blank.
fn login_name(req: &CheckRequest) -> &str {
    req.username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(req.email.trim())
}

/// Awaits `f` when there is one.
async fn optional<F: Future>(f: Option<F>) -> Option<F::Output> {
    match f {
        Some(f) => Some(f.await),
        None => None,
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Checks the fields of a request (400 on the first bad one).
pub fn validate(req: &CheckRequest) -> Result<(), CheckError> {
    let invalid = |field: &'static str, en: &str, ru: &str| CheckError::Invalid {
        field,
        message: Text::new(en, ru),
    };
    let email = req.email.trim();
    let (local, domain) = email.split_once('@').unwrap_or(("", ""));
    if email.is_empty()
        || email.len() > 254
        || local.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || email
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>')
    {
        return Err(invalid(
            "email",
            "Enter a mail address like name@example.com.",
            "Введите адрес почты, например name@example.com.",
        ));
    }
    if let Some(u) = &req.username
        && (u.len() > 254 || u.chars().any(char::is_control))
    {
        return Err(invalid(
            "username",
            "The user name is too long or has control characters.",
            "Имя пользователя слишком длинное или содержит управляющие символы.",
        ));
    }
    validate_credential(req)?;
    if req.incoming.is_none() && req.outgoing.is_none() {
        return Err(invalid(
            "incoming",
            "Give an incoming or an outgoing server (or both).",
            "Укажите сервер входящей или исходящей почты (или оба).",
        ));
    }
    // The same host rules as the wizard's: a name in Unicode or punycode, or an IP address.
    let host_ok = |h: &str| parse_host(h).is_ok();
    if let Some(inc) = &req.incoming {
        if !host_ok(&inc.host) {
            return Err(invalid(
                "incoming.host",
                "Enter a server name like imap.example.com.",
                "Введите имя сервера, например imap.example.com.",
            ));
        }
        if inc.port == 0 {
            return Err(invalid(
                "incoming.port",
                "The port must be between 1 and 65535.",
                "Порт должен быть от 1 до 65535.",
            ));
        }
        let _: IncomingProtocol = inc.protocol;
    }
    if let Some(out) = &req.outgoing {
        if !host_ok(&out.host) {
            return Err(invalid(
                "outgoing.host",
                "Enter a server name like smtp.example.com.",
                "Введите имя сервера, например smtp.example.com.",
            ));
        }
        if out.port == 0 {
            return Err(invalid(
                "outgoing.port",
                "The port must be between 1 and 65535.",
                "Порт должен быть от 1 до 65535.",
            ));
        }
    }
    Ok(())
}

/// Checks that the request logs in with exactly one credential, and that it can go on a
/// protocol line.
fn validate_credential(req: &CheckRequest) -> Result<(), CheckError> {
    let invalid = |field: &'static str, en: &str, ru: &str| CheckError::Invalid {
        field,
        message: Text::new(en, ru),
    };
    let bad_chars = |s: &str| s.chars().any(|c| c == '\r' || c == '\n' || c == '\0');
    if req.password.is_some() && req.auth.is_some() {
        return Err(invalid(
            "auth",
            "Give either a password or an auth (OAuth token), not both.",
            "Укажите либо пароль, либо auth (токен OAuth), но не оба сразу.",
        ));
    }
    match req.credential() {
        None => Err(invalid(
            "password",
            "Enter the password.",
            "Введите пароль.",
        )),
        Some(Credential::Password(pw)) => {
            let field = if req.auth.is_some() {
                "auth.password"
            } else {
                "password"
            };
            let pw = pw.expose();
            if pw.is_empty() {
                return Err(invalid(field, "Enter the password.", "Введите пароль."));
            }
            if pw.len() > 1024 || bad_chars(pw) {
                return Err(invalid(
                    field,
                    "The password is too long or has line breaks.",
                    "Пароль слишком длинный или содержит переводы строк.",
                ));
            }
            Ok(())
        }
        Some(Credential::OAuth2 { token, .. }) => {
            let token = token.expose();
            // RFC 6750 b64token characters only; tokens of big providers are a few KB.
            let b64token = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
            if token.is_empty() || token.len() > 8192 || !token.chars().all(b64token) {
                return Err(invalid(
                    "auth.access_token",
                    "The access token is empty, too long or not a bearer token.",
                    "Токен доступа пустой, слишком длинный или не является bearer-токеном.",
                ));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailsetup_shared::api::{Auth, IncomingTarget, OutgoingTarget};
    use mailsetup_shared::secret::{Password, Token};

    fn request() -> CheckRequest {
        CheckRequest {
            email: "alice@example.com".to_owned(),
            username: None,
            password: Some(Password::new("abcd efgh")),
            auth: None,
            incoming: Some(IncomingTarget {
                protocol: IncomingProtocol::Imap,
                host: "imap.example.com".to_owned(),
                port: 993,
                security: Security::Tls,
            }),
            outgoing: Some(OutgoingTarget {
                host: "smtp.example.com".to_owned(),
                port: 465,
                security: Security::Tls,
            }),
        }
    }

    #[test]
    fn validation_names_the_field_at_fault() {
        assert_eq!(validate(&request()), Ok(()));
        let field = |f: fn(&mut CheckRequest)| {
            let mut r = request();
            f(&mut r);
            match validate(&r) {
                Err(CheckError::Invalid { field, .. }) => field,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(field(|r| r.email = "alice".to_owned()), "email");
        assert_eq!(field(|r| r.email = "a@b".to_owned()), "email");
        assert_eq!(field(|r| r.email = "a@b.c>\r\nRCPT".to_owned()), "email");
        assert_eq!(
            field(|r| r.username = Some("a\r\nb".to_owned())),
            "username"
        );
        assert_eq!(field(|r| r.password = Some(Password::new(""))), "password");
        assert_eq!(
            field(|r| r.password = Some(Password::new("a\nb"))),
            "password"
        );
        assert_eq!(
            field(|r| {
                r.incoming = None;
                r.outgoing = None;
            }),
            "incoming"
        );
        assert_eq!(
            field(|r| r.incoming.as_mut().unwrap().host = "a b".to_owned()),
            "incoming.host"
        );
        assert_eq!(
            field(|r| r.outgoing.as_mut().unwrap().port = 0),
            "outgoing.port"
        );
    }

    #[test]
    fn hosts_follow_the_shared_rules_in_unicode_and_punycode() {
        let with_host = |host: &str| {
            let mut r = request();
            r.incoming.as_mut().unwrap().host = host.to_owned();
            r.outgoing.as_mut().unwrap().host = host.to_owned();
            validate(&r)
        };
        for good in [
            "imap.пример.рф",
            "IMAP.ПРИМЕР.РФ",
            "imap.xn--e1afmkfd.xn--p1ai",
            "[::1]",
            "192.0.2.1",
        ] {
            assert_eq!(with_host(good), Ok(()), "{good}");
        }
        for bad in [
            "xn--zz.example.com",
            "imap.example.com:993",
            "imap_1.example.com",
        ] {
            assert!(
                matches!(
                    with_host(bad),
                    Err(CheckError::Invalid {
                        field: "incoming.host",
                        ..
                    })
                ),
                "{bad}"
            );
        }
        let t = Target::new(Protocol::Imap, " IMAP.Пример.рф. ", 993, Security::Tls);
        assert_eq!(t.host, "imap.xn--e1afmkfd.xn--p1ai");
        assert_eq!(t.display, "imap.пример.рф");
        assert_eq!(
            network_address("anna@Пример.РФ"),
            "anna@xn--e1afmkfd.xn--p1ai"
        );
    }

    #[test]
    fn server_text_is_cleaned_and_shortened() {
        assert_eq!(net::clean_text("NO\tbad\u{7}"), "NO bad");
        let long = "x".repeat(10_000);
        assert_eq!(
            net::clean_text(&long).chars().count(),
            net::MAX_REPLY_TEXT + 1
        );
    }

    #[test]
    fn a_request_logs_in_with_one_credential() {
        let token = |t: &str| Auth::Oauth2 {
            access_token: Token::new(t),
            sasl: None,
        };
        let with = |password: Option<&str>, auth: Option<Auth>| {
            let mut r = request();
            r.password = password.map(Password::new);
            r.auth = auth;
            match validate(&r) {
                Ok(()) => "ok",
                Err(CheckError::Invalid { field, .. }) => field,
                Err(other) => panic!("{other:?}"),
            }
        };
        assert_eq!(with(Some("pw"), None), "ok");
        assert_eq!(with(None, Some(token("ya29.a0-_~+/="))), "ok");
        assert_eq!(
            with(
                None,
                Some(Auth::Password {
                    password: Password::new("pw")
                })
            ),
            "ok"
        );
        assert_eq!(with(None, None), "password");
        assert_eq!(with(Some("pw"), Some(token("t"))), "auth");
        assert_eq!(with(None, Some(token(""))), "auth.access_token");
        assert_eq!(
            with(None, Some(token("a\r\nA1 LOGOUT"))),
            "auth.access_token"
        );
        assert_eq!(with(None, Some(token("a b"))), "auth.access_token");
        assert_eq!(
            with(None, Some(token(&"x".repeat(8193)))),
            "auth.access_token"
        );
        assert_eq!(
            with(
                None,
                Some(Auth::Password {
                    password: Password::new("")
                })
            ),
            "auth.password"
        );
    }
}

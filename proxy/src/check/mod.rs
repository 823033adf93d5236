//! Connection checks: log in to a user's IMAP/POP3/SMTP servers the way a mail app would,
//! record every step, and explain a failure in plain words.
//!
//! A check is validated and resolved up front ([`Checker::prepare`]): bad fields are
//! [`CheckError::Invalid`], targets the egress policy refuses are
//! [`CheckError::NotAllowed`], names that do not resolve become a `dns_not_found` side
//! report. Then both sides run concurrently ([`Checker::run`]), each under the side
//! timeout, every step under its own timeout (see [`net`]).
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
pub mod guard;
mod imap;
pub mod net;
mod pop3;
mod smtp;
pub mod tls;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mailsetup_shared::api::{
    CheckRequest, CheckResponse, DiagnosisCode, IncomingProtocol, Lang, Protocol, Provider,
    Security, SideReport, StepKind, StepReport, TlsInfo,
};
use mailsetup_shared::secret::Password;
use tracing::Instrument as _;

use crate::config::Config;
use crate::policy::EgressPolicy;
use net::{Conn, NetError, ResolveError, Stream};
use tls::TlsSettings;

/// Everything a check needs that lives as long as the proxy.
#[derive(Debug)]
pub struct Checker {
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
    #[error("{message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Too many failed logins for this account lately (429 `rate_limited`).
    #[error("{message}")]
    TooManyFailedLogins {
        /// Seconds until a check of this account is accepted again.
        retry_after: u64,
        /// Why.
        message: String,
    },
    /// The shared state store cannot be reached, so failed logins cannot be counted
    /// (503 `store_unavailable`).
    #[error(transparent)]
    StoreUnavailable(crate::store::StoreError),
    /// The policy forbids the target (403 `target_not_allowed`).
    #[error("{message}")]
    NotAllowed {
        /// The field at fault.
        field: &'static str,
        /// Why.
        message: String,
    },
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.001)).unwrap_or(Duration::from_secs(30))
}

impl Checker {
    /// Builds the checker from the operator's configuration (loads `--extra-ca` files).
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            tls: TlsSettings::new(&config.extra_ca)?,
            policy: EgressPolicy {
                allow_any_port: config.allow_any_port,
                allow_private_targets: config.allow_private_targets,
            },
            allow_plaintext: config.allow_plaintext,
            logins: guard::LoginGuard::new(
                config.max_failed_logins,
                secs(config.failed_login_window),
            ),
            limits: Limits {
                connect: secs(config.connect_timeout),
                tls: secs(config.tls_timeout),
                reply: secs(config.reply_timeout),
                side: secs(config.side_timeout),
            },
        })
    }

    /// Counts failed logins in `store` (shared by replicas when it is Redis).
    #[must_use]
    pub fn with_store(mut self, config: &Config, store: crate::store::SharedStore) -> Self {
        self.logins = guard::LoginGuard::with_store(
            config.max_failed_logins,
            secs(config.failed_login_window),
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
        let locked = match self.logins.check(&account_key(req)).await {
            Ok(()) => None,
            Err(guard::GuardError::Locked(wait)) => Some(wait),
            Err(guard::GuardError::Store(err)) => return Err(CheckError::StoreUnavailable(err)),
        };
        if let Some(wait) = locked {
            let minutes = wait.as_secs().div_ceil(60).max(1);
            return Err(CheckError::TooManyFailedLogins {
                retry_after: wait.as_secs().max(1),
                message: format!(
                    "This account was refused several times in the last minutes. To keep the \
                     provider from locking it, try again in {minutes} min, after checking the \
                     password."
                ),
            });
        }
        let mut targets = Vec::new();
        if let Some(inc) = &req.incoming {
            targets.push((
                "incoming",
                Target {
                    protocol: inc.protocol.into(),
                    host: inc.host.trim().to_owned(),
                    port: inc.port,
                    security: inc.security,
                },
            ));
        }
        if let Some(out) = &req.outgoing {
            targets.push((
                "outgoing",
                Target {
                    protocol: Protocol::Smtp,
                    host: out.host.trim().to_owned(),
                    port: out.port,
                    security: out.security,
                },
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
                    message: "This proxy does not send passwords without encryption; choose \
                              TLS or STARTTLS."
                        .to_owned(),
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
        Ok(Prepared { sides })
    }

    /// Resolves one side's host once and checks every address against the policy.
    async fn prepare_side(
        &self,
        (side, target): (&'static str, Target),
    ) -> Result<PreparedSide, CheckError> {
        let started = Instant::now();
        let resolved = match net::resolve(
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
                    message: err.to_string(),
                });
            }
            Err(err @ ResolveError::NotFound { .. }) => Err(err.to_string()),
        };
        Ok(PreparedSide {
            target,
            resolved,
            resolve_ms: elapsed_ms(started),
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
        let username = req
            .username
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .unwrap_or(req.email.trim());
        let creds = Creds {
            email: req.email.trim(),
            username,
            password: &req.password,
        };
        let run_one = |side: PreparedSide| {
            let events = events.clone();
            let creds = &creds;
            Box::pin(async move { self.run_side(side, creds, lang, provider, events).await })
        };
        let mut sides = prepared.sides.into_iter();
        let (first, second) = (sides.next().map(run_one), sides.next().map(run_one));
        let (first, second) = tokio::join!(optional(first), optional(second));
        let (mut incoming, mut outgoing) = (None, None);
        for report in [first, second].into_iter().flatten() {
            if report.protocol == Protocol::Smtp {
                outgoing = Some(report);
            } else {
                incoming = Some(report);
            }
        }
        // Count refused logins (the server saw the password and said no); a login that
        // worked forgets earlier failures.
        let key = account_key(req);
        for report in incoming.iter().chain(outgoing.iter()) {
            let auth = report.steps.iter().find(|s| s.step == StepKind::Auth);
            if let Some(auth) = auth {
                let refused = !auth.ok
                    && report
                        .diagnosis
                        .as_ref()
                        .is_some_and(|d| d.server_reply.is_some());
                if (auth.ok || refused)
                    && let Err(err) = self.logins.record(&key, refused).await
                {
                    tracing::warn!(%err, "a login outcome could not be recorded");
                }
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
        let mut run = SideRun::new(self, &target, provider);
        let name = if target.protocol == Protocol::Smtp {
            "outgoing"
        } else {
            "incoming"
        };
        run.events = events.map(|tx| (tx, name));
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
                Err(reason) => {
                    run.push_step(StepReport {
                        step: StepKind::Resolve,
                        ok: false,
                        ms: prepared.resolve_ms,
                        detail: Some(reason.clone()),
                    });
                    return Err(Failure::new(DiagnosisCode::DnsNotFound, reason));
                }
            };
            match tokio::time::timeout(self.limits.side, run.protocol(&addrs, creds)).await {
                Ok(r) => r,
                Err(_) => {
                    let code = match run.current {
                        Some((StepKind::Connect, _)) => DiagnosisCode::ConnectTimeout,
                        _ => DiagnosisCode::ServerTimeout,
                    };
                    Err(Failure::new(
                        code,
                        format!("the whole check took longer than {:?}", self.limits.side),
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

/// One finished step of a running check, for live display.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StepEvent {
    /// `incoming` or `outgoing`.
    pub side: &'static str,
    /// The step, as it will appear in the final report.
    pub step: StepReport,
}

/// A validated request, resolved.
#[derive(Debug)]
pub struct Prepared {
    sides: Vec<PreparedSide>,
}

#[derive(Debug)]
struct PreparedSide {
    target: Target,
    resolved: Result<Vec<SocketAddr>, String>,
    resolve_ms: u64,
}

/// One server to check.
#[derive(Clone, Debug)]
struct Target {
    protocol: Protocol,
    host: String,
    port: u16,
    security: Security,
}

/// Who logs in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Creds<'a> {
    email: &'a str,
    username: &'a str,
    password: &'a Password,
}

/// Why a side failed.
#[derive(Debug)]
pub(crate) struct Failure {
    code: DiagnosisCode,
    detail: String,
    server_reply: Option<String>,
    cert_names: Vec<String>,
}

impl Failure {
    fn new(code: DiagnosisCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            server_reply: None,
            cert_names: Vec::new(),
        }
    }

    /// A refusal in the server's own words.
    fn reply(code: DiagnosisCode, reply: &str) -> Self {
        let text = net::clean_text(reply);
        Self {
            code,
            detail: text.clone(),
            server_reply: Some(text),
            cert_names: Vec::new(),
        }
    }

    /// A network failure while waiting for `what`.
    fn net(err: NetError, what: &str) -> Self {
        let code = match err {
            NetError::Timeout(_) => DiagnosisCode::ServerTimeout,
            _ => DiagnosisCode::ProtocolError,
        };
        Self::new(code, format!("{what}: {err}"))
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
    events: Option<(Events, &'static str)>,
}

impl<'a> SideRun<'a> {
    fn new(checker: &'a Checker, target: &'a Target, provider: Option<&'a Provider>) -> Self {
        Self {
            checker,
            target,
            provider,
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
            .map_err(|e| self.fail(Failure::net(e, "waiting for the greeting")))
    }

    /// Ends the current step as done.
    fn done(&mut self, detail: impl Into<Option<String>>) {
        self.close_current(true, detail.into());
    }

    /// Ends the current step as failed and hands the failure on.
    fn fail(&mut self, failure: Failure) -> Failure {
        self.close_current(false, Some(failure.detail.clone()));
        failure
    }

    fn close_current(&mut self, ok: bool, detail: Option<String>) {
        if let Some((step, started)) = self.current.take() {
            self.push_step(StepReport {
                step,
                ok,
                ms: elapsed_ms(started),
                detail,
            });
        }
    }

    /// Records a finished step and tells the live listener, if any.
    fn push_step(&mut self, report: StepReport) {
        if let Some((tx, side)) = &self.events {
            let _ = tx.send(StepEvent {
                side,
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
                return Err(self.fail(Failure::new(code, err.to_string())));
            }
        };
        self.done(format!("connected to {addr}"));
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
                let detail = format!(
                    "{} {}, certificate for {}",
                    info.version,
                    info.cipher,
                    info.names.join(", ")
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
                return Err(self.fail(Failure::new(DiagnosisCode::ProtocolError, err.to_string())));
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
                let mut d = diag::explain(failure.code, lang, self.provider, failure.server_reply);
                d.cert_names = failure.cert_names;
                Some(d)
            }
        };
        SideReport {
            ok: diagnosis.is_none(),
            protocol: self.target.protocol,
            host: self.target.host.clone(),
            port: self.target.port,
            security: self.target.security,
            steps: self.steps,
            diagnosis,
            tls: self.tls,
            capabilities: self.capabilities,
        }
    }
}

/// The failed-login key of the account a request logs in to.
fn account_key(req: &CheckRequest) -> guard::AccountKey {
    let username = req
        .username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(req.email.trim());
    guard::LoginGuard::key(username, &req.email)
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

/// Which protocol a first line looks like, for `wrong_protocol`: `None` when it is not a
/// greeting of any mail protocol.
fn sniff(line: &str) -> Option<&'static str> {
    let b = line.as_bytes();
    if line.starts_with("* OK") || line.starts_with("* PREAUTH") || line.starts_with("* BYE") {
        Some("IMAP")
    } else if line.starts_with("+OK") || line.starts_with("-ERR") {
        Some("POP3")
    } else if b.len() >= 3
        && b[..3].iter().all(u8::is_ascii_digit)
        && (b.len() == 3 || b[3] == b' ' || b[3] == b'-')
    {
        Some("SMTP")
    } else if line.starts_with("SSH-") {
        Some("SSH")
    } else if line.starts_with("HTTP/") {
        Some("HTTP")
    } else {
        None
    }
}

/// The failure for a greeting of the wrong protocol or no protocol at all.
fn bad_greeting(expected: Protocol, line: &str) -> Failure {
    match sniff(line) {
        Some(other) if other != expected.label() => Failure {
            code: DiagnosisCode::WrongProtocol,
            detail: format!(
                "expected a {} server, but this one greets like {other}: {}",
                expected.label(),
                net::clean_text(line)
            ),
            server_reply: Some(net::clean_text(line)),
            cert_names: Vec::new(),
        },
        _ => Failure::new(
            DiagnosisCode::ProtocolError,
            format!(
                "expected a {} greeting, got: {}",
                expected.label(),
                net::clean_text(line)
            ),
        ),
    }
}

/// Base64 of the SASL PLAIN message (`\0user\0password`).
fn sasl_plain(creds: &Creds<'_>) -> zeroize::Zeroizing<String> {
    use base64::Engine as _;
    let mut raw = zeroize::Zeroizing::new(Vec::with_capacity(
        creds.username.len() + creds.password.expose().len() + 2,
    ));
    raw.push(0);
    raw.extend_from_slice(creds.username.as_bytes());
    raw.push(0);
    raw.extend_from_slice(creds.password.expose().as_bytes());
    zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*raw))
}

fn b64(s: &str) -> zeroize::Zeroizing<String> {
    use base64::Engine as _;
    zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(s))
}

/// Checks the fields of a request (400 on the first bad one).
pub fn validate(req: &CheckRequest) -> Result<(), CheckError> {
    let invalid = |field: &'static str, message: &str| CheckError::Invalid {
        field,
        message: message.to_owned(),
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
        ));
    }
    if let Some(u) = &req.username
        && (u.len() > 254 || u.chars().any(char::is_control))
    {
        return Err(invalid(
            "username",
            "The user name is too long or has control characters.",
        ));
    }
    let pw = req.password.expose();
    if pw.is_empty() {
        return Err(invalid("password", "Enter the password."));
    }
    if pw.len() > 1024 || pw.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
        return Err(invalid(
            "password",
            "The password is too long or has line breaks.",
        ));
    }
    if req.incoming.is_none() && req.outgoing.is_none() {
        return Err(invalid(
            "incoming",
            "Give an incoming or an outgoing server (or both).",
        ));
    }
    let host_ok = |h: &str| {
        let h = h.trim();
        !h.is_empty()
            && h.len() <= 253
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c))
            && !h.starts_with('.')
            && !h.starts_with('-')
    };
    if let Some(inc) = &req.incoming {
        if !host_ok(&inc.host) {
            return Err(invalid(
                "incoming.host",
                "Enter a server name like imap.example.com.",
            ));
        }
        if inc.port == 0 {
            return Err(invalid(
                "incoming.port",
                "The port must be between 1 and 65535.",
            ));
        }
        let _: IncomingProtocol = inc.protocol;
    }
    if let Some(out) = &req.outgoing {
        if !host_ok(&out.host) {
            return Err(invalid(
                "outgoing.host",
                "Enter a server name like smtp.example.com.",
            ));
        }
        if out.port == 0 {
            return Err(invalid(
                "outgoing.port",
                "The port must be between 1 and 65535.",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailsetup_shared::api::{IncomingTarget, OutgoingTarget};

    fn request() -> CheckRequest {
        CheckRequest {
            email: "alice@example.com".to_owned(),
            username: None,
            password: Password::new("abcd efgh"),
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
        assert_eq!(field(|r| r.password = Password::new("")), "password");
        assert_eq!(field(|r| r.password = Password::new("a\nb")), "password");
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
    fn greetings_are_recognised_by_protocol() {
        assert_eq!(sniff("* OK [CAPABILITY IMAP4rev1] ready"), Some("IMAP"));
        assert_eq!(sniff("+OK Dovecot ready."), Some("POP3"));
        assert_eq!(sniff("220 mx.example.com ESMTP"), Some("SMTP"));
        assert_eq!(sniff("220-mx.example.com ESMTP"), Some("SMTP"));
        assert_eq!(sniff("SSH-2.0-OpenSSH_9.2"), Some("SSH"));
        assert_eq!(sniff("\u{fffd}\u{fffd}garbage"), None);
        let f = bad_greeting(Protocol::Imap, "+OK POP3 ready");
        assert_eq!(f.code, DiagnosisCode::WrongProtocol);
        let f = bad_greeting(Protocol::Imap, "hello?");
        assert_eq!(f.code, DiagnosisCode::ProtocolError);
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
    fn sasl_plain_encodes_user_and_password() {
        let password = Password::new("pass");
        let creds = Creds {
            email: "u@example.com",
            username: "user",
            password: &password,
        };
        // base64("\0user\0pass")
        assert_eq!(&*sasl_plain(&creds), "AHVzZXIAcGFzcw==");
    }
}

//! Connection checks: log in to a user's IMAP/POP3/SMTP servers the way a mail app would,
//! record every step, and explain a failure in plain words.
//!
//! A check is validated and resolved up front ([`Checker::prepare`], fields checked in
//! [`request`]): bad fields are [`CheckError::Invalid`], targets the egress policy refuses
//! are [`CheckError::NotAllowed`], names that do not resolve become a `dns_not_found` side
//! report, and a resolver that gives no answer a `dns_failed` one. Then both sides run
//! concurrently ([`Checker::run`]), each under the side timeout, every step under its own
//! timeout (see [`net`]).
//!
//! The parts: `request` (validation, the target and who logs in), `side` (one side: connect,
//! TLS, the steps of the protocol session in their one order, under the side timeout),
//! `record` (the step recorder: it wraps each step with timing, live event, detail, and
//! builds the final report), `session` (what a protocol session offers: one method a step,
//! each a typed reply or a typed fault), `imap`, `pop3`, `smtp` (the protocol sessions;
//! they never record), `sasl` (every login mechanism), `failure` + [`diag`] (why a step
//! failed, and the diagnosis), [`net`] (bounded connection), [`tls`], [`guard`]
//! (failed-login limit), [`redact`] (the secret out of server text), [`probe`] (a server
//! probed without login, for discovery's guessing, with the sessions' own steps up to
//! STARTTLS).
//!
//! Invariant: sockets go only to the addresses [`net::resolve`] checked against the policy;
//! the password or token is sent only by the protocol modules, never logged, never put in a
//! report.
//!
//! The protocol clients are small and our own, over [`net::Conn`], which bounds every line
//! and the whole session and puts a deadline on every reply. Why not the crates:
//! - async-imap grows its read buffer until a response parses and pre-allocates a literal's
//!   announced size (its `ImapStream` allows up to 512 MiB in the versions we read), so one
//!   hostile `{536870912}` or a 10 MB line costs that much memory before any limit applies.
//! - lettre (0.10.2 and later) can run over a stream the caller connected
//!   (`AsyncSmtpConnection::connect_with_transport`), so it could use the address the
//!   policy checked, and its errors expose the rustls error through `source()`, so the
//!   certificate diagnosis would survive. What does not fit is the report: its connect
//!   reads the greeting and EHLO inside one call and discards the greeting (we report both
//!   as steps, and the greeting is what tells a wrong port or a banner refusal), and `auth`
//!   picks the mechanism itself from the server's list (we must choose PLAIN or LOGIN on
//!   our rules, fall back on 504, and carry XOAUTH2/OAUTHBEARER with their JSON error
//!   challenge). Its replies are also read without a line limit. With our own SMTP reply
//!   parser (one function, `smtp::read_reply`) every step stays visible and bounded.

pub mod diag;
mod failure;
pub mod guard;
mod imap;
pub mod net;
mod pop3;
pub mod probe;
mod record;
pub mod redact;
mod request;
mod sasl;
mod session;
mod side;
mod smtp;
pub mod tls;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mailsetup_shared::api::{
    CheckRequest, CheckResponse, DiagnosisCode, Lang, Protocol, Provider, Security, SideReport,
    StepEvent, StepKind, Text,
};

use crate::config::Config;
use crate::dns::Resolver;
use crate::policy::EgressPolicy;
use net::ResolveError;
pub use request::validate;
use request::{Creds, Target};
use request::{login_name, network_address};
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
        Ok(Box::pin(self.run(prepared, lang, provider, None)).await)
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
        let username = login_name(req).to_owned();
        let login = username.as_str();
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
        Ok(Prepared {
            sides,
            request: req.clone(),
            email: network_address(&req.email),
            username,
        })
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
        prepared: Prepared,
        lang: Lang,
        provider: Option<&Provider>,
        events: Option<Events>,
    ) -> CheckResponse {
        let Prepared {
            sides,
            request,
            email,
            username,
        } = prepared;
        let Some(credential) = request.credential() else {
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
            username: &username,
            credential,
        };
        let run_one = |side: PreparedSide| {
            let events = events.clone();
            let creds = &creds;
            Box::pin(async move { self.run_side(side, creds, lang, provider, events).await })
        };
        let keys: Vec<Vec<guard::AccountKey>> =
            sides.iter().map(|side| side.guard_keys.clone()).collect();
        let mut sides = sides.into_iter();
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
}

/// Where live step events go (`POST /api/v1/check/stream`).
pub type Events = tokio::sync::mpsc::UnboundedSender<StepEvent>;

/// A validated request, resolved.
#[derive(Debug)]
pub struct Prepared {
    sides: Vec<PreparedSide>,
    /// The validated request (its secret in zeroized buffers), so the check is given it
    /// once.
    request: CheckRequest,
    /// The address as the network needs it (see [`request::network_address`]).
    email: String,
    /// The login name, computed once (see [`request::login_name`]).
    username: String,
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

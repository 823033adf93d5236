//! Discovery: finds the mail servers of any address's domain the way the best mail clients
//! do, but with every method started at once under one deadline, and a trace of what was
//! tried.
//!
//! Methods and their rank (the best-ranked answer wins; see [`Method`]):
//! builtin knowledge base > MX host of a known provider > autoconfig over HTTPS > RFC 6186
//! SRV > ISPDB > Microsoft Autodiscover (POX) > autoconfig over plain HTTP > guessing.
//!
//! Discovery stops early once the best answer found can no longer be beaten (every better
//! method has finished), after a short grace period so that slower, lower-ranked methods
//! still show up as alternatives. What is still running at the deadline is reported in the
//! trace as timed out.
//!
//! Invariant: every socket goes to an address the egress policy accepted
//! ([`EgressPolicy::check`] for mail ports, [`EgressPolicy::check_web`] for 80/443); names
//! are resolved once, by the proxy's one resolver ([`crate::dns`], shared with checks), and
//! the checked address is the one connected to.

mod answer;
pub mod autoconfig;
pub mod autodiscover;
mod cache;
mod guess;
mod http;
mod mx;
mod probe;
mod srv;
mod tls;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mailsetup_shared::api::{
    Candidate, CandidateSource, Confidence, DiscoverResponse, Lang, Protocol, Provider, Server,
    Text,
};
use mailsetup_shared::providers::Registry;

use crate::dns;
use crate::policy::EgressPolicy;
pub use answer::{Answer, Trace};

/// The ports discovery uses. Standard ones by default; tests point them at loopback
/// fixtures through the library API (they are not command-line flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiscoverPorts {
    /// HTTPS, for autoconfig at the domain (443).
    pub https: u16,
    /// Plain HTTP, for autoconfig at the domain (80).
    pub http: u16,
    /// IMAP over implicit TLS, for guessing (993).
    pub imaps: u16,
    /// IMAP with STARTTLS, for guessing (143).
    pub imap: u16,
    /// POP3 over implicit TLS, for guessing (995).
    pub pop3s: u16,
    /// POP3 with STLS, for guessing (110).
    pub pop3: u16,
    /// SMTP submission over implicit TLS, for guessing (465).
    pub submissions: u16,
    /// SMTP submission with STARTTLS, for guessing (587).
    pub submission: u16,
}

impl Default for DiscoverPorts {
    fn default() -> Self {
        Self {
            https: 443,
            http: 80,
            imaps: 993,
            imap: 143,
            pop3s: 995,
            pop3: 110,
            submissions: 465,
            submission: 587,
        }
    }
}

/// Everything discovery needs to know, from the flags and from tests.
#[derive(Clone, Debug)]
pub struct DiscoverSettings {
    /// The one deadline for all methods together (`--discover-timeout`).
    pub timeout: Duration,
    /// How long answers stay cached per domain (`--discover-cache-ttl`); zero: no cache.
    pub cache_ttl: Duration,
    /// How many domains the cache holds at most.
    pub cache_capacity: usize,
    /// Base URL of the ISP database; the domain is appended (`--ispdb-url`).
    pub ispdb_url: String,
    /// The DNS server to ask (`--dns-server`); `None`: the system's configuration. Used by
    /// [`Discoverer::new`]; the proxy passes its one resolver to
    /// [`Discoverer::with_resolver`] instead.
    pub dns_server: Option<std::net::SocketAddr>,
    /// How long slower, lower-ranked methods may still run once the winner is known.
    pub grace: Duration,
    /// The ports used.
    pub ports: DiscoverPorts,
}

impl Default for DiscoverSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(8),
            cache_ttl: Duration::from_secs(600),
            cache_capacity: 4096,
            ispdb_url: DEFAULT_ISPDB_URL.to_owned(),
            dns_server: None,
            grace: Duration::from_millis(300),
            ports: DiscoverPorts::default(),
        }
    }
}

/// Thunderbird's public ISP database.
pub const DEFAULT_ISPDB_URL: &str = "https://autoconfig.thunderbird.net/v1.1/";

impl DiscoverSettings {
    /// The settings the operator's flags ask for (durations are checked when the flags
    /// are parsed, see `config::Seconds`), probing `ports`; refuses an ISPDB URL that is
    /// not http(s).
    pub fn from_config(config: &crate::Config, ports: DiscoverPorts) -> anyhow::Result<Self> {
        if !config.ispdb_url.starts_with("https://") && !config.ispdb_url.starts_with("http://") {
            anyhow::bail!("--ispdb-url must be an http(s) URL");
        }
        Ok(Self {
            timeout: config.discover_timeout.get(),
            cache_ttl: config.discover_cache_ttl.get(),
            ispdb_url: config.ispdb_url.clone(),
            dns_server: config.dns_server,
            ports,
            grace: config.discover_grace.get(),
            ..Self::default()
        })
    }
}

/// A discovery method, in rank order: the lower, the better its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    /// The built-in knowledge base, by domain.
    Builtin = 0,
    /// MX hosts of a known provider.
    Mx = 1,
    /// Autoconfig at the domain over HTTPS.
    AutoconfigHttps = 2,
    /// RFC 6186 SRV records.
    Srv = 3,
    /// The central ISP database.
    Ispdb = 4,
    /// Microsoft Autodiscover (POX) at the domain, over HTTPS.
    Autodiscover = 5,
    /// Autoconfig at the domain over plain HTTP.
    AutoconfigHttp = 6,
    /// Probing usual names and ports.
    Guess = 7,
}

const METHODS: usize = 8;

impl Method {
    /// The name in the trace.
    pub fn name(self) -> &'static str {
        match self {
            Self::Builtin => "builtin",
            Self::Mx => "mx",
            Self::AutoconfigHttps | Self::AutoconfigHttp => "autoconfig",
            Self::Srv => "srv",
            Self::Ispdb => "ispdb",
            Self::Autodiscover => "autodiscover",
            Self::Guess => "guess",
        }
    }

    /// The source candidates of this method carry.
    pub fn source(self) -> CandidateSource {
        match self {
            Self::Builtin => CandidateSource::Builtin,
            Self::Mx => CandidateSource::Mx,
            Self::AutoconfigHttps | Self::AutoconfigHttp => CandidateSource::Autoconfig,
            Self::Srv => CandidateSource::Srv,
            Self::Ispdb => CandidateSource::Ispdb,
            Self::Autodiscover => CandidateSource::Autodiscover,
            Self::Guess => CandidateSource::Guess,
        }
    }

    /// How far its candidates can be trusted: the knowledge base and the domain's own
    /// HTTPS answer are high; DNS (no DNSSEC) and central databases medium; plain HTTP and
    /// guesses low.
    pub fn confidence(self) -> Confidence {
        match self {
            Self::Builtin | Self::Mx | Self::AutoconfigHttps => Confidence::High,
            Self::Srv | Self::Ispdb | Self::Autodiscover => Confidence::Medium,
            Self::AutoconfigHttp | Self::Guess => Confidence::Low,
        }
    }
}

/// Why pending steps were cut short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cut {
    /// Every method finished; nothing is pending.
    None,
    /// The winner was known and the grace period ended.
    Settled,
    /// The deadline passed.
    Deadline,
}

/// What the methods found so far; shared by all of them, so partial results survive the
/// deadline.
#[derive(Debug)]
struct Collector {
    inner: Mutex<Inner>,
    changed: tokio::sync::watch::Sender<()>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: Vec<Trace>,
    pending: Vec<(u64, Method, String, Instant)>,
    next_id: u64,
    found: Vec<(Method, Candidate)>,
    provider: Option<(Method, Provider)>,
    finished: [bool; METHODS],
}

/// A step in progress, ended with [`Collector::end`]; a step never ended is reported as
/// cut short.
#[derive(Debug)]
#[must_use]
struct Step(u64);

impl Collector {
    fn new() -> Self {
        let (changed, _) = tokio::sync::watch::channel(());
        let inner = Inner::default();
        Self {
            inner: Mutex::new(inner),
            changed,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn begin(&self, method: Method, target: impl Into<String>) -> Step {
        let mut g = self.lock();
        let id = g.next_id;
        g.next_id += 1;
        g.pending.push((id, method, target.into(), Instant::now()));
        Step(id)
    }

    fn end(&self, step: Step, ok: bool, detail: Text) {
        let mut g = self.lock();
        if let Some(i) = g.pending.iter().position(|p| p.0 == step.0) {
            let (_, method, target, started) = g.pending.remove(i);
            g.entries.push(Trace {
                method: method.name().to_owned(),
                target,
                ok,
                ms: ms(started.elapsed()),
                detail: Some(detail),
            });
        }
    }

    /// Ends every pending step of `method` (a method that stopped its own steps early).
    fn abandon(&self, method: Method, detail: &Text) {
        let mut g = self.lock();
        let (stopped, kept): (Vec<_>, Vec<_>) = g.pending.drain(..).partition(|p| p.1 == method);
        g.pending = kept;
        for (_, method, target, started) in stopped {
            g.entries.push(Trace {
                method: method.name().to_owned(),
                target,
                ok: false,
                ms: ms(started.elapsed()),
                detail: Some(detail.clone()),
            });
        }
    }

    /// Records a whole step at once (for instant ones).
    fn record(&self, method: Method, target: impl Into<String>, ok: bool, detail: Text) {
        let step = self.begin(method, target);
        self.end(step, ok, detail);
    }

    fn add(&self, method: Method, incoming: Server, outgoing: Server) {
        let candidate = Candidate {
            incoming,
            outgoing,
            source: method.source(),
            confidence: method.confidence(),
        };
        self.lock().found.push((method, candidate));
    }

    fn set_provider(&self, method: Method, provider: Provider) {
        let mut g = self.lock();
        if g.provider.as_ref().is_none_or(|(m, _)| method < *m) {
            g.provider = Some((method, provider));
        }
    }

    fn finish(&self, method: Method) {
        self.lock().finished[method as usize] = true;
        self.changed.send_replace(());
    }

    /// Whether the best answer so far can no longer be beaten.
    /// The winning method, once it can no longer be beaten.
    fn settled_on(&self) -> Option<Method> {
        let g = self.lock();
        let best = g.found.iter().map(|(m, _)| *m).min()?;
        g.finished[..best as usize]
            .iter()
            .all(|f| *f)
            .then_some(best)
    }

    fn into_answer(self, domain: String, cut: Cut, deadline: Duration) -> Answer {
        let mut inner = self
            .inner
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        for (_, method, target, started) in inner.pending.drain(..) {
            let detail = match cut {
                Cut::Deadline => Text::new(
                    format!(
                        "timed out: still running at the discovery deadline ({} ms)",
                        deadline.as_millis()
                    ),
                    format!(
                        "время вышло: ещё шло к сроку всего поиска ({} мс)",
                        deadline.as_millis()
                    ),
                ),
                Cut::Settled | Cut::None => Text::new(
                    "stopped: a better-ranked answer was already found",
                    "остановлено: уже найден ответ надёжнее",
                ),
            };
            inner.entries.push(Trace {
                method: method.name().to_owned(),
                target,
                ok: false,
                ms: ms(started.elapsed()),
                detail: Some(detail),
            });
        }
        inner.found.sort_by_key(|(m, _)| *m);
        let mut candidates: Vec<Candidate> = Vec::new();
        for (_, c) in inner.found {
            if !candidates
                .iter()
                .any(|k| k.incoming == c.incoming && k.outgoing == c.outgoing)
            {
                candidates.push(c);
            }
        }
        Answer {
            domain,
            provider: inner.provider.map(|(_, p)| p),
            candidates,
            trace: inner.entries,
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The address being discovered, as the methods need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The whole address.
    pub email: String,
    /// The part before `@`.
    pub local: String,
    /// The domain, ASCII lowercase.
    pub domain: String,
}

impl Target {
    /// The target for a parsed address.
    pub fn from_email(email: &mailsetup_shared::email::EmailAddress) -> Self {
        Self {
            email: email.as_str().to_owned(),
            local: email.local().to_owned(),
            domain: email.domain().to_owned(),
        }
    }
}

/// Discovery with its resolver, TLS roots, policy and cache. Build one per process.
#[derive(Debug)]
pub struct Discoverer {
    settings: DiscoverSettings,
    policy: EgressPolicy,
    resolver: dns::Resolver,
    tls: tls::Tls,
    providers: Arc<Registry>,
    cache: cache::Cache,
    inflight: Mutex<HashMap<String, Arc<Flight>>>,
}

impl Discoverer {
    /// Builds discovery from its settings, the egress policy, extra trusted CA files (PEM)
    /// and the knowledge base, with a resolver of its own for `settings.dns_server`.
    pub fn new(
        settings: DiscoverSettings,
        policy: EgressPolicy,
        extra_ca: &[std::path::PathBuf],
        providers: Arc<Registry>,
    ) -> anyhow::Result<Self> {
        let resolver = dns::Resolver::new(settings.dns_server)?;
        Self::with_resolver(settings, policy, extra_ca, providers, resolver)
    }

    /// Like [`Discoverer::new`], resolving with `resolver` (the proxy's one resolver, which
    /// checks use too); `settings.dns_server` is then not used.
    pub fn with_resolver(
        settings: DiscoverSettings,
        policy: EgressPolicy,
        extra_ca: &[std::path::PathBuf],
        providers: Arc<Registry>,
        resolver: dns::Resolver,
    ) -> anyhow::Result<Self> {
        let tls = tls::Tls::new(extra_ca)?;
        let cache = cache::Cache::new(settings.cache_ttl, settings.cache_capacity);
        Ok(Self {
            settings,
            policy,
            resolver,
            tls,
            providers,
            cache,
            inflight: Mutex::new(HashMap::new()),
        })
    }

    /// Keeps the answer cache in `store` (shared by replicas when it is Redis).
    #[must_use]
    pub fn with_store(mut self, store: crate::store::SharedStore) -> Self {
        self.cache = cache::Cache::with_store(self.settings.cache_ttl, store);
        self
    }

    /// The settings in force.
    pub fn settings(&self) -> &DiscoverSettings {
        &self.settings
    }

    /// Discovers the servers for `target` (from the cache when fresh), the trace in
    /// `lang`.
    pub async fn discover(&self, target: &Target, lang: Lang) -> DiscoverResponse {
        self.answer(target).await.render(lang)
    }

    /// Discovers the servers for `target`, from the cache when fresh, in no language yet.
    pub async fn answer(&self, target: &Target) -> Answer {
        let started = Instant::now();
        if let Some((hit, age)) = self.cache.get(&target.domain).await {
            let trace = vec![Trace {
                method: "cache".to_owned(),
                target: target.domain.clone(),
                ok: true,
                ms: ms(started.elapsed()),
                detail: Some(Text::new(
                    format!("answer found {} s ago", age.as_secs()),
                    format!("ответ найден {} с назад", age.as_secs()),
                )),
            }];
            return Answer::from_cache(hit, trace);
        }
        // One discovery per domain at a time: a request for a domain already being
        // discovered waits for that answer instead of sending the same probes again.
        let (flight, leader) = {
            let mut map = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
            match map.get(&target.domain) {
                Some(f) => (f.clone(), false),
                None => {
                    let f = Arc::new(tokio::sync::watch::channel(None).0);
                    map.insert(target.domain.clone(), f.clone());
                    (f, true)
                }
            }
        };
        if !leader {
            let mut rx = flight.subscribe();
            drop(flight);
            if let Ok(answer) = rx.wait_for(Option::is_some).await
                && let Some(mut answer) = answer.clone()
            {
                answer.trace.insert(
                    0,
                    Trace {
                        method: "cache".to_owned(),
                        target: target.domain.clone(),
                        ok: true,
                        ms: ms(started.elapsed()),
                        detail: Some(Text::new(
                            "shared the answer of the same discovery already running",
                            "взят ответ такого же поиска, который уже шёл",
                        )),
                    },
                );
                return answer;
            }
            // The leader was cancelled: discover on our own.
            return self.answer_uncached(target).await;
        }
        let _landing = Landing {
            map: &self.inflight,
            domain: &target.domain,
        };
        let answer = self.answer_uncached(target).await;
        if !answer.candidates.is_empty() {
            self.cache.put(&target.domain, &answer.for_cache()).await;
        }
        flight.send_replace(Some(answer.clone()));
        answer
    }

    /// Runs every method now, ignoring the cache; the trace in `lang`.
    pub async fn discover_uncached(&self, target: &Target, lang: Lang) -> DiscoverResponse {
        self.answer_uncached(target).await.render(lang)
    }

    /// Runs every method now, ignoring the cache, in no language yet.
    pub async fn answer_uncached(&self, target: &Target) -> Answer {
        let c = Collector::new();
        let mut changed = c.changed.subscribe();
        let all = async {
            // Boxed: together the methods' state machines are too big for a stack.
            tokio::join!(
                Box::pin(self.builtin(&c, target)),
                Box::pin(mx::run(self, &c, target)),
                Box::pin(autoconfig::run_domain(self, &c, target, true)),
                Box::pin(srv::run(self, &c, target)),
                Box::pin(autoconfig::run_ispdb(self, &c, target)),
                Box::pin(autodiscover::run(self, &c, target)),
                Box::pin(autoconfig::run_domain(self, &c, target, false)),
                Box::pin(guess::run(self, &c, target)),
            );
        };
        let settle = async {
            let winner = loop {
                if let Some(winner) = c.settled_on() {
                    break winner;
                }
                if changed.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            // The knowledge base's data (by domain or MX) is definitive: no alternatives
            // are waited for. Otherwise slower methods get a short grace to show up.
            if winner > Method::Mx {
                tokio::time::sleep(self.settings.grace).await;
            }
        };
        let cut = tokio::select! {
            () = all => Cut::None,
            () = settle => Cut::Settled,
            () = tokio::time::sleep(self.settings.timeout) => Cut::Deadline,
        };
        c.into_answer(target.domain.clone(), cut, self.settings.timeout)
    }

    async fn builtin(&self, c: &Collector, target: &Target) {
        match self.providers.by_domain(&target.domain) {
            Some(p) => {
                let n = add_provider(c, Method::Builtin, p);
                c.set_provider(Method::Builtin, p.clone());
                c.record(
                    Method::Builtin,
                    &target.domain,
                    n > 0,
                    Text::new(
                        format!("known provider {} ({n} server sets)", p.name),
                        format!("известный провайдер {} (наборов серверов: {n})", p.name),
                    ),
                );
            }
            None => c.record(
                Method::Builtin,
                &target.domain,
                false,
                Text::new("not in the knowledge base", "нет в базе знаний"),
            ),
        }
        c.finish(Method::Builtin);
    }
}

/// A discovery in progress; its answer is sent to every request waiting for it.
type Flight = tokio::sync::watch::Sender<Option<Answer>>;

/// Removes a domain's flight when its leader ends, finished or cancelled (then the
/// waiting requests see the channel close and discover on their own).
struct Landing<'a> {
    map: &'a Mutex<HashMap<String, Arc<Flight>>>,
    domain: &'a str,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(self.domain);
    }
}

/// Adds a provider's servers as candidates: each incoming server with the first outgoing
/// one. Returns how many were added.
fn add_provider(c: &Collector, method: Method, p: &Provider) -> usize {
    let incoming: Vec<Server> = p
        .servers
        .iter()
        .filter(|s| s.protocol != Protocol::Smtp)
        .cloned()
        .collect();
    let outgoing: Vec<Server> = p.servers_for(Protocol::Smtp).cloned().collect();
    pair(c, method, &incoming, &outgoing)
}

/// Adds each incoming server (in order) paired with the first outgoing one. IMAP servers
/// come before POP3 ones. Returns how many were added.
fn pair(c: &Collector, method: Method, incoming: &[Server], outgoing: &[Server]) -> usize {
    let Some(out) = outgoing.first() else {
        return 0;
    };
    let mut ordered: Vec<&Server> = incoming
        .iter()
        .filter(|s| s.protocol == Protocol::Imap)
        .collect();
    ordered.extend(incoming.iter().filter(|s| s.protocol == Protocol::Pop3));
    for s in &ordered {
        c.add(method, (*s).clone(), out.clone());
    }
    ordered.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n;
    use mailsetup_shared::api::{Security, UsernameForm};

    fn server(protocol: Protocol, host: &str) -> Server {
        Server {
            protocol,
            host: host.to_owned(),
            port: 993,
            security: Security::Tls,
            username: UsernameForm::Email,
        }
    }

    #[test]
    fn best_ranked_first_and_duplicates_merged() {
        let c = Collector::new();
        let out = server(Protocol::Smtp, "smtp.a");
        c.add(Method::Guess, server(Protocol::Imap, "g"), out.clone());
        c.add(Method::Srv, server(Protocol::Imap, "s"), out.clone());
        c.add(
            Method::AutoconfigHttps,
            server(Protocol::Imap, "s"),
            out.clone(),
        );
        let r = c.into_answer("a".to_owned(), Cut::None, Duration::from_secs(1));
        let hosts: Vec<(&str, CandidateSource)> = r
            .candidates
            .iter()
            .map(|c| (c.incoming.host.as_str(), c.source))
            .collect();
        assert_eq!(
            hosts,
            [
                ("s", CandidateSource::Autoconfig),
                ("g", CandidateSource::Guess)
            ]
        );
    }

    #[test]
    fn settled_only_when_every_better_method_finished() {
        let c = Collector::new();
        assert!(c.settled_on().is_none());
        c.add(
            Method::Srv,
            server(Protocol::Imap, "s"),
            server(Protocol::Smtp, "o"),
        );
        assert!(c.settled_on().is_none());
        c.finish(Method::Builtin);
        c.finish(Method::Mx);
        assert!(c.settled_on().is_none());
        c.finish(Method::AutoconfigHttps);
        assert_eq!(c.settled_on(), Some(Method::Srv));
    }

    #[test]
    fn flags_are_checked() {
        use clap::Parser as _;
        let parse = |args: &[&str]| {
            crate::Config::try_parse_from(["mailsetup-proxy"].iter().chain(args))
                .map_err(|e| e.to_string())
                .and_then(|c| {
                    DiscoverSettings::from_config(&c, DiscoverPorts::default())
                        .map_err(|e| e.to_string())
                })
        };
        assert_eq!(parse(&[]).unwrap().timeout, Duration::from_secs(8));
        assert!(parse(&["--discover-timeout", "0"]).is_err());
        assert!(parse(&["--discover-timeout", "2.5", "--discover-cache-ttl=-1"]).is_err());
        assert!(parse(&["--ispdb-url", "ftp://x/"]).is_err());
        let s = parse(&[
            "--discover-timeout",
            "2.5",
            "--discover-cache-ttl",
            "0",
            "--ispdb-url",
            "https://ispdb.example/v1.1/",
        ])
        .unwrap();
        assert_eq!(
            (s.timeout, s.cache_ttl),
            (Duration::from_millis(2500), Duration::ZERO)
        );
    }

    #[test]
    fn pending_steps_are_reported_as_timed_out() {
        let c = Collector::new();
        let _step = c.begin(Method::Guess, "imap.a:993");
        let done = c.begin(Method::Srv, "_imaps._tcp.a");
        c.end(done, false, i18n::verbatim("no record"));
        let r = c.into_answer("a".to_owned(), Cut::Deadline, Duration::from_secs(8));
        assert_eq!(r.trace.len(), 2);
        let t = &r.trace[1];
        assert_eq!((t.method.as_str(), t.ok), ("guess", false));
        let detail = t.detail.clone().unwrap_or_default();
        assert!(detail.en.contains("timed out"));
        assert!(detail.ru.contains("время вышло"));
        let ru = r.render(Lang::Ru);
        assert_eq!(ru.trace[1].detail.as_deref(), Some(detail.ru.as_str()));
    }
}

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
mod collector;
mod guess;
mod http;
mod mx;
mod settings;
mod srv;
mod tls;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use mailsetup_shared::api::{
    CandidateSource, Confidence, DiscoverResponse, Lang, Text, TraceMethod,
};
use mailsetup_shared::providers::Registry;

use crate::dns;
use crate::policy::EgressPolicy;
pub use answer::{Answer, Trace};
use collector::{Collector, Cut, add_provider, ms, pair};
pub use settings::{DEFAULT_ISPDB_URL, DiscoverPorts, DiscoverSettings};

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
                method: TraceMethod::Cache,
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
                        method: TraceMethod::Cache,
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
        let mut changed = c.changes();
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

#[cfg(test)]
mod tests;

//! A discovery answer before it is put into words for one user: the trace details are
//! [`Text`]s in every language, because an answer is shared (a discovery already running
//! for the same domain, the per-domain cache) between users who asked in different
//! languages. [`Answer::render`] writes the API's [`DiscoverResponse`] in one language.

use mailsetup_shared::api::{
    Candidate, DiscoverResponse, Lang, Provider, Text, TraceEntry, TraceMethod,
};

/// What discovery found for a domain, in no language yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The domain discovered.
    pub domain: String,
    /// The provider, when one is known.
    pub provider: Option<Provider>,
    /// Server pairs, best first.
    pub candidates: Vec<Candidate>,
    /// What was tried.
    pub trace: Vec<Trace>,
}

/// One step of discovery, its detail in every language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The method (`builtin`, `mx`, `autoconfig`, ... `cache`).
    pub method: TraceMethod,
    /// What was asked (a domain, a URL, a DNS name, `host:port`).
    pub target: String,
    /// Whether it gave an answer.
    pub ok: bool,
    /// How long it took.
    pub ms: u64,
    /// What happened.
    pub detail: Option<Text>,
}

impl Answer {
    /// The API's answer, details in `lang`.
    pub fn render(&self, lang: Lang) -> DiscoverResponse {
        DiscoverResponse {
            domain: self.domain.clone(),
            provider: self.provider.clone(),
            candidates: self.candidates.clone(),
            trace: self
                .trace
                .iter()
                .map(|t| TraceEntry {
                    method: t.method,
                    target: t.target.clone(),
                    ok: t.ok,
                    ms: t.ms,
                    detail: t.detail.as_ref().map(|d| d.get(lang).to_owned()),
                })
                .collect(),
        }
    }

    /// What the cache keeps: the answer without its trace (a cache hit gets a trace of its
    /// own), so the cached value is in no language.
    pub fn for_cache(&self) -> DiscoverResponse {
        DiscoverResponse {
            domain: self.domain.clone(),
            provider: self.provider.clone(),
            candidates: self.candidates.clone(),
            trace: Vec::new(),
        }
    }

    /// An answer from the cache, with `trace` as its trace.
    pub fn from_cache(cached: DiscoverResponse, trace: Vec<Trace>) -> Self {
        Self {
            domain: cached.domain,
            provider: cached.provider,
            candidates: cached.candidates,
            trace,
        }
    }
}

//! `GET /api/v1/discover?email=...`: the server sets found for any mail domain and
//! everything tried on the way.

use serde::{Deserialize, Serialize};

use super::{Confidence, Provider, Server};

wire_enum! {
    /// Where a discovery candidate came from.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum CandidateSource {
        /// The built-in provider knowledge base, by the address's domain.
        Builtin = "builtin",
        /// The domain's MX hosts belong to a known provider.
        Mx = "mx",
        /// RFC 6186 SRV records.
        Srv = "srv",
        /// Mozilla autoconfig served by the domain itself.
        Autoconfig = "autoconfig",
        /// Thunderbird's central ISP database.
        Ispdb = "ispdb",
        /// Microsoft Autodiscover.
        Autodiscover = "autodiscover",
        /// Probing the usual host names and ports.
        Guess = "guess",
    }

    /// What a discovery trace entry tried (`TraceEntry.method`): every [`CandidateSource`],
    /// or the answer cache.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum TraceMethod {
        ..CandidateSource,
        /// A recent answer for the same domain, from the proxy's cache.
        Cache = "cache",
    }
}

/// One complete set of servers found by discovery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    /// Where to fetch mail (IMAP or POP3).
    pub incoming: Server,
    /// Where to send mail (SMTP).
    pub outgoing: Server,
    /// Which method found it.
    pub source: CandidateSource,
    /// How far to trust it.
    pub confidence: Confidence,
}

/// One thing discovery tried, for transparency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceEntry {
    /// The method (`builtin`, `mx`, `srv`, `autoconfig`, `ispdb`, `autodiscover`, `guess`,
    /// `cache`).
    pub method: TraceMethod,
    /// What was asked: a DNS name, a URL, `host:port`.
    pub target: String,
    /// Whether it gave a usable answer.
    pub ok: bool,
    /// How long it took, in milliseconds.
    pub ms: u64,
    /// What was learnt, or why it failed (`timed out` at the deadline).
    #[serde(default)]
    pub detail: Option<String>,
}

/// `GET /api/v1/discover?email=...` response body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiscoverResponse {
    /// The address's domain (ASCII, lowercase).
    pub domain: String,
    /// The known provider behind the domain (by domain or MX), if any.
    pub provider: Option<Provider>,
    /// Server sets found, best first.
    pub candidates: Vec<Candidate>,
    /// Everything tried, in the order it finished.
    pub trace: Vec<TraceEntry>,
}

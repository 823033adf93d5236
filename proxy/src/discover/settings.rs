//! What discovery is told by the operator's flags ([`DiscoverSettings::from_config`]) and,
//! in tests, which ports it probes ([`DiscoverPorts`]).

use std::time::Duration;

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

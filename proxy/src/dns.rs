//! The proxy's one DNS resolver (hickory-resolver), shared by checks and discovery: the
//! system's resolver or the one given with `--dns-server`. Lookups are plain futures, so a
//! caller's deadline (`tokio::time::timeout`) cancels them; nothing runs on a blocking
//! thread.
//!
//! Failures are split in two ([`DnsError`]): the name does not exist or has no record of
//! the type asked (the user's problem: a typo), and the resolver could not answer (timeout,
//! SERVFAIL, REFUSED, unreachable or unconfigured: the proxy's problem).
//!
//! Invariant: names are resolved once; callers check every returned address against the
//! egress policy and connect to exactly those addresses.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{LookupIpStrategy, NameServerConfigGroup, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::ProtoErrorKind;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::rdata::{MX, SRV};
use hickory_resolver::{ResolveError, ResolveErrorKind, TokioResolver};

use crate::policy::PolicyError;

/// Why a lookup gave no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// The name does not exist (NXDOMAIN) or has no record of the type asked (NODATA).
    #[error("{0}")]
    NotFound(String),
    /// The resolver did not answer in time, refused, failed (SERVFAIL) or could not be
    /// reached: nothing is known about the name.
    #[error("{0}")]
    Failed(String),
}

/// Resolver settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsSettings {
    /// The DNS server to ask (`--dns-server`); `None`: the system's configuration.
    pub server: Option<SocketAddr>,
    /// How long one query to one server may take before it is retried.
    pub timeout: Duration,
    /// How many times a query is sent in all.
    pub attempts: usize,
}

impl Default for DnsSettings {
    fn default() -> Self {
        Self {
            server: None,
            timeout: Duration::from_secs(3),
            attempts: 2,
        }
    }
}

/// A DNS resolver (cheap to clone; clones share one cache, kept by TTL).
#[derive(Clone, Debug)]
pub struct Resolver {
    inner: TokioResolver,
}

impl Resolver {
    /// The resolver at `server`, or the system's when `None`, with default timeouts.
    pub fn new(server: Option<SocketAddr>) -> anyhow::Result<Self> {
        Self::with_settings(DnsSettings {
            server,
            ..DnsSettings::default()
        })
    }

    /// The resolver `settings` describe.
    pub fn with_settings(settings: DnsSettings) -> anyhow::Result<Self> {
        let mut builder = match settings.server {
            Some(addr) => TokioResolver::builder_with_config(
                ResolverConfig::from_parts(
                    None,
                    vec![],
                    NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true),
                ),
                TokioConnectionProvider::default(),
            ),
            None => match TokioResolver::builder_tokio() {
                Ok(b) => b,
                Err(err) => {
                    // No resolv.conf (a bare container): every lookup will fail and say so
                    // (`dns_failed`), rather than the proxy refusing to start.
                    tracing::warn!(%err, "cannot read the system's DNS configuration; lookups will fail (use --dns-server)");
                    TokioResolver::builder_with_config(
                        ResolverConfig::from_parts(None, vec![], NameServerConfigGroup::new()),
                        TokioConnectionProvider::default(),
                    )
                }
            },
        };
        let opts = builder.options_mut();
        opts.timeout = settings.timeout;
        opts.attempts = settings.attempts.max(1);
        opts.ndots = 0;
        // Every address of the name, as the system resolver gives them, so the policy
        // sees all of them.
        opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        Ok(Self {
            inner: builder.build(),
        })
    }

    /// MX records of `domain`, best (lowest preference) first: `(preference, host)`.
    pub async fn mx(&self, domain: &str) -> Result<Vec<(u16, String)>, DnsError> {
        let lookup = self.inner.mx_lookup(fqdn(domain)).await;
        let mut out: Vec<(u16, String)> = match lookup {
            Ok(l) => l
                .iter()
                .map(|mx: &MX| (mx.preference(), host_of(&mx.exchange().to_ascii())))
                .collect(),
            Err(e) => return Err(classify(&e)),
        };
        out.sort();
        Ok(out)
    }

    /// SRV records of `name`: `(priority, weight, port, target)`, target `""` for ".".
    pub async fn srv(&self, name: &str) -> Result<Vec<(u16, u16, u16, String)>, DnsError> {
        match self.inner.srv_lookup(fqdn(name)).await {
            Ok(l) => Ok(l
                .iter()
                .map(|s: &SRV| {
                    (
                        s.priority(),
                        s.weight(),
                        s.port(),
                        host_of(&s.target().to_ascii()),
                    )
                })
                .collect()),
            Err(e) => Err(classify(&e)),
        }
    }

    /// The addresses of `host` (an ASCII name; punycode for international ones), or the IP
    /// literal itself, brackets allowed (`[::1]`), without any DNS query.
    pub async fn ips(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        if let Some(ip) = ip_literal(host) {
            return Ok(vec![ip]);
        }
        match self.inner.lookup_ip(fqdn(host)).await {
            Ok(l) => {
                let mut out: Vec<IpAddr> = Vec::new();
                for ip in l.iter() {
                    if !out.contains(&ip) {
                        out.push(ip);
                    }
                }
                if out.is_empty() {
                    Err(DnsError::NotFound("no address".to_owned()))
                } else {
                    Ok(out)
                }
            }
            Err(e) => Err(classify(&e)),
        }
    }

    /// The addresses of `host` on `port` that `check` accepts, or why there are none.
    pub async fn resolve_checked(
        &self,
        host: &str,
        port: u16,
        check: impl Fn(SocketAddr) -> Result<(), PolicyError>,
    ) -> Result<Vec<SocketAddr>, String> {
        let ips = self.ips(host).await.map_err(|e| e.to_string())?;
        let mut allowed = Vec::new();
        let mut refused = None;
        for ip in ips {
            let addr = SocketAddr::new(ip, port);
            match check(addr) {
                Ok(()) => allowed.push(addr),
                Err(e) => refused = Some(e),
            }
        }
        match (allowed.is_empty(), refused) {
            (false, _) => Ok(allowed),
            (true, Some(e)) => Err(format!("refused by the egress policy: {e}")),
            (true, None) => Err("no address".to_owned()),
        }
    }
}

/// The IP address `host` spells, if it is an IP literal (IPv6 in brackets too).
pub fn ip_literal(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>().ok()
}

/// `name` as a fully qualified name, so no search domain is appended.
fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

/// A DNS name as a host: lowercase, without the root dot ("." becomes "").
pub fn host_of(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Which side of the line a resolver error is on: the name (not found) or the resolver.
fn classify(e: &ResolveError) -> DnsError {
    let proto = match e.kind() {
        ResolveErrorKind::Proto(p) => Some(p.kind()),
        _ => None,
    };
    match proto {
        Some(ProtoErrorKind::NoRecordsFound { response_code, .. }) => match *response_code {
            ResponseCode::NXDomain => DnsError::NotFound("no such name (NXDOMAIN)".to_owned()),
            ResponseCode::NoError => DnsError::NotFound("no such record".to_owned()),
            code => DnsError::Failed(format!("the DNS server answered {code}")),
        },
        Some(ProtoErrorKind::Timeout) => {
            DnsError::Failed("the DNS server did not answer in time".to_owned())
        }
        _ => DnsError::Failed(format!("DNS error: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(fqdn("a.b"), "a.b.");
        assert_eq!(fqdn("a.b."), "a.b.");
        assert_eq!(host_of("MX.Example.COM."), "mx.example.com");
        assert_eq!(host_of("."), "");
    }

    #[test]
    fn ip_literals_skip_dns() {
        assert_eq!(ip_literal("127.0.0.1"), Some(IpAddr::from([127, 0, 0, 1])));
        assert_eq!(ip_literal("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(ip_literal("::1"), Some("::1".parse().unwrap()));
        assert_eq!(ip_literal("imap.example.com"), None);
        assert_eq!(ip_literal("[imap.example.com]"), None);
    }

    #[tokio::test]
    async fn an_ip_literal_resolves_without_a_dns_server() {
        // Port 9 on loopback: nothing answers, so any query fails (after a short timeout).
        let r = Resolver::with_settings(DnsSettings {
            server: Some(SocketAddr::from(([127, 0, 0, 1], 9))),
            timeout: Duration::from_millis(200),
            attempts: 1,
        })
        .unwrap();
        assert_eq!(
            r.ips("[::1]").await,
            Ok(vec!["::1".parse::<IpAddr>().unwrap()])
        );
        assert!(matches!(
            r.ips("imap.example.com").await,
            Err(DnsError::Failed(_))
        ));
    }

    #[tokio::test]
    async fn localhost_resolves_without_a_dns_server_as_the_system_resolver_did() {
        let r = Resolver::new(Some(SocketAddr::from(([127, 0, 0, 1], 9)))).unwrap();
        let ips = r.ips("localhost").await.unwrap();
        assert!(ips.iter().all(IpAddr::is_loopback), "{ips:?}");
    }
}

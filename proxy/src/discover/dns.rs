//! DNS for discovery through hickory-resolver: the system's resolver or the one given with
//! `--dns-server`, and name resolution that returns only the addresses the egress policy
//! accepts (the caller connects to exactly those; there is no second resolution).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::rr::rdata::{MX, SRV};
use hickory_resolver::{ResolveError, TokioResolver};

use crate::policy::PolicyError;

/// A DNS resolver (cheap to share; it caches by TTL itself).
#[derive(Clone, Debug)]
pub struct Resolver {
    inner: TokioResolver,
}

impl Resolver {
    /// The resolver at `server`, or the system's when `None`.
    pub fn new(server: Option<SocketAddr>) -> anyhow::Result<Self> {
        let mut builder = match server {
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
                    // No resolv.conf (a bare container): every lookup will fail and say so,
                    // rather than the proxy refusing to start.
                    tracing::warn!(%err, "cannot read the system's DNS configuration; discovery lookups will fail (use --dns-server)");
                    TokioResolver::builder_with_config(
                        ResolverConfig::from_parts(None, vec![], NameServerConfigGroup::new()),
                        TokioConnectionProvider::default(),
                    )
                }
            },
        };
        let opts = builder.options_mut();
        opts.timeout = Duration::from_secs(3);
        opts.attempts = 2;
        opts.ndots = 0;
        Ok(Self {
            inner: builder.build(),
        })
    }

    /// MX records of `domain`, best (lowest preference) first: `(preference, host)`.
    pub async fn mx(&self, domain: &str) -> Result<Vec<(u16, String)>, String> {
        let lookup = self.inner.mx_lookup(fqdn(domain)).await;
        let mut out: Vec<(u16, String)> = match lookup {
            Ok(l) => l
                .iter()
                .map(|mx: &MX| (mx.preference(), host_of(&mx.exchange().to_ascii())))
                .collect(),
            Err(e) => return Err(describe(&e)),
        };
        out.sort();
        Ok(out)
    }

    /// SRV records of `name`: `(priority, weight, port, target)`, target `""` for ".".
    pub async fn srv(&self, name: &str) -> Result<Vec<(u16, u16, u16, String)>, String> {
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
            Err(e) => Err(describe(&e)),
        }
    }

    /// The addresses of `host` (or the IP literal itself).
    pub async fn ips(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        match self.inner.lookup_ip(fqdn(host)).await {
            Ok(l) => Ok(l.iter().collect()),
            Err(e) => Err(describe(&e)),
        }
    }

    /// The addresses of `host` on `port` that `check` accepts, or why there are none.
    pub async fn resolve_checked(
        &self,
        host: &str,
        port: u16,
        check: impl Fn(SocketAddr) -> Result<(), PolicyError>,
    ) -> Result<Vec<SocketAddr>, String> {
        let ips = self.ips(host).await?;
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

fn describe(e: &ResolveError) -> String {
    if e.is_no_records_found() {
        "no such record".to_owned()
    } else {
        format!("DNS error: {e}")
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
}

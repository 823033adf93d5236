//! MX lookup: recognises a hosted provider (Google Workspace, Microsoft 365, Yandex 360...)
//! behind a custom domain by its MX hosts, then uses that provider's servers.

use super::{Collector, Discoverer, Method, Target, add_provider};

/// Looks up the MX records of the domain and matches each host against the knowledge base.
pub(super) async fn run(d: &Discoverer, c: &Collector, target: &Target) {
    let step = c.begin(Method::Mx, &target.domain);
    match d.resolver.mx(&target.domain).await {
        Err(e) => c.end(step, false, e.to_string()),
        Ok(hosts) if hosts.is_empty() => c.end(step, false, "no MX records"),
        Ok(hosts) => {
            let listed = hosts
                .iter()
                .map(|(pref, h)| format!("{h} ({pref})"))
                .collect::<Vec<_>>()
                .join(", ");
            let found = hosts
                .iter()
                .find_map(|(_, h)| d.providers.by_mx_host(h).map(|p| (h, p)));
            match found {
                Some((host, provider)) => {
                    let n = add_provider(c, Method::Mx, provider);
                    c.set_provider(Method::Mx, provider.clone());
                    c.end(
                        step,
                        n > 0,
                        format!("MX {listed}: {host} is {}", provider.name),
                    );
                }
                None => c.end(step, false, format!("MX {listed}: no known provider")),
            }
        }
    }
    c.finish(Method::Mx);
}

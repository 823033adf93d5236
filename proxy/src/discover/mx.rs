//! MX lookup: recognises a hosted provider (Google Workspace, Microsoft 365, Yandex 360...)
//! behind a custom domain by its MX hosts, then uses that provider's servers.

use mailsetup_shared::api::Text;

use super::{Collector, Discoverer, Method, Target, add_provider};
use crate::i18n;

/// Looks up the MX records of the domain and matches each host against the knowledge base.
pub(super) async fn run(d: &Discoverer, c: &Collector, target: &Target) {
    let step = c.begin(Method::Mx, &target.domain);
    match d.resolver.mx(&target.domain).await {
        Err(e) => c.end(step, false, i18n::dns_reason(&e)),
        Ok(hosts) if hosts.is_empty() => {
            c.end(step, false, Text::new("no MX records", "записей MX нет"))
        }
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
                    let name = &provider.name;
                    c.end(
                        step,
                        n > 0,
                        Text::new(
                            format!("MX {listed}: {host} is {name}"),
                            format!("MX {listed}: {host} принадлежит {name}"),
                        ),
                    );
                }
                None => c.end(
                    step,
                    false,
                    Text::new(
                        format!("MX {listed}: no known provider"),
                        format!("MX {listed}: провайдер неизвестен"),
                    ),
                ),
            }
        }
    }
    c.finish(Method::Mx);
}

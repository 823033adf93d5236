//! RFC 6186 SRV records: `_imaps._tcp`, `_imap._tcp`, `_pop3s._tcp`, `_pop3._tcp`,
//! `_submissions._tcp` (RFC 8314) and `_submission._tcp`, in priority/weight order;
//! a target of "." means the service is not offered.

use mailsetup_shared::api::{Protocol, Security, Server, Text, UsernameForm};

use super::{Collector, Discoverer, Method, Target, pair};
use crate::i18n;

/// The services asked for, with what each one means.
const SERVICES: [(&str, Protocol, Security); 6] = [
    ("_imaps._tcp", Protocol::Imap, Security::Tls),
    ("_imap._tcp", Protocol::Imap, Security::Starttls),
    ("_pop3s._tcp", Protocol::Pop3, Security::Tls),
    ("_pop3._tcp", Protocol::Pop3, Security::Starttls),
    ("_submissions._tcp", Protocol::Smtp, Security::Tls),
    ("_submission._tcp", Protocol::Smtp, Security::Starttls),
];

/// One usable SRV answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Found {
    priority: u16,
    weight: u16,
    server: Server,
}

/// Looks up all six services at once and adds the best IMAP and POP3 servers, each with
/// the best submission server.
pub(super) async fn run(d: &Discoverer, c: &Collector, target: &Target) {
    // Lookups still unanswered a little before the deadline are given up, so that the
    // answered ones are still reported.
    let share = d.settings.timeout.mul_f64(0.85);
    let until = tokio::time::Instant::now() + share;
    let lookups = SERVICES.iter().map(|(svc, protocol, security)| async move {
        let name = format!("{svc}.{}", target.domain);
        let step = c.begin(Method::Srv, &name);
        let Ok(answer) = tokio::time::timeout_at(until, d.resolver.srv(&name)).await else {
            let ms = share.as_millis();
            c.end(
                step,
                false,
                Text::new(
                    format!("timed out: no answer within {ms} ms"),
                    format!("время вышло: нет ответа за {ms} мс"),
                ),
            );
            return Vec::new();
        };
        match answer {
            Err(e) => {
                c.end(step, false, i18n::dns_reason(&e));
                Vec::new()
            }
            Ok(records) => {
                let (found, detail) = interpret(&records, *protocol, *security);
                c.end(step, !found.is_empty(), detail);
                found
            }
        }
    });
    let all: Vec<Found> = futures_util::future::join_all(lookups)
        .await
        .into_iter()
        .flatten()
        .collect();
    let (incoming, outgoing) = order(all);
    pair(c, Method::Srv, &incoming, &outgoing);
    c.finish(Method::Srv);
}

/// Turns one service's records into servers, with a line for the trace.
pub(super) fn interpret(
    records: &[(u16, u16, u16, String)],
    protocol: Protocol,
    security: Security,
) -> (Vec<Found>, Text) {
    if records.is_empty() {
        return (Vec::new(), i18n::dns_reason("no such record"));
    }
    let mut found = Vec::new();
    let (mut en, mut ru) = (Vec::new(), Vec::new());
    for (priority, weight, port, host) in records {
        if host.is_empty() {
            en.push("\".\": service not offered".to_owned());
            ru.push("\".\": служба не предоставляется".to_owned());
            continue;
        }
        en.push(format!(
            "{host}:{port} (priority {priority}, weight {weight})"
        ));
        ru.push(format!(
            "{host}:{port} (приоритет {priority}, вес {weight})"
        ));
        if *port == 0 {
            continue;
        }
        found.push(Found {
            priority: *priority,
            weight: *weight,
            server: Server {
                protocol,
                host: host.clone(),
                port: *port,
                security,
                username: UsernameForm::Email,
            },
        });
    }
    (found, Text::new(en.join(", "), ru.join(", ")))
}

/// Incoming and outgoing servers, best first: lower priority, then implicit TLS before
/// STARTTLS (RFC 8314), then higher weight.
pub(super) fn order(mut all: Vec<Found>) -> (Vec<Server>, Vec<Server>) {
    all.sort_by_key(|f| {
        (
            f.server.protocol != Protocol::Imap,
            f.priority,
            f.server.security != Security::Tls,
            std::cmp::Reverse(f.weight),
        )
    });
    let (out, inc): (Vec<Found>, Vec<Found>) = all
        .into_iter()
        .partition(|f| f.server.protocol == Protocol::Smtp);
    // Keep only the best server per incoming protocol: candidates are alternatives.
    let mut incoming: Vec<Server> = Vec::new();
    for f in inc {
        if !incoming.iter().any(|s| s.protocol == f.server.protocol) {
            incoming.push(f.server);
        }
    }
    (incoming, out.into_iter().map(|f| f.server).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(p: u16, w: u16, port: u16, host: &str) -> (u16, u16, u16, String) {
        (p, w, port, host.to_owned())
    }

    #[test]
    fn dot_means_not_offered() {
        let (f, detail) = interpret(&[rec(0, 0, 0, "")], Protocol::Imap, Security::Tls);
        assert!(f.is_empty());
        assert!(detail.en.contains("not offered"));
        assert!(detail.ru.contains("не предоставляется"));
    }

    #[test]
    fn priority_then_tls_then_weight() {
        let mut all = Vec::new();
        all.extend(interpret(&[rec(10, 0, 143, "b")], Protocol::Imap, Security::Starttls).0);
        all.extend(
            interpret(
                &[
                    rec(10, 1, 993, "c"),
                    rec(10, 5, 993, "a"),
                    rec(20, 9, 993, "z"),
                ],
                Protocol::Imap,
                Security::Tls,
            )
            .0,
        );
        all.extend(interpret(&[rec(0, 0, 995, "p")], Protocol::Pop3, Security::Tls).0);
        all.extend(interpret(&[rec(5, 0, 587, "s2")], Protocol::Smtp, Security::Starttls).0);
        all.extend(interpret(&[rec(5, 0, 465, "s1")], Protocol::Smtp, Security::Tls).0);
        let (inc, out) = order(all);
        let hosts: Vec<&str> = inc.iter().map(|s| s.host.as_str()).collect();
        assert_eq!(hosts, ["a", "p"]);
        let hosts: Vec<&str> = out.iter().map(|s| s.host.as_str()).collect();
        assert_eq!(hosts, ["s1", "s2"]);
    }
}

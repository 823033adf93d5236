//! Guessing: the usual host names (`imap.`, `pop3.`, `pop.`, `smtp.`, `mail.` and the bare
//! domain) on the usual ports, all probed at once: TCP connect, the protocol's greeting,
//! and TLS (implicit, or after STARTTLS/STLS), by the check sessions' own conversations
//! (`check::probe`). No login is tried. Implicit TLS is preferred
//! over STARTTLS, and a certificate valid for the host over one that is not; the trace
//! says which certificate names each server presented.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use mailsetup_shared::api::{Protocol, Security, Server, Text, UsernameForm};

use super::tls::Seen;
use super::{Collector, Discoverer, Method, Target, pair};
use crate::check::probe::{self, ProbeLimits};
use crate::i18n;

/// One thing to probe.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Probe {
    protocol: Protocol,
    host: String,
    host_rank: usize,
    port: u16,
    security: Security,
}

/// What a probe found.
#[derive(Debug)]
struct Found {
    probe: Probe,
    cert_ok: bool,
}

/// The host names tried for each protocol, best first.
fn hosts(protocol: Protocol, domain: &str) -> Vec<String> {
    let prefixes: &[&str] = match protocol {
        Protocol::Imap => &["imap.", "mail.", ""],
        Protocol::Pop3 => &["pop3.", "pop.", "mail.", ""],
        Protocol::Smtp => &["smtp.", "mail.", ""],
    };
    prefixes.iter().map(|p| format!("{p}{domain}")).collect()
}

/// Resolves every name once, probes every (host, port) at once, adds the best IMAP and
/// POP3 servers with the best SMTP server.
pub(super) async fn run(d: &Discoverer, c: &Collector, target: &Target) {
    // Guessing stops itself a little before the discovery deadline, so what it found by
    // then is still reported.
    let share = d.settings.timeout.mul_f64(GUESS_SHARE);
    let until = tokio::time::Instant::now() + share;
    let ports = d.settings.ports;
    let plan = [
        (
            Protocol::Imap,
            [
                (ports.imaps, Security::Tls),
                (ports.imap, Security::Starttls),
            ],
        ),
        (
            Protocol::Pop3,
            [
                (ports.pop3s, Security::Tls),
                (ports.pop3, Security::Starttls),
            ],
        ),
        (
            Protocol::Smtp,
            [
                (ports.submissions, Security::Tls),
                (ports.submission, Security::Starttls),
            ],
        ),
    ];
    let mut names: Vec<String> = Vec::new();
    for (protocol, _) in &plan {
        for h in hosts(*protocol, &target.domain) {
            if !names.contains(&h) {
                names.push(h);
            }
        }
    }
    let resolved = futures_util::future::join_all(names.iter().map(|name| async move {
        let step = c.begin(Method::Guess, name.clone());
        let Ok(resolved) = tokio::time::timeout_at(until, d.resolver.ips(name)).await else {
            c.end(step, false, out_of_time(share));
            return None;
        };
        match resolved {
            Ok(ips) if !ips.is_empty() => {
                let list: Vec<String> = ips.iter().map(ToString::to_string).collect();
                let list = list.join(", ");
                c.end(
                    step,
                    true,
                    Text::new(format!("resolved to {list}"), format!("адреса: {list}")),
                );
                Some((name.clone(), ips))
            }
            Ok(_) => {
                c.end(step, false, i18n::dns_reason("no address"));
                None
            }
            Err(e) => {
                c.end(step, false, i18n::dns_reason(&e));
                None
            }
        }
    }))
    .await;
    let resolved: HashMap<String, Vec<IpAddr>> = resolved.into_iter().flatten().collect();

    let mut probes = Vec::new();
    for (protocol, modes) in &plan {
        for (host_rank, host) in hosts(*protocol, &target.domain).into_iter().enumerate() {
            if !resolved.contains_key(&host) {
                continue;
            }
            for (port, security) in modes {
                probes.push(Probe {
                    protocol: *protocol,
                    host: host.clone(),
                    host_rank,
                    port: *port,
                    security: *security,
                });
            }
        }
    }
    let done: Mutex<Vec<Found>> = Mutex::new(Vec::new());
    let (tx, mut rx) = tokio::sync::watch::channel(());
    let all = futures_util::future::join_all(probes.into_iter().map(|probe| {
        let ips = resolved.get(&probe.host).cloned().unwrap_or_default();
        let (done, tx) = (&done, &tx);
        async move {
            if let Some(f) = run_probe(d, c, probe, ips, until, share).await {
                lock(done).push(f);
                tx.send_replace(());
            }
        }
    }));
    // Once IMAP and SMTP servers with valid certificates answered, the others (often
    // filtered ports that never answer) get only a short while longer.
    let good_enough = async {
        loop {
            let verified = |p: Protocol| {
                lock(&done)
                    .iter()
                    .any(|f| f.probe.protocol == p && f.cert_ok)
            };
            if verified(Protocol::Imap) && verified(Protocol::Smtp) {
                break;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        tokio::time::sleep(LINGER).await;
    };
    let early = tokio::select! {
        _ = all => false,
        () = good_enough => true,
    };
    if early {
        c.abandon(
            Method::Guess,
            &Text::new(
                "stopped: servers with valid certificates were already found",
                "остановлено: серверы с действительными сертификатами уже найдены",
            ),
        );
    }
    let mut found: Vec<Found> = done.into_inner().unwrap_or_else(PoisonError::into_inner);
    found.sort_by_key(|f| {
        (
            !f.cert_ok,
            f.probe.security != Security::Tls,
            f.probe.host_rank,
        )
    });
    let best = |protocol: Protocol| -> Vec<Server> {
        found
            .iter()
            .filter(|f| f.probe.protocol == protocol)
            .take(1)
            .map(|f| Server {
                protocol,
                host: f.probe.host.clone(),
                port: f.probe.port,
                security: f.probe.security,
                username: UsernameForm::Email,
            })
            .collect()
    };
    let mut incoming = best(Protocol::Imap);
    incoming.extend(best(Protocol::Pop3));
    pair(c, Method::Guess, &incoming, &best(Protocol::Smtp));
    c.finish(Method::Guess);
}

async fn run_probe(
    d: &Discoverer,
    c: &Collector,
    probe: Probe,
    ips: Vec<IpAddr>,
    until: tokio::time::Instant,
    share: Duration,
) -> Option<Found> {
    let label = format!(
        "{} {}:{} ({})",
        probe.protocol.label(),
        probe.host,
        probe.port,
        probe.security.as_str()
    );
    let step = c.begin(Method::Guess, label);
    let (config, recorder) = match d.tls.recording() {
        Ok(ok) => ok,
        Err(e) => {
            let why = Text::new(e.to_string(), format!("TLS не настраивается: {e}"));
            c.end(step, false, why);
            return None;
        }
    };
    // Every step may take guessing's whole share; the share itself bounds the probe.
    let limits = ProbeLimits {
        connect: share,
        tls: share,
        reply: share,
    };
    let p = probe::Probe {
        protocol: probe.protocol,
        security: probe.security,
        host: &probe.host,
        port: probe.port,
        tls: config,
        limits,
    };
    let addr = match p.address(&d.policy, &ips) {
        Ok(addr) => addr,
        Err(why) => {
            c.end(step, false, why);
            return None;
        }
    };
    let outcome = tokio::time::timeout_at(until, p.run(addr)).await;
    match outcome {
        Err(_) => {
            let at = i18n::verbatim(format!("{addr}: "));
            c.end(step, false, i18n::prefixed(&at, &out_of_time(share)));
            None
        }
        Ok(Err(e)) => {
            let at = i18n::verbatim(format!("{addr}: "));
            c.end(step, false, i18n::prefixed(&at, &e));
            None
        }
        Ok(Ok(_)) => {
            let seen = Seen::from_verifier(&recorder);
            let (cert_ok, words) = describe_cert(&probe.host, seen.as_ref());
            c.end(
                step,
                true,
                Text::new(
                    format!("{addr}: greeting and TLS handshake ok; {}", words.en),
                    format!(
                        "{addr}: приветствие и TLS-рукопожатие в порядке; {}",
                        words.ru
                    ),
                ),
            );
            Some(Found { probe, cert_ok })
        }
    }
}

/// How long other probes may still run once verified IMAP and SMTP servers answered.
const LINGER: Duration = Duration::from_millis(1000);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The part of the discovery deadline guessing may use.
const GUESS_SHARE: f64 = 0.85;

fn out_of_time(share: Duration) -> Text {
    let ms = share.as_millis();
    Text::new(
        format!("timed out: no answer within guessing's share of the deadline ({ms} ms)"),
        format!("время вышло: нет ответа за время, отведённое на угадывание ({ms} мс)"),
    )
}

/// Whether the certificate verified for `host`, and a sentence about its names.
fn describe_cert(host: &str, seen: Option<&Seen>) -> (bool, Text) {
    match seen {
        None => (
            false,
            Text::new("no certificate seen", "сертификат не получен"),
        ),
        Some(s) => {
            let names = if s.names.is_empty() {
                Text::new("no names", "имён нет")
            } else {
                i18n::verbatim(s.names.join(", "))
            };
            match &s.verdict {
                Ok(()) => (
                    true,
                    Text::new(
                        format!("certificate valid for {host} (names: {})", names.en),
                        format!("сертификат действителен для {host} (имена: {})", names.ru),
                    ),
                ),
                Err(e) => (
                    false,
                    Text::new(
                        format!("certificate names {} not valid for {host}: {e}", names.en),
                        format!(
                            "имена в сертификате ({}) не подходят для {host}: {e}",
                            names.ru
                        ),
                    ),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_per_protocol() {
        assert_eq!(
            hosts(Protocol::Pop3, "x.test"),
            ["pop3.x.test", "pop.x.test", "mail.x.test", "x.test"]
        );
        assert_eq!(hosts(Protocol::Imap, "x.test")[0], "imap.x.test");
    }

    #[test]
    fn cert_words() {
        let seen = Seen {
            names: vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
            verdict: Err("NotValidForName".to_owned()),
        };
        let (ok, words) = describe_cert("imap.x.test", Some(&seen));
        assert!(!ok);
        assert!(words.en.contains("localhost, 127.0.0.1"), "{words:?}");
        assert!(words.ru.contains("localhost, 127.0.0.1"), "{words:?}");
    }
}

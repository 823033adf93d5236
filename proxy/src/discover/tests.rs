//! Tests of the collector and the settings.
use std::time::Duration;

use super::*;
use crate::i18n;
use mailsetup_shared::api::{Protocol, Server};
use mailsetup_shared::api::{Security, UsernameForm};

fn server(protocol: Protocol, host: &str) -> Server {
    Server {
        protocol,
        host: host.to_owned(),
        port: 993,
        security: Security::Tls,
        username: UsernameForm::Email,
    }
}

#[test]
fn best_ranked_first_and_duplicates_merged() {
    let c = Collector::new();
    let out = server(Protocol::Smtp, "smtp.a");
    c.add(Method::Guess, server(Protocol::Imap, "g"), out.clone());
    c.add(Method::Srv, server(Protocol::Imap, "s"), out.clone());
    c.add(
        Method::AutoconfigHttps,
        server(Protocol::Imap, "s"),
        out.clone(),
    );
    let r = c.into_answer("a".to_owned(), Cut::None, Duration::from_secs(1));
    let hosts: Vec<(&str, CandidateSource)> = r
        .candidates
        .iter()
        .map(|c| (c.incoming.host.as_str(), c.source))
        .collect();
    assert_eq!(
        hosts,
        [
            ("s", CandidateSource::Autoconfig),
            ("g", CandidateSource::Guess)
        ]
    );
}

#[test]
fn settled_only_when_every_better_method_finished() {
    let c = Collector::new();
    assert!(c.settled_on().is_none());
    c.add(
        Method::Srv,
        server(Protocol::Imap, "s"),
        server(Protocol::Smtp, "o"),
    );
    assert!(c.settled_on().is_none());
    c.finish(Method::Builtin);
    c.finish(Method::Mx);
    assert!(c.settled_on().is_none());
    c.finish(Method::AutoconfigHttps);
    assert_eq!(c.settled_on(), Some(Method::Srv));
}

#[test]
fn flags_are_checked() {
    use clap::Parser as _;
    let parse = |args: &[&str]| {
        crate::Config::try_parse_from(["mailsetup-proxy"].iter().chain(args))
            .map_err(|e| e.to_string())
            .and_then(|c| {
                DiscoverSettings::from_config(&c, DiscoverPorts::default())
                    .map_err(|e| e.to_string())
            })
    };
    assert_eq!(parse(&[]).unwrap().timeout, Duration::from_secs(8));
    assert!(parse(&["--discover-timeout", "0"]).is_err());
    assert!(parse(&["--discover-timeout", "2.5", "--discover-cache-ttl=-1"]).is_err());
    assert!(parse(&["--ispdb-url", "ftp://x/"]).is_err());
    let s = parse(&[
        "--discover-timeout",
        "2.5",
        "--discover-cache-ttl",
        "0",
        "--ispdb-url",
        "https://ispdb.example/v1.1/",
    ])
    .unwrap();
    assert_eq!(
        (s.timeout, s.cache_ttl),
        (Duration::from_millis(2500), Duration::ZERO)
    );
}

#[test]
fn pending_steps_are_reported_as_timed_out() {
    let c = Collector::new();
    let _step = c.begin(Method::Guess, "imap.a:993");
    let done = c.begin(Method::Srv, "_imaps._tcp.a");
    c.end(done, false, i18n::verbatim("no record"));
    let r = c.into_answer("a".to_owned(), Cut::Deadline, Duration::from_secs(8));
    assert_eq!(r.trace.len(), 2);
    let t = &r.trace[1];
    assert_eq!((t.method.as_str(), t.ok), ("guess", false));
    let detail = t.detail.clone().unwrap_or_default();
    assert!(detail.en.contains("timed out"));
    assert!(detail.ru.contains("время вышло"));
    let ru = r.render(Lang::Ru);
    assert_eq!(ru.trace[1].detail.as_deref(), Some(detail.ru.as_str()));
}

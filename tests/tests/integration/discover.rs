//! Discovery end to end on loopback: a local DNS server, a local HTTPS/HTTP server with the
//! harness CA, and the Dovecot harness to guess against (see `mailsetup_tests::discovery`).
//! One test per method, plus disagreement, timeouts of each method, bogus XML, the cache,
//! policy refusals and the HTTP route.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use mailsetup_proxy::discover::DiscoverSettings;
use mailsetup_proxy::policy::EgressPolicy;
use mailsetup_shared::api::{
    CandidateSource, Confidence, DiscoverResponse, Lang, Protocol, Security, TraceMethod,
    UsernameForm,
};
use mailsetup_tests::discovery::{Fixture, target};
use mailsetup_tests::mail::MailServers;
use tower::ServiceExt as _;

fn fixture() -> &'static Fixture {
    Fixture::shared(MailServers::shared())
}

/// A generous deadline: no test here depends on timing but the timeout tests.
const DEADLINE: Duration = Duration::from_secs(6);

async fn discover_with(
    settings: DiscoverSettings,
    policy: EgressPolicy,
    email: &str,
) -> DiscoverResponse {
    let d = fixture().discoverer(settings, policy).unwrap();
    d.discover(&target(email), Lang::En).await
}

async fn discover(email: &str) -> DiscoverResponse {
    let f = fixture();
    discover_with(f.settings(DEADLINE), Fixture::open_policy(), email).await
}

fn trace_of(r: &DiscoverResponse, method: TraceMethod) -> Vec<&mailsetup_shared::api::TraceEntry> {
    r.trace.iter().filter(|t| t.method == method).collect()
}

fn dump(r: &DiscoverResponse) -> String {
    serde_json::to_string_pretty(r).unwrap()
}

#[tokio::test]
async fn builtin_provider_by_domain() {
    let r = discover("alice@builtin.disc.test").await;
    assert_eq!(
        r.provider.as_ref().map(|p| p.id.as_str()),
        Some("testmail"),
        "{}",
        dump(&r)
    );
    let first = &r.candidates[0];
    assert_eq!(first.source, CandidateSource::Builtin);
    assert_eq!(first.confidence, Confidence::High);
    assert_eq!(first.incoming.host, "imap.testmail.test");
    assert_eq!(first.outgoing.host, "smtp.testmail.test");
}

#[tokio::test]
async fn mx_reveals_a_known_provider_behind_a_custom_domain() {
    let r = discover("alice@mx.disc.test").await;
    assert_eq!(
        r.provider.as_ref().map(|p| p.id.as_str()),
        Some("testmail"),
        "{}",
        dump(&r)
    );
    assert_eq!(r.candidates[0].source, CandidateSource::Mx);
    assert_eq!(r.candidates[0].incoming.host, "imap.testmail.test");
    let mx = trace_of(&r, TraceMethod::Mx);
    assert!(mx[0].ok);
    let detail = mx[0].detail.as_deref().unwrap();
    assert!(
        detail.contains("mx1.mxhost.test (10)") && detail.contains("Test Mail"),
        "{detail}"
    );
}

#[tokio::test]
async fn srv_records_in_priority_order_and_dot_means_none() {
    let f = fixture();
    let r = discover("alice@srv.disc.test").await;
    let c = &r.candidates[0];
    assert_eq!(c.source, CandidateSource::Srv, "{}", dump(&r));
    assert_eq!(c.confidence, Confidence::Medium);
    assert_eq!(
        (
            c.incoming.protocol,
            c.incoming.host.as_str(),
            c.incoming.port,
            c.incoming.security
        ),
        (
            Protocol::Imap,
            "imap.srv.disc.test",
            f.mail_ports.imaps,
            Security::Tls
        )
    );
    assert_eq!(
        (
            c.outgoing.host.as_str(),
            c.outgoing.port,
            c.outgoing.security
        ),
        (
            "smtp.srv.disc.test",
            f.mail_ports.submission,
            Security::Starttls
        )
    );
    // The POP3 record is the second candidate.
    assert!(r.candidates.iter().any(|c| c.source == CandidateSource::Srv
        && c.incoming.protocol == Protocol::Pop3
        && c.incoming.host == "pop.srv.disc.test"));
    let none = r
        .trace
        .iter()
        .find(|t| t.target == "_imap._tcp.srv.disc.test")
        .unwrap();
    assert!(!none.ok);
    assert!(none.detail.as_deref().unwrap().contains("not offered"));
}

#[tokio::test]
async fn autoconfig_over_https_with_placeholders() {
    let r = discover("alice@auto.disc.test").await;
    let c = &r.candidates[0];
    assert_eq!(
        (c.source, c.confidence),
        (CandidateSource::Autoconfig, Confidence::High),
        "{}",
        dump(&r)
    );
    assert_eq!(c.incoming.host, "imap.auto.disc.test");
    assert_eq!(c.incoming.username, UsernameForm::LocalPart);
    assert_eq!(
        (c.outgoing.host.as_str(), c.outgoing.port),
        ("smtp.auto.disc.test", 587)
    );
    // %EMAILDOMAIN% in the POP3 host name.
    assert!(
        r.candidates
            .iter()
            .any(|c| c.incoming.host == "pop.auto.disc.test")
    );
    // The address was passed to the autoconfig server.
    let seen = fixture().web.seen();
    assert!(
        seen.iter().any(|s| s.starts_with("https autoconfig.auto.disc.test /mail/config-v1.1.xml?emailaddress=alice%40auto.disc.test")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn autoconfig_well_known_through_a_redirect_and_chunked_body() {
    let r = discover("bob@wk.disc.test").await;
    let c = &r.candidates[0];
    assert_eq!(c.source, CandidateSource::Autoconfig, "{}", dump(&r));
    assert_eq!(c.incoming.host, "imap.wk.disc.test");
    let entry = trace_of(&r, TraceMethod::Autoconfig)
        .into_iter()
        .find(|t| t.ok && t.target.starts_with("https://"))
        .unwrap();
    assert!(
        entry
            .detail
            .as_deref()
            .unwrap()
            .contains("redirected to https://wk.disc.test/real/config.xml")
    );
}

#[tokio::test]
async fn ispdb_when_the_domain_has_nothing() {
    let r = discover("alice@ispdb.disc.test").await;
    let c = &r.candidates[0];
    assert_eq!(
        (c.source, c.confidence),
        (CandidateSource::Ispdb, Confidence::Medium),
        "{}",
        dump(&r)
    );
    assert_eq!(c.incoming.host, "imap.ispdb.disc.test");
}

#[tokio::test]
async fn autodiscover_pox_and_a_server_that_wants_a_login() {
    let r = discover("alice@ad.disc.test").await;
    let c = &r.candidates[0];
    assert_eq!(
        (c.source, c.confidence),
        (CandidateSource::Autodiscover, Confidence::Medium),
        "{}",
        dump(&r)
    );
    assert_eq!(
        (c.incoming.host.as_str(), c.incoming.security),
        ("mail.ad.disc.test", Security::Tls)
    );
    assert_eq!(
        (c.outgoing.port, c.outgoing.security),
        (587, Security::Starttls)
    );
    let r = discover("alice@ex.disc.test").await;
    assert!(r.candidates.is_empty(), "{}", dump(&r));
    assert!(r.trace.iter().any(|t| t.method == TraceMethod::Autodiscover
        && t.detail.as_deref().is_some_and(|d| d.contains("HTTP 401"))));
}

#[tokio::test]
async fn plain_http_autoconfig_is_low_confidence() {
    let r = discover("alice@http.disc.test").await;
    let c = &r.candidates[0];
    assert_eq!(
        (c.source, c.confidence),
        (CandidateSource::Autoconfig, Confidence::Low),
        "{}",
        dump(&r)
    );
    assert_eq!(c.incoming.host, "imap.http.disc.test");
    // The HTTPS attempt failed with a 404 and says so.
    assert!(r.trace.iter().any(
        |t| t.target.starts_with("https://autoconfig.http.disc.test")
            && t.detail.as_deref() == Some("HTTP 404")
    ));
}

#[tokio::test]
async fn guessing_against_dovecot_prefers_implicit_tls_and_reports_certificate_names() {
    let f = fixture();
    let r = discover("alice@guess.disc.test").await;
    let c = &r.candidates[0];
    assert_eq!(
        (c.source, c.confidence),
        (CandidateSource::Guess, Confidence::Low),
        "{}",
        dump(&r)
    );
    assert_eq!(
        (
            c.incoming.host.as_str(),
            c.incoming.port,
            c.incoming.security
        ),
        ("imap.guess.disc.test", f.mail_ports.imaps, Security::Tls)
    );
    assert_eq!(
        (
            c.outgoing.host.as_str(),
            c.outgoing.port,
            c.outgoing.security
        ),
        (
            "smtp.guess.disc.test",
            f.mail_ports.submissions,
            Security::Tls
        )
    );
    // POP3 was found too, on a name its certificate does not carry.
    let pop = r
        .candidates
        .iter()
        .find(|c| c.incoming.protocol == Protocol::Pop3)
        .unwrap();
    assert_eq!(pop.incoming.host, "pop3.guess.disc.test");
    let detail = |label: &str| {
        r.trace
            .iter()
            .find(|t| t.target == label)
            .and_then(|t| t.detail.clone())
            .unwrap_or_else(|| panic!("no trace for {label}: {}", dump(&r)))
    };
    let ok = detail(&format!(
        "IMAP imap.guess.disc.test:{} (tls)",
        f.mail_ports.imaps
    ));
    assert!(
        ok.contains("certificate valid for imap.guess.disc.test"),
        "{ok}"
    );
    let bad = detail(&format!(
        "POP3 pop3.guess.disc.test:{} (tls)",
        f.mail_ports.pop3s
    ));
    assert!(
        bad.contains("not valid for pop3.guess.disc.test") && bad.contains("localhost"),
        "{bad}"
    );
    // mail.guess.disc.test is the no-TLS Dovecot: STARTTLS is not offered there.
    let no_tls = detail(&format!(
        "IMAP mail.guess.disc.test:{} (starttls)",
        f.mail_ports.imap
    ));
    assert!(no_tls.contains("STARTTLS"), "{no_tls}");
    // The bare domain never answers: its probes were stopped once verified IMAP and SMTP
    // servers had answered, well before the deadline.
    let silent = detail(&format!(
        "IMAP guess.disc.test:{} (tls)",
        f.mail_ports.imaps
    ));
    assert!(
        silent.contains("stopped: servers with valid certificates"),
        "{silent}"
    );
    // A name with no address is in the trace as such.
    assert!(
        r.trace
            .iter()
            .any(|t| t.target == "pop.guess.disc.test" && !t.ok)
    );
}

#[tokio::test]
async fn methods_disagreeing_rank_autoconfig_over_srv() {
    let r = discover("alice@both.disc.test").await;
    let sources: Vec<(CandidateSource, &str)> = r
        .candidates
        .iter()
        .map(|c| (c.source, c.incoming.host.as_str()))
        .collect();
    assert_eq!(
        sources[0],
        (CandidateSource::Autoconfig, "imap-ac.both.disc.test"),
        "{}",
        dump(&r)
    );
    assert!(
        sources.contains(&(CandidateSource::Srv, "imap-srv.both.disc.test")),
        "{sources:?}"
    );
}

#[tokio::test]
async fn bogus_xml_is_a_trace_entry_and_srv_still_answers() {
    let r = discover("alice@bogus.disc.test").await;
    assert_eq!(r.candidates[0].source, CandidateSource::Srv, "{}", dump(&r));
    let ac = trace_of(&r, TraceMethod::Autoconfig);
    let https: Vec<&str> = ac
        .iter()
        .filter(|t| t.target.starts_with("https://"))
        .map(|t| t.detail.as_deref().unwrap())
        .collect();
    assert!(
        https
            .iter()
            .any(|d| d.contains("not a config-v1.1 document (root element <html>)")),
        "{https:?}"
    );
    assert!(
        https.iter().any(|d| d.contains("not well-formed XML")),
        "{https:?}"
    );
}

#[tokio::test]
async fn every_slow_method_times_out_and_partial_results_are_returned() {
    let f = fixture();
    let r = discover_with(
        f.settings(Duration::from_millis(1500)),
        Fixture::open_policy(),
        "alice@slow.disc.test",
    )
    .await;
    // Only plain-HTTP autoconfig answered in time.
    assert_eq!(r.candidates.len(), 2, "{}", dump(&r));
    assert!(r.candidates.iter().all(|c| c.confidence == Confidence::Low));
    let timed_out = |method: TraceMethod, target: &str| {
        r.trace.iter().any(|t| {
            t.method == method
                && t.target.starts_with(target)
                && !t.ok
                && t.detail.as_deref().is_some_and(|d| d.contains("timed out"))
        })
    };
    assert!(timed_out(TraceMethod::Mx, "slow.disc.test"), "{}", dump(&r));
    assert!(timed_out(TraceMethod::Srv, "_imaps._tcp.slow.disc.test"));
    assert!(timed_out(
        TraceMethod::Autoconfig,
        "https://autoconfig.slow.disc.test"
    ));
    assert!(timed_out(TraceMethod::Ispdb, "https://ispdb.test"));
    assert!(timed_out(TraceMethod::Guess, "imap.slow.disc.test"));
}

#[tokio::test]
async fn unknown_domain_gives_no_candidates_and_a_full_trace() {
    let r = discover("alice@nothing.disc.test").await;
    assert!(r.candidates.is_empty(), "{}", dump(&r));
    assert!(r.provider.is_none());
    for method in [
        TraceMethod::Builtin,
        TraceMethod::Mx,
        TraceMethod::Srv,
        TraceMethod::Autoconfig,
        TraceMethod::Ispdb,
        TraceMethod::Guess,
    ] {
        assert!(!trace_of(&r, method).is_empty(), "no {method} in the trace");
    }
    assert!(r.trace.iter().all(|t| !t.ok));
}

#[tokio::test]
async fn egress_policy_refuses_loopback_and_non_standard_ports() {
    let f = fixture();
    let refused = |r: &DiscoverResponse, method: TraceMethod, why: &str| {
        r.trace.iter().any(|t| {
            t.method == method
                && t.detail
                    .as_deref()
                    .is_some_and(|d| d.contains("refused by the egress policy") && d.contains(why))
        })
    };
    // Any port, but public addresses only: loopback is refused.
    let public_only = EgressPolicy {
        allow_any_port: true,
        allow_private_targets: false,
    };
    let r = discover_with(f.settings(DEADLINE), public_only, "alice@auto.disc.test").await;
    assert!(r.candidates.is_empty(), "{}", dump(&r));
    assert!(
        refused(&r, TraceMethod::Autoconfig, "loopback"),
        "{}",
        dump(&r)
    );
    let r = discover_with(f.settings(DEADLINE), public_only, "alice@guess.disc.test").await;
    assert!(r.candidates.is_empty(), "{}", dump(&r));
    assert!(refused(&r, TraceMethod::Guess, "loopback"), "{}", dump(&r));
    // Loopback allowed, but the fixtures' ports are neither web nor mail ports.
    let ports_only = EgressPolicy {
        allow_any_port: false,
        allow_private_targets: true,
    };
    let r = discover_with(f.settings(DEADLINE), ports_only, "alice@auto.disc.test").await;
    assert!(r.candidates.is_empty(), "{}", dump(&r));
    assert!(
        refused(&r, TraceMethod::Autoconfig, "is not a web port"),
        "{}",
        dump(&r)
    );
    let r = discover_with(f.settings(DEADLINE), ports_only, "alice@guess.disc.test").await;
    assert!(
        refused(&r, TraceMethod::Guess, "is not a mail port"),
        "{}",
        dump(&r)
    );
    // The defaults refuse both.
    let r = discover_with(
        f.settings(DEADLINE),
        EgressPolicy::default(),
        "alice@auto.disc.test",
    )
    .await;
    assert!(r.candidates.is_empty(), "{}", dump(&r));
}

#[tokio::test]
async fn second_discovery_is_a_cache_hit() {
    let f = fixture();
    let mut settings = f.settings(DEADLINE);
    settings.cache_ttl = Duration::from_secs(60);
    let d = f.discoverer(settings, Fixture::open_policy()).unwrap();
    let first = d.discover(&target("alice@auto.disc.test"), Lang::En).await;
    assert!(first.trace.iter().all(|t| t.method != TraceMethod::Cache));
    let second = d.discover(&target("bob@auto.disc.test"), Lang::En).await;
    assert_eq!(second.trace.len(), 1, "{}", dump(&second));
    assert_eq!(second.trace[0].method, TraceMethod::Cache);
    assert_eq!(second.candidates, first.candidates);
    // Another domain is not in the cache.
    let other = d.discover(&target("alice@srv.disc.test"), Lang::En).await;
    assert!(other.trace.iter().all(|t| t.method != TraceMethod::Cache));
}

#[tokio::test]
async fn concurrent_requests_for_one_domain_share_one_discovery() {
    let f = fixture();
    // Cache off: only the sharing of a running discovery is tested.
    let d = f
        .discoverer(f.settings(DEADLINE), Fixture::open_policy())
        .unwrap();
    let (ta, tb) = (target("alice@once.disc.test"), target("bob@once.disc.test"));
    let (a, b) = tokio::join!(d.discover(&ta, Lang::En), d.discover(&tb, Lang::En));
    assert_eq!(a.candidates, b.candidates, "{}", dump(&a));
    assert_eq!(a.candidates[0].incoming.host, "imap.once.disc.test");
    let shared = [&a, &b]
        .iter()
        .filter(|r| r.trace[0].method == TraceMethod::Cache)
        .count();
    assert_eq!(shared, 1, "{}\n{}", dump(&a), dump(&b));
    let fetches = f
        .web
        .seen()
        .iter()
        .filter(|s| s.starts_with("https autoconfig.once.disc.test"))
        .count();
    assert_eq!(fetches, 1);
}

async fn route(uri: &str) -> (StatusCode, serde_json::Value) {
    let f = fixture();
    let dir = std::env::temp_dir().join("mailsetup-empty-dist");
    let _ = std::fs::create_dir_all(&dir);
    let mut config = crate::test_config(&dir, MailServers::shared());
    config.dns_server = Some(f.dns.addr);
    config.discover_cache_ttl = mailsetup_proxy::config::Seconds::new(Duration::ZERO);
    let app = mailsetup_proxy::app(
        mailsetup_proxy::AppState::with_discover_ports(config, f.settings(DEADLINE).ports).unwrap(),
    );
    let res = app
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn route_answers_json_and_refuses_malformed_addresses() {
    let (status, body) = route("/api/v1/discover?email=alice%40auto.disc.test").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["domain"], "auto.disc.test");
    assert_eq!(body["provider"], serde_json::Value::Null);
    assert_eq!(body["candidates"][0]["source"], "autoconfig");
    assert_eq!(body["candidates"][0]["confidence"], "high");
    assert_eq!(
        body["candidates"][0]["incoming"]["host"],
        "imap.auto.disc.test"
    );
    assert!(body["trace"].as_array().is_some_and(|t| !t.is_empty()));
    for uri in [
        "/api/v1/discover?email=not-an-address",
        "/api/v1/discover?email=a%40b",
    ] {
        let (status, body) = route(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["code"], "invalid_email");
        assert_eq!(body["error"]["field"], "email");
    }
    let (status, body) = route("/api/v1/discover").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "email");
}

//! Name resolution of `POST /api/v1/check`: checks resolve with the proxy's one resolver
//! (the one discovery uses, honouring `--dns-server`), cancelled by the step deadline.
//! Names are served by a test DNS server on loopback and point at the Dovecot harness.
//! A name that does not exist or has no address is `dns_not_found`; a resolver that fails
//! (SERVFAIL, REFUSED) or never answers is `dns_failed`. International names are checked as
//! typed (Unicode) and as punycode alike.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use mailsetup_proxy::config::Seconds;
use mailsetup_proxy::{AppState, Config};
use mailsetup_tests::dns::{DnsServer, Rcode, SilentDns, Zone};
use mailsetup_tests::mail::{MailServers, scenario, users};
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn mail() -> &'static MailServers {
    MailServers::shared()
}

/// The end-to-end configuration, asking the DNS server at `dns`.
fn config(dns: std::net::SocketAddr) -> Config {
    let mut c = crate::test_config(&crate::empty_dist(), mail());
    c.dns_server = Some(dns);
    c
}

/// The names of these tests: `mail.dns.test` and `imap.пример.рф`/`smtp.пример.рф` at the
/// good Dovecot; `nodata.dns.test` exists without an address; `servfail.dns.test` and
/// `refused.dns.test` make the server fail.
fn zone() -> Zone {
    Zone::new()
        .addr("mail.dns.test", scenario::GOOD)
        .addr("imap.xn--e1afmkfd.xn--p1ai", scenario::GOOD)
        .addr("smtp.xn--e1afmkfd.xn--p1ai", scenario::GOOD)
        .mx("nodata.dns.test", 10, "mail.dns.test")
        .fail("servfail.dns.test", Rcode::ServFail)
        .fail("refused.dns.test", Rcode::Refused)
}

async fn post(config: Config, body: &Value) -> (StatusCode, Value) {
    let app = mailsetup_proxy::app(AppState::new(config).unwrap());
    let req = Request::post("/api/v1/check")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if let Some(pw) = body["password"].as_str() {
        assert!(!text.contains(pw), "the response echoes the password");
    }
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn imaps(host: &str) -> Value {
    json!({"protocol": "imap", "host": host, "port": mail().ports.imaps, "security": "tls"})
}

fn smtps(host: &str) -> Value {
    json!({"host": host, "port": mail().ports.submissions, "security": "tls"})
}

/// The incoming side report of a check of `host` as ALICE.
async fn incoming(config: Config, host: &str) -> Value {
    let body =
        json!({"email": users::ALICE.0, "password": users::ALICE.1, "incoming": imaps(host)});
    let (status, json) = post(config, &body).await;
    assert_eq!(status, StatusCode::OK, "{json:#}");
    json["incoming"].clone()
}

fn code(side: &Value) -> &str {
    side["diagnosis"]["code"].as_str().unwrap_or("<none>")
}

fn resolve_step(side: &Value) -> &Value {
    side["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["step"] == "resolve"))
        .unwrap_or_else(|| panic!("no resolve step: {side:#}"))
}

#[tokio::test]
async fn a_name_served_by_the_dns_server_reaches_dovecot_and_logs_in() {
    let dns = DnsServer::start(zone()).unwrap();
    let side = incoming(config(dns.addr), "mail.dns.test").await;
    assert_eq!(side["ok"], true, "{side:#}\n{}", mail().log_tail());
    // The address checked is the one connected to.
    let resolve = resolve_step(&side);
    let addr = format!("{}:{}", scenario::GOOD, mail().ports.imaps);
    assert_eq!(resolve["detail"], addr.as_str(), "{side:#}");
    let connect = side["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "connect")
        .unwrap();
    assert_eq!(
        connect["detail"],
        format!("connected to {addr}").as_str(),
        "{side:#}"
    );
    assert_eq!(side["host"], "mail.dns.test");
}

#[tokio::test]
async fn a_name_that_does_not_exist_or_has_no_address_is_dns_not_found() {
    let dns = DnsServer::start(zone()).unwrap();
    for host in ["missing.dns.test", "nodata.dns.test"] {
        let side = incoming(config(dns.addr), host).await;
        assert_eq!(code(&side), "dns_not_found", "{host}: {side:#}");
        assert_eq!(resolve_step(&side)["ok"], false, "{side:#}");
    }
}

#[tokio::test]
async fn a_failing_resolver_is_dns_failed_with_advice_on_the_services_side() {
    let dns = DnsServer::start(zone()).unwrap();
    for host in ["servfail.dns.test", "refused.dns.test"] {
        let side = incoming(config(dns.addr), host).await;
        assert_eq!(code(&side), "dns_failed", "{host}: {side:#}");
        assert_eq!(resolve_step(&side)["ok"], false, "{side:#}");
        let advice = side["diagnosis"]["advice"].as_str().unwrap();
        assert!(advice.contains("our side"), "{advice}");
    }
}

#[tokio::test]
async fn a_resolver_that_never_answers_is_dns_failed_at_the_step_deadline() {
    let silent = SilentDns::start().unwrap();
    let mut c = config(silent.addr);
    // The resolve step's deadline is the connect timeout; the resolver's own query timeout
    // is shorter, so both a retry and the cancellation happen.
    c.connect_timeout = Seconds::from_millis(1500);
    c.dns_query_timeout = Seconds::from_millis(400);
    let started = Instant::now();
    let side = incoming(c, "mail.dns.test").await;
    let took = started.elapsed();
    assert_eq!(code(&side), "dns_failed", "{side:#}");
    assert!(took < Duration::from_secs(5), "took {took:?}");

    // With the resolver's own timeout longer than the deadline, the deadline cancels it.
    let mut c = config(silent.addr);
    c.connect_timeout = Seconds::from_secs(1);
    c.dns_query_timeout = Seconds::from_secs(30);
    let started = Instant::now();
    let side = incoming(c, "mail.dns.test").await;
    let took = started.elapsed();
    assert_eq!(code(&side), "dns_failed", "{side:#}");
    assert!(
        resolve_step(&side)["detail"]
            .as_str()
            .unwrap()
            .contains("no answer within"),
        "{side:#}"
    );
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[tokio::test]
async fn ip_literals_skip_dns() {
    // Every query to this server would time out; IP literals must not ask it.
    let silent = SilentDns::start().unwrap();
    let mut c = config(silent.addr);
    c.connect_timeout = Seconds::from_secs(3);
    let side = incoming(c.clone(), scenario::GOOD).await;
    assert_eq!(side["ok"], true, "{side:#}");
    let free_port = {
        let l = std::net::TcpListener::bind("[::1]:0")
            .or_else(|_| std::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        l.local_addr().unwrap().port()
    };
    let body = json!({"email": users::ALICE.0, "password": users::ALICE.1,
        "incoming": {"protocol": "imap", "host": "[::1]", "port": free_port, "security": "tls"}});
    let (status, json) = post(c, &body).await;
    assert_eq!(status, StatusCode::OK, "{json:#}");
    let resolve = resolve_step(&json["incoming"]);
    assert_eq!(resolve["ok"], true, "{json:#}");
    assert_eq!(resolve["detail"], format!("[::1]:{free_port}").as_str());
    assert_ne!(code(&json["incoming"]), "dns_failed");
}

#[tokio::test]
async fn outgoing_names_use_the_same_resolver() {
    let dns = DnsServer::start(zone()).unwrap();
    let body = json!({"email": users::ALICE.0, "password": users::ALICE.1,
        "outgoing": smtps("mail.dns.test")});
    let (status, json) = post(config(dns.addr), &body).await;
    assert_eq!(status, StatusCode::OK, "{json:#}");
    assert_eq!(json["outgoing"]["ok"], true, "{json:#}");
}

#[tokio::test]
async fn an_international_name_is_checked_as_unicode_and_as_punycode() {
    let dns = DnsServer::start(zone()).unwrap();
    for host in [
        "imap.пример.рф",
        "IMAP.ПРИМЕР.РФ",
        "imap.xn--e1afmkfd.xn--p1ai",
    ] {
        let side = incoming(config(dns.addr), host).await;
        assert_eq!(side["ok"], true, "{host}: {side:#}\n{}", mail().log_tail());
        // People see the Unicode form; DNS and the certificate check used punycode.
        assert_eq!(side["host"], "imap.пример.рф", "{side:#}");
        let names = side["tls"]["names"].as_array().unwrap();
        assert!(
            names.iter().any(|n| n == "imap.xn--e1afmkfd.xn--p1ai"),
            "{side:#}"
        );
    }
}

#[tokio::test]
async fn an_international_address_is_accepted_and_sent_as_punycode() {
    let dns = DnsServer::start(zone()).unwrap();
    // The mailbox logs in as alice; the address checked as sender is international.
    let body = json!({"email": "anna@пример.рф", "username": users::ALICE.0,
        "password": users::ALICE.1,
        "incoming": imaps("imap.пример.рф"), "outgoing": smtps("smtp.пример.рф")});
    let (status, json) = post(config(dns.addr), &body).await;
    assert_eq!(status, StatusCode::OK, "{json:#}");
    assert_eq!(json["ok"], true, "{json:#}\n{}", mail().log_tail());
    let sender = json["outgoing"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "sender")
        .unwrap();
    // MAIL FROM carries the domain in punycode: a server without SMTPUTF8 accepts it.
    assert!(
        sender["detail"]
            .as_str()
            .unwrap()
            .starts_with("anna@xn--e1afmkfd.xn--p1ai accepted"),
        "{sender:#}"
    );
}

/// A configuration asking `dns` and knowing one more provider, Primer Mail, whose domain
/// is `пример.рф` (given in punycode, as the provider schema wants it).
fn config_with_primer(dns: std::net::SocketAddr) -> Config {
    let dir = std::env::temp_dir().join(format!("mailsetup-idn-providers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("providers.json");
    std::fs::write(
        &file,
        r#"[{"id":"primer","name":"Primer Mail","domains":["xn--e1afmkfd.xn--p1ai"],
            "servers":[{"protocol":"imap","host":"imap.xn--e1afmkfd.xn--p1ai","port":993,"security":"tls"},
                       {"protocol":"smtp","host":"smtp.xn--e1afmkfd.xn--p1ai","port":465,"security":"tls"}],
            "status":"works","sources":["https://help.primer.example/imap"]}]"#,
    )
    .unwrap();
    let mut c = config(dns);
    c.providers_file = Some(file);
    c
}

/// `s` percent-encoded for a query string.
fn query(s: &str) -> String {
    let mut q = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            q.push(char::from(b));
        } else {
            q.push_str(&format!("%{b:02X}"));
        }
    }
    q
}

async fn get(config: Config, uri: &str) -> (StatusCode, Value) {
    let app = mailsetup_proxy::app(AppState::new(config).unwrap());
    let res = app
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn an_international_address_gets_its_provider_on_every_route() {
    let dns = DnsServer::start(zone()).unwrap();
    let c = config_with_primer(dns.addr);
    for email in [
        "anna@пример.рф",
        "Anna@ПРИМЕР.РФ",
        "anna@xn--e1afmkfd.xn--p1ai",
    ] {
        // The check: a refused login is explained with the provider's name.
        let body = json!({"email": email, "username": users::ALICE.0,
            "password": "wrong-password-1", "incoming": imaps("imap.пример.рф")});
        let (status, json) = post(c.clone(), &body).await;
        assert_eq!(status, StatusCode::OK, "{json:#}");
        let diagnosis = &json["incoming"]["diagnosis"];
        assert_eq!(diagnosis["code"], "auth_failed", "{json:#}");
        assert!(
            diagnosis["message"]
                .as_str()
                .unwrap()
                .contains("Primer Mail"),
            "{email}: {diagnosis:#}"
        );
        // The lookup and discovery.
        let uri = format!("/api/v1/providers/lookup?email={}", query(email));
        let (status, json) = get(c.clone(), &uri).await;
        assert_eq!(status, StatusCode::OK, "{email}: {json:#}");
        assert_eq!(json["id"], "primer", "{email}: {json:#}");
        let uri = format!("/api/v1/discover?email={}", query(email));
        let (status, json) = get(c.clone(), &uri).await;
        assert_eq!(status, StatusCode::OK, "{email}: {json:#}");
        assert_eq!(json["domain"], "xn--e1afmkfd.xn--p1ai", "{json:#}");
        assert_eq!(json["provider"]["id"], "primer", "{json:#}");
    }
}

#[tokio::test]
async fn the_stream_checks_an_international_name() {
    let dns = DnsServer::start(zone()).unwrap();
    let body = json!({"email": "anna@пример.рф", "username": users::ALICE.0,
        "password": users::ALICE.1, "incoming": imaps("imap.пример.рф")});
    let app = mailsetup_proxy::app(crate::test_state(config(dns.addr)));
    let res = app
        .oneshot(
            Request::post("/api/v1/check/stream")
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let result = text
        .split("event: result\n")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .and_then(|line| line.strip_prefix("data: "))
        .unwrap_or_else(|| panic!("no result event: {text}"));
    let result: Value = serde_json::from_str(result).unwrap();
    assert_eq!(result["ok"], true, "{result:#}");
    assert_eq!(result["incoming"]["host"], "imap.пример.рф");
}

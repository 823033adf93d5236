//! Every step detail of a check and every trace detail of a discovery in the language asked
//! (`Accept-Language`): each check is run in English and in Russian, against the real
//! Dovecot and Postfix-less SMTP of the harness (good and refused logins) and against fake
//! servers (silence, the wrong protocol, garbage instead of TLS); each discovery likewise,
//! also answered from the cache in the other language. A Russian detail must contain
//! Cyrillic unless it is purely the server's words or addresses (then it equals the
//! English one); an English detail never contains Cyrillic.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use mailsetup_proxy::Config;
use mailsetup_proxy::config::Seconds;
use mailsetup_shared::api::Lang;
use mailsetup_tests::discovery::{Fixture, target};
use mailsetup_tests::fake::{Behavior, FakeServer, Script};
use mailsetup_tests::mail::{MailServers, scenario, users};
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn dist() -> std::path::PathBuf {
    crate::empty_dist()
}

fn mail() -> &'static MailServers {
    MailServers::shared()
}

/// Short timeouts, for fake servers that never answer.
fn config() -> Config {
    let mut c = crate::test_config(&dist(), mail());
    c.connect_timeout = Seconds::from_secs(2);
    c.tls_timeout = Seconds::from_secs(2);
    c.reply_timeout = Seconds::from_millis(1500);
    c.side_timeout = Seconds::from_secs(6);
    c
}

fn cyrillic(s: &str) -> bool {
    s.chars()
        .any(|c| ('а'..='я').contains(&c) || ('А'..='Я').contains(&c) || c == 'ё')
}

async fn request(app: axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let res = app.oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// `POST /api/v1/check` with `Accept-Language: lang` (none when `None`).
async fn check(body: &Value, lang: Option<&str>) -> Value {
    let app = mailsetup_proxy::app(crate::test_state(config()));
    let mut req = Request::post("/api/v1/check").header("content-type", "application/json");
    if let Some(lang) = lang {
        req = req.header("accept-language", lang);
    }
    let (status, text) = request(app, req.body(Body::from(body.to_string())).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Whether a step's detail is purely the server's words or addresses: the greeting, the
/// capability lists, a STARTTLS go-ahead and the goodbye, the resolved addresses, and a
/// refusal quoted as the diagnosis's `server_reply`.
fn pure_quote(side: &Value, step: &Value) -> bool {
    let kind = step["step"].as_str().unwrap();
    let ok = step["ok"] == true;
    let detail = step["detail"].as_str().unwrap_or("");
    (ok && matches!(
        kind,
        "greeting" | "capabilities" | "ehlo" | "starttls" | "logout" | "resolve"
    )) || (!ok && side["diagnosis"]["server_reply"].as_str() == Some(detail))
}

/// Asserts the language rule on the steps of one side answered in English and Russian.
fn assert_side_languages(en: &Value, ru: &Value) {
    let (en_steps, ru_steps) = (
        en["steps"].as_array().unwrap(),
        ru["steps"].as_array().unwrap(),
    );
    let kinds =
        |steps: &[Value]| -> Vec<String> { steps.iter().map(|s| s["step"].to_string()).collect() };
    assert_eq!(kinds(en_steps), kinds(ru_steps), "{en:#}\n{ru:#}");
    assert!(!en_steps.is_empty());
    for (e, r) in en_steps.iter().zip(ru_steps) {
        let (e_detail, r_detail) = (
            e["detail"].as_str().unwrap_or(""),
            r["detail"].as_str().unwrap_or(""),
        );
        assert!(!cyrillic(e_detail), "English detail in Russian: {e:#}");
        if pure_quote(en, e) && pure_quote(ru, r) {
            assert_eq!(e_detail, r_detail, "a server quote differs by language");
        } else {
            assert!(
                cyrillic(r_detail),
                "Russian detail without Russian words: {r:#}\nEnglish: {e:#}"
            );
        }
    }
    // The diagnosis follows the language too.
    if let (Some(e), Some(r)) = (
        en["diagnosis"]["message"].as_str(),
        ru["diagnosis"]["message"].as_str(),
    ) {
        assert!(!cyrillic(e) && cyrillic(r), "{e} / {r}");
    }
}

/// Runs `body` in English (no header, the default) and in Russian and checks every side.
async fn both_languages(body: Value) -> (Value, Value) {
    let en = check(&body, None).await;
    let ru = check(&body, Some("ru-RU,ru;q=0.9,en;q=0.5")).await;
    for key in ["incoming", "outgoing"] {
        if !en[key].is_null() {
            assert_side_languages(&en[key], &ru[key]);
        }
    }
    (en, ru)
}

fn imap(host: &str, security: &str) -> Value {
    let p = mail().ports;
    let port = if security == "tls" { p.imaps } else { p.imap };
    json!({"protocol": "imap", "host": host, "port": port, "security": security})
}

fn pop3(host: &str) -> Value {
    json!({"protocol": "pop3", "host": host, "port": mail().ports.pop3s, "security": "tls"})
}

fn smtp(host: &str, security: &str) -> Value {
    let p = mail().ports;
    let port = if security == "tls" {
        p.submissions
    } else {
        p.submission
    };
    json!({"host": host, "port": port, "security": security})
}

fn code(side: &Value) -> &str {
    side["diagnosis"]["code"].as_str().unwrap_or("<none>")
}

#[tokio::test]
async fn dovecot_logins_in_both_languages() {
    let (alice, wrong) = (users::ALICE, (users::ALICE.0, "wrongwrongwrong1"));
    // Good logins: IMAP with STARTTLS and SMTP with implicit TLS, POP3 with implicit TLS.
    let (en, ru) = both_languages(json!({"email": alice.0, "password": alice.1,
        "incoming": imap(scenario::STRICT, "starttls"), "outgoing": smtp(scenario::GOOD, "tls")}))
    .await;
    assert_eq!(en["ok"], true, "{en:#}");
    let mailbox = |v: &Value| {
        v["incoming"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == "mailbox")
            .unwrap()["detail"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(mailbox(&en).starts_with("INBOX opened"), "{en:#}");
    assert!(mailbox(&ru).starts_with("INBOX открыт"), "{ru:#}");
    let (en, _) = both_languages(json!({"email": alice.0, "password": alice.1,
        "incoming": pop3(scenario::GOOD), "outgoing": smtp(scenario::GOOD, "starttls")}))
    .await;
    assert_eq!(en["ok"], true, "{en:#}");
    // Refused logins: the refusal is quoted as the server said it, in both languages.
    let (en, ru) = both_languages(json!({"email": wrong.0, "password": wrong.1,
        "incoming": imap(scenario::GOOD, "tls"), "outgoing": smtp(scenario::GOOD, "tls")}))
    .await;
    for key in ["incoming", "outgoing"] {
        assert_eq!(code(&en[key]), "auth_failed", "{en:#}");
        assert_eq!(
            en[key]["diagnosis"]["server_reply"],
            ru[key]["diagnosis"]["server_reply"]
        );
    }
    // Certificates: a name mismatch and no TLS where it is expected.
    let (en, _) = both_languages(json!({"email": alice.0, "password": alice.1,
        "incoming": imap(scenario::WRONG_HOST, "tls"), "outgoing": smtp(scenario::NO_TLS, "starttls")}))
    .await;
    assert_eq!(code(&en["incoming"]), "cert_hostname_mismatch", "{en:#}");
    assert_eq!(code(&en["outgoing"]), "starttls_unavailable", "{en:#}");
}

#[tokio::test]
async fn fake_servers_and_network_failures_in_both_languages() {
    let refused_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let on = |server: &FakeServer, security: &str| {
        json!({"email": "someone@example.com", "password": "secretsecret42",
            "incoming": {"protocol": "imap", "host": "127.0.0.1", "port": server.port(), "security": security}})
    };
    let stall = FakeServer::start(Behavior::Stall);
    let (en, _) = both_languages(on(&stall, "none")).await;
    assert_eq!(code(&en["incoming"]), "server_timeout", "{en:#}");
    let (en, _) = both_languages(on(&stall, "tls")).await;
    assert_eq!(code(&en["incoming"]), "server_timeout", "{en:#}");
    let pop3 = FakeServer::start(Behavior::Script(Script::new("+OK Dovecot ready.")));
    let (en, _) = both_languages(on(&pop3, "none")).await;
    assert_eq!(code(&en["incoming"]), "wrong_protocol", "{en:#}");
    let garbage = FakeServer::start(Behavior::Garbage);
    let (en, _) = both_languages(on(&garbage, "tls")).await;
    assert_eq!(code(&en["incoming"]), "tls_failed", "{en:#}");
    let huge = FakeServer::start(Behavior::HugeLine {
        prefix: "* OK ".to_owned(),
        size: 200 * 1024,
    });
    let (en, _) = both_languages(on(&huge, "none")).await;
    assert_eq!(code(&en["incoming"]), "protocol_error", "{en:#}");
    let relay = FakeServer::start(Behavior::Script(
        Script::new("220 relay.example.com ESMTP")
            .on("EHLO", "250-relay.example.com\r\n250 8BITMIME"),
    ));
    let (en, _) = both_languages(
        json!({"email": "someone@example.com", "password": "secretsecret42",
        "outgoing": {"host": "127.0.0.1", "port": relay.port(), "security": "none"}}),
    )
    .await;
    assert_eq!(code(&en["outgoing"]), "protocol_error", "{en:#}");
    let (en, _) = both_languages(json!({"email": "someone@example.com", "password": "secretsecret42",
        "incoming": {"protocol": "imap", "host": "127.0.0.1", "port": refused_port, "security": "tls"},
        "outgoing": {"host": "no-such-host.mailsetup.invalid", "port": 465, "security": "tls"}}))
    .await;
    assert_eq!(code(&en["incoming"]), "connect_refused", "{en:#}");
    assert!(code(&en["outgoing"]).starts_with("dns_"), "{en:#}");
}

#[tokio::test]
async fn a_side_that_outlasts_its_timeout_says_so_in_russian() {
    let server = FakeServer::start(Behavior::Trickle("* OK IMAP4rev1 chatty".to_owned()));
    let body = json!({"email": "someone@example.com", "password": "secretsecret42",
        "incoming": {"protocol": "imap", "host": "127.0.0.1", "port": server.port(), "security": "none"}});
    let mut config = config();
    config.side_timeout = Seconds::from_secs(3);
    let app = mailsetup_proxy::app(crate::test_state(config));
    let req = Request::post("/api/v1/check")
        .header("content-type", "application/json")
        .header("accept-language", "ru")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (_, text) = request(app, req).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    let last = v["incoming"]["steps"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["ok"], false, "{v:#}");
    assert_eq!(last["detail"], "вся проверка заняла больше 3 с", "{v:#}");
}

#[tokio::test]
async fn stream_events_speak_the_language_of_the_request() {
    let body = json!({"email": users::ALICE.0, "password": users::ALICE.1,
        "incoming": imap(scenario::GOOD, "tls")});
    let app = mailsetup_proxy::app(crate::test_state(config()));
    let req = Request::post("/api/v1/check/stream")
        .header("content-type", "application/json")
        .header("accept-language", "ru")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, text) = request(app, req).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let mut events = Vec::new();
    let mut result = None;
    let mut event = "";
    for line in text.lines() {
        if let Some(e) = line.strip_prefix("event: ") {
            event = e;
        } else if let Some(data) = line.strip_prefix("data: ") {
            let v: Value = serde_json::from_str(data).unwrap();
            if event == "step" {
                events.push(v["step"].clone());
            } else {
                result = Some(v);
            }
        }
    }
    let result = result.expect("a result event");
    // Each live event is the step of the final (Russian) report, word for word.
    assert_eq!(
        &events,
        result["incoming"]["steps"].as_array().unwrap(),
        "{text}"
    );
    let connect = events.iter().find(|s| s["step"] == "connect").unwrap();
    assert!(cyrillic(connect["detail"].as_str().unwrap()), "{connect:#}");
}

// ---- Discovery ---------------------------------------------------------------------------

/// Asserts the language rule on a discovery's trace rendered in both languages. Russian
/// details equal to English ones must be HTTP statuses only (nothing else is the server's
/// words verbatim).
fn assert_trace_languages(
    en: &mailsetup_shared::api::DiscoverResponse,
    ru: &mailsetup_shared::api::DiscoverResponse,
) {
    assert_eq!(en.trace.len(), ru.trace.len());
    assert!(!en.trace.is_empty());
    for (e, r) in en.trace.iter().zip(&ru.trace) {
        assert_eq!((&e.method, &e.target), (&r.method, &r.target));
        let (e_detail, r_detail) = (
            e.detail.as_deref().unwrap_or(""),
            r.detail.as_deref().unwrap_or(""),
        );
        assert!(!cyrillic(e_detail), "{e:?}");
        let status_only = e_detail
            .strip_prefix("HTTP ")
            .is_some_and(|s| s.len() == 3 && s.chars().all(|c| c.is_ascii_digit()));
        if status_only {
            assert_eq!(e_detail, r_detail);
        } else {
            assert!(cyrillic(r_detail), "{r:?}\nEnglish: {e:?}");
        }
    }
}

#[tokio::test]
async fn discovery_traces_in_both_languages() {
    let f = Fixture::shared(mail());
    let d = f
        .discoverer(
            f.settings(std::time::Duration::from_secs(6)),
            Fixture::open_policy(),
        )
        .unwrap();
    for email in [
        "alice@builtin.disc.test",
        "alice@mx.disc.test",
        "alice@srv.disc.test",
        "alice@auto.disc.test",
        "alice@wk.disc.test",
        "alice@guess.disc.test",
        "alice@bogus.disc.test",
        "alice@ad.disc.test",
        "alice@ex.disc.test",
    ] {
        let answer = d.answer_uncached(&target(email)).await;
        let (en, ru) = (answer.render(Lang::En), answer.render(Lang::Ru));
        assert_eq!(en.candidates, ru.candidates, "{email}");
        assert_trace_languages(&en, &ru);
    }
}

/// `GET /api/v1/discover` on one app (one cache) with `Accept-Language: lang`.
async fn discover_route(app: &axum::Router, email: &str, lang: &str) -> Value {
    let req = Request::get(format!(
        "/api/v1/discover?email={}",
        email.replace('@', "%40")
    ))
    .header("accept-language", lang)
    .body(Body::empty())
    .unwrap();
    let (status, text) = request(app.clone(), req).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_cached_discovery_answers_each_user_in_their_language() {
    let mut config = config();
    config.discover_cache_ttl = Seconds::from_secs(60);
    let app = mailsetup_proxy::app(crate::test_state(config));
    let details = |v: &Value| -> Vec<String> {
        v["trace"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["detail"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    // First asked in Russian: the whole trace is Russian.
    let first = discover_route(&app, "alice@auto.disc.test", "ru").await;
    assert!(first["trace"].as_array().unwrap().len() > 1, "{first:#}");
    assert!(
        details(&first)
            .iter()
            .all(|d| cyrillic(d) || d.starts_with("HTTP ")),
        "{first:#}"
    );
    // Then from the cache in English, and in Russian again.
    let en = discover_route(&app, "bob@auto.disc.test", "en-GB,en;q=0.8").await;
    assert_eq!(en["candidates"], first["candidates"]);
    assert_eq!(en["trace"][0]["method"], "cache", "{en:#}");
    let detail = en["trace"][0]["detail"].as_str().unwrap();
    assert!(detail.starts_with("answer found "), "{en:#}");
    let ru = discover_route(&app, "carol@auto.disc.test", "ru").await;
    assert_eq!(ru["trace"][0]["method"], "cache");
    assert!(
        ru["trace"][0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("ответ найден "),
        "{ru:#}"
    );
    // The other way round for another domain: first English, then Russian from the cache.
    let first = discover_route(&app, "alice@srv.disc.test", "en").await;
    assert!(details(&first).iter().all(|d| !cyrillic(d)), "{first:#}");
    let ru = discover_route(&app, "bob@srv.disc.test", "ru").await;
    assert_eq!(ru["trace"][0]["method"], "cache", "{ru:#}");
    assert!(details(&ru).iter().all(|d| cyrillic(d)), "{ru:#}");
}

#[tokio::test]
async fn a_shared_running_discovery_answers_each_waiter_in_their_language() {
    let f = Fixture::shared(mail());
    // Cache off: only the sharing of a running discovery is tested.
    let d = f
        .discoverer(
            f.settings(std::time::Duration::from_secs(6)),
            Fixture::open_policy(),
        )
        .unwrap();
    let (ta, tb) = (target("alice@once.disc.test"), target("bob@once.disc.test"));
    let (en, ru) = tokio::join!(d.discover(&ta, Lang::En), d.discover(&tb, Lang::Ru));
    assert_eq!(en.candidates, ru.candidates);
    let shared = [&en, &ru]
        .iter()
        .filter(|r| r.trace[0].method == mailsetup_shared::api::TraceMethod::Cache)
        .count();
    assert_eq!(shared, 1, "{en:?}\n{ru:?}");
    for t in &en.trace {
        assert!(!cyrillic(t.detail.as_deref().unwrap_or("")), "{t:?}");
    }
    for t in &ru.trace {
        let d = t.detail.as_deref().unwrap_or("");
        assert!(cyrillic(d) || d.starts_with("HTTP "), "{t:?}");
    }
}

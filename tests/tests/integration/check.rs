//! `POST /api/v1/check` end to end: against the real Dovecot (every scenario address, IMAP,
//! POP3 and SMTP, implicit TLS and STARTTLS), against scripted fake servers for provider
//! replies and hostile behaviour, and the request-level refusals (400, 403).
//!
//! Every response body is checked for the password (see [`post`]).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use mailsetup_proxy::config::Seconds;
use mailsetup_proxy::{AppState, Config};
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

/// The end-to-end configuration: loopback allowed, harness CA trusted, plaintext allowed.
fn config() -> Config {
    crate::test_config(&dist(), mail())
}

/// A configuration with short timeouts, for hostile fake servers.
fn short_config() -> Config {
    let mut c = config();
    c.connect_timeout = Seconds::from_secs(2);
    c.tls_timeout = Seconds::from_secs(2);
    c.reply_timeout = Seconds::from_millis(1500);
    c.side_timeout = Seconds::from_secs(6);
    c
}

/// Posts `body` to the check route of a fresh app and returns status and JSON. Fails the
/// test when the response contains the password.
async fn post_with(config: Config, body: &Value, lang: Option<&str>) -> (StatusCode, Value) {
    let app = mailsetup_proxy::app(AppState::new(config).unwrap());
    let mut req = Request::post("/api/v1/check").header("content-type", "application/json");
    if let Some(lang) = lang {
        req = req.header("accept-language", lang);
    }
    let res = app
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if let Some(pw) = body["password"].as_str().filter(|p| !p.is_empty()) {
        assert!(
            !text.contains(pw),
            "the response echoes the password: {text}"
        );
    }
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, json)
}

async fn post(body: &Value) -> (StatusCode, Value) {
    post_with(config(), body, None).await
}

fn imap(host: &str, security: &str) -> Value {
    let p = mail().ports;
    let port = if security == "tls" { p.imaps } else { p.imap };
    json!({"protocol": "imap", "host": host, "port": port, "security": security})
}

fn pop3(host: &str, security: &str) -> Value {
    let p = mail().ports;
    let port = if security == "tls" { p.pop3s } else { p.pop3 };
    json!({"protocol": "pop3", "host": host, "port": port, "security": security})
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

fn incoming(user: (&str, &str), target: Value) -> Value {
    json!({"email": user.0, "password": user.1, "incoming": target})
}

fn outgoing(user: (&str, &str), target: Value) -> Value {
    json!({"email": user.0, "password": user.1, "outgoing": target})
}

/// The side report of a single-side check, asserting the request itself succeeded.
async fn side(body: Value) -> Value {
    let (status, json) = post(&body).await;
    assert_eq!(status, StatusCode::OK, "{json:#}");
    let key = if body.get("incoming").is_some() {
        "incoming"
    } else {
        "outgoing"
    };
    json[key].clone()
}

fn code(side: &Value) -> &str {
    side["diagnosis"]["code"].as_str().unwrap_or("<none>")
}

fn step<'a>(side: &'a Value, name: &str) -> Option<&'a Value> {
    side["steps"]
        .as_array()?
        .iter()
        .rev()
        .find(|s| s["step"] == name)
}

fn assert_ok(side: &Value) {
    assert_eq!(side["ok"], true, "{side:#}\n{}", mail().log_tail());
    assert!(side["diagnosis"].is_null(), "{side:#}");
    let tls = &side["tls"];
    assert!(
        tls["version"].as_str().unwrap().starts_with("TLSv1."),
        "{side:#}"
    );
    assert!(!tls["cipher"].as_str().unwrap().is_empty(), "{side:#}");
    assert_eq!(tls["sha256"].as_str().unwrap().len(), 95, "{side:#}");
    assert!(
        tls["issuer"]
            .as_str()
            .unwrap()
            .contains("mailsetup Test CA"),
        "{side:#}"
    );
    assert!(
        tls["not_after"].as_str().unwrap().starts_with("2099-01-01"),
        "{side:#}"
    );
    for s in side["steps"].as_array().unwrap() {
        assert_eq!(s["ok"], true, "{side:#}");
    }
    assert!(step(side, "auth").is_some(), "{side:#}");
    assert!(step(side, "logout").is_some(), "{side:#}");
}

// ---- Real Dovecot: happy paths -------------------------------------------------------

#[tokio::test]
async fn imap_over_tls_and_starttls_logs_in_opens_inbox_and_reports_capabilities() {
    for (host, security) in [(scenario::GOOD, "tls"), (scenario::STRICT, "starttls")] {
        let s = side(incoming(users::ALICE, imap(host, security))).await;
        assert_ok(&s);
        assert_eq!(s["protocol"], "imap");
        let mailbox = step(&s, "mailbox").unwrap();
        assert!(
            mailbox["detail"].as_str().unwrap().contains("INBOX opened"),
            "{s:#}"
        );
        let caps: Vec<&str> = s["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        for want in ["IDLE", "MOVE", "UIDPLUS", "CONDSTORE"] {
            assert!(caps.contains(&want), "{want} missing: {s:#}");
        }
        assert!(s["tls"]["names"].as_array().unwrap().contains(&json!(host)));
        if security == "starttls" {
            assert!(step(&s, "starttls").is_some(), "{s:#}");
        }
    }
}

#[tokio::test]
async fn pop3_over_tls_and_starttls_logs_in_and_stats() {
    for (host, security) in [(scenario::GOOD, "tls"), (scenario::STRICT, "starttls")] {
        let s = side(incoming(users::ALICE, pop3(host, security))).await;
        assert_ok(&s);
        assert_eq!(s["protocol"], "pop3");
        let mailbox = step(&s, "mailbox").unwrap();
        assert!(
            mailbox["detail"].as_str().unwrap().contains("messages"),
            "{s:#}"
        );
    }
}

#[tokio::test]
async fn smtp_over_tls_and_starttls_logs_in_and_checks_the_sender() {
    for (host, security) in [(scenario::GOOD, "tls"), (scenario::STRICT, "starttls")] {
        let s = side(outgoing(users::ALICE, smtp(host, security))).await;
        assert_ok(&s);
        assert_eq!(s["protocol"], "smtp");
        let sender = step(&s, "sender").unwrap();
        assert!(
            sender["detail"]
                .as_str()
                .unwrap()
                .contains("accepted as sender"),
            "{s:#}"
        );
    }
}

#[tokio::test]
async fn both_sides_in_one_request() {
    let body = json!({
        "email": users::BOB.0, "password": users::BOB.1,
        "incoming": imap(scenario::GOOD, "tls"),
        "outgoing": smtp(scenario::STRICT, "starttls"),
    });
    let (status, json) = post(&body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["ok"], true, "{json:#}");
    assert_ok(&json["incoming"]);
    assert_ok(&json["outgoing"]);
}

// ---- Real Dovecot: refusals ----------------------------------------------------------

#[tokio::test]
async fn wrong_password_is_auth_failed_with_the_servers_words() {
    let wrong = (users::ALICE.0, "wrongwrongwrong1");
    for (s, words) in [
        (
            side(incoming(wrong, imap(scenario::GOOD, "tls"))).await,
            "AUTHENTICATIONFAILED",
        ),
        (
            side(incoming(wrong, pop3(scenario::GOOD, "tls"))).await,
            "[AUTH]",
        ),
        (
            side(outgoing(wrong, smtp(scenario::GOOD, "tls"))).await,
            "5.7.8",
        ),
    ] {
        assert_eq!(s["ok"], false);
        assert_eq!(code(&s), "auth_failed", "{s:#}");
        let reply = s["diagnosis"]["server_reply"].as_str().unwrap();
        assert!(reply.contains(words), "{s:#}");
        assert!(!s["diagnosis"]["message"].as_str().unwrap().is_empty());
        assert_eq!(step(&s, "auth").unwrap()["ok"], false);
    }
}

#[tokio::test]
async fn disabled_account_is_account_disabled_everywhere() {
    for s in [
        side(incoming(users::DISABLED, imap(scenario::GOOD, "tls"))).await,
        side(incoming(users::DISABLED, pop3(scenario::GOOD, "tls"))).await,
        side(outgoing(users::DISABLED, smtp(scenario::GOOD, "tls"))).await,
    ] {
        assert_eq!(code(&s), "account_disabled", "{s:#}");
        let reply = s["diagnosis"]["server_reply"].as_str().unwrap();
        assert!(reply.contains("Account disabled by test"), "{s:#}");
    }
}

#[tokio::test]
async fn imap_switched_off_is_protocol_disabled_and_pop3_still_works() {
    let s = side(incoming(users::IMAPOFF, imap(scenario::GOOD, "tls"))).await;
    assert_eq!(code(&s), "protocol_disabled", "{s:#}");
    assert!(
        s["diagnosis"]["server_reply"]
            .as_str()
            .unwrap()
            .contains("IMAP access is disabled")
    );
    let s = side(incoming(users::IMAPOFF, pop3(scenario::GOOD, "tls"))).await;
    assert_eq!(s["ok"], true, "{s:#}");
}

#[tokio::test]
async fn wrong_host_certificate_reports_the_names_it_carries() {
    for s in [
        side(incoming(users::ALICE, imap(scenario::WRONG_HOST, "tls"))).await,
        side(incoming(
            users::ALICE,
            pop3(scenario::WRONG_HOST, "starttls"),
        ))
        .await,
        side(outgoing(users::ALICE, smtp(scenario::WRONG_HOST, "tls"))).await,
    ] {
        assert_eq!(code(&s), "cert_hostname_mismatch", "{s:#}");
        assert_eq!(
            s["diagnosis"]["cert_names"],
            json!(["wrong.example.test"]),
            "{s:#}"
        );
        assert_eq!(s["tls"]["names"], json!(["wrong.example.test"]));
        assert_eq!(step(&s, "tls").unwrap()["ok"], false);
        assert!(
            step(&s, "auth").is_none(),
            "no login after a bad certificate"
        );
    }
}

#[tokio::test]
async fn expired_and_self_signed_certificates_are_diagnosed() {
    for (host, want) in [
        (scenario::EXPIRED, "cert_expired"),
        (scenario::SELF_SIGNED, "cert_untrusted"),
    ] {
        for s in [
            side(incoming(users::ALICE, imap(host, "tls"))).await,
            side(incoming(users::ALICE, imap(host, "starttls"))).await,
            side(outgoing(users::ALICE, smtp(host, "starttls"))).await,
        ] {
            assert_eq!(code(&s), want, "{s:#}");
            assert!(step(&s, "auth").is_none());
        }
    }
    let s = side(incoming(users::ALICE, imap(scenario::EXPIRED, "tls"))).await;
    assert!(
        s["tls"]["not_after"]
            .as_str()
            .unwrap()
            .starts_with("2020-01-02")
    );
}

#[tokio::test]
async fn no_tls_server_lacks_starttls_and_fails_implicit_tls() {
    for s in [
        side(incoming(users::ALICE, imap(scenario::NO_TLS, "starttls"))).await,
        side(incoming(users::ALICE, pop3(scenario::NO_TLS, "starttls"))).await,
        side(outgoing(users::ALICE, smtp(scenario::NO_TLS, "starttls"))).await,
    ] {
        assert_eq!(code(&s), "starttls_unavailable", "{s:#}");
        assert!(step(&s, "auth").is_none(), "no password without TLS");
    }
    let s = side(incoming(users::ALICE, imap(scenario::NO_TLS, "tls"))).await;
    assert_eq!(code(&s), "tls_failed", "{s:#}");
}

#[tokio::test]
async fn strict_server_refuses_plaintext_logins() {
    let p = mail().ports;
    for s in [
        side(incoming(
            users::ALICE,
            json!({"protocol": "imap", "host": scenario::STRICT, "port": p.imap, "security": "none"}),
        ))
        .await,
        side(incoming(
            users::ALICE,
            json!({"protocol": "pop3", "host": scenario::STRICT, "port": p.pop3, "security": "none"}),
        ))
        .await,
        side(outgoing(
            users::ALICE,
            json!({"host": scenario::STRICT, "port": p.submission, "security": "none"}),
        ))
        .await,
    ] {
        assert_eq!(code(&s), "plaintext_refused", "{s:#}");
    }
}

#[tokio::test]
async fn refused_port_and_unknown_host() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = side(incoming(
        users::ALICE,
        json!({"protocol": "imap", "host": "127.0.0.1", "port": port, "security": "tls"}),
    ))
    .await;
    assert_eq!(code(&s), "connect_refused", "{s:#}");
    assert_eq!(step(&s, "connect").unwrap()["ok"], false);

    let s = side(outgoing(
        users::ALICE,
        json!({"host": "no-such-host.mailsetup.invalid", "port": 465, "security": "tls"}),
    ))
    .await;
    assert_eq!(code(&s), "dns_not_found", "{s:#}");
    assert_eq!(step(&s, "resolve").unwrap()["ok"], false);
}

#[tokio::test]
async fn diagnosis_speaks_russian_when_asked() {
    let wrong = (users::ALICE.0, "wrongwrongwrong1");
    let body = incoming(wrong, imap(scenario::GOOD, "tls"));
    let (_, en) = post_with(config(), &body, Some("en-US,en;q=0.9")).await;
    let (_, ru) = post_with(config(), &body, Some("ru-RU,ru;q=0.9,en;q=0.5")).await;
    let en = en["incoming"]["diagnosis"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    let ru = ru["incoming"]["diagnosis"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(en, ru);
    assert!(ru.chars().any(|c| ('а'..='я').contains(&c)), "{ru}");
}

// ---- Fake servers: provider replies --------------------------------------------------

fn fake_imap_side(server: &FakeServer, email: &str) -> Value {
    json!({"email": email, "password": "secretsecret42",
           "incoming": {"protocol": "imap", "host": "127.0.0.1", "port": server.port(), "security": "none"}})
}

fn fake_smtp_side(server: &FakeServer, email: &str) -> Value {
    json!({"email": email, "password": "secretsecret42",
           "outgoing": {"host": "127.0.0.1", "port": server.port(), "security": "none"}})
}

#[tokio::test]
async fn gmail_app_password_and_web_login_replies() {
    let caps = "IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 AUTH=PLAIN";
    let imap = FakeServer::start(Behavior::Script(Script::imap(
        caps,
        "NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)",
    )));
    let s = side(fake_imap_side(&imap, "someone@gmail.com")).await;
    assert_eq!(code(&s), "app_password_required", "{s:#}");
    assert!(
        s["diagnosis"]["server_reply"]
            .as_str()
            .unwrap()
            .contains("Application-specific password required")
    );

    let smtp = FakeServer::start(Behavior::Script(Script::smtp(
        "534-5.7.9 Application-specific password required. Learn more at\r\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor",
    )));
    let s = side(fake_smtp_side(&smtp, "someone@gmail.com")).await;
    assert_eq!(code(&s), "app_password_required", "{s:#}");

    let web = FakeServer::start(Behavior::Script(Script::imap(
        caps,
        "NO [WEBALERT https://accounts.google.com/signin/continue?sarp=1] Web login required.",
    )));
    let s = side(fake_imap_side(&web, "someone@gmail.com")).await;
    assert_eq!(code(&s), "web_login_required", "{s:#}");
}

#[tokio::test]
async fn microsoft_basic_auth_disabled_is_oauth_required() {
    let smtp = FakeServer::start(Behavior::Script(Script::smtp(
        "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [AM0PR10CA0011.EURPRD10.PROD.OUTLOOK.COM]",
    )));
    let s = side(fake_smtp_side(&smtp, "someone@outlook.com")).await;
    assert_eq!(code(&s), "oauth_required", "{s:#}");
}

#[tokio::test]
async fn yandex_ambiguous_refusal_follows_the_shared_rules_and_names_yandex_settings() {
    let reply = "NO [AUTHENTICATIONFAILED] LOGIN invalid credentials or IMAP is disabled";
    let server = FakeServer::start(Behavior::Script(Script::imap(
        "IMAP4rev1 CHILDREN UNSELECT LITERAL+ NAMESPACE XLIST UIDPLUS ENABLE ID AUTH=PLAIN IDLE MOVE",
        reply,
    )));
    let s = side(fake_imap_side(&server, "someone@yandex.ru")).await;
    let registry = mailsetup_shared::providers::builtin();
    assert!(
        registry.by_domain("yandex.ru").is_some(),
        "the registry knows yandex.ru"
    );
    // diagnoses.toml's rule `yandex-credentials-or-disabled`: Yandex says the same words for a
    // wrong password and for mail apps switched off; the verdict is the failed login, and the
    // Yandex texts of auth_failed name both causes.
    assert_eq!(code(&s), "auth_failed", "{s:#}");
    let advice = s["diagnosis"]["advice"].as_str().unwrap();
    assert!(
        advice.contains("Yandex") && advice.contains("Email clients"),
        "{advice}"
    );
    let links = s["diagnosis"]["links"].as_array().unwrap();
    assert!(
        links
            .iter()
            .any(|l| l["url"].as_str().unwrap().contains("yandex")),
        "{s:#}"
    );
}

// ---- Fake servers: hostile and wrong servers -----------------------------------------

async fn fake_imap(behavior: Behavior, security: &str) -> Value {
    let server = FakeServer::start(behavior);
    let body = json!({"email": "someone@example.com", "password": "secretsecret42",
        "incoming": {"protocol": "imap", "host": "127.0.0.1", "port": server.port(), "security": security}});
    let (status, json) = post_with(short_config(), &body, None).await;
    assert_eq!(status, StatusCode::OK, "{json:#}");
    json["incoming"].clone()
}

#[tokio::test]
async fn pop3_greeting_on_an_imap_check_is_wrong_protocol() {
    let s = fake_imap(Behavior::Script(Script::new("+OK Dovecot ready.")), "none").await;
    assert_eq!(code(&s), "wrong_protocol", "{s:#}");
    let s = fake_imap(
        Behavior::Script(Script::new("220 smtp.example.com ESMTP")),
        "none",
    )
    .await;
    assert_eq!(code(&s), "wrong_protocol", "{s:#}");
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_server_timeout() {
    let s = fake_imap(Behavior::Stall, "none").await;
    assert_eq!(code(&s), "server_timeout", "{s:#}");
    assert_eq!(step(&s, "greeting").unwrap()["ok"], false, "{s:#}");
    // Silence instead of a TLS handshake.
    let s = fake_imap(Behavior::Stall, "tls").await;
    assert_eq!(code(&s), "server_timeout", "{s:#}");
    assert_eq!(step(&s, "tls").unwrap()["ok"], false, "{s:#}");
}

#[tokio::test]
async fn a_server_that_drips_one_byte_a_second_is_a_server_timeout() {
    let s = fake_imap(
        Behavior::Drip("* OK IMAP4rev1 a very slow server says hello\r\n".to_owned()),
        "none",
    )
    .await;
    assert_eq!(code(&s), "server_timeout", "{s:#}");
}

#[tokio::test]
async fn a_ten_megabyte_line_is_a_protocol_error() {
    let s = fake_imap(
        Behavior::HugeLine {
            prefix: "* OK ".to_owned(),
            size: 10 * 1024 * 1024,
        },
        "none",
    )
    .await;
    assert_eq!(code(&s), "protocol_error", "{s:#}");
    assert!(
        step(&s, "greeting").unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("longer than"),
        "{s:#}"
    );
}

#[tokio::test]
async fn garbage_is_a_protocol_error_and_garbage_instead_of_tls_is_tls_failed() {
    let s = fake_imap(Behavior::Garbage, "none").await;
    assert_eq!(code(&s), "protocol_error", "{s:#}");
    let s = fake_imap(Behavior::Garbage, "tls").await;
    assert_eq!(code(&s), "tls_failed", "{s:#}");
}

// ---- Request-level refusals ----------------------------------------------------------

#[tokio::test]
async fn default_policy_refuses_loopback_and_non_mail_ports() {
    let default = Config::for_tests(dist());
    let body = incoming(
        users::ALICE,
        json!({"protocol": "imap", "host": scenario::GOOD, "port": 993, "security": "tls"}),
    );
    let (status, json) = post_with(default.clone(), &body, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{json:#}");
    assert_eq!(json["error"]["code"], "target_not_allowed");
    assert_eq!(json["error"]["field"], "incoming.host");

    let body = outgoing(
        users::ALICE,
        json!({"host": "127.0.0.1", "port": 22, "security": "tls"}),
    );
    let (status, json) = post_with(default.clone(), &body, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{json:#}");
    assert_eq!(json["error"]["code"], "target_not_allowed");
    assert_eq!(json["error"]["field"], "outgoing.port");

    for host in [
        "10.0.0.1",
        "169.254.169.254",
        "[::1]",
        "::ffff:127.0.0.1",
        "192.168.1.1",
    ] {
        let body = incoming(
            users::ALICE,
            json!({"protocol": "imap", "host": host, "port": 993, "security": "tls"}),
        );
        let (status, json) = post_with(default.clone(), &body, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{host}: {json:#}");
    }

    // Plaintext needs the operator's permission.
    let body = incoming(
        users::ALICE,
        json!({"protocol": "imap", "host": "imap.example.com", "port": 143, "security": "none"}),
    );
    let (status, json) = post_with(default, &body, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{json:#}");
    assert_eq!(json["error"]["field"], "incoming.security");
}

#[tokio::test]
async fn bad_requests_are_400_with_the_field() {
    let target = imap(scenario::GOOD, "tls");
    for (body, field) in [
        (
            json!({"email": "not-an-address", "password": "pw-Zq9", "incoming": target}),
            json!("email"),
        ),
        (
            json!({"email": "a@example.com", "password": "", "incoming": target}),
            json!("password"),
        ),
        (
            json!({"email": "a@example.com", "password": "pw-Zq9\r\nA1 LOGOUT", "incoming": target}),
            json!("password"),
        ),
        (
            json!({"email": "a@example.com", "password": "pw-Zq9"}),
            json!("incoming"),
        ),
        (
            json!({"email": "a@example.com", "password": "pw-Zq9",
                   "incoming": {"protocol": "imap", "host": "bad host\r\n", "port": 993, "security": "tls"}}),
            json!("incoming.host"),
        ),
        (
            json!({"email": "a@example.com", "password": "pw-Zq9",
                   "outgoing": {"host": "smtp.example.com", "port": 0, "security": "tls"}}),
            json!("outgoing.port"),
        ),
        (
            json!({"email": "a@example.com", "password": "pw-Zq9", "bogus": true}),
            Value::Null,
        ),
    ] {
        let (status, json) = post(&body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {json:#}");
        assert_eq!(json["error"]["code"], "invalid_request", "{json:#}");
        assert_eq!(json["error"]["field"], field, "{body}: {json:#}");
    }
}

#[tokio::test]
async fn a_conversation_that_never_ends_stops_at_the_side_timeout() {
    let server = FakeServer::start(Behavior::Trickle("* OK IMAP4rev1 chatty".to_owned()));
    let body = json!({"email": "someone@example.com", "password": "secretsecret42",
        "incoming": {"protocol": "imap", "host": "127.0.0.1", "port": server.port(), "security": "none"}});
    let mut config = short_config();
    config.side_timeout = Seconds::from_secs(3);
    let (status, json) = post_with(config, &body, None).await;
    assert_eq!(status, StatusCode::OK, "{json:#}");
    let s = &json["incoming"];
    assert_eq!(code(s), "server_timeout", "{s:#}");
    assert_eq!(step(s, "capabilities").unwrap()["ok"], false, "{s:#}");
}

/// A `MakeWriter` that collects everything logged.
#[derive(Clone, Default)]
pub(crate) struct Captured(pub(crate) std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn the_password_never_reaches_the_logs_even_at_trace_level() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // A success and a failure on every protocol, with both login paths of SMTP and IMAP.
    let ok = json!({"email": users::ALICE.0, "password": users::ALICE.1,
        "incoming": imap(scenario::GOOD, "tls"), "outgoing": smtp(scenario::STRICT, "starttls")});
    let (status, json) = post(&ok).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["ok"], true, "{json:#}");
    let wrong = "wrong-password-Zq9x";
    let bad = json!({"email": users::ALICE.0, "password": wrong,
        "incoming": pop3(scenario::GOOD, "tls"), "outgoing": smtp(scenario::GOOD, "tls")});
    let (status, _) = post(&bad).await;
    assert_eq!(status, StatusCode::OK);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("check_side"),
        "the check logged nothing: {logs}"
    );
    for secret in [users::ALICE.1, wrong] {
        assert!(!logs.contains(secret), "password in the logs:\n{logs}");
    }
}

#[tokio::test]
async fn the_stream_variant_sends_each_step_then_the_result() {
    let body = json!({"email": users::ALICE.0, "password": users::ALICE.1,
        "incoming": imap(scenario::STRICT, "starttls"), "outgoing": smtp(scenario::GOOD, "tls")});
    let app = mailsetup_proxy::app(AppState::new(config()).unwrap());
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
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(!text.contains(users::ALICE.1), "password in the stream");
    let mut steps = Vec::new();
    let mut result = None;
    let mut event = "";
    for line in text.lines() {
        if let Some(e) = line.strip_prefix("event: ") {
            event = e;
        } else if let Some(data) = line.strip_prefix("data: ") {
            let v: Value = serde_json::from_str(data).unwrap();
            match event {
                "step" => steps.push(v),
                "result" => result = Some(v),
                other => panic!("unexpected event {other}"),
            }
        }
    }
    let result = result.expect("a result event");
    assert_eq!(result["ok"], true, "{result:#}");
    let total = result["incoming"]["steps"].as_array().unwrap().len()
        + result["outgoing"]["steps"].as_array().unwrap().len();
    assert_eq!(steps.len(), total, "one event per step: {text}");
    assert!(
        steps
            .iter()
            .any(|s| s["side"] == "incoming" && s["step"]["step"] == "starttls")
    );
    assert!(
        steps
            .iter()
            .any(|s| s["side"] == "outgoing" && s["step"]["step"] == "sender")
    );

    // Request-level errors stay plain JSON.
    let bad =
        json!({"email": "nope", "password": "pw-Zq9", "incoming": imap(scenario::GOOD, "tls")});
    let app = mailsetup_proxy::app(AppState::new(config()).unwrap());
    let res = app
        .oneshot(
            Request::post("/api/v1/check/stream")
                .header("content-type", "application/json")
                .body(Body::from(bad.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn imap_falls_back_to_authenticate_plain_when_login_is_rejected() {
    // The client's tags are a1 (CAPABILITY), a2 (LOGIN), a3 (AUTHENTICATE), so the SASL
    // response line, which carries no tag, is answered for a3.
    let sasl = "AHNvbWVvbmVAZXhhbXBsZS5jb20Ac2VjcmV0c2VjcmV0NDI="; // \0someone@example.com\0secretsecret42
    let script = Script::new("* OK IMAP4rev1 fake ready")
        .on(
            "CAPABILITY",
            "* CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE\r\n{tag} OK done",
        )
        .on("LOGIN", "{tag} BAD LOGIN is not supported here")
        .on("AUTHENTICATE", "+ ")
        .on(sasl, "a3 OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in")
        .on(
            "EXAMINE",
            "* 3 EXISTS\r\n* 0 RECENT\r\n{tag} OK [READ-ONLY] Examine completed",
        )
        .on("LOGOUT", "* BYE bye\r\n{tag} OK LOGOUT completed");
    let server = FakeServer::start(Behavior::Script(script));
    let s = side(fake_imap_side(&server, "someone@example.com")).await;
    assert_eq!(s["ok"], true, "{s:#}");
    assert_eq!(
        step(&s, "auth").unwrap()["detail"],
        "logged in with AUTHENTICATE PLAIN"
    );
    assert_eq!(
        step(&s, "mailbox").unwrap()["detail"],
        "INBOX opened, 3 messages"
    );
    assert_eq!(s["capabilities"], json!(["IDLE", "MOVE"]));
    assert!(s["tls"].is_null());
}

#[tokio::test]
async fn repeated_refused_logins_for_one_account_are_held_back() {
    let mut c = config();
    c.max_failed_logins = 2;
    let app = mailsetup_proxy::app(AppState::new(c).unwrap());
    let send = |body: Value| {
        let app = app.clone();
        async move {
            let res = app
                .oneshot(
                    Request::post("/api/v1/check")
                        .header("content-type", "application/json")
                        .body(Body::from(body.to_string()))
                        .unwrap(),
                )
                .await
                .unwrap();
            let status = res.status();
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };
    let wrong = (users::BOB.0, "not-bobs-password");
    for _ in 0..2 {
        let (status, json) = send(incoming(wrong, imap(scenario::GOOD, "tls"))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json["incoming"]["diagnosis"]["code"], "auth_failed");
    }
    // The third attempt does not reach the server, whatever the protocol.
    let (status, json) = send(outgoing(wrong, smtp(scenario::GOOD, "tls"))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{json:#}");
    assert_eq!(json["error"]["code"], "rate_limited");
    // Other accounts are not affected.
    let (status, json) = send(incoming(users::ALICE, imap(scenario::GOOD, "tls"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["ok"], true);
}

/// The guard counts per login and server: a free field such as the address (and so its
/// domain) does not start a fresh count, on `/check` or on `/check/stream`.
#[tokio::test]
async fn the_failed_login_guard_is_not_reset_by_another_address() {
    let mut c = config();
    c.max_failed_logins = 2;
    let app = mailsetup_proxy::app(AppState::new(c).unwrap());
    let send = |route: &'static str, body: Value| {
        let app = app.clone();
        async move {
            let res = app
                .oneshot(
                    Request::post(route)
                        .header("content-type", "application/json")
                        .body(Body::from(body.to_string()))
                        .unwrap(),
                )
                .await
                .unwrap();
            let status = res.status();
            let retry_after = res.headers().get("retry-after").cloned();
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                retry_after,
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        }
    };
    let attempt = |email: &str| {
        json!({"email": email, "username": users::BOB.0, "password": "not-bobs-password",
               "incoming": imap(scenario::GOOD, "tls")})
    };
    // Two refusals, each with another address and so another domain.
    let (status, _, text) = send("/api/v1/check", attempt("x@d1.example")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("auth_failed"), "{text}");
    let (status, _, text) = send("/api/v1/check/stream", attempt("x@d2.example")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("auth_failed"), "{text}");
    // The third never reaches the server, whatever the address and route.
    for (route, email) in [
        ("/api/v1/check", "x@d3.example"),
        ("/api/v1/check/stream", "y@d4.example"),
        ("/api/v1/check", users::BOB.0),
    ] {
        let (status, retry_after, text) = send(route, attempt(email)).await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "{route} {email}: {text}"
        );
        assert!(text.contains("\"rate_limited\""), "{text}");
        assert!(retry_after.is_some(), "{route}: no Retry-After");
    }
    // The same login through the same server's other protocol: the same mailbox.
    let mut smtp_attempt = attempt("z@d5.example");
    smtp_attempt.as_object_mut().unwrap().remove("incoming");
    smtp_attempt["outgoing"] = smtp(scenario::GOOD, "tls");
    let (status, _, _) = send("/api/v1/check", smtp_attempt).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn pop3_user_pass_and_smtp_auth_login_paths() {
    // POP3 without SASL: USER/PASS, and the refusal is classified.
    let pop3 = FakeServer::start(Behavior::Script(
        Script::new("+OK fake POP3 ready")
            .on("CAPA", "+OK\r\nUSER\r\nUIDL\r\n.")
            .on("USER", "+OK")
            .on("PASS", "-ERR [AUTH] Invalid login or password")
            .on("QUIT", "+OK bye"),
    ));
    let body = json!({"email": "someone@example.com", "password": "secretsecret42",
        "incoming": {"protocol": "pop3", "host": "127.0.0.1", "port": pop3.port(), "security": "none"}});
    let s = side(body).await;
    assert_eq!(code(&s), "auth_failed", "{s:#}");
    assert!(
        s["diagnosis"]["server_reply"]
            .as_str()
            .unwrap()
            .contains("Invalid login")
    );

    // SMTP offering only AUTH LOGIN: user name and password each base64 on their own line.
    let smtp = FakeServer::start(Behavior::Script(
        Script::new("220 fake.example ESMTP")
            .on("EHLO", "250-fake.example\r\n250-AUTH LOGIN\r\n250 8BITMIME")
            .on("AUTH", "334 VXNlcm5hbWU6")
            .on("c29tZW9uZUBleGFtcGxlLmNvbQ==", "334 UGFzc3dvcmQ6")
            .on(
                "c2VjcmV0c2VjcmV0NDI=",
                "235 2.7.0 Authentication successful",
            )
            .on("MAIL", "250 2.1.0 Ok")
            .on("RSET", "250 2.0.0 Ok")
            .on("QUIT", "221 2.0.0 Bye"),
    ));
    let s = side(fake_smtp_side(&smtp, "someone@example.com")).await;
    assert_eq!(s["ok"], true, "{s:#}");
    assert_eq!(
        step(&s, "auth").unwrap()["detail"],
        "logged in with AUTH LOGIN"
    );
    assert_eq!(s["capabilities"], json!(["8BITMIME"]));
}

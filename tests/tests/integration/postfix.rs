//! `POST /api/v1/check` against a real Postfix (tests/src/postfix.rs): submission with
//! STARTTLS and over implicit TLS, a wrong password, a plaintext attempt on a port that
//! requires TLS, and a sender address the user does not own. Logins go through the harness
//! Dovecot's auth service, so the users are those of `mail::users`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use mailsetup_shared::api::{DiagnosisCode, Protocol};
use mailsetup_shared::diagnose::{ReplyContext, Stage, classify_reply};
use mailsetup_tests::mail::{MailServers, users};
use mailsetup_tests::postfix::{self, Postfix};
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn postfix() -> &'static Postfix {
    Postfix::shared()
}

/// Posts a check of the outgoing side only and returns that side's report; fails the test
/// when the response echoes the password.
async fn outgoing(email: &str, username: &str, password: &str, target: Value) -> Value {
    let dist = std::env::temp_dir().join("mailsetup-empty-dist");
    let _ = std::fs::create_dir_all(&dist);
    let config = crate::test_config(&dist, MailServers::shared());
    let app = mailsetup_proxy::app(crate::test_state(config));
    let body = json!({
        "email": email, "username": username, "password": password, "outgoing": target,
    });
    let req = Request::post("/api/v1/check")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(!text.contains(password), "the response echoes the password");
    let json: Value = serde_json::from_str(&text).unwrap();
    json["outgoing"].clone()
}

fn target(security: &str) -> Value {
    let p = postfix().ports;
    let port = if security == "tls" {
        p.submissions
    } else {
        p.submission
    };
    json!({"host": postfix::HOST, "port": port, "security": security})
}

fn step<'a>(side: &'a Value, name: &str) -> &'a Value {
    side["steps"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no {name} step: {side:#}"))
}

fn has_step(side: &Value, name: &str) -> bool {
    side["steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["step"] == name)
}

fn code(side: &Value) -> &str {
    side["diagnosis"]["code"].as_str().unwrap_or("<none>")
}

fn server_reply(side: &Value) -> &str {
    side["diagnosis"]["server_reply"].as_str().unwrap_or("")
}

#[tokio::test]
async fn alice_logs_in_over_starttls_and_implicit_tls() {
    let (user, pass) = users::ALICE;
    for security in ["starttls", "tls"] {
        let s = outgoing(user, user, pass, target(security)).await;
        let log = postfix().log_tail();
        assert_eq!(s["ok"], true, "{security}: {s:#}\n{log}");
        assert!(s["diagnosis"].is_null(), "{s:#}");
        assert_eq!(s["protocol"], "smtp");
        for s in s["steps"].as_array().unwrap() {
            assert_eq!(s["ok"], true, "{s:#}");
        }
        let greeting = step(&s, "greeting")["detail"].as_str().unwrap();
        assert!(greeting.contains("mailsetup test Postfix"), "{s:#}");
        assert!(has_step(&s, "ehlo"), "{s:#}");
        assert_eq!(has_step(&s, "starttls"), security == "starttls", "{s:#}");
        assert!(
            step(&s, "auth")["detail"]
                .as_str()
                .unwrap()
                .contains("logged in"),
            "{s:#}"
        );
        let sender = step(&s, "sender")["detail"].as_str().unwrap();
        assert!(sender.contains("accepted as sender"), "{s:#}");
        assert!(has_step(&s, "logout"), "{s:#}");
        let caps: Vec<&str> = s["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        for want in ["SIZE", "8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES"] {
            assert!(caps.contains(&want), "{want} missing: {s:#}");
        }
        let tls = &s["tls"];
        assert!(tls["version"].as_str().unwrap().starts_with("TLSv1."));
        assert!(
            tls["issuer"]
                .as_str()
                .unwrap()
                .contains("mailsetup Test CA"),
            "{s:#}"
        );
    }
}

#[tokio::test]
async fn wrong_password_is_auth_failed_in_postfixs_words() {
    let user = users::ALICE.0;
    for security in ["starttls", "tls"] {
        let s = outgoing(user, user, "wrongwrongwrong1", target(security)).await;
        assert_eq!(s["ok"], false, "{s:#}");
        assert_eq!(code(&s), "auth_failed", "{s:#}");
        assert!(
            server_reply(&s).contains(postfix::AUTH_FAILED_REPLY),
            "{s:#}"
        );
        assert_eq!(step(&s, "auth")["ok"], false, "{s:#}");
        assert!(!has_step(&s, "sender"), "{s:#}");
    }
}

#[tokio::test]
async fn plaintext_on_the_tls_only_port_is_plaintext_refused() {
    let (user, pass) = users::ALICE;
    let s = outgoing(user, user, pass, target("none")).await;
    assert_eq!(s["ok"], false, "{s:#}");
    assert_eq!(code(&s), "plaintext_refused", "{s:#}");
    assert_eq!(step(&s, "auth")["ok"], false, "{s:#}");
    assert!(s["tls"].is_null(), "{s:#}");
    // The proxy saw no AUTH offered and sent none.
    let detail = step(&s, "auth")["detail"].as_str().unwrap();
    assert!(detail.contains("STARTTLS"), "{s:#}");
}

/// Postfix's own refusal of a command before STARTTLS, read from the real server, is
/// classified as plaintext_refused by the diagnosis rules.
#[test]
fn postfixs_starttls_first_reply_is_plaintext_refused() {
    let addr = postfix().addr(postfix().ports.submission);
    let conn = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut out = conn.try_clone().unwrap();
    let mut reader = BufReader::new(conn);
    let mut read_reply = || {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            assert!(
                reader.read_line(&mut line).unwrap() > 0,
                "connection closed"
            );
            reply.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return reply;
            }
        }
    };
    assert!(read_reply().starts_with("220 "));
    out.write_all(b"EHLO [127.0.0.1]\r\n").unwrap();
    let ehlo = read_reply();
    assert!(ehlo.contains("STARTTLS"), "{ehlo}");
    assert!(!ehlo.contains("AUTH"), "AUTH offered before TLS: {ehlo}");
    out.write_all(b"AUTH PLAIN\r\n").unwrap();
    let reply = read_reply();
    assert!(
        reply.starts_with("530 5.7.0 Must issue a STARTTLS command first"),
        "{reply}"
    );
    out.write_all(b"QUIT\r\n").unwrap();
    let code = classify_reply(&ReplyContext {
        protocol: Protocol::Smtp,
        stage: Stage::Auth,
        reply: reply.trim_end(),
        provider: None,
    });
    assert_eq!(code, DiagnosisCode::PlaintextRefused, "{reply}");
}

#[tokio::test]
async fn sending_as_someone_else_fails_the_sender_step_with_postfixs_reply() {
    // Alice logs in but gives Bob's address as hers.
    let (alice, pass) = users::ALICE;
    let bob = users::BOB.0;
    for security in ["starttls", "tls"] {
        let s = outgoing(bob, alice, pass, target(security)).await;
        assert_eq!(s["ok"], false, "{s:#}");
        assert_eq!(step(&s, "auth")["ok"], true, "{s:#}");
        let sender = step(&s, "sender");
        assert_eq!(sender["ok"], false, "{s:#}");
        let reply = server_reply(&s);
        assert!(reply.contains(postfix::SENDER_MISMATCH_WORDS), "{s:#}");
        assert!(reply.starts_with("553 5.7.1"), "{s:#}");
        assert!(reply.contains(bob) && reply.contains(alice), "{s:#}");
        assert_eq!(s["diagnosis"]["code"], "sender_rejected", "{s:#}");
    }
    // Bob may send as Bob.
    let s = outgoing(bob, bob, users::BOB.1, target("tls")).await;
    assert_eq!(s["ok"], true, "{s:#}");
}

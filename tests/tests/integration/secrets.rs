//! The password never leaks: whole checks (IMAP, POP3 and SMTP on the real Dovecot, SMTP on
//! the real Postfix; right and wrong passwords; both check routes) run with every log
//! event and span captured at TRACE level, and neither the logs nor the response bodies
//! contain the password, in clear or base64 (AUTH PLAIN and AUTH LOGIN send it so).
//! The request's `Debug` form does not show it either.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use mailsetup_shared::api::CheckRequest;
use mailsetup_tests::mail::{MailServers, scenario, users};
use mailsetup_tests::postfix::{self, Postfix};
use serde_json::{Value, json};
use tower::ServiceExt as _;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

/// A wrong password nobody else uses, so any occurrence is a leak from this test.
const WRONG: &str = "Zq9-leak-canary-Wr0ng-7x";

/// Log output collected in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Standard base64 (RFC 4648, with padding).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// What `password` looks like inside any base64 text: for each of the three alignments,
/// the characters that depend on the password's bytes only.
fn base64_forms(password: &str) -> Vec<String> {
    (0..3usize)
        .map(|offset| {
            let mut bytes = vec![b'x'; offset];
            bytes.extend_from_slice(password.as_bytes());
            let encoded = base64(&bytes);
            let skip = [0, 2, 3][offset];
            encoded[skip..encoded.len() - 4].to_owned()
        })
        .collect()
}

/// The forbidden strings for `password` as user `user`: the password itself, its base64
/// forms, and the whole AUTH PLAIN blob.
fn forbidden(user: &str, password: &str) -> Vec<String> {
    let mut all = vec![password.to_owned()];
    all.extend(base64_forms(password));
    all.push(base64(format!("\0{user}\0{password}").as_bytes()));
    all
}

/// The first form of the password found in `text`.
fn leak(text: &str, user: &str, password: &str) -> Option<String> {
    forbidden(user, password)
        .into_iter()
        .find(|needle| text.contains(needle.as_str()))
}

fn assert_clean(what: &str, text: &str, user: &str, password: &str) {
    if let Some(needle) = leak(text, user, password) {
        panic!("{what} contains the password (as {needle:?}):\n{text}");
    }
}

/// Runs one check through `route` on a fresh app and returns status and body text.
async fn run(route: &str, body: &Value) -> (StatusCode, String) {
    let dist = std::env::temp_dir().join("mailsetup-empty-dist");
    let _ = std::fs::create_dir_all(&dist);
    let config = crate::test_config(&dist, MailServers::shared());
    let app = mailsetup_proxy::app(crate::test_state(config));
    let req = Request::post(route)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[test]
fn the_forbidden_forms_are_what_auth_sends() {
    // AUTH PLAIN of "\0user\0pass" (RFC 4616 example form) and AUTH LOGIN of "pass".
    assert_eq!(base64(b"\0user\0pass"), "AHVzZXIAcGFzcw==");
    assert_eq!(base64(b"pass"), "cGFzcw==");
    // The detector finds the password as the proxy would send it, whatever surrounds it.
    let user = users::ALICE.0;
    for text in [
        format!("a1 LOGIN \"{user}\" \"{WRONG}\""),
        format!(
            "AUTH PLAIN {}",
            base64(format!("\0{user}\0{WRONG}").as_bytes())
        ),
        format!("AUTH PLAIN {}", base64(format!("\0u\0{WRONG}").as_bytes())),
        format!("AUTH PLAIN {}", base64(format!("\0us\0{WRONG}").as_bytes())),
        base64(WRONG.as_bytes()),
    ] {
        assert!(leak(&text, user, WRONG).is_some(), "{text}");
    }
    assert!(leak("a1 LOGIN alice hunter2", user, WRONG).is_none());
}

#[test]
fn check_request_debug_hides_the_password() {
    for password in [users::ALICE.1, WRONG] {
        let req: CheckRequest = serde_json::from_value(json!({
            "email": users::ALICE.0,
            "password": password,
            "incoming": {"protocol": "imap", "host": "127.0.0.1", "port": 993, "security": "tls"},
            "outgoing": {"host": "127.0.0.1", "port": 465, "security": "tls"},
        }))
        .unwrap();
        assert_eq!(req.password.as_ref().unwrap().expose(), password);
        for text in [
            format!("{req:?}"),
            format!("{req:#?}"),
            format!("{:?}", req.password),
        ] {
            assert_clean("Debug of CheckRequest", &text, users::ALICE.0, password);
        }
        let debug = format!("{req:?}");
        assert!(debug.contains("alice@example.test"), "{debug}");
    }
}

#[tokio::test]
async fn whole_checks_leak_no_password_into_logs_or_responses() {
    let mail = MailServers::shared();
    let postfix = Postfix::shared();
    let p = mail.ports;
    let targets = [
        json!({"incoming": {"protocol": "imap", "host": scenario::GOOD, "port": p.imaps, "security": "tls"}}),
        json!({"incoming": {"protocol": "imap", "host": scenario::STRICT, "port": p.imap, "security": "starttls"}}),
        json!({"incoming": {"protocol": "pop3", "host": scenario::GOOD, "port": p.pop3s, "security": "tls"}}),
        json!({"incoming": {"protocol": "pop3", "host": scenario::STRICT, "port": p.pop3, "security": "starttls"}}),
        json!({"outgoing": {"host": scenario::GOOD, "port": p.submissions, "security": "tls"}}),
        json!({"outgoing": {"host": scenario::STRICT, "port": p.submission, "security": "starttls"}}),
        json!({"outgoing": {"host": postfix::HOST, "port": postfix.ports.submissions, "security": "tls"}}),
        // Plaintext, where the server reads the login in the clear (Dovecot trusts
        // loopback on .1): the proxy still must not log it.
        json!({"incoming": {"protocol": "imap", "host": scenario::GOOD, "port": p.imap, "security": "none"}}),
    ];
    let logs = Captured::default();
    let writer = logs.clone();
    let _guard = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .set_default();

    let (user, right) = users::ALICE;
    let mut outcomes = Vec::new();
    for target in &targets {
        for password in [right, WRONG] {
            let mut body = json!({"email": user, "password": password});
            for (k, v) in target.as_object().unwrap() {
                body[k] = v.clone();
            }
            for route in ["/api/v1/check", "/api/v1/check/stream"] {
                // Tests on other threads, without a subscriber, may have cached "never"
                // for a callsite while this test's subscriber was being installed.
                tracing::callsite::rebuild_interest_cache();
                let (status, text) = run(route, &body).await;
                assert_eq!(status, StatusCode::OK, "{route} {body}: {text}");
                assert_clean(&format!("response of {route}"), &text, user, password);
                outcomes.push((password == right, text));
            }
        }
    }
    // The checks really ran: right passwords logged in, wrong ones were refused.
    for (right, text) in &outcomes {
        if *right {
            assert!(text.contains("\"ok\":true"), "{text}");
        } else {
            assert!(text.contains("auth_failed"), "{text}");
        }
    }

    let logs = logs.text();
    // The capture works: the checks' spans and events are in it.
    assert!(logs.contains("TRACE") || logs.contains("DEBUG"), "{logs}");
    assert!(logs.contains("connected"), "{logs}");
    assert!(logs.contains("check side failed"), "{logs}");
    assert!(logs.contains("protocol=\"smtp\"") || logs.contains("protocol=smtp"));
    for password in [right, WRONG] {
        assert_clean("the TRACE log", &logs, user, password);
    }
    // The capture would catch a password written into it.
    let mut probe = Captured::default();
    write!(probe, "PASS {WRONG}").unwrap();
    assert!(leak(&probe.text(), user, WRONG).is_some());
}

/// Servers that quote the client's line back in their refusals (some do: `-ERR [AUTH]
/// failed: PASS <password>`, an SMTP `535` with the `AUTH PLAIN` argument): the secret is
/// in no response, no stream event and no report text, in any form, for every way the
/// proxy sends it (IMAP LOGIN and AUTHENTICATE PLAIN, POP3 PASS and AUTH PLAIN, SMTP AUTH
/// PLAIN and AUTH LOGIN).
#[tokio::test]
async fn servers_quoting_the_secret_back_never_get_it_into_a_report() {
    use mailsetup_tests::fake::{Behavior, FakeServer, Script};
    let user = "echo.user@example.test";
    let secret = "Echo-\"Secr3t\"\\pass-91";
    let imap_login = FakeServer::start(Behavior::Script(
        Script::new("* OK IMAP4rev1 echo ready")
            .on("CAPABILITY", "* CAPABILITY IMAP4rev1\r\n{tag} OK done")
            .on("LOGIN", "{tag} NO [AUTHENTICATIONFAILED] you sent: {line}")
            .on("LOGOUT", "* BYE\r\n{tag} OK bye"),
    ));
    let imap_sasl = FakeServer::start(Behavior::Script(
        Script::new("* OK IMAP4rev1 echo ready")
            .on(
                "CAPABILITY",
                "* CAPABILITY IMAP4rev1 AUTH=PLAIN LOGINDISABLED\r\n{tag} OK done",
            )
            .on("AUTHENTICATE", "+ ")
            .on("LOGOUT", "* BYE\r\n{tag} OK bye")
            // The SASL response line; AUTHENTICATE is the proxy's second command.
            .on("*", "a2 NO [AUTHENTICATIONFAILED] you sent: {line}"),
    ));
    let pop3_pass = FakeServer::start(Behavior::Script(
        Script::new("+OK echo POP3")
            .on("CAPA", "+OK\r\nUSER\r\n.")
            .on("USER", "+OK")
            .on("PASS", "-ERR [AUTH] failed: {line}")
            .on("QUIT", "+OK bye"),
    ));
    let pop3_sasl = FakeServer::start(Behavior::Script(
        Script::new("+OK echo POP3")
            .on("CAPA", "+OK\r\nSASL PLAIN\r\n.")
            .on("AUTH", "-ERR [AUTH] you sent {line}")
            .on("QUIT", "+OK bye"),
    ));
    let smtp_plain = FakeServer::start(Behavior::Script(
        Script::new("220 echo ESMTP")
            .on("EHLO", "250-echo\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            .on("AUTH", "535 5.7.8 Authentication failed: {line}")
            .on("QUIT", "221 bye"),
    ));
    let smtp_login = FakeServer::start(Behavior::Script(
        Script::new("220 echo ESMTP")
            .on("EHLO", "250-echo\r\n250-AUTH LOGIN\r\n250 8BITMIME")
            .on("AUTH", "334 VXNlcm5hbWU6")
            .on(&base64(user.as_bytes()), "334 UGFzc3dvcmQ6")
            .on("QUIT", "221 bye")
            .on("*", "535-5.7.8 you sent\r\n535 5.7.8 {line}"),
    ));
    let incoming = |s: &FakeServer, protocol: &str| json!({"protocol": protocol, "host": "127.0.0.1", "port": s.port(), "security": "none"});
    let outgoing =
        |s: &FakeServer| json!({"host": "127.0.0.1", "port": s.port(), "security": "none"});
    let bodies = [
        json!({"incoming": incoming(&imap_login, "imap")}),
        json!({"incoming": incoming(&imap_sasl, "imap")}),
        json!({"incoming": incoming(&pop3_pass, "pop3")}),
        json!({"incoming": incoming(&pop3_sasl, "pop3")}),
        json!({"outgoing": outgoing(&smtp_plain)}),
        json!({"outgoing": outgoing(&smtp_login)}),
    ];
    for target in &bodies {
        let mut body = json!({"email": user, "password": secret});
        for (k, v) in target.as_object().unwrap() {
            body[k] = v.clone();
        }
        for route in ["/api/v1/check", "/api/v1/check/stream"] {
            let (status, text) = run(route, &body).await;
            assert_eq!(status, StatusCode::OK, "{route} {body}: {text}");
            assert_clean(
                &format!("response of {route} for {target}"),
                &text,
                user,
                secret,
            );
            // Quoted secrets without the escapes, or upper-cased, are gone too.
            let lower = text.to_ascii_lowercase();
            assert!(!lower.contains("secr3t"), "{route} {target}: {text}");
            // The servers did quote the line back: the report shows where it was cut out.
            assert!(text.contains("[redacted]"), "{route} {target}: {text}");
            assert!(text.contains("auth_failed"), "{route} {target}: {text}");
        }
    }
}

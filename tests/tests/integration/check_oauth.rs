//! `POST /api/v1/check` with an OAuth 2.0 access token (`"auth": {"method": "oauth2",
//! "access_token": "..."}`) against scripted fake servers: XOAUTH2 and OAUTHBEARER logins
//! on IMAP, POP3 and SMTP (the exact payloads checked), a refusal with the servers' JSON
//! error challenge (answered, then the final refusal read), a token without the mail scope,
//! and the token never in a response, a stream event or a log line, even when a server
//! quotes it back. Real token logins against Dovecot's `oauth2` passdb are in the OAuth
//! tests (they need the harness's authorization server).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use mailsetup_proxy::{AppState, Config};
use mailsetup_tests::fake::{Behavior, FakeServer, Script};

use crate::check::Captured;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const EMAIL: &str = "token.user@example.test";
const TOKEN: &str = "ya29.Fake-Token_0123456789abcdefXYZ";

fn b64(bytes: &[u8]) -> String {
    crate::secrets::base64(bytes)
}

/// What a correct client sends for `EMAIL` and `TOKEN`.
fn xoauth2() -> String {
    b64(format!("user={EMAIL}\x01auth=Bearer {TOKEN}\x01\x01").as_bytes())
}

/// Loopback fake servers allowed, no mail harness needed.
fn config() -> Config {
    let mut c = Config::for_tests(crate::empty_dist());
    c.allow_private_targets = true;
    c.allow_any_port = true;
    c.allow_plaintext = true;
    c
}

fn token_body(target: (&str, Value), sasl: Option<&str>) -> Value {
    let mut auth = json!({"method": "oauth2", "access_token": TOKEN});
    if let Some(sasl) = sasl {
        auth["sasl"] = json!(sasl);
    }
    let mut body = json!({"email": EMAIL, "auth": auth});
    body[target.0] = target.1;
    body
}

fn incoming(server: &FakeServer, protocol: &str) -> (&'static str, Value) {
    (
        "incoming",
        json!({"protocol": protocol, "host": "127.0.0.1", "port": server.port(), "security": "none"}),
    )
}

fn outgoing(server: &FakeServer) -> (&'static str, Value) {
    (
        "outgoing",
        json!({"host": "127.0.0.1", "port": server.port(), "security": "none"}),
    )
}

/// Every form of the token a leak could take.
fn token_forms() -> Vec<String> {
    let mut forms = vec![
        TOKEN.to_owned(),
        TOKEN.to_ascii_lowercase(),
        xoauth2(),
        b64(TOKEN.as_bytes()),
    ];
    // The token's own characters in the middle of any base64 alignment.
    for pad in 0..3 {
        let mut bytes = vec![b'x'; pad];
        bytes.extend_from_slice(TOKEN.as_bytes());
        let all = b64(&bytes);
        forms.push(all[4..all.len() - 4].to_owned());
    }
    forms
}

fn assert_no_token(what: &str, text: &str) {
    for form in token_forms() {
        assert!(
            !text.contains(&form),
            "{what} leaks the token as {form}: {text}"
        );
    }
}

/// Posts `body` to `route` and returns status and body text, asserting no token leaks.
async fn post_route(route: &str, body: &Value) -> (StatusCode, String) {
    let app = mailsetup_proxy::app(AppState::new(config()).unwrap());
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
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert_no_token(route, &text);
    (status, text)
}

/// The report of the one side `body` asks for.
async fn side(body: &Value) -> Value {
    let (status, text) = post_route("/api/v1/check", body).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let json: Value = serde_json::from_str(&text).unwrap();
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

fn auth_detail(side: &Value) -> &str {
    side["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "auth")
        .and_then(|s| s["detail"].as_str())
        .unwrap_or("")
}

/// An IMAP server offering `caps` whose AUTHENTICATE answers `+ ` and which logs in only
/// the exact `payload`.
fn imap_expecting(caps: &str, payload: &str) -> FakeServer {
    FakeServer::start(Behavior::Script(
        Script::new("* OK IMAP4rev1 fake ready")
            .on(
                "CAPABILITY",
                &format!("* CAPABILITY {caps}\r\n{{tag}} OK done"),
            )
            .on("AUTHENTICATE", "+ ")
            .on(payload, "a2 OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in")
            .on(
                "EXAMINE",
                "* 7 EXISTS\r\n{tag} OK [READ-ONLY] Examine completed",
            )
            .on("LOGOUT", "* BYE bye\r\n{tag} OK LOGOUT completed")
            .on("*", "a2 NO [AUTHENTICATIONFAILED] wrong payload"),
    ))
}

#[tokio::test]
async fn imap_logs_in_with_xoauth2_and_prefers_oauthbearer_when_offered() {
    let x = imap_expecting("IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2", &xoauth2());
    let s = side(&token_body(incoming(&x, "imap"), None)).await;
    assert_eq!(s["ok"], true, "{s:#}");
    assert_eq!(
        auth_detail(&s),
        "logged in with AUTHENTICATE XOAUTH2",
        "{s:#}"
    );
    assert!(s["steps"].to_string().contains("7 messages"), "{s:#}");

    // Both offered: the standard one. (Its payload names the server's port, known only
    // once the server listens; the unit tests in `check::sasl` check its exact form.)
    let server = FakeServer::start(Behavior::Script(
        Script::new("* OK IMAP4rev1 fake ready")
            .on(
                "CAPABILITY",
                "* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 AUTH=OAUTHBEARER\r\n{tag} OK done",
            )
            .on("AUTHENTICATE", "+ ")
            .on("LOGOUT", "* BYE\r\n{tag} OK bye")
            .on("EXAMINE", "{tag} OK [READ-ONLY] done")
            .on(
                &xoauth2(),
                "a2 NO [AUTHENTICATIONFAILED] not this mechanism",
            )
            .on("*", "a2 OK [CAPABILITY IMAP4rev1] Logged in"),
    ));
    let s = side(&token_body(incoming(&server, "imap"), None)).await;
    assert_eq!(s["ok"], true, "{s:#}");
    assert_eq!(
        auth_detail(&s),
        "logged in with AUTHENTICATE OAUTHBEARER",
        "{s:#}"
    );

    // Asked for XOAUTH2: XOAUTH2, whatever the server lists first.
    let x = imap_expecting("IMAP4rev1 AUTH=OAUTHBEARER AUTH=XOAUTH2", &xoauth2());
    let s = side(&token_body(incoming(&x, "imap"), Some("xoauth2"))).await;
    assert_eq!(s["ok"], true, "{s:#}");
    assert_eq!(
        auth_detail(&s),
        "logged in with AUTHENTICATE XOAUTH2",
        "{s:#}"
    );
}

#[tokio::test]
async fn pop3_and_smtp_send_the_exact_oauthbearer_and_xoauth2_payloads() {
    // POP3: the payload goes after `+` when the AUTH line would pass 255 octets, so the
    // server sees it as a line of its own and a rule can match it exactly.
    let long_user = format!("{}@example.test", "u".repeat(150));
    let pop3 = FakeServer::start(Behavior::Script(
        Script::new("+OK fake POP3")
            .on("CAPA", "+OK\r\nUSER\r\nSASL PLAIN XOAUTH2\r\n.")
            .on("AUTH", "+ ")
            .on(
                &b64(format!("user={long_user}\x01auth=Bearer {TOKEN}\x01\x01").as_bytes()),
                "+OK Logged in.",
            )
            .on("STAT", "+OK 2 320")
            .on("QUIT", "+OK bye")
            .on("*", "-ERR [AUTH] wrong payload"),
    ));
    let mut body = token_body(incoming(&pop3, "pop3"), None);
    body["username"] = json!(long_user);
    let s = side(&body).await;
    assert_eq!(s["ok"], true, "{s:#}");
    assert_eq!(auth_detail(&s), "logged in with AUTH XOAUTH2", "{s:#}");

    // SMTP: AUTH with the initial response on the command line.
    let smtp = FakeServer::start(Behavior::Script(
        Script::new("220 fake ESMTP")
            .on(
                "EHLO",
                "250-fake\r\n250-AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER\r\n250 8BITMIME",
            )
            .on("AUTH", "235 2.7.0 Accepted")
            .on("MAIL", "250 2.1.0 Ok")
            .on("RSET", "250 2.0.0 Ok")
            .on("QUIT", "221 bye"),
    ));
    let s = side(&token_body(outgoing(&smtp), Some("xoauth2"))).await;
    assert_eq!(s["ok"], true, "{s:#}");
    assert_eq!(auth_detail(&s), "logged in with AUTH XOAUTH2", "{s:#}");
    let s = side(&token_body(outgoing(&smtp), None)).await;
    assert_eq!(s["ok"], true, "{s:#}");
    assert_eq!(auth_detail(&s), "logged in with AUTH OAUTHBEARER", "{s:#}");
}

/// `{"status":..., "schemes":"bearer", "scope":...}` as a SASL challenge.
fn challenge(status: &str) -> String {
    b64(
        format!(r#"{{"status":"{status}","schemes":"bearer","scope":"https://mail.google.com/"}}"#)
            .as_bytes(),
    )
}

#[tokio::test]
async fn a_refused_token_gets_its_challenge_answered_and_a_clear_diagnosis() {
    // IMAP XOAUTH2 with SASL-IR: the challenge is answered with an empty line, then the
    // final NO comes.
    let imap = FakeServer::start(Behavior::Script(
        Script::new("* OK IMAP4rev1 fake ready")
            .on(
                "CAPABILITY",
                "* CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2\r\n{tag} OK done",
            )
            .on("AUTHENTICATE", &format!("+ {}", challenge("401")))
            .on("LOGOUT", "* BYE\r\n{tag} OK bye")
            // Only the empty answer gets the final reply.
            .on(
                "*",
                "a2 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
            ),
    ));
    let s = side(&token_body(incoming(&imap, "imap"), None)).await;
    assert_eq!(s["ok"], false);
    assert_eq!(code(&s), "oauth_token_rejected", "{s:#}");
    let reply = s["diagnosis"]["server_reply"].as_str().unwrap();
    assert!(reply.contains("AUTHENTICATIONFAILED"), "{reply}");
    assert!(reply.contains(r#""status":"401""#), "{reply}");

    // A plain refusal without a challenge is a refused token too, never "wrong password".
    let imap = FakeServer::start(Behavior::Script(Script::imap(
        "IMAP4rev1 AUTH=XOAUTH2",
        "NO [AUTHENTICATIONFAILED] AUTHENTICATE failed.",
    )));
    let s = side(&token_body(incoming(&imap, "imap"), None)).await;
    assert_eq!(code(&s), "oauth_token_rejected", "{s:#}");
    let d = &s["diagnosis"];
    assert!(d["message"].as_str().unwrap().contains("sign-in"), "{d:#}");
}

#[tokio::test]
async fn a_token_without_the_mail_scope_is_oauth_scope_missing() {
    // SMTP XOAUTH2 (Gmail's answer for a token without https://mail.google.com/).
    let smtp = FakeServer::start(Behavior::Script(
        Script::new("220 fake ESMTP")
            .on("EHLO", "250-fake\r\n250 AUTH PLAIN LOGIN XOAUTH2")
            .on("AUTH", &format!("334 {}", challenge("400")))
            .on("QUIT", "221 bye")
            .on(
                "*",
                "535-5.7.8 Username and Password not accepted.\r\n535 5.7.8 https://support.google.com/mail/?p=BadCredentials",
            ),
    ));
    let s = side(&token_body(outgoing(&smtp), None)).await;
    assert_eq!(code(&s), "oauth_scope_missing", "{s:#}");

    // POP3 OAUTHBEARER (RFC 7628 `insufficient_scope`): the challenge is answered with ^A.
    let pop3 = FakeServer::start(Behavior::Script(
        Script::new("+OK fake POP3")
            .on("CAPA", "+OK\r\nSASL OAUTHBEARER\r\n.")
            .on("AUTH", &format!("+ {}", challenge("insufficient_scope")))
            .on("AQ==", "-ERR [AUTH] Authentication failed.")
            .on("QUIT", "+OK bye")
            .on("*", "-ERR [SYS/PERM] not the RFC 7628 answer"),
    ));
    let s = side(&token_body(incoming(&pop3, "pop3"), None)).await;
    assert_eq!(code(&s), "oauth_scope_missing", "{s:#}");
    assert!(
        s["diagnosis"]["server_reply"]
            .as_str()
            .unwrap()
            .contains("Authentication failed"),
        "{s:#}"
    );
    // And in Russian.
    let (_, text) = {
        let app = mailsetup_proxy::app(AppState::new(config()).unwrap());
        let res = app
            .oneshot(
                Request::post("/api/v1/check")
                    .header("content-type", "application/json")
                    .header("accept-language", "ru")
                    .body(Body::from(
                        token_body(incoming(&pop3, "pop3"), None).to_string(),
                    ))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    };
    let json: Value = serde_json::from_str(&text).unwrap();
    let message = json["incoming"]["diagnosis"]["message"].as_str().unwrap();
    assert!(message.contains("почт"), "{message}");
}

#[tokio::test]
async fn a_server_without_oauth_mechanisms_is_told_plainly() {
    let imap = FakeServer::start(Behavior::Script(Script::imap(
        "IMAP4rev1 AUTH=PLAIN",
        "OK never reached",
    )));
    let s = side(&token_body(incoming(&imap, "imap"), None)).await;
    assert_eq!(code(&s), "protocol_error", "{s:#}");
    assert!(auth_detail(&s).contains("XOAUTH2"), "{s:#}");
}

#[tokio::test]
async fn the_token_is_in_no_response_stream_or_log_even_when_quoted_back() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let imap_ir = FakeServer::start(Behavior::Script(
        Script::new("* OK IMAP4rev1 echo")
            .on(
                "CAPABILITY",
                "* CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2\r\n{tag} OK done",
            )
            .on(
                "AUTHENTICATE",
                "{tag} NO [AUTHENTICATIONFAILED] you sent: {line}",
            )
            .on("LOGOUT", "* BYE\r\n{tag} OK bye"),
    ));
    let imap_cont = FakeServer::start(Behavior::Script(
        Script::new("* OK IMAP4rev1 echo")
            .on(
                "CAPABILITY",
                "* CAPABILITY IMAP4rev1 AUTH=OAUTHBEARER\r\n{tag} OK done",
            )
            .on("AUTHENTICATE", "+ ")
            .on("LOGOUT", "* BYE\r\n{tag} OK bye")
            .on("*", "a2 NO [AUTHENTICATIONFAILED] you sent: {line}"),
    ));
    // A server that decodes the payload and puts the raw token in its JSON error.
    let raw = b64(format!(r#"{{"status":"401","token":"{TOKEN}"}}"#).as_bytes());
    let smtp = FakeServer::start(Behavior::Script(
        Script::new("220 echo ESMTP")
            .on("EHLO", "250-echo\r\n250 AUTH XOAUTH2")
            .on("AUTH", &format!("334 {raw}"))
            .on("QUIT", "221 bye")
            .on("*", &format!("535 5.7.8 bad token {TOKEN} in {{line}}")),
    ));
    let pop3 = FakeServer::start(Behavior::Script(
        Script::new("+OK echo POP3")
            .on("CAPA", "+OK\r\nSASL XOAUTH2\r\n.")
            .on("AUTH", "-ERR [AUTH] you sent {line}")
            .on("QUIT", "+OK bye"),
    ));
    let bodies = [
        token_body(incoming(&imap_ir, "imap"), None),
        token_body(incoming(&imap_cont, "imap"), None),
        token_body(outgoing(&smtp), None),
        token_body(incoming(&pop3, "pop3"), None),
    ];
    for body in &bodies {
        for route in ["/api/v1/check", "/api/v1/check/stream"] {
            // Tests on other threads, without a subscriber, may have cached "never" for a
            // call site while this test's subscriber was being installed.
            tracing::callsite::rebuild_interest_cache();
            let (status, text) = post_route(route, body).await;
            assert_eq!(status, StatusCode::OK, "{route} {body}: {text}");
            assert!(text.contains("[redacted]"), "{route} {body}: {text}");
            assert!(
                text.contains("oauth_token_rejected"),
                "{route} {body}: {text}"
            );
        }
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("check_side"),
        "the check logged nothing: {logs}"
    );
    assert_no_token("the logs", &logs);
}

#[tokio::test]
async fn a_check_takes_exactly_one_credential() {
    let server = (
        "incoming",
        json!({"protocol": "imap", "host": "127.0.0.1", "port": 143, "security": "none"}),
    );
    let cases = [
        (
            json!({"email": EMAIL, "password": "pw", "auth": {"method": "oauth2", "access_token": TOKEN}}),
            "auth",
        ),
        (json!({"email": EMAIL}), "password"),
        (
            json!({"email": EMAIL, "auth": {"method": "oauth2", "access_token": "a\r\nb"}}),
            "auth.access_token",
        ),
        (
            json!({"email": EMAIL, "auth": {"method": "password", "password": ""}}),
            "auth.password",
        ),
    ];
    for (mut body, field) in cases {
        body[server.0] = server.1.clone();
        let (status, text) = post_route("/api/v1/check", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {text}");
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["error"]["code"], "invalid_request", "{text}");
        assert_eq!(json["error"]["field"], field, "{text}");
    }
    // An unknown mechanism or method is not a request at all.
    for auth in [
        json!({"method": "oauth2", "access_token": TOKEN, "sasl": "plain"}),
        json!({"method": "kerberos"}),
    ] {
        let mut body = json!({"email": EMAIL, "auth": auth});
        body[server.0] = server.1.clone();
        let (status, text) = post_route("/api/v1/check", &body).await;
        assert!(status.is_client_error(), "{body}: {status} {text}");
    }
}

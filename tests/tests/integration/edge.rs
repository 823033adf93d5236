//! The proxy's edge: JSON errors for malformed and oversized bodies, the per-client rate
//! limit, load shedding, the request timeout, and origin checks with CORS; through the
//! router (`oneshot`, peer address inserted by hand) and through a real socket.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use mailsetup_proxy::config::Seconds;
use mailsetup_proxy::{AppState, Config};
use mailsetup_tests::proxy::RunningProxy;
use serde_json::Value;
use tower::ServiceExt as _;

/// A static folder with one page, written once per test process (tests run in parallel:
/// rewriting the page while another test's proxy serves it could serve it half-written).
fn dist() -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join("mailsetup-edge-dist");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "<h1>wizard</h1>").unwrap();
        dir
    })
    .clone()
}

fn config(edit: impl FnOnce(&mut Config)) -> Config {
    let mut c = Config::for_tests(dist());
    edit(&mut c);
    c
}

fn app(config: Config) -> axum::Router {
    mailsetup_proxy::app(AppState::new(config).unwrap())
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    json: Value,
}

async fn send(app: &axum::Router, req: Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

fn post_check() -> axum::http::request::Builder {
    Request::post("/api/v1/check").header(header::CONTENT_TYPE, "application/json")
}

fn from_peer(mut req: Request<Body>, ip: &str) -> Request<Body> {
    let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.json);
    assert_eq!(reply.json["error"]["code"], code, "{}", reply.json);
    assert!(
        reply.json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        reply.json
    );
}

#[tokio::test]
async fn malformed_json_to_post_routes_is_a_400_invalid_request() {
    let app = app(config(|_| {}));
    for body in [
        "{not json",
        "",
        "[]",
        r#"{"email": 1}"#,
        r#"{"email":"a@b.c","password":"x","incoming":{"protocol":"gopher"}}"#,
        r#"{"email":"a@b.c","password":"x","surprise":true}"#,
    ] {
        let reply = send(&app, post_check().body(Body::from(body)).unwrap()).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    }
    // The wrong content type gets the same shape.
    let reply = send(
        &app,
        Request::post("/api/v1/check")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("{}"))
            .unwrap(),
    )
    .await;
    assert_eq!(reply.json["error"]["code"], "invalid_request");
    assert!(reply.status.is_client_error());
}

#[tokio::test]
async fn an_oversized_body_is_a_413_json_error_with_or_without_a_length() {
    let app = app(config(|_| {}));
    let huge = format!(r#"{{"email":"{}"}}"#, "a".repeat(100 * 1024));
    // No declared length: the body is cut while it is read.
    let reply = send(&app, post_check().body(Body::from(huge.clone())).unwrap()).await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    // Declared length: refused before reading.
    let reply = send(
        &app,
        post_check()
            .header(header::CONTENT_LENGTH, huge.len())
            .body(Body::from(huge.clone()))
            .unwrap(),
    )
    .await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
}

#[tokio::test]
async fn the_rate_limit_counts_each_client_on_expensive_routes_only() {
    let app = app(config(|c| c.rate_limit_per_minute = 2));
    let check = |ip: &str| from_peer(post_check().body(Body::from("{}")).unwrap(), ip);
    // The limiter runs before validation: invalid bodies count.
    for _ in 0..2 {
        let reply = send(&app, check("192.0.2.10")).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    }
    let reply = send(&app, check("192.0.2.10")).await;
    assert_error(&reply, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry: u64 = reply.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    // Discovery shares the budget.
    let reply = send(
        &app,
        from_peer(
            Request::get("/api/v1/discover?email=a@example.com")
                .body(Body::empty())
                .unwrap(),
            "192.0.2.10",
        ),
    )
    .await;
    assert_error(&reply, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // Another client is not affected.
    let reply = send(&app, check("192.0.2.11")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    // Cheap routes are not limited.
    for uri in ["/api/v1/health", "/api/v1/providers"] {
        let req = from_peer(Request::get(uri).body(Body::empty()).unwrap(), "192.0.2.10");
        assert_eq!(send(&app, req).await.status, StatusCode::OK, "{uri}");
    }
}

#[tokio::test]
async fn forwarded_for_is_used_only_when_trusted() {
    let check = |xff: &str| {
        from_peer(
            post_check()
                .header("x-forwarded-for", xff)
                .body(Body::from("{}"))
                .unwrap(),
            "10.0.0.1",
        )
    };
    // Untrusted: every request is the reverse proxy's, whatever the header says.
    let app1 = app(config(|c| c.rate_limit_per_minute = 1));
    assert_eq!(
        send(&app1, check("198.51.100.1")).await.status,
        StatusCode::BAD_REQUEST
    );
    let reply = send(&app1, check("198.51.100.2")).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    // Trusted: the last entry (added by the reverse proxy) is the client.
    let app2 = app(config(|c| {
        c.rate_limit_per_minute = 1;
        c.trust_forwarded_for = true;
    }));
    assert_eq!(
        send(&app2, check("203.0.113.9, 198.51.100.1")).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        send(&app2, check("198.51.100.2")).await.status,
        StatusCode::BAD_REQUEST
    );
    // A client cannot escape by forging earlier entries.
    let reply = send(&app2, check("203.0.113.77, 198.51.100.1")).await;
    assert_error(&reply, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

#[tokio::test]
async fn behind_a_trusted_reverse_proxy_the_forwarded_host_is_the_own_origin() {
    let req = || {
        Request::get("/api/v1/health")
            .header(header::HOST, "127.0.0.1:8080")
            .header("x-forwarded-host", "mail.example.com")
            .header(header::ORIGIN, "https://mail.example.com")
            .body(Body::empty())
            .unwrap()
    };
    let untrusted = app(config(|_| {}));
    assert_error(
        &send(&untrusted, req()).await,
        StatusCode::FORBIDDEN,
        "origin_not_allowed",
    );
    // A forwarded name is a client's word too (a DNS-rebinding page sends its own name):
    // the proxy's public origin comes from --public-url.
    let trusted = app(config(|c| c.trust_forwarded_for = true));
    assert_error(
        &send(&trusted, req()).await,
        StatusCode::FORBIDDEN,
        "origin_not_allowed",
    );
    let configured = app(config(|c| {
        c.trust_forwarded_for = true;
        c.public_url = Some("https://mail.example.com".to_owned());
    }));
    assert_eq!(send(&configured, req()).await.status, StatusCode::OK);
}

/// A DNS-rebinding page is served from the attacker's name pointing at the proxy, so its
/// `Origin` equals the `Host` its requests carry. Only the configured public origin, the
/// listen address and IP-literal or `localhost` hosts count as the proxy's own.
#[tokio::test]
async fn a_dns_rebinding_page_is_not_the_proxys_own_origin() {
    let req = |host: &str, origin: &str| {
        Request::post("/api/v1/check")
            .header(header::HOST, host)
            .header(header::ORIGIN, origin)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap()
    };
    let plain = app(config(|_| {}));
    let rebinding = send(
        &plain,
        req(
            "rebind.attacker.example:8080",
            "http://rebind.attacker.example:8080",
        ),
    )
    .await;
    assert_error(&rebinding, StatusCode::FORBIDDEN, "origin_not_allowed");
    // IP literals and localhost: a rebinding page cannot have these names.
    for (host, origin) in [
        ("127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("[::1]:8080", "http://[::1]:8080"),
        ("localhost:8080", "http://localhost:8080"),
        ("10.1.2.3", "http://10.1.2.3"),
    ] {
        let reply = send(&plain, req(host, origin)).await;
        // Past the origin check: the empty body is what is refused.
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    }
    // With --public-url, that origin is the proxy's own whatever `Host` says.
    let public = app(config(|c| {
        c.public_url = Some("https://mail-setup.example.com/".to_owned());
    }));
    let reply = send(
        &public,
        req("internal-name:8080", "https://mail-setup.example.com"),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    let reply = send(
        &public,
        req("rebind.attacker.example", "http://rebind.attacker.example"),
    )
    .await;
    assert_error(&reply, StatusCode::FORBIDDEN, "origin_not_allowed");
}

/// Errors the framework makes (a wrong method, an unknown route) have the API's shape.
#[tokio::test]
async fn framework_errors_have_the_api_shape() {
    let app = app(config(|_| {}));
    let reply = send(
        &app,
        Request::get("/api/v1/check").body(Body::empty()).unwrap(),
    )
    .await;
    assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert!(
        reply.headers.contains_key(header::ALLOW),
        "{:?}",
        reply.headers
    );
    let reply = send(
        &app,
        Request::delete("/api/v1/providers")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let reply = send(
        &app,
        Request::get("/api/v1/no-such-route")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
}

/// A secret sent in the wrong JSON type is never quoted back.
#[tokio::test]
async fn a_password_of_the_wrong_type_is_not_echoed() {
    let app = app(config(|_| {}));
    for password in [
        "987654321012",
        "true",
        "[\"hunter2secret\"]",
        "{\"x\":\"hunter2secret\"}",
    ] {
        let body = format!(
            r#"{{"email":"a@example.com","password":{password},"incoming":{{"protocol":"imap","host":"imap.example.com","port":993,"security":"tls"}}}}"#
        );
        for lang in ["en", "ru"] {
            let reply = send(
                &app,
                post_check()
                    .header(header::ACCEPT_LANGUAGE, lang)
                    .body(Body::from(body.clone()))
                    .unwrap(),
            )
            .await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
            assert_eq!(reply.json["error"]["field"], "password", "{}", reply.json);
            let text = reply.json.to_string();
            assert!(!text.contains("987654321012"), "{text}");
            assert!(!text.contains("hunter2"), "{text}");
            assert!(!text.contains("true"), "{text}");
        }
    }
}

fn is_cyrillic(text: &str) -> bool {
    text.chars().any(|c| ('\u{400}'..='\u{4ff}').contains(&c))
}

/// Every error code the API can answer, produced by a real request, in English and in
/// Russian: the code is the same, the message is in the language asked.
#[tokio::test]
async fn every_error_code_speaks_english_and_russian() {
    use mailsetup_shared::api::ErrorCode;
    let plain = || app(config(|_| {}));
    let check_body = |host: &str| {
        format!(
            r#"{{"email":"a@example.com","password":"secret","incoming":{{"protocol":"imap","host":"{host}","port":993,"security":"tls"}}}}"#
        )
    };
    // (code, app, request builder)
    type Make = Box<dyn Fn() -> Request<Body>>;
    let cases: Vec<(ErrorCode, axum::Router, Make)> = vec![
        (
            ErrorCode::InvalidRequest,
            plain(),
            Box::new(|| post_check().body(Body::from("{not json")).unwrap()),
        ),
        (
            ErrorCode::InvalidEmail,
            plain(),
            Box::new(|| {
                Request::get("/api/v1/providers/lookup?email=not-an-address")
                    .body(Body::empty())
                    .unwrap()
            }),
        ),
        (
            ErrorCode::UnknownProvider,
            plain(),
            Box::new(|| {
                Request::get("/api/v1/providers/lookup?email=a%40unknown-domain.example")
                    .body(Body::empty())
                    .unwrap()
            }),
        ),
        (
            ErrorCode::TargetNotAllowed,
            plain(),
            Box::new(move || {
                post_check()
                    .body(Body::from(check_body("127.0.0.1")))
                    .unwrap()
            }),
        ),
        (
            ErrorCode::OriginNotAllowed,
            plain(),
            Box::new(|| {
                Request::get("/api/v1/health")
                    .header(header::ORIGIN, "https://evil.example")
                    .body(Body::empty())
                    .unwrap()
            }),
        ),
        (
            ErrorCode::RateLimited,
            app(config(|c| c.rate_limit_per_minute = 1)),
            Box::new(|| from_peer(post_check().body(Body::from("{}")).unwrap(), "192.0.2.9")),
        ),
        (
            ErrorCode::Overloaded,
            app(config(|c| c.max_concurrent_checks = 0)),
            Box::new(|| post_check().body(Body::from("{}")).unwrap()),
        ),
        (
            ErrorCode::BodyTooLarge,
            plain(),
            Box::new(|| {
                post_check()
                    .header(header::CONTENT_LENGTH, 10_000_000)
                    .body(Body::from("{}"))
                    .unwrap()
            }),
        ),
        (
            ErrorCode::Timeout,
            app(config(|c| c.request_timeout = Seconds::from_millis(200))),
            Box::new(|| {
                // A body that never ends.
                let stream = futures_util::stream::pending::<Result<Vec<u8>, std::io::Error>>();
                post_check().body(Body::from_stream(stream)).unwrap()
            }),
        ),
        (
            ErrorCode::StoreUnavailable,
            // Redis configured, nothing listening there.
            app(config(|c| {
                c.redis_url =
                    Some(mailsetup_proxy::store::RedisUrl::parse("redis://127.0.0.1:9").unwrap());
            })),
            Box::new(move || {
                post_check()
                    .body(Body::from(check_body("imap.example.com")))
                    .unwrap()
            }),
        ),
        (
            ErrorCode::NotFound,
            plain(),
            Box::new(|| {
                Request::get("/api/v1/nothing-here")
                    .body(Body::empty())
                    .unwrap()
            }),
        ),
        (
            ErrorCode::MethodNotAllowed,
            plain(),
            Box::new(|| Request::get("/api/v1/check").body(Body::empty()).unwrap()),
        ),
    ];
    let mut walked = Vec::new();
    for (code, app, make) in &cases {
        let mut messages = Vec::new();
        for lang in ["en-US,en;q=0.9", "ru-RU,ru;q=0.9"] {
            // Rate limits: the first request of the minute passes.
            if *code == ErrorCode::RateLimited {
                let _ = send(app, make()).await;
            }
            let mut req = make();
            req.headers_mut()
                .insert(header::ACCEPT_LANGUAGE, lang.parse().unwrap());
            let reply = send(app, req).await;
            assert_eq!(
                reply.json["error"]["code"],
                code.as_str(),
                "{lang}: {}",
                reply.json
            );
            let message = reply.json["error"]["message"].as_str().unwrap().to_owned();
            assert!(!message.is_empty());
            messages.push(message);
        }
        assert!(
            !is_cyrillic(&messages[0]),
            "{code:?} English: {}",
            messages[0]
        );
        assert!(
            is_cyrillic(&messages[1]),
            "{code:?} Russian: {}",
            messages[1]
        );
        walked.push(*code);
    }
    // Every code but the safety net for framework-made 5xx answers, which no request can
    // cause on purpose; a new code must be added above.
    let mut expected: Vec<ErrorCode> = ErrorCode::ALL
        .iter()
        .copied()
        .filter(|c| *c != ErrorCode::InternalError)
        .collect();
    expected.sort_by_key(|c| c.as_str());
    walked.sort_by_key(|c| c.as_str());
    assert_eq!(walked, expected);
}

#[tokio::test]
async fn foreign_origins_are_refused_and_allowed_ones_get_cors_headers() {
    let app = app(config(|c| {
        c.allowed_origin = vec!["https://webmail.example.org".to_owned()];
        c.public_url = Some("http://proxy.example.net:8080".to_owned());
    }));
    let with_origin = |method: &str, uri: &str, origin: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "proxy.example.net:8080")
            .header(header::ORIGIN, origin)
            .header(header::CONTENT_TYPE, "application/json")
    };
    // A foreign page: 403 on every API route, with the JSON shape.
    for (method, uri) in [("GET", "/api/v1/health"), ("POST", "/api/v1/check")] {
        let req = with_origin(method, uri, "https://evil.example")
            .body(Body::from("{}"))
            .unwrap();
        let reply = send(&app, req).await;
        assert_error(&reply, StatusCode::FORBIDDEN, "origin_not_allowed");
        assert!(
            !reply
                .headers
                .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        );
    }
    for origin in [
        "null",
        "*",
        "http://proxy.example.net:8081",
        "https://webmail.example.org.evil.example",
    ] {
        let req = with_origin("GET", "/api/v1/health", origin)
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            send(&app, req).await.status,
            StatusCode::FORBIDDEN,
            "{origin}"
        );
    }
    // The proxy's own origin works without CORS headers.
    let req = with_origin("GET", "/api/v1/health", "http://proxy.example.net:8080")
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, req).await;
    assert_eq!(reply.status, StatusCode::OK);
    // An allowed origin gets its own name back, never `*`.
    let req = with_origin("POST", "/api/v1/check", "https://webmail.example.org")
        .body(Body::from("{}"))
        .unwrap();
    let reply = send(&app, req).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        reply.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://webmail.example.org"
    );
    assert!(
        reply
            .headers
            .get_all(header::VARY)
            .iter()
            .any(|v| v.to_str().unwrap().contains("origin"))
    );
    // Preflight.
    let req = with_origin("OPTIONS", "/api/v1/check", "https://webmail.example.org")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, req).await;
    assert!(reply.status.is_success(), "{}", reply.status);
    assert_eq!(
        reply.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://webmail.example.org"
    );
    let methods = reply.headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = reply.headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap();
    assert!(allowed.contains("content-type"), "{allowed}");
    let req = with_origin("OPTIONS", "/api/v1/check", "https://evil.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .body(Body::empty())
        .unwrap();
    assert_error(
        &send(&app, req).await,
        StatusCode::FORBIDDEN,
        "origin_not_allowed",
    );
    // The static site is not an API: no origin check.
    let req = with_origin("GET", "/", "https://evil.example")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, req).await.status, StatusCode::OK);
}

// ------------------------------------------------------------------ real socket

struct Raw {
    status: u16,
    head: String,
    json: Value,
}

impl Raw {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

fn read_reply(stream: &mut TcpStream) -> Raw {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP reply: {text:?}"));
    Raw {
        status,
        head: head.to_owned(),
        json: serde_json::from_str(body.trim()).unwrap_or(Value::Null),
    }
}

fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> Raw {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    read_reply(&mut s)
}

/// Starts a check request whose body never finishes, so it stays in flight.
fn hold_a_check(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /api/v1/check HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"email\":"
    )
    .unwrap();
    s
}

/// A mail server that accepts connections and never says a word (so a check against it
/// runs until a timeout), and the body of an IMAP check against it.
fn silent_server_and_check() -> (std::net::TcpListener, String) {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let body = format!(
        r#"{{"email":"alice@example.test","password":"x","incoming":{{"protocol":"imap","host":"127.0.0.1","port":{port},"security":"tls"}}}}"#
    );
    (silent, body)
}

/// Sends a whole JSON POST on a new connection and returns it, unread.
fn start_post(addr: SocketAddr, path: &str, body: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    s
}

/// Sends invalid checks until one is answered with `status`, giving up after 30 s (a
/// loaded machine may take a while to schedule the held request).
fn check_until(addr: SocketAddr, status: u16) -> Raw {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while std::time::Instant::now() < deadline {
        let reply = request(addr, "POST", "/api/v1/check", "{}");
        if reply.status == status {
            return reply;
        }
        if !seen.contains(&reply.status) {
            seen.push(reply.status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("never got {status} in 30 s; got {seen:?}");
}

#[test]
fn rate_limit_and_body_limit_on_a_real_socket() {
    let proxy = RunningProxy::start(config(|c| c.rate_limit_per_minute = 3)).unwrap();
    for _ in 0..3 {
        let r = request(proxy.addr, "POST", "/api/v1/check", "{oops");
        assert_eq!(r.status, 400, "{}", r.head);
        assert_eq!(r.json["error"]["code"], "invalid_request");
    }
    let r = request(proxy.addr, "POST", "/api/v1/check", "{}");
    assert_eq!(r.status, 429, "{}", r.head);
    assert_eq!(r.json["error"]["code"], "rate_limited");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    let r = request(proxy.addr, "GET", "/api/v1/health", "");
    assert_eq!(r.status, 200);

    // A declared 10 MB body is refused before it is sent.
    let mut s = TcpStream::connect(proxy.addr).unwrap();
    write!(
        s,
        "POST /api/v1/check HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{{",
        proxy.addr
    )
    .unwrap();
    // Rate limited first (same client, over budget): the limiter runs before the body.
    let r = read_reply(&mut s);
    assert_eq!(r.status, 429);
    let fresh = RunningProxy::start(config(|_| {})).unwrap();
    let mut s = TcpStream::connect(fresh.addr).unwrap();
    write!(
        s,
        "POST /api/v1/check HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{{",
        fresh.addr
    )
    .unwrap();
    let r = read_reply(&mut s);
    assert_eq!(r.status, 413, "{}", r.head);
    assert_eq!(r.json["error"]["code"], "body_too_large");
    // A chunked body with no declared length is cut while it is read.
    let mut s = TcpStream::connect(fresh.addr).unwrap();
    let chunk = format!("{{\"email\":\"{}\"}}", "a".repeat(100 * 1024));
    write!(
        s,
        "POST /api/v1/check HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{chunk}\r\n0\r\n\r\n",
        fresh.addr,
        chunk.len()
    )
    .unwrap();
    let r = read_reply(&mut s);
    assert_eq!(r.status, 413, "{}", r.head);
    assert_eq!(r.json["error"]["code"], "body_too_large");
}

#[test]
fn overload_sheds_expensive_requests_with_503() {
    // A mail server that accepts and then says nothing keeps one check running, and so
    // its slot taken, for as long as the test wants.
    let (silent, body) = silent_server_and_check();
    let proxy = RunningProxy::start(config(|c| {
        c.max_concurrent_checks = 1;
        c.allow_private_targets = true;
        c.allow_any_port = true;
        c.tls_timeout = Seconds::from_secs(120);
        c.side_timeout = Seconds::from_secs(120);
    }))
    .unwrap();
    let mut held = start_post(proxy.addr, "/api/v1/check", &body);
    // Once the mail server has the connection, the held check owns the only slot.
    let (server_side, _) = silent.accept().unwrap();
    let r = request(proxy.addr, "POST", "/api/v1/check", "{}");
    assert_eq!(r.status, 503, "{}", r.head);
    assert_eq!(r.json["error"]["code"], "overloaded");
    assert!(r.header("retry-after").is_some());
    // Cheap routes still answer.
    assert_eq!(request(proxy.addr, "GET", "/api/v1/health", "").status, 200);
    // When the held check ends (the server hangs up), checks are served again.
    drop(server_side);
    let r = read_reply(&mut held);
    assert_eq!(r.status, 200, "{}", r.head);
    let r = check_until(proxy.addr, 400);
    assert_eq!(r.json["error"]["code"], "invalid_request");
}

#[test]
fn a_request_over_the_timeout_is_a_504_json_error() {
    // A mail server that accepts and says nothing keeps the check running past the limit.
    let (silent, body) = silent_server_and_check();
    let proxy = RunningProxy::start(config(|c| {
        c.request_timeout = Seconds::from_millis(500);
        c.allow_private_targets = true;
        c.allow_any_port = true;
    }))
    .unwrap();
    let r = request(proxy.addr, "POST", "/api/v1/check", &body);
    assert_eq!(r.status, 504, "{}", r.head);
    assert_eq!(r.json["error"]["code"], "timeout");
    drop(silent);
}

#[test]
fn a_slow_body_gets_408_and_never_holds_a_check_slot() {
    let proxy = RunningProxy::start(config(|c| {
        c.max_concurrent_checks = 1;
        c.request_timeout = Seconds::from_secs(1);
    }))
    .unwrap();
    // A client that sends its headers and then trickles (here: never finishes) its body.
    let mut slow = hold_a_check(proxy.addr);
    // Meanwhile the only check slot is free for others.
    for _ in 0..3 {
        let r = request(proxy.addr, "POST", "/api/v1/check", "{}");
        assert_eq!(r.status, 400, "{}", r.head);
        assert_eq!(r.json["error"]["code"], "invalid_request");
    }
    let r = read_reply(&mut slow);
    assert_eq!(r.status, 408, "{}", r.head);
    assert_eq!(r.json["error"]["code"], "timeout");
}

#[test]
fn a_streamed_check_holds_its_slot_until_the_stream_ends() {
    // A mail server that accepts and then says nothing keeps the check running.
    let (silent, body) = silent_server_and_check();
    let proxy = RunningProxy::start(config(|c| {
        c.max_concurrent_checks = 1;
        c.allow_private_targets = true;
        c.allow_any_port = true;
    }))
    .unwrap();
    let mut stream = start_post(proxy.addr, "/api/v1/check/stream", &body);
    let (server_side, _) = silent.accept().unwrap();
    // The stream is running: its slot is taken.
    let r = request(proxy.addr, "POST", "/api/v1/check", "{}");
    assert_eq!(r.status, 503, "{}", r.head);
    assert_eq!(r.json["error"]["code"], "overloaded");
    // The server hangs up, the check ends, the stream sends its result and ends.
    drop(server_side);
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    assert!(text.contains("event: result"), "{text}");
    let r = check_until(proxy.addr, 400);
    assert_eq!(r.json["error"]["code"], "invalid_request");
}

//! API basics through the router and through a real socket: health, errors, static site.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use mailsetup_proxy::{AppState, Config};
use tower::ServiceExt as _;

fn app() -> axum::Router {
    let dir = std::env::temp_dir().join("mailsetup-empty-dist");
    let _ = std::fs::create_dir_all(&dir);
    mailsetup_proxy::app(AppState::new(Config::for_tests(dir)).unwrap())
}

async fn get(uri: &str) -> (StatusCode, serde_json::Value) {
    let res = app()
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
async fn health_reports_ok_and_version() {
    let (status, body) = get("/api/v1/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn unknown_api_route_is_a_json_404() {
    let (status, body) = get("/api/v1/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

#[test]
fn serves_static_files_and_index_fallback_on_a_real_socket() {
    let dir = std::env::temp_dir().join(format!("mailsetup-dist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<h1>wizard</h1>").unwrap();
    let proxy = mailsetup_tests::proxy::RunningProxy::start(Config::for_tests(&dir)).unwrap();
    let body = http_get(proxy.addr, "/some/client/route");
    assert!(body.contains("<h1>wizard</h1>"), "{body}");
    let health = http_get(proxy.addr, "/api/v1/health");
    assert!(health.contains("\"status\":\"ok\""), "{health}");
}

fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test]
async fn static_files_are_compressed_when_the_browser_accepts_it() {
    let dir = std::env::temp_dir().join(format!("mailsetup-dist-gz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let js = "export function f() { return 'wizard'; }\n".repeat(200);
    std::fs::write(dir.join("app.js"), &js).unwrap();
    let app = mailsetup_proxy::app(AppState::new(Config::for_tests(&dir)).unwrap());
    let res = app
        .oneshot(
            Request::get("/app.js")
                .header("accept-encoding", "gzip")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    assert!(
        bytes.len() < js.len() / 4,
        "{} of {}",
        bytes.len(),
        js.len()
    );
}

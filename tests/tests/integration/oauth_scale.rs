//! Sign in with the provider across replicas and in the logs: a flow started on one
//! proxy finishes on another sharing Redis and the `--secret-key-file` (and only once,
//! on either), Redis down is said honestly, a same-tab flow goes back where it started,
//! and no token, code, state or client secret reaches a log line, even at trace level.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt as _;
use mailsetup_tests::mail::{MailServers, users};
use mailsetup_tests::oidc::{self, Agent, Consent, OidcProvider};
use mailsetup_tests::proxy::RunningProxy;
use mailsetup_tests::redis::RedisServer;
use tower::ServiceExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::oauth::{PROVIDER, config, error_code, free_port, outcome, with_clients};

fn key_file() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("mailsetup-oauth-key-{}", std::process::id()));
    std::fs::write(&path, "a-test-key-of-more-than-thirty-two-bytes-0123456789").unwrap();
    path
}

#[test]
fn a_flow_started_on_one_replica_finishes_on_another_once_and_redis_down_is_said() {
    let redis = RedisServer::start().unwrap();
    let p = OidcProvider::shared();
    let (port_a, port_b) = (free_port(), free_port());
    // Behind a load balancer both replicas have the same public URL: A's here.
    let redirect = format!("http://127.0.0.1:{port_a}/api/v1/oauth/callback");
    let client = p.register_client(&redirect).unwrap();
    let key = key_file();
    let replica = |port: u16| {
        let c = config(port_a, |c| {
            c.redis_url = Some(mailsetup_proxy::store::RedisUrl::parse(&redis.url()).unwrap());
            c.secret_key_file = Some(key.clone());
        });
        RunningProxy::serve_at(with_clients(crate::test_state(c), p, &client), port).unwrap()
    };
    let (a, b) = (replica(port_a), replica(port_b));
    let (alice, _) = users::ALICE;
    let start = |proxy: &RunningProxy| {
        format!(
            "{}/api/v1/oauth/{PROVIDER}/start?email={}",
            proxy.url(),
            oidc::encode(alice)
        )
    };
    let mut agent = Agent::new();
    let on_a = agent.authorize(&start(&a), alice, Consent::Allow).unwrap();
    let on_b = on_a.replace(&a.url(), &b.url());
    assert_ne!(on_a, on_b);
    let page = agent.get(&on_b).unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(outcome(&page.body)["check"]["ok"], true, "{}", page.body);
    // The replay is refused on the replica that did not finish it.
    let replay = agent.get(&on_a).unwrap();
    assert_eq!(replay.status, 400, "{}", replay.body);
    assert_eq!(error_code(&replay.body), "oauth_state_invalid");
    // Redis away: the callback says the service cannot finish sign-ins now (503).
    let pending = agent.authorize(&start(&b), alice, Consent::Allow).unwrap();
    redis.stop();
    let down = agent.get(&pending).unwrap();
    assert_eq!(down.status, 503, "{}", down.body);
    assert!(
        down.body.contains("shared store is unavailable"),
        "{}",
        down.body
    );
    assert!(outcome(&down.body).get("check").is_none());
    // The page and the outcome the wizard receives name the same code.
    assert!(
        down.body
            .contains("<code id=\"code\">store_unavailable</code>"),
        "{}",
        down.body
    );
    assert_eq!(error_code(&down.body), "store_unavailable", "{}", down.body);
}

#[test]
fn a_same_tab_flow_returns_to_its_page_and_foreign_return_addresses_are_refused() {
    let s = crate::oauth::setup_with(false, |_| {});
    let (alice, _) = users::ALICE;
    let mut agent = Agent::new();
    let back = agent
        .authorize(
            &s.start(alice, "&mode=redirect&return_to=%2Fwizard%3Fstep%3Dtest"),
            alice,
            Consent::Allow,
        )
        .unwrap();
    let page = agent.get(&back).unwrap();
    assert!(
        page.body.contains("\"mode\":\"redirect\"")
            && page.body.contains("\"return_to\":\"/wizard?step=test\""),
        "{}",
        page.body
    );
    assert_eq!(outcome(&page.body)["check"]["ok"], true);
    for bad in [
        "https%3A%2F%2Fevil.example%2F",
        "%2F%2Fevil.example%2F",
        "%2F%5Cevil.example",
        "javascript%3Aalert(1)",
    ] {
        let r = agent
            .get(&s.start(alice, &format!("&mode=redirect&return_to={bad}")))
            .unwrap();
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.json["error"]["field"], "return_to", "{bad}");
    }
    let own = agent
        .get(&s.start(
            alice,
            &format!(
                "&mode=redirect&return_to={}",
                oidc::encode(&format!("{}/x", s.url()))
            ),
        ))
        .unwrap();
    assert_eq!(own.status, 303, "{}", own.body);
    let missing = agent
        .get(&format!("{}/api/v1/oauth/{PROVIDER}/start", s.url()))
        .unwrap();
    assert_eq!(missing.status, 400);
    let unknown = agent
        .get(&format!(
            "{}/api/v1/oauth/gmail/start?email=a%40gmail.com",
            s.url()
        ))
        .unwrap();
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert_eq!(unknown.json["error"]["field"], "provider");
}

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

async fn get(app: &axum::Router, uri: &str, cookie: &str) -> (u16, String, Vec<String>) {
    let req = Request::get(uri)
        .header("cookie", cookie)
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("")))
        .collect();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned(), headers)
}

#[tokio::test(flavor = "current_thread")]
async fn no_token_code_state_or_client_secret_in_any_log_line_at_trace_level() {
    let p = OidcProvider::shared();
    // Requests go to the app in this thread (its logs are captured here); the browser's
    // part at the provider goes over HTTP as usual.
    let base = "http://127.0.0.1:9";
    let client = p
        .register_client(&format!("{base}/api/v1/oauth/callback"))
        .unwrap();
    let mut c = config(9, |_| {});
    c.public_url = Some(base.to_owned());
    let state = with_clients(crate::test_state(c), p, &client);
    let app = mailsetup_proxy::app(state);
    let logs = Captured::default();
    let writer = logs.clone();
    let _guard = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .set_default();
    let (alice, _) = users::ALICE;
    let start = format!(
        "/api/v1/oauth/{PROVIDER}/start?email={}&credentials=true",
        oidc::encode(alice)
    );
    let (status, _, headers) = get(&app, &start, "").await;
    assert_eq!(status, 303);
    let header = |name: &str| {
        headers
            .iter()
            .find_map(|h| h.strip_prefix(&format!("{name}: ")).map(str::to_owned))
            .unwrap()
    };
    let location = header("location");
    let cookie = header("set-cookie").split(';').next().unwrap().to_owned();
    let mut agent = Agent::new();
    let callback = agent.authorize(&location, alice, Consent::Allow).unwrap();
    let path = callback.strip_prefix(base).unwrap();
    let (status, page, _) = get(&app, path, &cookie).await;
    assert_eq!(status, 200, "{page}");
    let o = outcome(&page);
    assert_eq!(
        o["check"]["ok"],
        true,
        "{o:#}\n{}",
        MailServers::shared().log_tail()
    );
    let secrets = [
        (
            "access token",
            o["grant"]["access_token"].as_str().unwrap().to_owned(),
        ),
        (
            "refresh token",
            o["grant"]["refresh_token"].as_str().unwrap().to_owned(),
        ),
        ("code", oidc::query_param(&callback, "code").unwrap()),
        ("state", oidc::query_param(&callback, "state").unwrap()),
        ("client secret", client.secret.clone()),
        ("cookie", cookie.split('=').nth(1).unwrap().to_owned()),
    ];
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(text.contains("oauth"), "the logs were captured: {text}");
    for (what, secret) in &secrets {
        assert!(secret.len() >= 20, "{what}: {secret}");
        assert!(
            !text.contains(secret.as_str()),
            "the {what} is in the logs:\n{text}"
        );
        // Nor its base64 form inside a SASL line.
        assert!(
            !text.contains(&oidc::xoauth2(alice, secret)),
            "{what} in SASL form"
        );
    }
}

//! Several replicas sharing Redis behind a real nginx doing round robin: the failed-login
//! guard, the rate limit and the discovery cache hold across replicas; Redis going away
//! gives the documented behaviour (checks 503 `store_unavailable`, the rest keeps
//! working, `/ready` 503) and the replicas recover by themselves when it returns. And the
//! metrics: after a known set of checks the counters say exactly that.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mailsetup_proxy::Config;
use mailsetup_tests::http::{Reply, request};
use mailsetup_tests::mail::{MailServers, scenario, users};
use mailsetup_tests::nginx::Nginx;
use mailsetup_tests::proxy::RunningProxy;
use mailsetup_tests::redis::RedisServer;
use serde_json::{Value, json};

fn dist() -> std::path::PathBuf {
    crate::empty_dist()
}

fn replica_config(redis: Option<&RedisServer>) -> Config {
    let mut c = crate::test_config(&dist(), MailServers::shared());
    c.redis_url = redis.map(|r| mailsetup_proxy::store::RedisUrl::parse(&r.url()).unwrap());
    c.trust_forwarded_for = true;
    c.metrics_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    c
}

/// Redis, two replicas sharing it and nginx in front of them.
struct Cluster {
    redis: RedisServer,
    replicas: [RunningProxy; 2],
    nginx: Nginx,
}

fn cluster(edit: impl Fn(&mut Config)) -> Cluster {
    let redis = RedisServer::start().unwrap();
    let start = || {
        let mut c = replica_config(Some(&redis));
        edit(&mut c);
        RunningProxy::serve(crate::test_state(c)).unwrap()
    };
    let replicas = [start(), start()];
    let nginx = Nginx::start(&[replicas[0].addr, replicas[1].addr]).unwrap();
    Cluster {
        redis,
        replicas,
        nginx,
    }
}

fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, &[], "").unwrap()
}

fn post(addr: SocketAddr, path: &str, body: &Value, lang: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = lang.map(|l| ("Accept-Language", l)).into_iter().collect();
    request(addr, "POST", path, &headers, &body.to_string()).unwrap()
}

fn imap_check(user: (&str, &str)) -> Value {
    json!({"email": user.0, "password": user.1,
           "incoming": {"protocol": "imap", "host": scenario::GOOD,
                        "port": MailServers::shared().ports.imaps, "security": "tls"}})
}

fn smtp_check(user: (&str, &str)) -> Value {
    json!({"email": user.0, "password": user.1,
           "outgoing": {"host": scenario::GOOD,
                        "port": MailServers::shared().ports.submissions, "security": "tls"}})
}

#[test]
fn the_failed_login_limit_holds_across_replicas() {
    let c = cluster(|c| c.max_failed_logins = 5);
    let wrong = (users::BOB.0, "not-bobs-password");
    // Five refused logins, spread over both replicas by nginx.
    for i in 0..5 {
        let r = post(c.nginx.addr, "/api/v1/check", &imap_check(wrong), None);
        assert_eq!(r.status, 200, "attempt {i}: {}", r.body);
        assert_eq!(r.json["incoming"]["diagnosis"]["code"], "auth_failed");
    }
    // The sixth is refused whichever replica gets it.
    for i in 0..2 {
        let r = post(c.nginx.addr, "/api/v1/check", &imap_check(wrong), None);
        assert_eq!(r.status, 429, "through nginx, {i}: {}", r.body);
        assert_eq!(r.json["error"]["code"], "rate_limited");
    }
    for replica in &c.replicas {
        let r = post(replica.addr, "/api/v1/check", &smtp_check(wrong), None);
        assert_eq!(r.status, 429, "directly on {}: {}", replica.addr, r.body);
    }
    // Another account is not affected.
    let r = post(
        c.nginx.addr,
        "/api/v1/check",
        &imap_check(users::ALICE),
        None,
    );
    assert_eq!(r.json["ok"], true, "{}", r.body);
}

#[test]
fn the_rate_limit_holds_across_replicas() {
    let c = cluster(|c| c.rate_limit_per_minute = 4);
    for i in 0..4 {
        let r = post(c.nginx.addr, "/api/v1/check", &json!({}), None);
        assert_eq!(r.status, 400, "request {i}: {}", r.body);
    }
    for i in 0..2 {
        let r = post(c.nginx.addr, "/api/v1/check", &json!({}), None);
        assert_eq!(r.status, 429, "request {}: {}", 4 + i, r.body);
        assert!(r.header("retry-after").is_some());
    }
}

#[test]
fn a_discovery_cached_by_one_replica_is_served_by_the_other() {
    let c = cluster(|_| {});
    let path = "/api/v1/discover?email=someone@gmail.com";
    let first = get(c.nginx.addr, path);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_ne!(first.json["trace"][0]["method"], "cache", "{}", first.body);
    // Both replicas now answer from the shared cache, the other one included.
    for replica in &c.replicas {
        let r = get(replica.addr, path);
        assert_eq!(r.json["trace"][0]["method"], "cache", "{}", r.body);
        assert_eq!(r.json["candidates"], first.json["candidates"]);
    }
}

#[test]
fn without_redis_checks_pause_the_rest_works_and_replicas_recover() {
    let c = cluster(|c| c.rate_limit_per_minute = 100);
    for replica in &c.replicas {
        assert_eq!(get(replica.addr, "/api/v1/ready").status, 200);
    }
    c.redis.stop();
    // Checks: 503 store_unavailable, in the client's language, on every replica.
    for _ in 0..2 {
        let r = post(
            c.nginx.addr,
            "/api/v1/check",
            &imap_check(users::ALICE),
            None,
        );
        assert_eq!(r.status, 503, "{}", r.body);
        assert_eq!(r.json["error"]["code"], "store_unavailable");
        let ru = post(
            c.nginx.addr,
            "/api/v1/check/stream",
            &imap_check(users::ALICE),
            Some("ru"),
        );
        assert_eq!(ru.status, 503, "{}", ru.body);
        assert!(
            ru.json["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("Проверки приостановлены")),
            "{}",
            ru.body
        );
    }
    for replica in &c.replicas {
        let ready = get(replica.addr, "/api/v1/ready");
        assert_eq!(ready.status, 503, "{}", ready.body);
        assert_eq!(ready.json["error"]["code"], "store_unavailable");
        // Liveness, provider lists, lookups and discovery keep working.
        assert_eq!(get(replica.addr, "/api/v1/health").status, 200);
        assert_eq!(get(replica.addr, "/api/v1/providers").status, 200);
        let lookup = get(replica.addr, "/api/v1/providers/lookup?email=a@gmail.com");
        assert_eq!(lookup.status, 200);
        let d = get(replica.addr, "/api/v1/discover?email=someone@gmail.com");
        assert_eq!(d.status, 200, "{}", d.body);
        assert_eq!(d.json["candidates"][0]["source"], "builtin", "{}", d.body);
    }
    // Redis returns: every replica is ready again by itself and checks run.
    c.redis.restart().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    for replica in &c.replicas {
        while get(replica.addr, "/api/v1/ready").status != 200 {
            assert!(
                Instant::now() < deadline,
                "{} did not recover",
                replica.addr
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    for _ in 0..2 {
        let r = post(
            c.nginx.addr,
            "/api/v1/check",
            &imap_check(users::ALICE),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json["ok"], true, "{}", r.body);
    }
    // The replicas counted the Redis errors.
    let errors: f64 = c
        .replicas
        .iter()
        .map(|r| metric(&scrape(r), "mailsetup_redis_errors_total", &[]))
        .sum();
    assert!(errors >= 2.0, "{errors}");
}

fn scrape(proxy: &RunningProxy) -> String {
    let addr = proxy.metrics_addr.expect("metrics listener");
    let r = get(addr, "/metrics");
    assert_eq!(r.status, 200);
    r.body
}

/// The sum of the samples of `name` whose labels include all of `labels`.
fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            (metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

#[test]
fn after_a_known_set_of_checks_the_metrics_say_exactly_that() {
    let mut config = replica_config(None);
    config.allow_plaintext = false;
    let proxy = RunningProxy::serve(crate::test_state(config)).unwrap();
    let addr = proxy.addr;
    for _ in 0..2 {
        let r = post(addr, "/api/v1/check", &imap_check(users::ALICE), None);
        assert_eq!(r.json["ok"], true, "{}", r.body);
    }
    let r = post(
        addr,
        "/api/v1/check",
        &imap_check((users::BOB.0, "wrong")),
        None,
    );
    assert_eq!(r.json["incoming"]["diagnosis"]["code"], "auth_failed");
    let r = post(addr, "/api/v1/check", &smtp_check(users::ALICE), None);
    assert_eq!(r.json["ok"], true, "{}", r.body);
    // Refused: a plaintext check (policy) and a foreign origin.
    let mut plain = imap_check(users::ALICE);
    plain["incoming"]["security"] = json!("none");
    assert_eq!(post(addr, "/api/v1/check", &plain, None).status, 403);
    let foreign = request(
        addr,
        "GET",
        "/api/v1/providers",
        &[("Origin", "https://evil.example")],
        "",
    )
    .unwrap();
    assert_eq!(foreign.status, 403);
    let d = get(addr, "/api/v1/discover?email=someone@gmail.com");
    assert_eq!(d.status, 200);

    let text = scrape(&proxy);
    let m = |name: &str, labels: &[(&str, &str)]| metric(&text, name, labels);
    let checks = "mailsetup_checks_total";
    assert_eq!(
        m(
            checks,
            &[("protocol", "imap"), ("outcome", "ok"), ("code", "none")]
        ),
        2.0,
        "{text}"
    );
    assert_eq!(
        m(
            checks,
            &[
                ("protocol", "imap"),
                ("outcome", "failed"),
                ("code", "auth_failed")
            ]
        ),
        1.0
    );
    assert_eq!(m(checks, &[("protocol", "smtp"), ("outcome", "ok")]), 1.0);
    assert_eq!(m(checks, &[]), 4.0);
    assert_eq!(m("mailsetup_check_duration_seconds_count", &[]), 4.0);
    assert_eq!(
        m(
            "mailsetup_check_step_duration_seconds_count",
            &[("step", "auth")]
        ),
        4.0
    );
    assert_eq!(
        m("mailsetup_requests_refused_total", &[("reason", "policy")]),
        1.0
    );
    assert_eq!(
        m("mailsetup_requests_refused_total", &[("reason", "origin")]),
        1.0
    );
    assert_eq!(m("mailsetup_requests_refused_total", &[]), 2.0);
    assert_eq!(
        m(
            "mailsetup_discoveries_total",
            &[("method", "builtin"), ("outcome", "ok")]
        ),
        1.0
    );
    assert_eq!(m("mailsetup_checks_in_flight", &[]), 0.0);
    // No address, user name or secret in any label.
    for secret in [
        "alice",
        "bob",
        "example.test",
        "127.0.0.1",
        "gmail.com",
        "wrong",
    ] {
        assert!(!text.contains(secret), "{secret} in metrics:\n{text}");
    }
}

#[test]
fn every_answer_carries_a_request_id_and_a_sane_one_from_outside_is_kept() {
    let proxy = RunningProxy::serve(crate::test_state(replica_config(None))).unwrap();
    let r = get(proxy.addr, "/api/v1/health");
    let id = r.header("x-request-id").expect("x-request-id");
    assert!(id.len() >= 16, "{id}");
    let kept = request(
        proxy.addr,
        "GET",
        "/api/v1/nope",
        &[("X-Request-Id", "lb-1234.abc")],
        "",
    )
    .unwrap();
    assert_eq!(kept.header("x-request-id").as_deref(), Some("lb-1234.abc"));
    let replaced = request(
        proxy.addr,
        "GET",
        "/api/v1/health",
        &[("X-Request-Id", "bad id with spaces")],
        "",
    )
    .unwrap();
    assert_ne!(
        replaced.header("x-request-id").as_deref(),
        Some("bad id with spaces")
    );
}

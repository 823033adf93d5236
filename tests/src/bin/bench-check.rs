//! Benchmark of `POST /api/v1/check` through the real proxy socket against the loopback
//! Dovecot: N checks per protocol and TLS mode, one after another, with p50/p95/max.
//!
//! Then the same IMAP + SMTP check called directly on the proxy's `Checker` (no HTTP), as
//! a ratio, and C concurrent HTTP checks (errors by kind, p50/p99, peak RSS of this
//! process, which hosts the proxy).
//!
//! Run: `cargo run --release -p mailsetup-tests --bin bench-check [N] [C]` (as root, like
//! the integration tests; N defaults to 50, C to 500).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use anyhow::{Context as _, bail};
use mailsetup_proxy::Config;
use mailsetup_tests::mail::{MailServers, scenario, users};
use mailsetup_tests::proxy::RunningProxy;
use serde_json::{Value, json};

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()
        .context("N must be a number")?
        .unwrap_or(50);
    let concurrent: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse())
        .transpose()
        .context("C must be a number")?
        .unwrap_or(500);
    let mail = MailServers::shared();
    let dist = std::env::temp_dir().join("mailsetup-empty-dist");
    std::fs::create_dir_all(&dist)?;
    let mut config = Config::for_tests(&dist);
    config.allow_private_targets = true;
    config.allow_any_port = true;
    config.allow_plaintext = true;
    config.extra_ca = vec![mail.ca_pem.clone()];
    config.max_concurrent_checks = concurrent.max(64);
    // Every client is 127.0.0.1 here: no per-client connection cap.
    config.max_connections_per_client = 0;
    let direct_state = mailsetup_proxy::AppState::new(config.clone())?;
    let proxy = RunningProxy::start(config)?;
    let p = mail.ports;
    let (email, password) = users::ALICE;
    let inc = |proto: &str, host: &str, port: u16, sec: &str| {
        json!({"email": email, "password": password,
               "incoming": {"protocol": proto, "host": host, "port": port, "security": sec}})
    };
    let out = |host: &str, port: u16, sec: &str| {
        json!({"email": email, "password": password,
               "outgoing": {"host": host, "port": port, "security": sec}})
    };
    let cases: Vec<(&str, Value)> = vec![
        ("imap tls", inc("imap", scenario::GOOD, p.imaps, "tls")),
        (
            "imap starttls",
            inc("imap", scenario::STRICT, p.imap, "starttls"),
        ),
        ("pop3 tls", inc("pop3", scenario::GOOD, p.pop3s, "tls")),
        (
            "pop3 starttls",
            inc("pop3", scenario::STRICT, p.pop3, "starttls"),
        ),
        ("smtp tls", out(scenario::GOOD, p.submissions, "tls")),
        (
            "smtp starttls",
            out(scenario::STRICT, p.submission, "starttls"),
        ),
        (
            "imap+smtp tls",
            json!({"email": email, "password": password,
                   "incoming": {"protocol": "imap", "host": scenario::GOOD, "port": p.imaps, "security": "tls"},
                   "outgoing": {"host": scenario::GOOD, "port": p.submissions, "security": "tls"}}),
        ),
    ];
    let both = json!({"email": email, "password": password,
        "incoming": {"protocol": "imap", "host": scenario::GOOD, "port": p.imaps, "security": "tls"},
        "outgoing": {"host": scenario::GOOD, "port": p.submissions, "security": "tls"}});
    println!(
        "{n} sequential checks per case through http://{}",
        proxy.addr
    );
    println!(
        "{:<16} {:>8} {:>8} {:>8} {:>8}",
        "case", "p50 ms", "p95 ms", "max ms", "errors"
    );
    for (name, body) in cases {
        // One warm-up request, not counted.
        let _ = post(proxy.addr, &body.to_string());
        let mut times = Vec::with_capacity(n);
        let mut errors = 0;
        for _ in 0..n {
            let started = Instant::now();
            match post(proxy.addr, &body.to_string()) {
                Ok(v) if v["ok"] == true => {}
                Ok(v) => {
                    errors += 1;
                    if errors == 1 {
                        eprintln!("{name}: {v}");
                    }
                }
                Err(err) => {
                    errors += 1;
                    eprintln!("{name}: {err:#}");
                }
            }
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let pct = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "{:<16} {:>8.1} {:>8.1} {:>8.1} {:>8}",
            name,
            pct(0.5),
            pct(0.95),
            times.last().copied().unwrap_or(0.0),
            errors
        );
    }

    // The same check without HTTP: the proxy's checker called directly.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let request: mailsetup_shared::api::CheckRequest = serde_json::from_value(both.clone())?;
    let mut direct = Vec::with_capacity(n);
    let mut via_http = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let report = runtime.block_on(direct_state.checker.check(
            &request,
            mailsetup_shared::api::Lang::En,
            None,
        ));
        if !report.as_ref().is_ok_and(|r| r.ok) {
            bail!("direct check failed: {report:?}");
        }
        direct.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        post(proxy.addr, &both.to_string())?;
        via_http.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    direct.sort_by(f64::total_cmp);
    via_http.sort_by(f64::total_cmp);
    let (d, h) = (direct[direct.len() / 2], via_http[via_http.len() / 2]);
    println!(
        "imap+smtp p50: direct {d:.1} ms, through HTTP {h:.1} ms, ratio {:.2}",
        h / d
    );

    // C checks at once (IMAP over TLS, alice and bob alternating).
    let started = Instant::now();
    let handles: Vec<_> = (0..concurrent)
        .map(|i| {
            let user = if i % 2 == 0 { users::ALICE } else { users::BOB };
            let body = json!({"email": user.0, "password": user.1,
                "incoming": {"protocol": "imap", "host": scenario::GOOD, "port": p.imaps, "security": "tls"}})
            .to_string();
            let addr = proxy.addr;
            std::thread::spawn(move || {
                let t = Instant::now();
                let outcome = match post(addr, &body) {
                    Ok(v) if v["ok"] == true => "ok".to_owned(),
                    Ok(v) => v["incoming"]["diagnosis"]["code"]
                        .as_str()
                        .unwrap_or("?")
                        .to_owned(),
                    Err(err) => format!("http: {err}"),
                };
                (t.elapsed().as_secs_f64() * 1000.0, outcome)
            })
        })
        .collect();
    let mut times = Vec::new();
    let mut outcomes: std::collections::BTreeMap<String, usize> = Default::default();
    for h in handles {
        if let Ok((ms, outcome)) = h.join() {
            times.push(ms);
            *outcomes.entry(outcome).or_default() += 1;
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{concurrent} concurrent imap checks in {:.0} ms: p50 {:.1} ms, p99 {:.1} ms, outcomes {outcomes:?}",
        started.elapsed().as_secs_f64() * 1000.0,
        pct(0.5),
        pct(0.99)
    );
    let rss = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: ?")
        .to_owned();
    println!("peak RSS of this process (proxy + client threads): {rss}");
    Ok(())
}

/// One `POST /api/v1/check` over a fresh connection; the JSON body of a 200.
fn post(addr: SocketAddr, body: &str) -> anyhow::Result<Value> {
    let mut s = TcpStream::connect(addr)?;
    write!(
        s,
        "POST /api/v1/check HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let (head, payload) = out.split_once("\r\n\r\n").context("no HTTP header end")?;
    if !head.starts_with("HTTP/1.1 200") {
        bail!("{}", head.lines().next().unwrap_or(""));
    }
    // The body may be chunked; the JSON object is between the first `{` and the last `}`.
    let start = payload.find('{').context("no JSON")?;
    let end = payload.rfind('}').context("no JSON")?;
    Ok(serde_json::from_str(&payload[start..=end])?)
}

//! Benchmark of `POST /api/v1/check` through the real proxy socket against the loopback
//! Dovecot: N checks per protocol and TLS mode, one after another, with p50/p95/max.
//!
//! Run: `cargo run --release -p mailsetup-tests --bin bench-check [N]` (as root, like the
//! integration tests; N defaults to 50).

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
    let mail = MailServers::shared();
    let dist = std::env::temp_dir().join("mailsetup-empty-dist");
    std::fs::create_dir_all(&dist)?;
    let mut config = Config::for_tests(&dist);
    config.allow_private_targets = true;
    config.allow_any_port = true;
    config.allow_plaintext = true;
    config.extra_ca = vec![mail.ca_pem.clone()];
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

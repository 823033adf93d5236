//! Capacity of one replica: C checks at once (IMAP, plaintext, loopback) against an
//! instant fake IMAP server, through the real `mailsetup-proxy` binary in its own process,
//! so its memory is measured alone: errors, wall time, p50/p99, the proxy's RSS before,
//! at the peak (`VmHWM`) and 10 s after the burst.
//!
//! Then the same burst of R checks through nginx over two replicas sharing a private
//! Redis, against one replica without Redis: errors, p50/p99, and Redis round trips per
//! check (from the replicas' `mailsetup_store_operations_total`).
//!
//! Run: `cargo build --release -p mailsetup-proxy && cargo run --release -p
//! mailsetup-tests --bin bench-capacity [C] [R]` (C defaults to 5000, R to 500; `cargo
//! xtask bench capacity` does both). `MAILSETUP_PROXY_BIN` picks another proxy binary
//! (to measure an older build).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use mailsetup_tests::nginx::Nginx;
use mailsetup_tests::redis::RedisServer;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

fn main() -> anyhow::Result<()> {
    let arg = |i: usize, default: usize| -> anyhow::Result<usize> {
        std::env::args()
            .nth(i)
            .map(|s| s.parse().context("arguments are numbers"))
            .transpose()
            .map(|v| v.unwrap_or(default))
    };
    let burst = arg(1, 5000)?;
    let replicated = arg(2, 500)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let imap = start_fake_imap().await?;
        println!("instant fake IMAP server on {imap}");

        // One replica, alone: the memory of a burst.
        let proxy = Proxy::start(&[], burst + 100)?;
        let idle = rss_kib(proxy.pid(), "VmRSS");
        let result = run_burst(proxy.addr, imap, burst).await;
        let peak = rss_kib(proxy.pid(), "VmHWM");
        let just_after = rss_kib(proxy.pid(), "VmRSS");
        tokio::time::sleep(Duration::from_secs(10)).await;
        let after = rss_kib(proxy.pid(), "VmRSS");
        println!(
            "== {burst} concurrent checks, one replica ({})",
            proxy.bin.display()
        );
        result.print();
        println!(
            "proxy RSS: idle {} MB, peak {} MB, right after {} MB, 10 s after {} MB",
            mb(idle),
            mb(peak),
            mb(just_after),
            mb(after)
        );
        drop(proxy);
        if std::env::var_os("MAILSETUP_PROXY_BIN").is_some() {
            // An older binary: only the burst (it may not know --redis-url).
            return Ok(());
        }

        // R checks: one replica without Redis, then two with Redis behind nginx.
        let single = Proxy::start(&[], replicated + 100)?;
        let alone = run_burst(single.addr, imap, replicated).await;
        println!("== {replicated} concurrent checks, one replica, no Redis");
        alone.print();
        drop(single);

        let redis = RedisServer::start()?;
        let url = redis.url();
        let flags = ["--redis-url", url.as_str(), "--trust-forwarded-for"];
        let a = Proxy::start(&flags, replicated + 100)?;
        let b = Proxy::start(&flags, replicated + 100)?;
        let nginx = Nginx::start(&[a.addr, b.addr])?;
        let shared = run_burst(nginx.addr, imap, replicated).await;
        println!("== {replicated} concurrent checks, nginx over two replicas sharing Redis");
        shared.print();
        let ops: f64 = [&a, &b]
            .iter()
            .map(|p| store_ops(p.metrics))
            .sum::<anyhow::Result<f64>>()?;
        // The warm-up checks went through Redis too.
        let checks = shared.ok + WARM_UP;
        println!(
            "Redis round trips: {ops} for {checks} checks = {:.2} per check",
            ops / checks.max(1) as f64
        );
        Ok(())
    })
}

fn mb(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// A field of `/proc/PID/status` in KiB.
fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim_start_matches(':')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// The proxy binary as a child process on free loopback ports.
struct Proxy {
    child: Child,
    addr: SocketAddr,
    metrics: SocketAddr,
    bin: PathBuf,
}

impl Proxy {
    fn start(extra: &[&str], max_checks: usize) -> anyhow::Result<Self> {
        let bin = std::env::var_os("MAILSETUP_PROXY_BIN").map_or_else(
            || mailsetup_tests::workspace_root().join("target/release/mailsetup-proxy"),
            PathBuf::from,
        );
        if !bin.exists() {
            bail!(
                "{} is missing: build it with `cargo build --release -p mailsetup-proxy` \
                 (`cargo xtask bench` does)",
                bin.display()
            );
        }
        let free = || -> anyhow::Result<SocketAddr> {
            Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
        };
        let (addr, metrics) = (free()?, free()?);
        let max = max_checks.to_string();
        let mut cmd = Command::new(&bin);
        cmd.args(["--listen", &addr.to_string()])
            .args([
                "--allow-plaintext",
                "--allow-private-targets",
                "--allow-any-port",
            ])
            .args(["--max-concurrent-checks", &max])
            .args(["--rate-limit-per-minute", "1000000"])
            .args(["--request-timeout", "120", "--side-timeout", "100"])
            .args(["--reply-timeout", "60", "--connect-timeout", "60"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        // Only new binaries know the metrics listener.
        if std::env::var_os("MAILSETUP_PROXY_BIN").is_none() {
            cmd.args(["--metrics-listen", &metrics.to_string()]);
            // Every client is 127.0.0.1 here: no per-client connection cap.
            cmd.args(["--max-connections-per-client", "0"]);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot run {}", bin.display()))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline {
                bail!("the proxy did not listen on {addr}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self {
            child,
            addr,
            metrics,
            bin,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sum of `mailsetup_store_operations_total` of one replica.
fn store_ops(metrics: SocketAddr) -> anyhow::Result<f64> {
    let r = mailsetup_tests::http::request(metrics, "GET", "/metrics", &[], "")?;
    Ok(r.body
        .lines()
        .filter(|l| l.starts_with("mailsetup_store_operations_total"))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum())
}

/// An IMAP server that answers every command at once: greeting, CAPABILITY, LOGIN,
/// EXAMINE, LOGOUT.
async fn start_fake_imap() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = serve_imap(conn).await;
            });
        }
    });
    Ok(addr)
}

async fn serve_imap(conn: TcpStream) -> std::io::Result<()> {
    let (r, mut w) = conn.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"* OK [CAPABILITY IMAP4rev1 IDLE] fake ready\r\n")
        .await?;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut words = line.split_whitespace();
        let tag = words.next().unwrap_or("*").to_owned();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let reply = match verb.as_str() {
            "CAPABILITY" => format!("* CAPABILITY IMAP4rev1 IDLE MOVE\r\n{tag} OK done\r\n"),
            "EXAMINE" | "SELECT" => {
                format!("* 3 EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n{tag} OK [READ-ONLY] done\r\n")
            }
            "LOGOUT" => {
                w.write_all(format!("* BYE bye\r\n{tag} OK done\r\n").as_bytes())
                    .await?;
                return Ok(());
            }
            _ => format!("{tag} OK done\r\n"),
        };
        w.write_all(reply.as_bytes()).await?;
    }
}

/// What a burst gave.
struct Burst {
    ok: usize,
    errors: std::collections::BTreeMap<String, usize>,
    wall: Duration,
    times: Vec<f64>,
}

impl Burst {
    fn print(&self) {
        let pct = |q: f64| {
            self.times
                .get(((self.times.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        println!(
            "ok {}, errors {:?}, wall {:.0} ms, p50 {:.0} ms, p99 {:.0} ms",
            self.ok,
            self.errors,
            self.wall.as_secs_f64() * 1000.0,
            pct(0.5),
            pct(0.99)
        );
    }
}

/// Checks sent one by one before a burst, to warm up (not counted in the burst).
const WARM_UP: usize = 20;

/// `n` checks at once through `proxy` against the fake server at `imap`, after
/// [`WARM_UP`] checks one by one.
async fn run_burst(proxy: SocketAddr, imap: SocketAddr, n: usize) -> Burst {
    let body = serde_json::json!({"email": "alice@example.test", "password": "abcdabcdabcdabcd",
        "incoming": {"protocol": "imap", "host": imap.ip().to_string(), "port": imap.port(),
                     "security": "none"}})
    .to_string();
    for _ in 0..WARM_UP {
        let _ = check(proxy, &body).await;
    }
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let body = body.clone();
            tokio::spawn(async move {
                let t = Instant::now();
                let outcome = check(proxy, &body).await;
                (t.elapsed().as_secs_f64() * 1000.0, outcome)
            })
        })
        .collect();
    let mut burst = Burst {
        ok: 0,
        errors: Default::default(),
        wall: Duration::ZERO,
        times: Vec::with_capacity(n),
    };
    for t in tasks {
        match t.await {
            Ok((ms, Ok(()))) => {
                burst.ok += 1;
                burst.times.push(ms);
            }
            Ok((_, Err(e))) => *burst.errors.entry(e).or_default() += 1,
            Err(e) => *burst.errors.entry(e.to_string()).or_default() += 1,
        }
    }
    burst.wall = started.elapsed();
    burst.times.sort_by(f64::total_cmp);
    burst
}

/// One check over a fresh connection; `Err` names what went wrong.
async fn check(proxy: SocketAddr, body: &str) -> Result<(), String> {
    let mut s = TcpStream::connect(proxy)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let req = format!(
        "POST /api/v1/check HTTP/1.1\r\nHost: {proxy}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&out);
    let status = text.split(' ').nth(1).unwrap_or("?");
    if status != "200" {
        return Err(format!("HTTP {status}"));
    }
    if !text.contains("\"ok\":true") {
        let code = text
            .split("\"code\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("?");
        return Err(format!("check failed: {code}"));
    }
    Ok(())
}

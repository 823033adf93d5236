//! Benchmark of slow and idle clients against the real `mailsetup-proxy` binary (release)
//! on loopback: the proxy's memory and how long it takes to drop them.
//!
//! 1. `unfinished-64k`: C clients each send a request head of 64 KiB that never ends.
//! 2. `unfinished-8k`: C clients each send 8 KiB of a request head (under the 16 KiB cap)
//!    and then nothing, so only the header timeout ends them.
//! 3. `idle`: I idle sockets from one client, and the time a second client then waits for
//!    an answer.
//!
//! Clients come from several loopback addresses (127.0.0.10 and up, at most 60 each) so
//! the per-client cap does not end them first; the proxy runs with its defaults otherwise
//! (header timeout 10 s). Prints, per scenario: peak and settled RSS of the proxy
//! (`VmHWM`, `VmRSS`), how many clients were dropped, and when.
//!
//! Run: `cargo run --release -p mailsetup-tests --bin bench-slow-clients [C] [I]`
//! (C defaults to 1000, I to 15000 or what the open-file limit leaves room for).
//! `MAILSETUP_PROXY_BIN=path` runs another build.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use mailsetup_tests::binary::{Profile, ProxyProcess};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// One client: connects from `from`, sends `head`, then waits until the proxy closes the
/// connection (or `limit` passes). Returns when it was closed, from `start`.
async fn client(
    from: [u8; 4],
    to: SocketAddr,
    head: &'static [u8],
    start: Instant,
    limit: Duration,
) -> anyhow::Result<Option<Duration>> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((from, 0)))?;
    let mut stream = socket.connect(to).await.context("connect")?;
    // The proxy may refuse the head half way: a failed write is an early close.
    if stream.write_all(head).await.is_err() {
        return Ok(Some(start.elapsed()));
    }
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    Ok(read.ok().map(|()| start.elapsed()))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn unfinished(
    name: &str,
    clients: usize,
    head: &'static [u8],
    limit: Duration,
) -> anyhow::Result<()> {
    let proxy = ProxyProcess::start(Profile::Release, &[])?;
    let (rss0, _) = proxy.memory_kib()?;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..clients {
        let from = [127, 0, 0, 10 + u8::try_from(i / 60).unwrap_or(200)];
        tasks.push(tokio::spawn(client(from, proxy.addr, head, start, limit)));
    }
    // Sample the proxy's memory while the clients hold on.
    let sampler = {
        let pid = proxy.pid();
        tokio::spawn(async move {
            let mut peak = 0u64;
            for _ in 0..(limit.as_millis() / 100) {
                if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status"))
                    && let Some(rss) = text
                        .lines()
                        .find_map(|l| l.strip_prefix("VmRSS:"))
                        .and_then(|v| v.split_whitespace().next())
                        .and_then(|v| v.parse::<u64>().ok())
                {
                    peak = peak.max(rss);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            peak
        })
    };
    let mut closed = Vec::new();
    let mut still_open = 0;
    let mut errors = 0;
    for t in tasks {
        match t.await? {
            Ok(Some(at)) => closed.push(at),
            Ok(None) => still_open += 1,
            Err(_) => errors += 1,
        }
    }
    let all_done = start.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss_after, hwm) = proxy.memory_kib()?;
    sampler.abort();
    closed.sort();
    println!(
        "{name:16} clients {clients:5}  dropped {:5}  still open after {:.0} s: {still_open}  \
         connect errors {errors}\n{:16} dropped after p50 {:.2} s, p99 {:.2} s, max {:.2} s \
         (all done {:.1} s)\n{:16} proxy RSS before {:.1} MiB, peak {:.1} MiB, 2 s after {:.1} MiB",
        closed.len(),
        limit.as_secs_f64(),
        "",
        percentile(&closed, 0.5).as_secs_f64(),
        percentile(&closed, 0.99).as_secs_f64(),
        closed.last().copied().unwrap_or_default().as_secs_f64(),
        all_done.as_secs_f64(),
        "",
        mib(rss0),
        mib(hwm),
        mib(rss_after),
    );
    Ok(())
}

async fn idle(sockets: usize) -> anyhow::Result<()> {
    let proxy = ProxyProcess::start(Profile::Release, &["--header-timeout", "60"])?;
    let (rss0, _) = proxy.memory_kib()?;
    let start = Instant::now();
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..sockets {
        match tokio::net::TcpStream::connect(proxy.addr).await {
            Ok(s) => held.push(s),
            Err(_) => refused += 1,
        }
    }
    let opened = start.elapsed();
    let t = Instant::now();
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from(([127, 0, 0, 2], 0)))?;
    let mut other = socket.connect(proxy.addr).await?;
    other
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await?;
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), other.read_to_end(&mut reply))
        .await
        .context("the second client got no answer within 10 s")??;
    let served = t.elapsed();
    let (rss, hwm) = proxy.memory_kib()?;
    println!(
        "{:16} sockets {sockets} from one client opened in {:.1} s ({refused} connect errors); \
         a second client served in {:.1} ms ({}); proxy RSS before {:.1} MiB, peak {:.1} MiB, \
         now {:.1} MiB",
        "idle",
        opened.as_secs_f64(),
        served.as_secs_f64() * 1000.0,
        String::from_utf8_lossy(&reply)
            .lines()
            .next()
            .unwrap_or("no reply"),
        mib(rss0),
        mib(hwm),
        mib(rss),
    );
    drop(held);
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let clients: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()
        .context("C must be a number")?
        .unwrap_or(1000);
    let fd_limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let room = usize::try_from(fd_limit.saturating_sub(2000)).unwrap_or(usize::MAX);
    let sockets: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse())
        .transpose()
        .context("I must be a number")?
        .unwrap_or(15_000)
        .min(room.max(100));
    static HEAD_64K: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    static HEAD_8K: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let head = |size: usize| {
        let mut h = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ".to_vec();
        h.resize(size, b'a');
        h
    };
    let h64 = HEAD_64K.get_or_init(|| head(64 * 1024));
    let h8 = HEAD_8K.get_or_init(|| head(8 * 1024));
    unfinished("unfinished-64k", clients, h64, Duration::from_secs(30)).await?;
    unfinished("unfinished-8k", clients, h8, Duration::from_secs(30)).await?;
    idle(sockets).await?;
    Ok(())
}

//! A private `redis-server` on a loopback port for tests: no persistence (nothing is saved,
//! no append-only file), its own temp dir, stopped when dropped or, whatever way the test
//! process ends, by a watchdog shell that stops it when our end of its stdin pipe closes
//! (as for Dovecot in [`crate::mail`]). [`RedisServer::stop`] and [`RedisServer::restart`]
//! take it away and bring it back on the same port, for outage tests.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// Where Debian's `redis-server` package puts the server.
pub const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// A running private Redis.
#[derive(Debug)]
pub struct RedisServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its temp dir (log).
    pub dir: PathBuf,
    watchdog: crate::watchdog::Watchdog,
}

impl RedisServer {
    /// Starts a new instance on a free loopback port.
    ///
    /// # Errors
    /// When `redis-server` is missing (the message says how to get it) or does not answer.
    pub fn start() -> anyhow::Result<Self> {
        if !Path::new(REDIS_SERVER).exists() {
            bail!(
                "{REDIS_SERVER} not found: the replica tests need Debian's redis-server; \
                 run `cargo xtask setup --tests` as root"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir =
            std::env::temp_dir().join(format!("mailsetup-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let server = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
            watchdog: Mutex::new(None),
        };
        server.restart()?;
        Ok(server)
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        format!("redis://{}/0", self.addr)
    }

    /// Starts the server again on the same port (after [`RedisServer::stop`]); its data is
    /// gone, as after a real restart without persistence.
    pub fn restart(&self) -> anyhow::Result<()> {
        self.stop();
        let port = self.addr.port().to_string();
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(
                "\"$1\" --bind 127.0.0.1 --port \"$2\" --save '' --appendonly no \
                 --daemonize no --protected-mode no --dir \"$3\" --logfile \"$3/redis.log\" & d=$!; \
                 read _ignored; kill -TERM $d 2>/dev/null; wait $d",
            )
            .arg("watchdog")
            .arg(REDIS_SERVER)
            .arg(&port)
            .arg(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot run /bin/sh")?;
        let stdin = child.stdin.take().context("no stdin pipe")?;
        if let Ok(mut slot) = self.watchdog.lock() {
            *slot = Some((child, stdin));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop();
        bail!(
            "redis-server did not answer on {} within 10 s; its log:\n{}",
            self.addr,
            std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
        )
    }

    /// Whether it answers `PING` now.
    pub fn ping(&self) -> bool {
        self.command("PING").is_some_and(|r| r.starts_with("+PONG"))
    }

    /// Sends one inline command and returns the first reply chunk (for test assertions,
    /// e.g. `DBSIZE`).
    pub fn command(&self, line: &str) -> Option<String> {
        let mut s = TcpStream::connect_timeout(&self.addr, Duration::from_millis(500)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        s.write_all(format!("{line}\r\n").as_bytes()).ok()?;
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Stops the server now and waits until it is gone.
    pub fn stop(&self) {
        crate::watchdog::stop(&self.watchdog, Duration::from_secs(5));
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

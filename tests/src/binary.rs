//! The real `mailsetup-proxy` binary as a child process on a loopback port, for tests and
//! benchmarks that must see the process as operators run it (its accept loop, its
//! open-file limit, its memory).
//!
//! The binary is built once per test process with `cargo build` (debug, or release with
//! [`Profile::Release`] for benchmarks) in the workspace's target directory.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// Which build of the binary to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// `cargo build` (tests).
    Debug,
    /// `cargo build --release` (benchmarks).
    Release,
}

/// A running proxy process, killed when dropped.
#[derive(Debug)]
pub struct ProxyProcess {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| crate::workspace_root().join("target"), PathBuf::from)
}

/// Builds the binary (once per process and profile) and returns its path. The environment
/// variable `MAILSETUP_PROXY_BIN` names another binary to run instead (a benchmark of an
/// older build, for a before/after comparison).
pub fn build(profile: Profile) -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("MAILSETUP_PROXY_BIN") {
        return Ok(PathBuf::from(bin));
    }
    static DEBUG: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static RELEASE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let cell = match profile {
        Profile::Debug => &DEBUG,
        Profile::Release => &RELEASE,
    };
    cell.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "mailsetup-proxy",
            "--bin",
            "mailsetup-proxy",
        ])
        .current_dir(crate::workspace_root());
        if profile == Profile::Release {
            cmd.arg("--release");
        }
        let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build of mailsetup-proxy failed: {status}"));
        }
        let dir = if profile == Profile::Release {
            "release"
        } else {
            "debug"
        };
        Ok(target_dir().join(dir).join("mailsetup-proxy"))
    })
    .clone()
    .map_err(anyhow::Error::msg)
}

impl ProxyProcess {
    /// Starts the binary on a free loopback port with `args` (besides `--listen` and
    /// `--static-dir`) and waits until it accepts connections.
    pub fn start(profile: Profile, args: &[&str]) -> anyhow::Result<Self> {
        let bin = build(profile)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("find a free port")?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let dist = std::env::temp_dir().join("mailsetup-binary-dist");
        std::fs::create_dir_all(&dist).context("static dir")?;
        std::fs::write(dist.join("index.html"), "<h1>wizard</h1>").context("index.html")?;
        let child = Command::new(&bin)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--static-dir")
            .arg(&dist)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("start {}", bin.display()))?;
        let mut proc = Self { addr, child };
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = proc.child.try_wait() {
                bail!("the proxy exited at start: {status}");
            }
            if started.elapsed() > Duration::from_secs(20) {
                bail!("the proxy did not listen on {addr} within 20 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(proc)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now and at its peak, in KiB (`VmRSS`, `VmHWM` from /proc).
    pub fn memory_kib(&self) -> anyhow::Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .context("read /proc/PID/status")?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok((field("VmRSS:"), field("VmHWM:")))
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

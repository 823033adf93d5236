//! A private nginx on a loopback port for tests: a round-robin load balancer in front of
//! proxy replicas, configured as docs/DEPLOY.md recommends (forwarded client address and
//! host, request id, no buffering for the check stream, no retry of a request on another
//! replica). One process (`master_process off`), its own temp dir, stopped when dropped or
//! by a watchdog when the test process ends.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// Where Debian's `nginx-light` package puts nginx.
pub const NGINX: &str = "/usr/sbin/nginx";

/// A running private nginx.
#[derive(Debug)]
pub struct Nginx {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its temp dir (config, logs).
    pub dir: PathBuf,
    watchdog: crate::watchdog::Watchdog,
}

/// The `http { ... }` block that balances over `upstreams` and listens on `listen`.
pub fn http_block(upstreams: &[SocketAddr], listen: SocketAddr, temp: &Path) -> String {
    let servers: String = upstreams
        .iter()
        .map(|a| format!("        server {a} max_fails=0;\n"))
        .collect();
    let t = temp.display();
    format!(
        "http {{
    access_log off;
    client_body_temp_path {t}/body;
    proxy_temp_path {t}/proxy;
    fastcgi_temp_path {t}/fastcgi;
    uwsgi_temp_path {t}/uwsgi;
    scgi_temp_path {t}/scgi;
    upstream mailsetup {{
{servers}        keepalive 32;
    }}
    server {{
        listen {listen};
        client_max_body_size 64k;
        location / {{
            proxy_pass http://mailsetup;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-Id $request_id;
            proxy_buffering off;
            proxy_read_timeout 90s;
            proxy_next_upstream off;
        }}
    }}
}}
"
    )
}

impl Nginx {
    /// Starts nginx balancing round robin over `upstreams`.
    ///
    /// # Errors
    /// When nginx is missing (the message says how to get it) or does not start.
    pub fn start(upstreams: &[SocketAddr]) -> anyhow::Result<Self> {
        if !Path::new(NGINX).exists() {
            bail!(
                "{NGINX} not found: the replica tests need Debian's nginx-light; run \
                 `cargo xtask setup --tests` as root"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let dir =
            std::env::temp_dir().join(format!("mailsetup-nginx-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\nevents {{ worker_connections 4096; }}\n{http}",
            d = dir.display(),
            http = http_block(upstreams, addr, &dir)
        );
        std::fs::write(dir.join("nginx.conf"), conf)?;
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(
                "\"$1\" -e \"$2/error.log\" -p \"$2\" -c \"$2/nginx.conf\" & d=$!; \
                 read _ignored; kill -TERM $d 2>/dev/null; wait $d",
            )
            .arg("watchdog")
            .arg(NGINX)
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot run /bin/sh")?;
        let stdin = child.stdin.take().context("no stdin pipe")?;
        let nginx = Self {
            addr,
            dir,
            watchdog: Mutex::new(Some((child, stdin))),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(nginx);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!(
            "nginx did not listen on {addr} within 10 s; its log:\n{}",
            std::fs::read_to_string(nginx.dir.join("error.log")).unwrap_or_default()
        )
    }

    /// Stops nginx now.
    pub fn stop(&self) {
        crate::watchdog::stop(&self.watchdog, Duration::from_secs(5));
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

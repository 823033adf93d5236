//! A private Dovecot (IMAP, POP3, SMTP submission) on loopback, with its own CA, for tests.
//!
//! One instance per test process, started on first use by [`MailServers::shared`]. It runs
//! in the foreground under a small watchdog shell whose standard input is a pipe held by
//! this process: when the test process ends in any way (pass, fail, panic, kill), the pipe
//! closes and the watchdog stops Dovecot. Nothing is left behind but a temp dir.
//!
//! Logins: passwords (PLAIN, LOGIN) and OAuth 2.0 tokens (XOAUTH2, OAUTHBEARER) from the
//! test OAuth server ([`crate::oidc`], started with it), checked by introspection.
//!
//! Scenario addresses (same ports on each), as in `shared/mail-servers.md`:
//! see [`scenario`]. Users: see [`users`].

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// The loopback address of each server scenario.
pub mod scenario {
    /// Good certificate (valid for `localhost`, `127.0.0.1`-`.6` and `::1`).
    /// Dovecot treats a client on the server's own address as secure, so plaintext logins
    /// before STARTTLS are accepted here: use [`STRICT`] to test STARTTLS enforcement.
    pub const GOOD: &str = "127.0.0.1";
    /// A certificate for `wrong.example.test` only.
    pub const WRONG_HOST: &str = "127.0.0.2";
    /// An expired certificate (2020-01-01 to 2020-01-02).
    pub const EXPIRED: &str = "127.0.0.3";
    /// A self-signed certificate (not issued by the test CA).
    pub const SELF_SIGNED: &str = "127.0.0.4";
    /// No TLS at all: no STARTTLS offered, implicit-TLS ports drop the connection.
    pub const NO_TLS: &str = "127.0.0.5";
    /// Good certificate, strict like a real provider: no login before STARTTLS.
    pub const STRICT: &str = "127.0.0.6";
}

/// Mailbox users, as `(address, password)`.
pub mod users {
    /// A working mailbox.
    pub const ALICE: (&str, &str) = ("alice@example.test", "abcdabcdabcdabcd");
    /// A second working mailbox.
    pub const BOB: (&str, &str) = ("bob@example.test", "efghefghefghefgh");
    /// Right password, refused everywhere with a custom text (`[CONTACTADMIN]`, `525 5.7.13`).
    pub const DISABLED: (&str, &str) = ("disabled@example.test", "abcdabcdabcdabcd");
    /// Right password, refused on IMAP only, as when IMAP access is switched off in webmail.
    pub const IMAPOFF: (&str, &str) = ("imapoff@example.test", "abcdabcdabcdabcd");
}

/// The text Dovecot gives the disabled user.
pub const REASON_DISABLED: &str =
    "Account disabled by test: log in via the web first (https://support.example.test/unlock)";
/// The text Dovecot gives the IMAP-off user on IMAP.
pub const REASON_IMAPOFF: &str = "IMAP access is disabled for this account. Enable it in Settings.";

/// The ports of one instance (the same on every scenario address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    /// IMAP with STARTTLS.
    pub imap: u16,
    /// IMAP over implicit TLS.
    pub imaps: u16,
    /// POP3 with STLS.
    pub pop3: u16,
    /// POP3 over implicit TLS.
    pub pop3s: u16,
    /// SMTP submission with STARTTLS.
    pub submission: u16,
    /// SMTP submission over implicit TLS.
    pub submissions: u16,
    /// The relay sink Dovecot's submission service forwards to (internal).
    pub sink: u16,
}

/// A running private Dovecot.
#[derive(Debug)]
pub struct MailServers {
    /// Its temp dir (config, certificates, logs, mailboxes).
    pub dir: PathBuf,
    /// The test CA's certificate (PEM): give it to clients as an extra root.
    pub ca_pem: PathBuf,
    /// Its ports.
    pub ports: Ports,
    watchdog: crate::watchdog::Watchdog,
}

static SHARED: OnceLock<MailServers> = OnceLock::new();

impl MailServers {
    /// The instance of this test process, started on first use.
    ///
    /// # Panics
    /// When Dovecot cannot be started, with a message saying how to get it.
    pub fn shared() -> &'static MailServers {
        SHARED.get_or_init(|| match Self::start() {
            Ok(servers) => servers,
            Err(err) => panic!(
                "cannot start the test mail servers: {err:#}\n\
                 They need Debian's dovecot-imapd, dovecot-pop3d and dovecot-submissiond and root \
                 (Dovecot drops privileges): run `cargo xtask setup --tests` as root."
            ),
        })
    }

    /// Starts a new instance in a fresh temp dir.
    pub fn start() -> anyhow::Result<MailServers> {
        let started = Instant::now();
        let dovecot = Path::new("/usr/sbin/dovecot");
        if !dovecot.exists() {
            bail!("{} not found", dovecot.display());
        }
        let dir = make_temp_dir()?;
        let ports = free_ports()?;
        for sub in ["certs", "run", "state", "home", "sink"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        set_mode(&dir, 0o755)?;
        chown_nobody(&dir.join("home"))?;
        crate::certs::write_all(&dir.join("certs"))?;
        write_passwd_files(&dir)?;
        std::fs::write(
            dir.join("dovecot.conf"),
            dovecot_conf(&dir, &ports, ipv6_loopback()),
        )?;
        // XOAUTH2 and OAUTHBEARER: tokens checked by introspection at the test OAuth server.
        std::fs::write(
            dir.join("oauth2.conf.ext"),
            oauth2_conf(&crate::oidc::OidcProvider::shared().introspection_url_for_dovecot()),
        )?;
        set_mode(&dir.join("oauth2.conf.ext"), 0o644)?;

        spawn_sink(ports.sink)?;
        // The watchdog: Dovecot in the foreground; when our end of the pipe closes, stop it.
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(
                "/usr/sbin/dovecot -F -c \"$1\" & d=$!; \
                 read _ignored; kill -TERM $d 2>/dev/null; wait $d",
            )
            .arg("watchdog")
            .arg(dir.join("dovecot.conf"))
            .env("MAILTEST_REASON_DISABLED", REASON_DISABLED)
            .env("MAILTEST_REASON_IMAPOFF", REASON_IMAPOFF)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("dovecot.stderr"))?)
            .spawn()
            .context("cannot run /bin/sh")?;
        let stdin = child.stdin.take().context("no stdin pipe")?;
        let servers = MailServers {
            ca_pem: dir.join("certs/ca.crt"),
            dir,
            ports,
            watchdog: Mutex::new(Some((child, stdin))),
        };
        servers.wait_ready().inspect_err(|_| servers.stop())?;
        eprintln!(
            "test mail servers ready in {} ms (dir {}, imaps port {})",
            started.elapsed().as_millis(),
            servers.dir.display(),
            ports.imaps
        );
        Ok(servers)
    }

    /// Stops the instance now (tests normally let process exit do it).
    pub fn stop(&self) {
        crate::watchdog::stop(&self.watchdog, Duration::from_secs(5));
    }

    /// The socket address of `port` on scenario address `ip`.
    pub fn addr(&self, ip: &str, port: u16) -> SocketAddr {
        let ip: IpAddr = ip.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]));
        SocketAddr::new(ip, port)
    }

    /// The auth socket for the test Postfix (Dovecot's SASL protocol, any local user).
    pub fn postfix_auth_socket(&self) -> PathBuf {
        self.dir.join("run/auth-postfix")
    }

    /// The last lines of Dovecot's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn wait_ready(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(15);
        let p = self.ports;
        for (port, greeting) in [
            (p.imap, "* OK"),
            (p.pop3, "+OK"),
            (p.submission, "220"),
            (p.imaps, ""),
            (p.pop3s, ""),
            (p.submissions, ""),
        ] {
            loop {
                if greets(self.addr(scenario::GOOD, port), greeting) {
                    break;
                }
                if let Ok(mut g) = self.watchdog.lock()
                    && let Some((child, _)) = g.as_mut()
                    && let Ok(Some(status)) = child.try_wait()
                {
                    let err = std::fs::read_to_string(self.dir.join("dovecot.stderr"))
                        .unwrap_or_default();
                    bail!("dovecot exited ({status}): {err}\n{}", self.log_tail());
                }
                if Instant::now() > deadline {
                    bail!("port {port} not ready after 15 s\n{}", self.log_tail());
                }
                std::thread::sleep(Duration::from_millis(30));
            }
        }
        Ok(())
    }
}

impl Drop for MailServers {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether a server on `addr` accepts a connection and, if `prefix` is not empty, greets
/// with it.
fn greets(addr: SocketAddr, prefix: &str) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    if prefix.is_empty() {
        return true;
    }
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = vec![0; prefix.len()];
    s.read_exact(&mut buf).is_ok() && buf == prefix.as_bytes()
}

fn make_temp_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir();
    for i in 0..1000u32 {
        let dir = base.join(format!("mailsetup-mailtest-{}-{i}", std::process::id()));
        if std::fs::create_dir(&dir).is_ok() {
            return Ok(dir);
        }
    }
    bail!("cannot create a temp dir in {}", base.display())
}

/// Seven ports that are free now on 127.0.0.1 (the kernel's choice, so parallel test
/// processes do not collide).
fn free_ports() -> anyhow::Result<Ports> {
    let listeners = (0..7)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()?;
    let p = listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Ports {
        imap: p[0],
        imaps: p[1],
        pop3: p[2],
        pop3s: p[3],
        submission: p[4],
        submissions: p[5],
        sink: p[6],
    })
}

fn ipv6_loopback() -> bool {
    TcpListener::bind("[::1]:0").is_ok()
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn chown_nobody(path: &Path) -> anyhow::Result<()> {
    let status = Command::new("chown")
        .arg("nobody:nogroup")
        .arg(path)
        .status()?;
    if !status.success() {
        bail!("chown nobody:nogroup {} failed (not root?)", path.display());
    }
    Ok(())
}

fn write_passwd_files(dir: &Path) -> anyhow::Result<()> {
    use users::{ALICE, BOB, DISABLED, IMAPOFF};
    let line =
        |(user, pass): (&str, &str), extra: &str| format!("{user}:{{PLAIN}}{pass}::::::{extra}\n");
    let passwd = [
        line(ALICE, ""),
        line(BOB, ""),
        line(DISABLED, "nologin=y reason=%{env:MAILTEST_REASON_DISABLED}"),
        line(IMAPOFF, ""),
    ]
    .concat();
    std::fs::write(dir.join("passwd"), passwd)?;
    // Per-service overrides, looked up first (passwd-%s, %s = imap | pop3 | submission).
    std::fs::write(
        dir.join("passwd-imap"),
        line(IMAPOFF, "nologin=y reason=%{env:MAILTEST_REASON_IMAPOFF}"),
    )?;
    std::fs::write(dir.join("passwd-pop3"), "")?;
    std::fs::write(dir.join("passwd-submission"), "")?;
    // Postfix (tests/src/postfix.rs) asks Dovecot's auth service as service `smtp`.
    std::fs::write(dir.join("passwd-smtp"), "")?;
    for f in [
        "passwd",
        "passwd-imap",
        "passwd-pop3",
        "passwd-submission",
        "passwd-smtp",
    ] {
        set_mode(&dir.join(f), 0o644)?;
    }
    Ok(())
}

fn dovecot_conf(dir: &Path, p: &Ports, ipv6: bool) -> String {
    let d = dir.display();
    let listen = if ipv6 {
        "127.0.0.1, 127.0.0.2, 127.0.0.3, 127.0.0.4, 127.0.0.5, 127.0.0.6, ::1"
    } else {
        "127.0.0.1, 127.0.0.2, 127.0.0.3, 127.0.0.4, 127.0.0.5, 127.0.0.6"
    };
    format!(
        r#"# Private test instance: nothing below points into /etc or /var.
base_dir = {d}/run
state_dir = {d}/state
instance_name = mailsetup-test-{imaps}
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
debug_log_path = {d}/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
listen = {listen}
protocols = imap pop3 submission
hostname = localhost
shutdown_clients = yes
import_environment = TZ LISTEN_PID LISTEN_FDS MAILTEST_REASON_DISABLED MAILTEST_REASON_IMAPOFF

auth_mechanisms = plain login xoauth2 oauthbearer
disable_plaintext_auth = yes
auth_failure_delay = 0
auth_cache_size = 0
# The first passdb only tags requests so failures are answered at once.
passdb {{
  driver = static
  args = nopassword noauthenticate nodelay=yes
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd-%s
  mechanisms = plain login
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
  mechanisms = plain login
}}
# Tokens (XOAUTH2, OAUTHBEARER): RFC 7662 introspection at the test OAuth server.
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {d}/oauth2.conf.ext
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/home/%u
}}
mail_location = maildir:~/Maildir
# No auth penalty: it grows to 15 s per client IP after repeated failures.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}

ssl = yes
ssl_cert = <{d}/certs/server.crt
ssl_key = <{d}/certs/server.key
ssl_min_protocol = TLSv1.2
local 127.0.0.2 {{
  ssl_cert = <{d}/certs/wronghost.crt
  ssl_key = <{d}/certs/wronghost.key
}}
local 127.0.0.3 {{
  ssl_cert = <{d}/certs/expired.crt
  ssl_key = <{d}/certs/expired.key
}}
local 127.0.0.4 {{
  ssl_cert = <{d}/certs/selfsigned.crt
  ssl_key = <{d}/certs/selfsigned.key
}}
local 127.0.0.5 {{
  ssl = no
  disable_plaintext_auth = no
}}

# Dovecot's submission service needs a relay: the harness's sink.
submission_relay_host = 127.0.0.1
submission_relay_port = {sink}
submission_relay_trusted = no

# For the test Postfix (tests/src/postfix.rs): SASL through Dovecot's auth protocol.
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}

service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = {submission}
  }}
  inet_listener submissions {{
    port = {submissions}
    ssl = yes
  }}
}}
"#,
        imap = p.imap,
        imaps = p.imaps,
        pop3 = p.pop3,
        pop3s = p.pop3s,
        submission = p.submission,
        submissions = p.submissions,
        sink = p.sink,
    )
}

/// Dovecot's `oauth2` passdb settings: every token is introspected (POST `token=...`, the
/// client's credentials in the URL), must be active, must carry the mail scope, and logs in
/// as the address in `username`, which must be the one the client names.
fn oauth2_conf(introspection_url: &str) -> String {
    format!(
        "introspection_mode = post\n\
         introspection_url = {introspection_url}\n\
         force_introspection = yes\n\
         username_attribute = username\n\
         active_attribute = active\n\
         active_value = true\n\
         scope = {}\n",
        crate::oidc::MAIL_SCOPE
    )
}

/// The SMTP relay Dovecot's submission service forwards to: accepts everything, stores
/// nothing. Runs on threads of this process, so it ends with it.
fn spawn_sink(port: u16) -> anyhow::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).context("sink port")?;
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || sink_session(conn));
        }
    });
    Ok(())
}

fn sink_session(conn: TcpStream) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    let mut send = |s: &str| out.write_all(format!("{s}\r\n").as_bytes()).is_ok();
    if !send("220 sink.localhost ESMTP test sink") {
        return;
    }
    let mut in_data = false;
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if in_data {
            if line.trim_end_matches(['\r', '\n']) == "." {
                in_data = false;
                if !send("250 2.0.0 queued") {
                    return;
                }
            }
            continue;
        }
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply = match verb.as_str() {
            "EHLO" => "250-sink.localhost\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8",
            "HELO" => "250 sink.localhost",
            "DATA" => {
                in_data = true;
                "354 go ahead"
            }
            "QUIT" => {
                send("221 2.0.0 bye");
                return;
            }
            _ => "250 2.0.0 ok",
        };
        if !send(reply) {
            return;
        }
    }
}

//! A private Postfix (SMTP submission with STARTTLS and over implicit TLS) on loopback, for
//! tests: the other real SMTP server next to Dovecot's submission service.
//!
//! One instance per test process, started on first use by [`Postfix::shared`]. Like the
//! Dovecot of [`crate::mail`], it runs under a small watchdog shell (`postfix start-fg`, in
//! its own process group) whose standard input is a pipe held by this process: when the
//! test process ends in any way, the pipe closes and the watchdog runs `postfix stop`.
//!
//! Everything lives in a temp dir: config (`postfix -c DIR/etc`), queue, data and log
//! (`postfix.log`). It listens on 127.0.0.1 only, delivers nothing locally and relays
//! nothing (every transport is `discard`), and logs users in through the harness Dovecot's
//! auth socket (see [`crate::mail::MailServers::postfix_auth_socket`]), so the users and
//! passwords of [`crate::mail::users`] work here too. TLS is required before AUTH, as at
//! real providers, with the harness CA's good certificate. A user may only send as the
//! address it logged in with (`reject_sender_login_mismatch`, checked at MAIL FROM).

use std::io::Read as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::mail::{MailServers, users};

/// The address the instance listens on (its certificate is the harness's good one).
pub const HOST: &str = "127.0.0.1";

/// Postfix's reply to a failed login (with the `535` code).
pub const AUTH_FAILED_REPLY: &str = "535 5.7.8 Error: authentication failed";

/// Postfix's words when a user gives a sender address it does not own.
pub const SENDER_MISMATCH_WORDS: &str = "Sender address rejected: not owned by user";

/// The ports of one instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    /// SMTP submission; STARTTLS is required before anything but EHLO, NOOP and QUIT.
    pub submission: u16,
    /// SMTP submission over implicit TLS (`smtpd_tls_wrappermode`).
    pub submissions: u16,
}

/// A running private Postfix.
#[derive(Debug)]
pub struct Postfix {
    /// Its temp dir (`etc/`, `queue/`, `data/`, `postfix.log`).
    pub dir: PathBuf,
    /// The test CA's certificate (PEM), the same as the harness Dovecot's.
    pub ca_pem: PathBuf,
    /// Its ports on [`HOST`].
    pub ports: Ports,
    watchdog: crate::watchdog::Watchdog,
}

static SHARED: OnceLock<Postfix> = OnceLock::new();

impl Postfix {
    /// The instance of this test process, started on first use (after the shared Dovecot,
    /// which authenticates its users).
    ///
    /// # Panics
    /// When Postfix cannot be started, with a message saying how to get it.
    pub fn shared() -> &'static Postfix {
        SHARED.get_or_init(|| match Self::start(MailServers::shared()) {
            Ok(postfix) => postfix,
            Err(err) => panic!(
                "cannot start the test Postfix: {err:#}\n\
                 It needs Debian's postfix package and root (Postfix drops privileges to the \
                 `postfix` user): run `cargo xtask setup --tests` as root."
            ),
        })
    }

    /// Starts a new instance in a fresh temp dir, authenticating against `mail`.
    pub fn start(mail: &MailServers) -> anyhow::Result<Postfix> {
        let started = Instant::now();
        let postfix = Path::new("/usr/sbin/postfix");
        if !postfix.exists() {
            bail!("{} not found", postfix.display());
        }
        let dir = make_temp_dir()?;
        let ports = free_ports()?;
        std::fs::create_dir_all(dir.join("etc"))?;
        set_mode(&dir, 0o755)?;
        write_config(&dir.join("etc/main.cf"), &main_cf(&dir, mail))?;
        write_config(&dir.join("etc/master.cf"), &master_cf(&ports))?;
        make_queue(&dir)?;

        // The watchdog: Postfix in the foreground; when our end of the pipe closes, stop
        // it. Its own process group: Postfix's master signals its whole group on stop.
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(
                "/usr/sbin/postfix -c \"$1\" start-fg & p=$!; \
                 read _ignored; /usr/sbin/postfix -c \"$1\" stop; wait $p",
            )
            .arg("watchdog")
            .arg(dir.join("etc"))
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("postfix.stderr"))?)
            .spawn()
            .context("cannot run /bin/sh")?;
        let stdin = child.stdin.take().context("no stdin pipe")?;
        let postfix = Postfix {
            ca_pem: mail.ca_pem.clone(),
            dir,
            ports,
            watchdog: Mutex::new(Some((child, stdin))),
        };
        postfix.wait_ready().inspect_err(|_| postfix.stop())?;
        eprintln!(
            "test Postfix ready in {} ms (dir {}, submission port {})",
            started.elapsed().as_millis(),
            postfix.dir.display(),
            ports.submission
        );
        Ok(postfix)
    }

    /// Stops the instance now (tests normally let process exit do it).
    pub fn stop(&self) {
        crate::watchdog::stop(&self.watchdog, Duration::from_secs(10));
    }

    /// The socket address of `port` on [`HOST`].
    pub fn addr(&self, port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// The last lines of Postfix's log, for failure messages.
    pub fn log_tail(&self) -> String {
        log_tail(&self.dir)
    }

    fn wait_ready(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        for (port, greeting) in [(self.ports.submission, "220"), (self.ports.submissions, "")] {
            loop {
                if greets(self.addr(port), greeting) {
                    break;
                }
                if let Ok(mut g) = self.watchdog.lock()
                    && let Some((child, _)) = g.as_mut()
                    && let Ok(Some(status)) = child.try_wait()
                {
                    let err = std::fs::read_to_string(self.dir.join("postfix.stderr"))
                        .unwrap_or_default();
                    bail!("postfix exited ({status}): {err}\n{}", self.log_tail());
                }
                if Instant::now() > deadline {
                    bail!("port {port} not ready after 20 s\n{}", self.log_tail());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        self.stop();
    }
}

fn log_tail(dir: &Path) -> String {
    let mut log = std::fs::read_to_string(dir.join("postfix.log")).unwrap_or_default();
    log.push_str(&std::fs::read_to_string(dir.join("postfix.stderr")).unwrap_or_default());
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
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
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = vec![0; prefix.len()];
    s.read_exact(&mut buf).is_ok() && buf == prefix.as_bytes()
}

fn make_temp_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir();
    for i in 0..1000u32 {
        let dir = base.join(format!("mailsetup-postfix-{}-{i}", std::process::id()));
        if std::fs::create_dir(&dir).is_ok() {
            return Ok(dir);
        }
    }
    bail!("cannot create a temp dir in {}", base.display())
}

/// Two ports that are free now on 127.0.0.1 (the kernel's choice).
fn free_ports() -> anyhow::Result<Ports> {
    let a = TcpListener::bind((HOST, 0))?;
    let b = TcpListener::bind((HOST, 0))?;
    Ok(Ports {
        submission: a.local_addr()?.port(),
        submissions: b.local_addr()?.port(),
    })
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Writes a config file dated a minute ago: Postfix waits, 300 ms at a time, until a
/// config file's time stamp is in the past, which costs up to two seconds otherwise.
fn write_config(path: &Path, content: &str) -> anyhow::Result<()> {
    std::fs::write(path, content).with_context(|| format!("cannot write {}", path.display()))?;
    let past = std::time::SystemTime::now() - Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(path)?
        .set_modified(past)?;
    Ok(())
}

/// The queue and data directories with the owners and modes of Debian's `postfix-files`,
/// and the `quick-start` marker that lets `postfix start-fg` skip its own checks (`postfix
/// check` does the same through some hundred shell commands: two seconds).
fn make_queue(dir: &Path) -> anyhow::Result<()> {
    let queue = dir.join("queue");
    let private = [
        "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private",
        "saved", "trace",
    ];
    for (sub, mode) in [
        ("", 0o755),
        ("pid", 0o755),
        ("maildrop", 0o730),
        ("public", 0o710),
    ]
    .into_iter()
    .chain(private.iter().map(|s| (*s, 0o700)))
    {
        std::fs::create_dir_all(queue.join(sub))?;
        set_mode(&queue.join(sub), mode)?;
    }
    std::fs::create_dir_all(dir.join("data"))?;
    set_mode(&dir.join("data"), 0o700)?;
    let chown = |owner: &str, paths: Vec<PathBuf>| -> anyhow::Result<()> {
        let status = Command::new("chown").arg(owner).args(&paths).status()?;
        if !status.success() {
            bail!("chown {owner} failed (not root? no `postfix` user?)");
        }
        Ok(())
    };
    let mut owned: Vec<PathBuf> = private.iter().map(|s| queue.join(s)).collect();
    owned.push(dir.join("data"));
    chown("postfix", owned)?;
    chown(
        "postfix:postdrop",
        vec![queue.join("maildrop"), queue.join("public")],
    )?;
    std::fs::write(queue.join("quick-start"), "")?;
    Ok(())
}

fn main_cf(dir: &Path, mail: &MailServers) -> String {
    let d = dir.display();
    // Postfix only writes a log file under a listed prefix.
    let log_prefix = dir.parent().unwrap_or(dir).display();
    let certs = mail.dir.join("certs");
    let certs = certs.display();
    let auth = mail.postfix_auth_socket();
    let auth = auth.display();
    // Each user may send as its own address only.
    let logins = [users::ALICE, users::BOB, users::DISABLED, users::IMAPOFF]
        .iter()
        .map(|(user, _)| format!("{user}={user}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"# Private test instance: nothing below points into /etc or /var.
compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
maillog_file = {d}/postfix.log
maillog_file_prefixes = {log_prefix}
mail_owner = postfix
setgid_group = postdrop
myhostname = localhost
mydomain = localhost
myorigin = localhost
inet_interfaces = {HOST}
inet_protocols = ipv4
smtpd_banner = $myhostname ESMTP mailsetup test Postfix
biff = no

# Nothing is delivered and nothing leaves: no local domains, every transport discards.
mydestination =
mynetworks = 127.0.0.1/32
relayhost =
alias_maps =
alias_database =
local_transport = error:local delivery is disabled in the test instance
default_transport = discard:nothing leaves the test instance
relay_transport = discard:nothing leaves the test instance
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject

# Logins through the harness Dovecot's auth service, only after TLS.
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {auth}
smtpd_tls_auth_only = yes
smtpd_tls_security_level = encrypt
smtpd_tls_cert_file = {certs}/server.crt
smtpd_tls_key_file = {certs}/server.key
smtpd_tls_loglevel = 0

# A user may send as its own address only, refused at MAIL FROM.
smtpd_sender_login_maps = inline:{{ {logins} }}
smtpd_sender_restrictions = reject_sender_login_mismatch
smtpd_delay_reject = no
smtpd_error_sleep_time = 0
"#
    )
}

fn master_cf(p: &Ports) -> String {
    format!(
        r#"# service type  private unpriv  chroot  wakeup  maxproc command + args
{HOST}:{submission} inet n - n - - smtpd
{HOST}:{submissions} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
discard   unix  -       -       n       -       -       discard
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
showq     unix  n       -       n       -       -       showq
postlog   unix-dgram n  -       n       -       1       postlogd
"#,
        submission = p.submission,
        submissions = p.submissions,
    )
}

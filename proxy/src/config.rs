//! The proxy's configuration: command-line flags, each also readable from an environment
//! variable `MAILSETUP_<NAME>`. These flag names are a contract with operators.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Command-line and environment configuration.
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "mailsetup-proxy",
    version,
    about = "Serves the mailsetup wizard and checks mail servers for it."
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "MAILSETUP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Folder with the built front end (`dist/`, written by `cargo xtask build-web`).
    #[arg(long, env = "MAILSETUP_STATIC_DIR", default_value_os_t = default_static_dir())]
    pub static_dir: PathBuf,

    /// Extra providers (JSON or TOML, the schema of shared/data/providers.toml), checked at
    /// start; they win over the built-in ones for the same domains and ids.
    #[arg(long, env = "MAILSETUP_PROVIDERS_FILE")]
    pub providers_file: Option<PathBuf>,

    /// Allow checks with `"security": "none"` (passwords sent unencrypted).
    #[arg(long, env = "MAILSETUP_ALLOW_PLAINTEXT")]
    pub allow_plaintext: bool,

    /// Allow loopback, private and other non-public target addresses.
    #[arg(long, env = "MAILSETUP_ALLOW_PRIVATE_TARGETS")]
    pub allow_private_targets: bool,

    /// Allow target ports other than the mail ports.
    #[arg(long, env = "MAILSETUP_ALLOW_ANY_PORT")]
    pub allow_any_port: bool,

    /// Extra trusted CA certificates (PEM file), besides the web PKI roots. Repeatable;
    /// in the environment, separate files with commas.
    #[arg(long = "extra-ca", env = "MAILSETUP_EXTRA_CA", value_delimiter = ',')]
    pub extra_ca: Vec<PathBuf>,

    /// Seconds a check's DNS lookup, and each TCP connect, may take.
    #[arg(long, env = "MAILSETUP_CONNECT_TIMEOUT", default_value = "10")]
    pub connect_timeout: Seconds,

    /// Seconds a TLS handshake may take.
    #[arg(long, env = "MAILSETUP_TLS_TIMEOUT", default_value = "10")]
    pub tls_timeout: Seconds,

    /// Seconds the server may take for each reply.
    #[arg(long, env = "MAILSETUP_REPLY_TIMEOUT", default_value = "15")]
    pub reply_timeout: Seconds,

    /// Seconds one side (incoming or outgoing) of a check may take in all.
    #[arg(long, env = "MAILSETUP_SIDE_TIMEOUT", default_value = "30")]
    pub side_timeout: Seconds,

    /// Failed logins per account (user name and mail domain) within
    /// `--failed-login-window` after which checks of that account are refused (429), so
    /// that retries do not get the account locked by its provider. 0 turns this off.
    #[arg(long, env = "MAILSETUP_MAX_FAILED_LOGINS", default_value_t = 5)]
    pub max_failed_logins: u32,

    /// Seconds failed logins are remembered for `--max-failed-logins`.
    #[arg(long, env = "MAILSETUP_FAILED_LOGIN_WINDOW", default_value = "900")]
    pub failed_login_window: Seconds,

    /// Seconds discovery may take in all (every method runs at once under this deadline).
    #[arg(long, env = "MAILSETUP_DISCOVER_TIMEOUT", default_value = "8")]
    pub discover_timeout: Seconds,

    /// Seconds slower discovery methods may still run once the best answer is known (a
    /// better one may still come in that time).
    #[arg(long, env = "MAILSETUP_DISCOVER_GRACE", default_value = "0.3")]
    pub discover_grace: Seconds,

    /// Seconds a discovery answer stays cached per domain (0: no cache).
    #[arg(long, env = "MAILSETUP_DISCOVER_CACHE_TTL", default_value = "600",
          value_parser = Seconds::zero_or_positive)]
    pub discover_cache_ttl: Seconds,

    /// Base URL of the ISP database asked during discovery (the domain is appended).
    #[arg(long, env = "MAILSETUP_ISPDB_URL", default_value = crate::discover::DEFAULT_ISPDB_URL)]
    pub ispdb_url: String,

    /// DNS server for checks and discovery, IP:PORT (default: the system's resolver
    /// configuration).
    #[arg(long, env = "MAILSETUP_DNS_SERVER")]
    pub dns_server: Option<SocketAddr>,

    /// Seconds one DNS query may take before it is sent again (twice in all); a check's
    /// resolve step as a whole is bounded by `--connect-timeout`, a discovery by
    /// `--discover-timeout`.
    #[arg(long, env = "MAILSETUP_DNS_QUERY_TIMEOUT", default_value = "3")]
    pub dns_query_timeout: Seconds,

    /// Checks and discoveries one client IP may start per minute (a token bucket holding a
    /// minute's worth); 0 turns the limit off. Beyond it: 429 `rate_limited`.
    #[arg(long, env = "MAILSETUP_RATE_LIMIT_PER_MINUTE", default_value_t = 30)]
    pub rate_limit_per_minute: u32,

    /// Checks and discoveries running at once; beyond it: 503 `overloaded`.
    #[arg(long, env = "MAILSETUP_MAX_CONCURRENT_CHECKS", default_value_t = 64)]
    pub max_concurrent_checks: usize,

    /// An origin (`https://host[:port]`) besides the proxy's own whose pages may call the
    /// API. Repeatable; in the environment, separate with commas. Never a wildcard.
    #[arg(long = "allowed-origin", env = "MAILSETUP_ALLOWED_ORIGIN", value_delimiter = ',',
          value_parser = crate::origin::parse_origin)]
    pub allowed_origin: Vec<String>,

    /// Count clients by the last `X-Forwarded-For` address and accept the last
    /// `X-Forwarded-Host` as the proxy's own origin (set this only behind a reverse proxy
    /// that adds them; otherwise clients could pick their own address).
    #[arg(long, env = "MAILSETUP_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Seconds a whole request may take; beyond it: 504 `timeout`.
    #[arg(long, env = "MAILSETUP_REQUEST_TIMEOUT", default_value = "60")]
    pub request_timeout: Seconds,

    /// Seconds a client may take to send a request's line and headers; an idle keep-alive
    /// connection is closed after the same time.
    #[arg(long, env = "MAILSETUP_HEADER_TIMEOUT", default_value = "10")]
    pub header_timeout: Seconds,

    /// Largest request line plus headers, in bytes; beyond it: 431 and the connection is
    /// closed.
    #[arg(long, env = "MAILSETUP_MAX_HEADER_BYTES", default_value_t = 16 * 1024)]
    pub max_header_bytes: usize,

    /// Open connections one client address (IPv6: one /64) may hold; more are closed at
    /// once. 0: no cap. Not applied with `--trust-forwarded-for` (every connection then
    /// comes from the reverse proxy, which should cap clients itself).
    #[arg(
        long,
        env = "MAILSETUP_MAX_CONNECTIONS_PER_CLIENT",
        default_value_t = 64
    )]
    pub max_connections_per_client: usize,

    /// Open connections in all (also kept under the process's open-file limit, which the
    /// proxy raises to the hard limit at start).
    #[arg(long, env = "MAILSETUP_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// The proxy's public base URL as browsers see it (`https://mail-setup.example.com`).
    /// Its origin is the proxy's own origin for the API's origin check; without it, only
    /// the listen address and `Host` headers that are IP literals or `localhost` count as
    /// the proxy's own (a DNS-rebinding page's name never does).
    #[arg(long, env = "MAILSETUP_PUBLIC_URL", value_parser = crate::origin::parse_public_url)]
    pub public_url: Option<String>,

    /// Shared state for several replicas (failed-login guard, rate limit, discovery
    /// cache): `redis://[user:password@]host[:port][/db]` or `rediss://...` (TLS). Without
    /// it, state lives in this process.
    #[arg(long, env = "MAILSETUP_REDIS_URL", value_parser = crate::store::RedisUrl::parse)]
    pub redis_url: Option<crate::store::RedisUrl>,

    /// Serve Prometheus metrics at `/metrics` on this address (its own listener; off by
    /// default).
    #[arg(long, env = "MAILSETUP_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// OAuth 2.0 clients for "Sign in with the provider" (TOML, one `[provider-id]` table
    /// each with `client_id`, `client_secret_env` and optional `authorization_url`,
    /// `token_url`, `scopes`, `sasl`), checked at start. Needs `--public-url`: the redirect
    /// URI is `{public-url}/api/v1/oauth/callback`.
    #[arg(long, env = "MAILSETUP_OAUTH_CONFIG")]
    pub oauth_config: Option<PathBuf>,

    /// A file of at least 32 secret bytes that seals OAuth flow state; give every replica
    /// the same file (required with `--oauth-config` and `--redis-url`). Without it, a
    /// key of this process only.
    #[arg(long, env = "MAILSETUP_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,

    /// Seconds a started OAuth sign-in may take to come back to the callback; a later
    /// callback gets `oauth_state_expired`.
    #[arg(long, env = "MAILSETUP_OAUTH_STATE_TTL", default_value = "600")]
    pub oauth_state_ttl: Seconds,

    /// Log format on stderr: `text` (human-readable) or `json` (one object per line, for
    /// log collectors).
    #[arg(long, env = "MAILSETUP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How logs are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// A duration flag, given in (fractional) seconds (`10`, `0.5`): every `--*-timeout`,
/// `--*-window`, `--*-grace` and `--*-ttl` flag is one, parsed once here.
///
/// Parsing refuses what is not a finite positive number of seconds with a message naming
/// the value; [`Seconds::zero_or_positive`] also takes 0 where the flag documents 0 as
/// "off".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seconds(Duration);

impl Seconds {
    /// The duration.
    #[must_use]
    pub const fn get(self) -> Duration {
        self.0
    }

    /// `d` as a flag value.
    #[must_use]
    pub const fn new(d: Duration) -> Self {
        Self(d)
    }

    /// Whole seconds.
    #[must_use]
    pub const fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    /// Milliseconds.
    #[must_use]
    pub const fn from_millis(millis: u64) -> Self {
        Self(Duration::from_millis(millis))
    }

    /// Parses a flag that takes 0 (off) as well as a positive number of seconds.
    pub fn zero_or_positive(s: &str) -> Result<Self, String> {
        if number(s)? == 0.0 {
            return Ok(Self(Duration::ZERO));
        }
        s.parse()
    }
}

/// `s` as a finite, non-negative number.
fn number(s: &str) -> Result<f64, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !secs.is_finite() {
        return Err(format!("{s:?}: give a finite number of seconds"));
    }
    if secs < 0.0 {
        return Err(format!("{s:?}: a duration cannot be negative"));
    }
    Ok(secs)
}

impl std::str::FromStr for Seconds {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let secs = number(s)?;
        if secs == 0.0 {
            return Err(format!("{s:?}: give a positive number of seconds"));
        }
        Duration::try_from_secs_f64(secs)
            .ok()
            .filter(|d| !d.is_zero())
            .map(Self)
            .ok_or_else(|| format!("{s:?} seconds is out of range"))
    }
}

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

impl Config {
    /// A configuration for tests: every default, static files from `dir`.
    pub fn for_tests(static_dir: impl Into<PathBuf>) -> Self {
        use clap::Parser as _;
        let mut c = Self::parse_from(["mailsetup-proxy"]);
        c.static_dir = static_dir.into();
        // Tests send many checks from 127.0.0.1; the edge tests set their own limit.
        c.rate_limit_per_minute = 0;
        // Discovery never leaves the machine in tests: a DNS server and ISPDB on loopback
        // (nothing listens there unless a test starts its own and sets these).
        c.dns_server = Some(SocketAddr::from(([127, 0, 0, 1], 9)));
        c.ispdb_url = "https://127.0.0.1:9/v1.1/".to_owned();
        c
    }
}

/// The workspace's `dist/` folder, where `trunk build` puts the front end.
fn default_static_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../dist"))
}

#[cfg(test)]
mod tests {
    use super::{Config, Seconds};
    use clap::Parser as _;
    use std::time::Duration;

    #[test]
    fn seconds_take_fractions_and_refuse_what_is_no_duration() {
        assert_eq!("0.5".parse(), Ok(Seconds::from_millis(500)));
        assert_eq!(" 10 ".parse(), Ok(Seconds::from_secs(10)));
        for bad in ["0", "-1", "NaN", "inf", "-0.0", "ten", "", "1e30"] {
            let err = bad.parse::<Seconds>().unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
        assert_eq!(
            Seconds::zero_or_positive("0"),
            Ok(Seconds::new(Duration::ZERO))
        );
        assert_eq!(
            Seconds::zero_or_positive("2.5"),
            Ok(Seconds::from_millis(2500))
        );
        assert!(Seconds::zero_or_positive("-1").is_err());
        assert!(Seconds::zero_or_positive("NaN").is_err());
        assert_eq!(Seconds::from_millis(1500).to_string(), "1.5");
    }

    #[test]
    fn every_duration_flag_is_checked_when_parsed() {
        let defaults = Config::parse_from(["mailsetup-proxy"]);
        assert_eq!(defaults.connect_timeout.get(), Duration::from_secs(10));
        assert_eq!(defaults.dns_query_timeout.get(), Duration::from_secs(3));
        assert_eq!(defaults.discover_grace.get(), Duration::from_millis(300));
        assert_eq!(defaults.discover_cache_ttl.get(), Duration::from_secs(600));
        for flag in [
            "--connect-timeout",
            "--tls-timeout",
            "--reply-timeout",
            "--side-timeout",
            "--failed-login-window",
            "--discover-timeout",
            "--discover-grace",
            "--dns-query-timeout",
            "--request-timeout",
            "--header-timeout",
        ] {
            for bad in ["0", "-2", "NaN"] {
                let arg = format!("{flag}={bad}");
                let err = Config::try_parse_from(["mailsetup-proxy", &arg]).unwrap_err();
                let err = err.to_string();
                assert!(err.contains(flag) && err.contains(bad), "{arg}: {err}");
            }
            let c = Config::try_parse_from(["mailsetup-proxy", flag, "0.25"]).unwrap();
            let got = [
                c.connect_timeout,
                c.tls_timeout,
                c.reply_timeout,
                c.side_timeout,
                c.failed_login_window,
                c.discover_timeout,
                c.discover_grace,
                c.dns_query_timeout,
                c.request_timeout,
                c.header_timeout,
            ];
            assert!(got.contains(&Seconds::from_millis(250)), "{flag}");
        }
        let c = Config::try_parse_from(["mailsetup-proxy", "--discover-cache-ttl", "0"]).unwrap();
        assert_eq!(c.discover_cache_ttl.get(), Duration::ZERO);
        let err =
            Config::try_parse_from(["mailsetup-proxy", "--discover-cache-ttl=-1"]).unwrap_err();
        assert!(err.to_string().contains("cannot be negative"), "{err}");
    }
}

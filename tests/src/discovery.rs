//! The loopback world discovery is tested and benchmarked in: a DNS server ([`crate::dns`])
//! and a web server ([`crate::web`], HTTPS with the harness CA) serving test domains under
//! `disc.test`, and the Dovecot harness ([`crate::mail`]) to guess against.
//!
//! Domains (`D` = `<name>.disc.test`), each exercising one method:
//! - `builtin`: in the test provider's domains; `mx`: MX `mx1.mxhost.test`, the test
//!   provider's MX pattern.
//! - `srv`: RFC 6186 records (`_imap._tcp` is "."); `auto`: autoconfig at
//!   `autoconfig.D` over HTTPS; `wk`: `.well-known` at `D`, via a redirect, chunked;
//!   `ispdb`: only in the ISP database; `http`: autoconfig over plain HTTP only.
//! - `guess`: `imap.`/`smtp.`/`pop3.` at the good Dovecot (`127.0.0.1`), `mail.` at the
//!   no-TLS one (`127.0.0.5`), the bare domain at servers that never answer (`127.0.0.7`).
//! - `once`: autoconfig answering after 300 ms (for concurrent requests sharing one run).
//! - `ad`: Microsoft Autodiscover (POX) only; `ex`: Autodiscover wants a login (401).
//! - `both`: SRV and autoconfig disagree; `bogus`: bogus XML at both autoconfig URLs, good
//!   SRV; `slow`: every method slower than any deadline except plain-HTTP autoconfig.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use mailsetup_proxy::discover::{DiscoverPorts, DiscoverSettings, Discoverer, Target};
use mailsetup_proxy::policy::EgressPolicy;
use mailsetup_shared::api::Provider;
use mailsetup_shared::providers::Registry;

use crate::dns::{DnsServer, Zone};
use crate::mail::{MailServers, scenario};
use crate::web::{Route, Site, WebServer};

/// The address of the silent servers (accept, never answer) on the guessing ports.
pub const SILENT: &str = "127.0.0.7";

/// Longer than any deadline the tests use.
pub const FOREVER: Duration = Duration::from_secs(60);

/// The autoconfig path at `autoconfig.<domain>`.
pub const AUTOCONFIG_PATH: &str = "/mail/config-v1.1.xml";
/// The autoconfig path at the domain itself.
pub const WELL_KNOWN_PATH: &str = "/.well-known/autoconfig/mail/config-v1.1.xml";

/// A config-v1.1 document with one IMAP (implicit TLS, `%EMAILLOCALPART%` login), one POP3
/// and one SMTP server on `host_prefix`-named hosts.
pub fn config_xml(id: &str, imap_host: &str, smtp_host: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="{id}">
    <domain>{id}</domain>
    <displayName>{id} mail</displayName>
    <incomingServer type="imap">
      <hostname>{imap_host}</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILLOCALPART%</username>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.%EMAILDOMAIN%</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>{smtp_host}</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>"#
    )
}

/// The test provider: known by domain `builtin.disc.test` and by MX `*.mxhost.test`.
pub fn test_provider() -> Provider {
    let json = serde_json::json!({
        "id": "testmail",
        "name": "Test Mail",
        "domains": ["builtin.disc.test"],
        "mx": ["*.mxhost.test"],
        "servers": [
            {"protocol": "imap", "host": "imap.testmail.test", "port": 993, "security": "tls"},
            {"protocol": "smtp", "host": "smtp.testmail.test", "port": 465, "security": "tls"}
        ],
        "status": "works",
        "sources": ["https://testmail.test/help"]
    });
    #[allow(clippy::expect_used)]
    serde_json::from_value(json).expect("the test provider matches api::Provider")
}

/// The running DNS and web servers.
#[derive(Debug)]
pub struct Fixture {
    /// The DNS server.
    pub dns: DnsServer,
    /// The web server.
    pub web: WebServer,
    /// The harness CA (PEM), which signed the web server's and Dovecot's certificates.
    pub ca_pem: PathBuf,
    /// Dovecot's ports, for guessing.
    pub mail_ports: crate::mail::Ports,
}

impl Fixture {
    /// Starts the DNS and web servers (Dovecot must be running: pass it).
    pub fn start(mail: &MailServers) -> anyhow::Result<Self> {
        let certs = mail.dir.join("certs");
        let web_names = [
            "ispdb.test",
            "autoconfig.auto.disc.test",
            "wk.disc.test",
            "autoconfig.http.disc.test",
            "autoconfig.both.disc.test",
            "autoconfig.bogus.disc.test",
            "bogus.disc.test",
            "autoconfig.slow.disc.test",
            "autodiscover.ad.disc.test",
            "autodiscover.ex.disc.test",
            "autoconfig.once.disc.test",
        ];
        crate::certs::issue(&certs, "web", &web_names).context("web certificate")?;
        let web = WebServer::start(site(), &certs.join("web.crt"), &certs.join("web.key"))?;
        let dns = DnsServer::start(zone(mail.ports))?;
        let p = mail.ports;
        for port in [
            p.imaps,
            p.imap,
            p.pop3s,
            p.pop3,
            p.submissions,
            p.submission,
        ] {
            silent(std::net::SocketAddr::from(([127, 0, 0, 7], port)))?;
        }
        Ok(Self {
            dns,
            web,
            ca_pem: mail.ca_pem.clone(),
            mail_ports: mail.ports,
        })
    }

    /// The fixtures of this process, started on first use (for `mail`, which must be the
    /// same instance every time, normally [`MailServers::shared`]).
    ///
    /// # Panics
    /// When the servers cannot be started.
    pub fn shared(mail: &MailServers) -> &'static Fixture {
        static SHARED: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| match Fixture::start(mail) {
            Ok(f) => f,
            Err(err) => panic!("cannot start the discovery fixtures: {err:#}"),
        })
    }

    /// Settings pointing discovery at the fixtures: `timeout`, no cache, ports of the web
    /// server and Dovecot, and a grace long enough for every fast method to report.
    pub fn settings(&self, timeout: Duration) -> DiscoverSettings {
        let p = self.mail_ports;
        DiscoverSettings {
            timeout,
            cache_ttl: Duration::ZERO,
            ispdb_url: format!("https://ispdb.test:{}/v1.1/", self.web.https.port()),
            dns_server: Some(self.dns.addr),
            grace: timeout,
            ports: DiscoverPorts {
                https: self.web.https.port(),
                http: self.web.http.port(),
                imaps: p.imaps,
                imap: p.imap,
                pop3s: p.pop3s,
                pop3: p.pop3,
                submissions: p.submissions,
                submission: p.submission,
            },
            ..DiscoverSettings::default()
        }
    }

    /// The policy for the fixtures: loopback and any port allowed.
    pub fn open_policy() -> EgressPolicy {
        EgressPolicy {
            allow_any_port: true,
            allow_private_targets: true,
        }
    }

    /// A discoverer with `settings` and `policy`, trusting the harness CA, knowing the
    /// built-in providers and the test provider.
    pub fn discoverer(
        &self,
        settings: DiscoverSettings,
        policy: EgressPolicy,
    ) -> anyhow::Result<Discoverer> {
        let registry = Registry::builtin().with_extra(vec![test_provider()]);
        Discoverer::new(
            settings,
            policy,
            std::slice::from_ref(&self.ca_pem),
            Arc::new(registry),
        )
    }
}

/// A server at `addr` that accepts connections and never says a word (like a port whose
/// packets are dropped, but without waiting for a TCP timeout); runs until the process ends.
fn silent(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    let listener =
        std::net::TcpListener::bind(addr).with_context(|| format!("bind silent server {addr}"))?;
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    Ok(())
}

/// The discovery target for `email` (`local@domain`, already lowercase ASCII).
pub fn target(email: &str) -> Target {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    Target {
        email: email.to_owned(),
        local: local.to_owned(),
        domain: domain.to_owned(),
    }
}

fn zone(ports: crate::mail::Ports) -> Zone {
    let good = scenario::GOOD;
    Zone::new()
        .mx("mx.disc.test", 10, "mx1.mxhost.test")
        .mx("mx.disc.test", 20, "backup.elsewhere.test")
        // SRV.
        .srv(
            "_imaps._tcp.srv.disc.test",
            0,
            1,
            ports.imaps,
            "imap.srv.disc.test",
        )
        .srv("_imap._tcp.srv.disc.test", 0, 0, 0, ".")
        .srv(
            "_pop3s._tcp.srv.disc.test",
            10,
            1,
            ports.pop3s,
            "pop.srv.disc.test",
        )
        .srv(
            "_submission._tcp.srv.disc.test",
            0,
            1,
            ports.submission,
            "smtp.srv.disc.test",
        )
        // Autoconfig hosts.
        .addr("ispdb.test", good)
        .addr("autoconfig.auto.disc.test", good)
        .addr("wk.disc.test", good)
        .addr("autoconfig.http.disc.test", good)
        .addr("autoconfig.both.disc.test", good)
        .addr("autoconfig.bogus.disc.test", good)
        .addr("bogus.disc.test", good)
        .addr("autoconfig.slow.disc.test", good)
        .addr("autodiscover.ad.disc.test", good)
        .addr("autodiscover.ex.disc.test", good)
        .addr("autoconfig.once.disc.test", good)
        // Guessing.
        .addr("imap.guess.disc.test", good)
        .addr("smtp.guess.disc.test", good)
        .addr("pop3.guess.disc.test", good)
        .addr("mail.guess.disc.test", scenario::NO_TLS)
        .addr("guess.disc.test", SILENT)
        // Disagreement: SRV says one host, autoconfig another.
        .srv(
            "_imaps._tcp.both.disc.test",
            0,
            1,
            993,
            "imap-srv.both.disc.test",
        )
        .srv(
            "_submissions._tcp.both.disc.test",
            0,
            1,
            465,
            "smtp-srv.both.disc.test",
        )
        // Bogus autoconfig, good SRV.
        .srv(
            "_imaps._tcp.bogus.disc.test",
            0,
            1,
            993,
            "imap.bogus.disc.test",
        )
        .srv(
            "_submission._tcp.bogus.disc.test",
            0,
            1,
            587,
            "smtp.bogus.disc.test",
        )
        // Slow: DNS answers for these names come after any deadline.
        .mx("slow.disc.test", 10, "mx1.mxhost.test")
        .delay("slow.disc.test", FOREVER)
        .srv(
            "_imaps._tcp.slow.disc.test",
            0,
            1,
            993,
            "imap.slow.disc.test",
        )
        .delay("_imaps._tcp.slow.disc.test", FOREVER)
        .delay("_imap._tcp.slow.disc.test", FOREVER)
        .delay("_pop3s._tcp.slow.disc.test", FOREVER)
        .delay("_pop3._tcp.slow.disc.test", FOREVER)
        .delay("_submissions._tcp.slow.disc.test", FOREVER)
        .delay("_submission._tcp.slow.disc.test", FOREVER)
        .addr("imap.slow.disc.test", good)
        .delay("imap.slow.disc.test", FOREVER)
}

/// The Autodiscover (POX) path.
pub const AUTODISCOVER_PATH: &str = "/autodiscover/autodiscover.xml";

/// An Autodiscover POX answer with IMAP and SMTP at `host`.
pub fn autodiscover_xml(host: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol><Type>IMAP</Type><Server>{host}</Server><Port>993</Port><SSL>on</SSL></Protocol>
      <Protocol><Type>SMTP</Type><Server>{host}</Server><Port>587</Port><SSL>on</SSL><Encryption>TLS</Encryption></Protocol>
    </Account>
  </Response>
</Autodiscover>"#
    )
}

fn site() -> Site {
    let ac = AUTOCONFIG_PATH;
    Site::new()
        .route(
            "autodiscover.ad.disc.test",
            AUTODISCOVER_PATH,
            Route::xml(autodiscover_xml("mail.ad.disc.test")).only("https"),
        )
        .route(
            "autoconfig.once.disc.test",
            ac,
            Route::xml(config_xml(
                "once.disc.test",
                "imap.once.disc.test",
                "smtp.once.disc.test",
            ))
            .delayed(Duration::from_millis(300))
            .only("https"),
        )
        .route(
            "autodiscover.ex.disc.test",
            AUTODISCOVER_PATH,
            Route::status(401).only("https"),
        )
        .route(
            "autoconfig.auto.disc.test",
            ac,
            Route::xml(config_xml(
                "auto.disc.test",
                "imap.auto.disc.test",
                "smtp.auto.disc.test",
            )),
        )
        .route(
            "wk.disc.test",
            WELL_KNOWN_PATH,
            Route::redirect("/real/config.xml"),
        )
        .route(
            "wk.disc.test",
            "/real/config.xml",
            Route::xml(config_xml(
                "wk.disc.test",
                "imap.wk.disc.test",
                "smtp.wk.disc.test",
            ))
            .chunked(),
        )
        .route(
            "ispdb.test",
            "/v1.1/ispdb.disc.test",
            Route::xml(config_xml(
                "ispdb.disc.test",
                "imap.ispdb.disc.test",
                "smtp.ispdb.disc.test",
            )),
        )
        .route(
            "autoconfig.http.disc.test",
            ac,
            Route::xml(config_xml(
                "http.disc.test",
                "imap.http.disc.test",
                "smtp.http.disc.test",
            ))
            .only("http"),
        )
        .route(
            "autoconfig.both.disc.test",
            ac,
            Route::xml(config_xml(
                "both.disc.test",
                "imap-ac.both.disc.test",
                "smtp-ac.both.disc.test",
            )),
        )
        .route(
            "autoconfig.bogus.disc.test",
            ac,
            Route::xml("<html><body>Welcome to nginx!</body></html>"),
        )
        .route(
            "bogus.disc.test",
            WELL_KNOWN_PATH,
            Route::xml("<clientConfig><emailProvider id=\"x\"><incomingServer"),
        )
        .route(
            "autoconfig.slow.disc.test",
            ac,
            Route::xml(config_xml(
                "slow.disc.test",
                "imap.slow.disc.test",
                "smtp.slow.disc.test",
            ))
            .delayed(FOREVER)
            .only("https"),
        )
        .route(
            "autoconfig.slow.disc.test",
            ac,
            Route::xml(config_xml(
                "slow.disc.test",
                "imap.slow.disc.test",
                "smtp.slow.disc.test",
            ))
            .only("http"),
        )
        .route(
            "ispdb.test",
            "/v1.1/slow.disc.test",
            Route::xml(config_xml(
                "slow.disc.test",
                "imap.slow.disc.test",
                "smtp.slow.disc.test",
            ))
            .delayed(FOREVER),
        )
}

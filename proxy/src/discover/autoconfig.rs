//! Mozilla autoconfig (config-v1.1 XML): fetched from the domain itself
//! (`https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=...` and
//! `https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml`, then the same over plain
//! HTTP at lower confidence) and from the central ISP database; and [`parse`], a pure parser
//! of the format (placeholders, several servers, socket types, authentication kinds).

use mailsetup_shared::api::{Protocol, Security, Server, Text, UsernameForm};

use super::{Collector, Discoverer, Method, Target, http, pair};

/// The largest document accepted.
pub const MAX_BODY: usize = 256 * 1024;

/// How a server authenticates, as config-v1.1 names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthKind {
    /// `password-cleartext` (also the old `plain`).
    PasswordCleartext,
    /// `password-encrypted` (CRAM-MD5 and the like; also the old `secure`).
    PasswordEncrypted,
    /// `OAuth2`.
    OAuth2,
    /// `NTLM`.
    Ntlm,
    /// `GSSAPI`.
    Gssapi,
    /// `client-IP-address`.
    ClientIpAddress,
    /// `TLS-client-cert`.
    TlsClientCert,
    /// `none`.
    None,
    /// Anything else, as written.
    Other(String),
}

impl AuthKind {
    fn parse(s: &str) -> Self {
        match s.trim() {
            "password-cleartext" | "plain" => Self::PasswordCleartext,
            "password-encrypted" | "secure" => Self::PasswordEncrypted,
            "OAuth2" => Self::OAuth2,
            "NTLM" => Self::Ntlm,
            "GSSAPI" => Self::Gssapi,
            "client-IP-address" => Self::ClientIpAddress,
            "TLS-client-cert" => Self::TlsClientCert,
            "none" => Self::None,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Whether a login with a (app) password works this way.
    pub fn takes_password(&self) -> bool {
        matches!(self, Self::PasswordCleartext | Self::PasswordEncrypted)
    }
}

/// One `<incomingServer>` or `<outgoingServer>`, placeholders replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigServer {
    /// The `type` attribute: `imap`, `pop3`, `smtp` (others are kept but not used).
    pub kind: String,
    /// Host name, lowercase.
    pub hostname: String,
    /// TCP port.
    pub port: u16,
    /// `socketType`: `SSL`, `STARTTLS` or `plain`, as a [`Security`]; `None` if unknown.
    pub security: Option<Security>,
    /// The login name, placeholders replaced.
    pub username: String,
    /// Authentication kinds, in the document's order.
    pub auth: Vec<AuthKind>,
}

impl ConfigServer {
    /// This server as an API [`Server`], if it is IMAP/POP3/SMTP with a known socket type,
    /// a valid host and port, and accepts a password (or names no authentication).
    pub fn to_server(&self, email: &str, local: &str) -> Option<Server> {
        let protocol = match self.kind.as_str() {
            "imap" => Protocol::Imap,
            "pop3" => Protocol::Pop3,
            "smtp" => Protocol::Smtp,
            _ => return None,
        };
        let security = self.security?;
        if self.port == 0 || !valid_host(&self.hostname) {
            return None;
        }
        if !self.auth.is_empty() && !self.auth.iter().any(AuthKind::takes_password) {
            return None;
        }
        let username = if self.username == local && local != email {
            UsernameForm::LocalPart
        } else {
            UsernameForm::Email
        };
        Some(Server {
            protocol,
            host: self.hostname.clone(),
            port: self.port,
            security,
            username,
        })
    }
}

/// A parsed config-v1.1 document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientConfig {
    /// `emailProvider id`.
    pub id: String,
    /// `displayName`, if any.
    pub display_name: Option<String>,
    /// The `<domain>` elements.
    pub domains: Vec<String>,
    /// Incoming servers in preference order.
    pub incoming: Vec<ConfigServer>,
    /// Outgoing servers in preference order.
    pub outgoing: Vec<ConfigServer>,
}

impl ClientConfig {
    /// Usable incoming and outgoing servers for the address.
    pub fn servers(&self, email: &str, local: &str) -> (Vec<Server>, Vec<Server>) {
        let inc = self
            .incoming
            .iter()
            .filter_map(|s| s.to_server(email, local))
            .filter(|s| s.protocol != Protocol::Smtp)
            .collect();
        let out = self
            .outgoing
            .iter()
            .filter_map(|s| s.to_server(email, local))
            .filter(|s| s.protocol == Protocol::Smtp)
            .collect();
        (inc, out)
    }
}

/// Why a document is not a usable config-v1.1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not well-formed XML (or a DTD, which is refused).
    #[error("not well-formed XML: {0}")]
    Xml(String),
    /// Well-formed, but the root is not `<clientConfig>`.
    #[error("not a config-v1.1 document (root element <{0}>)")]
    NotClientConfig(String),
    /// No `<emailProvider>` element.
    #[error("no <emailProvider> in the document")]
    NoProvider,
}

impl ParseError {
    /// What is wrong, in every language (the English is the `Display` text).
    pub fn text(&self) -> Text {
        let ru = match self {
            Self::Xml(e) => format!("испорченный XML: {e}"),
            Self::NotClientConfig(root) => {
                format!("это не документ config-v1.1 (корневой элемент <{root}>)")
            }
            Self::NoProvider => "в документе нет <emailProvider>".to_owned(),
        };
        Text::new(self.to_string(), ru)
    }
}

/// Parses a config-v1.1 document for the address `local@domain`, replacing the
/// placeholders `%EMAILADDRESS%`, `%EMAILLOCALPART%` and `%EMAILDOMAIN%`.
pub fn parse(xml: &str, local: &str, domain: &str) -> Result<ClientConfig, ParseError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| ParseError::Xml(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "clientConfig" {
        return Err(ParseError::NotClientConfig(
            root.tag_name().name().chars().take(40).collect(),
        ));
    }
    let provider = root
        .children()
        .find(|n| n.has_tag_name("emailProvider"))
        .ok_or(ParseError::NoProvider)?;
    let email = format!("{local}@{domain}");
    let fill = |s: &str| {
        s.trim()
            .replace("%EMAILADDRESS%", &email)
            .replace("%EMAILLOCALPART%", local)
            .replace("%EMAILDOMAIN%", domain)
    };
    let text = |n: roxmltree::Node<'_, '_>, tag: &str| -> Option<String> {
        n.children()
            .find(|c| c.has_tag_name(tag))
            .and_then(|c| c.text())
            .map(fill)
    };
    let mut out = ClientConfig {
        id: provider.attribute("id").unwrap_or_default().to_owned(),
        display_name: text(provider, "displayName"),
        ..ClientConfig::default()
    };
    for node in provider.children().filter(roxmltree::Node::is_element) {
        let name = node.tag_name().name();
        if name == "domain" {
            if let Some(t) = node.text() {
                out.domains.push(fill(t).to_ascii_lowercase());
            }
            continue;
        }
        if name != "incomingServer" && name != "outgoingServer" {
            continue;
        }
        let server = ConfigServer {
            kind: node
                .attribute("type")
                .unwrap_or_default()
                .to_ascii_lowercase(),
            hostname: text(node, "hostname")
                .unwrap_or_default()
                .to_ascii_lowercase(),
            port: text(node, "port").and_then(|p| p.parse().ok()).unwrap_or(0),
            security: text(node, "socketType").and_then(|s| match s.as_str() {
                "SSL" | "TLS" => Some(Security::Tls),
                "STARTTLS" => Some(Security::Starttls),
                "plain" => Some(Security::None),
                _ => None,
            }),
            username: text(node, "username").unwrap_or_else(|| email.clone()),
            auth: node
                .children()
                .filter(|c| c.has_tag_name("authentication"))
                .filter_map(|c| c.text())
                .map(AuthKind::parse)
                .collect(),
        };
        if name == "incomingServer" {
            out.incoming.push(server);
        } else {
            out.outgoing.push(server);
        }
    }
    Ok(out)
}

/// Whether `host` looks like a DNS host name (letters, digits, `-`, `.`, 1-253 chars).
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Fetches one URL, parses it, adds its servers; returns whether it gave candidates.
async fn fetch_one(
    d: &Discoverer,
    c: &Collector,
    target: &Target,
    method: Method,
    url: String,
    port: Option<u16>,
) -> bool {
    let step = c.begin(method, &url);
    let fetched = match http::get(d, &url, port, MAX_BODY).await {
        Ok(f) => f,
        Err(e) => {
            c.end(step, false, e.text());
            return false;
        }
    };
    let Ok(text) = std::str::from_utf8(&fetched.body) else {
        c.end(
            step,
            false,
            Text::new("the document is not UTF-8", "документ не в UTF-8"),
        );
        return false;
    };
    let text = text.trim_start_matches('\u{feff}');
    match parse(text, &target.local, &target.domain) {
        Err(e) => {
            c.end(step, false, e.text());
            false
        }
        Ok(cfg) => {
            let (inc, out) = cfg.servers(&target.email, &target.local);
            let n = pair(c, method, &inc, &out);
            let via = if fetched.redirects.is_empty() {
                Text::default()
            } else {
                Text::new(
                    format!(" (redirected to {})", fetched.redirects.join(" then ")),
                    format!(
                        " (перенаправлено на {})",
                        fetched.redirects.join(", затем ")
                    ),
                )
            };
            let detail = if n > 0 {
                let id = if cfg.id.is_empty() { "?" } else { &cfg.id };
                let (i, o) = (inc.len(), out.len());
                Text::new(
                    format!(
                        "config for {id} with {i} incoming and {o} outgoing servers{}",
                        via.en
                    ),
                    format!(
                        "настройки {id}: серверов входящей почты {i}, исходящей {o}{}",
                        via.ru
                    ),
                )
            } else {
                Text::new(
                    format!(
                        "config-v1.1 without usable password-based servers{}",
                        via.en
                    ),
                    format!(
                        "config-v1.1 без серверов, куда можно войти с паролем{}",
                        via.ru
                    ),
                )
            };
            c.end(step, n > 0, detail);
            n > 0
        }
    }
}

/// Autoconfig at the domain itself, over HTTPS (`https == true`) or plain HTTP; both URLs
/// at once.
pub(super) async fn run_domain(d: &Discoverer, c: &Collector, target: &Target, https: bool) {
    let (scheme, port, method) = if https {
        ("https", d.settings.ports.https, Method::AutoconfigHttps)
    } else {
        ("http", d.settings.ports.http, Method::AutoconfigHttp)
    };
    let domain = &target.domain;
    let first = format!(
        "{scheme}://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={}",
        encode(&target.email)
    );
    let second = format!("{scheme}://{domain}/.well-known/autoconfig/mail/config-v1.1.xml");
    tokio::join!(
        fetch_one(d, c, target, method, first, Some(port)),
        fetch_one(d, c, target, method, second, Some(port)),
    );
    c.finish(method);
}

/// The central ISP database (`--ispdb-url` + domain).
pub(super) async fn run_ispdb(d: &Discoverer, c: &Collector, target: &Target) {
    let base = &d.settings.ispdb_url;
    let sep = if base.ends_with('/') { "" } else { "/" };
    let url = format!("{base}{sep}{}", target.domain);
    fetch_one(d, c, target, Method::Ispdb, url, None).await;
    c.finish(Method::Ispdb);
}

#[cfg(test)]
mod tests;

//! A real OAuth 2.0 / OpenID Connect authorization server on loopback for tests: npm's
//! `oidc-provider` run by `tests/oidc/server.mjs` (see that file for what it offers), under
//! a watchdog shell like the other harness servers, so it stops however the test process
//! ends. One instance per test process ([`OidcProvider::shared`]); Dovecot's `oauth2`
//! passdb ([`crate::mail`]) validates tokens against it by introspection (RFC 7662).
//!
//! [`Agent`] is a browser without a screen for API tests: it follows redirects with
//! cookies and fills the provider's login and consent forms over plain HTTP.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::http::{Reply, request_typed};

/// The scope the test server grants for mail (Dovecot logs in any active token; a client
/// asks for it like `https://mail.google.com/`).
pub const MAIL_SCOPE: &str = "mail";

/// A login the test server grants every scope but [`MAIL_SCOPE`] (a user who unticked the
/// mail permission on a granular consent screen).
pub const NO_MAIL_LOGIN: &str = "nomail@example.test";

/// The client Dovecot introspects tokens with.
const INTROSPECTION_CLIENT: &str = "dovecot";

/// A running test authorization server.
#[derive(Debug)]
pub struct OidcProvider {
    /// Its port on 127.0.0.1.
    pub port: u16,
    admin_key: String,
    introspection_secret: String,
    watchdog: crate::watchdog::Watchdog,
}

/// A client registered at the test server (dynamic registration).
#[derive(Clone, Debug)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// `client_secret`.
    pub secret: String,
}

static SHARED: OnceLock<OidcProvider> = OnceLock::new();

impl OidcProvider {
    /// The instance of this test process, started on first use.
    ///
    /// # Panics
    /// When it cannot be started, with a message saying how to get what it needs.
    pub fn shared() -> &'static OidcProvider {
        SHARED.get_or_init(|| match Self::start() {
            Ok(p) => p,
            Err(err) => panic!(
                "cannot start the test OAuth server: {err:#}\n\
                 It needs Node.js and `npm ci` in tests/oidc: run `cargo xtask setup --tests`."
            ),
        })
    }

    /// Starts a new instance on a free loopback port.
    pub fn start() -> anyhow::Result<OidcProvider> {
        let started = Instant::now();
        let dir = server_dir();
        if !dir.join("node_modules/oidc-provider").exists() {
            bail!("{} has no node_modules/oidc-provider", dir.display());
        }
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let admin_key = random_hex();
        let introspection_secret = random_hex();
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            // Node reads the pipe too: when it closes (we are gone), the server exits.
            .arg("exec node server.mjs")
            .current_dir(&dir)
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_ADMIN_KEY", &admin_key)
            .env("OIDC_INTROSPECTION_SECRET", &introspection_secret)
            .env("OIDC_NO_MAIL_SCOPE", NO_MAIL_LOGIN)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot run node")?;
        let stdin = child.stdin.take().context("no stdin pipe")?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = tx.send(first.and_then(Result::ok));
            // Keep draining so the server never blocks on a full pipe.
            for _ in lines {}
        });
        let server = OidcProvider {
            port,
            admin_key,
            introspection_secret,
            watchdog: Mutex::new(Some((child, stdin))),
        };
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Some(line)) if line.starts_with("ready") => {}
            other => {
                server.stop();
                bail!("the OAuth test server did not start: {other:?}");
            }
        }
        eprintln!(
            "test OAuth server ready in {} ms on port {port}",
            started.elapsed().as_millis()
        );
        Ok(server)
    }

    /// Stops it now.
    pub fn stop(&self) {
        crate::watchdog::stop(&self.watchdog, Duration::from_secs(3));
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `http://127.0.0.1:<port>`, also its issuer.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The authorization endpoint.
    pub fn authorization_url(&self) -> String {
        format!("{}/auth", self.url())
    }

    /// The token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.url())
    }

    /// The introspection URL Dovecot uses, with its client's credentials in it.
    pub fn introspection_url_for_dovecot(&self) -> String {
        format!(
            "http://{INTROSPECTION_CLIENT}:{}@{}/token/introspection",
            self.introspection_secret,
            self.addr()
        )
    }

    /// Registers a confidential client (secret sent in the token request's body) that
    /// may redirect to `redirect_uri`.
    pub fn register_client(&self, redirect_uri: &str) -> anyhow::Result<Client> {
        self.register(redirect_uri, "client_secret_post")
    }

    /// Registers a public client (no secret; PKCE alone) that may redirect to
    /// `redirect_uri`; its `secret` is empty.
    pub fn register_public_client(&self, redirect_uri: &str) -> anyhow::Result<Client> {
        self.register(redirect_uri, "none")
    }

    fn register(&self, redirect_uri: &str, auth_method: &str) -> anyhow::Result<Client> {
        let body = serde_json::json!({
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": auth_method,
            "scope": format!("openid email offline_access {MAIL_SCOPE}"),
        });
        let reply = crate::http::request(self.addr(), "POST", "/reg", &[], &body.to_string())?;
        if reply.status != 201 {
            bail!("registration failed: {} {}", reply.status, reply.body);
        }
        let field = |k: &str| {
            reply.json[k]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("no {k} in {}", reply.body))
        };
        Ok(Client {
            id: field("client_id")?,
            secret: field("client_secret").unwrap_or_default(),
        })
    }

    /// An access token for `email` with `scope` (space-separated), issued to `client`
    /// without a browser.
    pub fn token_for(&self, client: &Client, email: &str, scope: &str) -> anyhow::Result<String> {
        let body = serde_json::json!({"email": email, "scope": scope, "client_id": client.id});
        let reply = crate::http::request(
            self.addr(),
            "POST",
            "/test/mint",
            &[("x-admin-key", &self.admin_key)],
            &body.to_string(),
        )?;
        reply.json["access_token"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no token: {} {}", reply.status, reply.body))
    }

    /// The introspection answer for `token`, as Dovecot sees it.
    pub fn introspect(&self, token: &str) -> anyhow::Result<serde_json::Value> {
        let reply = self.form_post(
            "/token/introspection",
            &[("token", token)],
            (INTROSPECTION_CLIENT, &self.introspection_secret),
        )?;
        Ok(reply.json)
    }

    /// Revokes `token` (RFC 7009) as `client`, the client it was issued to.
    pub fn revoke(&self, client: &Client, token: &str) -> anyhow::Result<()> {
        let mut fields = vec![("token", token), ("client_id", client.id.as_str())];
        if !client.secret.is_empty() {
            fields.push(("client_secret", &client.secret));
        }
        let reply = self.form_post("/token/revocation", &fields, ("", ""))?;
        if reply.status != 200 {
            bail!("revocation failed: {} {}", reply.status, reply.body);
        }
        Ok(())
    }

    fn form_post(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        (user, secret): (&str, &str),
    ) -> anyhow::Result<Reply> {
        let auth = basic(user, secret);
        let headers: Vec<(&str, &str)> = if user.is_empty() {
            Vec::new()
        } else {
            vec![("Authorization", auth.as_str())]
        };
        request_typed(
            self.addr(),
            "POST",
            path,
            &headers,
            "application/x-www-form-urlencoded",
            &form(fields),
        )
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the user does on the consent page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    /// Continue: grant what the client asked for.
    Allow,
    /// Cancel: the provider answers `error=access_denied`.
    Deny,
}

/// A browser without a screen: a cookie jar per host (as browsers keep them: one jar for
/// every port of a host) that follows redirects and fills the test server's forms.
#[derive(Debug, Default)]
pub struct Agent {
    cookies: BTreeMap<String, BTreeMap<String, String>>,
    /// Extra headers sent with every request (`Accept-Language`).
    pub headers: Vec<(String, String)>,
}

impl Agent {
    /// A fresh browser with no cookies.
    pub fn new() -> Self {
        Self::default()
    }

    /// GETs an absolute `http://` URL without following redirects, keeping cookies.
    pub fn get(&mut self, url: &str) -> anyhow::Result<Reply> {
        self.send("GET", url, "")
    }

    /// The cookie `name` this browser holds for `host`.
    pub fn cookie(&self, host: &str, name: &str) -> Option<&str> {
        self.cookies.get(host)?.get(name).map(String::as_str)
    }

    /// Opens `start_url` (the proxy's `/oauth/{provider}/start`), signs in as `login` at
    /// the test server and answers the consent page; returns the URL the server sends the
    /// browser back to (the proxy's callback with `code` and `state`, or `error`) without
    /// opening it.
    pub fn authorize(
        &mut self,
        start_url: &str,
        login: &str,
        consent: Consent,
    ) -> anyhow::Result<String> {
        let mut url = start_url.to_owned();
        for _ in 0..20 {
            if url.contains("/oauth/callback") {
                return Ok(url);
            }
            let reply = self.get(&url)?;
            if let Some(next) = reply.header("location") {
                url = absolute(&url, &next);
                continue;
            }
            if reply.status != 200 {
                bail!("{url}: {} {}", reply.status, reply.body);
            }
            let action = attribute(&reply.body, "action")
                .with_context(|| format!("no form at {url}: {}", reply.body))?;
            let action = absolute(&url, &html_unescape(&action));
            let posted = if reply.body.contains("name=\"login\"") {
                self.send(
                    "POST",
                    &action,
                    &form(&[("prompt", "login"), ("login", login), ("password", "any")]),
                )?
            } else if consent == Consent::Deny {
                let abort = href_containing(&reply.body, "/abort")
                    .with_context(|| format!("no cancel link: {}", reply.body))?;
                self.get(&absolute(&url, &html_unescape(&abort)))?
            } else {
                self.send("POST", &action, &form(&[("prompt", "consent")]))?
            };
            url = absolute(
                &action,
                &posted
                    .header("location")
                    .with_context(|| format!("no redirect after a form: {}", posted.body))?,
            );
        }
        bail!("more than 20 steps from {start_url}")
    }

    fn send(&mut self, method: &str, url: &str, body: &str) -> anyhow::Result<Reply> {
        let (addr, host, path) = split_url(url)?;
        let cookie = self
            .cookies
            .get(&host)
            .map(|jar| {
                jar.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let mut headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if !cookie.is_empty() {
            headers.push(("Cookie", &cookie));
        }
        let reply = request_typed(
            addr,
            method,
            &path,
            &headers,
            "application/x-www-form-urlencoded",
            body,
        )?;
        for set in reply.headers("set-cookie") {
            let pair = set.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                let jar = self.cookies.entry(host.clone()).or_default();
                let expired = set
                    .to_ascii_lowercase()
                    .contains("expires=thu, 01 jan 1970")
                    || set.to_ascii_lowercase().contains("max-age=0");
                if expired || v.is_empty() {
                    jar.remove(k.trim());
                } else {
                    jar.insert(k.trim().to_owned(), v.trim().to_owned());
                }
            }
        }
        Ok(reply)
    }
}

/// `application/x-www-form-urlencoded` of `fields`.
pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but unreserved characters.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of query parameter `name` in `url`, percent-decoded.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then(|| decode(v))
    })
}

/// Percent-decodes `s` (`+` is a space).
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn basic(user: &str, secret: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{secret}").as_bytes()))
}

/// Standard base64 with padding (SASL initial responses, Basic auth), so the harness
/// needs no crate for it.
pub fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The SASL XOAUTH2 initial response for `user` and `token` (base64).
pub fn xoauth2(user: &str, token: &str) -> String {
    base64(format!("user={user}\x01auth=Bearer {token}\x01\x01").as_bytes())
}

/// The SASL OAUTHBEARER (RFC 7628) initial response for `user` and `token` (base64).
pub fn oauthbearer(user: &str, token: &str) -> String {
    base64(format!("n,a={user},\x01auth=Bearer {token}\x01\x01").as_bytes())
}

fn random_hex() -> String {
    use std::io::Read as _;
    let mut bytes = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut bytes);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `(address, host, path-and-query)` of an `http://` URL on an IP literal.
fn split_url(url: &str) -> anyhow::Result<(SocketAddr, String, String)> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("not an http URL: {url}"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr: SocketAddr = authority
        .parse()
        .with_context(|| format!("not IP:port: {authority}"))?;
    let path = if path.is_empty() { "/" } else { path };
    Ok((addr, addr.ip().to_string(), path.to_owned()))
}

/// `location` made absolute against `base`.
fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_owned();
    }
    let origin_end = base
        .find("://")
        .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
        .unwrap_or(base.len());
    format!("{}{location}", &base[..origin_end])
}

fn attribute(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("{name}=\""))? + name.len() + 2;
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

fn href_containing(html: &str, needle: &str) -> Option<String> {
    html.match_indices("href=\"").find_map(|(i, _)| {
        let start = i + 6;
        let end = html[start..].find('"')? + start;
        let href = &html[start..end];
        href.contains(needle).then(|| href.to_owned())
    })
}

fn html_unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&#x2F;", "/")
        .replace("&#47;", "/")
        .replace("&quot;", "\"")
}

/// Where the harness keeps the test server.
pub fn server_dir() -> PathBuf {
    crate::workspace_root().join("tests/oidc")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(basic("a", "b"), "Basic YTpi");
        assert_eq!(basic("dovecot", "x"), "Basic ZG92ZWNvdDp4");
        assert_eq!(
            query_param("http://h/cb?code=a%2Bb&state=s", "code").as_deref(),
            Some("a+b")
        );
        assert_eq!(encode("a@b c"), "a%40b%20c");
        assert_eq!(absolute("http://1.2.3.4:5/x/y", "/z"), "http://1.2.3.4:5/z");
    }
}

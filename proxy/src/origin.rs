//! Origins: the `--allowed-origin` and `--public-url` flags' parsers and the comparisons
//! the edge's origin check makes (`crate::middleware`). Pure functions over text, so the
//! configuration can use them without depending on the middleware.

use std::net::IpAddr;

use axum::extract::Request;
use axum::http::header;

/// The authority the client addressed: `Host`, or the URI's authority (HTTP/2).
pub(crate) fn host_of(req: &Request) -> Option<String> {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()))
}

/// The last `X-Forwarded-Host` entry, the host the browser addressed when a reverse proxy
/// rewrote `Host` (trusted only with `--trust-forwarded-for`).
pub(crate) fn forwarded_host(req: &Request) -> Option<&str> {
    req.headers()
        .get_all("x-forwarded-host")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .map(str::trim)
}

/// Whether `origin` (`scheme://host[:port]`) names the authority `host` (`host[:port]`)
/// the request was sent to. A `Host` without a port means the origin scheme's default
/// port, since TLS may end in front of the proxy.
pub(crate) fn is_same_origin(origin: &str, host: Option<&str>) -> bool {
    let (Ok(origin), Some(host)) = (parse_origin(origin), host) else {
        return false;
    };
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = if scheme == "https" { 443 } else { 80 };
    let (o_host, o_port) = split_port(authority, default_port);
    let host = host.to_ascii_lowercase();
    let (h_host, h_port) = split_port(&host, default_port);
    o_host == h_host && o_port == h_port
}

/// Whether the authority `host[:port]` names an IP address or `localhost`.
pub(crate) fn is_literal_host(authority: &str) -> bool {
    let authority = authority.trim().to_ascii_lowercase();
    let (host, _) = split_port(&authority, 0);
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare == "localhost" || bare.parse::<IpAddr>().is_ok()
}

/// Checks `--public-url` (`http(s)://host[:port][/path]`, no query or fragment) and
/// returns it without a trailing slash.
pub(crate) fn parse_public_url(text: &str) -> Result<String, String> {
    let url = text.trim().trim_end_matches('/');
    if url.contains(['?', '#', ' ']) {
        return Err(format!(
            "{text:?}: give the base URL only, like https://mail-setup.example.com"
        ));
    }
    public_url_origin(url)?;
    Ok(url.to_owned())
}

/// The origin of a public URL.
pub(crate) fn public_url_origin(url: &str) -> Result<String, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{url:?} is not a URL like https://mail-setup.example.com"))?;
    let authority = rest.split('/').next().unwrap_or("");
    parse_origin(&format!("{scheme}://{authority}"))
}

/// `host[:port]` (IPv6 in brackets) into the host and the port or `default`.
fn split_port(authority: &str, default: u16) -> (&str, u16) {
    if let Some((host, port)) = authority.rsplit_once(':')
        && !host.is_empty()
        && (!host.contains(':') || host.ends_with(']'))
        && let Ok(port) = port.parse()
    {
        return (host, port);
    }
    (authority, default)
}

/// Normalises an origin to `scheme://host[:port]`, lowercase, without a default port.
/// Refuses `*`, `null`, paths, user info and schemes other than http/https.
pub(crate) fn parse_origin(text: &str) -> Result<String, String> {
    let text = text.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, authority) = text
        .split_once("://")
        .ok_or_else(|| format!("{text:?} is not an origin like https://mail.example.com"))?;
    if scheme != "http" && scheme != "https" {
        return Err(format!("{text:?}: only http and https origins"));
    }
    if authority.is_empty()
        || authority
            .chars()
            .any(|c| matches!(c, '/' | '?' | '#' | '@' | '*' | ' '))
    {
        return Err(format!(
            "{text:?} is not an origin like https://mail.example.com (no paths, no wildcards)"
        ));
    }
    let default_port = if scheme == "https" { 443 } else { 80 };
    let (host, port) = split_port(authority, default_port);
    if host.is_empty() {
        return Err(format!("{text:?} has no host"));
    }
    Ok(if port == default_port {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}:{port}")
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn origins_are_normalised_and_wildcards_refused() {
        assert_eq!(
            parse_origin("HTTPS://Mail.Example.com/").unwrap(),
            "https://mail.example.com"
        );
        assert_eq!(
            parse_origin("https://mail.example.com:443").unwrap(),
            "https://mail.example.com"
        );
        assert_eq!(
            parse_origin("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            parse_origin("http://[::1]:8080").unwrap(),
            "http://[::1]:8080"
        );
        for bad in [
            "*",
            "null",
            "https://*.example.com",
            "ftp://x",
            "https://x/path",
            "https://u@x",
            "https://",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn same_origin_compares_host_and_port() {
        assert!(is_same_origin(
            "http://127.0.0.1:8080",
            Some("127.0.0.1:8080")
        ));
        assert!(is_same_origin(
            "https://mail.example.com",
            Some("mail.example.com")
        ));
        assert!(is_same_origin(
            "https://mail.example.com",
            Some("MAIL.example.com:443")
        ));
        assert!(is_same_origin("http://[::1]:8080", Some("[::1]:8080")));
        assert!(!is_same_origin(
            "http://127.0.0.1:8081",
            Some("127.0.0.1:8080")
        ));
        assert!(!is_same_origin(
            "https://evil.example",
            Some("mail.example.com")
        ));
        assert!(!is_same_origin("null", Some("mail.example.com")));
        assert!(!is_same_origin("http://127.0.0.1:8080", None));
    }

    #[test]
    fn origin_flags_refuse_wildcards() {
        use crate::Config;
        use clap::Parser as _;
        for bad in [
            "*",
            "https://*.example.org",
            "example.org",
            "https://x.org/path",
        ] {
            assert!(
                Config::try_parse_from(["mailsetup-proxy", "--allowed-origin", bad]).is_err(),
                "{bad}"
            );
        }
        let c = Config::try_parse_from([
            "mailsetup-proxy",
            "--allowed-origin",
            "https://A.example.org/",
            "--allowed-origin",
            "http://localhost:3000",
            "--rate-limit-per-minute",
            "5",
            "--max-concurrent-checks",
            "7",
            "--trust-forwarded-for",
            "--request-timeout",
            "12.5",
        ])
        .unwrap();
        assert_eq!(
            c.allowed_origin,
            ["https://a.example.org", "http://localhost:3000"]
        );
        assert_eq!(c.rate_limit_per_minute, 5);
        assert_eq!(c.max_concurrent_checks, 7);
        assert!(c.trust_forwarded_for);
        assert_eq!(
            c.request_timeout.get(),
            std::time::Duration::from_millis(12_500)
        );
    }
}

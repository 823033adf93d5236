//! Server hosts as users type them, in one place for the wizard and the proxy: an RFC 1123
//! name (international names in Unicode or punycode alike), an IPv4 address, or an IPv6
//! address with or without brackets. [`parse_host`] gives both forms of a name: ASCII
//! (punycode) for DNS, TLS server names and certificate checks, and Unicode for people.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::FieldError;

/// A checked server host.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Host {
    ascii: String,
    unicode: String,
    ip: bool,
}

impl Host {
    /// The form for the network: lowercase ASCII, international labels in punycode, no
    /// trailing dot; an IP address in its canonical form (IPv6 without brackets).
    pub fn ascii(&self) -> &str {
        &self.ascii
    }

    /// The form for people: the name in Unicode (`imap.пример.рф`, also when it was typed
    /// as punycode), lowercase, no trailing dot; an IP address as in [`Host::ascii`].
    pub fn unicode(&self) -> &str {
        &self.unicode
    }

    /// Whether the host is an IP address rather than a name.
    pub fn is_ip(&self) -> bool {
        self.ip
    }
}

/// Checks a server host as typed: an RFC 1123 name (IDN in Unicode or punycode), an IPv4
/// address, or an IPv6 address with or without brackets. Surrounding spaces and one
/// trailing dot are ignored.
pub fn parse_host(input: &str) -> Result<Host, FieldError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(FieldError::Empty);
    }
    if s.contains("://") {
        return Err(FieldError::HasScheme);
    }
    if s.chars().any(char::is_whitespace) {
        return Err(FieldError::Whitespace);
    }
    if s.contains('@') {
        return Err(FieldError::LooksLikeEmail);
    }
    if s.contains('/') {
        return Err(FieldError::HasPath);
    }
    let ip = |text: String| Host {
        ascii: text.clone(),
        unicode: text,
        ip: true,
    };
    if let Some(inner) = s.strip_prefix('[') {
        let Some(inner) = inner.strip_suffix(']') else {
            return Err(if inner.contains("]:") {
                FieldError::HasPort
            } else {
                FieldError::InvalidIp
            });
        };
        return inner
            .parse::<Ipv6Addr>()
            .map(|a| ip(a.to_string()))
            .map_err(|_| FieldError::InvalidIp);
    }
    if s.contains(':') {
        if let Ok(a) = s.parse::<Ipv6Addr>() {
            return Ok(ip(a.to_string()));
        }
        let (_, after) = s.rsplit_once(':').unwrap_or((s, ""));
        return Err(if after.bytes().all(|b| b.is_ascii_digit()) {
            FieldError::HasPort
        } else {
            FieldError::InvalidChar(':')
        });
    }
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.chars().count() > 253 {
        return Err(FieldError::TooLong);
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return s
            .parse::<Ipv4Addr>()
            .map(|a| ip(a.to_string()))
            .map_err(|_| FieldError::InvalidIp);
    }
    let ascii = ascii_name(s)?;
    let unicode = unicode_name(&ascii);
    Ok(Host {
        ascii,
        unicode,
        ip: false,
    })
}

/// Checks a server host as typed (see [`parse_host`]) and returns its ASCII form.
pub fn validate_host(input: &str) -> Result<String, FieldError> {
    parse_host(input).map(|h| h.ascii)
}

/// A DNS name (no trailing dot) in its lowercase ASCII form, checked: international names
/// are converted to punycode, punycode labels must decode, and every label is 1 to 63
/// letters, digits and inner hyphens; 253 characters at most. Shared with email domains.
pub(crate) fn ascii_name(s: &str) -> Result<String, FieldError> {
    let ascii = if s.is_ascii() {
        let lower = s.to_ascii_lowercase();
        // A punycode label must decode to a valid international label.
        if lower.split('.').any(|l| l.starts_with("xn--"))
            && crate::idn::to_unicode(&lower).is_none()
        {
            return Err(FieldError::InvalidIdn);
        }
        lower
    } else {
        crate::idn::to_ascii(s).map_err(|_| FieldError::InvalidIdn)?
    };
    if ascii.len() > 253 {
        return Err(FieldError::TooLong);
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err(FieldError::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(FieldError::LabelTooLong);
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(FieldError::InvalidChar(c));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(FieldError::LabelHyphen);
        }
    }
    Ok(ascii)
}

/// The Unicode form of a checked ASCII name (the name itself when it has no punycode).
fn unicode_name(ascii: &str) -> String {
    if !ascii.split('.').any(|l| l.starts_with("xn--")) {
        return ascii.to_owned();
    }
    crate::idn::to_unicode(ascii).unwrap_or_else(|| ascii.to_owned())
}

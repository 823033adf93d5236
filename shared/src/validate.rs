//! Validation of what users type into the wizard, with no I/O: password paste clean-up and
//! app-password checks, host names, ports and TLS modes, and warnings for server settings
//! that are valid but almost certainly wrong (465 with STARTTLS, plaintext on the Internet).
//!
//! Every error and warning is an enum with `PartialEq`, a stable `snake_case` code and a
//! message in English and Russian. Password-derived values (the cleaned password, the
//! keyboard-layout guess) are never part of a message and never printed by `Debug`.

use std::fmt;
use std::net::IpAddr;

use crate::api::{Lang, Protocol, Security};

fn pick(lang: Lang, en: impl Into<String>, ru: impl Into<String>) -> String {
    match lang {
        Lang::En => en.into(),
        Lang::Ru => ru.into(),
    }
}

// ---------------------------------------------------------------------------------------
// Host, port, security
// ---------------------------------------------------------------------------------------

/// Why a server field (host, port or security) was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldError {
    /// Nothing was typed.
    Empty,
    /// Longer than 253 characters.
    TooLong,
    /// A URL scheme such as `imap://`.
    HasScheme,
    /// A `:port` after the host; the port has its own field.
    HasPort,
    /// A `/path` after the host.
    HasPath,
    /// An email address instead of a host.
    LooksLikeEmail,
    /// A space inside.
    Whitespace,
    /// A character not allowed in host names.
    InvalidChar(char),
    /// Two dots in a row, or a dot at the start.
    EmptyLabel,
    /// A part between dots longer than 63 characters.
    LabelTooLong,
    /// A part between dots starting or ending with `-`.
    LabelHyphen,
    /// Looks like an IPv4 address but is not one (`300.1.1.1`, `1.2.3`).
    InvalidIp,
    /// An internationalized name that cannot be converted to punycode.
    InvalidIdn,
    /// The port is not a number.
    PortNotNumber,
    /// Port 0 or above 65535.
    PortOutOfRange,
    /// Not one of `tls`, `starttls`, `none`.
    UnknownSecurity,
}

impl FieldError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLong => "too_long",
            Self::HasScheme => "has_scheme",
            Self::HasPort => "has_port",
            Self::HasPath => "has_path",
            Self::LooksLikeEmail => "looks_like_email",
            Self::Whitespace => "whitespace",
            Self::InvalidChar(_) => "invalid_char",
            Self::EmptyLabel => "empty_label",
            Self::LabelTooLong => "label_too_long",
            Self::LabelHyphen => "label_hyphen",
            Self::InvalidIp => "invalid_ip",
            Self::InvalidIdn => "invalid_idn",
            Self::PortNotNumber => "port_not_number",
            Self::PortOutOfRange => "port_out_of_range",
            Self::UnknownSecurity => "unknown_security",
        }
    }

    /// A sentence for the user in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Self::Empty => pick(lang, "This field is required.", "Заполните это поле."),
            Self::TooLong => pick(
                lang,
                "The server name is too long.",
                "Имя сервера слишком длинное.",
            ),
            Self::HasScheme => pick(
                lang,
                "Enter only the server name, without imap:// or https://.",
                "Введите только имя сервера, без imap:// или https://.",
            ),
            Self::HasPort => pick(
                lang,
                "Enter the port in the Port field, not after the server name.",
                "Укажите порт в поле «Порт», а не после имени сервера.",
            ),
            Self::HasPath => pick(
                lang,
                "A server name has no slashes; enter only the name, like imap.example.com.",
                "В имени сервера нет слешей; введите только имя, например imap.example.com.",
            ),
            Self::LooksLikeEmail => pick(
                lang,
                "This is an email address; enter the server name, like imap.example.com.",
                "Это адрес почты; введите имя сервера, например imap.example.com.",
            ),
            Self::Whitespace => pick(
                lang,
                "A server name has no spaces.",
                "В имени сервера не бывает пробелов.",
            ),
            Self::InvalidChar(c) => pick(
                lang,
                format!("The character \"{c}\" cannot be used in a server name."),
                format!("Символ «{c}» нельзя использовать в имени сервера."),
            ),
            Self::EmptyLabel => pick(
                lang,
                "The server name has two dots in a row or starts with a dot.",
                "В имени сервера две точки подряд или точка в начале.",
            ),
            Self::LabelTooLong => pick(
                lang,
                "A part of the server name between dots is longer than 63 characters.",
                "Часть имени сервера между точками длиннее 63 символов.",
            ),
            Self::LabelHyphen => pick(
                lang,
                "A part of the server name cannot start or end with a hyphen.",
                "Часть имени сервера не может начинаться или заканчиваться дефисом.",
            ),
            Self::InvalidIp => pick(
                lang,
                "This is not a valid IP address.",
                "Это неверный IP-адрес.",
            ),
            Self::InvalidIdn => pick(
                lang,
                "This international server name cannot be converted; check the spelling.",
                "Это международное имя сервера нельзя преобразовать; проверьте написание.",
            ),
            Self::PortNotNumber => pick(
                lang,
                "The port is a number, like 993.",
                "Порт — это число, например 993.",
            ),
            Self::PortOutOfRange => pick(
                lang,
                "The port must be between 1 and 65535.",
                "Порт должен быть от 1 до 65535.",
            ),
            Self::UnknownSecurity => pick(
                lang,
                "Choose SSL/TLS, STARTTLS or no encryption.",
                "Выберите SSL/TLS, STARTTLS или без шифрования.",
            ),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for FieldError {}

/// A port as typed in a text field, or as a number.
pub trait PortInput {
    /// The port, checked.
    fn to_port(&self) -> Result<u16, FieldError>;
}

impl PortInput for str {
    fn to_port(&self) -> Result<u16, FieldError> {
        let s = self.trim();
        if s.is_empty() {
            return Err(FieldError::Empty);
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::PortNotNumber);
        }
        match s.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => {
                u16::try_from(n).map_err(|_| FieldError::PortOutOfRange)
            }
            _ => Err(FieldError::PortOutOfRange),
        }
    }
}

impl PortInput for String {
    fn to_port(&self) -> Result<u16, FieldError> {
        self.as_str().to_port()
    }
}

impl PortInput for u16 {
    fn to_port(&self) -> Result<u16, FieldError> {
        if *self == 0 {
            Err(FieldError::PortOutOfRange)
        } else {
            Ok(*self)
        }
    }
}

impl<T: PortInput + ?Sized> PortInput for &T {
    fn to_port(&self) -> Result<u16, FieldError> {
        (**self).to_port()
    }
}

/// Checks a port: a number from 1 to 65535, given as text (`"993"`) or as a `u16`.
pub fn validate_port(input: impl PortInput) -> Result<u16, FieldError> {
    input.to_port()
}

/// Parses a TLS mode as users and other mail apps name it: `tls`/`ssl`/`ssl/tls`,
/// `starttls`, `none`/`plain` (any case).
pub fn parse_security(input: &str) -> Result<Security, FieldError> {
    match input.trim().to_ascii_lowercase().as_str() {
        "" => Err(FieldError::Empty),
        "tls" | "ssl" | "ssl/tls" | "implicit" | "implicit_tls" => Ok(Security::Tls),
        "starttls" | "stls" => Ok(Security::Starttls),
        "none" | "plain" | "plaintext" | "insecure" => Ok(Security::None),
        _ => Err(FieldError::UnknownSecurity),
    }
}

/// A server setting that is valid but probably wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerWarning {
    /// STARTTLS on a port where servers start TLS at once (993, 995, 465).
    StarttlsOnImplicitTlsPort {
        /// The port.
        port: u16,
    },
    /// Implicit TLS on a port where servers expect STARTTLS (143, 110, 587, 25).
    TlsOnStarttlsPort {
        /// The port.
        port: u16,
    },
    /// No encryption to a server on the Internet: the password would cross it in clear.
    PlaintextOnPublicHost,
    /// The port belongs to another protocol (IMAP on 465, SMTP on 993...).
    PortOfOtherProtocol {
        /// The port.
        port: u16,
        /// The protocol that port is for.
        other: Protocol,
    },
    /// SMTP on port 25, which is for servers and blocked by many networks.
    SmtpPort25,
}

impl ServerWarning {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::StarttlsOnImplicitTlsPort { .. } => "starttls_on_implicit_tls_port",
            Self::TlsOnStarttlsPort { .. } => "tls_on_starttls_port",
            Self::PlaintextOnPublicHost => "plaintext_on_public_host",
            Self::PortOfOtherProtocol { .. } => "port_of_other_protocol",
            Self::SmtpPort25 => "smtp_port_25",
        }
    }

    /// A sentence for the user in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Self::StarttlsOnImplicitTlsPort { port } => pick(
                lang,
                format!("Port {port} uses SSL/TLS from the start, not STARTTLS: choose SSL/TLS."),
                format!("Порт {port} использует SSL/TLS сразу, а не STARTTLS: выберите SSL/TLS."),
            ),
            Self::TlsOnStarttlsPort { port } => pick(
                lang,
                format!("Port {port} usually expects STARTTLS, not SSL/TLS: choose STARTTLS."),
                format!("Порт {port} обычно ожидает STARTTLS, а не SSL/TLS: выберите STARTTLS."),
            ),
            Self::PlaintextOnPublicHost => pick(
                lang,
                "Without encryption your password crosses the Internet readable by anyone on the way. Choose SSL/TLS or STARTTLS.",
                "Без шифрования пароль пойдёт через Интернет открытым текстом. Выберите SSL/TLS или STARTTLS.",
            ),
            Self::PortOfOtherProtocol { port, other } => pick(
                lang,
                format!(
                    "Port {port} is normally used for {}; check the port.",
                    other.label()
                ),
                format!(
                    "Порт {port} обычно используется для {}; проверьте порт.",
                    other.label()
                ),
            ),
            Self::SmtpPort25 => pick(
                lang,
                "Port 25 is for mail servers and is blocked by many networks; mail apps use 465 (SSL/TLS) or 587 (STARTTLS).",
                "Порт 25 предназначен для почтовых серверов и закрыт во многих сетях; почтовые программы используют 465 (SSL/TLS) или 587 (STARTTLS).",
            ),
        }
    }
}

/// True for names and addresses that never leave the local network.
fn is_local_host(host: &str) -> bool {
    let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let h = h.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = h.parse::<IpAddr>() {
        return match ip {
            IpAddr::V4(v4) => {
                v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified()
            }
            IpAddr::V6(v6) => {
                v6.is_loopback()
                    || v6.is_unspecified()
                    || (v6.segments()[0] & 0xfe00) == 0xfc00
                    || (v6.segments()[0] & 0xffc0) == 0xfe80
            }
        };
    }
    h == "localhost"
        || !h.contains('.')
        || [
            ".localhost",
            ".local",
            ".lan",
            ".internal",
            ".home.arpa",
            ".localdomain",
        ]
        .iter()
        .any(|s| h.ends_with(s))
}

/// Warnings for a server setting that is valid but probably wrong: 465 with STARTTLS, 587
/// with implicit TLS, plaintext to a public host, a port of another protocol, SMTP on 25.
pub fn server_warnings(
    protocol: Protocol,
    host: &str,
    port: u16,
    security: Security,
) -> Vec<ServerWarning> {
    let mut w = Vec::new();
    let implicit = matches!(port, 993 | 995 | 465);
    let starttls = matches!(port, 143 | 110 | 587 | 25);
    if security == Security::Starttls && implicit {
        w.push(ServerWarning::StarttlsOnImplicitTlsPort { port });
    }
    if security == Security::Tls && starttls {
        w.push(ServerWarning::TlsOnStarttlsPort { port });
    }
    if security == Security::None && !is_local_host(host) {
        w.push(ServerWarning::PlaintextOnPublicHost);
    }
    let port_protocol = match port {
        143 | 993 => Some(Protocol::Imap),
        110 | 995 => Some(Protocol::Pop3),
        25 | 465 | 587 => Some(Protocol::Smtp),
        _ => None,
    };
    if let Some(other) = port_protocol.filter(|p| *p != protocol) {
        w.push(ServerWarning::PortOfOtherProtocol { port, other });
    }
    if protocol == Protocol::Smtp && port == 25 {
        w.push(ServerWarning::SmtpPort25);
    }
    w
}

mod host;
mod password;
pub(crate) use host::ascii_name;
pub use host::{Host, parse_host, validate_host};
pub use password::{
    CleanPassword, PasswordWarning, PasteFix, check_app_password, clean_password,
    russian_to_us_layout,
};

#[cfg(test)]
mod tests;

//! Validation of what users type into the wizard, with no I/O: password paste clean-up and
//! app-password checks, host names, ports and TLS modes, and warnings for server settings
//! that are valid but almost certainly wrong (465 with STARTTLS, plaintext on the Internet).
//!
//! Every error and warning is an enum with `PartialEq`, a stable `snake_case` code and a
//! message in English and Russian. Password-derived values (the cleaned password, the
//! keyboard-layout guess) are never part of a message and never printed by `Debug`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::api::{Charset, Lang, Protocol, Provider, Security};
use crate::email::is_invisible;

fn pick(lang: Lang, en: impl Into<String>, ru: impl Into<String>) -> String {
    match lang {
        Lang::En => en.into(),
        Lang::Ru => ru.into(),
    }
}

// ---------------------------------------------------------------------------------------
// Passwords
// ---------------------------------------------------------------------------------------

/// A change [`clean_password`] made to a pasted password.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PasteFix {
    /// Spaces or line breaks around the password were removed.
    TrimmedWhitespace,
    /// Invisible characters (zero-width spaces, byte-order marks, soft hyphens) were removed.
    RemovedInvisible,
    /// Non-breaking and other Unicode spaces were turned into plain spaces.
    NormalizedSpaces,
    /// The spaces between the groups of an app password (`abcd efgh ijkl mnop`) were removed.
    RemovedGroupSpaces,
}

impl PasteFix {
    /// The stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::TrimmedWhitespace => "trimmed_whitespace",
            Self::RemovedInvisible => "removed_invisible",
            Self::NormalizedSpaces => "normalized_spaces",
            Self::RemovedGroupSpaces => "removed_group_spaces",
        }
    }

    /// A sentence for the user in `lang`.
    pub fn message(self, lang: Lang) -> String {
        match self {
            Self::TrimmedWhitespace => pick(
                lang,
                "Removed spaces and line breaks around the password.",
                "Удалены пробелы и переводы строк вокруг пароля.",
            ),
            Self::RemovedInvisible => pick(
                lang,
                "Removed invisible characters that came with the paste.",
                "Удалены невидимые символы, попавшие при вставке.",
            ),
            Self::NormalizedSpaces => pick(
                lang,
                "Replaced non-breaking spaces with ordinary ones.",
                "Неразрывные пробелы заменены обычными.",
            ),
            Self::RemovedGroupSpaces => pick(
                lang,
                "Removed the spaces between the groups of the app password; they are not part of it.",
                "Удалены пробелы между группами пароля приложения: они не входят в пароль.",
            ),
        }
    }
}

/// Something about a password that is probably a mistake. It is still sent if the user
/// insists: warnings never block.
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordWarning {
    /// Nothing was typed.
    Empty,
    /// All letters are capitals: Caps Lock is probably on.
    CapsLock,
    /// Cyrillic letters where the provider's app passwords have Latin ones: typed with the
    /// Russian keyboard layout. `guess` is the same keys on the English layout (password
    /// material: shown only in the password field, never in a message or `Debug`).
    CyrillicLayout {
        /// The same keys typed on the US layout.
        guess: String,
    },
    /// The provider wants an app password and this does not look like one: probably the
    /// account password.
    LooksLikeAccountPassword,
    /// Only the provider's app-password characters, but not as many as its app passwords
    /// have (a character lost or added while copying).
    WrongLength {
        /// How many characters the provider's app passwords have.
        expected: u8,
        /// How many this one has (spaces excluded).
        actual: usize,
    },
    /// Spaces inside a password that is not a grouped app password.
    InnerSpaces,
}

impl fmt::Debug for PasswordWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CyrillicLayout { .. } => f.write_str("CyrillicLayout { guess: \"***\" }"),
            Self::WrongLength { expected, actual } => f
                .debug_struct("WrongLength")
                .field("expected", expected)
                .field("actual", actual)
                .finish(),
            other => f.write_str(other.code()),
        }
    }
}

impl PasswordWarning {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "password_empty",
            Self::CapsLock => "caps_lock",
            Self::CyrillicLayout { .. } => "cyrillic_layout",
            Self::LooksLikeAccountPassword => "looks_like_account_password",
            Self::WrongLength { .. } => "wrong_length",
            Self::InnerSpaces => "inner_spaces",
        }
    }

    /// A sentence for the user in `lang` (never containing the password).
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Self::Empty => pick(lang, "Enter the password.", "Введите пароль."),
            Self::CapsLock => pick(
                lang,
                "All letters are capitals: is Caps Lock on?",
                "Все буквы заглавные: не включён ли Caps Lock?",
            ),
            Self::CyrillicLayout { .. } => pick(
                lang,
                "The password has Russian letters, but app passwords use Latin ones: switch the keyboard layout to English. We can convert it as if typed on the English layout.",
                "В пароле русские буквы, а пароли приложений состоят из латинских: переключите раскладку на английскую. Можно преобразовать его, как если бы он был набран в английской раскладке.",
            ),
            Self::LooksLikeAccountPassword => pick(
                lang,
                "This looks like your account password, not an app password. This provider needs an app password for mail apps; see the preparation steps.",
                "Похоже, это пароль от аккаунта, а не пароль приложения. Для почтовых программ этот провайдер требует пароль приложения; см. шаги подготовки.",
            ),
            Self::WrongLength { expected, actual } => pick(
                lang,
                format!(
                    "App passwords of this provider have {expected} characters, this one has {actual}: check that it was copied whole."
                ),
                format!(
                    "Пароли приложений этого провайдера состоят из {expected} символов, а в этом {actual}: проверьте, что он скопирован целиком."
                ),
            ),
            Self::InnerSpaces => pick(
                lang,
                "The password contains spaces. That is unusual; check that nothing extra was copied.",
                "В пароле есть пробелы. Это необычно; проверьте, не скопировалось ли лишнее.",
            ),
        }
    }
}

/// A pasted password after clean-up. `value` is password material: hand it to
/// `secret::Password` and do not log it (`Debug` hides it).
#[derive(Clone, PartialEq, Eq)]
pub struct CleanPassword {
    /// The cleaned password.
    pub value: String,
    /// What was changed, in order.
    pub changes: Vec<PasteFix>,
    /// What looks wrong (provider-independent: Caps Lock, Cyrillic letters, spaces).
    pub warnings: Vec<PasswordWarning>,
}

impl fmt::Debug for CleanPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CleanPassword")
            .field("value", &"***")
            .field("changes", &self.changes)
            .field("warnings", &self.warnings)
            .finish()
    }
}

fn is_unicode_space(c: char) -> bool {
    c != ' ' && c.is_whitespace() && !matches!(c, '\n' | '\r' | '\t')
}

/// True for `abcd efgh ijkl mnop`-like text: two or more groups of the same length (2 to 8)
/// of ASCII letters and digits, separated by single spaces; the last group may be shorter.
fn is_grouped(s: &str) -> bool {
    let groups: Vec<&str> = s.split(' ').collect();
    if groups.len() < 2 {
        return false;
    }
    let n = groups[0].len();
    if !(2..=8).contains(&n) {
        return false;
    }
    let last = groups.len() - 1;
    groups.iter().enumerate().all(|(i, g)| {
        let len_ok = if i == last {
            !g.is_empty() && g.len() <= n
        } else {
            g.len() == n
        };
        len_ok && g.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// Cleans up a pasted password: removes invisible characters, turns Unicode spaces into
/// plain ones, trims spaces and line breaks around it, and removes the spaces inside a
/// grouped app password (`abcd efgh ijkl mnop` → `abcdefghijklmnop`). Other inner spaces
/// are kept (they may be part of a real password) with a warning.
pub fn clean_password(input: &str) -> CleanPassword {
    let mut changes = Vec::new();
    let mut value: String = input.chars().filter(|c| !is_invisible(*c)).collect();
    if value.len() != input.len() {
        changes.push(PasteFix::RemovedInvisible);
    }
    if value.chars().any(is_unicode_space) {
        value = value
            .chars()
            .map(|c| if is_unicode_space(c) { ' ' } else { c })
            .collect();
        changes.push(PasteFix::NormalizedSpaces);
    }
    let trimmed = value.trim();
    if trimmed.len() != value.len() {
        value = trimmed.to_owned();
        changes.push(PasteFix::TrimmedWhitespace);
    }
    if is_grouped(&value) {
        value.retain(|c| c != ' ');
        changes.push(PasteFix::RemovedGroupSpaces);
    }
    let mut warnings = generic_warnings(&value);
    if value.chars().any(char::is_whitespace) {
        warnings.push(PasswordWarning::InnerSpaces);
    }
    CleanPassword {
        value,
        changes,
        warnings,
    }
}

fn generic_warnings(value: &str) -> Vec<PasswordWarning> {
    let mut warnings = Vec::new();
    if value.is_empty() {
        warnings.push(PasswordWarning::Empty);
        return warnings;
    }
    if value.chars().any(is_cyrillic) {
        warnings.push(PasswordWarning::CyrillicLayout {
            guess: russian_to_us_layout(value),
        });
    }
    let letters = value.chars().filter(|c| c.is_alphabetic()).count();
    if letters >= 4 && value.chars().all(|c| !c.is_lowercase()) {
        warnings.push(PasswordWarning::CapsLock);
    }
    warnings
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{04FF}')
}

/// The Russian ЙЦУКЕН layout and the US QWERTY keys under the same fingers.
const RU_KEYS: &str = "йцукенгшщзхъфывапролджэячсмитьбюёЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮЁ";
const US_KEYS: &str = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>~";

/// `value` as if its keys had been pressed on the US layout: `фыву` → `asdf`.
pub fn russian_to_us_layout(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            RU_KEYS
                .chars()
                .position(|r| r == c)
                .and_then(|i| US_KEYS.chars().nth(i))
                .unwrap_or(c)
        })
        .collect()
}

fn fits_charset(c: char, charset: Charset) -> bool {
    match charset {
        Charset::Lowercase => c.is_ascii_lowercase(),
        Charset::Letters => c.is_ascii_alphabetic(),
        Charset::LowercaseDigits => c.is_ascii_lowercase() || c.is_ascii_digit(),
        Charset::Alphanumeric => c.is_ascii_alphanumeric(),
    }
}

/// Checks a (cleaned) password against what the provider's app passwords look like:
/// Caps Lock, Cyrillic letters from the wrong layout, a wrong length, or something that
/// looks like the account password. Without a provider (or one without a known app
/// password format) only the provider-independent checks run. Spaces and dashes between
/// groups are not counted.
pub fn check_app_password(password: &str, provider: Option<&Provider>) -> Vec<PasswordWarning> {
    let value: String = password
        .chars()
        .filter(|c| !is_invisible(*c) && !c.is_whitespace())
        .collect();
    let mut warnings = generic_warnings(&value);
    let Some(format) = provider.and_then(|p| p.app_password.as_ref()) else {
        return warnings;
    };
    if value.is_empty() {
        return warnings;
    }
    // Providers that show groups with dashes (iCloud) accept them; do not count them.
    let core: String = if format.group.is_some() {
        value.chars().filter(|c| *c != '-').collect()
    } else {
        value.clone()
    };
    let layout_or_caps = warnings.iter().any(|w| {
        matches!(
            w,
            PasswordWarning::CyrillicLayout { .. } | PasswordWarning::CapsLock
        )
    });
    // What the user probably meant, to judge length and alphabet fairly.
    let meant: String = {
        let fixed = russian_to_us_layout(&core);
        if matches!(
            format.charset,
            Charset::Lowercase | Charset::LowercaseDigits
        ) && warnings.contains(&PasswordWarning::CapsLock)
        {
            fixed.to_lowercase()
        } else {
            fixed
        }
    };
    let count = meant.chars().count();
    let alphabet_ok = meant.chars().all(|c| fits_charset(c, format.charset));
    if alphabet_ok && count == usize::from(format.length) {
        return warnings;
    }
    if alphabet_ok {
        warnings.push(PasswordWarning::WrongLength {
            expected: format.length,
            actual: count,
        });
    } else if !layout_or_caps || count != usize::from(format.length) {
        warnings.push(PasswordWarning::LooksLikeAccountPassword);
    }
    warnings
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

/// Checks a server host as typed: an RFC 1123 name (IDN converted to lowercase punycode),
/// an IPv4 address, or an IPv6 address with or without brackets. Returns the ASCII form
/// (no trailing dot, IPv6 without brackets).
pub fn validate_host(input: &str) -> Result<String, FieldError> {
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
            .map(|ip| ip.to_string())
            .map_err(|_| FieldError::InvalidIp);
    }
    if s.contains(':') {
        if let Ok(ip) = s.parse::<Ipv6Addr>() {
            return Ok(ip.to_string());
        }
        let (_, after) = s.rsplit_once(':').unwrap_or((s, ""));
        return Err(if after.bytes().all(|b| b.is_ascii_digit()) {
            FieldError::HasPort
        } else {
            FieldError::InvalidChar(':')
        });
    }
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.len() > 253 {
        return Err(FieldError::TooLong);
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return s
            .parse::<Ipv4Addr>()
            .map(|ip| ip.to_string())
            .map_err(|_| FieldError::InvalidIp);
    }
    let ascii = if s.is_ascii() {
        s.to_ascii_lowercase()
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

#[cfg(test)]
mod tests;

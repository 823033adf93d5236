//! Email addresses as users type them: practical syntax, IDN domains to punycode, clear
//! EN/RU errors, and "did you mean gmail.com?" suggestions for common domain typos.
//!
//! Parse, don't validate: [`EmailAddress::parse`] is the only way to get an
//! [`EmailAddress`], so holding one means the syntax was checked.

use std::fmt;

use crate::api::Lang;
use crate::chars::is_invisible;

/// A syntactically valid address: the local part as typed, the domain in lowercase ASCII
/// (punycode for internationalized names).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EmailAddress {
    full: String,
    at: usize,
    domain_unicode: String,
}

/// Why an address was refused. Codes are stable (`snake_case`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmailError {
    /// Nothing was typed.
    Empty,
    /// There is no `@`.
    MissingAt,
    /// More than one `@`.
    MultipleAt,
    /// Nothing before the `@`.
    EmptyLocal,
    /// Nothing after the `@`.
    EmptyDomain,
    /// A space inside the address.
    Whitespace,
    /// The address is longer than 254 characters.
    TooLong,
    /// The part before `@` is longer than 64 characters.
    LocalTooLong,
    /// A character not allowed before the `@`.
    InvalidLocalChar(char),
    /// Non-Latin letters before the `@` (often a wrong keyboard layout).
    NonAsciiLocal,
    /// A dot at the start or end of the local part, or two dots in a row.
    LocalDots,
    /// The domain has no dot (`alice@gmail`).
    DomainWithoutDot,
    /// The domain is an IP address; mail apps need a domain name.
    IpLiteral,
    /// The domain is not a valid host name.
    InvalidDomain,
}

impl EmailError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "email_empty",
            Self::MissingAt => "email_missing_at",
            Self::MultipleAt => "email_multiple_at",
            Self::EmptyLocal => "email_empty_local",
            Self::EmptyDomain => "email_empty_domain",
            Self::Whitespace => "email_whitespace",
            Self::TooLong => "email_too_long",
            Self::LocalTooLong => "email_local_too_long",
            Self::InvalidLocalChar(_) => "email_invalid_local_char",
            Self::NonAsciiLocal => "email_non_ascii_local",
            Self::LocalDots => "email_local_dots",
            Self::DomainWithoutDot => "email_domain_without_dot",
            Self::IpLiteral => "email_ip_literal",
            Self::InvalidDomain => "email_invalid_domain",
        }
    }

    /// A sentence for the user in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let (en, ru): (String, String) = match self {
            Self::Empty => (
                "Enter your email address.".into(),
                "Введите адрес электронной почты.".into(),
            ),
            Self::MissingAt => (
                "An email address has an @ between the name and the domain, like alice@example.com.".into(),
                "В адресе почты между именем и доменом стоит @, например alice@example.com.".into(),
            ),
            Self::MultipleAt => (
                "The address has more than one @; keep only one.".into(),
                "В адресе больше одного @; оставьте один.".into(),
            ),
            Self::EmptyLocal => (
                "Type your mailbox name before the @.".into(),
                "Введите имя ящика перед @.".into(),
            ),
            Self::EmptyDomain => (
                "Type the domain after the @, like gmail.com.".into(),
                "Введите домен после @, например gmail.com.".into(),
            ),
            Self::Whitespace => (
                "An email address has no spaces; remove them.".into(),
                "В адресе почты не бывает пробелов; удалите их.".into(),
            ),
            Self::TooLong => (
                "The address is too long (more than 254 characters).".into(),
                "Адрес слишком длинный (больше 254 символов).".into(),
            ),
            Self::LocalTooLong => (
                "The part before the @ is too long (more than 64 characters).".into(),
                "Часть до @ слишком длинная (больше 64 символов).".into(),
            ),
            Self::InvalidLocalChar(c) => (
                format!("The character \"{c}\" cannot be used before the @."),
                format!("Символ «{c}» нельзя использовать до @."),
            ),
            Self::NonAsciiLocal => (
                "Use Latin letters before the @; check the keyboard layout.".into(),
                "Используйте латинские буквы до @; проверьте раскладку клавиатуры.".into(),
            ),
            Self::LocalDots => (
                "The part before the @ cannot start or end with a dot or have two dots in a row.".into(),
                "Часть до @ не может начинаться или заканчиваться точкой или содержать две точки подряд.".into(),
            ),
            Self::DomainWithoutDot => (
                "The domain needs a dot and an ending, like gmail.com or mail.ru.".into(),
                "В домене нужна точка и зона, например gmail.com или mail.ru.".into(),
            ),
            Self::IpLiteral => (
                "Use the domain name of your mail, not an IP address.".into(),
                "Укажите доменное имя почты, а не IP-адрес.".into(),
            ),
            Self::InvalidDomain => (
                "The domain after the @ is not a valid domain name.".into(),
                "Домен после @ не является допустимым доменным именем.".into(),
            ),
        };
        match lang {
            Lang::En => en,
            Lang::Ru => ru,
        }
    }
}

impl fmt::Display for EmailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for EmailError {}

/// Characters allowed in an unquoted local part besides letters, digits and dots
/// (RFC 5322 `atext`).
const LOCAL_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";

impl EmailAddress {
    /// Parses what a user typed or pasted. Surrounding spaces, invisible characters and a
    /// `mailto:` prefix are ignored; the domain is lowercased and converted to punycode.
    pub fn parse(input: &str) -> Result<EmailAddress, EmailError> {
        let cleaned: String = input.chars().filter(|c| !is_invisible(*c)).collect();
        let mut s = cleaned.trim();
        if let Some(prefix) = s.get(..7)
            && prefix.eq_ignore_ascii_case("mailto:")
        {
            s = s[7..].trim();
        }
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.chars().any(char::is_whitespace) {
            return Err(EmailError::Whitespace);
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(EmailError::MissingAt);
        };
        if local.contains('@') {
            return Err(EmailError::MultipleAt);
        }
        if local.is_empty() {
            return Err(EmailError::EmptyLocal);
        }
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        if domain.is_empty() {
            return Err(EmailError::EmptyDomain);
        }
        if local.len() > 64 {
            return Err(EmailError::LocalTooLong);
        }
        if !local.is_ascii() {
            return Err(EmailError::NonAsciiLocal);
        }
        if let Some(c) = local
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '.' || LOCAL_SPECIALS.contains(*c)))
        {
            return Err(EmailError::InvalidLocalChar(c));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(EmailError::LocalDots);
        }
        if domain.starts_with('[') || domain.parse::<std::net::IpAddr>().is_ok() {
            return Err(EmailError::IpLiteral);
        }
        let ascii = domain_to_ascii(domain)?;
        if !ascii.contains('.') {
            return Err(EmailError::DomainWithoutDot);
        }
        let full = format!("{local}@{ascii}");
        if full.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let domain_unicode = crate::idn::to_unicode(&ascii).unwrap_or_else(|| ascii.clone());
        Ok(EmailAddress {
            at: local.len(),
            full,
            domain_unicode,
        })
    }

    /// The whole address, `local@domain` with the domain in lowercase ASCII.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The part before the `@`, as typed.
    pub fn local(&self) -> &str {
        &self.full[..self.at]
    }

    /// The domain, lowercase ASCII (punycode for internationalized names).
    pub fn domain(&self) -> &str {
        &self.full[self.at + 1..]
    }

    /// The domain in Unicode, for display (`пример.рф`).
    pub fn domain_unicode(&self) -> &str {
        &self.domain_unicode
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

/// The lowercase ASCII form of a domain, checked as an RFC 1123 host name of LDH labels by
/// the same rules as server hosts ([`crate::validate::parse_host`]): Unicode and punycode
/// alike; the top-level label is not all digits.
fn domain_to_ascii(domain: &str) -> Result<String, EmailError> {
    let ascii = crate::validate::ascii_name(domain).map_err(|_| EmailError::InvalidDomain)?;
    if ascii
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(EmailError::InvalidDomain);
    }
    Ok(ascii)
}

/// Popular domains that are not (or not only) in the knowledge base, for suggestions.
const EXTRA_DOMAINS: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
    "yandex.ru",
    "mail.ru",
    "protonmail.com",
];

/// The most used endings, for "did you mean" on any domain: `example.con` → `example.com`.
const COMMON_TLDS: &[&str] = &["com", "net", "org", "ru", "de", "info"];

/// Real endings one edit away from [`COMMON_TLDS`] that are never "corrected": every
/// two-letter country code, and the generic ones close to `com`, `net`, `org`, `ru`, `de`.
const REAL_NEAR_TLDS: &str = "ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf \
    bg bh bi bj bm bn bo br bs bt bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy \
    cz de dj dk dm do dz ec ee eg er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn \
    gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh \
    ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp \
    mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm \
    pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss st su sv sx \
    sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu \
    wf ws ye yt za zm zw cam mom bet get jet pet vet new nec ong run dev ink";

/// A likely typo in the ending of any domain (`con`, `ry`, `ogr`): the common ending it
/// stands for.
fn tld_typo(domain: &str) -> Option<String> {
    let (name, tld) = domain.rsplit_once('.')?;
    if name.is_empty() || REAL_NEAR_TLDS.split_whitespace().any(|t| t == tld) {
        return None;
    }
    COMMON_TLDS
        .iter()
        .find(|c| **c != tld && osa_distance(tld, c) == 1)
        .map(|c| format!("{name}.{c}"))
}

/// "Did you mean...?" for a typo in a well-known domain: `gmial.com` → `gmail.com`,
/// `yandex.ri` → `yandex.ru`; and for a typo in the ending of any domain: `example.con` →
/// `example.com`. Takes an address or a bare domain and returns the corrected
/// address (or domain); `None` when the domain is known or nothing is close enough.
///
/// Close enough: one edit (insert, delete, replace or swap of neighbours) for domains up to
/// ten characters, two for longer ones; for very short domains (`ya.ru`, `bk.ru`) only the
/// ending may differ, so real short domains are not "corrected".
pub fn suggest(email_or_domain: &str) -> Option<String> {
    let input = email_or_domain.trim();
    let (local, domain) = match input.rsplit_once('@') {
        Some((l, d)) => (Some(l), d),
        None => (None, input),
    };
    let domain = domain.trim().trim_end_matches('.').to_lowercase();
    if domain.is_empty() || !domain.contains('.') || domain.len() > 64 {
        return None;
    }
    let registry = crate::providers::builtin_index();
    let known = |d: &str| EXTRA_DOMAINS.contains(&d) || registry.exact_domains().any(|k| k == d);
    if known(&domain) || registry.by_domain(&domain).is_some() {
        return None;
    }
    let mut best: Option<(usize, &str)> = None;
    for candidate in EXTRA_DOMAINS
        .iter()
        .copied()
        .chain(registry.exact_domains())
    {
        let Some(d) = close(&domain, candidate) else {
            continue;
        };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, candidate));
        }
    }
    let fixed = match best {
        Some((_, d)) => d.to_owned(),
        None => tld_typo(&domain)?,
    };
    Some(match local {
        Some(l) => format!("{l}@{fixed}"),
        None => fixed,
    })
}

/// The edit distance from `typed` to `candidate` when it is close enough to suggest.
fn close(typed: &str, candidate: &str) -> Option<usize> {
    if candidate.len() < 7 {
        // Short domains: only a typo in the ending (ya.ri → ya.ru).
        let (t_name, t_tld) = typed.rsplit_once('.')?;
        let (c_name, c_tld) = candidate.rsplit_once('.')?;
        if t_name != c_name {
            return None;
        }
        let d = osa_distance(t_tld, c_tld);
        return (d == 1).then_some(d);
    }
    let max = if candidate.len() <= 10 { 1 } else { 2 };
    if typed.len().abs_diff(candidate.len()) > max {
        return None;
    }
    let d = osa_distance(typed, candidate);
    (d >= 1 && d <= max).then_some(d)
}

/// Optimal string alignment distance (Levenshtein plus swaps of neighbours), by chars.
fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

#[cfg(test)]
mod tests;

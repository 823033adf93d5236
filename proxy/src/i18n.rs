//! Texts the proxy writes itself (check step details, discovery trace details) in every
//! language it speaks: each site writes its English and Russian side by side as a
//! [`Text`], and the text is rendered in the request's language ([`crate::error::lang`])
//! only when a report is built. The helpers here cover what many sites share: words that
//! read the same in every language (a server's reply, an address), durations, and the
//! resolver's reasons.

use std::time::Duration;

use mailsetup_shared::api::Text;

/// A text that reads the same in every language: a server's own words, an address, a
/// list of capabilities.
pub fn verbatim(s: impl Into<String>) -> Text {
    let s = s.into();
    Text {
        en: s.clone(),
        ru: s,
    }
}

/// A duration as people read it: "15s", "500ms" in English (Rust's own notation, as the
/// details always showed it), "15 с", "500 мс" in Russian.
pub fn duration(d: Duration) -> Text {
    let ru = if d.subsec_nanos() == 0 {
        format!("{} с", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{} мс", d.as_millis())
    } else {
        format!("{} с", format!("{:.1}", d.as_secs_f64()).replace('.', ","))
    };
    Text::new(format!("{d:?}"), ru)
}

/// The resolver's reason for a failed lookup (its English words, or an error whose
/// `Display` gives them). Known reasons are translated; anything else (the resolver
/// library's own error text) is kept and introduced in the language asked.
pub fn dns_reason(reason: impl std::fmt::Display) -> Text {
    let reason = reason.to_string();
    let reason = reason.as_str();
    let known: &[(&str, &str)] = &[
        ("no such record", "такой записи нет"),
        ("no such name (NXDOMAIN)", "такого имени нет (NXDOMAIN)"),
        ("no address", "у имени нет адреса"),
        ("no addresses", "у имени нет адреса"),
        (
            "the DNS server did not answer in time",
            "DNS-сервер не ответил вовремя",
        ),
    ];
    if let Some((_, ru)) = known.iter().find(|(en, _)| *en == reason) {
        return Text::new(reason, *ru);
    }
    let prefixed: &[(&str, &str)] = &[
        ("DNS error: ", "ошибка DNS: "),
        ("the DNS server answered ", "DNS-сервер ответил "),
        ("lookup timed out after ", "нет ответа DNS за "),
        ("no answer within ", "нет ответа DNS за "),
        (
            "refused by the egress policy: ",
            "запрещено правилами исходящих соединений: ",
        ),
    ];
    for (en, ru) in prefixed {
        if let Some(rest) = reason.strip_prefix(en) {
            return Text::new(reason, format!("{ru}{rest}"));
        }
    }
    Text::new(reason, format!("ошибка DNS: {reason}"))
}

/// `text` with `prefix` before it in each language (`"LOGIN: "` + a network error).
pub fn prefixed(prefix: &Text, text: &Text) -> Text {
    Text::new(
        format!("{}{}", prefix.en, text.en),
        format!("{}{}", prefix.ru, text.ru),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_both_languages() {
        assert_eq!(duration(Duration::from_secs(15)), Text::new("15s", "15 с"));
        assert_eq!(
            duration(Duration::from_millis(500)),
            Text::new("500ms", "500 мс")
        );
        assert_eq!(duration(Duration::from_millis(1500)).ru, "1,5 с");
    }

    #[test]
    fn resolver_reasons_are_translated_or_introduced() {
        assert_eq!(dns_reason("no such record").ru, "такой записи нет");
        assert_eq!(
            dns_reason("DNS error: io error: refused").ru,
            "ошибка DNS: io error: refused"
        );
        let other = dns_reason("failed to lookup address information");
        assert_eq!(other.en, "failed to lookup address information");
        assert!(other.ru.starts_with("ошибка DNS"));
    }
}

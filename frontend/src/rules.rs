//! The validation the wizard shows as the user types, in one place: a thin adapter over
//! `mailsetup_shared`'s email and validation rules, returning texts in both languages.

use mailsetup_shared::api::{Lang, Protocol, Provider, Security, Text};
use mailsetup_shared::email::{self, EmailAddress};
use mailsetup_shared::validate::{self, PasswordWarning};

/// A field error or warning, in every language.
pub type FieldError = Text;

fn both(f: impl Fn(Lang) -> String) -> Text {
    Text::new(f(Lang::En), f(Lang::Ru))
}

/// Why an address is not usable yet, if it is not.
pub fn email_error(email: &str) -> Option<FieldError> {
    EmailAddress::parse(email)
        .err()
        .map(|e| both(|l| e.message(l)))
}

/// A likely fix for a mistyped domain ("gmial.com" -> the full corrected address).
pub fn suggestion(email: &str) -> Option<String> {
    let e = email.trim();
    if !e.contains('@') {
        return None;
    }
    email::suggest(e).filter(|s| s != e)
}

/// The error of a server host field, if any.
pub fn host_error(host: &str) -> Option<FieldError> {
    validate::validate_host(host)
        .err()
        .map(|e| both(|l| e.message(l)))
}

/// The error of a port field, if any.
pub fn port_error(port: &str) -> Option<FieldError> {
    validate::validate_port(port)
        .err()
        .map(|e| both(|l| e.message(l)))
}

/// Warnings for a valid but probably wrong server setting (465 with STARTTLS...).
pub fn server_warnings(
    protocol: Protocol,
    host: &str,
    port: &str,
    security: Security,
) -> Vec<Text> {
    let Ok(port) = validate::validate_port(port) else {
        return Vec::new();
    };
    validate::server_warnings(protocol, host.trim(), port, security)
        .into_iter()
        .map(|w| both(|l| w.message(l)))
        .collect()
}

/// A pasted password cleaned up (invisible characters, surrounding spaces, the spaces
/// between app-password groups), with what was changed.
pub fn clean_password(raw: &str) -> (String, Vec<Text>) {
    let c = validate::clean_password(raw);
    let notes = c.changes.iter().map(|f| both(|l| f.message(l))).collect();
    (c.value, notes)
}

/// Removes only invisible characters and line breaks while typing: an ordinary password
/// may contain spaces, and trimming on every key would eat a space just typed.
pub fn strip_invisible(raw: &str) -> String {
    raw.chars()
        .filter(|c| {
            !matches!(
                *c,
                '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\n' | '\r' | '\t'
            )
        })
        .collect()
}

/// Warnings about a typed password for the provider (Caps Lock, "looks like your account
/// password", wrong length), with their codes (to avoid doubling the Caps Lock warning the
/// keyboard state gives), and the same keys on the English layout when the password was
/// typed in the Russian one. The layout is offered as a conversion, not as a warning, and
/// it silences "looks like your account password": both explain the same input.
pub fn password_warnings(
    password: &str,
    provider: Option<&Provider>,
) -> (Vec<(&'static str, Text)>, Option<String>) {
    let found = validate::check_app_password(password, provider);
    let guess = found.iter().find_map(|w| match w {
        PasswordWarning::CyrillicLayout { guess } => Some(guess.clone()),
        _ => None,
    });
    let warnings = found
        .into_iter()
        .filter(|w| match w {
            PasswordWarning::Empty | PasswordWarning::CyrillicLayout { .. } => false,
            PasswordWarning::LooksLikeAccountPassword => guess.is_none(),
            _ => true,
        })
        .map(|w| (w.code(), both(|l| w.message(l))))
        .collect();
    (warnings, guess)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(email_error("alice@example.test").is_none());
        assert!(email_error("alice").is_some());
        assert!(email_error("alice@").is_some());
        assert!(email_error("alice@example").is_some());
        assert_eq!(
            suggestion("bob@gmial.com").as_deref(),
            Some("bob@gmail.com")
        );
        assert_eq!(suggestion("bob@gmail.com"), None);
        assert_eq!(suggestion("bob@example.test"), None);
    }

    #[test]
    fn servers_and_passwords() {
        assert!(host_error("127.0.0.1").is_none());
        assert!(host_error("imap.example.com").is_none());
        assert!(host_error("https://imap.example.com").is_some());
        assert!(port_error("993").is_none());
        assert!(port_error("0").is_some());
        assert!(port_error("99999").is_some());
        assert_eq!(
            clean_password(" abcd efgh ijkl mnop\n").0,
            "abcdefghijklmnop"
        );
        assert_eq!(strip_invisible("a b\u{200B}c"), "a bc");
        let (warnings, guess) = password_warnings("пароль", None);
        assert!(
            warnings.is_empty(),
            "the layout is a conversion, not a warning"
        );
        assert_eq!(guess.as_deref(), Some("gfhjkm"));
        assert!(
            !server_warnings(
                Protocol::Smtp,
                "smtp.example.com",
                "465",
                Security::Starttls
            )
            .is_empty()
        );
    }
}

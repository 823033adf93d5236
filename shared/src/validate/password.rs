//! Passwords as pasted: clean-up ([`clean_password`]), the keyboard-layout guess and the
//! app-password format checks ([`check_app_password`]). No value derived from a password
//! is ever part of a message or printed by `Debug`.

use std::fmt;

use super::pick;
use crate::api::{Charset, Lang, Provider};
use crate::chars::is_invisible;

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

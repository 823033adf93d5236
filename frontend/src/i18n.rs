//! Every text of the wizard's own interface, in English and Russian. Provider steps and
//! diagnoses come localized from the data and the proxy; this file and its modules cover
//! the rest.
//!
//! The texts are split like the release build's wasm (issue 15): [`Strings`] here holds
//! what the first screen shows (the frame, the stepper, the address step, the later
//! steps' "Loading"/"could not be loaded" lines) and the words the later steps share with
//! it; `later.rs` ([`LaterStrings`]) and `oauth.rs` ([`OAuthStrings`]) hold the later
//! steps' own texts, which only code in the later steps' chunk reads.
//!
//! `{name}` in a text is replaced by the provider's name (or another value), `{n}` by a
//! number.

use mailsetup_shared::api::Lang;

/// Declares a struct of texts, every field a `&'static str`, and for the tests the list
/// of all its texts, so a test covers every text of both languages.
macro_rules! texts {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$field_meta:meta])* pub $field:ident: &'static str,)*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$field_meta])* pub $field: &'static str,)*
        }

        #[cfg(test)]
        impl $name {
            /// Every text, after its field's name.
            pub(crate) fn all(&self) -> Vec<(&'static str, &'static str)> {
                vec![$((stringify!($field), self.$field)),*]
            }
        }
    };
}

mod later;
mod oauth;
pub use later::{LaterStrings, later, step_name};
pub use oauth::{OAuthStrings, oauth_tr};

/// The stepper's names of the screens, in order (Address, Prepare, Password, Servers,
/// Check, Result).
pub fn step_names(lang: Lang) -> [&'static str; 6] {
    match lang {
        Lang::En => [
            "Address", "Prepare", "Password", "Servers", "Check", "Result",
        ],
        Lang::Ru => [
            "Адрес",
            "Подготовка",
            "Пароль",
            "Серверы",
            "Проверка",
            "Результат",
        ],
    }
}

texts! {
/// The first screen's texts of one language (and those the later steps share with it).
#[allow(missing_docs)]
pub struct Strings {
    pub app_title: &'static str,
    pub language: &'static str,
    pub next: &'static str,
    pub back: &'static str,
    pub cancel: &'static str,
    pub address_h: &'static str,
    pub address_intro: &'static str,
    pub email_label: &'static str,
    pub email_hint: &'static str,
    pub did_you_mean: &'static str,
    pub use_suggestion: &'static str,
    pub provider_known: &'static str,
    pub looking_up: &'static str,
    /// The lookup got no answer (no connection): not "unknown domain" (`{name}`: the
    /// Continue button's label).
    pub lookup_failed: &'static str,
    pub discovered: &'static str,
    pub guessed: &'static str,
    pub not_allowed: &'static str,
    pub retry: &'static str,
    pub step_loading: &'static str,
    pub step_unloaded: &'static str,
    /// The stepper's accessible name.
    pub progress: &'static str,
    /// Screen-reader note on a passed step.
    pub mark_done: &'static str,
    /// Screen-reader note on a step not needed.
    pub mark_skipped: &'static str,
    /// Screen-reader note on a failed result.
    pub mark_failed: &'static str,
    /// Asked once before going on with a likely typo (`{name}`: the suggestion).
    pub typo_question: &'static str,
    /// The stepper's third step after a sign-in with the provider (instead of "Password").
    pub step_sign_in: &'static str,
}
}

/// English.
pub static EN: Strings = Strings {
    app_title: "Connect your mailbox",
    language: "Language",
    next: "Continue",
    back: "Back",
    cancel: "Cancel",
    address_h: "What is your email address?",
    address_intro: "We will find the right settings for your mail provider and check that everything works before you finish.",
    email_label: "Email address",
    email_hint: "For example, name@gmail.com",
    did_you_mean: "Did you mean {name}?",
    use_suggestion: "Use {name}",
    provider_known: "Provider recognised: {name}.",
    looking_up: "Looking up the mail servers for this domain…",
    lookup_failed: "We could not look up this domain just now. Check your internet connection; {name} tries again.",
    discovered: "We found the mail servers for this domain.",
    guessed: "We don't know this domain yet. We will suggest the usual server names; you can change them later.",
    not_allowed: "This app does not support {name} addresses. Please use another address.",
    retry: "Try again",
    step_loading: "Loading this step…",
    step_unloaded: "This step could not be loaded. Check your internet connection and try again.",
    progress: "Progress",
    mark_done: "(done)",
    mark_skipped: "(not needed)",
    mark_failed: "(failed)",
    typo_question: "Did you mean {name}? Use it, or press Continue again to keep what you typed.",
    step_sign_in: "Sign-in",
};

/// Russian.
pub static RU: Strings = Strings {
    app_title: "Подключение почтового ящика",
    language: "Язык",
    next: "Далее",
    back: "Назад",
    cancel: "Отмена",
    address_h: "Какой у вас адрес почты?",
    address_intro: "Мы подберём настройки для вашего почтового сервиса и проверим, что всё работает.",
    email_label: "Адрес электронной почты",
    email_hint: "Например, name@yandex.ru",
    did_you_mean: "Может быть, {name}?",
    use_suggestion: "Исправить на {name}",
    provider_known: "Почтовый сервис: {name}.",
    looking_up: "Ищем почтовые серверы этого домена…",
    lookup_failed: "Сейчас не удалось проверить этот домен. Проверьте подключение к интернету; «{name}» попробует ещё раз.",
    discovered: "Мы нашли почтовые серверы этого домена.",
    guessed: "Этот домен нам пока не знаком. Мы предложим обычные имена серверов — их можно будет изменить.",
    not_allowed: "Это приложение не поддерживает адреса {name}. Укажите другой адрес.",
    retry: "Попробовать снова",
    step_loading: "Загружаем этот шаг…",
    step_unloaded: "Не удалось загрузить этот шаг. Проверьте подключение к интернету и попробуйте снова.",
    progress: "Ход настройки",
    mark_done: "(пройдено)",
    mark_skipped: "(не требуется)",
    mark_failed: "(не удалось)",
    typo_question: "Может быть, вы имели в виду {name}? Исправьте адрес или нажмите «Далее» ещё раз, чтобы оставить как есть.",
    step_sign_in: "Вход",
};

/// The texts for `lang`.
pub fn tr(lang: Lang) -> &'static Strings {
    match lang {
        Lang::En => &EN,
        Lang::Ru => &RU,
    }
}

/// Fills `{name}` in a text.
pub fn with_name(text: &str, name: &str) -> String {
    text.replace("{name}", name)
}

/// The language from a browser language tag (`navigator.language`) or a `locale` option.
pub fn lang_from_tag(tag: &str) -> Option<Lang> {
    let t = tag.trim().to_ascii_lowercase();
    if t == "ru" || t.starts_with("ru-") || t.starts_with("ru_") {
        Some(Lang::Ru)
    } else if t == "en" || t.starts_with("en-") || t.starts_with("en_") {
        Some(Lang::En)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(lang_from_tag("ru-RU"), Some(Lang::Ru));
        assert_eq!(lang_from_tag("en-GB"), Some(Lang::En));
        assert_eq!(lang_from_tag("de"), None);
        assert_eq!(
            with_name(later::EN.prepare_h, "Gmail"),
            "Prepare your Gmail account"
        );
    }

    /// Every text of `en` and `ru` (the same struct) is there, translated (but those
    /// in `same`, such as protocol names) and has the same placeholders.
    pub(crate) fn assert_translated(
        en: &[(&'static str, &'static str)],
        ru: &[(&'static str, &'static str)],
        same: &[&str],
    ) {
        assert_eq!(en.len(), ru.len());
        let placeholders = |s: &str| {
            let mut found: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(name, _)| name.to_owned()))
                .collect();
            found.sort();
            found
        };
        for (&(field, e), &(field_ru, r)) in en.iter().zip(ru) {
            assert_eq!(field, field_ru);
            assert!(
                !e.trim().is_empty() && !r.trim().is_empty(),
                "{field} is empty"
            );
            if !same.contains(&field) {
                assert_ne!(e, r, "{field} is not translated");
            }
            assert_eq!(placeholders(e), placeholders(r), "{field}: {e} / {r}");
        }
    }

    #[test]
    fn the_first_screens_texts_are_complete_in_both_languages() {
        assert_translated(&EN.all(), &RU.all(), &[]);
    }
}

//! The texts of "Sign in with the provider" (OAuth 2.0), in English and Russian. Why a
//! sign-in failed comes from the proxy as a diagnosis in plain words; this file covers the
//! wizard's own words around it. `{name}` is the sign-in's name ("Google", "Microsoft").
//! Only the later steps read them, so they travel in the later steps' chunk like
//! `later.rs`'s; the stepper's "Sign-in" is the first screen's (`super::Strings`).

use mailsetup_shared::api::Lang;

/// The sign-in texts of one language.
#[allow(missing_docs)]
pub struct OAuthStrings {
    /// The button: "Sign in with Google".
    pub sign_in_with: &'static str,
    /// Under the button.
    pub sign_in_intro: &'static str,
    /// Heading of the sign-in choice.
    pub sign_in_h: &'static str,
    /// Before the provider's own checklist, when sign-in is offered too.
    pub or_app_password: &'static str,
    /// The Continue label of the password path, when sign-in is offered too.
    pub use_password: &'static str,
    /// While the sign-in window is open.
    pub waiting: &'static str,
    /// Before the same tab goes to the provider.
    pub redirecting: &'static str,
    /// The sign-in window was closed without a result.
    pub closed: &'static str,
    /// The browser blocked the sign-in window.
    pub blocked: &'static str,
    /// Heading of a failed sign-in.
    pub failed_h: &'static str,
    /// The Continue label of the password path for a provider without app passwords.
    pub use_any_password: &'static str,
    /// The result summary's sign-in row.
    pub summary_auth: &'static str,
    /// Its value: "Google account (OAuth 2.0)".
    pub summary_oauth: &'static str,
    /// The IT report's label after a sign-in (instead of "your password is not included").
    pub report_label: &'static str,
}

static EN: OAuthStrings = OAuthStrings {
    sign_in_with: "Sign in with {name}",
    sign_in_intro: "Recommended: sign in with your {name} account in a small window and allow mail access. You need no app password, and your password stays with {name}.",
    sign_in_h: "Sign in with your account",
    or_app_password: "Or use an app password instead:",
    use_password: "Use an app password instead",
    waiting: "Finish signing in in the {name} window. This page continues by itself.",
    redirecting: "Opening the {name} sign-in page…",
    closed: "The sign-in window was closed before signing in finished. Press the button to try again.",
    blocked: "Your browser blocked the sign-in window. Allow pop-up windows for this page, then press the button again.",
    failed_h: "Signing in did not work",
    use_any_password: "Use a password instead",
    summary_auth: "Sign-in",
    summary_oauth: "{name} account (OAuth 2.0)",
    report_label: "Report for IT (the sign-in's tokens are not included)",
};

static RU: OAuthStrings = OAuthStrings {
    sign_in_with: "Войти через {name}",
    sign_in_intro: "Рекомендуем: войдите в аккаунт {name} в небольшом окне и разрешите доступ к почте. Пароль приложения не нужен, а ваш пароль остаётся у {name}.",
    sign_in_h: "Вход через аккаунт",
    or_app_password: "Или используйте пароль приложения:",
    use_password: "Использовать пароль приложения",
    waiting: "Завершите вход в окне {name}. Эта страница продолжит сама.",
    redirecting: "Открываем страницу входа {name}…",
    closed: "Окно входа закрыли до окончания входа. Нажмите кнопку, чтобы попробовать снова.",
    blocked: "Браузер заблокировал окно входа. Разрешите всплывающие окна для этой страницы и нажмите кнопку ещё раз.",
    failed_h: "Войти не удалось",
    use_any_password: "Использовать пароль",
    summary_auth: "Вход",
    summary_oauth: "Аккаунт {name} (OAuth 2.0)",
    report_label: "Отчёт для IT (ключей входа в нём нет)",
};

/// The sign-in texts in `lang`.
pub fn oauth_tr(lang: Lang) -> &'static OAuthStrings {
    match lang {
        Lang::En => &EN,
        Lang::Ru => &RU,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(t: &OAuthStrings) -> [&'static str; 14] {
        [
            t.sign_in_with,
            t.sign_in_intro,
            t.sign_in_h,
            t.or_app_password,
            t.use_password,
            t.waiting,
            t.redirecting,
            t.closed,
            t.blocked,
            t.failed_h,
            t.use_any_password,
            t.summary_auth,
            t.summary_oauth,
            t.report_label,
        ]
    }

    #[test]
    fn both_languages_say_everything_with_the_same_placeholders() {
        for (en, ru) in all(oauth_tr(Lang::En))
            .into_iter()
            .zip(all(oauth_tr(Lang::Ru)))
        {
            assert!(!en.trim().is_empty() && !ru.trim().is_empty());
            assert_ne!(en, ru, "untranslated: {en}");
            assert_eq!(en.contains("{name}"), ru.contains("{name}"), "{en} / {ru}");
        }
    }
}

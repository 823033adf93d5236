//! Every text of the wizard's own interface, in English and Russian. Provider steps and
//! diagnoses come localized from the data and the proxy; this file covers the rest.
//!
//! `{name}` in a text is replaced by the provider's name (or another value), `{n}` by a
//! number.

use mailsetup_shared::api::{Lang, StepKind};

mod oauth;
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

/// All texts of one language.
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
    pub discovered: &'static str,
    pub guessed: &'static str,
    pub not_allowed: &'static str,
    pub prepare_h: &'static str,
    pub prepare_intro: &'static str,
    pub open_page: &'static str,
    pub new_tab: &'static str,
    pub tick: &'static str,
    pub shown_once: &'static str,
    pub resets_h: &'static str,
    pub limits_h: &'static str,
    pub oauth_only: &'static str,
    pub broken: &'static str,
    pub try_anyway: &'static str,
    pub unticked: &'static str,
    pub password_h_app: &'static str,
    pub password_h: &'static str,
    pub password_intro_app: &'static str,
    pub password_intro: &'static str,
    pub app_password_label: &'static str,
    pub password_label: &'static str,
    pub format_hint: &'static str,
    pub show: &'static str,
    pub hide: &'static str,
    pub caps_on: &'static str,
    pub no_password: &'static str,
    pub servers_h: &'static str,
    pub servers_known: &'static str,
    pub servers_unknown: &'static str,
    pub advanced: &'static str,
    pub incoming: &'static str,
    pub outgoing: &'static str,
    pub protocol: &'static str,
    pub imap_recommended: &'static str,
    pub pop3: &'static str,
    pub pop_note: &'static str,
    pub imap_server: &'static str,
    pub pop_server: &'static str,
    pub smtp_server: &'static str,
    pub port: &'static str,
    pub security: &'static str,
    pub sec_tls: &'static str,
    pub sec_starttls: &'static str,
    pub sec_none: &'static str,
    pub username: &'static str,
    pub username_hint: &'static str,
    pub check: &'static str,
    pub test_h: &'static str,
    pub test_intro: &'static str,
    pub checking: &'static str,
    pub waiting: &'static str,
    pub elapsed: &'static str,
    pub result_ok_h: &'static str,
    pub result_fail_h: &'static str,
    pub result_ok_intro: &'static str,
    pub side_ok: &'static str,
    pub side_failed: &'static str,
    pub side_skipped: &'static str,
    pub fix_password: &'static str,
    pub fix_servers: &'static str,
    pub fix_prepare: &'static str,
    pub retry: &'static str,
    pub server_said: &'static str,
    pub details: &'static str,
    pub done: &'static str,
    pub done_note: &'static str,
    pub copy_report: &'static str,
    pub copied: &'static str,
    pub copy_failed: &'static str,
    pub report_label: &'static str,
    pub network_error: &'static str,
    pub step_loading: &'static str,
    pub step_unloaded: &'static str,
    /// The live check's connection to the proxy broke mid-check.
    pub stream_broken: &'static str,
    pub summary_email: &'static str,
    pub summary_login: &'static str,
    pub cancelled: &'static str,
    /// A side of the live check before its first step finished.
    pub live_waiting: &'static str,
    /// The step under way (its name is not known until it ends).
    pub live_next: &'static str,
    /// Announced when a side passed every step (`{side}`).
    pub live_side_ok: &'static str,
    /// Announced when a side stopped at a failed step (`{side}`, `{step}`).
    pub live_side_failed: &'static str,
    /// The stepper's accessible name.
    pub progress: &'static str,
    /// Screen-reader note on a passed step.
    pub mark_done: &'static str,
    /// Screen-reader note on a step not needed.
    pub mark_skipped: &'static str,
    /// Screen-reader note on a failed result.
    pub mark_failed: &'static str,
    /// Screen-reader prefix of a passed check step.
    pub sr_ok: &'static str,
    /// Screen-reader prefix of a failed check step.
    pub sr_failed: &'static str,
    /// The final state inside a host app after Done.
    pub done_embed: &'static str,
    /// Asked once before going on with a likely typo (`{name}`: the suggestion).
    pub typo_question: &'static str,
    /// Shown on the password step after the server refused the password.
    pub password_refused: &'static str,
    /// The Continue label after a refused password.
    pub check_again: &'static str,
    /// The button converting a password typed in the Russian layout.
    pub convert_layout: &'static str,
    /// Before the conversion.
    pub layout_before: &'static str,
    /// After the conversion.
    pub layout_after: &'static str,
    /// The Russian-layout warning with the conversion offered.
    pub layout_note: &'static str,
    /// Said after the conversion.
    pub layout_converted: &'static str,
    /// Sets the outgoing server to the incoming one.
    pub same_as_incoming: &'static str,
    /// Advice when a server name the wizard filled in does not resolve (`{name}`: the server).
    pub dns_provider_advice: &'static str,
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
    discovered: "We found the mail servers for this domain.",
    guessed: "We don't know this domain yet. We will suggest the usual server names; you can change them later.",
    not_allowed: "This app does not support {name} addresses. Please use another address.",
    prepare_h: "Prepare your {name} account",
    prepare_intro: "{name} lets mail apps in only after a few settings. Do each step in the page that opens in a new tab, then tick it here.",
    open_page: "Open the settings page",
    new_tab: "(opens in a new tab)",
    tick: "Done",
    shown_once: "The app password is shown only once. Copy it as soon as it appears; if you lose it, simply create a new one.",
    resets_h: "What cancels an app password",
    limits_h: "Good to know",
    oauth_only: "{name} does not accept passwords from mail apps, not even app passwords. The check below will most likely fail.",
    broken: "{name} does not work with ordinary mail apps.",
    try_anyway: "Try anyway",
    unticked: "Tick each step once you have done it.",
    password_h_app: "Paste the app password",
    password_h: "Enter your password",
    password_intro_app: "Use the app password you have just created, not the password you sign in to {name} with. For the check it goes through this service to your mail servers and is not stored.",
    password_intro: "For this check the password goes through this service to your mail servers. It is not stored or logged anywhere.",
    app_password_label: "App password",
    password_label: "Password",
    format_hint: "Looks like: {name}",
    show: "Show password",
    hide: "Hide password",
    caps_on: "Caps Lock is on.",
    no_password: "Enter the password.",
    servers_h: "Mail servers",
    servers_known: "The settings for {name} are filled in. Change them only if your IT asked you to.",
    servers_unknown: "Check the server names. Your IT or your provider's help pages list them.",
    advanced: "Advanced settings",
    incoming: "Incoming mail",
    outgoing: "Outgoing mail",
    protocol: "Protocol",
    imap_recommended: "IMAP (recommended)",
    pop3: "POP3",
    pop_note: "POP3 downloads only the inbox and does not keep folders or read marks in sync between your devices. Choose IMAP unless your IT asked for POP3.",
    imap_server: "IMAP server",
    pop_server: "POP3 server",
    smtp_server: "SMTP server",
    port: "Port",
    security: "Encryption",
    sec_tls: "SSL/TLS",
    sec_starttls: "STARTTLS",
    sec_none: "None (unsafe)",
    username: "User name",
    username_hint: "Usually your full email address.",
    check: "Check connection",
    test_h: "Checking the connection",
    test_intro: "We sign in to your incoming and outgoing servers. Nothing is sent and nothing is stored.",
    checking: "Checking…",
    waiting: "This usually takes a few seconds.",
    elapsed: "{n} s",
    result_ok_h: "Your mailbox is connected",
    result_fail_h: "We could not connect",
    result_ok_intro: "Both servers accepted the sign-in. These are the settings that work:",
    side_ok: "Works",
    side_failed: "Failed",
    side_skipped: "Not checked",
    fix_password: "Change the password",
    fix_servers: "Change the server settings",
    fix_prepare: "Back to the preparation steps",
    retry: "Try again",
    server_said: "The server said:",
    details: "What we checked",
    done: "Done",
    done_note: "All set. You can close this page.",
    copy_report: "Copy report for IT",
    copied: "The report is copied. Paste it into your message to IT.",
    copy_failed: "Copying is not allowed here: select the text above and copy it.",
    report_label: "Report for IT (your password is not included)",
    network_error: "We could not reach the checking service. Check your internet connection and try again.",
    step_loading: "Loading this step…",
    step_unloaded: "This step could not be loaded. Check your internet connection and try again.",
    stream_broken: "The connection to the checking service broke during the check, so we do not know the result. We did not repeat the check on our own, to avoid a second sign-in. Check your internet connection and press “Try again”.",
    summary_email: "Email address",
    summary_login: "User name",
    cancelled: "The check was cancelled.",
    live_waiting: "Starting…",
    live_next: "Next step in progress…",
    live_side_ok: "{side}: every step passed.",
    live_side_failed: "{side}: “{step}” failed.",
    progress: "Progress",
    mark_done: "(done)",
    mark_skipped: "(not needed)",
    mark_failed: "(failed)",
    sr_ok: "Passed: ",
    sr_failed: "Failed: ",
    done_embed: "All set. The verified settings have been passed to the app; you can go on there.",
    typo_question: "Did you mean {name}? Use it, or press Continue again to keep what you typed.",
    password_refused: "The server refused the password you entered. Enter it again; we will check it as soon as you press Continue.",
    check_again: "Check again",
    convert_layout: "Convert to the English layout",
    layout_before: "Typed:",
    layout_after: "In the English layout:",
    layout_note: "The password contains Russian letters: perhaps the keyboard was in the Russian layout. App passwords use Latin letters only.",
    layout_converted: "Converted to the English layout.",
    same_as_incoming: "Same server as incoming",
    dns_provider_advice: "The server name {name} comes from our data, not from you, and could not be found just now. This is most likely a temporary problem of the provider or of this service; try again in a few minutes.",
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
    discovered: "Мы нашли почтовые серверы этого домена.",
    guessed: "Этот домен нам пока не знаком. Мы предложим обычные имена серверов — их можно будет изменить.",
    not_allowed: "Это приложение не поддерживает адреса {name}. Укажите другой адрес.",
    prepare_h: "Подготовьте аккаунт {name}",
    prepare_intro: "{name} пускает почтовые программы только после нескольких настроек. Выполните каждый шаг на странице, которая откроется в новой вкладке, и отметьте его здесь.",
    open_page: "Открыть страницу настроек",
    new_tab: "(откроется в новой вкладке)",
    tick: "Готово",
    shown_once: "Пароль приложения показывается только один раз. Скопируйте его сразу; если потеряете — просто создайте новый.",
    resets_h: "Что отменяет пароль приложения",
    limits_h: "Полезно знать",
    oauth_only: "{name} не принимает пароли от почтовых программ, даже пароли приложений. Проверка, скорее всего, не пройдёт.",
    broken: "{name} не работает с обычными почтовыми программами.",
    try_anyway: "Всё равно попробовать",
    unticked: "Отметьте каждый шаг, когда выполните его.",
    password_h_app: "Вставьте пароль приложения",
    password_h: "Введите пароль",
    password_intro_app: "Нужен только что созданный пароль приложения, а не пароль, с которым вы входите в {name}. Для проверки он проходит через эту службу к почтовым серверам и не сохраняется.",
    password_intro: "Для проверки пароль проходит через эту службу к вашим почтовым серверам. Он нигде не сохраняется и не записывается.",
    app_password_label: "Пароль приложения",
    password_label: "Пароль",
    format_hint: "Как выглядит: {name}",
    show: "Показать пароль",
    hide: "Скрыть пароль",
    caps_on: "Включён Caps Lock.",
    no_password: "Введите пароль.",
    servers_h: "Почтовые серверы",
    servers_known: "Настройки для {name} уже заполнены. Меняйте их, только если об этом попросил ваш IT-отдел.",
    servers_unknown: "Проверьте имена серверов. Их можно узнать у IT-отдела или на страницах помощи почтового сервиса.",
    advanced: "Дополнительные настройки",
    incoming: "Входящая почта",
    outgoing: "Исходящая почта",
    protocol: "Протокол",
    imap_recommended: "IMAP (рекомендуется)",
    pop3: "POP3",
    pop_note: "POP3 загружает только папку «Входящие» и не синхронизирует папки и отметки о прочтении между устройствами. Выбирайте IMAP, если IT-отдел не просил иного.",
    imap_server: "Сервер IMAP",
    pop_server: "Сервер POP3",
    smtp_server: "Сервер SMTP",
    port: "Порт",
    security: "Шифрование",
    sec_tls: "SSL/TLS",
    sec_starttls: "STARTTLS",
    sec_none: "Нет (небезопасно)",
    username: "Имя пользователя",
    username_hint: "Обычно это полный адрес почты.",
    check: "Проверить подключение",
    test_h: "Проверяем подключение",
    test_intro: "Мы входим на серверы входящей и исходящей почты. Ничего не отправляется и не сохраняется.",
    checking: "Проверяем…",
    waiting: "Обычно это занимает несколько секунд.",
    elapsed: "{n} с",
    result_ok_h: "Почтовый ящик подключён",
    result_fail_h: "Подключиться не удалось",
    result_ok_intro: "Оба сервера приняли вход. Вот рабочие настройки:",
    side_ok: "Работает",
    side_failed: "Ошибка",
    side_skipped: "Не проверялось",
    fix_password: "Изменить пароль",
    fix_servers: "Изменить настройки серверов",
    fix_prepare: "Вернуться к подготовке",
    retry: "Попробовать снова",
    server_said: "Ответ сервера:",
    details: "Что мы проверили",
    done: "Готово",
    done_note: "Всё готово. Эту страницу можно закрыть.",
    copy_report: "Скопировать отчёт для IT",
    copied: "Отчёт скопирован. Вставьте его в письмо IT-отделу.",
    copy_failed: "Копирование здесь запрещено: выделите текст выше и скопируйте его.",
    report_label: "Отчёт для IT (пароля в нём нет)",
    network_error: "Не удалось связаться со службой проверки. Проверьте подключение к интернету и попробуйте снова.",
    step_loading: "Загружаем этот шаг…",
    step_unloaded: "Не удалось загрузить этот шаг. Проверьте подключение к интернету и попробуйте снова.",
    stream_broken: "Связь со службой проверки прервалась во время проверки, поэтому результат неизвестен. Мы не стали повторять проверку сами, чтобы не входить в ящик второй раз. Проверьте подключение к интернету и нажмите «Попробовать снова».",
    summary_email: "Адрес почты",
    summary_login: "Имя пользователя",
    cancelled: "Проверка отменена.",
    live_waiting: "Начинаем…",
    live_next: "Выполняется следующий шаг…",
    live_side_ok: "{side}: все шаги пройдены.",
    live_side_failed: "{side}: шаг «{step}» не удался.",
    progress: "Ход настройки",
    mark_done: "(пройдено)",
    mark_skipped: "(не требуется)",
    mark_failed: "(не удалось)",
    sr_ok: "Пройдено: ",
    sr_failed: "Не удалось: ",
    done_embed: "Всё готово. Проверенные настройки переданы в приложение — можно продолжать там.",
    typo_question: "Может быть, вы имели в виду {name}? Исправьте адрес или нажмите «Далее» ещё раз, чтобы оставить как есть.",
    password_refused: "Сервер не принял введённый пароль. Введите его снова — мы проверим его сразу после нажатия «Далее».",
    check_again: "Проверить снова",
    convert_layout: "Перевести в английскую раскладку",
    layout_before: "Набрано:",
    layout_after: "В английской раскладке:",
    layout_note: "В пароле есть русские буквы — возможно, клавиатура была в русской раскладке. Пароли приложений состоят только из латинских букв.",
    layout_converted: "Переведено в английскую раскладку.",
    same_as_incoming: "Тот же сервер, что для входящей",
    dns_provider_advice: "Имя сервера {name} взято из наших данных, а не введено вами, и сейчас его не удалось найти. Скорее всего, это временная проблема почтового сервиса или нашей службы — попробуйте ещё раз через несколько минут.",
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

/// The name of a check step, as users see it.
pub fn step_name(lang: Lang, step: StepKind) -> &'static str {
    use StepKind as S;
    match (lang, step) {
        (Lang::En, S::Resolve) => "Finding the server",
        (Lang::En, S::Connect) => "Connecting",
        (Lang::En, S::Tls) => "Secure connection (TLS)",
        (Lang::En, S::Greeting) => "Server greeting",
        (Lang::En, S::Ehlo) => "Introducing ourselves (EHLO)",
        (Lang::En, S::Starttls) => "Switching to encryption",
        (Lang::En, S::Capabilities) => "Server features",
        (Lang::En, S::Auth) => "Signing in",
        (Lang::En, S::Mailbox) => "Opening the inbox",
        (Lang::En, S::Sender) => "Checking the sender address",
        (Lang::En, S::Logout) => "Signing out",
        (Lang::Ru, S::Resolve) => "Поиск сервера",
        (Lang::Ru, S::Connect) => "Подключение",
        (Lang::Ru, S::Tls) => "Защищённое соединение (TLS)",
        (Lang::Ru, S::Greeting) => "Приветствие сервера",
        (Lang::Ru, S::Ehlo) => "Представление серверу (EHLO)",
        (Lang::Ru, S::Starttls) => "Включение шифрования",
        (Lang::Ru, S::Capabilities) => "Возможности сервера",
        (Lang::Ru, S::Auth) => "Вход",
        (Lang::Ru, S::Mailbox) => "Открытие папки «Входящие»",
        (Lang::Ru, S::Sender) => "Проверка адреса отправителя",
        (Lang::Ru, S::Logout) => "Выход",
    }
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
            with_name(EN.prepare_h, "Gmail"),
            "Prepare your Gmail account"
        );
    }
}

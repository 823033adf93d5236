//! Table tests of the diagnosis rules against real servers' replies, the texts of every
//! code in both languages, the data file's schema, and a property test.

use super::*;
use crate::api::{PrepStep, Text};
use proptest::prelude::*;

fn step(topic: StepTopic, title: &str, url: &str) -> PrepStep {
    PrepStep {
        topic,
        title: Text::new(title, format!("{title} (ru)")),
        body: Text::new("body", "текст"),
        url: Some(url.to_owned()),
    }
}

fn provider(id: &str, name: &str, status: ProviderStatus, steps: Vec<PrepStep>) -> Provider {
    Provider {
        id: id.to_owned(),
        name: name.to_owned(),
        domains: vec![format!("{id}.example")],
        mx: Vec::new(),
        servers: Vec::new(),
        status,
        status_note: None,
        steps,
        app_password: None,
        resets: Vec::new(),
        limits: Vec::new(),
        sources: vec!["https://example.com/".to_owned()],
        name_ru: None,
        ispdb_differs: None,
    }
}

fn gmail() -> Provider {
    provider(
        "gmail",
        "Gmail",
        ProviderStatus::NeedsPreparation,
        vec![
            step(
                StepTopic::EnableAccess,
                "Enable IMAP",
                "https://mail.google.com/mail/#settings/fwdandpop",
            ),
            step(
                StepTopic::TwoFactor,
                "Turn on 2-Step Verification",
                "https://myaccount.google.com/signinoptions/two-step-verification",
            ),
            step(
                StepTopic::AppPassword,
                "Create an app password",
                "https://myaccount.google.com/apppasswords",
            ),
        ],
    )
}

fn yandex() -> Provider {
    provider(
        "yandex",
        "Yandex Mail",
        ProviderStatus::NeedsPreparation,
        vec![
            step(
                StepTopic::EnableAccess,
                "Allow mail apps",
                "https://mail.yandex.ru/#setup/client",
            ),
            step(
                StepTopic::AppPassword,
                "Create an app password",
                "https://id.yandex.ru/security/app-passwords",
            ),
        ],
    )
}

fn outlook() -> Provider {
    let mut p = provider(
        "outlook",
        "Outlook.com",
        ProviderStatus::OauthOnly,
        Vec::new(),
    );
    p.status_note = Some(Text::new(
        "Since September 2024 Outlook.com accepts only OAuth sign-in.",
        "С сентября 2024 года Outlook.com принимает только вход через OAuth.",
    ));
    p
}

fn plain(id: &str, name: &str) -> Provider {
    provider(id, name, ProviderStatus::NeedsPreparation, Vec::new())
}

use DiagnosisCode as C;
use Protocol::{Imap, Pop3, Smtp};
use Stage::{Auth, Greeting, Mailbox, Starttls};

/// (provider id or "", protocol, stage, reply, expected code).
const TABLE: &[(&str, Protocol, Stage, &str, DiagnosisCode)] = &[
    // Gmail.
    (
        "gmail",
        Imap,
        Auth,
        "a1 NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)",
        C::AppPasswordRequired,
    ),
    (
        "gmail",
        Smtp,
        Auth,
        "534-5.7.9 Application-specific password required. Learn more at\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor d2sm1234567wrb.12 - gsmtp",
        C::AppPasswordRequired,
    ),
    (
        "gmail",
        Pop3,
        Auth,
        "-ERR [AUTH] Application-specific password required: https://support.google.com/accounts/answer/185833",
        C::AppPasswordRequired,
    ),
    (
        "gmail",
        Imap,
        Auth,
        "a1 NO [ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)",
        C::WebLoginRequired,
    ),
    (
        "gmail",
        Imap,
        Auth,
        "a1 NO [WEBALERT https://accounts.google.com/signin/continue?sarp=1&scc=1&plt=AKgnsbs] Web login required.",
        C::WebLoginRequired,
    ),
    (
        "gmail",
        Smtp,
        Auth,
        "534-5.7.14 <https://accounts.google.com/signin/continue?sarp=1&scc=1&plt=AKgnsbv> Please log in via your web browser and\n534-5.7.14 then try again.\n534-5.7.14  Learn more at\n534 5.7.14  https://support.google.com/mail/answer/78754 x2sm - gsmtp",
        C::WebLoginRequired,
    ),
    (
        "gmail",
        Imap,
        Auth,
        "a1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
        C::AuthFailed,
    ),
    (
        "gmail",
        Smtp,
        Auth,
        "535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1sm - gsmtp",
        C::AuthFailed,
    ),
    (
        "gmail",
        Imap,
        Auth,
        "a1 NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)",
        C::ProtocolDisabled,
    ),
    (
        "gmail",
        Pop3,
        Auth,
        "-ERR [SYS/PERM] Your account is not enabled for POP access. Please visit your Gmail settings page and enable your account for POP access.",
        C::ProtocolDisabled,
    ),
    (
        "gmail",
        Imap,
        Auth,
        "a1 NO [ALERT] Too many simultaneous connections. (Failure)",
        C::TooManyConnections,
    ),
    (
        "gmail",
        Imap,
        Auth,
        "a1 NO [ALERT] Account exceeded command or bandwidth limits. (Failure)",
        C::RateLimitedByServer,
    ),
    (
        "gmail",
        Smtp,
        Auth,
        "454-4.7.0 Too many login attempts, please try again later. For more information, go to\n454 4.7.0  https://support.google.com/mail/answer/7126229 - gsmtp",
        C::RateLimitedByServer,
    ),
    (
        "gmail",
        Smtp,
        Greeting,
        "421-4.7.0 Try again later, closing connection. (EHLO)",
        C::RateLimitedByServer,
    ),
    // Yandex.
    (
        "yandex",
        Imap,
        Auth,
        "a1 NO [AUTHENTICATIONFAILED] LOGIN invalid credentials or IMAP is disabled sc=abc",
        C::AuthFailed,
    ),
    (
        "",
        Imap,
        Auth,
        "a1 NO [AUTHENTICATIONFAILED] LOGIN invalid credentials or IMAP is disabled sc=abc",
        C::AuthFailed,
    ),
    (
        "yandex",
        Pop3,
        Auth,
        "-ERR [AUTH] login failure or POP3 disabled, try later. sc=xyz",
        C::AuthFailed,
    ),
    (
        "yandex",
        Smtp,
        Auth,
        "535 5.7.8 Error: authentication failed: This user does not have access rights to this service",
        C::ProtocolDisabled,
    ),
    (
        "yandex",
        Smtp,
        Auth,
        "535 5.7.8 Error: authentication failed: Invalid user or password!",
        C::AuthFailed,
    ),
    (
        "yandex",
        Imap,
        Auth,
        "a1 NO [UNAVAILABLE] LOGIN Sorry, we are unable to process your request right now; please try again later",
        C::RateLimitedByServer,
    ),
    // Mail.ru.
    (
        "mailru",
        Imap,
        Auth,
        "a1 NO [AUTHENTICATIONFAILED] Application password is REQUIRED",
        C::AppPasswordRequired,
    ),
    (
        "mailru",
        Smtp,
        Auth,
        "535 5.7.0 NEOBHODIM parol prilozheniya https://help.mail.ru/mail/security/protection/external / Application password is REQUIRED",
        C::AppPasswordRequired,
    ),
    (
        "mailru",
        Imap,
        Auth,
        "a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
        C::AuthFailed,
    ),
    // Microsoft.
    (
        "",
        Smtp,
        Auth,
        "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [BN9PR03CA0338.namprd03.prod.outlook.com 2024-09-17T10:00:00.000Z 08DCD5]",
        C::OauthRequired,
    ),
    (
        "",
        Smtp,
        Auth,
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
        C::ProtocolDisabled,
    ),
    (
        "",
        Smtp,
        Auth,
        "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. [AM0PR]",
        C::AuthFailed,
    ),
    (
        "",
        Smtp,
        Auth,
        "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
        C::OauthRequired,
    ),
    (
        "",
        Smtp,
        Auth,
        "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully.",
        C::OauthRequired,
    ),
    (
        "",
        Smtp,
        Auth,
        "535 5.7.3 Authentication unsuccessful [SN4PR0601CA0012.namprd06.prod.outlook.com]",
        C::AuthFailed,
    ),
    (
        "outlook",
        Smtp,
        Auth,
        "535 5.7.3 Authentication unsuccessful [SN4PR0601CA0012.namprd06.prod.outlook.com]",
        C::OauthRequired,
    ),
    (
        "outlook",
        Imap,
        Auth,
        "a1 NO AUTHENTICATE failed.",
        C::OauthRequired,
    ),
    ("", Imap, Auth, "a1 NO LOGIN failed.", C::AuthFailed),
    (
        "outlook",
        Imap,
        Mailbox,
        "a2 BAD User is authenticated but not connected.",
        C::OauthRequired,
    ),
    (
        "",
        Imap,
        Mailbox,
        "a2 BAD User is authenticated but not connected.",
        C::ProtocolDisabled,
    ),
    (
        "",
        Smtp,
        Greeting,
        "421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2.",
        C::TlsFailed,
    ),
    // Yahoo, AOL.
    (
        "yahoo",
        Imap,
        Auth,
        "a1 NO [AUTHENTICATIONFAILED] LOGIN Invalid credentials",
        C::AuthFailed,
    ),
    (
        "yahoo",
        Smtp,
        Auth,
        "535 5.7.0 (#AUTH005) Too many bad auth attempts.",
        C::RateLimitedByServer,
    ),
    (
        "yahoo",
        Imap,
        Auth,
        "a1 NO [ALERT] Please verify your account by going to https://login.yahoo.com (Failure)",
        C::WebLoginRequired,
    ),
    (
        "yahoo",
        Pop3,
        Auth,
        "-ERR [SYS/TEMP] Server error - Please try again later.",
        C::RateLimitedByServer,
    ),
    // iCloud.
    (
        "icloud",
        Imap,
        Auth,
        "a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
        C::AuthFailed,
    ),
    (
        "icloud",
        Smtp,
        Auth,
        "535 5.7.8 Error: authentication failed: bad user name or password",
        C::AuthFailed,
    ),
    // Dovecot (the project's own test servers) and Postfix.
    (
        "",
        Imap,
        Auth,
        "a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
        C::AuthFailed,
    ),
    (
        "",
        Pop3,
        Auth,
        "-ERR [AUTH] Authentication failed.",
        C::AuthFailed,
    ),
    (
        "",
        Smtp,
        Auth,
        "535 5.7.8 Authentication failed.",
        C::AuthFailed,
    ),
    (
        "",
        Imap,
        Auth,
        "a1 NO [CONTACTADMIN] Account disabled by test: log in via the web first (https://support.example.test/unlock)",
        C::AccountDisabled,
    ),
    (
        "",
        Pop3,
        Auth,
        "-ERR [AUTH] Account disabled by test: log in via the web first (https://support.example.test/unlock)",
        C::AccountDisabled,
    ),
    (
        "",
        Smtp,
        Auth,
        "525 5.7.13 Account disabled by test: log in via the web first (https://support.example.test/unlock)",
        C::AccountDisabled,
    ),
    (
        "",
        Imap,
        Auth,
        "a1 NO [CONTACTADMIN] IMAP access is disabled for this account. Enable it in Settings.",
        C::ProtocolDisabled,
    ),
    (
        "",
        Imap,
        Auth,
        "a1 NO [CONTACTADMIN] Your mailbox needs attention.",
        C::AccountDisabled,
    ),
    (
        "",
        Imap,
        Auth,
        "a1 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
        C::PlaintextRefused,
    ),
    (
        "",
        Pop3,
        Auth,
        "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
        C::PlaintextRefused,
    ),
    (
        "",
        Smtp,
        Auth,
        "523 5.7.10 Plaintext authentication disabled.",
        C::PlaintextRefused,
    ),
    (
        "",
        Smtp,
        Auth,
        "530 5.7.0 Must issue a STARTTLS command first",
        C::PlaintextRefused,
    ),
    (
        "",
        Imap,
        Auth,
        "a1 NO [UNAVAILABLE] Temporary authentication failure. [mail:2026-11-23 09:00:00]",
        C::RateLimitedByServer,
    ),
    (
        "",
        Imap,
        Auth,
        "* BYE Disconnected for inactivity.",
        C::ServerTimeout,
    ),
    (
        "",
        Imap,
        Greeting,
        "* BYE Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)",
        C::TooManyConnections,
    ),
    (
        "",
        Pop3,
        Mailbox,
        "-ERR [IN-USE] Couldn't open INBOX: Mailbox is locked",
        C::TooManyConnections,
    ),
    (
        "",
        Imap,
        Auth,
        "a1 NO [LIMIT] Too many logins",
        C::TooManyConnections,
    ),
    (
        "",
        Imap,
        Auth,
        "a1 NO [EXPIRED] Password expired",
        C::WebLoginRequired,
    ),
    (
        "",
        Smtp,
        Greeting,
        "421 4.7.0 mail.example.com Error: too many connections from 192.0.2.1",
        C::TooManyConnections,
    ),
    (
        "",
        Smtp,
        Auth,
        "454 4.7.0 Temporary authentication failure: Connection lost to authentication server",
        C::RateLimitedByServer,
    ),
    (
        "",
        Smtp,
        Auth,
        "421 4.3.2 Service not available",
        C::RateLimitedByServer,
    ),
    (
        "",
        Smtp,
        Auth,
        "503 5.5.1 Error: authentication not enabled",
        C::ProtocolError,
    ),
    (
        "",
        Smtp,
        Starttls,
        "454 4.7.0 TLS not available due to local problem",
        C::StarttlsUnavailable,
    ),
    (
        "",
        Imap,
        Starttls,
        "a1 BAD Unknown command STARTTLS",
        C::StarttlsUnavailable,
    ),
    (
        "",
        Pop3,
        Auth,
        "-ERR [SYS/PERM] Your account has been locked",
        C::AccountDisabled,
    ),
    (
        "",
        Smtp,
        Greeting,
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        C::ProtocolError,
    ),
    (
        "",
        Imap,
        Auth,
        "a1 NO [ALERT] Your account has been suspended",
        C::AccountDisabled,
    ),
    // Wrong protocols and ports.
    ("", Imap, Greeting, "+OK Dovecot ready.", C::WrongProtocol),
    (
        "",
        Imap,
        Greeting,
        "220 mx.example.com ESMTP Postfix",
        C::WrongProtocol,
    ),
    (
        "",
        Pop3,
        Greeting,
        "* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.",
        C::WrongProtocol,
    ),
    ("", Smtp, Greeting, "* OK IMAP4 ready", C::WrongProtocol),
    ("", Smtp, Greeting, "+OK POP3 ready", C::WrongProtocol),
    (
        "",
        Imap,
        Greeting,
        "SSH-2.0-OpenSSH_9.2p1 Debian-2",
        C::WrongProtocol,
    ),
    (
        "",
        Smtp,
        Greeting,
        "HTTP/1.1 400 Bad Request",
        C::WrongProtocol,
    ),
    (
        "",
        Imap,
        Greeting,
        "\u{15}\u{3}\u{1}\u{0}\u{2}\u{2}\u{a}",
        C::WrongProtocol,
    ),
    // Unknown words: the stage decides.
    ("", Imap, Auth, "a1 NO Computer says no", C::AuthFailed),
    ("", Smtp, Auth, "550 Nope", C::AuthFailed),
    ("", Imap, Greeting, "garbage \u{1}\u{2}", C::ProtocolError),
    (
        "",
        Smtp,
        Stage::Sender,
        "553 5.7.1 Sender address rejected: not owned by user",
        C::SenderRejected,
    ),
    (
        "",
        Smtp,
        Stage::Sender,
        "550 5.7.60 SMTP; Client does not have permissions to send as this sender",
        C::SenderRejected,
    ),
    (
        "",
        Smtp,
        Stage::Sender,
        "451 4.3.0 Temporary lookup failure",
        C::RateLimitedByServer,
    ),
];

fn providers() -> Vec<Provider> {
    vec![
        gmail(),
        yandex(),
        outlook(),
        plain("mailru", "Mail.ru"),
        plain("yahoo", "Yahoo Mail"),
        plain("icloud", "iCloud Mail"),
    ]
}

#[test]
fn real_replies_get_the_expected_codes() {
    let all = providers();
    assert!(TABLE.len() >= 30);
    let mut wrong = Vec::new();
    for (id, protocol, stage, reply, expected) in TABLE {
        let provider = all.iter().find(|p| p.id == *id);
        assert!(id.is_empty() || provider.is_some(), "no fixture for {id}");
        let ctx = ReplyContext {
            protocol: *protocol,
            stage: *stage,
            reply,
            provider,
        };
        let got = classify_reply(&ctx);
        if got != *expected {
            let rule = data()
                .rule
                .iter()
                .find(|r| r.matches(data(), &ctx, &Reply::new(reply)));
            wrong.push(format!(
                "{id:>7} {protocol:?} {stage:?} {reply:?}\n   expected {expected:?}, got {got:?} (rule {:?})",
                rule.map(|r| r.id.as_str())
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_data_file_passes_its_schema_check() {
    check_data().unwrap();
    assert!(!data().rule.is_empty());
}

#[test]
fn the_schema_rejects_unknown_keys_and_codes() {
    let good = r#"{"rule":[{"id":"a","code":"auth_failed","stage":["auth"]}]}"#;
    parse(good).unwrap();
    for bad in [
        r#"{"rule":[{"id":"a","code":"auth_failed","stage":["auth"],"txt":["x"]}]}"#,
        r#"{"rule":[{"id":"a","code":"no_such_code","stage":["auth"]}]}"#,
        r#"{"rule":[{"id":"a","code":"auth_failed","stage":["lunch"]}]}"#,
        r#"{"rules":[]}"#,
        r#"{"codes":{"no_such_code":{"message":[],"advice":[]}}}"#,
        r#"{"codes":{"auth_failed":{"message":[{"en":"a","ru":"б","de":"c"}],"advice":[]}}}"#,
        r#"{"codes":{"auth_failed":{"message":[],"advice":[],"link":[]}}}"#,
        r#"{"codes":{"auth_failed":{"message":[],"advice":[],"links":["nowhere"]}}}"#,
    ] {
        assert!(parse(bad).is_err(), "accepted {bad}");
    }
}

#[test]
fn the_schema_check_catches_inconsistent_data() {
    let full_codes = |extra: &str| {
        let codes: Vec<String> = DiagnosisCode::ALL
            .iter()
            .map(|c| {
                format!(
                    r#""{}":{{"message":[{{"en":"m","ru":"м"}}],"advice":[{extra}{{"en":"a","ru":"а"}}]}}"#,
                    c.as_str()
                )
            })
            .collect();
        codes.join(",")
    };
    let ok = format!(
        r#"{{"rule":[{{"id":"p","provider":["x"],"code":"auth_failed","text":["y"]}},{{"id":"g","code":"auth_failed","stage":["auth"]}}],"codes":{{{}}}}}"#,
        full_codes("")
    );
    parse(&ok).unwrap().validate().unwrap();
    let bad = [
        // A provider rule after a generic one.
        format!(
            r#"{{"rule":[{{"id":"g","code":"auth_failed","stage":["auth"]}},{{"id":"p","provider":["x"],"code":"auth_failed","text":["y"]}}],"codes":{{{}}}}}"#,
            full_codes("")
        ),
        // A rule that matches everything.
        format!(
            r#"{{"rule":[{{"id":"g","code":"auth_failed"}}],"codes":{{{}}}}}"#,
            full_codes("")
        ),
        // An unknown placeholder.
        format!(
            r#"{{"codes":{{{}}}}}"#,
            full_codes(r#"{"en":"{nope}","ru":"р"},"#)
        ),
        // A missing code.
        r#"{"codes":{"auth_failed":{"message":[{"en":"m","ru":"м"}],"advice":[{"en":"a","ru":"а"}]}}}"#.to_owned(),
        // A bad status pattern.
        format!(
            r#"{{"rule":[{{"id":"s","code":"auth_failed","status":["5.x.1"]}}],"codes":{{{}}}}}"#,
            full_codes("")
        ),
    ];
    for b in &bad {
        assert!(parse(b).unwrap().validate().is_err(), "accepted {b}");
    }
}

#[test]
fn every_code_is_explained_in_both_languages() {
    let with = providers();
    let mut subjects: Vec<Option<&Provider>> = vec![None];
    subjects.extend(with.iter().map(Some));
    for code in DiagnosisCode::ALL {
        for lang in [Lang::En, Lang::Ru] {
            for p in &subjects {
                let d = explain(code, lang, *p, None);
                assert_eq!(d.code, code);
                assert!(!d.message.is_empty(), "{code:?} {lang:?}");
                assert!(!d.advice.is_empty(), "{code:?} {lang:?}");
                assert!(!d.message.contains('{') && !d.advice.contains('{'));
                assert_ne!(d.message, code.as_str().replace('_', " "));
                if lang == Lang::Ru {
                    assert!(
                        d.message.chars().any(|c| ('а'..='я').contains(&c)),
                        "{code:?}: {}",
                        d.message
                    );
                }
            }
        }
    }
}

#[test]
fn app_password_advice_names_gmail_and_links_its_pages() {
    let g = gmail();
    let d = explain(C::AppPasswordRequired, Lang::En, Some(&g), Some("x".into()));
    assert!(
        d.message.starts_with("Gmail wants an app password"),
        "{}",
        d.message
    );
    assert!(
        d.advice
            .contains("https://myaccount.google.com/apppasswords")
    );
    assert!(d.advice.contains("two-step-verification"));
    let urls: Vec<&str> = d.links.iter().map(|l| l.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://myaccount.google.com/signinoptions/two-step-verification",
            "https://myaccount.google.com/apppasswords"
        ]
    );
    assert_eq!(d.links[1].title, "Create an app password");
    let ru = explain(C::AppPasswordRequired, Lang::Ru, Some(&g), None);
    assert!(ru.advice.contains("пароль приложения"));
    assert_eq!(ru.links[1].title, "Create an app password (ru)");
    // Without the provider's pages, a plain text, no links.
    let bare = explain(
        C::AppPasswordRequired,
        Lang::En,
        Some(&plain("x", "X Mail")),
        None,
    );
    assert!(bare.message.starts_with("X Mail wants"));
    assert!(!bare.advice.contains('{'));
    assert!(bare.links.is_empty());
}

#[test]
fn yandex_login_refusal_advice_covers_both_causes() {
    let y = yandex();
    let d = explain(C::AuthFailed, Lang::En, Some(&y), None);
    assert!(d.advice.contains("https://mail.yandex.ru/#setup/client"));
    assert!(
        d.advice
            .contains("https://id.yandex.ru/security/app-passwords")
    );
    assert_eq!(d.links.len(), 2);
    let ru = explain(C::AuthFailed, Lang::Ru, Some(&y), None);
    assert!(ru.message.contains("Яндекс"));
    let off = explain(C::ProtocolDisabled, Lang::En, Some(&y), None);
    assert!(off.advice.contains("https://mail.yandex.ru/#setup/client"));
}

#[test]
fn protocol_disabled_links_the_enable_access_page() {
    let g = gmail();
    let d = explain(C::ProtocolDisabled, Lang::En, Some(&g), None);
    assert!(
        d.advice
            .contains("https://mail.google.com/mail/#settings/fwdandpop")
    );
    assert_eq!(d.links.len(), 1);
    assert_eq!(
        d.links[0].url,
        "https://mail.google.com/mail/#settings/fwdandpop"
    );
}

#[test]
fn oauth_required_uses_the_providers_status_note() {
    let o = outlook();
    let d = explain(C::OauthRequired, Lang::En, Some(&o), None);
    assert!(d.advice.starts_with("Since September 2024"), "{}", d.advice);
    assert!(d.advice.contains("Outlook.com"));
    let ru = explain(C::OauthRequired, Lang::Ru, Some(&o), None);
    assert!(ru.advice.starts_with("С сентября 2024"));
    // No note: the general text.
    let d = explain(C::OauthRequired, Lang::En, Some(&plain("x", "X")), None);
    assert!(
        d.advice
            .starts_with("Use a mail app that signs in with OAuth")
    );
}

#[test]
fn server_reply_is_passed_on_cleaned_and_bounded() {
    let d = explain(
        C::AuthFailed,
        Lang::En,
        None,
        Some("  a1 NO [AUTH]\r\n bad\u{7}  ".into()),
    );
    assert_eq!(d.server_reply.as_deref(), Some("a1 NO [AUTH] \n bad"));
    let long = "x".repeat(10_000);
    let d = explain(C::AuthFailed, Lang::En, None, Some(long));
    assert_eq!(
        d.server_reply.unwrap().chars().count(),
        REPLY_SHOW_LIMIT + 1
    );
    assert_eq!(
        explain(C::AuthFailed, Lang::En, None, Some("  ".into())).server_reply,
        None
    );
    let d = diagnose(
        &ReplyContext {
            protocol: Imap,
            stage: Auth,
            reply: "a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
            provider: None,
        },
        Lang::Ru,
    );
    assert_eq!(d.code, C::AuthFailed);
    assert!(d.server_reply.unwrap().contains("AUTHENTICATIONFAILED"));
}

#[test]
fn reply_parts_are_found() {
    let r = Reply::new(
        "534-5.7.9 App password\n534 5.7.9 see 15.7.80 and 5.7.1234 and 1.2.3 x4.7.0\n[ALERT] [webalert http://x]",
    );
    assert_eq!(r.statuses, ["5.7.9", "5.7.9"]);
    assert_eq!(r.codes, ["534", "534"]);
    assert_eq!(r.brackets, ["ALERT", "WEBALERT"]);
    assert_eq!(Reply::new("421 4.3.2. end").statuses, ["4.3.2"]);
    assert_eq!(Reply::new("a1 NO [SYS/TEMP] x").brackets, ["SYS/TEMP"]);
    assert!(prefix_match("SYS/*", "SYS/TEMP"));
    assert!(prefix_match("4*", "421"));
    assert!(!prefix_match("4*", "521"));
    assert!(prefix_match("5.7.*", "5.7.139"));
    assert!(!prefix_match("5.7.1", "5.7.139"));
}

#[test]
fn glob_patterns() {
    assert!(glob("imap*disabled", "imap access is disabled"));
    assert!(!glob("imap*disabled", "disabled imap"));
    assert!(glob("^+ok", "+ok ready"));
    assert!(!glob("^+ok", " x +ok"));
    assert!(glob(r"^\* ok", "* ok imap"));
    assert!(!glob(r"^\* ok", "+ok"));
    assert!(glob("APP PASSWORD", "use an app password here"));
    assert!(glob("пароль*приложени", "нужен пароль для приложения"));
    assert!(glob("a**b", "ab"));
}

#[test]
fn stage_follows_step_kind() {
    assert_eq!(Stage::from(StepKind::Auth), Stage::Auth);
    assert_eq!(Stage::from(StepKind::Greeting), Stage::Greeting);
    assert_eq!(Stage::from(StepKind::Ehlo), Stage::Other);
}

fn any_protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![Just(Imap), Just(Pop3), Just(Smtp)]
}

fn any_stage() -> impl Strategy<Value = Stage> {
    prop_oneof![
        Just(Stage::Greeting),
        Just(Stage::Starttls),
        Just(Stage::Auth),
        Just(Stage::Mailbox),
        Just(Stage::Sender),
        Just(Stage::Other),
    ]
}

proptest! {
    #[test]
    fn classify_never_panics_and_ignores_letter_case(
        protocol in any_protocol(),
        stage in any_stage(),
        reply in "\\PC{0,300}|[\\[\\]0-9. a-zA-Z*^\\\\-]{0,80}",
        with_provider in 0usize..4,
    ) {
        let all = providers();
        let ctx = ReplyContext { protocol, stage, reply: &reply, provider: all.get(with_provider) };
        let code = classify_reply(&ctx);
        // Letter case never changes the verdict: every rule compares ASCII case-insensitively.
        let upper = reply.to_ascii_uppercase();
        let lower = reply.to_ascii_lowercase();
        prop_assert_eq!(classify_reply(&ReplyContext { reply: &upper, ..ctx }), code);
        prop_assert_eq!(classify_reply(&ReplyContext { reply: &lower, ..ctx }), code);
        let d = explain(code, Lang::Ru, ctx.provider, Some(reply.clone()));
        prop_assert!(!d.advice.is_empty());
    }

    #[test]
    fn a_reply_no_rule_knows_gets_the_catch_all_of_its_stage(
        protocol in any_protocol(),
        stage in any_stage(),
        reply in "[qxz ]{0,80}",
        with_provider in 0usize..8,
    ) {
        let all = providers();
        let provider = all.get(with_provider);
        let ctx = ReplyContext { protocol, stage, reply: &reply, provider };
        // The rules of diagnoses.toml that look at the stage (and provider) only, not at the
        // words: `starttls-refused`, `oauth-only-provider-login-refused` (outlook),
        // `auth-refused` and `anything-else`.
        let oauth_only = provider.is_some_and(|p| p.id == "outlook");
        let expected = match stage {
            Stage::Starttls => C::StarttlsUnavailable,
            Stage::Auth if oauth_only => C::OauthRequired,
            Stage::Auth => C::AuthFailed,
            _ => C::ProtocolError,
        };
        prop_assert_eq!(classify_reply(&ctx), expected);
    }

    #[test]
    fn glob_never_panics(pattern in "\\PC{0,20}", text in "\\PC{0,60}") {
        let _ = glob(&pattern, &text.to_lowercase());
    }

    #[test]
    fn huge_replies_are_cut_at_a_char_boundary(prefix in "\\PC{0,10}", n in 4000usize..4200) {
        let reply = format!("{prefix}{}", "я".repeat(n));
        let ctx = ReplyContext { protocol: Imap, stage: Auth, reply: &reply, provider: None };
        prop_assert_eq!(classify_reply(&ctx), C::AuthFailed);
    }
}

#[test]
fn the_built_in_providers_get_complete_explanations() {
    let registry = crate::providers::builtin();
    for p in registry.all() {
        for code in DiagnosisCode::ALL {
            for lang in [Lang::En, Lang::Ru] {
                let d = explain(code, lang, Some(p), None);
                assert!(
                    !d.message.is_empty() && !d.advice.is_empty(),
                    "{} {code:?}",
                    p.id
                );
                assert!(!d.advice.contains('{'), "{} {code:?}: {}", p.id, d.advice);
                assert!(d.links.iter().all(|l| l.url.starts_with("https://")));
            }
        }
    }
    let gmail = registry.by_id("gmail").unwrap();
    let d = explain(C::AppPasswordRequired, Lang::En, Some(gmail), None);
    assert!(
        d.advice
            .contains("https://myaccount.google.com/apppasswords"),
        "{}",
        d.advice
    );
    assert!(d.links.iter().any(|l| l.url.contains("two-step")));
    // Family members share their family's rules and texts.
    for (id, family) in &data().family {
        assert!(
            registry.by_id(id).is_some(),
            "family member {id} is no provider"
        );
        assert!(
            registry.by_id(family).is_some(),
            "family {family} is no provider"
        );
    }
    if let Some(y360) = registry.by_id("yandex360") {
        let ctx = ReplyContext {
            protocol: Imap,
            stage: Auth,
            reply: "a1 NO [AUTHENTICATIONFAILED] LOGIN invalid credentials or IMAP is disabled",
            provider: Some(y360),
        };
        let d = diagnose(&ctx, Lang::Ru);
        assert_eq!(d.code, C::AuthFailed);
        assert!(d.message.contains("Яндекс"), "{}", d.message);
    }
    let outlook = registry.by_id("outlook").unwrap();
    let d = explain(C::OauthRequired, Lang::En, Some(outlook), None);
    assert!(
        d.advice.starts_with("Microsoft ended password"),
        "{}",
        d.advice
    );
}

#[test]
fn every_code_has_its_own_english_and_russian_text() {
    let cyrillic = |s: &str| {
        s.chars()
            .any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap_or(c)))
    };
    for code in DiagnosisCode::ALL {
        let en = explain(code, Lang::En, None, None);
        let ru = explain(code, Lang::Ru, None, None);
        assert_eq!((en.code, ru.code), (code, code));
        for (en, ru) in [(&en.message, &ru.message), (&en.advice, &ru.advice)] {
            assert_ne!(en, ru, "{code:?}: the same text in both languages");
            assert!(
                !cyrillic(en),
                "{code:?}: Cyrillic in the English text: {en}"
            );
            assert!(
                cyrillic(ru),
                "{code:?}: no Cyrillic in the Russian text: {ru}"
            );
        }
    }
}

#[test]
fn provider_ids_in_rules_and_texts_exist() {
    let registry = crate::providers::builtin();
    let known = |id: &str| registry.by_id(id).is_some();
    for rule in &data().rule {
        for id in &rule.provider {
            assert!(known(id), "rule {} names unknown provider {id}", rule.id);
        }
    }
    for (code, texts) in &data().codes {
        for id in texts.provider.keys() {
            assert!(known(id), "{code:?} has texts for unknown provider {id}");
        }
    }
}

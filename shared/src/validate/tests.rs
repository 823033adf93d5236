//! Table tests for every validation rule, and property tests that no validator panics.

use proptest::prelude::*;

use super::*;
use crate::api::{AppPasswordFormat, Charset, Provider, ProviderStatus, Text};
use crate::email::{EmailAddress, suggest};
use crate::providers;

fn provider_with(format: Option<AppPasswordFormat>) -> Provider {
    Provider {
        id: "x".into(),
        name: "X".into(),
        domains: vec!["x.example".into()],
        mx: vec![],
        servers: vec![],
        status: ProviderStatus::NeedsPreparation,
        status_note: None,
        steps: vec![],
        app_password: format,
        resets: vec![],
        limits: vec![],
        sources: vec![],
        name_ru: None,
        ispdb_differs: None,
    }
}

fn gmail() -> &'static Provider {
    providers::builtin().by_id("gmail").unwrap()
}

fn yandex() -> &'static Provider {
    providers::builtin().by_id("yandex").unwrap()
}

#[test]
fn clean_password_table() {
    use PasteFix::*;
    let cases: &[(&str, &str, &[PasteFix])] = &[
        ("abcdefghijklmnop", "abcdefghijklmnop", &[]),
        (
            "abcd efgh ijkl mnop",
            "abcdefghijklmnop",
            &[RemovedGroupSpaces],
        ),
        (
            "abcd efgh ijkl mnop\n",
            "abcdefghijklmnop",
            &[TrimmedWhitespace, RemovedGroupSpaces],
        ),
        ("  secret  ", "secret", &[TrimmedWhitespace]),
        ("secret\r\n", "secret", &[TrimmedWhitespace]),
        ("sec\u{200B}ret", "secret", &[RemovedInvisible]),
        ("\u{FEFF}secret\u{00AD}", "secret", &[RemovedInvisible]),
        (
            "abcd\u{00A0}efgh\u{00A0}ijkl\u{00A0}mnop",
            "abcdefghijklmnop",
            &[NormalizedSpaces, RemovedGroupSpaces],
        ),
        (
            "secret\u{00A0}",
            "secret",
            &[NormalizedSpaces, TrimmedWhitespace],
        ),
        // A pass phrase with spaces is kept as it is.
        (
            "correct horse battery staple",
            "correct horse battery staple",
            &[],
        ),
        // iCloud's dashes are part of the password.
        ("abcd-efgh-ijkl-mnop", "abcd-efgh-ijkl-mnop", &[]),
        ("", "", &[]),
    ];
    for (input, value, changes) in cases {
        let c = clean_password(input);
        assert_eq!(c.value, *value, "{input:?}");
        assert_eq!(c.changes, *changes, "{input:?}");
    }
}

#[test]
fn clean_password_warnings_table() {
    let c = clean_password("");
    assert_eq!(c.warnings, vec![PasswordWarning::Empty]);
    let c = clean_password("ABCD EFGH IJKL MNOP");
    assert_eq!(c.value, "ABCDEFGHIJKLMNOP");
    assert_eq!(c.warnings, vec![PasswordWarning::CapsLock]);
    let c = clean_password("фыва");
    assert_eq!(
        c.warnings,
        vec![PasswordWarning::CyrillicLayout {
            guess: "asdf".into()
        }]
    );
    let c = clean_password("correct horse battery staple");
    assert_eq!(c.warnings, vec![PasswordWarning::InnerSpaces]);
    assert!(clean_password("Secret123").warnings.is_empty());
    // Short all-caps and digits-only passwords are not Caps Lock.
    assert!(clean_password("AB12").warnings.is_empty());
    assert!(clean_password("12345678").warnings.is_empty());
}

#[test]
fn check_app_password_table() {
    use PasswordWarning::*;
    let cases: Vec<(&str, &Provider, Vec<PasswordWarning>)> = vec![
        ("abcdefghijklmnop", gmail(), vec![]),
        ("abcd efgh ijkl mnop", gmail(), vec![]),
        ("ABCDEFGHIJKLMNOP", gmail(), vec![CapsLock]),
        (
            "abcdefghijklmno",
            gmail(),
            vec![WrongLength {
                expected: 16,
                actual: 15,
            }],
        ),
        (
            "abcdefghijklmnopq",
            gmail(),
            vec![WrongLength {
                expected: 16,
                actual: 17,
            }],
        ),
        ("MyDog2019!", gmail(), vec![LooksLikeAccountPassword]),
        (
            "password",
            yandex(),
            vec![WrongLength {
                expected: 16,
                actual: 8,
            }],
        ),
        ("Summer-2024", yandex(), vec![LooksLikeAccountPassword]),
        // Typed on the Russian layout: same keys give a valid app password.
        (
            "фисвуапршолдьтзй",
            yandex(),
            vec![CyrillicLayout {
                guess: "abcdefghijklmnpq".into(),
            }],
        ),
        ("", gmail(), vec![Empty]),
    ];
    for (input, p, want) in cases {
        assert_eq!(
            check_app_password(input, Some(p)),
            want,
            "{input:?} for {}",
            p.id
        );
    }
    // No provider, or no known format: only the generic checks.
    assert!(check_app_password("MyDog2019!", None).is_empty());
    assert_eq!(check_app_password("HELLOWORLD", None), vec![CapsLock]);
    assert!(check_app_password("MyDog2019!", Some(&provider_with(None))).is_empty());
    // A dash-grouped format (iCloud-like) ignores the dashes.
    let icloud = provider_with(Some(AppPasswordFormat {
        length: 16,
        charset: Charset::Lowercase,
        group: Some(4),
        hint: Text::new("x", "x"),
        confidence: None,
        source: None,
    }));
    assert!(check_app_password("abcd-efgh-ijkl-mnop", Some(&icloud)).is_empty());
    // An alphanumeric format accepts digits and capitals.
    let alnum = provider_with(Some(AppPasswordFormat {
        length: 8,
        charset: Charset::Alphanumeric,
        group: None,
        hint: Text::new("x", "x"),
        confidence: None,
        source: None,
    }));
    assert!(check_app_password("aB3dE6gH", Some(&alnum)).is_empty());
    assert_eq!(
        check_app_password("aB3d!6gH", Some(&alnum)),
        vec![LooksLikeAccountPassword]
    );
}

#[test]
fn keyboard_layout_guess() {
    assert_eq!(russian_to_us_layout("йцукен"), "qwerty");
    assert_eq!(russian_to_us_layout("ЙЦУКЕН123"), "QWERTY123");
    assert_eq!(russian_to_us_layout("хъжэбюё"), "[];',.`");
}

#[test]
fn password_debug_hides_the_value() {
    let c = clean_password("фыва secret");
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("secret") && !dbg.contains("asdf"), "{dbg}");
}

#[test]
fn validate_host_table() {
    use FieldError::*;
    let ok = [
        ("imap.gmail.com", "imap.gmail.com"),
        ("  IMAP.Gmail.COM.  ", "imap.gmail.com"),
        ("localhost", "localhost"),
        ("mail-1.example.org", "mail-1.example.org"),
        ("почта.пример.рф", "xn--80a1acny.xn--e1afmkfd.xn--p1ai"),
        ("192.0.2.1", "192.0.2.1"),
        ("::1", "::1"),
        ("[2001:db8::1]", "2001:db8::1"),
    ];
    for (input, want) in ok {
        assert_eq!(validate_host(input).as_deref(), Ok(want), "{input}");
    }
    let long_label = format!("{}.com", "a".repeat(64));
    let long_name = vec!["a".repeat(60); 5].join(".");
    let bad: Vec<(&str, FieldError)> = vec![
        ("", Empty),
        ("   ", Empty),
        ("imap://imap.gmail.com", HasScheme),
        ("imap.gmail.com:993", HasPort),
        ("[2001:db8::1]:993", HasPort),
        ("imap.gmail.com/inbox", HasPath),
        ("alice@gmail.com", LooksLikeEmail),
        ("imap gmail.com", Whitespace),
        ("imap_gmail.com", InvalidChar('_')),
        ("imap..gmail.com", EmptyLabel),
        (".gmail.com", EmptyLabel),
        (&long_label, LabelTooLong),
        (&long_name, TooLong),
        ("-imap.gmail.com", LabelHyphen),
        ("imap-.gmail.com", LabelHyphen),
        ("300.1.1.1", InvalidIp),
        ("1.2.3", InvalidIp),
        ("[::zz]", InvalidIp),
        ("a:b:c", InvalidChar(':')),
    ];
    for (input, want) in bad {
        assert_eq!(validate_host(input), Err(want.clone()), "{input}");
        assert!(!want.message(Lang::Ru).is_empty());
    }
}

#[test]
fn hosts_in_unicode_and_punycode_are_the_same_host() {
    let want = ("imap.xn--e1afmkfd.xn--p1ai", "imap.пример.рф");
    for input in [
        "imap.пример.рф",
        "IMAP.ПРИМЕР.РФ",
        "imap.xn--e1afmkfd.xn--p1ai",
        " IMAP.XN--E1AFMKFD.XN--P1AI. ",
        "imap\u{3002}пример\u{3002}рф",
    ] {
        let host = parse_host(input).unwrap_or_else(|e| panic!("{input}: {e:?}"));
        assert_eq!((host.ascii(), host.unicode()), want, "{input}");
        assert!(!host.is_ip());
    }
    let plain = parse_host("Mail.Example.COM").unwrap();
    assert_eq!(
        (plain.ascii(), plain.unicode()),
        ("mail.example.com", "mail.example.com")
    );
    for (input, want) in [("[::1]", "::1"), ("::1", "::1"), ("192.0.2.1", "192.0.2.1")] {
        let host = parse_host(input).unwrap();
        assert_eq!((host.ascii(), host.unicode()), (want, want), "{input}");
        assert!(host.is_ip());
    }
}

#[test]
fn punycode_that_does_not_decode_is_refused() {
    for input in [
        "xn--zz.example.com",
        "imap.xn--.com",
        "xn--abc-.com",
        "xn--0.ru",
    ] {
        assert_eq!(parse_host(input), Err(FieldError::InvalidIdn), "{input}");
        assert_eq!(validate_host(input), Err(FieldError::InvalidIdn), "{input}");
    }
}

#[test]
fn email_domains_and_hosts_follow_the_same_rules() {
    for domain in [
        "пример.рф",
        "xn--e1afmkfd.xn--p1ai",
        "Example.COM",
        "mail-1.example.org",
        "xn--zz.example.com",
        "bad_name.com",
        "-bad.com",
        "a..b.com",
        "xn--abc-.com",
    ] {
        let email = EmailAddress::parse(&format!("anna@{domain}"));
        let host = parse_host(domain);
        assert_eq!(
            email.is_ok(),
            host.is_ok(),
            "{domain}: {email:?} vs {host:?}"
        );
        if let (Ok(email), Ok(host)) = (email, host) {
            assert_eq!(email.domain(), host.ascii());
            assert_eq!(email.domain_unicode(), host.unicode());
        }
    }
}

#[test]
fn validate_port_and_security_table() {
    assert_eq!(validate_port("993"), Ok(993));
    assert_eq!(validate_port(" 587 "), Ok(587));
    assert_eq!(validate_port(String::from("1")), Ok(1));
    let typed = String::from("65535");
    assert_eq!(validate_port(&typed), Ok(65535));
    assert_eq!(validate_port(typed), Ok(65535));
    assert_eq!(validate_port(465u16), Ok(465));
    assert_eq!(validate_port(""), Err(FieldError::Empty));
    assert_eq!(validate_port("0"), Err(FieldError::PortOutOfRange));
    assert_eq!(validate_port(0u16), Err(FieldError::PortOutOfRange));
    assert_eq!(validate_port("65536"), Err(FieldError::PortOutOfRange));
    assert_eq!(
        validate_port("99999999999999"),
        Err(FieldError::PortOutOfRange)
    );
    assert_eq!(validate_port("-1"), Err(FieldError::PortNotNumber));
    assert_eq!(validate_port("99a"), Err(FieldError::PortNotNumber));
    assert_eq!(parse_security("SSL/TLS"), Ok(Security::Tls));
    assert_eq!(parse_security("tls"), Ok(Security::Tls));
    assert_eq!(parse_security("StartTLS"), Ok(Security::Starttls));
    assert_eq!(parse_security("none"), Ok(Security::None));
    assert_eq!(parse_security(""), Err(FieldError::Empty));
    assert_eq!(parse_security("maybe"), Err(FieldError::UnknownSecurity));
}

#[test]
fn server_warnings_table() {
    use Protocol::*;
    use Security::{None as Plain, Starttls, Tls};
    use ServerWarning::*;
    let cases: Vec<(Protocol, &str, u16, Security, Vec<ServerWarning>)> = vec![
        (Imap, "imap.gmail.com", 993, Tls, vec![]),
        (Smtp, "smtp.gmail.com", 465, Tls, vec![]),
        (Smtp, "smtp.gmail.com", 587, Starttls, vec![]),
        (Pop3, "pop.gmail.com", 995, Tls, vec![]),
        (
            Smtp,
            "smtp.gmail.com",
            465,
            Starttls,
            vec![StarttlsOnImplicitTlsPort { port: 465 }],
        ),
        (
            Imap,
            "imap.gmail.com",
            993,
            Starttls,
            vec![StarttlsOnImplicitTlsPort { port: 993 }],
        ),
        (
            Smtp,
            "smtp.gmail.com",
            587,
            Tls,
            vec![TlsOnStarttlsPort { port: 587 }],
        ),
        (
            Imap,
            "imap.gmail.com",
            143,
            Tls,
            vec![TlsOnStarttlsPort { port: 143 }],
        ),
        (
            Imap,
            "imap.gmail.com",
            143,
            Plain,
            vec![PlaintextOnPublicHost],
        ),
        (Imap, "127.0.0.1", 143, Plain, vec![]),
        (Imap, "192.168.1.10", 143, Plain, vec![]),
        (Imap, "mail.lan", 143, Plain, vec![]),
        (Imap, "localhost", 143, Plain, vec![]),
        (Imap, "[::1]", 143, Plain, vec![]),
        (
            Imap,
            "imap.gmail.com",
            465,
            Tls,
            vec![PortOfOtherProtocol {
                port: 465,
                other: Smtp,
            }],
        ),
        (
            Smtp,
            "smtp.gmail.com",
            993,
            Tls,
            vec![PortOfOtherProtocol {
                port: 993,
                other: Imap,
            }],
        ),
        (
            Pop3,
            "pop.gmail.com",
            993,
            Tls,
            vec![PortOfOtherProtocol {
                port: 993,
                other: Imap,
            }],
        ),
        (Smtp, "smtp.example.com", 25, Starttls, vec![SmtpPort25]),
        (Imap, "imap.example.com", 10993, Tls, vec![]),
    ];
    for (proto, host, port, sec, want) in cases {
        let got = server_warnings(proto, host, port, sec);
        assert_eq!(got, want, "{proto:?} {host}:{port} {sec:?}");
        for w in got {
            assert_ne!(w.message(Lang::En), w.message(Lang::Ru));
        }
    }
}

#[test]
fn codes_are_stable_snake_case_and_messages_differ_by_language() {
    let is_snake = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    let fixes = [
        PasteFix::TrimmedWhitespace,
        PasteFix::RemovedInvisible,
        PasteFix::NormalizedSpaces,
        PasteFix::RemovedGroupSpaces,
    ];
    for f in fixes {
        assert!(is_snake(f.code()));
        assert_ne!(f.message(Lang::En), f.message(Lang::Ru));
    }
    let warnings = [
        PasswordWarning::Empty,
        PasswordWarning::CapsLock,
        PasswordWarning::CyrillicLayout { guess: "x".into() },
        PasswordWarning::LooksLikeAccountPassword,
        PasswordWarning::WrongLength {
            expected: 16,
            actual: 3,
        },
        PasswordWarning::InnerSpaces,
    ];
    for w in &warnings {
        assert!(is_snake(w.code()));
        assert_ne!(w.message(Lang::En), w.message(Lang::Ru));
    }
    assert_eq!(PasswordWarning::CapsLock.code(), "caps_lock");
    assert_eq!(ServerWarning::SmtpPort25.code(), "smtp_port_25");
    assert_eq!(FieldError::HasPort.code(), "has_port");
}

proptest! {
    #[test]
    fn no_validator_panics(s in any::<String>(), n in any::<u16>()) {
        let _ = EmailAddress::parse(&s);
        let _ = suggest(&s);
        let _ = clean_password(&s);
        let _ = check_app_password(&s, Some(gmail()));
        let _ = check_app_password(&s, Some(yandex()));
        let _ = check_app_password(&s, None);
        let _ = validate_host(&s);
        let _ = validate_port(s.as_str());
        let _ = validate_port(n);
        let _ = parse_security(&s);
        let _ = russian_to_us_layout(&s);
        let _ = providers::builtin().by_domain(&s);
        let _ = providers::builtin().by_mx_host(&s);
        for p in [Protocol::Imap, Protocol::Pop3, Protocol::Smtp] {
            for sec in [Security::Tls, Security::Starttls, Security::None] {
                let _ = server_warnings(p, &s, n, sec);
            }
        }
    }

    #[test]
    fn email_like_inputs_never_panic(
        local in "[a-zA-Z0-9.+_@\\-\u{0430}-\u{044f} ]{0,70}",
        domain in "[a-zA-Z0-9.\\-\u{0430}-\u{044f}\u{200b}\\[\\]:]{0,80}",
    ) {
        let input = format!("{local}@{domain}");
        if let Ok(e) = EmailAddress::parse(&input) {
            prop_assert!(e.as_str().is_ascii());
            prop_assert_eq!(e.as_str(), format!("{}@{}", e.local(), e.domain()));
            prop_assert_eq!(e.domain(), e.domain().to_ascii_lowercase());
        }
        let _ = suggest(&input);
        let _ = validate_host(&domain);
    }

    #[test]
    fn cleaning_is_idempotent_for_the_value(s in "[a-z \u{00a0}\u{200b}\n]{0,40}") {
        let once = clean_password(&s);
        let twice = clean_password(&once.value);
        prop_assert_eq!(twice.value, once.value);
    }

    #[test]
    fn valid_hosts_round_trip(h in "[a-z0-9]{1,10}(\\.[a-z0-9]{1,10}){0,3}\\.[a-z]{2,6}") {
        prop_assert_eq!(validate_host(&h), Ok(h.clone()));
    }
}

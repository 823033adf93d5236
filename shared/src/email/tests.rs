//! Tests of `email`.
use super::*;

#[test]
fn valid_addresses_parse_and_normalize() {
    let cases = [
        (
            "alice@gmail.com",
            "alice@gmail.com",
            "alice",
            "gmail.com",
            "gmail.com",
        ),
        (
            "  Alice.Smith@GMail.COM \n",
            "Alice.Smith@gmail.com",
            "Alice.Smith",
            "gmail.com",
            "gmail.com",
        ),
        ("mailto:bob@ya.ru", "bob@ya.ru", "bob", "ya.ru", "ya.ru"),
        (
            "a+tag@mail.ru.",
            "a+tag@mail.ru",
            "a+tag",
            "mail.ru",
            "mail.ru",
        ),
        ("\u{200B}x@bk.ru\u{FEFF}", "x@bk.ru", "x", "bk.ru", "bk.ru"),
        (
            "ivan@Пример.РФ",
            "ivan@xn--e1afmkfd.xn--p1ai",
            "ivan",
            "xn--e1afmkfd.xn--p1ai",
            "пример.рф",
        ),
        (
            "o'hara_1-2!#$%&*/=?^`{|}~@x.example",
            "o'hara_1-2!#$%&*/=?^`{|}~@x.example",
            "o'hara_1-2!#$%&*/=?^`{|}~",
            "x.example",
            "x.example",
        ),
        (
            "user@xn--e1afmkfd.xn--p1ai",
            "user@xn--e1afmkfd.xn--p1ai",
            "user",
            "xn--e1afmkfd.xn--p1ai",
            "пример.рф",
        ),
    ];
    for (input, full, local, domain, unicode) in cases {
        let e = EmailAddress::parse(input).unwrap_or_else(|e| panic!("{input}: {e:?}"));
        assert_eq!(e.as_str(), full, "{input}");
        assert_eq!(e.local(), local, "{input}");
        assert_eq!(e.domain(), domain, "{input}");
        assert_eq!(e.domain_unicode(), unicode, "{input}");
    }
}

#[test]
fn every_error_has_a_case() {
    let long_local = format!("{}@x.com", "a".repeat(65));
    let long_all = format!(
        "{}@{}.com",
        "a".repeat(60),
        vec!["b".repeat(50); 4].join(".")
    );
    let cases: Vec<(&str, EmailError)> = vec![
        ("", EmailError::Empty),
        ("   ", EmailError::Empty),
        ("alice.gmail.com", EmailError::MissingAt),
        ("a@b@gmail.com", EmailError::MultipleAt),
        ("@gmail.com", EmailError::EmptyLocal),
        ("alice@", EmailError::EmptyDomain),
        ("alice smith@gmail.com", EmailError::Whitespace),
        (&long_all, EmailError::TooLong),
        (&long_local, EmailError::LocalTooLong),
        ("al(ice)@gmail.com", EmailError::InvalidLocalChar('(')),
        ("\"a\"@gmail.com", EmailError::InvalidLocalChar('"')),
        ("фдшсу@gmail.com", EmailError::NonAsciiLocal),
        (".alice@gmail.com", EmailError::LocalDots),
        ("alice.@gmail.com", EmailError::LocalDots),
        ("al..ice@gmail.com", EmailError::LocalDots),
        ("alice@gmail", EmailError::DomainWithoutDot),
        ("alice@[127.0.0.1]", EmailError::IpLiteral),
        ("alice@10.0.0.1", EmailError::IpLiteral),
        ("alice@gmail..com", EmailError::InvalidDomain),
        ("alice@-gmail.com", EmailError::InvalidDomain),
        ("alice@gm_ail.com", EmailError::InvalidDomain),
        ("alice@example.123", EmailError::InvalidDomain),
    ];
    for (input, want) in cases {
        assert_eq!(EmailAddress::parse(input), Err(want.clone()), "{input}");
        assert!(want.code().starts_with("email_"));
        assert!(!want.message(Lang::En).is_empty());
        assert_ne!(want.message(Lang::En), want.message(Lang::Ru));
    }
}

#[test]
fn typos_get_suggestions() {
    let cases = [
        ("alice@gmial.com", Some("alice@gmail.com")),
        ("alice@gmal.com", Some("alice@gmail.com")),
        ("alice@gmail.co", Some("alice@gmail.com")),
        ("alice@gmail.con", Some("alice@gmail.com")),
        ("alice@GMIAL.COM", Some("alice@gmail.com")),
        ("ivan@yandex.ri", Some("ivan@yandex.ru")),
        ("ivan@yandx.ru", Some("ivan@yandex.ru")),
        ("ivan@mail.ri", Some("ivan@mail.ru")),
        ("ivan@ya.ri", Some("ivan@ya.ru")),
        ("bob@outlok.com", Some("bob@outlook.com")),
        ("bob@hotmal.com", Some("bob@hotmail.com")),
        ("bob@iclod.com", Some("bob@icloud.com")),
        ("bob@yaho.com", Some("bob@yahoo.com")),
        ("gmial.com", Some("gmail.com")),
        ("anna@yandex.ry", Some("anna@yandex.ru")),
        // A typo in the ending of any domain.
        ("bob@example.con", Some("bob@example.com")),
        ("bob@example.cmo", Some("bob@example.com")),
        ("bob@firma.ry", Some("bob@firma.ru")),
        ("bob@example.ogr", Some("bob@example.org")),
        ("bob@example.nte", Some("bob@example.net")),
        // Real endings close to common ones are left alone.
        ("bob@example.co", None),
        ("bob@example.cm", None),
        ("bob@example.rs", None),
        ("bob@example.dev", None),
        ("bob@firma.de", None),
        // Known domains and far-away ones get nothing.
        ("alice@gmail.com", None),
        ("alice@googlemail.com", None),
        ("ivan@ya.ru", None),
        ("ivan@bk.ru", None),
        ("ivan@mk.ru", None),
        ("ceo@acme-industries.com", None),
        ("a@example.org", None),
        ("", None),
        ("@", None),
    ];
    for (input, want) in cases {
        assert_eq!(suggest(input).as_deref(), want, "{input}");
    }
}

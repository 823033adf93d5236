//! Table tests of the knowledge base: the data file, lookups, the schema check and
//! operator files.

use super::*;
use crate::api::{
    Charset, DiagnosisCode, Protocol, ProviderStatus, Security, StepTopic, UsernameForm,
};

#[test]
fn builtin_json_parses_and_is_not_empty() {
    assert!(builtin().all().len() >= 2);
    assert_eq!(builtin().all()[0].id, "gmail");
    assert_eq!(builtin().all()[1].id, "yandex");
}

#[test]
fn the_data_file_passes_the_schema_check() {
    let text = include_str!("../../data/providers.toml");
    let file: schema::RawFile = toml::from_str(text).unwrap();
    let errors = schema::check_providers(&file.provider, schema::DataOrigin::Builtin);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(file.provider.len(), builtin().all().len());
}

#[test]
fn lookups_by_domain_are_case_insensitive_and_tolerate_a_trailing_dot() {
    let r = builtin();
    assert_eq!(r.by_domain("gmail.com").unwrap().id, "gmail");
    assert_eq!(r.by_domain("GoogleMail.COM.").unwrap().id, "gmail");
    assert_eq!(r.by_domain(" ya.ru ").unwrap().id, "yandex");
    assert!(r.by_domain("example.org").is_none());
    assert!(r.by_domain("").is_none());
    assert!(r.by_domain("..").is_none());
}

#[test]
fn every_domain_and_mx_pattern_of_every_provider_finds_it() {
    let r = builtin();
    for p in r.all() {
        for d in &p.domains {
            let probe = if let Some(suffix) = d.strip_prefix("*.") {
                format!("tenant.{suffix}")
            } else if let Some(label) = d.strip_suffix(".*") {
                // A public suffix under which no provider lists the label exactly.
                suffix::SECOND_LEVEL
                    .iter()
                    .map(|s| format!("{label}.{s}"))
                    .find(|name| r.exact_domains().all(|e| e != name))
                    .unwrap()
            } else {
                d.to_uppercase()
            };
            assert_eq!(r.by_domain(&probe).map(|x| &x.id), Some(&p.id), "{probe}");
        }
        for m in &p.mx {
            let probe = match m.strip_prefix("*.") {
                Some(suffix) => format!("mx1.{suffix}."),
                None => format!("{m}."),
            };
            assert_eq!(r.by_mx_host(&probe).map(|x| &x.id), Some(&p.id), "{probe}");
        }
    }
}

#[test]
fn lookup_table() {
    let r = builtin();
    let domains = [
        ("gmail.com", "gmail"),
        ("GoogleMail.com", "gmail"),
        ("yandex.kz", "yandex"),
        ("ya.ru", "yandex"),
        ("narod.ru", "yandex"),
        ("hotmail.co.uk", "outlook"),
        ("live.ru", "outlook"),
        ("msn.com", "outlook"),
        ("yahoo.co.uk", "yahoo"),
        ("ymail.com", "yahoo"),
        ("yahoo.co.jp", "yahoo_japan"),
        ("me.com", "icloud"),
        ("mac.com", "icloud"),
        ("bk.ru", "mailru"),
        ("internet.ru", "mailru"),
        ("lenta.ru", "rambler"),
        ("ro.ru", "rambler"),
        ("gmx.de", "gmx_de"),
        ("gmx.com", "gmx_com"),
        ("web.de", "webde"),
        ("pm.me", "proton"),
        ("foxmail.com", "qq"),
        ("126.com", "netease126"),
        ("t-online.de", "tonline"),
        ("contoso.onmicrosoft.com", "microsoft365"),
    ];
    for (d, id) in domains {
        assert_eq!(r.by_domain(d).map(|p| p.id.as_str()), Some(id), "{d}");
    }
    let mx = [
        ("aspmx.l.google.com.", "google_workspace"),
        ("alt1.aspmx.l.google.com", "google_workspace"),
        ("smtp.google.com", "google_workspace"),
        ("contoso-com.mail.protection.outlook.com", "microsoft365"),
        ("mx.yandex.net.", "yandex360"),
        ("emx.mail.ru", "vk_workmail"),
        ("mx.zoho.com", "zoho"),
        ("mx.zoho.eu", "zoho_eu"),
        ("in1-smtp.messagingengine.com", "fastmail"),
        ("mail.protonmail.ch", "proton"),
        ("mx01.mail.icloud.com", "icloud"),
    ];
    for (h, id) in mx {
        assert_eq!(r.by_mx_host(h).map(|p| p.id.as_str()), Some(id), "{h}");
    }
    assert!(r.by_mx_host("mx.example.com").is_none());
    assert!(r.by_mx_host("google.com").is_none());
}

#[test]
fn coverage_and_honest_statuses() {
    let r = builtin();
    assert!(r.all().len() >= 30, "{}", r.all().len());
    assert_eq!(
        r.by_id("outlook").unwrap().status,
        ProviderStatus::OauthOnly
    );
    assert_eq!(r.by_id("proton").unwrap().status, ProviderStatus::Broken);
    let gmail = r.by_id("gmail").unwrap();
    assert_eq!(gmail.app_password.as_ref().unwrap().length, 16);
    assert!(
        gmail
            .limits
            .iter()
            .any(|l| l.en.contains("2500 MB") && l.en.contains("500 MB"))
    );
    assert_eq!(r.by_id("yandex").unwrap().resets.len(), 4);
    for p in r.all() {
        assert!(!p.sources.is_empty(), "{}", p.id);
    }
}

/// A minimal valid provider in TOML, to break one rule at a time.
const GOOD: &str = r#"
[[provider]]
id = "x"
name = "X"
domains = ["x.example"]
status = "needs_preparation"
status_note = { en = "e", ru = "р" }
sources = ["https://x.example/help"]
servers = [
  { protocol = "imap", host = "imap.x.example", port = 993, security = "tls" },
  { protocol = "smtp", host = "smtp.x.example", port = 465, security = "tls" },
]
[[provider.steps]]
topic = "app_password"
url = "https://x.example/settings#apps"
title = { en = "t", ru = "т" }
body = { en = "b", ru = "б" }
"#;

fn schema_errors(toml_text: &str) -> Vec<String> {
    match toml::from_str::<schema::RawFile>(toml_text) {
        Ok(f) => schema::check_providers(&f.provider, schema::DataOrigin::Builtin),
        Err(e) => vec![e.to_string()],
    }
}

#[test]
fn schema_check_rejects_each_broken_rule() {
    assert!(schema_errors(GOOD).is_empty(), "{:?}", schema_errors(GOOD));
    let twice = format!("{GOOD}{}", GOOD.replace("id = \"x\"", "id = \"y\""));
    let cases = [
        (
            GOOD.replace("name = \"X\"", "name = \"X\"\ncolour = \"red\""),
            "unknown field",
        ),
        (
            GOOD.replace("sources = [\"https://x.example/help\"]", "sources = []"),
            "no source",
        ),
        (
            GOOD.replace("https://x.example/help", "http://x.example/help"),
            "not a valid https URL",
        ),
        (
            GOOD.replace("https://x.example/help", "https://x example/help"),
            "not a valid https URL",
        ),
        (
            GOOD.replace("https://x.example/settings#apps", "https://x.example/a b"),
            "step 1 url",
        ),
        (
            GOOD.replace("ru = \"б\"", "ru = \"\""),
            "Russian text is empty",
        ),
        (
            GOOD.replace("en = \"t\"", "en = \" \""),
            "English text is empty",
        ),
        (
            GOOD.replace("[\"x.example\"]", "[\"X.example\"]"),
            "not a lowercase ASCII domain",
        ),
        (
            GOOD.replace("[\"x.example\"]", "[\"x_y.example\"]"),
            "not a lowercase ASCII domain",
        ),
        (
            GOOD.replace("status_note = { en = \"e\", ru = \"р\" }\n", ""),
            "needs a status_note",
        ),
        (
            GOOD.replace(
                "security = \"tls\" },\n  { protocol = \"smtp\"",
                "security = \"tls\" },\n  { protocol = \"smpt\"",
            ),
            "unknown variant",
        ),
        (GOOD.replace("port = 993", "port = 0"), "port 0"),
        (
            GOOD.replace("\"smtp\", host", "\"imap\", host"),
            "no SMTP server",
        ),
        (
            GOOD.replace("topic = \"app_password\"", "topic = \"app_pasword\""),
            "unknown variant",
        ),
        (twice.clone(), "already claimed"),
        (
            format!("{GOOD}{}", GOOD.replace("x.example\"]", "z.example\"]")),
            "used twice",
        ),
    ];
    for (text, want) in cases {
        let errors = schema_errors(&text);
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "want {want:?}, got {errors:?}"
        );
    }
}

fn extra(id: &str, domains: &[&str], mx: &[&str]) -> String {
    format!(
        r#"[{{"id":"{id}","name":"X","domains":{},"mx":{},"status":"broken",
            "status_note":{{"en":"e","ru":"р"}},"sources":["https://example.com/help"]}}]"#,
        serde_json::to_string(domains).unwrap(),
        serde_json::to_string(mx).unwrap()
    )
}

#[test]
fn operator_providers_win_and_suffix_patterns_match_subdomains_only() {
    let json = extra(
        "corp",
        &["gmail.com", "*.corp.example", "xn--e1afmkfd.xn--p1ai"],
        &["*.mx.corp.example"],
    );
    let added = Registry::from_json(&json).unwrap();
    let r = Registry::builtin().with_extra(added.all().to_vec());
    assert_eq!(r.by_domain("gmail.com").unwrap().id, "corp");
    assert_eq!(r.by_domain("googlemail.com").unwrap().id, "gmail");
    assert_eq!(r.by_domain("a.b.corp.example").unwrap().id, "corp");
    assert!(r.by_domain("corp.example").is_none());
    assert!(r.by_domain("xcorp.example").is_none());
    assert_eq!(r.by_domain("ПРИМЕР.РФ").unwrap().id, "corp");
    assert_eq!(r.by_mx_host("mx1.mx.corp.example.").unwrap().id, "corp");
    assert_eq!(r.by_id("corp").unwrap().status, ProviderStatus::Broken);
}

#[test]
fn operator_files_are_schema_checked() {
    assert!(Registry::from_json("not json").is_err());
    // Unknown key.
    let bad = extra("x", &["x.example"], &[]).replace("\"name\"", "\"nmae\"");
    assert!(Registry::from_json(&bad).unwrap_err().contains("nmae"));
    // No source.
    let bad = extra("x", &["x.example"], &[]).replace("https://example.com/help", "");
    assert!(Registry::from_json(&bad).is_err());
    // Plain http source.
    let bad = extra("x", &["x.example"], &[]).replace("https://", "http://");
    assert!(Registry::from_json(&bad).unwrap_err().contains("https"));
    // Uppercase domain.
    assert!(Registry::from_json(&extra("x", &["X.example"], &[])).is_err());
    // The object shape of the TOML file works too.
    let obj = format!(r#"{{"provider":{}}}"#, extra("x", &["x.example"], &[]));
    assert_eq!(Registry::from_json(&obj).unwrap().all().len(), 1);
}

#[test]
fn label_patterns_match_the_label_under_a_public_suffix_only() {
    let r = builtin();
    let cases = [
        // Outlook.com's country domains (FairEmail: outlook.*, hotmail.*, live.*).
        ("outlook.at", Some("outlook")),
        ("outlook.ie", Some("outlook")),
        ("hotmail.se", Some("outlook")),
        ("hotmail.co.za", Some("outlook")),
        ("live.no", Some("outlook")),
        ("live.com.ar", Some("outlook")),
        ("OUTLOOK.COM.TR.", Some("outlook")),
        ("yahoo.at", Some("yahoo")),
        ("yahoo.com.co", Some("yahoo")),
        ("aol.it", Some("aol")),
        ("aol.com.au", Some("aol")),
        ("gmx.ie", Some("gmx_com")),
        ("gmx.com.br", Some("gmx_com")),
        ("fastmail.ch", Some("fastmail")),
        // Exact domains win over every pattern.
        ("yahoo.co.jp", Some("yahoo_japan")),
        ("gmx.at", Some("gmx_de")),
        ("gmx.de", Some("gmx_de")),
        // Not a public suffix after the label: someone else's domain.
        ("outlook.evil.com", None),
        ("hotmail.co.evil.com", None),
        ("live.com.evil", None),
        ("outlook.co.de", None),
        ("yahoo.example", None),
        ("mail.outlook.at", None),
        // Two-letter mistypings of com are not taken for a country.
        ("hotmail.co", None),
        ("yahoo.cm", None),
        ("outlook.om", None),
        // A pattern is not a domain.
        ("outlook.*", None),
        ("*.onmicrosoft.com", None),
    ];
    for (domain, want) in cases {
        assert_eq!(r.by_domain(domain).map(|p| p.id.as_str()), want, "{domain}");
    }
}

#[test]
fn new_domains_find_their_providers() {
    let r = builtin();
    let cases = [
        ("myyahoo.com", "yahoo"),
        ("cox.net", "yahoo"),
        ("verizon.net", "aol"),
        ("netscape.net", "aol"),
        ("compuserve.com", "aol"),
        ("cs.com", "aol"),
        ("gmx.li", "gmx_com"),
        ("gmx.eu", "gmx_de"),
        ("mein.gmx", "gmx_de"),
        ("doctor.com", "mail_com"),
        ("lawyer.com", "mail_com"),
        ("mad.scientist.com", "mail_com"),
        ("currently.com", "att"),
        ("club-internet.fr", "sfr"),
        ("cegetel.net", "sfr"),
        ("libertysurf.fr", "free_fr"),
        ("fn.de", "freenet"),
        ("freenetmail.de", "freenet"),
        // FairEmail's providers.xml, not ISPDB.
        ("9online.fr", "sfr"),
        ("bossmail.de", "freenet"),
        ("justmail.de", "freenet"),
        ("linuxmail.org", "mail_com"),
        ("xfinity.com", "comcast"),
        ("zoho.in", "zoho_in"),
        ("zohomail.in", "zoho_in"),
        ("zoho.jp", "zoho_jp"),
        ("zoho.com.au", "zoho_au"),
        ("zohocloud.ca", "zoho_ca"),
        ("livemail.tw", "outlook"),
        ("jazztel.es", "google_workspace"),
    ];
    for (domain, id) in cases {
        assert_eq!(
            r.by_domain(domain).map(|p| p.id.as_str()),
            Some(id),
            "{domain}"
        );
    }
    let zoho = [
        ("zoho_in", "imap.zoho.in", "smtp.zoho.in"),
        ("zoho_jp", "imap.zoho.jp", "smtp.zoho.jp"),
        ("zoho_au", "imap.zoho.com.au", "smtp.zoho.com.au"),
        ("zoho_ca", "imap.zohocloud.ca", "smtp.zohocloud.ca"),
    ];
    for (id, imap, smtp) in zoho {
        let p = r.by_id(id).unwrap();
        assert_eq!(
            p.servers_for(Protocol::Imap).next().unwrap().host,
            imap,
            "{id}"
        );
        assert_eq!(
            p.servers_for(Protocol::Smtp).next().unwrap().host,
            smtp,
            "{id}"
        );
    }
    assert_eq!(r.by_mx_host("mx.zoho.com.au").unwrap().id, "zoho_au");
    assert_eq!(r.by_mx_host("mx.zoho.in").unwrap().id, "zoho_in");
}

/// One server's login form, port and TLS mode.
fn server(p: &Provider, protocol: Protocol, port: u16) -> Option<&crate::api::Server> {
    p.servers_for(protocol).find(|s| s.port == port)
}

#[test]
fn every_server_of_a_provider_takes_the_same_login_form() {
    let r = builtin();
    for p in r.all() {
        let forms: std::collections::BTreeSet<_> = p
            .servers
            .iter()
            .map(|s| format!("{:?}", s.username))
            .collect();
        // iCloud's IMAP wants the local part and its SMTP the whole address (Apple's help).
        if p.id != "icloud" {
            assert!(forms.len() <= 1, "{}: {forms:?}", p.id);
        }
    }
    let cases = [
        ("webde", UsernameForm::LocalPart),
        ("free_fr", UsernameForm::LocalPart),
        ("naver", UsernameForm::Email),
    ];
    for (id, form) in cases {
        let p = r.by_id(id).unwrap();
        for s in &p.servers {
            assert_eq!(s.username, form, "{id} {}", s.host);
        }
    }
}

#[test]
fn knowledge_base_fixes_of_issue_10() {
    let r = builtin();
    // web.de and freenet: SMTP with implicit TLS on 465, first.
    for (id, host) in [("webde", "smtp.web.de"), ("freenet", "mx.freenet.de")] {
        let p = r.by_id(id).unwrap();
        let first = p.servers_for(Protocol::Smtp).next().unwrap();
        assert_eq!(
            (first.host.as_str(), first.port, first.security),
            (host, 465, Security::Tls),
            "{id}"
        );
        assert!(server(p, Protocol::Smtp, 587).is_some(), "{id}");
    }
    // Microsoft 365: the Exchange Team's timeline of 27 January 2026.
    let m365 = r.by_id("microsoft365").unwrap();
    let note = &m365.status_note.as_ref().unwrap().en;
    assert!(
        note.contains("December 2026") && note.contains("2027") && note.contains("turn it back on"),
        "{note}"
    );
    assert!(
        m365.sources
            .iter()
            .any(|s| s.contains("techcommunity.microsoft.com/blog/exchange"))
    );
    assert!(
        m365.limits
            .iter()
            .any(|l| l.en.contains("27 January 2026") && l.ru.contains("2027"))
    );
    // Free: authenticated SMTP must be switched on first.
    let free = r.by_id("free_fr").unwrap();
    assert_eq!(free.status, ProviderStatus::NeedsPreparation);
    assert!(
        free.steps
            .iter()
            .any(|s| s.body.en.contains("SMTP authentifié"))
    );
    // mail.com: IMAP/POP3 are Premium for newer accounts, said plainly.
    let mail_com = &r
        .by_id("mail_com")
        .unwrap()
        .status_note
        .as_ref()
        .unwrap()
        .en;
    assert!(
        mail_com.contains("Premium") && !mail_com.contains("may"),
        "{mail_com}"
    );
    // App passwords with two-step verification on.
    for id in ["seznam", "libero", "gmx_de", "gmx_com"] {
        let p = r.by_id(id).unwrap();
        assert!(
            p.steps.iter().any(|s| s.topic == StepTopic::AppPassword
                && s.body.en.contains("two-step verification")),
            "{id}"
        );
    }
    // Fastmail's Basic plan and 163's two authorization codes.
    assert!(
        r.by_id("fastmail")
            .unwrap()
            .limits
            .iter()
            .any(|l| l.en.contains("Basic plan"))
    );
    assert!(
        r.by_id("netease163")
            .unwrap()
            .limits
            .iter()
            .any(|l| l.en.contains("two authorization codes"))
    );
    // The M365 advice for switched-off SMTP AUTH follows the same timeline, in both languages.
    for lang in [Lang::En, Lang::Ru] {
        let d = crate::diagnose::explain(DiagnosisCode::ProtocolDisabled, lang, Some(m365), None);
        assert!(
            d.advice.contains("2026") && d.advice.contains("2027"),
            "{}",
            d.advice
        );
    }
}

#[test]
fn app_password_formats_with_confidence_and_source() {
    let r = builtin();
    let cases = [
        ("mailru", 20, Charset::Alphanumeric, None),
        ("qq", 16, Charset::Lowercase, None),
        ("yahoo", 16, Charset::Lowercase, Some(4)),
        ("aol", 16, Charset::Lowercase, Some(4)),
        ("gmail", 16, Charset::Lowercase, Some(4)),
        ("yandex", 16, Charset::Lowercase, None),
        ("icloud", 16, Charset::Lowercase, Some(4)),
    ];
    for (id, length, charset, group) in cases {
        let f = r.by_id(id).unwrap().app_password.as_ref().unwrap();
        assert_eq!(
            (f.length, f.charset, f.group),
            (length, charset, group),
            "{id}"
        );
    }
    for p in r.all() {
        if let Some(f) = &p.app_password {
            assert!(f.confidence.is_some(), "{}", p.id);
            assert!(
                f.source
                    .as_deref()
                    .is_some_and(|s| s.starts_with("https://")),
                "{}",
                p.id
            );
        }
    }
    // A Mail.ru password of 20 letters and digits passes without a warning.
    let mailru = r.by_id("mailru");
    assert!(crate::validate::check_app_password("a1B2c3D4e5F6g7H8i9J0", mailru).is_empty());
}

#[test]
fn names_in_russian_fall_back_to_the_name() {
    let r = builtin();
    let cases = [
        ("yandex", "Yandex Mail", "Яндекс Почта"),
        ("mailru", "Mail.ru", "Почта Mail.ru"),
        ("rambler", "Rambler Mail", "Рамблер/почта"),
        ("gmail", "Gmail", "Gmail"),
        (
            "outlook",
            "Outlook.com (Hotmail, Live, MSN)",
            "Outlook.com (Hotmail, Live, MSN)",
        ),
    ];
    for (id, en, ru) in cases {
        let p = r.by_id(id).unwrap();
        assert_eq!(p.display_name(Lang::En), en, "{id}");
        assert_eq!(p.display_name(Lang::Ru), ru, "{id}");
    }
    // The JSON API carries the Russian name only where there is one.
    let json = serde_json::to_value(r.by_id("yandex").unwrap()).unwrap();
    assert_eq!(json["name_ru"], "Яндекс Почта");
    let json = serde_json::to_value(r.by_id("gmail").unwrap()).unwrap();
    assert!(json.get("name_ru").is_none());
    // Diagnoses name the provider in the user's language.
    let d = crate::diagnose::explain(DiagnosisCode::AuthFailed, Lang::Ru, r.by_id("yandex"), None);
    assert!(
        format!("{} {}", d.message, d.advice).contains("Яндекс"),
        "{d:?}"
    );
}

/// An operator provider with these server hosts and domains, as JSON.
fn operator(domains: &[&str], imap: &str, smtp: &str) -> String {
    serde_json::json!([{
        "id": "onprem", "name": "On-prem", "domains": domains, "status": "works",
        "sources": ["https://intranet.example/mail"],
        "servers": [
            {"protocol": "imap", "host": imap, "port": 993, "security": "tls"},
            {"protocol": "smtp", "host": smtp, "port": 587, "security": "starttls"}
        ]
    }])
    .to_string()
}

#[test]
fn operator_files_accept_ip_addresses_and_single_label_hosts() {
    let ok = [
        ("127.0.0.1", "10.0.0.25"),
        ("::1", "2001:db8::25"),
        ("localhost", "mail"),
        ("mail.corp.example", "mail"),
    ];
    for (imap, smtp) in ok {
        let r = Registry::from_json(&operator(&["corp.example"], imap, smtp));
        let r = r.unwrap_or_else(|e| panic!("{imap} {smtp}: {e}"));
        assert_eq!(r.by_domain("corp.example").unwrap().servers[0].host, imap);
    }
    let bad = [
        "[::1]",
        "Mail",
        "mail_1",
        "-mail",
        "1234",
        "a..b",
        "",
        "mail host",
    ];
    for host in bad {
        let err = Registry::from_json(&operator(&["corp.example"], host, "mail")).unwrap_err();
        assert!(
            err.contains("single-label name or an IP address"),
            "{host:?}: {err}"
        );
    }
    // The built-in data keeps the strict rule: a host name of two labels or more.
    for host in ["127.0.0.1", "::1", "localhost", "mail"] {
        let text = GOOD.replace("imap.x.example", host);
        let errors = schema_errors(&text);
        assert!(
            errors
                .iter()
                .any(|e| e.contains("is not a lowercase host name")),
            "{host}: {errors:?}"
        );
    }
}

#[test]
fn operator_files_store_idn_domains_as_punycode_and_find_them_by_either_form() {
    let json = operator(
        &["пример.рф", "*.почта.рф", "xn--80a1acny.xn--p1ai"],
        "почта.пример.рф",
        "mail",
    );
    let r = Registry::from_json(&json).unwrap();
    let p = &r.all()[0];
    assert_eq!(
        p.domains,
        [
            "xn--e1afmkfd.xn--p1ai",
            "*.xn--80a1acny.xn--p1ai",
            "xn--80a1acny.xn--p1ai"
        ]
    );
    assert_eq!(p.servers[0].host, "xn--80a1acny.xn--e1afmkfd.xn--p1ai");
    let cases = [
        "пример.рф",
        "ПРИМЕР.РФ",
        "xn--e1afmkfd.xn--p1ai",
        "отдел.почта.рф",
        "xn--80a1acny.xn--p1ai",
    ];
    for d in cases {
        assert_eq!(r.by_domain(d).map(|p| p.id.as_str()), Some("onprem"), "{d}");
    }
    // A name that is not a domain in any form is still refused, naming it.
    let err = Registry::from_json(&operator(&["при мер.рф"], "mail", "mail")).unwrap_err();
    assert!(err.contains("при мер.рф"), "{err}");
}

#[test]
fn schema_rules_for_the_new_fields() {
    let with = |extra: &str| GOOD.replace("name = \"X\"\n", &format!("name = \"X\"\n{extra}\n"));
    assert!(schema_errors(&with("name_ru = \"Икс\"")).is_empty());
    assert!(
        schema_errors(&with("domains = [\"x.*\"]").replace("domains = [\"x.example\"]\n", ""))
            .is_empty()
    );
    let cases = [
        (with("name_ru = \" \""), "name_ru is empty"),
        (with("ispdb_differs = { reason = \"\", source = \"https://x.example/\" }"), "needs a reason"),
        (with("ispdb_differs = { reason = \"r\", source = \"http://x.example/\" }"), "ispdb_differs source"),
        (with("mx = [\"mx.*\"]"), "mx pattern"),
        (GOOD.replace("[\"x.example\"]", "[\"*.*\"]"), "not a lowercase ASCII domain"),
        (GOOD.replace("[\"x.example\"]", "[\"x.y.*\"]"), "not a lowercase ASCII domain"),
        (
            GOOD.replace(
                "[[provider.steps]]",
                "app_password = { length = 16, charset = \"lowercase\", hint = { en = \"h\", ru = \"х\" } }\n[[provider.steps]]",
            ),
            "needs a confidence",
        ),
    ];
    for (text, want) in cases {
        let errors = schema_errors(&text);
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "want {want:?}, got {errors:?}"
        );
    }
}

#[test]
fn the_index_answers_every_lookup_like_the_full_registry() {
    let (full, index) = (builtin(), builtin_index());
    assert_eq!(
        full.exact_domains().collect::<Vec<_>>(),
        index.exact_domains().collect::<Vec<_>>()
    );
    let mut probes = 0;
    for name in full
        .all()
        .iter()
        .flat_map(|p| p.domains.iter().chain(&p.mx))
    {
        for probe in [
            name.replace("*.", "x."),
            name.replace(".*", ".com.ar"),
            name.replace(".*", ".evil.example"),
            format!("sub.{name}"),
        ] {
            let want = full.by_domain(&probe).map(|p| p.id.as_str());
            assert_eq!(want, index.by_domain(&probe), "{probe}");
            probes += usize::from(want.is_some());
        }
    }
    assert!(probes > 100, "{probes}");
    assert!(
        INDEX_TEXT.len() * 10 < BUILTIN_JSON.len(),
        "{}",
        INDEX_TEXT.len()
    );
}

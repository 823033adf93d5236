//! The provider routes through the router (`oneshot`, no socket): the list, lookups of
//! many domains, 404 for unknown domains, 400 for malformed addresses, and an operator's
//! `--providers-file` (JSON and TOML) that wins over the built-in data or stops the start.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use mailsetup_proxy::{AppState, Config};
use tower::ServiceExt as _;

fn config() -> Config {
    let dir = std::env::temp_dir().join("mailsetup-empty-dist");
    let _ = std::fs::create_dir_all(&dir);
    Config::for_tests(dir)
}

async fn get_with(config: Config, uri: &str, lang: &str) -> (StatusCode, serde_json::Value) {
    let app = mailsetup_proxy::app(AppState::new(config).unwrap());
    let res = app
        .oneshot(
            Request::get(uri)
                .header("accept-language", lang)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

async fn get(uri: &str) -> (StatusCode, serde_json::Value) {
    get_with(config(), uri, "en").await
}

fn lookup_uri(email: &str) -> String {
    let mut q = String::new();
    for b in email.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            q.push(char::from(b));
        } else {
            q.push_str(&format!("%{b:02X}"));
        }
    }
    format!("/api/v1/providers/lookup?email={q}")
}

#[tokio::test]
async fn list_returns_every_provider_with_the_documented_server_shape() {
    let (status, body) = get("/api/v1/providers").await;
    assert_eq!(status, StatusCode::OK);
    let list = body.as_array().unwrap();
    assert!(list.len() >= 30, "{}", list.len());
    assert_eq!(list[0]["id"], "gmail");
    assert_eq!(list[1]["id"], "yandex");
    let imap = &list[0]["servers"][0];
    assert_eq!(imap["protocol"], "imap");
    assert_eq!(imap["host"], "imap.gmail.com");
    assert_eq!(imap["port"], 993);
    assert_eq!(imap["security"], "tls");
    assert_eq!(imap["username"], "email");
    assert_eq!(list[0]["status"], "needs_preparation");
    assert_eq!(list[0]["app_password"]["length"], 16);
    for p in list {
        assert!(!p["sources"].as_array().unwrap().is_empty(), "{}", p["id"]);
    }
}

#[tokio::test]
async fn lookup_finds_the_provider_of_many_domains() {
    let cases = [
        ("alice@gmail.com", "gmail"),
        ("alice@GoogleMail.com", "gmail"),
        ("ivan@yandex.ru", "yandex"),
        ("ivan@yandex.kz", "yandex"),
        ("ivan@ya.ru", "yandex"),
        ("bob@hotmail.co.uk", "outlook"),
        ("bob@outlook.com", "outlook"),
        ("bob@yahoo.fr", "yahoo"),
        ("ivan@mail.ru", "mailru"),
        ("ivan@bk.ru", "mailru"),
        ("ivan@rambler.ru", "rambler"),
        ("eve@icloud.com", "icloud"),
        ("eve@me.com", "icloud"),
        ("hans@web.de", "webde"),
        ("wang@qq.com", "qq"),
        ("li@163.com", "netease163"),
        (" Alice@GMAIL.COM. ", "gmail"),
        ("admin@contoso.onmicrosoft.com", "microsoft365"),
    ];
    for (email, id) in cases {
        let (status, body) = get(&lookup_uri(email)).await;
        assert_eq!(status, StatusCode::OK, "{email}: {body}");
        assert_eq!(body["id"], id, "{email}");
    }
    let (_, outlook) = get(&lookup_uri("bob@live.com")).await;
    assert_eq!(outlook["status"], "oauth_only");
    assert!(
        outlook["status_note"]["en"]
            .as_str()
            .unwrap()
            .contains("2024")
    );
}

#[tokio::test]
async fn lookup_of_an_unknown_or_idn_domain_is_a_404_with_a_suggestion_when_close() {
    let (status, body) = get(&lookup_uri("ivan@пример.рф")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "unknown_provider");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("пример.рф")
    );

    let (status, body) = get(&lookup_uri("alice@example.org")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "unknown_provider");

    let (status, body) = get(&lookup_uri("alice@gmial.com")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("alice@gmail.com"),
        "{body}"
    );
}

#[tokio::test]
async fn malformed_addresses_are_a_400_naming_the_field_in_the_asked_language() {
    for email in ["", "alice", "alice@", "a@b@c.com", "alice@gmail"] {
        let (status, body) = get(&lookup_uri(email)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{email}: {body}");
        assert_eq!(body["error"]["code"], "invalid_email", "{email}");
        assert_eq!(body["error"]["field"], "email", "{email}");
    }
    let (status, body) = get("/api/v1/providers/lookup").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_email");
    let (_, body) = get_with(config(), &lookup_uri("alice"), "ru-RU,ru;q=0.9").await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains("адрес"),
        "{body}"
    );
}

const OPERATOR_JSON: &str = r#"{"provider":[{"id":"corp","name":"Corp Mail",
  "domains":["gmail.com","corp.example","xn--e1afmkfd.xn--p1ai"],
  "status":"works","sources":["https://corp.example/help/mail"],
  "servers":[{"protocol":"imap","host":"imap.corp.example","port":993,"security":"tls"},
             {"protocol":"smtp","host":"smtp.corp.example","port":465,"security":"tls"}]}]}"#;

const OPERATOR_TOML: &str = r#"
[[provider]]
id = "corp"
name = "Corp Mail"
domains = ["corp.example"]
status = "works"
sources = ["https://corp.example/help/mail"]
servers = [
  { protocol = "imap", host = "imap.corp.example", port = 993, security = "tls" },
  { protocol = "smtp", host = "smtp.corp.example", port = 465, security = "tls" },
]
"#;

fn operator_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mailsetup-providers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn operator_providers_file_in_json_wins_over_builtin_data() {
    let mut c = config();
    c.providers_file = Some(operator_file("extra.json", OPERATOR_JSON));
    let (status, body) = get_with(c.clone(), &lookup_uri("a@gmail.com"), "en").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], "corp");
    let (_, body) = get_with(c.clone(), &lookup_uri("a@ПРИМЕР.рф"), "en").await;
    assert_eq!(body["id"], "corp");
    let (_, body) = get_with(c.clone(), &lookup_uri("a@googlemail.com"), "en").await;
    assert_eq!(body["id"], "gmail");
    let (_, list) = get_with(c, "/api/v1/providers", "en").await;
    assert_eq!(list[0]["id"], "corp");
}

#[tokio::test]
async fn operator_providers_file_in_toml_works() {
    let mut c = config();
    c.providers_file = Some(operator_file("extra.toml", OPERATOR_TOML));
    let (status, body) = get_with(c, &lookup_uri("a@corp.example"), "en").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "Corp Mail");
}

#[test]
fn a_bad_operator_providers_file_stops_the_start() {
    let cases = [
        (
            "bad-key.json",
            OPERATOR_JSON.replace("\"name\"", "\"nmae\""),
            "nmae",
        ),
        (
            "no-source.json",
            OPERATOR_JSON.replace("\"https://corp.example/help/mail\"", ""),
            "no source",
        ),
        (
            "http.toml",
            OPERATOR_TOML.replace("https://", "http://"),
            "https",
        ),
        ("syntax.toml", "[[provider]\n".to_owned(), "TOML"),
    ];
    for (name, text, want) in cases {
        let mut c = config();
        c.providers_file = Some(operator_file(name, &text));
        let err = format!("{:#}", AppState::new(c).unwrap_err());
        assert!(err.contains(want), "{name}: {err}");
    }
    let mut c = config();
    c.providers_file = Some(std::env::temp_dir().join("mailsetup-no-such-file.json"));
    assert!(AppState::new(c).is_err());
}

/// An operator's on-premises provider: servers by IP address and by single-label name,
/// domains written in Unicode.
const ON_PREMISES_TOML: &str = r#"
[[provider]]
id = "onprem"
name = "On-premises mail"
domains = ["пример.рф", "*.почта.рф", "corp.example"]
status = "works"
sources = ["https://intranet.example/mail"]
servers = [
  { protocol = "imap", host = "10.0.0.25", port = 993, security = "tls" },
  { protocol = "pop3", host = "::1", port = 995, security = "tls" },
  { protocol = "smtp", host = "mail", port = 587, security = "starttls" },
  { protocol = "smtp", host = "localhost", port = 25, security = "none" },
]
"#;

#[tokio::test]
async fn operator_file_accepts_ip_and_single_label_hosts_and_unicode_domains() {
    let mut c = config();
    c.providers_file = Some(operator_file("onprem.toml", ON_PREMISES_TOML));
    for email in [
        "a@пример.рф",
        "a@ПРИМЕР.РФ",
        "a@xn--e1afmkfd.xn--p1ai",
        "a@hr.почта.рф",
        "a@hr.xn--80a1acny.xn--p1ai",
        "a@corp.example",
    ] {
        let (status, body) = get_with(c.clone(), &lookup_uri(email), "en").await;
        assert_eq!(status, StatusCode::OK, "{email}: {body}");
        assert_eq!(body["id"], "onprem", "{email}");
    }
    let (_, body) = get_with(c, &lookup_uri("a@corp.example"), "en").await;
    assert_eq!(body["domains"][0], "xn--e1afmkfd.xn--p1ai");
    assert_eq!(body["domains"][1], "*.xn--80a1acny.xn--p1ai");
    let hosts: Vec<&str> = body["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["10.0.0.25", "::1", "mail", "localhost"]);
}

#[test]
fn operator_file_still_refuses_malformed_hosts() {
    for (i, host) in ["Mail", "[::1]", "mail_server", "-mail"]
        .into_iter()
        .enumerate()
    {
        let text =
            ON_PREMISES_TOML.replace("\"mail\", port = 587", &format!("\"{host}\", port = 587"));
        let mut c = config();
        c.providers_file = Some(operator_file(&format!("bad-host-{i}.toml"), &text));
        let err = format!("{:#}", AppState::new(c).unwrap_err());
        assert!(
            err.contains(host) && err.contains("IP address"),
            "{host}: {err}"
        );
    }
}

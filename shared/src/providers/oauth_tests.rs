//! Tests of the `[provider.oauth]` facts: the built-in data, the schema check and the
//! split that keeps them out of the first screen's provider data.

use super::*;
use crate::oauth::OAuthSasl;

const GOOD: &str = r#"
[[provider]]
id = "x"
name = "X"
domains = ["x.example"]
status = "oauth_only"
status_note = { en = "e", ru = "р" }
sources = ["https://x.example/help"]
servers = [
  { protocol = "imap", host = "imap.x.example", port = 993, security = "tls" },
  { protocol = "smtp", host = "smtp.x.example", port = 465, security = "tls" },
]
[provider.oauth]
authorization_url = "https://login.x.example/authorize"
token_url = "https://login.x.example/token"
scopes = ["mail", "offline_access"]
mail_scopes = ["mail"]
authorization_params = { access_type = "offline" }
sasl = ["xoauth2", "oauthbearer"]
pkce = true
client_secret_required = true
sources = ["https://x.example/oauth"]
"#;

fn errors(text: &str) -> Vec<String> {
    match toml::from_str::<schema::RawFile>(text) {
        Ok(f) => schema::check_providers(&f.provider, schema::DataOrigin::Builtin),
        Err(e) => vec![e.to_string()],
    }
}

#[test]
fn the_issue_s_providers_have_oauth_facts_with_sources() {
    for id in [
        "gmail",
        "google_workspace",
        "outlook",
        "microsoft365",
        "yahoo",
        "aol",
        "yandex",
        "yandex360",
        "mailru",
    ] {
        let f = oauth_facts(id).unwrap_or_else(|| panic!("{id} has no oauth facts"));
        assert!(f.authorization_url.starts_with("https://"), "{id}");
        assert!(f.token_url.starts_with("https://"), "{id}");
        assert!(!f.mail_scopes.is_empty(), "{id}");
        assert!(f.mail_scopes.iter().all(|s| f.scopes.contains(s)), "{id}");
        assert!(f.sasl.contains(&OAuthSasl::Xoauth2), "{id}");
        assert!(!f.sources.is_empty(), "{id}");
        assert!(builtin().by_id(id).is_some(), "{id} is a provider");
    }
    assert!(oauth_facts("icloud").is_none());
    let ms = oauth_facts("outlook").unwrap();
    assert!(ms.authorization_url.contains("/common/"));
    assert!(ms.scopes.iter().any(|s| s == "offline_access"));
    let work = oauth_facts("microsoft365").unwrap();
    assert!(work.token_url.contains("/organizations/"));
    let google = oauth_facts("google_workspace").unwrap();
    assert_eq!(google.scopes[0], "https://mail.google.com/");
    assert_eq!(
        google
            .authorization_params
            .get("access_type")
            .map(String::as_str),
        Some("offline")
    );
}

#[test]
fn oauth_facts_stay_out_of_the_first_screen_data() {
    assert!(!BUILTIN_JSON.contains("token_url"));
    assert!(!INDEX_TEXT.contains("token_url"));
    assert!(OAUTH_JSON.contains("oauth2.googleapis.com"));
}

#[test]
fn the_oauth_schema_rejects_each_broken_rule() {
    assert!(errors(GOOD).is_empty(), "{:?}", errors(GOOD));
    let cases = [
        (
            GOOD.replace(
                "https://login.x.example/token",
                "http://login.x.example/token",
            ),
            "token_url",
        ),
        (
            GOOD.replace("mail_scopes = [\"mail\"]", "mail_scopes = [\"imap\"]"),
            "not among its scopes",
        ),
        (
            GOOD.replace("mail_scopes = [\"mail\"]", "mail_scopes = []"),
            "mail_scopes are empty",
        ),
        (
            GOOD.replace(
                "\"mail\", \"offline_access\"",
                "\"mail x\", \"offline_access\"",
            ),
            "has spaces",
        ),
        (
            GOOD.replace("sasl = [\"xoauth2\", \"oauthbearer\"]", "sasl = []"),
            "no mechanism",
        ),
        (
            GOOD.replace("\"xoauth2\", \"oauthbearer\"", "\"plain\""),
            "unknown variant",
        ),
        (
            GOOD.replace("sources = [\"https://x.example/oauth\"]", "sources = []"),
            "cites no source",
        ),
        (
            GOOD.replace("access_type = \"offline\"", "state = \"fixed\""),
            "sets itself",
        ),
        (GOOD.replace("pkce = true\n", ""), "missing field"),
        (
            GOOD.replace("pkce = true", "pkce = true\nnonce = 1"),
            "unknown field",
        ),
    ];
    for (text, want) in cases {
        let errors = errors(&text);
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "want {want:?}, got {errors:?}"
        );
    }
}

#[test]
fn operator_files_keep_oauth_endpoints_in_the_oauth_config() {
    let json = serde_json::to_string(&toml::from_str::<serde_json::Value>(GOOD).unwrap()).unwrap();
    let err = parse_json(&json).unwrap_err();
    assert!(err.contains("--oauth-config"), "{err}");
}

//! Sign in with the provider, end to end with real parts: the proxy on a real socket, the
//! real authorization server (npm's oidc-provider, [`OidcProvider`]) with its login and
//! consent pages filled by an HTTP [`Agent`], and the harness's Dovecot (and Postfix)
//! checking the token by introspection. Each test sees the callback page a browser would.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use mailsetup_proxy::oauth::OAuthConfig;
use mailsetup_proxy::{AppState, Config};
use mailsetup_tests::mail::{MailServers, scenario, users};
use mailsetup_tests::oidc::{self, Agent, Client, Consent, NO_MAIL_LOGIN, OidcProvider};
use mailsetup_tests::proxy::RunningProxy;
use serde_json::{Value, json};

/// The test provider's id (from a `--providers-file`, like an operator's own).
pub(crate) const PROVIDER: &str = "exampletest";

/// A free loopback port for a proxy that must know its URL before it starts.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The operator's providers file: example.test on the harness's Dovecot. Written once per
/// test process: tests run in parallel, and rewriting the file while another test's proxy
/// reads it gave that proxy a half-written file ("proxy state" failed, now and then).
pub(crate) fn providers_file() -> std::path::PathBuf {
    static FILE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let m = MailServers::shared();
        let path = std::env::temp_dir().join(format!(
            "mailsetup-oauth-providers-{}.json",
            std::process::id()
        ));
        let providers = json!([{
            "id": PROVIDER,
            "name": "Example Test Mail",
            "domains": ["example.test"],
            "status": "works",
            "sources": ["https://example.test/help"],
            "servers": [
                {"protocol": "imap", "host": scenario::GOOD, "port": m.ports.imaps, "security": "tls"},
                {"protocol": "smtp", "host": scenario::GOOD, "port": m.ports.submissions, "security": "tls"},
            ],
        }]);
        std::fs::write(&path, providers.to_string()).unwrap();
        path
    })
    .clone()
}

/// The client table for the test server (a secret only for a confidential client).
pub(crate) fn oauth_toml(p: &OidcProvider, client: &Client) -> String {
    let secret = if client.secret.is_empty() {
        String::new()
    } else {
        "client_secret_env = \"TEST_SECRET\"\n".to_owned()
    };
    format!(
        "[{PROVIDER}]\nclient_id = \"{}\"\n{secret}authorization_url = \"{}\"\n\
         token_url = \"{}\"\nscopes = [\"openid\", \"email\", \"offline_access\", \"{}\"]\n\
         authorization_params = {{ prompt = \"consent\" }}\n",
        client.id,
        p.authorization_url(),
        p.token_url(),
        oidc::MAIL_SCOPE,
    )
}

/// A proxy configured for the test provider, reachable at `url`.
pub(crate) struct Setup {
    pub(crate) oidc: &'static OidcProvider,
    pub(crate) client: Client,
    pub(crate) proxy: RunningProxy,
}

impl Setup {
    pub(crate) fn url(&self) -> String {
        self.proxy.url()
    }

    /// The start URL for `email`, with extra query parameters.
    pub(crate) fn start(&self, email: &str, extra: &str) -> String {
        format!(
            "{}/api/v1/oauth/{PROVIDER}/start?email={}{extra}",
            self.url(),
            oidc::encode(email)
        )
    }
}

/// The configuration of a proxy on `port` with the test provider.
pub(crate) fn config(port: u16, edit: impl FnOnce(&mut Config)) -> Config {
    let mut c = crate::test_config(&crate::empty_dist(), MailServers::shared());
    c.providers_file = Some(providers_file());
    c.public_url = Some(format!("http://127.0.0.1:{port}"));
    edit(&mut c);
    c
}

/// `state` with the operator's clients for the test server (the secret given directly,
/// as the environment would).
pub(crate) fn with_clients(mut state: AppState, p: &OidcProvider, client: &Client) -> AppState {
    let secret = client.secret.clone();
    let clients = OAuthConfig::parse(&oauth_toml(p, client), &state.providers, |name| {
        (name == "TEST_SECRET").then(|| secret.clone())
    })
    .unwrap();
    Arc::get_mut(&mut state.oauth).unwrap().config = clients;
    state
}

pub(crate) fn setup_with(confidential: bool, edit: impl FnOnce(&mut Config)) -> Setup {
    let p = OidcProvider::shared();
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/api/v1/oauth/callback");
    let client = if confidential {
        p.register_client(&redirect).unwrap()
    } else {
        p.register_public_client(&redirect).unwrap()
    };
    let state = with_clients(crate::test_state(config(port, edit)), p, &client);
    let proxy = RunningProxy::serve_at(state, port).unwrap();
    Setup {
        oidc: p,
        client,
        proxy,
    }
}

pub(crate) fn setup() -> Setup {
    setup_with(true, |_| {})
}

/// The outcome the callback page hands over (its JSON data element).
pub(crate) fn outcome(page: &str) -> Value {
    let start = page
        .find("type=\"application/json\">")
        .unwrap_or_else(|| panic!("no data in the page: {page}"))
        + "type=\"application/json\">".len();
    let end = page[start..].find("</script>").unwrap() + start;
    let data: Value = serde_json::from_str(&page[start..end]).unwrap();
    assert_eq!(data["message"]["type"], "mailsetup:oauth", "{data}");
    data["message"]["outcome"].clone()
}

/// The diagnosis code of a stopped flow.
pub(crate) fn error_code(page: &str) -> String {
    outcome(page)["error"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned()
}

#[test]
fn the_whole_flow_signs_in_checks_both_sides_for_real_and_hands_over_the_grant() {
    let s = setup();
    let (alice, _) = users::ALICE;
    let providers =
        mailsetup_tests::http::request(s.proxy.addr, "GET", "/api/v1/oauth/providers", &[], "")
            .unwrap();
    assert_eq!(
        providers.json,
        json!({"providers": [{"id": PROVIDER, "name": "Example Test Mail", "sasl": "xoauth2"}]})
    );
    let mut agent = Agent::new();
    // The start: 303 to the authorization endpoint with every parameter, and the cookie.
    let start = agent.get(&s.start(alice, "&credentials=true")).unwrap();
    assert_eq!(start.status, 303, "{}", start.body);
    let location = start.header("location").unwrap();
    assert!(
        location.starts_with(&s.oidc.authorization_url()),
        "{location}"
    );
    for (k, v) in [
        ("response_type", "code"),
        ("client_id", s.client.id.as_str()),
        (
            "redirect_uri",
            &format!("{}/api/v1/oauth/callback", s.url()),
        ),
        ("scope", "openid email offline_access mail"),
        ("code_challenge_method", "S256"),
        ("login_hint", alice),
    ] {
        assert_eq!(
            oidc::query_param(&location, k).as_deref(),
            Some(v),
            "{k} in {location}"
        );
    }
    assert_eq!(
        oidc::query_param(&location, "code_challenge")
            .unwrap()
            .len(),
        43
    );
    let cookie = start.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with("mailsetup_oauth=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && cookie.contains("Path=/api/v1/oauth"),
        "{cookie}"
    );
    // The provider's pages, then the callback.
    let callback = agent.authorize(&location, alice, Consent::Allow).unwrap();
    let page = agent.get(&callback).unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'nonce-") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(
        page.header("referrer-policy").as_deref(),
        Some("no-referrer")
    );
    let o = outcome(&page.body);
    assert_eq!(o["provider"], PROVIDER);
    assert_eq!(o["email"], alice);
    assert_eq!(o["check"]["ok"], true, "{o:#}");
    assert_eq!(o["check"]["incoming"]["ok"], true, "{o:#}");
    assert_eq!(o["check"]["outgoing"]["ok"], true, "{o:#}");
    assert!(o.get("error").is_none(), "{o:#}");
    assert!(page.body.contains("Signed in; your settings work"));
    // The grant, because the start asked for credentials: a live token and a refresh token.
    let grant = &o["grant"];
    assert_eq!(grant["provider"], PROVIDER);
    let token = grant["access_token"].as_str().unwrap();
    assert_eq!(s.oidc.introspect(token).unwrap()["username"], alice);
    assert!(
        grant["refresh_token"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{grant}"
    );
    assert!(grant["expires_at"].as_u64().unwrap() > 1_700_000_000);
    assert!(grant["scopes"].as_array().unwrap().contains(&json!("mail")));
}

#[test]
fn without_credentials_the_page_carries_no_token_and_speaks_russian_when_asked() {
    let s = setup_with(false, |_| {});
    let (alice, _) = users::ALICE;
    let mut agent = Agent::new();
    let callback = agent
        .authorize(&s.start(alice, "&locale=ru"), alice, Consent::Allow)
        .unwrap();
    let page = agent.get(&callback).unwrap();
    let o = outcome(&page.body);
    assert_eq!(o["check"]["ok"], true, "{o:#}");
    assert!(o.get("grant").is_none(), "{o:#}");
    assert!(!page.body.contains("access_token"));
    assert!(page.body.contains("Вход выполнен"), "{}", page.body);
}

#[test]
fn denied_consent_is_oauth_denied_named_on_the_page() {
    let s = setup();
    let (alice, _) = users::ALICE;
    let mut agent = Agent::new();
    let callback = agent
        .authorize(&s.start(alice, ""), alice, Consent::Deny)
        .unwrap();
    assert_eq!(
        oidc::query_param(&callback, "error").as_deref(),
        Some("access_denied")
    );
    let page = agent.get(&callback).unwrap();
    assert_eq!(page.status, 200);
    assert_eq!(error_code(&page.body), "oauth_denied");
    assert!(
        page.body.contains("<code id=\"code\">oauth_denied</code>"),
        "{}",
        page.body
    );
    assert!(outcome(&page.body).get("check").is_none());
}

#[test]
fn a_replayed_forged_or_foreign_state_gets_a_4xx_page_never_a_check() {
    let s = setup();
    let (alice, _) = users::ALICE;
    let mut agent = Agent::new();
    let callback = agent
        .authorize(&s.start(alice, ""), alice, Consent::Allow)
        .unwrap();
    // Another browser (no cookie) cannot finish it.
    let mut other = Agent::new();
    let foreign = other.get(&callback).unwrap();
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    assert_eq!(error_code(&foreign.body), "oauth_state_invalid");
    // The browser that started it can, once.
    let first = agent.get(&callback).unwrap();
    assert_eq!(outcome(&first.body)["check"]["ok"], true);
    let replay = agent.get(&callback).unwrap();
    assert_eq!(replay.status, 400, "{}", replay.body);
    assert_eq!(error_code(&replay.body), "oauth_state_invalid");
    assert!(replay.body.contains("oauth_state_invalid"));
    // A made-up or missing state.
    for query in ["?code=x&state=bm90LXNlYWxlZA", "?code=x", ""] {
        let r = agent
            .get(&format!("{}/api/v1/oauth/callback{query}", s.url()))
            .unwrap();
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert_eq!(error_code(&r.body), "oauth_state_invalid");
    }
}

#[test]
fn an_expired_state_is_oauth_state_expired() {
    let s = setup_with(false, |c| {
        c.oauth_state_ttl = "1".parse().unwrap();
    });
    let (alice, _) = users::ALICE;
    let mut agent = Agent::new();
    let callback = agent
        .authorize(&s.start(alice, ""), alice, Consent::Allow)
        .unwrap();
    std::thread::sleep(Duration::from_millis(2100));
    let page = agent.get(&callback).unwrap();
    assert_eq!(page.status, 400, "{}", page.body);
    assert_eq!(error_code(&page.body), "oauth_state_expired");
}

#[test]
fn a_code_with_another_flow_s_pkce_verifier_or_a_made_up_code_fails_the_exchange() {
    let s = setup();
    let (alice, _) = users::ALICE;
    let mut agent = Agent::new();
    // Two flows in one browser: flow A's code with flow B's state (and so B's verifier).
    let a = agent
        .authorize(&s.start(alice, ""), alice, Consent::Allow)
        .unwrap();
    let b = agent
        .authorize(&s.start(alice, ""), alice, Consent::Allow)
        .unwrap();
    let code_a = oidc::query_param(&a, "code").unwrap();
    let state_b = oidc::query_param(&b, "state").unwrap();
    let swapped = format!(
        "{}/api/v1/oauth/callback?code={}&state={}",
        s.url(),
        oidc::encode(&code_a),
        oidc::encode(&state_b)
    );
    let page = agent.get(&swapped).unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(error_code(&page.body), "oauth_exchange_failed");
    assert_eq!(
        outcome(&page.body)["error"]["server_reply"],
        "invalid_grant"
    );
    // A made-up code with a genuine state.
    let c = agent
        .authorize(&s.start(alice, ""), alice, Consent::Allow)
        .unwrap();
    let state_c = oidc::query_param(&c, "state").unwrap();
    let made_up = format!(
        "{}/api/v1/oauth/callback?code=not-a-code&state={}",
        s.url(),
        oidc::encode(&state_c)
    );
    assert_eq!(
        error_code(&agent.get(&made_up).unwrap().body),
        "oauth_exchange_failed"
    );
    // The server itself refuses an authorization request without PKCE.
    let no_pkce = format!(
        "{}?response_type=code&client_id={}&redirect_uri={}&scope=openid&state=x",
        s.oidc.authorization_url(),
        s.client.id,
        oidc::encode(&format!("{}/api/v1/oauth/callback", s.url()))
    );
    let refused = agent.get(&no_pkce).unwrap();
    let back = refused.header("location").unwrap_or_default();
    assert!(
        back.contains("error=invalid_request") || refused.body.contains("invalid_request"),
        "{back} {}",
        refused.body
    );
}

#[test]
fn a_grant_without_the_mail_scope_and_another_account_are_named_as_such() {
    let s = setup();
    let mut agent = Agent::new();
    let callback = agent
        .authorize(&s.start(NO_MAIL_LOGIN, ""), NO_MAIL_LOGIN, Consent::Allow)
        .unwrap();
    let page = agent.get(&callback).unwrap();
    assert_eq!(
        error_code(&page.body),
        "oauth_scope_missing",
        "{}",
        page.body
    );
    assert_eq!(outcome(&page.body)["error"]["server_reply"], "mail");
    // Alice typed, Bob signed in.
    let (alice, _) = users::ALICE;
    let (bob, _) = users::BOB;
    let mut agent = Agent::new();
    let callback = agent
        .authorize(&s.start(alice, ""), bob, Consent::Allow)
        .unwrap();
    let page = agent.get(&callback).unwrap();
    assert_eq!(
        error_code(&page.body),
        "oauth_account_mismatch",
        "{}",
        page.body
    );
    assert!(outcome(&page.body).get("check").is_none());
}

#[test]
fn a_host_app_checks_with_its_token_and_a_revoked_token_really_fails() {
    let s = setup();
    let m = MailServers::shared();
    let postfix = mailsetup_tests::postfix::Postfix::shared();
    let (alice, _) = users::ALICE;
    let token = s
        .oidc
        .token_for(&s.client, alice, oidc::MAIL_SCOPE)
        .unwrap();
    let body = |token: &str| {
        json!({
            "email": alice,
            "auth": {"method": "oauth2", "access_token": token},
            "incoming": {"protocol": "imap", "host": scenario::GOOD, "port": m.ports.imaps, "security": "tls"},
            "outgoing": {"host": mailsetup_tests::postfix::HOST, "port": postfix.ports.submission, "security": "starttls"},
        })
        .to_string()
    };
    let check = |token: &str| {
        mailsetup_tests::http::request(s.proxy.addr, "POST", "/api/v1/check", &[], &body(token))
            .unwrap()
            .json
    };
    let ok = check(&token);
    assert_eq!(ok["ok"], true, "{ok:#}\n{}", m.log_tail());
    s.oidc.revoke(&s.client, &token).unwrap();
    let revoked = check(&token);
    assert_eq!(revoked["ok"], false, "{revoked:#}");
    for side in ["incoming", "outgoing"] {
        assert_eq!(revoked[side]["ok"], false, "{side}: {revoked:#}");
        assert_eq!(
            revoked[side]["diagnosis"]["code"], "oauth_token_rejected",
            "{side}: {revoked:#}"
        );
    }
}

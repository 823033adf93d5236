//! Benchmark of "Sign in with the provider" on loopback: the time from the provider's
//! redirect to the callback until the verified result is on the page (state checks, the
//! single-use mark, the code exchange at the real oidc-provider, the id_token and scope
//! checks, the IMAP + SMTP check with XOAUTH2 against the harness's Dovecot, which
//! introspects the token, and the page), N sign-ins one after another, p50/p95/max.
//! Then, for comparison, the same IMAP + SMTP check with a token through
//! `POST /api/v1/check`, so the difference is what the sign-in adds.
//!
//! Run: `cargo run --release -p mailsetup-tests --bin bench-oauth [N]` (as root, like the
//! integration tests; N defaults to 30).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use mailsetup_proxy::Config;
use mailsetup_proxy::oauth::OAuthConfig;
use mailsetup_tests::mail::{MailServers, scenario, users};
use mailsetup_tests::oidc::{self, Agent, Consent, OidcProvider};
use mailsetup_tests::proxy::RunningProxy;
use serde_json::json;

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()
        .context("N must be a number")?
        .unwrap_or(30);
    let mail = MailServers::shared();
    let oidc = OidcProvider::shared();
    let dist = std::env::temp_dir().join("mailsetup-empty-dist");
    std::fs::create_dir_all(&dist)?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let url = format!("http://127.0.0.1:{port}");
    let client = oidc.register_client(&format!("{url}/api/v1/oauth/callback"))?;
    let providers = std::env::temp_dir().join("mailsetup-bench-oauth-providers.json");
    std::fs::write(
        &providers,
        json!([{
            "id": "exampletest", "name": "Example Test Mail", "domains": ["example.test"],
            "status": "works", "sources": ["https://example.test/help"],
            "servers": [
                {"protocol": "imap", "host": scenario::GOOD, "port": mail.ports.imaps, "security": "tls"},
                {"protocol": "smtp", "host": scenario::GOOD, "port": mail.ports.submissions, "security": "tls"},
            ],
        }])
        .to_string(),
    )?;
    let mut config = Config::for_tests(&dist);
    config.allow_private_targets = true;
    config.allow_any_port = true;
    config.extra_ca = vec![mail.ca_pem.clone()];
    config.providers_file = Some(providers);
    config.public_url = Some(url.clone());
    let mut state = mailsetup_proxy::AppState::new(config)?;
    let table = format!(
        "[exampletest]\nclient_id = \"{}\"\nclient_secret_env = \"SECRET\"\n\
         authorization_url = \"{}\"\ntoken_url = \"{}\"\n\
         scopes = [\"openid\", \"email\", \"offline_access\", \"{}\"]\n\
         authorization_params = {{ prompt = \"consent\" }}\n",
        client.id,
        oidc.authorization_url(),
        oidc.token_url(),
        oidc::MAIL_SCOPE
    );
    let secret = client.secret.clone();
    let clients = OAuthConfig::parse(&table, &state.providers, |name| {
        (name == "SECRET").then(|| secret.clone())
    })?;
    Arc::get_mut(&mut state.oauth)
        .context("the state is shared already")?
        .config = clients;
    let proxy = RunningProxy::serve_at(state, port)?;
    let (alice, _) = users::ALICE;
    let start = format!(
        "{url}/api/v1/oauth/exampletest/start?email={}",
        oidc::encode(alice)
    );

    let mut callback_ms = Vec::with_capacity(n);
    for i in 0..=n {
        let mut agent = Agent::new();
        let callback = agent.authorize(&start, alice, Consent::Allow)?;
        let started = Instant::now();
        let page = agent.get(&callback)?;
        let elapsed = started.elapsed();
        if !page.body.contains("\"ok\":true") {
            bail!("sign-in {i} did not verify: {}", page.body);
        }
        // The first one warms up the connections and caches; not counted.
        if i > 0 {
            callback_ms.push(elapsed);
        }
    }

    let token = oidc.token_for(&client, alice, oidc::MAIL_SCOPE)?;
    let body = json!({
        "email": alice,
        "auth": {"method": "oauth2", "access_token": token, "sasl": "xoauth2"},
        "incoming": {"protocol": "imap", "host": scenario::GOOD, "port": mail.ports.imaps, "security": "tls"},
        "outgoing": {"host": scenario::GOOD, "port": mail.ports.submissions, "security": "tls"},
    })
    .to_string();
    let mut check_ms = Vec::with_capacity(n);
    for i in 0..=n {
        let started = Instant::now();
        let reply =
            mailsetup_tests::http::request(proxy.addr, "POST", "/api/v1/check", &[], &body)?;
        let elapsed = started.elapsed();
        if reply.json["ok"] != true {
            bail!("token check {i} failed: {}", reply.body);
        }
        if i > 0 {
            check_ms.push(elapsed);
        }
    }

    println!(
        "bench-oauth: {n} sign-ins on loopback (oidc-provider + Dovecot, IMAP + SMTP over TLS)"
    );
    println!("{:<44} {:>8} {:>8} {:>8}", "", "p50 ms", "p95 ms", "max ms");
    for (name, mut times) in [
        ("callback -> verified page", callback_ms),
        ("POST /api/v1/check with the token", check_ms),
    ] {
        times.sort();
        println!(
            "{name:<44} {:>8.1} {:>8.1} {:>8.1}",
            ms(percentile(&times, 50)),
            ms(percentile(&times, 95)),
            ms(times.last().copied().unwrap_or_default())
        );
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = (sorted.len() * p).div_ceil(100).saturating_sub(1);
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

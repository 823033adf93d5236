//! Runs the browser tests (tests/browser/*.test.mjs, Node's test runner + playwright-core +
//! Debian's Chromium) against the real proxy serving the built front end, with the real
//! mail servers behind it. `MAILSETUP_BROWSER_TESTS=flow.test.mjs,embed.test.mjs` runs only
//! those files (while working on them); by default every `*.test.mjs` runs. A second proxy
//! with an OAuth client at the test authorization server (`crate::oauth::setup_with`)
//! serves the same front end for the sign-in with the provider (`MAILSETUP_OAUTH_URL`).

use std::process::Command;

use mailsetup_tests::fake::{Behavior, FakeServer, Script};
use mailsetup_tests::mail::{MailServers, users};
use mailsetup_tests::proxy::RunningProxy;
use mailsetup_tests::workspace_root;

#[test]
fn browser_tests_pass_in_headless_chromium() {
    let root = workspace_root();
    let dist = root.join("dist");
    assert!(
        dist.join("index.html").exists(),
        "{} is missing: build the front end first with `cargo xtask build-web` \
         (`cargo xtask test` does it)",
        dist.display()
    );
    let browser_dir = root.join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `cargo xtask setup --tests` (npm ci in tests/browser)"
    );
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "/usr/bin/chromium is missing: run `cargo xtask setup --tests` (Debian package chromium)"
    );
    let mail = MailServers::shared();
    let proxy = RunningProxy::serve(crate::test_state(crate::test_config(&dist, mail)))
        .expect("start the proxy");
    // A second proxy with an OAuth client at the test authorization server, for the
    // sign-in with the provider (oauth.test.mjs): the same front end, the operator's
    // provider on this Dovecot.
    let oauth = crate::oauth::setup_with(true, |c| c.static_dir = dist.clone());
    let oauth_name = oauth_name(&oauth.url());
    // A submission server that greets at once but takes its time over the login, so the
    // live test screen can be seen (and screenshotted) mid-check.
    let slow_smtp = FakeServer::start(Behavior::Script(
        Script::smtp("235 2.7.0 Authentication successful")
            .on("MAIL", "250 2.1.0 Sender OK")
            .on("RSET", "250 2.0.0 OK")
            .slow("AUTH", std::time::Duration::from_secs(5)),
    ));
    let screenshots = root.join("build/screenshots");
    let only: Vec<String> = std::env::var("MAILSETUP_BROWSER_TESTS")
        .unwrap_or_default()
        .split(',')
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect();
    let out = Command::new("node")
        .args(["--test", "--test-reporter=spec", "--test-concurrency=1"])
        .args(&only)
        .current_dir(&browser_dir)
        .env("MAILSETUP_URL", proxy.url())
        .env("MAILSETUP_SCREENSHOTS", &screenshots)
        .env("MAILTEST_CA", &mail.ca_pem)
        .env("MAILTEST_SLOW_SMTP_PORT", slow_smtp.port().to_string())
        .env("MAILSETUP_OAUTH_URL", oauth.url())
        .env("MAILTEST_OAUTH_EMAIL", users::ALICE.0)
        .env("MAILTEST_OAUTH_PROVIDER", crate::oauth::PROVIDER)
        .env("MAILTEST_OAUTH_NAME", &oauth_name)
        .env("MAILTEST_IMAP_PORT", mail.ports.imap.to_string())
        .env("MAILTEST_IMAPS_PORT", mail.ports.imaps.to_string())
        .env("MAILTEST_POP3_PORT", mail.ports.pop3.to_string())
        .env("MAILTEST_POP3S_PORT", mail.ports.pop3s.to_string())
        .env(
            "MAILTEST_SUBMISSION_PORT",
            mail.ports.submission.to_string(),
        )
        .env(
            "MAILTEST_SUBMISSIONS_PORT",
            mail.ports.submissions.to_string(),
        )
        .output()
        .expect("cannot run node: install Node.js (cargo xtask setup --tests)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "browser tests failed ({}); screenshots in {}",
        out.status,
        screenshots.display()
    );
    let passed = summary_count(&stdout, "pass");
    assert!(
        passed.is_some_and(|n| n > 0),
        "no browser test ran:\n{stdout}"
    );
    assert_eq!(summary_count(&stdout, "fail"), Some(0), "{stdout}");
}

/// The name `GET /api/v1/oauth/providers` gives the test provider's sign-in.
fn oauth_name(url: &str) -> String {
    let addr = url
        .trim_start_matches("http://")
        .parse()
        .expect("proxy address");
    let reply = mailsetup_tests::http::request(addr, "GET", "/api/v1/oauth/providers", &[], "")
        .expect("GET /api/v1/oauth/providers");
    reply.json["providers"][0]["name"]
        .as_str()
        .unwrap_or_else(|| panic!("no configured provider: {}", reply.body))
        .to_owned()
}

/// A count from the summary node's test runner prints at the end (`ℹ pass 12` with the
/// spec reporter, `# pass 12` with TAP).
fn summary_count(stdout: &str, what: &str) -> Option<u32> {
    stdout.lines().rev().find_map(|line| {
        let rest = line
            .trim()
            .trim_start_matches(['ℹ', '#'])
            .trim_start()
            .strip_prefix(what)?;
        rest.trim().parse().ok()
    })
}

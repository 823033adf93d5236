//! The OAuth harness itself: the real authorization server issues tokens that the
//! harness's Dovecot accepts by introspection (XOAUTH2 and OAUTHBEARER on IMAP, POP3 and
//! submission), and refuses once revoked, for another user or without the mail scope.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use mailsetup_tests::mail::{MailServers, scenario, users};
use mailsetup_tests::oidc::{self, OidcProvider};

/// Sends `line` after the greeting and returns the first reply line to it.
fn answer(addr: SocketAddr, pre: &[&str], line: &str) -> String {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut got = String::new();
    r.read_line(&mut got).unwrap();
    for l in pre.iter().chain([&line]) {
        w.write_all(format!("{l}\r\n").as_bytes()).unwrap();
        loop {
            got.clear();
            r.read_line(&mut got).unwrap();
            // A failed XOAUTH2 login first sends its error as a challenge, which the
            // client answers with an empty line (Google's and Dovecot's behaviour).
            if got.starts_with("+ ") || got.starts_with("334 ") {
                w.write_all(b"\r\n").unwrap();
                continue;
            }
            // Skip multi-line EHLO replies (250-...) and IMAP untagged lines.
            if !(got.starts_with("250-") || got.starts_with("* ")) {
                break;
            }
        }
    }
    got
}

fn client() -> (&'static OidcProvider, oidc::Client) {
    let p = OidcProvider::shared();
    let c = p
        .register_client("http://127.0.0.1:9/api/v1/oauth/callback")
        .unwrap();
    (p, c)
}

#[test]
fn dovecot_accepts_a_real_token_with_xoauth2_and_oauthbearer_everywhere() {
    let m = MailServers::shared();
    let (p, c) = client();
    let (alice, _) = users::ALICE;
    let token = p.token_for(&c, alice, oidc::MAIL_SCOPE).unwrap();
    assert_eq!(p.introspect(&token).unwrap()["username"], alice);
    let imap = m.addr(scenario::GOOD, m.ports.imap);
    let x = answer(
        imap,
        &[],
        &format!("a AUTHENTICATE XOAUTH2 {}", oidc::xoauth2(alice, &token)),
    );
    assert!(x.starts_with("a OK"), "{x}\n{}", m.log_tail());
    let b = answer(
        imap,
        &[],
        &format!(
            "a AUTHENTICATE OAUTHBEARER {}",
            oidc::oauthbearer(alice, &token)
        ),
    );
    assert!(b.starts_with("a OK"), "{b}\n{}", m.log_tail());
    let pop = answer(
        m.addr(scenario::GOOD, m.ports.pop3),
        &[],
        &format!("AUTH XOAUTH2 {}", oidc::xoauth2(alice, &token)),
    );
    assert!(pop.starts_with("+OK"), "{pop}\n{}", m.log_tail());
    let smtp = answer(
        m.addr(scenario::GOOD, m.ports.submission),
        &["EHLO test"],
        &format!("AUTH XOAUTH2 {}", oidc::xoauth2(alice, &token)),
    );
    assert!(smtp.starts_with("235"), "{smtp}\n{}", m.log_tail());
    // Passwords still work beside tokens.
    let (user, pass) = users::ALICE;
    let pw = answer(imap, &[], &format!("a LOGIN {user} {pass}"));
    assert!(pw.starts_with("a OK"), "{pw}");
}

#[test]
fn dovecot_refuses_revoked_foreign_scopeless_and_made_up_tokens() {
    let m = MailServers::shared();
    let (p, c) = client();
    let (alice, _) = users::ALICE;
    let (bob, _) = users::BOB;
    let imap = m.addr(scenario::GOOD, m.ports.imap);
    let refused = |user: &str, token: &str| {
        let r = answer(
            imap,
            &[],
            &format!("a AUTHENTICATE XOAUTH2 {}", oidc::xoauth2(user, token)),
        );
        assert!(r.starts_with("a NO"), "{r}\n{}", m.log_tail());
    };
    let revoked = p.token_for(&c, alice, oidc::MAIL_SCOPE).unwrap();
    p.revoke(&c, &revoked).unwrap();
    assert_eq!(p.introspect(&revoked).unwrap()["active"], false);
    refused(alice, &revoked);
    // Bob's token does not open Alice's mailbox.
    refused(alice, &p.token_for(&c, bob, oidc::MAIL_SCOPE).unwrap());
    // A token without the mail scope.
    refused(alice, &p.token_for(&c, alice, "openid").unwrap());
    refused(alice, "made-up-token");
}

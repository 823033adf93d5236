//! The harness itself: the private Dovecot answers on every protocol and scenario.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use mailsetup_tests::mail::{MailServers, scenario, users};

fn converse(addr: std::net::SocketAddr, lines: &[&str]) -> Vec<String> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut got = Vec::new();
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    got.push(line.clone());
    for l in lines {
        w.write_all(format!("{l}\r\n").as_bytes()).unwrap();
        line.clear();
        r.read_line(&mut line).unwrap();
        got.push(line.clone());
    }
    got
}

#[test]
fn imap_login_works_for_alice_and_fails_for_a_wrong_password() {
    let m = MailServers::shared();
    let (user, pass) = users::ALICE;
    let ok = converse(
        m.addr(scenario::GOOD, m.ports.imap),
        &[&format!("a LOGIN {user} {pass}")],
    );
    assert!(ok[0].starts_with("* OK"), "{ok:?}");
    assert!(ok[1].starts_with("a OK"), "{ok:?}\n{}", m.log_tail());
    let bad = converse(
        m.addr(scenario::GOOD, m.ports.imap),
        &[&format!("a LOGIN {user} wrongpassword")],
    );
    assert!(bad[1].starts_with("a NO [AUTHENTICATIONFAILED]"), "{bad:?}");
}

#[test]
fn strict_scenario_refuses_plaintext_login() {
    let m = MailServers::shared();
    let (user, pass) = users::ALICE;
    let got = converse(
        m.addr(scenario::STRICT, m.ports.imap),
        &[&format!("a LOGIN {user} {pass}")],
    );
    assert!(!got[1].starts_with("a OK"), "{got:?}");
}

#[test]
fn pop3_and_submission_greet() {
    let m = MailServers::shared();
    let pop = converse(m.addr(scenario::GOOD, m.ports.pop3), &["QUIT"]);
    assert!(pop[0].starts_with("+OK"), "{pop:?}");
    let smtp = converse(m.addr(scenario::GOOD, m.ports.submission), &["QUIT"]);
    assert!(smtp[0].starts_with("220"), "{smtp:?}");
}

#[test]
fn imap_off_user_is_refused_on_imap_with_its_reason() {
    let m = MailServers::shared();
    let (user, pass) = users::IMAPOFF;
    let got = converse(
        m.addr(scenario::GOOD, m.ports.imap),
        &[&format!("a LOGIN {user} {pass}")],
    );
    assert!(got[1].contains("IMAP access is disabled"), "{got:?}");
}

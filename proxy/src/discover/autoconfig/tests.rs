//! Tests of `autoconfig`.
use super::*;

const FULL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.com">
    <domain>example.com</domain>
    <domain>example.net</domain>
    <displayName>Example Mail</displayName>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>OAuth2</authentication>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap-oauth.example.com</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>OAuth2</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>POP.example.com</hostname>
      <port>110</port>
      <socketType>STARTTLS</socketType>
      <authentication>password-encrypted</authentication>
      <username>%EMAILLOCALPART%</username>
    </incomingServer>
    <incomingServer type="exchange">
      <hostname>outlook.example.com</hostname>
      <port>443</port>
      <socketType>SSL</socketType>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.com</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.com</hostname>
      <port>25</port>
      <socketType>plain</socketType>
      <authentication>client-IP-address</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>"#;

#[test]
fn parses_every_part_and_replaces_placeholders() {
    let cfg = parse(FULL, "alice", "example.com").unwrap();
    assert_eq!(cfg.id, "example.com");
    assert_eq!(cfg.display_name.as_deref(), Some("Example Mail"));
    assert_eq!(cfg.domains, ["example.com", "example.net"]);
    assert_eq!(cfg.incoming.len(), 4);
    assert_eq!(cfg.outgoing.len(), 2);
    assert_eq!(cfg.incoming[0].hostname, "imap.example.com");
    assert_eq!(cfg.incoming[0].username, "alice@example.com");
    assert_eq!(
        cfg.incoming[0].auth,
        [AuthKind::OAuth2, AuthKind::PasswordCleartext]
    );
    assert_eq!(cfg.incoming[2].hostname, "pop.example.com");
    assert_eq!(cfg.incoming[2].security, Some(Security::Starttls));
    assert_eq!(cfg.outgoing[1].security, Some(Security::None));
    assert_eq!(cfg.outgoing[1].auth, [AuthKind::ClientIpAddress]);
}

#[test]
fn usable_servers_take_a_password() {
    let cfg = parse(FULL, "alice", "example.com").unwrap();
    let (inc, out) = cfg.servers("alice@example.com", "alice");
    let got: Vec<(&str, Protocol, u16, Security, UsernameForm)> = inc
        .iter()
        .map(|s| (s.host.as_str(), s.protocol, s.port, s.security, s.username))
        .collect();
    assert_eq!(
        got,
        [
            (
                "imap.example.com",
                Protocol::Imap,
                993,
                Security::Tls,
                UsernameForm::Email
            ),
            (
                "pop.example.com",
                Protocol::Pop3,
                110,
                Security::Starttls,
                UsernameForm::LocalPart
            ),
        ]
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].port, 587);
}

#[test]
fn bogus_documents_are_errors_not_panics() {
    for (doc, want) in [
        ("", "XML"),
        ("<clientConfig><emailProvider>", "XML"),
        ("<html><body>Not found</body></html>", "root element <html>"),
        ("<clientConfig version=\"1.1\"/>", "emailProvider"),
        ("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><clientConfig/>", "XML"),
        ("\u{0}\u{1}binary", "XML"),
    ] {
        let err = parse(doc, "a", "b.c").unwrap_err().to_string();
        assert!(err.contains(want), "{doc:?}: {err}");
    }
}

#[test]
fn bad_servers_are_skipped() {
    let doc = r#"<clientConfig><emailProvider id="x">
          <incomingServer type="imap"><hostname>bad host!</hostname><port>993</port><socketType>SSL</socketType></incomingServer>
          <incomingServer type="imap"><hostname>ok.x</hostname><port>99999</port><socketType>SSL</socketType></incomingServer>
          <incomingServer type="imap"><hostname>ok.x</hostname><port>993</port><socketType>weird</socketType></incomingServer>
          <incomingServer type="imap"><hostname>ok.x</hostname><port>993</port><socketType>SSL</socketType></incomingServer>
        </emailProvider></clientConfig>"#;
    let cfg = parse(doc, "a", "x").unwrap();
    let (inc, out) = cfg.servers("a@x", "a");
    assert_eq!(inc.len(), 1);
    assert_eq!(inc[0].host, "ok.x");
    assert!(out.is_empty());
}

#[test]
fn query_values_are_encoded() {
    assert_eq!(encode("a+b@c.d"), "a%2Bb%40c.d");
}

use super::wire::{Status, caps_in_code, exists, literal_size, status_text};
use super::*;

#[test]
fn quoted_strings_escape_quotes_and_backslashes() {
    assert_eq!(quoted(r#"a"b\c"#), r#""a\"b\\c""#);
}

#[test]
fn capabilities_come_from_the_response_code_or_the_untagged_line() {
    let caps = caps_in_code("* OK [CAPABILITY IMAP4rev1 idle AUTH=PLAIN] ready").unwrap();
    assert_eq!(caps, ["IMAP4REV1", "IDLE", "AUTH=PLAIN"]);
    let reply = Reply {
        status: "OK".to_owned(),
        text: "OK done".to_owned(),
        untagged: vec!["* CAPABILITY IMAP4rev1 MOVE".to_owned()],
    };
    assert_eq!(parse_caps(&reply).unwrap(), ["IMAP4REV1", "MOVE"]);
}

#[test]
fn alerts_before_the_tagged_reply_are_part_of_the_words() {
    let reply = Reply {
        status: "NO".to_owned(),
        text: "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)".to_owned(),
        untagged: vec!["* NO [WEBALERT https://x.example] Web login required.".to_owned()],
    };
    assert_eq!(
        reply.words(),
        "NO [WEBALERT https://x.example] Web login required.\nNO [AUTHENTICATIONFAILED] Invalid credentials (Failure)"
    );
}

#[test]
fn a_response_code_counts_only_right_after_the_status_word() {
    // Human text that mentions a code is not one.
    assert_eq!(
        caps_in_code("* OK ready, see [CAPABILITY IMAP4rev1 IDLE] docs"),
        None
    );
    assert_eq!(caps_in_code("OK Logged in [CAPABILITY IMAP4rev1]"), None);
    assert_eq!(
        caps_in_code("ok [capability IMAP4rev1 SASL-IR] Logged in").unwrap(),
        ["IMAP4REV1", "SASL-IR"]
    );
    let t = status_text("NO [AUTHENTICATIONFAILED] Invalid credentials").unwrap();
    assert_eq!(t.status, Status::No);
    assert_eq!(t.code.as_deref(), Some("AUTHENTICATIONFAILED"));
    assert_eq!(t.code_args, "");
    assert_eq!(status_text("bad").unwrap().status, Status::Bad);
    assert!(status_text("OKAY fine").is_none());
    assert_eq!(status_text("BYE [ALERT no end").unwrap().code, None);
}

#[test]
fn untagged_data_and_literal_sizes_are_read_by_the_grammar() {
    assert_eq!(exists("* 23 EXISTS"), Some(23));
    assert_eq!(exists("* 23 exists"), Some(23));
    assert_eq!(exists("* OK 23 EXISTS"), None);
    assert_eq!(literal_size("* LIST () \"/\" {12}"), Some(12));
    assert_eq!(literal_size("a1 LOGIN {5+}"), Some(5));
    assert_eq!(literal_size("* OK {braces} in text"), None);
    assert_eq!(literal_size("* OK {}"), None);
    assert_eq!(literal_size("* OK {99999999999999999999999}"), None);
}

#[tokio::test]
async fn literals_are_read_whole_and_their_size_is_checked_first() {
    use super::super::net::{NetError, Stream};
    use tokio::io::AsyncWriteExt as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(b"* LIST () \"/\" {5}\r\nab\r\nc)\r\n* OK {999999999}\r\n")
            .await
            .unwrap();
        // Keep the connection open until the client is done.
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    });
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut conn = Conn::new(Stream::Plain(tcp), std::time::Duration::from_secs(1));
    let line = super::wire::read_response(&mut conn).await.unwrap();
    assert_eq!(line, "* LIST () \"/\" {5}ab  c)");
    assert!(matches!(
        super::wire::read_response(&mut conn).await,
        Err(NetError::LineTooLong)
    ));
    server.abort();
}

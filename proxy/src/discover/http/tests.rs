//! Tests of `http`: URL parsing, and whole exchanges with raw responses over an in-memory
//! stream (hyper parses them; these are the cases the hand-written parser was tested with).

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use super::*;

#[test]
fn urls() {
    let u = parse_url("https://Autoconfig.Example.com/mail/config-v1.1.xml?emailaddress=a%40b")
        .unwrap();
    assert_eq!(
        u,
        Url {
            https: true,
            host: "autoconfig.example.com".to_owned(),
            port: None,
            path: "/mail/config-v1.1.xml?emailaddress=a%40b".to_owned()
        }
    );
    let u = parse_url("http://127.0.0.1:8080?x").unwrap();
    assert_eq!((u.port, u.path.as_str()), (Some(8080), "/?x"));
    let u = parse_url("https://[::1]:8443/v1.1/").unwrap();
    assert_eq!((u.host.as_str(), u.port), ("[::1]", Some(8443)));
    assert!(parse_url("ftp://x/").is_err());
    assert!(parse_url("https://user@x/").is_err());
    assert_eq!(
        parse_url("https://a.example/x\ry"),
        Err(FetchError::UnsafeUrl)
    );
    assert_eq!(
        parse_url("https://a.example/x y"),
        Err(FetchError::UnsafeUrl)
    );
}

/// The response to a GET of `/` from a server that answers `raw` and closes.
async fn answer(raw: &'static [u8], max_body: usize) -> Result<Response, FetchError> {
    let client = http_client::answering(raw);
    let url = parse_url("http://a.example/").unwrap();
    let addr = SocketAddr::from(([192, 0, 2, 1], 80));
    let answer = http_client::exchange(client, request(&url, None), &limits(max_body), addr)
        .await
        .map_err(FetchError::Net)?;
    response(answer)
}

#[tokio::test]
async fn responses() {
    let r = answer(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello extra",
        100,
    )
    .await
    .unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
    let r = answer(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        100,
    )
    .await
    .unwrap();
    assert_eq!(r.body, b"abcde");
    let r = answer(b"HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n", 100)
        .await
        .unwrap();
    assert_eq!((r.status, r.location.as_deref()), (302, Some("/x")));
    assert_eq!(
        answer(b"HTTP/1.1 200 OK\r\n\r\n0123456789", 5)
            .await
            .unwrap_err(),
        FetchError::Net(HttpError::TooLarge { kib: 0 })
    );
    assert!(matches!(
        answer(b"SSH-2.0-OpenSSH\r\n", 5).await,
        Err(FetchError::Net(HttpError::Http { .. }))
    ));
    // A bare CR inside a header value would reach the next request line.
    let smuggled = b"HTTP/1.1 302 Found\r\nLocation: /x\rHost: evil\r\n\r\n";
    assert!(answer(smuggled, 100).await.is_err());
    assert!(
        answer(b"HTTP/1.1 302 Found\r\nLocation: /x\x00y\r\n\r\n", 100)
            .await
            .is_err()
    );
    // A body shorter than its length is an error, not a short document.
    assert!(matches!(
        answer(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab", 100).await,
        Err(FetchError::Net(HttpError::Http { .. }))
    ));
    // A head over the limit.
    let huge: &'static [u8] = Box::leak(
        format!(
            "HTTP/1.1 200 OK\r\nX-Big: {}\r\nContent-Length: 0\r\n\r\n",
            "a".repeat(MAX_HEADER * 2)
        )
        .into_bytes()
        .into_boxed_slice(),
    );
    assert!(matches!(
        answer(huge, 100).await,
        Err(FetchError::Net(HttpError::Http { .. }))
    ));
}

#[test]
fn errors_read_as_before() {
    assert_eq!(FetchError::Status(404).text().en, "HTTP 404");
    assert_eq!(
        FetchError::Net(HttpError::TooLarge { kib: 256 }).text().ru,
        "тело ответа больше 256 КиБ"
    );
    assert_eq!(
        FetchError::TooManyRedirects.text().en,
        "more than 2 redirects"
    );
}

/// A server that accepts and then says nothing fails the TLS step at its own timeout,
/// with words that say so, instead of holding the fetch until discovery's deadline.
#[tokio::test]
async fn a_silent_server_is_a_tls_timeout_of_its_own() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    });
    let tcp = http_client::connect(addr, Duration::from_secs(5))
        .await
        .unwrap();
    let tls = super::super::tls::Tls::new(&[]).unwrap();
    let name = super::super::tls::server_name("autoconfig.example.com").unwrap();
    let err = http_client::handshake(tls.strict, name, tcp, addr, Duration::from_millis(200))
        .await
        .err()
        .unwrap();
    match &err {
        HttpError::Tls { addr: a, error } => {
            assert_eq!(*a, addr);
            assert!(error.contains("timed out"), "{error}");
        }
        other => panic!("expected a TLS failure, got {other:?}"),
    }
    let text = FetchError::Net(err).text();
    assert!(text.en.contains("timed out"), "{text:?}");
    held.abort();
}

//! Slow and idle clients against the real `mailsetup-proxy` binary on a real socket: a
//! partial request line or an idle keep-alive connection is closed after the header
//! timeout, an oversized request head is refused without being buffered, and thousands of
//! idle sockets from one client do not keep a second client from being served.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use mailsetup_tests::binary::{Profile, ProxyProcess};

/// Reads until the server closes the connection; what it sent, and whether it closed
/// within `limit`.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return (String::from_utf8_lossy(&got).into_owned(), false);
            }
            // A reset is a close too.
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), true),
        }
    }
}

/// A connection to `to` from the loopback address `from` (127.0.0.0/8 is all ours).
fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::from((from, 0)).into()).unwrap();
    socket
        .connect_timeout(&to.into(), Duration::from_secs(5))
        .unwrap();
    socket.into()
}

fn health(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn a_partial_request_line_and_an_idle_connection_are_closed_after_the_header_timeout() {
    let proxy = ProxyProcess::start(Profile::Debug, &["--header-timeout", "1"]).unwrap();
    // Half a request line, then silence.
    let mut partial = TcpStream::connect(proxy.addr).unwrap();
    partial.write_all(b"GET /api/v1/hea").unwrap();
    let (_, closed) = read_until_closed(&mut partial, Duration::from_secs(20));
    assert!(closed, "a partial request line was still open after 20 s");
    // Headers that never end, sent slowly.
    let mut slow = TcpStream::connect(proxy.addr).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let started = Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(20) {
        if slow.write_all(b"X-Drip: 1\r\n").is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    if !closed {
        closed = read_until_closed(&mut slow, Duration::from_secs(1)).1;
    }
    assert!(closed, "a dripping request head was still open after 20 s");
    // A keep-alive connection that served a request and then idles.
    let mut idle = TcpStream::connect(proxy.addr).unwrap();
    let reply = health(&mut idle);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let (_, closed) = read_until_closed(&mut idle, Duration::from_secs(20));
    assert!(
        closed,
        "an idle keep-alive connection was still open after 20 s"
    );
}

#[test]
fn an_oversized_request_head_is_refused_not_buffered() {
    let proxy = ProxyProcess::start(Profile::Debug, &[]).unwrap();
    let mut s = TcpStream::connect(proxy.addr).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ")
        .unwrap();
    // 64 KiB of header without an end: the proxy answers 431 (or closes) once it has
    // read past its 16 KiB cap, without waiting for the rest.
    let pad = vec![b'a'; 64 * 1024];
    let _ = s.write_all(&pad);
    let (reply, closed) = read_until_closed(&mut s, Duration::from_secs(20));
    assert!(closed, "still open: {reply}");
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 431"),
        "{reply}"
    );
}

#[test]
fn thousands_of_idle_sockets_from_one_client_do_not_stop_another() {
    // 3000 sockets, or as many as the open-file limit leaves room for.
    let limit = rlimit::increase_nofile_limit(20_000).unwrap_or(1024);
    let sockets = usize::try_from(limit.saturating_sub(300))
        .unwrap_or(3000)
        .min(3000);
    assert!(
        sockets > 200,
        "the open-file limit ({limit}) is too low for this test: raise it with `ulimit -n 4096`"
    );
    let proxy = ProxyProcess::start(
        Profile::Debug,
        &[
            "--max-connections-per-client",
            "64",
            "--header-timeout",
            "30",
        ],
    )
    .unwrap();
    // One client opens thousands of sockets and sends nothing.
    let mut idle = Vec::new();
    for _ in 0..sockets {
        match TcpStream::connect_timeout(&proxy.addr, Duration::from_secs(5)) {
            Ok(s) => idle.push(s),
            Err(e) => panic!("connect {} failed: {e}", idle.len()),
        }
    }
    // Another client is served at once.
    let mut other = connect_from([127, 0, 0, 2], proxy.addr);
    let reply = health(&mut other);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    // The first client holds at most its cap: the rest were closed at once.
    let mut open = 0;
    for s in &mut idle {
        s.set_nonblocking(true).unwrap();
        let mut b = [0u8; 1];
        match s.read(&mut b) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => open += 1,
            _ => {}
        }
    }
    assert!(
        open <= 64,
        "{open} idle sockets of one client are still open"
    );
    assert!(open >= 1, "the client's first sockets should be kept");
    // A new connection of that client is closed without an answer.
    let mut extra = TcpStream::connect(proxy.addr).unwrap();
    let (reply, closed) = read_until_closed(&mut extra, Duration::from_secs(10));
    assert!(closed && reply.is_empty(), "{reply}");
}

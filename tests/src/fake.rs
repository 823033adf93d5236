//! Scripted fake mail servers on loopback, for what real servers cannot be made to do:
//! hostile behaviour (silence, one byte a second, a 10 MB line, garbage, garbage instead of
//! TLS) and the exact refusals of big providers (Gmail, Microsoft, Yandex).
//!
//! Each server listens on `127.0.0.1:<free port>` and serves every connection on a thread
//! of its own with the same [`Behavior`]. Threads end when the client goes away or the
//! server is dropped (the listener is closed; a running connection ends at its next write).

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What a fake server does with each connection.
#[derive(Clone, Debug)]
pub enum Behavior {
    /// Accepts and never says anything.
    Stall,
    /// Sends `text`, one byte a second.
    Drip(String),
    /// Sends `prefix` and then `size` bytes without a line end.
    HugeLine {
        /// The start of the line (e.g. `* OK `).
        prefix: String,
        /// How many more bytes.
        size: usize,
    },
    /// Sends binary garbage (with line ends in it), then closes.
    Garbage,
    /// Sends `greeting` and then an untagged IMAP line every second, forever: each reply
    /// comes in time, but the conversation never ends.
    Trickle(String),
    /// A line-based conversation: the greeting, then for each line received the first
    /// rule whose verb matches. See [`Script`].
    Script(Script),
}

/// A scripted conversation.
#[derive(Clone, Debug, Default)]
pub struct Script {
    /// Sent on connect (lines separated by `\r\n`; a final `\r\n` is added).
    pub greeting: String,
    /// `(verb, reply)`: a received line matches when its first word, or its second word
    /// (after an IMAP tag), equals `verb` case-insensitively; the verb `*` matches any
    /// line (put it last). `{tag}` in the reply becomes the first word of the received line
    /// and `{line}` the whole line (servers that quote the client's command back). A final
    /// `\r\n` is added. Lines matching no rule
    /// get `{tag} BAD unknown` for IMAP-looking greetings, `-ERR unknown` for POP3 and
    /// `500 5.5.1 unknown` otherwise.
    pub rules: Vec<(String, String)>,
    /// Close the connection after replying to this verb (e.g. `LOGOUT`, `QUIT`).
    pub close_after: Vec<String>,
    /// `(verb, delay)`: wait this long before answering `verb` (a slow but honest server,
    /// so a live view can be seen mid-check).
    pub slow: Vec<(String, Duration)>,
}

impl Script {
    /// A script with `greeting` and no rules yet.
    pub fn new(greeting: &str) -> Self {
        Self {
            greeting: greeting.to_owned(),
            rules: Vec::new(),
            close_after: vec!["LOGOUT".to_owned(), "QUIT".to_owned()],
            slow: Vec::new(),
        }
    }

    /// Answers `verb` only after `delay`.
    #[must_use]
    pub fn slow(mut self, verb: &str, delay: Duration) -> Self {
        self.slow.push((verb.to_owned(), delay));
        self
    }

    /// Adds a rule: answer `verb` with `reply`.
    #[must_use]
    pub fn on(mut self, verb: &str, reply: &str) -> Self {
        self.rules.push((verb.to_owned(), reply.to_owned()));
        self
    }

    /// An IMAP server that offers `caps` and answers LOGIN (and AUTHENTICATE) with
    /// `login_reply` (after the tag, e.g. `NO [ALERT] Application-specific password
    /// required`).
    pub fn imap(caps: &str, login_reply: &str) -> Self {
        Self::new("* OK IMAP4rev1 fake ready")
            .on(
                "CAPABILITY",
                &format!("* CAPABILITY {caps}\r\n{{tag}} OK CAPABILITY completed"),
            )
            .on("LOGIN", &format!("{{tag}} {login_reply}"))
            .on("AUTHENTICATE", &format!("{{tag}} {login_reply}"))
            .on("LOGOUT", "* BYE bye\r\n{tag} OK LOGOUT completed")
    }

    /// An SMTP submission server that offers AUTH PLAIN LOGIN and answers AUTH with
    /// `auth_reply` (possibly multi-line, e.g. `534-5.7.9 ...\r\n534 5.7.9 ...`).
    pub fn smtp(auth_reply: &str) -> Self {
        Self::new("220 fake.example ESMTP ready")
            .on(
                "EHLO",
                "250-fake.example\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 ENHANCEDSTATUSCODES",
            )
            .on("AUTH", auth_reply)
            .on("QUIT", "221 2.0.0 bye")
    }
}

/// A running fake server.
#[derive(Debug)]
pub struct FakeServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl FakeServer {
    /// Starts a server with `behavior` on a free loopback port.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start(behavior: Behavior) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let behavior = behavior.clone();
                let stop3 = stop2.clone();
                std::thread::spawn(move || serve(conn, &behavior, &stop3));
            }
        });
        Self { addr, stop }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn serve(mut conn: TcpStream, behavior: &Behavior, stop: &AtomicBool) {
    let _ = conn.set_write_timeout(Some(Duration::from_secs(30)));
    match behavior {
        Behavior::Stall => {
            // Hold the connection until the client gives up (or a minute passes).
            let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
            let mut sink = [0u8; 1024];
            while let Ok(n) = std::io::Read::read(&mut conn, &mut sink) {
                if n == 0 || stop.load(Ordering::SeqCst) {
                    return;
                }
            }
        }
        Behavior::Drip(text) => {
            for b in text.bytes() {
                if stop.load(Ordering::SeqCst) || conn.write_all(&[b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        Behavior::HugeLine { prefix, size } => {
            if conn.write_all(prefix.as_bytes()).is_err() {
                return;
            }
            let chunk = vec![b'a'; 64 * 1024];
            let mut left = *size;
            while left > 0 {
                let n = left.min(chunk.len());
                if stop.load(Ordering::SeqCst) || conn.write_all(&chunk[..n]).is_err() {
                    return;
                }
                left -= n;
            }
            std::thread::sleep(Duration::from_secs(5));
        }
        Behavior::Garbage => {
            // Deterministic noise: a xorshift stream, high bytes first so it cannot look
            // like any protocol, with line ends sprinkled in.
            let mut x: u32 = 0x9e37_79b9;
            let mut out = vec![0xff, 0xfe, 0x00, 0x9c];
            for i in 0..4096 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                out.push(if i % 97 == 96 {
                    b'\n'
                } else {
                    (x & 0xff) as u8
                });
            }
            let _ = conn.write_all(&out);
        }
        Behavior::Trickle(greeting) => {
            if conn
                .write_all(format!("{greeting}\r\n").as_bytes())
                .is_err()
            {
                return;
            }
            while !stop.load(Ordering::SeqCst) && conn.write_all(b"* OK still here\r\n").is_ok() {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        Behavior::Script(script) => run_script(conn, script, stop),
    }
}

fn run_script(mut conn: TcpStream, script: &Script, stop: &AtomicBool) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    if conn
        .write_all(format!("{}\r\n", script.greeting).as_bytes())
        .is_err()
    {
        return;
    }
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let imap = script.greeting.starts_with("* ");
    let pop3 = script.greeting.starts_with("+OK");
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let tag = words.first().copied().unwrap_or("*");
        // A SASL continuation (base64) gets the AUTHENTICATE rule's reply.
        let verb_matches = |verb: &str| {
            words.first().is_some_and(|w| w.eq_ignore_ascii_case(verb))
                || (imap && words.get(1).is_some_and(|w| w.eq_ignore_ascii_case(verb)))
        };
        let rule = script
            .rules
            .iter()
            .find(|(verb, _)| verb == "*" || verb_matches(verb));
        let reply = match rule {
            Some((_, reply)) => reply
                .replace("{tag}", tag)
                .replace("{line}", line.trim_end_matches(['\r', '\n'])),
            None if imap => format!("{tag} BAD unknown command"),
            None if pop3 => "-ERR unknown command".to_owned(),
            None => "500 5.5.1 unknown command".to_owned(),
        };
        if let Some((_, delay)) = script.slow.iter().find(|(verb, _)| verb_matches(verb)) {
            std::thread::sleep(*delay);
        }
        if conn.write_all(format!("{reply}\r\n").as_bytes()).is_err() {
            return;
        }
        if let Some((verb, _)) = rule
            && script
                .close_after
                .iter()
                .any(|c| c.eq_ignore_ascii_case(verb))
        {
            return;
        }
    }
}

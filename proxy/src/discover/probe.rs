//! The probe conversations of guessing, the protocol's way: read and check the greeting,
//! ask for STARTTLS (STLS on POP3) and read the go-ahead. Lines are read byte by byte, so a
//! TLS handshake can follow on the same stream; every failure says what went wrong in
//! every language.

use mailsetup_shared::api::{Protocol, Text};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// The longest line read from a server.
const MAX_LINE: usize = 4096;

/// Reads and checks the server's greeting.
pub(super) async fn greeting<S: AsyncRead + Unpin>(
    s: &mut S,
    protocol: Protocol,
) -> Result<(), Text> {
    match protocol {
        Protocol::Imap => {
            let line = read_line(s).await?;
            if line.starts_with("* OK") || line.starts_with("* PREAUTH") {
                Ok(())
            } else {
                Err(not_greeting("IMAP", &line))
            }
        }
        Protocol::Pop3 => {
            let line = read_line(s).await?;
            if line.starts_with("+OK") {
                Ok(())
            } else {
                Err(not_greeting("POP3", &line))
            }
        }
        Protocol::Smtp => {
            let lines = read_smtp(s).await?;
            if lines.first().is_some_and(|l| l.starts_with("220")) {
                Ok(())
            } else {
                Err(not_greeting(
                    "SMTP",
                    lines.first().map_or("", String::as_str),
                ))
            }
        }
    }
}

/// Asks for STARTTLS (STLS on POP3) and reads the go-ahead.
pub(super) async fn upgrade<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    protocol: Protocol,
) -> Result<(), Text> {
    match protocol {
        Protocol::Imap => {
            send(&mut *s, "a1 STARTTLS\r\n").await?;
            loop {
                let line = read_line(s).await?;
                if line.starts_with("a1 OK") {
                    return Ok(());
                }
                if line.starts_with("a1 ") {
                    return Err(refused("STARTTLS", &line));
                }
            }
        }
        Protocol::Pop3 => {
            send(&mut *s, "STLS\r\n").await?;
            let line = read_line(s).await?;
            if line.starts_with("+OK") {
                Ok(())
            } else {
                Err(refused("STLS", &line))
            }
        }
        Protocol::Smtp => {
            send(&mut *s, "EHLO mailsetup.invalid\r\n").await?;
            let ehlo = read_smtp(s).await?;
            if !ehlo.iter().any(|l| {
                l.get(4..)
                    .is_some_and(|k| k.eq_ignore_ascii_case("STARTTLS"))
            }) {
                return Err(Text::new(
                    "STARTTLS not offered in EHLO",
                    "EHLO не предлагает STARTTLS",
                ));
            }
            send(&mut *s, "STARTTLS\r\n").await?;
            let reply = read_smtp(s).await?;
            if reply.first().is_some_and(|l| l.starts_with("220")) {
                Ok(())
            } else {
                Err(refused(
                    "STARTTLS",
                    reply.first().map_or("", String::as_str),
                ))
            }
        }
    }
}

/// "not an IMAP greeting: <the line>".
fn not_greeting(label: &str, line: &str) -> Text {
    let line = short(line);
    let a = if label == "IMAP" { "an" } else { "a" };
    Text::new(
        format!("not {a} {label} greeting: {line}"),
        format!("это не приветствие {label}: {line}"),
    )
}

/// "STARTTLS refused: <the reply>".
fn refused(command: &str, reply: &str) -> Text {
    let reply = short(reply);
    Text::new(
        format!("{command} refused: {reply}"),
        format!("{command} отклонён: {reply}"),
    )
}

async fn send<S: AsyncWrite + Unpin>(s: &mut S, line: &str) -> Result<(), Text> {
    s.write_all(line.as_bytes())
        .await
        .map_err(|e| Text::new(format!("send: {e}"), format!("отправка: {e}")))
}

/// Reads one CRLF-terminated line, byte by byte (nothing is buffered past it, so a TLS
/// handshake can follow).
async fn read_line<S: AsyncRead + Unpin>(s: &mut S) -> Result<String, Text> {
    let mut line = Vec::new();
    loop {
        let b = s.read_u8().await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Text::new(
                    "the server closed the connection",
                    "сервер закрыл соединение",
                )
            } else {
                Text::new(format!("receive: {e}"), format!("приём: {e}"))
            }
        })?;
        if b == b'\n' {
            break;
        }
        line.push(b);
        if line.len() > MAX_LINE {
            return Err(Text::new("line too long", "слишком длинная строка"));
        }
    }
    let text = String::from_utf8_lossy(&line);
    Ok(text.trim_end_matches('\r').to_owned())
}

/// Reads a (multi-line) SMTP reply.
async fn read_smtp<S: AsyncRead + Unpin>(s: &mut S) -> Result<Vec<String>, Text> {
    let mut lines = Vec::new();
    loop {
        let line = read_line(s).await?;
        let last = line.as_bytes().get(3) != Some(&b'-');
        lines.push(line);
        if last || lines.len() > 100 {
            return Ok(lines);
        }
    }
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn greetings_are_recognised() {
        let mut imap: &[u8] = b"* OK [CAPABILITY IMAP4rev1] ready\r\n";
        assert!(greeting(&mut imap, Protocol::Imap).await.is_ok());
        let mut smtp: &[u8] = b"220-first\r\n220 ready\r\n";
        assert!(greeting(&mut smtp, Protocol::Smtp).await.is_ok());
        let mut http: &[u8] = b"HTTP/1.1 400 Bad Request\r\n";
        assert!(greeting(&mut http, Protocol::Pop3).await.is_err());
        let mut closed: &[u8] = b"";
        assert!(greeting(&mut closed, Protocol::Imap).await.is_err());
    }
}

//! Reading IMAP responses (RFC 9051 §7, §9) over the bounded [`Conn`]: whole responses with
//! their literals, the status word, and the response code, which is recognised only where
//! the grammar puts it, in brackets right after the status word (`OK [CAPABILITY ...]`),
//! never inside the human text after it.
//!
//! Our own small parser rather than imap-codec's: its fragmentizer would read literals
//! over our bounded buffer well enough, but the check needs four facts from a response
//! (tag, status, response code, the CAPABILITY and EXISTS data) and must keep going on the
//! sloppy responses real servers send (a status in lower case, a `* BYE` instead of a
//! tagged reply, a code with no text), which imap-codec's strict decoder refuses; with it
//! we would carry a second, lenient path anyway. What matters for safety is here: a
//! literal's announced size is checked against [`MAX_LINE`] before a byte of it is read, and
//! a whole response, literals included, stays within that limit.

use super::super::net::{Conn, MAX_LINE, NetError};

/// A response's status word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    /// `OK`.
    Ok,
    /// `NO`.
    No,
    /// `BAD`.
    Bad,
    /// `PREAUTH` (greeting only).
    Preauth,
    /// `BYE`.
    Bye,
}

impl Status {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_uppercase().as_str() {
            "OK" => Self::Ok,
            "NO" => Self::No,
            "BAD" => Self::Bad,
            "PREAUTH" => Self::Preauth,
            "BYE" => Self::Bye,
            _ => return None,
        })
    }
}

/// A status response after its tag (or `*`): `OK [CODE args] text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct StatusText<'a> {
    pub(super) status: Status,
    /// The response code's name, upper case (`CAPABILITY`, `AUTHENTICATIONFAILED`).
    pub(super) code: Option<String>,
    /// The response code's arguments (`IMAP4rev1 IDLE` for `[CAPABILITY IMAP4rev1 IDLE]`).
    pub(super) code_args: &'a str,
}

/// Parses `text`, the part of a status response after the tag: the status word, then a
/// response code only when `[` follows it directly.
pub(super) fn status_text(text: &str) -> Option<StatusText<'_>> {
    let text = text.trim_start();
    let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
    let status = Status::parse(word)?;
    let (code, code_args) = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((inside, _)) => {
            let (name, args) = inside.split_once(' ').unwrap_or((inside, ""));
            (Some(name.to_ascii_uppercase()), args)
        }
        None => (None, ""),
    };
    Some(StatusText {
        status,
        code,
        code_args,
    })
}

/// Capabilities from a `[CAPABILITY ...]` response code of a status response: `line` is a
/// whole untagged line (`* OK [CAPABILITY ...] ready`) or a tagged reply's text after the
/// tag (`OK [CAPABILITY ...] Logged in`).
pub(super) fn caps_in_code(line: &str) -> Option<Vec<String>> {
    let text = line.strip_prefix("* ").unwrap_or(line);
    let parsed = status_text(text)?;
    (parsed.code.as_deref() == Some("CAPABILITY")).then(|| upper_words(parsed.code_args))
}

/// Capabilities from an untagged `* CAPABILITY ...` data line.
pub(super) fn caps_in_data(line: &str) -> Option<Vec<String>> {
    let rest = line.strip_prefix("* ")?;
    let (word, args) = rest.split_once(' ').unwrap_or((rest, ""));
    word.eq_ignore_ascii_case("CAPABILITY")
        .then(|| upper_words(args))
}

/// The message count of an untagged `* n EXISTS` line.
pub(super) fn exists(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("* ")?;
    let (n, word) = rest.split_once(' ')?;
    word.trim()
        .eq_ignore_ascii_case("EXISTS")
        .then(|| n.parse().ok())
        .flatten()
}

fn upper_words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_ascii_uppercase).collect()
}

/// The size a line announces for the literal that follows it (`... {12}` or `{12+}`).
pub(super) fn literal_size(line: &str) -> Option<usize> {
    let inner = line.strip_suffix('}')?;
    let start = inner.rfind('{')?;
    let digits = inner[start + 1..].trim_end_matches('+');
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Reads one whole response: a line, and for every literal it announces, the literal's
/// bytes (kept as text, line breaks blanked) and the rest of the line after it. The
/// announced size is checked before anything is read; the whole response stays within
/// [`MAX_LINE`].
pub(super) async fn read_response(conn: &mut Conn) -> Result<String, NetError> {
    let mut response = conn.read_line().await?;
    while let Some(size) = literal_size(&response) {
        if response.len().saturating_add(size) > MAX_LINE {
            return Err(NetError::LineTooLong);
        }
        let bytes = conn.read_bytes(size).await?;
        response.push_str(&String::from_utf8_lossy(&bytes).replace(['\r', '\n'], " "));
        let rest = conn.read_line().await?;
        if response.len() + rest.len() > MAX_LINE {
            return Err(NetError::LineTooLong);
        }
        response.push_str(&rest);
    }
    Ok(response)
}

//! A small Server-Sent Events parser for the live check (`POST /api/v1/check/stream`):
//! bytes in, whole events out. Plain Rust, so it is unit-tested natively.
//!
//! It follows the WHATWG event-stream rules the proxy relies on: lines end in `\n`, `\r\n`
//! or `\r`; `event:` names the event, `data:` lines are joined with `\n`; a blank line ends
//! the event; lines starting with `:` (keep-alive comments) and unknown fields are ignored.
//! Lines are split on bytes before UTF-8 decoding, so a character cut between two chunks
//! is never garbled.

/// One event of the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` name (`message` when the event named none).
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// The parser's state between chunks.
#[derive(Clone, Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    event: String,
    data: Option<String>,
    /// The previous chunk ended in `\r`: a `\n` starting the next one belongs to it.
    after_cr: bool,
}

/// The longest line kept while waiting for its end; a stream sending more is cut off
/// (the proxy's events are a few kilobytes).
const MAX_LINE: usize = 1 << 20;

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk; returns the events it completed. `Err` when a line grows beyond
    /// what any event of ours needs.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, String> {
        let mut out = Vec::new();
        let mut bytes = chunk;
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while let Some(i) = bytes.iter().position(|b| *b == b'\n' || *b == b'\r') {
            self.buf.extend_from_slice(&bytes[..i]);
            let line = String::from_utf8_lossy(&std::mem::take(&mut self.buf)).into_owned();
            if let Some(ev) = self.line(&line) {
                out.push(ev);
            }
            let cr = bytes[i] == b'\r';
            bytes = &bytes[i + 1..];
            if cr {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
        }
        self.buf.extend_from_slice(bytes);
        if self.buf.len() > MAX_LINE {
            return Err("event stream line too long".to_owned());
        }
        Ok(out)
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let data = self.data.take()?;
            let event = std::mem::take(&mut self.event);
            return Some(SseEvent {
                event: if event.is_empty() {
                    "message".to_owned()
                } else {
                    event
                },
                data,
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.event = value.to_owned(),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
        }
    }

    #[test]
    fn whole_events_in_one_chunk() {
        let mut p = SseParser::new();
        let got = p
            .push(b"event: step\ndata: {\"a\":1}\n\nevent: result\ndata: {}\n\n")
            .unwrap();
        assert_eq!(got, vec![ev("step", "{\"a\":1}"), ev("result", "{}")]);
    }

    #[test]
    fn events_split_anywhere_come_out_once_and_whole() {
        let text = "event: step\r\ndata: {\"d\":\"Вход ✓\"}\r\n\r\n:\r\n\r\nevent: result\r\ndata: 1\r\n\r\n";
        let bytes = text.as_bytes();
        for cut in 0..bytes.len() {
            for cut2 in cut..bytes.len() {
                let mut p = SseParser::new();
                let mut got = p.push(&bytes[..cut]).unwrap();
                got.extend(p.push(&bytes[cut..cut2]).unwrap());
                got.extend(p.push(&bytes[cut2..]).unwrap());
                assert_eq!(
                    got,
                    vec![ev("step", "{\"d\":\"Вход ✓\"}"), ev("result", "1")],
                    "cuts at {cut} and {cut2}"
                );
            }
        }
    }

    #[test]
    fn multi_line_data_comments_and_unknown_fields() {
        let mut p = SseParser::new();
        let got = p
            .push(b": keep-alive\n\nid: 7\nretry: 10\ndata:one\ndata: two\ndata\n\n")
            .unwrap();
        assert_eq!(got, vec![ev("message", "one\ntwo\n")]);
    }

    #[test]
    fn bare_cr_line_ends() {
        let mut p = SseParser::new();
        let got = p.push(b"event: step\rdata: x\r\r").unwrap();
        assert_eq!(got, vec![ev("step", "x")]);
    }

    #[test]
    fn an_unfinished_event_is_not_delivered() {
        let mut p = SseParser::new();
        assert!(p.push(b"event: result\ndata: {}\n").unwrap().is_empty());
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut p = SseParser::new();
        let big = vec![b'a'; MAX_LINE + 1];
        assert!(p.push(&big).is_err());
    }
}

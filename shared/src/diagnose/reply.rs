//! A server reply taken apart once for all rules (lowercased text, bracketed IMAP codes,
//! SMTP enhanced status codes, reply codes), and the rules' two matchers: the glob for
//! texts and the prefix match for codes.

/// How much of a reply the rules look at; the rest cannot change the verdict.
const REPLY_SCAN_LIMIT: usize = 4096;

/// A reply taken apart once for all rules.
pub(super) struct Reply {
    /// Lowercased, at most [`REPLY_SCAN_LIMIT`] bytes.
    pub(super) lower: String,
    /// Bracketed codes, uppercased (`AUTHENTICATIONFAILED`, `SYS/TEMP`, `WEBALERT`).
    pub(super) brackets: Vec<String>,
    /// SMTP enhanced status codes (`5.7.8`).
    pub(super) statuses: Vec<String>,
    /// Three-digit reply codes at the start of lines (`535`).
    pub(super) codes: Vec<String>,
}

impl Reply {
    pub(super) fn new(raw: &str) -> Self {
        let mut end = raw.len().min(REPLY_SCAN_LIMIT);
        while !raw.is_char_boundary(end) {
            end -= 1;
        }
        let raw = &raw[..end];
        Self {
            lower: raw.to_lowercase(),
            brackets: brackets(raw),
            statuses: enhanced_statuses(raw),
            codes: reply_codes(raw),
        }
    }
}

fn brackets(raw: &str) -> Vec<String> {
    raw.split('[')
        .skip(1)
        .filter_map(|part| {
            let atom: String = part
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != ']')
                .collect();
            (!atom.is_empty()).then(|| atom.to_ascii_uppercase())
        })
        .collect()
}

/// `class.subject.detail` tokens with class 2, 4 or 5 (RFC 3463).
fn enhanced_statuses(raw: &str) -> Vec<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let boundary_before =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.');
        if boundary_before
            && matches!(bytes[i], b'2' | b'4' | b'5')
            && let Some(len) = status_len(&bytes[i..])
        {
            out.push(raw[i..i + len].to_owned());
            i += len;
            continue;
        }
        i += 1;
    }
    out
}

/// Length of a `d.d{1,3}.d{1,3}` token at the start of `b`, if one ends at a boundary.
fn status_len(b: &[u8]) -> Option<usize> {
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    if b.get(1) != Some(&b'.') {
        return None;
    }
    let subject = digits(2);
    if !(1..=3).contains(&subject) || b.get(2 + subject) != Some(&b'.') {
        return None;
    }
    let detail_at = 3 + subject;
    let detail = digits(detail_at);
    if !(1..=3).contains(&detail) {
        return None;
    }
    let end = detail_at + detail;
    let boundary_after = match b.get(end) {
        None => true,
        Some(c) if c.is_ascii_alphanumeric() => false,
        Some(b'.') => !b.get(end + 1).is_some_and(u8::is_ascii_digit),
        Some(_) => true,
    };
    boundary_after.then_some(end)
}

fn reply_codes(raw: &str) -> Vec<String> {
    raw.lines()
        .filter_map(|line| {
            let b = line.as_bytes();
            let three = b.len() >= 3 && b[..3].iter().all(u8::is_ascii_digit);
            let sep = matches!(b.get(3), None | Some(b' ' | b'-'));
            (three && sep).then(|| line[..3].to_owned())
        })
        .collect()
}

/// `pattern` equals `value`, or ends in `*` and is a prefix of it (ASCII case-insensitive).
pub(super) fn prefix_match(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value
            .get(..prefix.len())
            .is_some_and(|v| v.eq_ignore_ascii_case(prefix)),
        None => value.eq_ignore_ascii_case(pattern),
    }
}

/// Case-insensitive glob search: `*` matches any run of characters, a leading `^`
/// anchors at the start; `\*`, `\^` and `\\` are literal. `text` must be lowercase.
pub(super) fn glob(pattern: &str, text: &str) -> bool {
    let (anchored, pieces) = glob_pieces(pattern);
    let mut pos = 0;
    for (i, piece) in pieces.iter().enumerate() {
        if i == 0 && anchored {
            if !text.starts_with(piece.as_str()) {
                return false;
            }
            pos = piece.len();
            continue;
        }
        match text[pos..].find(piece.as_str()) {
            Some(at) => pos += at + piece.len(),
            None => return false,
        }
    }
    true
}

/// Splits a glob into lowercase literal pieces; whether it is anchored.
pub(super) fn glob_pieces(pattern: &str) -> (bool, Vec<String>) {
    let (anchored, body) = match pattern.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let mut pieces = vec![String::new()];
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next()
                    && let Some(last) = pieces.last_mut()
                {
                    last.extend(next.to_lowercase());
                }
            }
            '*' => pieces.push(String::new()),
            c => {
                if let Some(last) = pieces.last_mut() {
                    last.extend(c.to_lowercase());
                }
            }
        }
    }
    (anchored, pieces)
}

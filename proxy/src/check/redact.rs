//! Removes the client's secret from server text before that text enters a report.
//!
//! Some servers quote the client's command in a refusal (`-ERR [AUTH] failed: PASS
//! <password>`, an SMTP `535` with the base64 `AUTH PLAIN` argument). Every server text
//! that a report, a live step event or a diagnosis carries goes through
//! [`Redactor::text`] first, which replaces every form in which the proxy sent the secret:
//! - as typed (compared without regard to ASCII case), IMAP-quoted (`\"` and `\\`
//!   escapes), and with control characters blanked as reports show them;
//! - base64 of each SASL payload we send (PLAIN's `\0user\0secret`, LOGIN's secret on its
//!   own, XOAUTH2's and OAUTHBEARER's first messages; see [`Redactor::with_payloads`]), as
//!   whole tokens;
//! - any base64 token that contains the secret's bytes at any of the three alignments
//!   (so a payload we did not foresee, or one quoted with other text around it, is caught
//!   too; the whole token goes, not only the part that depends on the secret);
//! - a report text cut short (see [`super::net::clean_text`]) that ends in the first part
//!   of any of those forms (at least [`MIN_TAIL`] characters).
//!
//! The replacement is [`REDACTED`]. The secret itself is held in [`zeroize::Zeroizing`]
//! buffers, like every copy of it the proxy makes.

use zeroize::Zeroizing;

use super::sasl::{b64, plain_message};

/// What replaces a secret in server text.
pub const REDACTED: &str = "[redacted]";

/// The shortest start of a secret form recognised at the end of a cut-short text.
const MIN_TAIL: usize = 4;

/// The shortest base64 fragment looked for inside other base64 tokens.
const MIN_FRAGMENT: usize = 4;

/// The forms of one secret to take out of server text.
pub struct Redactor {
    /// Plain-text forms, ASCII-lowercased (compared against lowercased text).
    plain: Vec<Zeroizing<String>>,
    /// Whole base64 forms (case matters).
    encoded: Vec<Zeroizing<String>>,
    /// Base64 fragments that depend only on the secret's bytes, one per alignment.
    fragments: Vec<Zeroizing<String>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor([redacted])")
    }
}

impl Redactor {
    /// The forms of `secret` as sent by user `username`.
    pub fn new(username: &str, secret: &str) -> Self {
        let mut plain: Vec<Zeroizing<String>> = Vec::new();
        let mut add_plain = |s: String| {
            let s = Zeroizing::new(s.to_ascii_lowercase());
            if !s.is_empty() && !plain.contains(&s) {
                plain.push(s);
            }
        };
        add_plain(secret.to_owned());
        add_plain(secret.replace('\\', "\\\\").replace('"', "\\\""));
        add_plain(
            secret
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
                .trim()
                .to_owned(),
        );
        // The payloads exactly as the protocol modules send them.
        let encoded = vec![b64(&*plain_message(username, secret)), b64(secret)];
        let fragments = (0..3usize)
            .filter_map(|offset| {
                // With `offset` bytes before it, the secret's bytes alone decide the
                // characters from `skip` to four before the end.
                let mut bytes = Zeroizing::new(vec![0u8; offset]);
                bytes.extend_from_slice(secret.as_bytes());
                let all = b64(&*bytes);
                let skip = [0, 2, 3][offset];
                let end = all.len().checked_sub(4)?;
                let part = all.get(skip..end)?;
                (part.len() >= MIN_FRAGMENT).then(|| Zeroizing::new(part.to_owned()))
            })
            .collect();
        Self {
            plain,
            encoded,
            fragments,
        }
    }

    /// Also takes out these base64 payloads (the token mechanisms' first messages, which
    /// name the server as well as the secret).
    #[must_use]
    pub fn with_payloads(mut self, payloads: &[Zeroizing<String>]) -> Self {
        for p in payloads {
            if !p.is_empty() && !self.encoded.contains(p) {
                self.encoded.push(p.clone());
            }
        }
        self
    }

    /// `text` with every form of the secret replaced by [`REDACTED`].
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for form in &self.plain {
            out = replace_ascii_case_insensitive(&out, form);
        }
        for form in &self.encoded {
            out = out.replace(form.as_str(), REDACTED);
        }
        out = self.redact_tokens(&out);
        self.redact_cut_tail(out)
    }

    /// Replaces base64-looking tokens that contain a fragment of the secret.
    fn redact_tokens(&self, text: &str) -> String {
        if self.fragments.is_empty() {
            return text.to_owned();
        }
        let is_b64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(is_b64) {
            out.push_str(&rest[..start]);
            let token_len = rest[start..]
                .find(|c| !is_b64(c))
                .unwrap_or(rest.len() - start);
            let token = &rest[start..start + token_len];
            if self.fragments.iter().any(|f| token.contains(f.as_str())) {
                out.push_str(REDACTED);
            } else {
                out.push_str(token);
            }
            rest = &rest[start + token_len..];
        }
        out.push_str(rest);
        out
    }

    /// A text cut short may end in the first characters of a secret form.
    fn redact_cut_tail(&self, mut text: String) -> String {
        let body_len = text.trim_end_matches(['…', ' ']).len();
        let body = &text[..body_len];
        let lower = body.to_ascii_lowercase();
        let mut cut = None;
        let forms = self
            .plain
            .iter()
            .map(|f| (f, true))
            .chain(self.encoded.iter().map(|f| (f, false)));
        for (form, fold) in forms {
            let hay = if fold { lower.as_str() } else { body };
            // The longest start of `form` that `hay` ends with.
            let longest = (MIN_TAIL..form.len())
                .rev()
                .filter(|&n| form.is_char_boundary(n))
                .find(|&n| hay.ends_with(&form[..n]));
            if let Some(n) = longest {
                let at = body_len - n;
                cut = Some(cut.map_or(at, |c: usize| c.min(at)));
            }
        }
        if let Some(at) = cut {
            text.replace_range(at..body_len, REDACTED);
        }
        text
    }
}

/// Replaces every occurrence of `needle` (lowercase ASCII folding) in `text`.
fn replace_ascii_case_insensitive(text: &str, needle: &str) -> String {
    if needle.is_empty() {
        return text.to_owned();
    }
    // ASCII lowercasing keeps every byte offset, so positions found in `lower` are valid
    // in `text`.
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in lower.match_indices(needle) {
        if at < last {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str(REDACTED);
        last = at + needle.len();
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "alice@example.com";
    const SECRET: &str = "Sup3r\"Secr\\et-42";

    fn r() -> Redactor {
        Redactor::new(USER, SECRET)
    }

    fn b64s(s: &[u8]) -> String {
        b64(s).to_string()
    }

    #[test]
    fn every_form_is_removed() {
        let plain_blob = b64s(format!("\0{USER}\0{SECRET}").as_bytes());
        let cases = [
            format!("-ERR [AUTH] failed: PASS {SECRET}"),
            format!("-ERR failed: PASS {}", SECRET.to_ascii_uppercase()),
            r#"a1 NO LOGIN "alice" "Sup3r\"Secr\\et-42" refused"#.to_owned(),
            format!("535 5.7.8 AUTH PLAIN {plain_blob} rejected"),
            format!("535 5.7.8 {} rejected", b64s(SECRET.as_bytes())),
            // A payload we never send, with the secret inside, at each alignment.
            format!("NO {}", b64s(format!("x{SECRET}y").as_bytes())),
            format!("NO {}", b64s(format!("xy{SECRET}").as_bytes())),
            format!(
                "NO {}",
                b64s(format!("user=a\x01auth=Bearer {SECRET}\x01\x01").as_bytes())
            ),
            // Cut short: the text ends in the start of the secret or of the blob.
            format!("-ERR PASS {}…", &SECRET[..6]),
            format!("535 AUTH PLAIN {}…", &plain_blob[..20]),
        ];
        for case in &cases {
            let clean = r().text(case);
            assert!(clean.contains(REDACTED), "{case} -> {clean}");
            let lower = clean.to_ascii_lowercase();
            assert!(!lower.contains("sup3r"), "{case} -> {clean}");
            assert!(!clean.contains(&plain_blob[..12]), "{case} -> {clean}");
            for f in &r().fragments {
                assert!(!clean.contains(f.as_str()), "{case} -> {clean}");
            }
        }
    }

    #[test]
    fn other_text_is_kept() {
        let text = "a1 NO [AUTHENTICATIONFAILED] Authentication failed. LOGIN refused";
        assert_eq!(r().text(text), text);
        let caps = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE AUTH=PLAIN";
        assert_eq!(r().text(caps), caps);
        // The user name is not secret.
        assert_eq!(
            r().text("NO alice@example.com unknown"),
            "NO alice@example.com unknown"
        );
    }

    #[test]
    fn debug_shows_nothing() {
        assert_eq!(format!("{:?}", r()), "Redactor([redacted])");
    }
}

//! Internationalized domain names: a Unicode name (`пример.рф`) to its lowercase ASCII form
//! (`xn--e1afmkfd.xn--p1ai`) and back, for addresses and server names.
//!
//! Natively (the default feature `idna`) this is the `idna` crate (UTS 46). Its Unicode
//! mapping and normalisation tables are the largest single part of a wasm build, and every
//! browser already has them in its URL parser, so the front end builds `shared` without
//! the feature and installs the browser's conversion with [`set_to_ascii`] at start-up.
//! ASCII names never need the tables: they are lowercased here, and their `xn--` labels
//! are checked with the small RFC 3492 decoder below, which also turns them back into
//! Unicode for display.

use std::sync::OnceLock;

/// A name that has no valid ASCII form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidName;

/// Converts a Unicode domain name to lowercase ASCII; `None` when it is not a valid name.
/// It is only called with input that has non-ASCII characters and none of the characters
/// a URL host may not contain.
pub type ToAscii = fn(&str) -> Option<String>;

static TO_ASCII: OnceLock<ToAscii> = OnceLock::new();

/// Installs the conversion of non-ASCII names (the front end passes the browser's URL
/// parser). The first one installed stays; it wins over the `idna` crate when both exist.
pub fn set_to_ascii(convert: ToAscii) {
    let _ = TO_ASCII.set(convert);
}

/// Characters a URL host may not contain (the WHATWG URL standard's forbidden domain code
/// points, and `%`, which a URL parser would percent-decode). The `idna` crate refuses the
/// same, so both routes agree on them.
fn forbidden(c: char) -> bool {
    c.is_ascii_control()
        || matches!(
            c,
            ' ' | '#' | '%' | '/' | ':' | '<' | '>' | '?' | '@' | '[' | '\\' | ']' | '^' | '|'
        )
}

/// The lowercase ASCII form of `domain` (UTS 46 processing; punycode for non-ASCII labels).
/// Labels are not checked for LDH syntax here; callers do that.
pub fn to_ascii(domain: &str) -> Result<String, InvalidName> {
    if domain.is_ascii() {
        return ascii_to_ascii(domain);
    }
    if domain.chars().any(forbidden) {
        return Err(InvalidName);
    }
    if let Some(convert) = TO_ASCII.get() {
        let ascii = convert(domain).ok_or(InvalidName)?;
        // Whatever the platform answered is treated like typed ASCII: checked again.
        return if ascii.is_ascii() {
            ascii_to_ascii(&ascii)
        } else {
            Err(InvalidName)
        };
    }
    #[cfg(feature = "idna")]
    {
        idna::domain_to_ascii(domain).map_err(|_| InvalidName)
    }
    #[cfg(not(feature = "idna"))]
    {
        Err(InvalidName)
    }
}

/// The Unicode form of an ASCII domain, for display; `None` when a `xn--` label is not
/// valid punycode.
pub fn to_unicode(ascii: &str) -> Option<String> {
    #[cfg(feature = "idna")]
    {
        let (unicode, result) = idna::domain_to_unicode(ascii);
        result.is_ok().then_some(unicode)
    }
    #[cfg(not(feature = "idna"))]
    {
        let labels: Option<Vec<String>> = ascii.split('.').map(label_to_unicode).collect();
        labels.map(|l| l.join("."))
    }
}

/// An ASCII name: lowercased, with every `xn--` label checked to be valid punycode.
fn ascii_to_ascii(domain: &str) -> Result<String, InvalidName> {
    if domain.chars().any(forbidden) {
        return Err(InvalidName);
    }
    #[cfg(feature = "idna")]
    if TO_ASCII.get().is_none() {
        return idna::domain_to_ascii(domain).map_err(|_| InvalidName);
    }
    let lower = domain.to_ascii_lowercase();
    if lower.split('.').all(|l| label_to_unicode(l).is_some()) {
        Ok(lower)
    } else {
        Err(InvalidName)
    }
}

/// One label for display: a `xn--` label decoded, any other label as it is.
fn label_to_unicode(label: &str) -> Option<String> {
    let Some(encoded) = label
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("xn--"))
        .map(|_| &label[4..])
    else {
        return Some(label.to_owned());
    };
    let decoded = punycode_decode(encoded)?;
    // A punycode label must stand for something that needed it, and the decoded
    // label must not itself contain dots or forbidden characters.
    let valid = !decoded.is_ascii() && !decoded.chars().any(|c| c == '.' || forbidden(c));
    valid.then_some(decoded)
}

/// RFC 3492 decoding of the part of a label after `xn--`; `None` when it is malformed.
fn punycode_decode(input: &str) -> Option<String> {
    const BASE: u32 = 36;
    const T_MIN: u32 = 1;
    const T_MAX: u32 = 26;
    const SKEW: u32 = 38;
    const DAMP: u32 = 700;
    const INITIAL_BIAS: u32 = 72;
    const INITIAL_N: u32 = 128;

    fn adapt(delta: u32, points: u32, first: bool) -> u32 {
        let mut delta = if first { delta / DAMP } else { delta / 2 };
        delta += delta / points;
        let mut k = 0;
        while delta > ((BASE - T_MIN) * T_MAX) / 2 {
            delta /= BASE - T_MIN;
            k += BASE;
        }
        k + (BASE - T_MIN + 1) * delta / (delta + SKEW)
    }

    if input.is_empty() || !input.is_ascii() {
        return None;
    }
    let (basic, extended) = match input.rfind('-') {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => ("", input),
    };
    let mut output: Vec<char> = basic.chars().collect();
    let (mut n, mut i, mut bias) = (INITIAL_N, 0u32, INITIAL_BIAS);
    let mut digits = extended.bytes().peekable();
    while digits.peek().is_some() {
        let old_i = i;
        let mut w = 1u32;
        let mut k = BASE;
        loop {
            let digit = match digits.next()? {
                b @ b'a'..=b'z' => u32::from(b - b'a'),
                b @ b'A'..=b'Z' => u32::from(b - b'A'),
                b @ b'0'..=b'9' => u32::from(b - b'0') + 26,
                _ => return None,
            };
            i = i.checked_add(digit.checked_mul(w)?)?;
            let t = if k <= bias {
                T_MIN
            } else if k >= bias + T_MAX {
                T_MAX
            } else {
                k - bias
            };
            if digit < t {
                break;
            }
            w = w.checked_mul(BASE - t)?;
            k += BASE;
        }
        let len = u32::try_from(output.len()).ok()? + 1;
        bias = adapt(i - old_i, len, old_i == 0);
        n = n.checked_add(i / len)?;
        i %= len;
        let c = char::from_u32(n)?;
        output.insert(usize::try_from(i).ok()?, c);
        i += 1;
    }
    Some(output.into_iter().collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn punycode_decodes_rfc_3492_samples_and_refuses_garbage() {
        assert_eq!(punycode_decode("e1afmkfd").as_deref(), Some("пример"));
        assert_eq!(punycode_decode("p1ai").as_deref(), Some("рф"));
        assert_eq!(punycode_decode("mnchen-3ya").as_deref(), Some("münchen"));
        assert_eq!(
            punycode_decode("ihqwcrb4cv8a8dqg056pqjye").as_deref(),
            Some("他们为什么不说中文")
        );
        for bad in ["", "99999999999", "a-!", "ü"] {
            assert_eq!(punycode_decode(bad), None, "{bad}");
        }
        // Valid punycode for plain ASCII is not a valid label.
        assert_eq!(label_to_unicode("xn--abc-"), None);
        assert_eq!(label_to_unicode("xn--a.b-"), None);
        assert_eq!(label_to_unicode("mail").as_deref(), Some("mail"));
    }

    #[test]
    fn own_decoder_agrees_with_the_idna_crate() {
        for name in [
            "пример.рф",
            "münchen.de",
            "bücher.example",
            "例え.テスト",
            "παράδειγμα.δοκιμή",
        ] {
            let ascii = to_ascii(name).unwrap();
            let ours: Option<Vec<String>> = ascii.split('.').map(label_to_unicode).collect();
            assert_eq!(
                ours.unwrap().join("."),
                to_unicode(&ascii).unwrap(),
                "{name}"
            );
        }
    }

    #[test]
    fn ascii_names_are_lowercased_and_bad_punycode_refused() {
        assert_eq!(to_ascii("Mail.Example.COM").unwrap(), "mail.example.com");
        assert_eq!(
            to_ascii("XN--E1AFMKFD.xn--p1ai").unwrap(),
            "xn--e1afmkfd.xn--p1ai"
        );
        assert!(to_ascii("xn--zzzzzzzzzzzzzz-.com").is_err());
        for bad in ["a b.com", "a%41.com", "a/b.com", "a@b.com", "ex:1.com"] {
            assert!(to_ascii(bad).is_err(), "{bad}");
            assert!(ascii_to_ascii(bad).is_err(), "{bad}");
        }
    }
}

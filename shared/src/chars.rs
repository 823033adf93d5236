//! Character classes every text field shares (addresses, passwords, host names): one
//! definition, so the email and validation modules need not import each other.

/// Zero-width and other invisible characters pasted along with text.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{202A}'..='\u{202E}'
    )
}

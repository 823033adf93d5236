//! The types that hold a mailbox password or an OAuth token, so they cannot leak by accident.
//!
//! Invariant: `Debug` and `Display` never print the secret, the bytes are zeroized on drop
//! and the type is never serialized by the proxy (only deserialized from a request).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use zeroize::Zeroizing;

/// A password or app password. Prints as `[redacted]`; zeroized when dropped.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps a password typed or pasted by the user.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret itself, for the one place that sends it to a server.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the password is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Password::new)
    }
}

/// Serialization exists for the browser, which sends the password to the proxy; the proxy
/// never serializes a `Password` into a response.
impl Serialize for Password {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// An OAuth 2.0 access or refresh token. A secret exactly like a [`Password`]: prints as
/// `[redacted]`, zeroized when dropped, never logged, stored or echoed by the proxy. It is
/// serialized only into the OAuth hand-over the host opted in to (`data-return-credentials`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Token(Zeroizing<String>);

impl Token {
    /// Wraps a token received from a provider or a host app.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret itself, for the one place that sends it to a server.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the token is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Token::new)
    }
}

impl Serialize for Token {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let p = Password::new("abcdabcdabcdabcd");
        assert_eq!(format!("{p:?}"), "Password([redacted])");
        assert_eq!(format!("{p}"), "[redacted]");
        assert_eq!(p.expose(), "abcdabcdabcdabcd");
        let t = Token::new("ya29.a0AfH6");
        assert_eq!(format!("{t:?}"), "Token([redacted])");
        assert_eq!(format!("{t}"), "[redacted]");
    }

    #[test]
    fn deserializes_from_a_json_string() {
        let p: Password = serde_json::from_str("\"s3cret\"").unwrap();
        assert_eq!(p.expose(), "s3cret");
    }
}

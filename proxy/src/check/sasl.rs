//! Every SASL mechanism the check logs in with, in one place: PLAIN (RFC 4616), LOGIN,
//! XOAUTH2 (Google's and Microsoft's) and OAUTHBEARER (RFC 7628). The protocol sessions
//! only frame the exchange (IMAP `AUTHENTICATE` and `+` continuations, POP3 `AUTH` and `+`,
//! SMTP `AUTH` and `334`); what to send first, how to answer a challenge and what a
//! failure challenge means is decided here. Adding a mechanism touches this file (and the
//! choice of mechanism per protocol, which reads [`Mechanism::offered`]).
//!
//! Choosing the token mechanism: the one the request asks for (`auth.sasl`) when given,
//! tried even when the server does not list it; else OAUTHBEARER when the server offers it
//! (the standard one; Gmail and Dovecot offer both), else XOAUTH2 (Microsoft offers only
//! that).
//!
//! On failure an XOAUTH2/OAUTHBEARER server sends a challenge with a base64 JSON error
//! (`{"status":"401","schemes":"bearer","scope":"..."}`). The client must answer it before
//! the server sends its final refusal: an empty response for XOAUTH2, a single `%x01` for
//! OAUTHBEARER (RFC 7628 §3.2.3). The JSON is kept as [`OAuthError`] for the diagnosis.
//!
//! Invariant: every buffer that holds the secret is zeroized on drop; no more than
//! [`MAX_ROUNDS`] challenges are answered, then the exchange is cancelled.

use mailsetup_shared::api::{Credential, OAuthSasl};
use zeroize::Zeroizing;

/// Most server challenges answered in one exchange (LOGIN needs two).
pub(super) const MAX_ROUNDS: usize = 3;

/// The largest JSON error challenge read (decoded); longer ones are cut.
const MAX_ERROR_JSON: usize = 2048;

/// A SASL mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mechanism {
    /// `\0user\0password` in one message.
    Plain,
    /// The user name and the password, each answering a challenge.
    Login,
    /// `user=...^Aauth=Bearer <token>^A^A`.
    Xoauth2,
    /// RFC 7628: a GS2 header, then `host`, `port` and `auth=Bearer <token>`.
    Oauthbearer,
}

impl Mechanism {
    /// The name in commands and capability lists.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::Login => "LOGIN",
            Self::Xoauth2 => "XOAUTH2",
            Self::Oauthbearer => "OAUTHBEARER",
        }
    }

    /// Whether `offered` (mechanism names, any case) lists this one.
    pub(crate) fn offered(self, offered: &[String]) -> bool {
        offered.iter().any(|m| m.eq_ignore_ascii_case(self.name()))
    }

    /// Whether the first message goes before any challenge (PLAIN, the token ones).
    fn has_initial(self) -> bool {
        !matches!(self, Self::Login)
    }
}

impl From<OAuthSasl> for Mechanism {
    fn from(sasl: OAuthSasl) -> Self {
        match sasl {
            OAuthSasl::Xoauth2 => Self::Xoauth2,
            OAuthSasl::Oauthbearer => Self::Oauthbearer,
        }
    }
}

/// The token mechanism for a server offering `offered`: `asked` when given, else
/// OAUTHBEARER when offered, else XOAUTH2 when offered; `None` when it offers neither.
pub(crate) fn token_mechanism(asked: Option<OAuthSasl>, offered: &[String]) -> Option<Mechanism> {
    if let Some(asked) = asked {
        return Some(asked.into());
    }
    [Mechanism::Oauthbearer, Mechanism::Xoauth2]
        .into_iter()
        .find(|m| m.offered(offered))
}

/// Who logs in, and where (OAUTHBEARER names the server).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Login<'a> {
    /// The login name.
    pub(crate) username: &'a str,
    /// The password or token.
    pub(crate) credential: Credential<'a>,
    /// The server's host name, as connected to.
    pub(crate) host: &'a str,
    /// The server's port.
    pub(crate) port: u16,
}

/// The server's JSON error challenge of a failed token login (RFC 7628 §3.2.2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct OAuthError {
    /// `status`: `invalid_token`, `insufficient_scope`, or an HTTP code (`"401"`,
    /// `"400"`) from XOAUTH2 servers.
    pub(crate) status: Option<String>,
    /// `scope`: the scope the server wants.
    pub(crate) scope: Option<String>,
    /// The decoded challenge, for the diagnosis's server words (never has the token).
    pub(crate) text: String,
}

impl OAuthError {
    /// Whether the server says the token lacks the mail scope (RFC 7628
    /// `insufficient_scope`, HTTP 403; Google answers XOAUTH2 with `"400"` for a token
    /// without `https://mail.google.com/`).
    pub(crate) fn scope_missing(&self) -> bool {
        matches!(
            self.status
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("insufficient_scope" | "403" | "400")
        )
    }
}

/// One SASL exchange: what to send first and how to answer each challenge.
pub(crate) struct Exchange<'a> {
    mechanism: Mechanism,
    login: Login<'a>,
    /// Whether the first message went out (as an initial response or answering `+`).
    sent_first: bool,
    /// LOGIN's next answer: 0 the user name, 1 the password.
    step: usize,
    rounds: usize,
    /// The token server's error challenge, once one came.
    pub(crate) error: Option<OAuthError>,
}

impl std::fmt::Debug for Exchange<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("mechanism", &self.mechanism)
            .field("rounds", &self.rounds)
            .finish_non_exhaustive()
    }
}

/// What to do with a server challenge.
#[derive(Debug)]
pub(crate) enum Answer {
    /// Send this line (base64, or empty).
    Send(Zeroizing<String>),
    /// Too many rounds: cancel the exchange (`*`) and read the final reply.
    Cancel,
}

impl<'a> Exchange<'a> {
    pub(crate) fn new(mechanism: Mechanism, login: Login<'a>) -> Self {
        Self {
            mechanism,
            login,
            sent_first: false,
            step: 0,
            rounds: 0,
            error: None,
        }
    }

    /// The mechanism's name.
    pub(crate) fn name(&self) -> &'static str {
        self.mechanism.name()
    }

    /// The initial response (base64), sent on the command line when the protocol and the
    /// server allow it; `None` for mechanisms without one.
    pub(crate) fn initial(&mut self) -> Option<Zeroizing<String>> {
        if !self.mechanism.has_initial() {
            return None;
        }
        self.sent_first = true;
        Some(b64(self.first_message()))
    }

    /// [`initial`](Self::initial) when its base64 is at most `max` characters (POP3 keeps
    /// commands within 255 octets); `None` leaves the first message for the first `+`.
    pub(crate) fn initial_within(&mut self, max: usize) -> Option<Zeroizing<String>> {
        if !self.mechanism.has_initial() {
            return None;
        }
        let first = b64(self.first_message());
        (first.len() <= max).then(|| {
            self.sent_first = true;
            first
        })
    }

    /// The command line that starts the exchange: `command` (`AUTH XOAUTH2`, `a3
    /// AUTHENTICATE PLAIN`), then the initial response when there is one (`=` for an empty
    /// one: RFC 4959, 4954, 5034).
    pub(crate) fn start_line(command: &str, initial: Option<&str>) -> Zeroizing<String> {
        Zeroizing::new(match initial {
            Some("") => format!("{command} ="),
            Some(ir) => format!("{command} {ir}"),
            None => command.to_owned(),
        })
    }

    /// The line that answers a challenge: [`answer`](Self::answer)'s, or `*`, which
    /// cancels the exchange (every protocol's way).
    pub(crate) fn reply(&mut self, challenge: &str) -> Zeroizing<String> {
        match self.answer(challenge) {
            Answer::Send(s) => s,
            Answer::Cancel => Zeroizing::new("*".to_owned()),
        }
    }

    /// The answer to a challenge (`challenge` is the base64 text after `+ `/`334 `).
    pub(crate) fn answer(&mut self, challenge: &str) -> Answer {
        self.rounds += 1;
        if self.rounds > MAX_ROUNDS {
            return Answer::Cancel;
        }
        match self.mechanism {
            Mechanism::Login => {
                let step = self.step;
                self.step += 1;
                match step {
                    0 => Answer::Send(b64(self.login.username)),
                    1 => Answer::Send(b64(self.login.credential.secret())),
                    _ => Answer::Cancel,
                }
            }
            _ if !self.sent_first => {
                // The server wants the first message after an empty challenge.
                self.sent_first = true;
                Answer::Send(b64(self.first_message()))
            }
            Mechanism::Plain => Answer::Cancel,
            Mechanism::Xoauth2 | Mechanism::Oauthbearer => {
                // The first message went out: this is the error challenge.
                self.error = Some(decode_error(challenge));
                Answer::Send(Zeroizing::new(match self.mechanism {
                    Mechanism::Oauthbearer => "AQ==".to_owned(),
                    _ => String::new(),
                }))
            }
        }
    }

    /// The first client message, raw.
    fn first_message(&self) -> Zeroizing<Vec<u8>> {
        let Login {
            username,
            credential,
            host,
            port,
        } = self.login;
        let secret = credential.secret();
        match self.mechanism {
            Mechanism::Plain => plain_message(username, secret),
            Mechanism::Login => Zeroizing::new(Vec::new()),
            Mechanism::Xoauth2 => Zeroizing::new(
                format!("user={username}\x01auth=Bearer {secret}\x01\x01").into_bytes(),
            ),
            Mechanism::Oauthbearer => {
                let user = username.replace('=', "=3D").replace(',', "=2C");
                Zeroizing::new(
                    format!(
                        "n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {secret}\x01\x01"
                    )
                    .into_bytes(),
                )
            }
        }
    }

    /// Base64 of every first message this login could send, for the redactor.
    pub(crate) fn payloads(login: Login<'_>) -> Vec<Zeroizing<String>> {
        [Mechanism::Plain, Mechanism::Xoauth2, Mechanism::Oauthbearer]
            .into_iter()
            .map(|m| b64(Exchange::new(m, login).first_message()))
            .collect()
    }
}

/// The SASL PLAIN message (`\0user\0password`, RFC 4616), in a buffer zeroed on drop.
pub(crate) fn plain_message(username: &str, secret: &str) -> Zeroizing<Vec<u8>> {
    let mut raw = Zeroizing::new(Vec::with_capacity(username.len() + secret.len() + 2));
    raw.push(0);
    raw.extend_from_slice(username.as_bytes());
    raw.push(0);
    raw.extend_from_slice(secret.as_bytes());
    raw
}

/// Standard base64, in a buffer zeroed on drop.
pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> Zeroizing<String> {
    use base64::Engine as _;
    Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Reads a token server's error challenge: base64 of a JSON object; anything else is kept
/// as text with no status.
fn decode_error(challenge: &str) -> OAuthError {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(challenge.trim())
        .unwrap_or_default();
    let raw = &raw[..raw.len().min(MAX_ERROR_JSON)];
    let text = String::from_utf8_lossy(raw).into_owned();
    let json: Option<serde_json::Map<String, serde_json::Value>> = serde_json::from_slice(raw).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    };
    OAuthError {
        status: field("status"),
        scope: field("scope"),
        text,
    }
}

#[cfg(test)]
mod tests {
    use mailsetup_shared::secret::{Password, Token};

    use super::*;

    fn decode(s: &str) -> Vec<u8> {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.decode(s).unwrap()
    }

    /// `user` logging in with `password` at a made-up server.
    fn password_login(password: &Password) -> Login<'_> {
        Login {
            username: "user",
            credential: Credential::Password(password),
            host: "h",
            port: 1,
        }
    }

    #[test]
    fn plain_encodes_user_and_password() {
        let password = Password::new("pass");
        let mut ex = Exchange::new(Mechanism::Plain, password_login(&password));
        // base64("\0user\0pass")
        assert_eq!(&*ex.initial().unwrap(), "AHVzZXIAcGFzcw==");
    }

    #[test]
    fn login_answers_the_user_then_the_password() {
        let password = Password::new("pass");
        let mut ex = Exchange::new(Mechanism::Login, password_login(&password));
        assert!(ex.initial().is_none());
        assert!(matches!(ex.answer("VXNlcm5hbWU6"), Answer::Send(s) if &*s == "dXNlcg=="));
        assert!(matches!(ex.answer("UGFzc3dvcmQ6"), Answer::Send(s) if &*s == "cGFzcw=="));
        assert!(matches!(ex.answer(""), Answer::Cancel));
    }

    #[test]
    fn exchange_lines_frame_the_initial_response_and_cancel_with_a_star() {
        assert_eq!(
            &*Exchange::start_line("AUTH PLAIN", Some("")),
            "AUTH PLAIN ="
        );
        assert_eq!(
            &*Exchange::start_line("AUTH PLAIN", Some("AHU=")),
            "AUTH PLAIN AHU="
        );
        assert_eq!(
            &*Exchange::start_line("a3 AUTHENTICATE LOGIN", None),
            "a3 AUTHENTICATE LOGIN"
        );
        let password = Password::new("pass");
        let mut ex = Exchange::new(Mechanism::Plain, password_login(&password));
        assert!(ex.initial().is_some());
        // PLAIN has nothing more to say: a further challenge is cancelled.
        assert_eq!(&*ex.reply(""), "*");
    }

    #[test]
    fn token_messages_follow_the_specs() {
        let token = Token::new("ya29.tok");
        let login = Login {
            username: "a,b=c@example.com",
            credential: Credential::OAuth2 {
                token: &token,
                sasl: None,
            },
            host: "imap.example.com",
            port: 993,
        };
        let mut x = Exchange::new(Mechanism::Xoauth2, login);
        assert_eq!(
            decode(&x.initial().unwrap()),
            b"user=a,b=c@example.com\x01auth=Bearer ya29.tok\x01\x01"
        );
        let mut o = Exchange::new(Mechanism::Oauthbearer, login);
        assert_eq!(
            decode(&o.initial().unwrap()),
            b"n,a=a=2Cb=3Dc@example.com,\x01host=imap.example.com\x01port=993\x01auth=Bearer ya29.tok\x01\x01"
        );
        // The error challenge is answered (empty for XOAUTH2, ^A for OAUTHBEARER) and kept.
        let challenge =
            b64(br#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#);
        assert!(matches!(x.answer(&challenge), Answer::Send(s) if s.is_empty()));
        let err = x.error.clone().unwrap();
        assert_eq!(err.status.as_deref(), Some("400"));
        assert!(err.scope_missing());
        let challenge = b64(br#"{"status":"invalid_token","scope":"mail"}"#);
        assert!(matches!(o.answer(&challenge), Answer::Send(s) if &*s == "AQ=="));
        assert!(!o.error.clone().unwrap().scope_missing());
        // Without an initial response, the first (empty) challenge gets the message.
        let mut late = Exchange::new(Mechanism::Xoauth2, login);
        assert!(matches!(late.answer(""), Answer::Send(s) if decode(&s).starts_with(b"user=")));
        assert!(matches!(late.answer("bm90IGpzb24="), Answer::Send(s) if s.is_empty()));
        assert_eq!(late.error.clone().unwrap().text, "not json");
        assert!(matches!(late.answer(""), Answer::Send(_)));
        assert!(matches!(late.answer(""), Answer::Cancel));
    }

    #[test]
    fn the_token_mechanism_is_the_asked_one_or_the_standard_one_offered() {
        let caps = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let both = caps(&["PLAIN", "xoauth2", "OAUTHBEARER"]);
        assert_eq!(token_mechanism(None, &both), Some(Mechanism::Oauthbearer));
        assert_eq!(
            token_mechanism(Some(OAuthSasl::Xoauth2), &both),
            Some(Mechanism::Xoauth2)
        );
        assert_eq!(
            token_mechanism(None, &caps(&["PLAIN", "XOAUTH2"])),
            Some(Mechanism::Xoauth2)
        );
        assert_eq!(token_mechanism(None, &caps(&["PLAIN"])), None);
        assert_eq!(
            token_mechanism(Some(OAuthSasl::Oauthbearer), &caps(&[])),
            Some(Mechanism::Oauthbearer)
        );
    }
}

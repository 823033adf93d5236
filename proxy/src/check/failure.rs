//! Why a side of a check failed ([`Failure`]: a diagnosis code and the step's detail in
//! every language), why a protocol session's step did not work ([`Fault`]: decided by the
//! session, or a server's refusal that `diag` classifies), and the failures shared by the
//! protocol clients: a greeting of the wrong protocol, a reply that breaks the protocol, a
//! network error while waiting.

use mailsetup_shared::api::{DiagnosisCode, Protocol, Text};

use super::net::{self, NetError};
use super::sasl::OAuthError;
use crate::i18n::verbatim;

/// Why a side failed.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(super) code: DiagnosisCode,
    /// What happened, for the step's detail, in every language.
    pub(super) detail: Text,
    pub(super) server_reply: Option<String>,
    pub(super) cert_names: Vec<String>,
}

impl Failure {
    pub(super) fn new(code: DiagnosisCode, detail: Text) -> Self {
        Self {
            code,
            detail,
            server_reply: None,
            cert_names: Vec::new(),
        }
    }

    /// A refusal in the server's own words.
    pub(super) fn reply(code: DiagnosisCode, reply: &str) -> Self {
        let text = net::clean_text(reply);
        Self {
            code,
            detail: verbatim(text.clone()),
            server_reply: Some(text),
            cert_names: Vec::new(),
        }
    }

    /// A network failure while waiting for `what` (a protocol command, which reads the
    /// same in every language, or [`GREETING`]).
    pub(super) fn net(err: NetError, what: &str) -> Self {
        let code = match err {
            NetError::Timeout(_) => DiagnosisCode::ServerTimeout,
            _ => DiagnosisCode::ProtocolError,
        };
        let what = doing(what);
        let err = err.text();
        Self::new(
            code,
            Text::new(
                format!("{}: {}", what.en, err.en),
                format!("{}: {}", what.ru, err.ru),
            ),
        )
    }

    /// A reply that breaks the protocol while waiting for `what`: `en`/`ru` say how,
    /// `server` quotes the reply.
    pub(super) fn unexpected(what: &str, en: &str, ru: &str, server: Option<&str>) -> Self {
        let quote = server
            .map(|s| format!(": {}", net::clean_text(s)))
            .unwrap_or_default();
        let what = doing(what);
        Self::new(
            DiagnosisCode::ProtocolError,
            Text::new(
                format!("{}: {en}{quote}", what.en),
                format!("{}: {ru}{quote}", what.ru),
            ),
        )
    }
}

/// Why a protocol session's step did not work, as the session sees it: the step recorder
/// turns it into a [`Failure`] with `diag`'s rules (the step gives the stage).
#[derive(Debug)]
pub(crate) enum Fault {
    /// Decided by the session: the network, a reply that breaks the protocol, something
    /// not offered.
    Failed(Failure),
    /// The server said no to `what` (a command, or "the greeting"), in `words`.
    Refused {
        /// What was refused, for a probe's detail ("STARTTLS refused: ...").
        what: &'static str,
        /// The server's words, as received.
        words: String,
    },
    /// The server refused the login, in `words`, with a token server's SASL error.
    LoginRefused {
        /// The server's words, as received.
        words: String,
        /// The JSON error challenge of a refused token, when one came.
        error: Option<OAuthError>,
    },
}

impl From<Failure> for Fault {
    fn from(failure: Failure) -> Self {
        Self::Failed(failure)
    }
}

impl Fault {
    /// A network failure while waiting for `what` (see [`Failure::net`]).
    pub(super) fn net(err: NetError, what: &str) -> Self {
        Self::Failed(Failure::net(err, what))
    }

    /// The failure without the diagnosis rules, for a probe that only reports what
    /// happened: a refusal reads "STARTTLS refused: <the reply>".
    pub(super) fn unjudged(self) -> Failure {
        match self {
            Self::Failed(f) => f,
            Self::Refused { what, words } => refused(what, &words),
            Self::LoginRefused { words, .. } => refused("the login", &words),
        }
    }
}

/// The failure when a token login finds no mechanism to carry the token among the
/// `offered` SASL mechanisms.
pub(super) fn no_token_mechanism(offered: &[String]) -> Failure {
    let offered = offered.join(" ");
    Failure::new(
        DiagnosisCode::ProtocolError,
        Text::new(
            format!(
                "the server offers no OAuth login (no XOAUTH2 or OAUTHBEARER), only: {offered}"
            ),
            format!(
                "сервер не предлагает вход через OAuth (нет XOAUTH2 и OAUTHBEARER), только: \
                 {offered}"
            ),
        ),
    )
}

/// The failure when the server does not offer STARTTLS (`command`: STLS on POP3).
pub(super) fn not_offered(command: &str) -> Failure {
    Failure::new(
        DiagnosisCode::StarttlsUnavailable,
        Text::new(
            format!("the server does not offer {command}"),
            format!("сервер не предлагает {command}"),
        ),
    )
}

/// The failure of a probe when the server says no to `what` (see `check::probe`): "STARTTLS
/// refused: <the reply>", the server quoted.
pub(super) fn refused(what: &str, reply: &str) -> Failure {
    let mut f = Failure::reply(DiagnosisCode::StarttlsUnavailable, reply);
    let reply = net::clean_text(reply);
    f.detail = Text::new(
        format!("{what} refused: {reply}"),
        format!("{what}: отказ: {reply}"),
    );
    f
}

/// What the greeting step waits for, as `what` of [`Failure::net`].
pub(super) const GREETING: &str = "waiting for the greeting";

/// What a step was doing, for a failure's detail: a protocol command reads the same in
/// every language, the wait for the greeting does not.
fn doing(what: &str) -> Text {
    if what == GREETING {
        Text::new(GREETING, "ожидание приветствия сервера")
    } else {
        verbatim(what)
    }
}

/// "no clean logout: ..." for a LOGOUT/QUIT that failed after everything else worked.
pub(super) fn unclean_logout(failure: &Failure) -> Text {
    Text::new(
        format!("no clean logout: {}", failure.detail.en),
        format!("выход прошёл нечисто: {}", failure.detail.ru),
    )
}

/// Which protocol a first line looks like, for `wrong_protocol`: `None` when it is not a
/// greeting of any mail protocol.
fn sniff(line: &str) -> Option<&'static str> {
    let b = line.as_bytes();
    if line.starts_with("* OK") || line.starts_with("* PREAUTH") || line.starts_with("* BYE") {
        Some("IMAP")
    } else if line.starts_with("+OK") || line.starts_with("-ERR") {
        Some("POP3")
    } else if b.len() >= 3
        && b[..3].iter().all(u8::is_ascii_digit)
        && (b.len() == 3 || b[3] == b' ' || b[3] == b'-')
    {
        Some("SMTP")
    } else if line.starts_with("SSH-") {
        Some("SSH")
    } else if line.starts_with("HTTP/") {
        Some("HTTP")
    } else {
        None
    }
}

/// The failure for a greeting of the wrong protocol or no protocol at all.
pub(super) fn bad_greeting(expected: Protocol, line: &str) -> Failure {
    match sniff(line) {
        Some(other) if other != expected.label() => {
            let (label, line) = (expected.label(), net::clean_text(line));
            Failure {
                code: DiagnosisCode::WrongProtocol,
                detail: Text::new(
                    format!("expected a {label} server, but this one greets like {other}: {line}"),
                    format!("ожидался сервер {label}, но этот здоровается как {other}: {line}"),
                ),
                server_reply: Some(line),
                cert_names: Vec::new(),
            }
        }
        _ => {
            let (label, line) = (expected.label(), net::clean_text(line));
            Failure::new(
                DiagnosisCode::ProtocolError,
                Text::new(
                    format!("expected a {label} greeting, got: {line}"),
                    format!("ожидалось приветствие {label}, а пришло: {line}"),
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn failure_details_name_the_wait_in_each_language() {
        let f = Failure::net(NetError::Timeout(Duration::from_millis(1500)), GREETING);
        assert_eq!(f.code, DiagnosisCode::ServerTimeout);
        assert_eq!(
            f.detail,
            Text::new(
                "waiting for the greeting: timed out after 1.5s",
                "ожидание приветствия сервера: нет ответа за 1,5 с"
            )
        );
        let f = Failure::net(NetError::Closed, "EXAMINE INBOX");
        assert_eq!(
            f.detail,
            Text::new(
                "EXAMINE INBOX: the server closed the connection",
                "EXAMINE INBOX: сервер закрыл соединение"
            )
        );
        let f = Failure::unexpected(
            "LOGIN",
            "unexpected reply",
            "неожиданный ответ",
            Some("x\ty"),
        );
        assert_eq!(f.detail.en, "LOGIN: unexpected reply: x y");
        assert_eq!(f.detail.ru, "LOGIN: неожиданный ответ: x y");
    }

    #[test]
    fn greetings_are_recognised_by_protocol() {
        assert_eq!(sniff("* OK [CAPABILITY IMAP4rev1] ready"), Some("IMAP"));
        assert_eq!(sniff("+OK Dovecot ready."), Some("POP3"));
        assert_eq!(sniff("220 mx.example.com ESMTP"), Some("SMTP"));
        assert_eq!(sniff("220-mx.example.com ESMTP"), Some("SMTP"));
        assert_eq!(sniff("SSH-2.0-OpenSSH_9.2"), Some("SSH"));
        assert_eq!(sniff("\u{fffd}\u{fffd}garbage"), None);
        let f = bad_greeting(Protocol::Imap, "+OK POP3 ready");
        assert_eq!(f.code, DiagnosisCode::WrongProtocol);
        let f = bad_greeting(Protocol::Imap, "hello?");
        assert_eq!(f.code, DiagnosisCode::ProtocolError);
    }
}

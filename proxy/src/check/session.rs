//! What a protocol session (`imap`, `pop3`, `smtp`) offers the rest of the check: one
//! method per step of the conversation, each working over the bounded [`Conn`] and
//! returning a typed reply or a typed [`Fault`]. The sessions never record anything: the
//! step recorder (`record::SideRun::step`) wraps each call (timing, live event, the reply's
//! [`StepDetail`], redaction), and `diag` judges the faults. The order of the steps, the
//! same for every protocol, is `side`'s; the probe without login ([`probe`]) is the same
//! methods up to STARTTLS.
//!
//! Why our own sessions over [`Conn`] and not the crates is in the module doc of `check`.

use mailsetup_shared::api::{StepKind, Text};

use super::failure::{Failure, Fault, GREETING};
use super::net::{Conn, Probed, clean_text};
use super::sasl;
use crate::i18n::verbatim;

/// A typed reply's detail for its step, in every language.
pub(super) trait StepDetail {
    fn detail(&self) -> Text;
}

/// The server's own words (a greeting, the go-ahead for STARTTLS, a goodbye), as received;
/// quoted cleaned and untranslated.
#[derive(Debug)]
pub(super) struct Quoted(pub(super) String);

impl StepDetail for Quoted {
    fn detail(&self) -> Text {
        verbatim(clean_text(&self.0))
    }
}

/// A login that worked, with the command or mechanism used (`AUTHENTICATE PLAIN`).
#[derive(Debug)]
pub(super) struct LoggedIn(pub(super) String);

impl StepDetail for LoggedIn {
    fn detail(&self) -> Text {
        let method = &self.0;
        Text::new(
            format!("logged in with {method}"),
            format!("вход выполнен через {method}"),
        )
    }
}

/// A mailbox opened, with its message count when the server gave one.
#[derive(Debug)]
pub(super) struct Opened {
    /// The mailbox's name in English and Russian (`INBOX`; POP3's "mailbox").
    pub(super) name: (&'static str, &'static str),
    pub(super) messages: Option<u64>,
}

impl StepDetail for Opened {
    fn detail(&self) -> Text {
        let (en, ru) = self.name;
        match self.messages {
            Some(n) => Text::new(
                format!("{en} opened, {n} messages"),
                format!("{ru} открыт, писем: {n}"),
            ),
            None => Text::new(format!("{en} opened"), format!("{ru} открыт")),
        }
    }
}

/// Reads a one-line greeting (IMAP, POP3).
pub(super) async fn greeting_line(conn: &mut Conn) -> Result<String, Fault> {
    conn.read_line().await.map_err(|e| Fault::net(e, GREETING))
}

/// The detail of a list of capabilities: the server's words joined by `separator`.
pub(super) fn listed(items: &[String], separator: &str) -> Text {
    verbatim(items.join(separator))
}

/// A protocol session: its state between steps (tags, the capabilities seen); the
/// connection is the caller's, so that it can be upgraded to TLS between two steps.
pub(super) trait Session: Sized {
    /// The step that lists what the server can do (`capabilities`; SMTP's `ehlo`).
    const LIST: StepKind = StepKind::Capabilities;
    /// Whether the list is asked again after login (IMAP's grows then).
    const LIST_AFTER_LOGIN: bool = false;
    /// The step that shows the account works (`mailbox`; SMTP's `sender`).
    const USE: StepKind = StepKind::Mailbox;
    /// A list of capabilities, as reported.
    type List: StepDetail;
    /// What the account's use showed.
    type Used: StepDetail;

    /// A new session on a connection that is about to greet.
    fn new(conn: &Conn) -> Self;

    /// Reads the greeting (a refusal, a wrong protocol, or the words to quote).
    async fn greeting(&mut self, conn: &mut Conn) -> Result<Quoted, Fault>;

    /// Asks for (or takes from an earlier reply) the server's capabilities.
    async fn list(&mut self, conn: &mut Conn) -> Result<Self::List, Fault>;

    /// STARTTLS (POP3's STLS) up to the go-ahead, when the last list offers it.
    async fn starttls(&mut self, conn: &mut Conn) -> Result<Quoted, Fault>;

    /// Every capability seen in the last list (a probe reports them).
    fn seen(&self) -> Vec<String>;

    /// The capabilities of the last list worth reporting to a mail app.
    fn interesting(&self) -> Vec<String>;

    /// Logs in with `login`'s credential, the mechanism chosen from the last list.
    async fn login(&mut self, conn: &mut Conn, login: sasl::Login<'_>) -> Result<LoggedIn, Fault>;

    /// Uses the account the way a mail app would, without changing anything (`email` is
    /// SMTP's sender).
    async fn use_account(&mut self, conn: &mut Conn, email: &str) -> Result<Self::Used, Fault>;

    /// Says goodbye; any answer is a goodbye.
    async fn logout(&mut self, conn: &mut Conn) -> Result<Quoted, Fault>;
}

/// The conversation of a probe without login (see `check::probe`): the greeting, and when
/// `starttls`, the capabilities, STARTTLS and its go-ahead. Returns the greeting and the
/// capabilities seen (IMAP's greeting may list them).
pub(super) async fn probe<S: Session>(conn: &mut Conn, starttls: bool) -> Result<Probed, Failure> {
    let mut session = S::new(conn);
    let greeting = session.greeting(conn).await.map_err(Fault::unjudged)?;
    if starttls {
        session.list(conn).await.map_err(Fault::unjudged)?;
        session.starttls(conn).await.map_err(Fault::unjudged)?;
    }
    Ok(Probed {
        greeting: clean_text(&greeting.0),
        capabilities: session.seen(),
    })
}

//! The POP3 session (RFC 1939, 2449, 2595, 5034): greeting, CAPA, STLS, USER/PASS or AUTH
//! PLAIN for a password, AUTH XOAUTH2/OAUTHBEARER for a token (see `sasl`), STAT, QUIT.
//! Each step is a method of [`Pop3`] (see `session`) returning a typed reply or a
//! [`Fault`]. A small client over the bounded [`Conn`] (see the module doc of `check`).

use mailsetup_shared::api::{Credential, DiagnosisCode, Protocol, Text};

use super::failure::{Failure, Fault, bad_greeting, no_token_mechanism, not_offered};
use super::net::Conn;
use super::sasl;
use super::session::{LoggedIn, Opened, Quoted, Session, StepDetail, greeting_line, listed};

/// CAPA tags worth reporting to a mail app.
const INTERESTING: [&str; 5] = ["UIDL", "TOP", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE"];

/// Most lines accepted in a CAPA answer.
const MAX_CAPA_LINES: usize = 200;

async fn command(conn: &mut Conn, line: &str, what: &str) -> Result<String, Failure> {
    conn.send_line(line)
        .await
        .map_err(|e| Failure::net(e, what))?;
    conn.read_line().await.map_err(|e| Failure::net(e, what))
}

/// The CAPA list, or `None` when the server does not know CAPA.
async fn capa(conn: &mut Conn) -> Result<Option<Vec<String>>, Failure> {
    let first = command(conn, "CAPA", "CAPA").await?;
    if !first.starts_with("+OK") {
        return Ok(None);
    }
    let mut caps = Vec::new();
    loop {
        let line = conn
            .read_line()
            .await
            .map_err(|e| Failure::net(e, "CAPA"))?;
        if line == "." {
            return Ok(Some(caps));
        }
        if caps.len() >= MAX_CAPA_LINES {
            return Err(Failure::unexpected(
                "CAPA",
                "endless list",
                "бесконечный список",
                None,
            ));
        }
        caps.push(line.to_ascii_uppercase());
    }
}

/// The SASL mechanisms in CAPA (`SASL PLAIN XOAUTH2`).
fn mechanisms(caps: Option<&[String]>) -> Vec<String> {
    caps.unwrap_or_default()
        .iter()
        .filter_map(|l| l.strip_prefix("SASL "))
        .flat_map(str::split_whitespace)
        .map(str::to_owned)
        .collect()
}

/// The POP3 session: the last CAPA list.
pub(super) struct Pop3 {
    /// The CAPA list, `None` when the server does not know CAPA.
    caps: Option<Vec<String>>,
}

/// A CAPA answer, as reported.
pub(super) struct Capa(Option<Vec<String>>);

impl StepDetail for Capa {
    /// The list (the server's words) or that there is none.
    fn detail(&self) -> Text {
        match &self.0 {
            Some(c) => listed(c, ", "),
            None => Text::new("CAPA not supported", "CAPA не поддерживается"),
        }
    }
}

/// The server's no to `what` in `reply`.
fn refused(what: &'static str, reply: String) -> Fault {
    Fault::Refused { what, words: reply }
}

impl Session for Pop3 {
    type List = Capa;
    type Used = Opened;

    fn new(_: &Conn) -> Self {
        Self { caps: None }
    }

    async fn greeting(&mut self, conn: &mut Conn) -> Result<Quoted, Fault> {
        let greeting = greeting_line(conn).await?;
        if greeting.starts_with("-ERR") {
            return Err(refused("the greeting", greeting));
        }
        if !greeting.starts_with("+OK") {
            return Err(bad_greeting(Protocol::Pop3, &greeting).into());
        }
        Ok(Quoted(greeting))
    }

    async fn list(&mut self, conn: &mut Conn) -> Result<Capa, Fault> {
        self.caps = capa(conn).await?;
        Ok(Capa(self.caps.clone()))
    }

    /// STLS, unless CAPA lists the capabilities without it.
    async fn starttls(&mut self, conn: &mut Conn) -> Result<Quoted, Fault> {
        if self
            .caps
            .as_ref()
            .is_some_and(|c| !c.iter().any(|l| l == "STLS"))
        {
            return Err(not_offered("STLS").into());
        }
        let r = command(conn, "STLS", "STLS").await?;
        if !r.starts_with("+OK") {
            return Err(refused("STLS", r));
        }
        Ok(Quoted(r))
    }

    fn seen(&self) -> Vec<String> {
        self.caps.clone().unwrap_or_default()
    }

    fn interesting(&self) -> Vec<String> {
        self.caps
            .iter()
            .flatten()
            .filter_map(|c| c.split_whitespace().next())
            .filter(|c| INTERESTING.contains(c))
            .map(str::to_owned)
            .collect()
    }

    async fn login(&mut self, conn: &mut Conn, login: sasl::Login<'_>) -> Result<LoggedIn, Fault> {
        let (method, reply, error) = authenticate(conn, login, self.caps.as_deref()).await?;
        if !reply.starts_with("+OK") {
            return Err(Fault::LoginRefused {
                words: reply,
                error,
            });
        }
        Ok(LoggedIn(method))
    }

    /// STAT: the mailbox opens, and says how many messages it holds.
    async fn use_account(&mut self, conn: &mut Conn, _: &str) -> Result<Opened, Fault> {
        let r = command(conn, "STAT", "STAT").await?;
        if !r.starts_with("+OK") {
            return Err(refused("STAT", r));
        }
        let count = r
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse::<u64>().ok());
        Ok(Opened {
            name: ("mailbox", "ящик"),
            messages: count,
        })
    }

    async fn logout(&mut self, conn: &mut Conn) -> Result<Quoted, Fault> {
        Ok(Quoted(command(conn, "QUIT", "QUIT").await?))
    }
}

/// Logs in with the request's credential: AUTH PLAIN when offered, else USER/PASS for a
/// password; AUTH with a token mechanism for a token. Returns the method, the final reply
/// and a token server's SASL error.
async fn authenticate(
    conn: &mut Conn,
    login: sasl::Login<'_>,
    caps: Option<&[String]>,
) -> Result<(String, String, Option<sasl::OAuthError>), Failure> {
    let mechs = mechanisms(caps);
    let password = match login.credential {
        Credential::Password(password) => password,
        Credential::OAuth2 { sasl: asked, .. } => {
            let Some(mechanism) = sasl::token_mechanism(asked, &mechs) else {
                return Err(no_token_mechanism(&mechs));
            };
            let mut ex = sasl::Exchange::new(mechanism, login);
            let r = auth(conn, &mut ex).await?;
            return Ok((format!("AUTH {}", ex.name()), r, ex.error));
        }
    };
    let user_offered = caps.is_none_or(|c| c.iter().any(|l| l == "USER"));
    let plain_offered = sasl::Mechanism::Plain.offered(&mechs);
    if !user_offered && !plain_offered && !conn.is_tls() {
        return Err(Failure::new(
            DiagnosisCode::PlaintextRefused,
            Text::new(
                "CAPA lists neither USER nor SASL PLAIN before encryption",
                "CAPA не предлагает ни USER, ни SASL PLAIN до шифрования",
            ),
        ));
    }
    if plain_offered {
        let mut ex = sasl::Exchange::new(sasl::Mechanism::Plain, login);
        let r = auth(conn, &mut ex).await?;
        return Ok(("AUTH PLAIN".to_owned(), r, None));
    }
    let r = command(conn, &format!("USER {}", login.username), "USER").await?;
    if !r.starts_with("+OK") {
        return Ok(("USER".to_owned(), r, None));
    }
    let line = zeroize::Zeroizing::new(format!("PASS {}", password.expose()));
    let r = command(conn, &line, "PASS").await?;
    Ok(("USER/PASS".to_owned(), r, None))
}

/// `AUTH` (RFC 5034): the first message on the command line when the line stays within
/// 255 octets, else after the first `+`; the exchange answers every further `+`.
async fn auth(conn: &mut Conn, ex: &mut sasl::Exchange<'_>) -> Result<String, Failure> {
    let what = format!("AUTH {}", ex.name());
    let first = ex.initial_within(255 - what.len() - 1);
    let line = sasl::Exchange::start_line(&what, first.as_deref().map(String::as_str));
    let mut reply = command(conn, &line, &what).await?;
    while reply == "+" || reply.starts_with("+ ") {
        let answer = ex.reply(reply.get(2..).unwrap_or(""));
        reply = command(conn, &answer, &what).await?;
    }
    Ok(reply)
}

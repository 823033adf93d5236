//! The SMTP submission session (RFC 6409, 3207, 4954): greeting, EHLO, STARTTLS, AUTH
//! PLAIN or LOGIN for a password, AUTH XOAUTH2/OAUTHBEARER for a token (see `sasl`), MAIL
//! FROM with the user's address and RSET (nothing is sent), QUIT. Each step is a method of
//! [`Smtp`] (see `session`) returning a typed reply or a [`Fault`].
//!
//! A small client over the bounded [`Conn`] rather than lettre, whose connect reads the
//! greeting and EHLO in one call and drops the greeting, whose `auth` picks the mechanism
//! itself, and which reads replies without a line limit; see the module doc of `check`.

use mailsetup_shared::api::{Credential, DiagnosisCode, Protocol, StepKind, Text};

use super::failure::{Failure, Fault, GREETING, bad_greeting, no_token_mechanism, not_offered};
use super::net::{Conn, clean_text};
use super::sasl;
use super::session::{LoggedIn, Quoted, Session, StepDetail, listed};

/// Most lines in one multi-line reply.
const MAX_REPLY_LINES: usize = 200;

/// EHLO keywords worth reporting.
const INTERESTING: [&str; 8] = [
    "PIPELINING",
    "8BITMIME",
    "SMTPUTF8",
    "CHUNKING",
    "DSN",
    "ENHANCEDSTATUSCODES",
    "SIZE",
    "REQUIRETLS",
];

/// A whole (possibly multi-line) reply.
struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    /// The server's words, every line with its code.
    fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// The text after the code on each line (EHLO keywords).
    fn bodies(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(|l| l.get(4..).unwrap_or(""))
    }

    /// The server's no to `what`.
    fn refused(&self, what: &'static str) -> Fault {
        Fault::Refused {
            what,
            words: self.text(),
        }
    }
}

async fn read_reply(conn: &mut Conn, what: &str) -> Result<Reply, Failure> {
    let mut lines = Vec::new();
    loop {
        let line = conn.read_line().await.map_err(|e| Failure::net(e, what))?;
        let b = line.as_bytes();
        let valid = b.len() >= 3
            && b[..3].iter().all(u8::is_ascii_digit)
            && (b.len() == 3 || b[3] == b' ' || b[3] == b'-');
        if !valid {
            if lines.is_empty() {
                return Err(bad_greeting(Protocol::Smtp, &line));
            }
            return Err(Failure::unexpected(
                what,
                "not an SMTP reply",
                "это не ответ SMTP",
                Some(&line),
            ));
        }
        let code = line[..3].parse::<u16>().unwrap_or(0);
        let more = b.len() > 3 && b[3] == b'-';
        lines.push(line);
        if !more {
            return Ok(Reply { code, lines });
        }
        if lines.len() >= MAX_REPLY_LINES {
            return Err(Failure::unexpected(
                what,
                "endless reply",
                "бесконечный ответ",
                None,
            ));
        }
    }
}

async fn command(conn: &mut Conn, line: &str, what: &str) -> Result<Reply, Failure> {
    conn.send_line(line)
        .await
        .map_err(|e| Failure::net(e, what))?;
    read_reply(conn, what).await
}

fn has_keyword(keywords: &[String], name: &str) -> bool {
    keywords.iter().any(|k| {
        k.split_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(name))
    })
}

/// AUTH mechanisms offered (`AUTH PLAIN LOGIN` or the old `AUTH=PLAIN LOGIN`).
fn mechanisms(keywords: &[String]) -> Vec<String> {
    keywords
        .iter()
        .filter_map(|k| {
            let upper = k.to_ascii_uppercase();
            upper
                .strip_prefix("AUTH ")
                .or_else(|| upper.strip_prefix("AUTH="))
                .map(|m| m.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        })
        .flatten()
        .collect()
}

/// The address literal of this end of the connection, for EHLO.
fn helo_name(conn: &Conn) -> String {
    match conn.local_addr().map(|a| a.ip()) {
        Some(std::net::IpAddr::V6(ip)) => format!("[IPv6:{ip}]"),
        Some(ip) => format!("[{ip}]"),
        None => "[127.0.0.1]".to_owned(),
    }
}

/// The SMTP session: the EHLO name and the keywords of the last EHLO.
pub(super) struct Smtp {
    /// The address literal of this end of the connection.
    helo_name: String,
    /// The EHLO keywords (without the first line, the server's name).
    keywords: Vec<String>,
}

/// The EHLO keywords, as reported.
pub(super) struct Keywords(Vec<String>);

impl StepDetail for Keywords {
    fn detail(&self) -> Text {
        listed(&self.0, ", ")
    }
}

/// The user's address accepted as sender (nothing sent), with the server's words.
pub(super) struct Accepted {
    email: String,
    words: String,
}

impl StepDetail for Accepted {
    fn detail(&self) -> Text {
        let Self { email, words } = self;
        Text::new(
            format!("{email} accepted as sender ({words}); nothing sent"),
            format!("{email} принят как отправитель ({words}); ничего не отправлено"),
        )
    }
}

impl Session for Smtp {
    const LIST: StepKind = StepKind::Ehlo;
    const USE: StepKind = StepKind::Sender;
    type List = Keywords;
    type Used = Accepted;

    fn new(conn: &Conn) -> Self {
        Self {
            helo_name: helo_name(conn),
            keywords: Vec::new(),
        }
    }

    async fn greeting(&mut self, conn: &mut Conn) -> Result<Quoted, Fault> {
        let greeting = read_reply(conn, GREETING).await?;
        if greeting.code != 220 {
            return Err(greeting.refused("the greeting"));
        }
        Ok(Quoted(greeting.text()))
    }

    /// EHLO with an address literal for this end of the connection.
    async fn list(&mut self, conn: &mut Conn) -> Result<Keywords, Fault> {
        let r = command(conn, &format!("EHLO {}", self.helo_name), "EHLO").await?;
        if r.code != 250 {
            return Err(r.refused("EHLO"));
        }
        self.keywords = r.bodies().skip(1).map(str::to_owned).collect();
        Ok(Keywords(self.keywords.clone()))
    }

    async fn starttls(&mut self, conn: &mut Conn) -> Result<Quoted, Fault> {
        if !has_keyword(&self.keywords, "STARTTLS") {
            return Err(not_offered("STARTTLS").into());
        }
        let r = command(conn, "STARTTLS", "STARTTLS").await?;
        if r.code != 220 {
            return Err(r.refused("STARTTLS"));
        }
        Ok(Quoted(r.text()))
    }

    fn seen(&self) -> Vec<String> {
        self.keywords.clone()
    }

    fn interesting(&self) -> Vec<String> {
        INTERESTING
            .iter()
            .filter(|k| has_keyword(&self.keywords, k))
            .map(|s| (*s).to_owned())
            .collect()
    }

    async fn login(&mut self, conn: &mut Conn, login: sasl::Login<'_>) -> Result<LoggedIn, Fault> {
        let mechs = mechanisms(&self.keywords);
        if mechs.is_empty() {
            return Err(no_auth(!conn.is_tls() && has_keyword(&self.keywords, "STARTTLS")).into());
        }
        let (method, reply, error) = authenticate(conn, login, &mechs).await?;
        if reply.code != 235 {
            return Err(Fault::LoginRefused {
                words: reply.text(),
                error,
            });
        }
        Ok(LoggedIn(method))
    }

    /// MAIL FROM with the user's address, then RSET: nothing is sent.
    async fn use_account(&mut self, conn: &mut Conn, email: &str) -> Result<Accepted, Fault> {
        let r = command(conn, &format!("MAIL FROM:<{email}>"), "MAIL FROM").await?;
        if r.code != 250 {
            return Err(r.refused("MAIL FROM"));
        }
        let _ = command(conn, "RSET", "RSET").await;
        Ok(Accepted {
            email: email.to_owned(),
            words: clean_text(&r.text()),
        })
    }

    async fn logout(&mut self, conn: &mut Conn) -> Result<Quoted, Fault> {
        Ok(Quoted(command(conn, "QUIT", "QUIT").await?.text()))
    }
}

/// The failure when EHLO offers no AUTH: before STARTTLS (`before_tls`) that is a server
/// that wants encryption first, else a relay port.
fn no_auth(before_tls: bool) -> Failure {
    if before_tls {
        Failure::new(
            DiagnosisCode::PlaintextRefused,
            Text::new(
                "EHLO offers no AUTH before STARTTLS",
                "EHLO не предлагает AUTH до STARTTLS",
            ),
        )
    } else {
        Failure::new(
            DiagnosisCode::ProtocolError,
            Text::new(
                "the server offers no login (no AUTH in EHLO): this looks like a relay \
                 port, not mail submission",
                "сервер не предлагает входа (нет AUTH в EHLO): похоже, это порт для \
                 пересылки между серверами, а не для отправки почты",
            ),
        )
    }
}

/// Logs in with the request's credential: AUTH PLAIN, else AUTH LOGIN for a password
/// (LOGIN also when PLAIN answers 504); AUTH with a token mechanism for a token. Returns
/// the method, the final reply and a token server's SASL error.
async fn authenticate(
    conn: &mut Conn,
    login: sasl::Login<'_>,
    mechs: &[String],
) -> Result<(String, Reply, Option<sasl::OAuthError>), Failure> {
    if let Credential::OAuth2 { sasl: asked, .. } = login.credential {
        let Some(mechanism) = sasl::token_mechanism(asked, mechs) else {
            return Err(no_token_mechanism(mechs));
        };
        let mut ex = sasl::Exchange::new(mechanism, login);
        let r = auth(conn, &mut ex).await?;
        return Ok((format!("AUTH {}", ex.name()), r, ex.error));
    }
    let plain = sasl::Mechanism::Plain.offered(mechs);
    let login_offered = sasl::Mechanism::Login.offered(mechs);
    if plain {
        let mut ex = sasl::Exchange::new(sasl::Mechanism::Plain, login);
        let r = auth(conn, &mut ex).await?;
        // 504: mechanism not supported after all; try LOGIN.
        if !(r.code == 504 && login_offered) {
            return Ok(("AUTH PLAIN".to_owned(), r, None));
        }
    }
    if login_offered {
        let mut ex = sasl::Exchange::new(sasl::Mechanism::Login, login);
        let r = auth(conn, &mut ex).await?;
        return Ok(("AUTH LOGIN".to_owned(), r, None));
    }
    let offered = mechs.join(" ");
    Err(Failure::new(
        DiagnosisCode::ProtocolError,
        Text::new(
            format!("the server offers only {offered} (no PLAIN or LOGIN)"),
            format!("сервер предлагает только {offered} (нет PLAIN и LOGIN)"),
        ),
    ))
}

/// `AUTH` (RFC 4954): the first message on the command line (the server takes AUTH lines
/// of 12288 octets), then the exchange's answer to every `334` challenge.
async fn auth(conn: &mut Conn, ex: &mut sasl::Exchange<'_>) -> Result<Reply, Failure> {
    let what = format!("AUTH {}", ex.name());
    let line = sasl::Exchange::start_line(&what, ex.initial().as_deref().map(String::as_str));
    let mut reply = command(conn, &line, &what).await?;
    while reply.code == 334 {
        let challenge = reply.bodies().last().unwrap_or("").to_owned();
        let answer = ex.reply(&challenge);
        reply = command(conn, &answer, &what).await?;
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_mechanisms_in_both_spellings() {
        let kw = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            mechanisms(&kw(&["SIZE 100", "AUTH PLAIN LOGIN", "AUTH=LOGIN"])),
            ["PLAIN", "LOGIN", "LOGIN"]
        );
        assert!(mechanisms(&kw(&["STARTTLS", "8BITMIME"])).is_empty());
        assert!(has_keyword(&kw(&["starttls"]), "STARTTLS"));
        assert!(!has_keyword(&kw(&["STARTTLSX"]), "STARTTLS"));
    }
}

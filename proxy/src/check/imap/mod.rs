//! The IMAP session (RFC 9051/3501): greeting, STARTTLS, CAPABILITY, LOGIN or
//! AUTHENTICATE (PLAIN for a password, XOAUTH2/OAUTHBEARER for a token, see `sasl`), the
//! capabilities a mail app uses, EXAMINE INBOX, LOGOUT. Each step is a method of [`Imap`]
//! (see `session`) returning a typed reply or a [`Fault`].
//!
//! A small client of our own over [`Conn`] (bounded lines, a timeout per reply) rather than
//! async-imap, which buffers a response of up to 512 MiB; see the module doc of `check`.

use mailsetup_shared::api::{Credential, DiagnosisCode, Protocol, Text};

mod wire;

use super::failure::{Failure, Fault, bad_greeting, no_token_mechanism, not_offered};
use super::net::Conn;
use super::sasl;
use super::session::{LoggedIn, Opened, Quoted, Session, StepDetail, greeting_line, listed};
use wire::{Status, caps_in_code};

/// The capabilities worth reporting to a mail app.
const INTERESTING: [&str; 16] = [
    "IDLE",
    "MOVE",
    "UIDPLUS",
    "CONDSTORE",
    "QRESYNC",
    "SPECIAL-USE",
    "NAMESPACE",
    "ENABLE",
    "COMPRESS=DEFLATE",
    "UTF8=ACCEPT",
    "LITERAL+",
    "ID",
    "QUOTA",
    "METADATA",
    "NOTIFY",
    "X-GM-EXT-1",
];

/// Most untagged lines accepted before a tagged reply.
const MAX_UNTAGGED: usize = 2000;

/// A tagged reply and the untagged lines before it.
struct Reply {
    /// `OK`, `NO` or `BAD`.
    status: String,
    /// The tagged line after the tag (`NO [AUTHENTICATIONFAILED] ...`).
    text: String,
    untagged: Vec<String>,
}

impl Reply {
    fn ok(&self) -> bool {
        self.status == "OK"
    }

    /// The reply for classification: tagged text, with alerts and BYE before it.
    fn words(&self) -> String {
        let mut parts: Vec<&str> = self
            .untagged
            .iter()
            .map(String::as_str)
            .filter(|l| {
                l.starts_with("* NO")
                    || l.starts_with("* BAD")
                    || l.starts_with("* BYE")
                    || l.contains("[ALERT]")
            })
            .map(|l| l.trim_start_matches("* "))
            .collect();
        parts.push(&self.text);
        parts.join("\n")
    }
}

/// Sends `line` under `tag` and reads the tagged reply.
async fn send_tagged(conn: &mut Conn, tag: &str, line: &str, what: &str) -> Result<Reply, Failure> {
    let full = zeroize::Zeroizing::new(format!("{tag} {line}"));
    conn.send_line(&full)
        .await
        .map_err(|e| Failure::net(e, what))?;
    tagged(conn, tag, what).await
}

async fn tagged(conn: &mut Conn, tag: &str, what: &str) -> Result<Reply, Failure> {
    let mut untagged = Vec::new();
    loop {
        let line = wire::read_response(conn)
            .await
            .map_err(|e| Failure::net(e, what))?;
        if let Some(reply) = tagged_line(tag, &line, &mut untagged, what)? {
            return Ok(reply);
        }
    }
}

/// Takes one line while waiting for `tag`'s reply: the reply when it is the tagged line
/// (or `* BYE`), else the line is kept as untagged (at most [`MAX_UNTAGGED`]).
fn tagged_line(
    tag: &str,
    line: &str,
    untagged: &mut Vec<String>,
    what: &str,
) -> Result<Option<Reply>, Failure> {
    if let Some(rest) = line.strip_prefix(tag).and_then(|r| r.strip_prefix(' ')) {
        let status = match wire::status_text(rest).map(|t| t.status) {
            Some(Status::Ok) => "OK",
            Some(Status::No) => "NO",
            Some(Status::Bad) => "BAD",
            _ => "",
        }
        .to_owned();
        if status.is_empty() {
            return Err(Failure::unexpected(
                what,
                "unexpected reply",
                "неожиданный ответ",
                Some(line),
            ));
        }
        return Ok(Some(Reply {
            status,
            text: rest.to_owned(),
            untagged: std::mem::take(untagged),
        }));
    }
    if line.starts_with("* BYE") {
        // The server is closing; its words explain why.
        return Ok(Some(Reply {
            status: "NO".to_owned(),
            text: line.trim_start_matches("* ").to_owned(),
            untagged: std::mem::take(untagged),
        }));
    }
    if untagged.len() >= MAX_UNTAGGED {
        return Err(Failure::unexpected(
            what,
            "too many lines without an answer",
            "слишком много строк без ответа",
            None,
        ));
    }
    untagged.push(line.to_owned());
    Ok(None)
}

/// Capabilities from a `* CAPABILITY ...` line or a `[CAPABILITY ...]` response code.
fn parse_caps(reply: &Reply) -> Option<Vec<String>> {
    reply
        .untagged
        .iter()
        .find_map(|l| wire::caps_in_data(l))
        .or_else(|| caps_in_code(&reply.text))
}

/// An IMAP quoted string.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Whether a greeting lets a session go on (`* OK` or `* PREAUTH`).
fn greeting_ok(line: &str) -> bool {
    line.starts_with("* OK") || line.starts_with("* PREAUTH")
}

/// The IMAP session: the command tags and the capabilities seen.
pub(super) struct Imap {
    /// The last command tag's number (`a1`, `a2`, ...).
    tag: u32,
    /// Capabilities a reply already listed (the greeting's, a login's), taken by the next
    /// [`Session::list`] instead of asking.
    known: Option<Vec<String>>,
    /// The last list of capabilities.
    caps: Vec<String>,
}

/// The capabilities, as reported.
pub(super) struct Caps(Vec<String>);

impl StepDetail for Caps {
    fn detail(&self) -> Text {
        listed(&self.0, " ")
    }
}

impl Imap {
    /// Sends `line` under the next tag and reads the tagged reply.
    async fn command(&mut self, conn: &mut Conn, line: &str, what: &str) -> Result<Reply, Failure> {
        let tag = self.next_tag();
        send_tagged(conn, &tag, line, what).await
    }

    fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("a{}", self.tag)
    }

    fn has(&self, name: &str) -> bool {
        self.caps.iter().any(|c| c == name)
    }
}

impl Session for Imap {
    const LIST_AFTER_LOGIN: bool = true;
    type List = Caps;
    type Used = Opened;

    fn new(_: &Conn) -> Self {
        Self {
            tag: 0,
            known: None,
            caps: Vec::new(),
        }
    }

    async fn greeting(&mut self, conn: &mut Conn) -> Result<Quoted, Fault> {
        let greeting = greeting_line(conn).await?;
        if greeting.starts_with("* BYE") {
            return Err(Fault::Refused {
                what: "the greeting",
                words: greeting.trim_start_matches("* ").to_owned(),
            });
        }
        if !greeting_ok(&greeting) {
            return Err(bad_greeting(Protocol::Imap, &greeting).into());
        }
        self.known = caps_in_code(&greeting);
        self.caps = self.known.clone().unwrap_or_default();
        Ok(Quoted(greeting))
    }

    /// The capabilities a reply listed, else CAPABILITY.
    async fn list(&mut self, conn: &mut Conn) -> Result<Caps, Fault> {
        let caps = match self.known.take() {
            Some(c) => c,
            None => {
                let r = self.command(conn, "CAPABILITY", "CAPABILITY").await?;
                if !r.ok() {
                    return Err(Fault::Refused {
                        what: "CAPABILITY",
                        words: r.text,
                    });
                }
                parse_caps(&r).ok_or_else(|| {
                    Failure::unexpected(
                        "CAPABILITY",
                        "the server listed no capabilities",
                        "сервер не перечислил ни одной возможности",
                        None,
                    )
                })?
            }
        };
        self.caps.clone_from(&caps);
        Ok(Caps(caps))
    }

    async fn starttls(&mut self, conn: &mut Conn) -> Result<Quoted, Fault> {
        if !self.has("STARTTLS") {
            return Err(not_offered("STARTTLS").into());
        }
        let r = self.command(conn, "STARTTLS", "STARTTLS").await?;
        if !r.ok() {
            return Err(Fault::Refused {
                what: "STARTTLS",
                words: r.text,
            });
        }
        // Capabilities are asked again over TLS.
        self.known = None;
        Ok(Quoted(r.text))
    }

    fn seen(&self) -> Vec<String> {
        self.caps.clone()
    }

    fn interesting(&self) -> Vec<String> {
        INTERESTING
            .iter()
            .filter(|want| self.has(want))
            .map(|s| (*s).to_owned())
            .collect()
    }

    async fn login(&mut self, conn: &mut Conn, login: sasl::Login<'_>) -> Result<LoggedIn, Fault> {
        let (method, reply, error) = self.authenticate(conn, login).await?;
        if !reply.ok() {
            return Err(Fault::LoginRefused {
                words: reply.words(),
                error,
            });
        }
        // A login's reply may list the capabilities after login.
        self.known = parse_caps(&reply).filter(|c| c.iter().any(|c| c.starts_with("IMAP4")));
        Ok(LoggedIn(method))
    }

    /// EXAMINE INBOX (read-only).
    async fn use_account(&mut self, conn: &mut Conn, _: &str) -> Result<Opened, Fault> {
        let r = self.command(conn, "EXAMINE INBOX", "EXAMINE INBOX").await?;
        if !r.ok() {
            return Err(Fault::Refused {
                what: "EXAMINE INBOX",
                words: r.words(),
            });
        }
        Ok(Opened {
            name: ("INBOX", "INBOX"),
            messages: r.untagged.iter().find_map(|l| wire::exists(l)),
        })
    }

    async fn logout(&mut self, conn: &mut Conn) -> Result<Quoted, Fault> {
        Ok(Quoted(self.command(conn, "LOGOUT", "LOGOUT").await?.text))
    }
}

impl Imap {
    /// Logs in with the request's credential: LOGIN, else AUTHENTICATE PLAIN for a
    /// password; AUTHENTICATE with a token mechanism (SASL-IR when offered) for a token.
    /// Returns the method, the reply and a token server's SASL error.
    async fn authenticate(
        &mut self,
        conn: &mut Conn,
        login: sasl::Login<'_>,
    ) -> Result<(String, Reply, Option<sasl::OAuthError>), Failure> {
        let password = match login.credential {
            Credential::Password(password) => password,
            Credential::OAuth2 { sasl: asked, .. } => {
                let offered: Vec<String> = self
                    .caps
                    .iter()
                    .filter_map(|c| c.strip_prefix("AUTH="))
                    .map(str::to_owned)
                    .collect();
                let Some(mechanism) = sasl::token_mechanism(asked, &offered) else {
                    return Err(no_token_mechanism(&offered));
                };
                let mut ex = sasl::Exchange::new(mechanism, login);
                let sasl_ir = self.has("SASL-IR");
                let reply = self.exchange(conn, &mut ex, sasl_ir).await?;
                return Ok((format!("AUTHENTICATE {}", ex.name()), reply, ex.error));
            }
        };
        let login_disabled = self.has("LOGINDISABLED");
        let plain_offered = self.has("AUTH=PLAIN");
        if login_disabled && !plain_offered && !conn.is_tls() {
            return Err(Failure::new(
                DiagnosisCode::PlaintextRefused,
                Text::new(
                    "CAPABILITY ... LOGINDISABLED (no login before encryption)",
                    "CAPABILITY ... LOGINDISABLED (вход до шифрования запрещён)",
                ),
            ));
        }
        // LOGIN's quoted strings are ASCII; other credentials go base64-encoded.
        let ascii = login.username.is_ascii() && password.expose().is_ascii();
        if !(login_disabled || (!ascii && plain_offered)) {
            let line = zeroize::Zeroizing::new(format!(
                "LOGIN {} {}",
                quoted(login.username),
                quoted(password.expose())
            ));
            let r = self.command(conn, &line, "LOGIN").await?;
            // BAD means the server rejects the command itself: try the other mechanism.
            if r.status != "BAD" {
                return Ok(("LOGIN".to_owned(), r, None));
            }
        }
        let mut ex = sasl::Exchange::new(sasl::Mechanism::Plain, login);
        let reply = self.exchange(conn, &mut ex, false).await?;
        Ok(("AUTHENTICATE PLAIN".to_owned(), reply, None))
    }

    /// `AUTHENTICATE`: the exchange's first message on the command line (SASL-IR) or after
    /// the first `+`, then its answer to every further `+`, until the tagged reply.
    async fn exchange(
        &mut self,
        conn: &mut Conn,
        ex: &mut sasl::Exchange<'_>,
        sasl_ir: bool,
    ) -> Result<Reply, Failure> {
        const WHAT: &str = "AUTHENTICATE";
        let tag = self.next_tag();
        let first = if sasl_ir { ex.initial() } else { None };
        let command = format!("{tag} AUTHENTICATE {}", ex.name());
        let line = sasl::Exchange::start_line(&command, first.as_deref().map(String::as_str));
        conn.send_line(&line)
            .await
            .map_err(|e| Failure::net(e, WHAT))?;
        let mut untagged = Vec::new();
        loop {
            let line = wire::read_response(conn)
                .await
                .map_err(|e| Failure::net(e, WHAT))?;
            if line == "+" || line.starts_with("+ ") {
                let answer = ex.reply(line.get(2..).unwrap_or(""));
                conn.send_line(&answer)
                    .await
                    .map_err(|e| Failure::net(e, WHAT))?;
                continue;
            }
            if let Some(reply) = tagged_line(&tag, &line, &mut untagged, WHAT)? {
                return Ok(reply);
            }
        }
    }
}

#[cfg(test)]
mod tests;

//! The IMAP check (RFC 9051/3501): greeting, STARTTLS, CAPABILITY, LOGIN or AUTHENTICATE
//! (PLAIN for a password, XOAUTH2/OAUTHBEARER for a token, see `sasl`), the capabilities a
//! mail app uses, EXAMINE INBOX, LOGOUT.
//!
//! A small client of our own over [`Conn`] (bounded lines, a timeout per reply) rather than
//! async-imap, which buffers a response of up to 512 MiB; see the module doc of `check`.

use mailsetup_shared::api::{Credential, DiagnosisCode, Protocol, Security, StepKind, Text};

mod wire;

use super::diag::Stage;
use super::failure::{GREETING, not_offered, refused};
use super::net::{Conn, Probed, clean_text};
use super::{Creds, Failure, SideRun, sasl};
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

async fn command(
    side: &mut SideRun<'_>,
    conn: &mut Conn,
    line: &str,
    what: &str,
) -> Result<Reply, Failure> {
    let tag = side.next_tag();
    send_tagged(conn, &tag, line, what).await
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

async fn capabilities(side: &mut SideRun<'_>, conn: &mut Conn) -> Result<Vec<String>, Failure> {
    let r = command(side, conn, "CAPABILITY", "CAPABILITY").await?;
    if !r.ok() {
        return Err(side.classify(Stage::Other, &r.text));
    }
    parse_caps(&r).ok_or_else(|| {
        Failure::unexpected(
            "CAPABILITY",
            "the server listed no capabilities",
            "сервер не перечислил ни одной возможности",
            None,
        )
    })
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

/// The conversation of a probe without login (see `check::probe`): the greeting, and when
/// `starttls`, the capabilities (from the greeting's response code, else CAPABILITY),
/// STARTTLS and its go-ahead. Returns the greeting and the capabilities seen.
pub(super) async fn probe(conn: &mut Conn, starttls: bool) -> Result<Probed, Failure> {
    let greeting = conn
        .read_line()
        .await
        .map_err(|e| Failure::net(e, GREETING))?;
    if !greeting_ok(&greeting) {
        return Err(super::bad_greeting(Protocol::Imap, &greeting));
    }
    let mut caps = caps_in_code(&greeting);
    if starttls {
        let c = match caps {
            Some(c) => c,
            None => {
                let r = send_tagged(conn, "p1", "CAPABILITY", "CAPABILITY").await?;
                parse_caps(&r).unwrap_or_default()
            }
        };
        if !c.iter().any(|c| c == "STARTTLS") {
            return Err(not_offered("STARTTLS"));
        }
        let r = send_tagged(conn, "p2", "STARTTLS", "STARTTLS").await?;
        if !r.ok() {
            return Err(refused("STARTTLS", &r.text));
        }
        caps = Some(c);
    }
    Ok(Probed {
        greeting: clean_text(&greeting),
        capabilities: caps.unwrap_or_default(),
    })
}

/// Runs the IMAP check on a connected (and, for implicit TLS, encrypted) `conn`.
#[tracing::instrument(skip_all, fields(host = %side.target.host, port = side.target.port, protocol = "imap"))]
pub(super) async fn run(
    side: &mut SideRun<'_>,
    mut conn: Conn,
    creds: &Creds<'_>,
) -> Result<(), Failure> {
    let greeting = side.read_greeting(&mut conn).await?;
    if greeting.starts_with("* BYE") {
        return Err({
            let f = side.classify(Stage::Greeting, greeting.trim_start_matches("* "));
            side.fail(f)
        });
    }
    if !greeting_ok(&greeting) {
        return Err({
            let f = super::bad_greeting(Protocol::Imap, &greeting);
            side.fail(f)
        });
    }
    side.quote(clean_text(&greeting));
    let mut caps = caps_in_code(&greeting);

    if side.target.security == Security::Starttls {
        side.start(StepKind::Capabilities);
        let c = match caps.take() {
            Some(c) => c,
            None => capabilities(side, &mut conn)
                .await
                .map_err(|f| side.fail(f))?,
        };
        side.quote(c.join(" "));
        side.start(StepKind::Starttls);
        if !c.iter().any(|c| c == "STARTTLS") {
            return Err(side.fail(not_offered("STARTTLS")));
        }
        let r = command(side, &mut conn, "STARTTLS", "STARTTLS")
            .await
            .map_err(|f| side.fail(f))?;
        if !r.ok() {
            let mut f = side.classify(Stage::Starttls, &r.text);
            if f.code == DiagnosisCode::ProtocolError {
                f.code = DiagnosisCode::StarttlsUnavailable;
            }
            return Err(side.fail(f));
        }
        side.quote(clean_text(&r.text));
        conn = side.starttls_upgrade(conn).await?;
        caps = None;
    }

    side.start(StepKind::Capabilities);
    let pre = match caps {
        Some(c) => c,
        None => capabilities(side, &mut conn)
            .await
            .map_err(|f| side.fail(f))?,
    };
    side.quote(pre.join(" "));

    side.start(StepKind::Auth);
    let (method, reply, error) = login(side, &mut conn, creds, &pre).await?;
    if !reply.ok() {
        let f = side.refused_login(creds, &reply.words(), error.as_ref());
        return Err(side.fail(f));
    }
    side.done(Text::new(
        format!("logged in with {method}"),
        format!("вход выполнен через {method}"),
    ));

    side.start(StepKind::Capabilities);
    let post = match parse_caps(&reply) {
        Some(c) if c.iter().any(|c| c.starts_with("IMAP4")) => c,
        _ => capabilities(side, &mut conn)
            .await
            .map_err(|f| side.fail(f))?,
    };
    side.capabilities = INTERESTING
        .iter()
        .filter(|want| post.iter().any(|c| c == *want))
        .map(|s| (*s).to_owned())
        .collect();
    side.quote(post.join(" "));

    side.start(StepKind::Mailbox);
    let r = command(side, &mut conn, "EXAMINE INBOX", "EXAMINE INBOX")
        .await
        .map_err(|f| side.fail(f))?;
    if !r.ok() {
        let f = side.classify(Stage::Mailbox, &r.words());
        return Err(side.fail(f));
    }
    let exists = r.untagged.iter().find_map(|l| wire::exists(l));
    side.done(match exists {
        Some(n) => Text::new(
            format!("INBOX opened, {n} messages"),
            format!("INBOX открыт, писем: {n}"),
        ),
        None => Text::new("INBOX opened", "INBOX открыт"),
    });

    side.start(StepKind::Logout);
    let goodbye = command(side, &mut conn, "LOGOUT", "LOGOUT").await;
    side.logout(goodbye.map(|r| r.text));
    conn.shutdown().await;
    Ok(())
}

/// Logs in with the request's credential: LOGIN, else AUTHENTICATE PLAIN for a password;
/// AUTHENTICATE with a token mechanism (SASL-IR when offered) for a token. Returns the
/// method, the reply and a token server's SASL error.
async fn login(
    side: &mut SideRun<'_>,
    conn: &mut Conn,
    creds: &Creds<'_>,
    pre: &[String],
) -> Result<(String, Reply, Option<sasl::OAuthError>), Failure> {
    let has = |name: &str| pre.iter().any(|x| x == name);
    let login = creds.login(side.target);
    let password = match creds.credential {
        Credential::Password(password) => password,
        Credential::OAuth2 { sasl: asked, .. } => {
            let offered: Vec<String> = pre
                .iter()
                .filter_map(|c| c.strip_prefix("AUTH="))
                .map(str::to_owned)
                .collect();
            let Some(mechanism) = sasl::token_mechanism(asked, &offered) else {
                return Err(side.fail(super::failure::no_token_mechanism(&offered)));
            };
            let mut ex = sasl::Exchange::new(mechanism, login);
            let reply = authenticate(side, conn, &mut ex, has("SASL-IR"))
                .await
                .map_err(|f| side.fail(f))?;
            return Ok((format!("AUTHENTICATE {}", ex.name()), reply, ex.error));
        }
    };
    let login_disabled = has("LOGINDISABLED");
    let plain_offered = has("AUTH=PLAIN");
    if login_disabled && !plain_offered && side.plaintext(conn) {
        return Err(side.fail(Failure::new(
            DiagnosisCode::PlaintextRefused,
            Text::new(
                "CAPABILITY ... LOGINDISABLED (no login before encryption)",
                "CAPABILITY ... LOGINDISABLED (вход до шифрования запрещён)",
            ),
        )));
    }
    // LOGIN's quoted strings are ASCII; other credentials go base64-encoded.
    let ascii = creds.username.is_ascii() && password.expose().is_ascii();
    if !(login_disabled || (!ascii && plain_offered)) {
        let line = zeroize::Zeroizing::new(format!(
            "LOGIN {} {}",
            quoted(creds.username),
            quoted(password.expose())
        ));
        let r = command(side, conn, &line, "LOGIN")
            .await
            .map_err(|f| side.fail(f))?;
        // BAD means the server rejects the command itself: try the other mechanism.
        if r.status != "BAD" {
            return Ok(("LOGIN".to_owned(), r, None));
        }
    }
    let mut ex = sasl::Exchange::new(sasl::Mechanism::Plain, login);
    let reply = authenticate(side, conn, &mut ex, false)
        .await
        .map_err(|f| side.fail(f))?;
    Ok(("AUTHENTICATE PLAIN".to_owned(), reply, None))
}

/// `AUTHENTICATE`: the exchange's first message on the command line (SASL-IR) or after
/// the first `+`, then its answer to every further `+`, until the tagged reply.
async fn authenticate(
    side: &mut SideRun<'_>,
    conn: &mut Conn,
    ex: &mut sasl::Exchange<'_>,
    sasl_ir: bool,
) -> Result<Reply, Failure> {
    const WHAT: &str = "AUTHENTICATE";
    let tag = side.next_tag();
    let first = if sasl_ir { ex.initial() } else { None };
    let line = zeroize::Zeroizing::new(match &first {
        // RFC 4959: an empty initial response is sent as `=`.
        Some(ir) if ir.is_empty() => format!("{tag} AUTHENTICATE {} =", ex.name()),
        Some(ir) => format!("{tag} AUTHENTICATE {} {}", ex.name(), &**ir),
        None => format!("{tag} AUTHENTICATE {}", ex.name()),
    });
    conn.send_line(&line)
        .await
        .map_err(|e| Failure::net(e, WHAT))?;
    let mut untagged = Vec::new();
    loop {
        let line = wire::read_response(conn)
            .await
            .map_err(|e| Failure::net(e, WHAT))?;
        if line == "+" || line.starts_with("+ ") {
            let answer = match ex.answer(line.get(2..).unwrap_or("")) {
                sasl::Answer::Send(s) => s,
                sasl::Answer::Cancel => zeroize::Zeroizing::new("*".to_owned()),
            };
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

#[cfg(test)]
mod tests;

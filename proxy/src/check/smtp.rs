//! The SMTP submission check (RFC 6409, 3207, 4954): greeting, EHLO, STARTTLS, AUTH PLAIN
//! or LOGIN for a password, AUTH XOAUTH2/OAUTHBEARER for a token (see `sasl`), MAIL FROM with the user's address and RSET (nothing is sent), QUIT.
//!
//! A small client over the bounded [`Conn`] rather than lettre, which resolves the host
//! name itself and reads replies without a line limit; see the module doc of `check`.

use mailsetup_shared::api::{Credential, DiagnosisCode, Protocol, Security, StepKind, Text};

use super::diag::Stage;
use super::failure::{not_offered, refused};
use super::net::{Conn, Probed, clean_text};
use super::{Creds, Failure, SideRun, sasl};

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
                return Err(super::bad_greeting(Protocol::Smtp, &line));
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

/// EHLO with an address literal for this end of the connection.
async fn ehlo(side: &mut SideRun<'_>, conn: &mut Conn, name: &str) -> Result<Vec<String>, Failure> {
    side.start(StepKind::Ehlo);
    let r = command(conn, &format!("EHLO {name}"), "EHLO")
        .await
        .map_err(|f| side.fail(f))?;
    if r.code != 250 {
        let f = side.classify(Stage::Other, &r.text());
        return Err(side.fail(f));
    }
    let keywords: Vec<String> = r.bodies().skip(1).map(str::to_owned).collect();
    side.quote(keywords.join(", "));
    Ok(keywords)
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

/// The conversation of a probe without login (see `check::probe`): the greeting, and when
/// `starttls`, EHLO, STARTTLS and its go-ahead. Returns the greeting and the EHLO keywords
/// seen.
pub(super) async fn probe(conn: &mut Conn, starttls: bool) -> Result<Probed, Failure> {
    let greeting = read_reply(conn, super::GREETING).await?;
    if greeting.code != 220 {
        return Err(refused("the greeting", &greeting.text()));
    }
    let mut capabilities = Vec::new();
    if starttls {
        let r = command(conn, &format!("EHLO {}", helo_name(conn)), "EHLO").await?;
        if r.code != 250 {
            return Err(refused("EHLO", &r.text()));
        }
        let keywords: Vec<String> = r.bodies().skip(1).map(str::to_owned).collect();
        if !has_keyword(&keywords, "STARTTLS") {
            return Err(not_offered("STARTTLS"));
        }
        let r = command(conn, "STARTTLS", "STARTTLS").await?;
        if r.code != 220 {
            return Err(refused("STARTTLS", &r.text()));
        }
        capabilities = keywords;
    }
    Ok(Probed {
        greeting: clean_text(&greeting.text()),
        capabilities,
    })
}

/// Runs the SMTP check on a connected (and, for implicit TLS, encrypted) `conn`.
#[tracing::instrument(skip_all, fields(host = %side.target.host, port = side.target.port, protocol = "smtp"))]
pub(super) async fn run(
    side: &mut SideRun<'_>,
    mut conn: Conn,
    creds: &Creds<'_>,
) -> Result<(), Failure> {
    let helo_name = helo_name(&conn);
    side.start(StepKind::Greeting);
    let greeting = read_reply(&mut conn, super::GREETING)
        .await
        .map_err(|f| side.fail(f))?;
    if greeting.code != 220 {
        let f = side.classify(Stage::Greeting, &greeting.text());
        return Err(side.fail(f));
    }
    side.quote(clean_text(&greeting.text()));

    let mut keywords = ehlo(side, &mut conn, &helo_name).await?;

    if side.target.security == Security::Starttls {
        side.start(StepKind::Starttls);
        if !has_keyword(&keywords, "STARTTLS") {
            return Err(side.fail(not_offered("STARTTLS")));
        }
        let r = command(&mut conn, "STARTTLS", "STARTTLS")
            .await
            .map_err(|f| side.fail(f))?;
        if r.code != 220 {
            let mut f = side.classify(Stage::Starttls, &r.text());
            if matches!(
                f.code,
                DiagnosisCode::ProtocolError | DiagnosisCode::AuthFailed
            ) {
                f.code = DiagnosisCode::StarttlsUnavailable;
            }
            return Err(side.fail(f));
        }
        side.quote(clean_text(&r.text()));
        conn = side.starttls_upgrade(conn).await?;
        keywords = ehlo(side, &mut conn, &helo_name).await?;
    }
    side.capabilities = INTERESTING
        .iter()
        .filter(|k| has_keyword(&keywords, k))
        .map(|s| (*s).to_owned())
        .collect();

    side.start(StepKind::Auth);
    let mechs = mechanisms(&keywords);
    if mechs.is_empty() {
        let f = if side.plaintext(&conn) && has_keyword(&keywords, "STARTTLS") {
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
        };
        return Err(side.fail(f));
    }
    let (method, reply, error) = login(side, &mut conn, creds, &mechs).await?;
    if reply.code != 235 {
        let f = side.refused_login(creds, &reply.text(), error.as_ref());
        return Err(side.fail(f));
    }
    side.done(Text::new(
        format!("logged in with {method}"),
        format!("вход выполнен через {method}"),
    ));

    side.start(StepKind::Sender);
    let r = command(
        &mut conn,
        &format!("MAIL FROM:<{}>", creds.email),
        "MAIL FROM",
    )
    .await
    .map_err(|f| side.fail(f))?;
    if r.code != 250 {
        let f = side.classify(Stage::Sender, &r.text());
        return Err(side.fail(f));
    }
    let accepted = clean_text(&r.text());
    let _ = command(&mut conn, "RSET", "RSET").await;
    let email = creds.email;
    side.done(Text::new(
        format!("{email} accepted as sender ({accepted}); nothing sent"),
        format!("{email} принят как отправитель ({accepted}); ничего не отправлено"),
    ));

    side.start(StepKind::Logout);
    side.logout(command(&mut conn, "QUIT", "QUIT").await.map(|r| r.text()));
    conn.shutdown().await;
    Ok(())
}

/// Logs in with the request's credential: AUTH PLAIN, else AUTH LOGIN for a password
/// (LOGIN also when PLAIN answers 504); AUTH with a token mechanism for a token. Returns
/// the method, the final reply and a token server's SASL error.
async fn login(
    side: &mut SideRun<'_>,
    conn: &mut Conn,
    creds: &Creds<'_>,
    mechs: &[String],
) -> Result<(String, Reply, Option<sasl::OAuthError>), Failure> {
    let login = creds.login(side.target);
    if let Credential::OAuth2 { sasl: asked, .. } = creds.credential {
        let Some(mechanism) = sasl::token_mechanism(asked, mechs) else {
            return Err(side.fail(super::failure::no_token_mechanism(mechs)));
        };
        let mut ex = sasl::Exchange::new(mechanism, login);
        let r = auth(conn, &mut ex).await.map_err(|f| side.fail(f))?;
        return Ok((format!("AUTH {}", ex.name()), r, ex.error));
    }
    let plain = sasl::Mechanism::Plain.offered(mechs);
    let login_offered = sasl::Mechanism::Login.offered(mechs);
    if plain {
        let mut ex = sasl::Exchange::new(sasl::Mechanism::Plain, login);
        let r = auth(conn, &mut ex).await.map_err(|f| side.fail(f))?;
        // 504: mechanism not supported after all; try LOGIN.
        if !(r.code == 504 && login_offered) {
            return Ok(("AUTH PLAIN".to_owned(), r, None));
        }
    }
    if login_offered {
        let mut ex = sasl::Exchange::new(sasl::Mechanism::Login, login);
        let r = auth(conn, &mut ex).await.map_err(|f| side.fail(f))?;
        return Ok(("AUTH LOGIN".to_owned(), r, None));
    }
    let offered = mechs.join(" ");
    Err(side.fail(Failure::new(
        DiagnosisCode::ProtocolError,
        Text::new(
            format!("the server offers only {offered} (no PLAIN or LOGIN)"),
            format!("сервер предлагает только {offered} (нет PLAIN и LOGIN)"),
        ),
    )))
}

/// `AUTH` (RFC 4954): the first message on the command line (the server takes AUTH lines
/// of 12288 octets), then the exchange's answer to every `334` challenge.
async fn auth(conn: &mut Conn, ex: &mut sasl::Exchange<'_>) -> Result<Reply, Failure> {
    let what = format!("AUTH {}", ex.name());
    let line = zeroize::Zeroizing::new(match ex.initial() {
        Some(ir) if ir.is_empty() => format!("{what} ="),
        Some(ir) => format!("{what} {}", &*ir),
        None => what.clone(),
    });
    let mut reply = command(conn, &line, &what).await?;
    while reply.code == 334 {
        let challenge = reply.bodies().last().unwrap_or("").to_owned();
        let answer = match ex.answer(&challenge) {
            sasl::Answer::Send(s) => s,
            sasl::Answer::Cancel => zeroize::Zeroizing::new("*".to_owned()),
        };
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

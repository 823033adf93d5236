//! The POP3 check (RFC 1939, 2449, 2595, 5034): greeting, CAPA, STLS, USER/PASS or AUTH
//! PLAIN for a password, AUTH XOAUTH2/OAUTHBEARER for a token (see `sasl`), STAT, QUIT. A small client over the bounded [`Conn`].

use mailsetup_shared::api::{Credential, DiagnosisCode, Protocol, Security, StepKind, Text};

use super::diag::Stage;
use super::failure::{GREETING, not_offered, refused};
use super::net::{Conn, Probed, clean_text};
use super::{Creds, Failure, SideRun, sasl};

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

/// The detail of a CAPA step: the list (the server's words) or that there is none.
fn capa_text(caps: Option<&[String]>) -> Text {
    match caps {
        Some(c) => crate::i18n::verbatim(c.join(", ")),
        None => Text::new("CAPA not supported", "CAPA не поддерживается"),
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

/// Logs in with the request's credential: AUTH PLAIN when offered, else USER/PASS for a
/// password; AUTH with a token mechanism for a token. Returns the method, the final reply
/// and a token server's SASL error.
async fn login(
    side: &mut SideRun<'_>,
    conn: &mut Conn,
    creds: &Creds<'_>,
    caps: Option<&[String]>,
) -> Result<(String, String, Option<sasl::OAuthError>), Failure> {
    let mechs = mechanisms(caps);
    let login = creds.login(side.target);
    let password = match creds.credential {
        Credential::Password(password) => password,
        Credential::OAuth2 { sasl: asked, .. } => {
            let Some(mechanism) = sasl::token_mechanism(asked, &mechs) else {
                return Err(side.fail(super::failure::no_token_mechanism(&mechs)));
            };
            let mut ex = sasl::Exchange::new(mechanism, login);
            let r = auth(conn, &mut ex).await.map_err(|f| side.fail(f))?;
            return Ok((format!("AUTH {}", ex.name()), r, ex.error));
        }
    };
    let user_offered = caps.is_none_or(|c| c.iter().any(|l| l == "USER"));
    let plain_offered = sasl::Mechanism::Plain.offered(&mechs);
    if !user_offered && !plain_offered && side.plaintext(conn) {
        return Err(side.fail(Failure::new(
            DiagnosisCode::PlaintextRefused,
            Text::new(
                "CAPA lists neither USER nor SASL PLAIN before encryption",
                "CAPA не предлагает ни USER, ни SASL PLAIN до шифрования",
            ),
        )));
    }
    if plain_offered {
        let mut ex = sasl::Exchange::new(sasl::Mechanism::Plain, login);
        let r = auth(conn, &mut ex).await.map_err(|f| side.fail(f))?;
        return Ok(("AUTH PLAIN".to_owned(), r, None));
    }
    let r = command(conn, &format!("USER {}", creds.username), "USER")
        .await
        .map_err(|f| side.fail(f))?;
    if !r.starts_with("+OK") {
        return Ok(("USER".to_owned(), r, None));
    }
    let line = zeroize::Zeroizing::new(format!("PASS {}", password.expose()));
    let r = command(conn, &line, "PASS")
        .await
        .map_err(|f| side.fail(f))?;
    Ok(("USER/PASS".to_owned(), r, None))
}

/// `AUTH` (RFC 5034): the first message on the command line when the line stays within
/// 255 octets, else after the first `+`; the exchange answers every further `+`.
async fn auth(conn: &mut Conn, ex: &mut sasl::Exchange<'_>) -> Result<String, Failure> {
    let what = format!("AUTH {}", ex.name());
    let first = ex.initial_within(255 - what.len() - 1);
    let line = zeroize::Zeroizing::new(match &first {
        Some(ir) if ir.is_empty() => format!("{what} ="),
        Some(ir) => format!("{what} {}", &**ir),
        None => what.clone(),
    });
    let mut reply = command(conn, &line, &what).await?;
    while reply == "+" || reply.starts_with("+ ") {
        let answer = match ex.answer(reply.get(2..).unwrap_or("")) {
            sasl::Answer::Send(s) => s,
            sasl::Answer::Cancel => zeroize::Zeroizing::new("*".to_owned()),
        };
        reply = command(conn, &answer, &what).await?;
    }
    Ok(reply)
}

/// The conversation of a probe without login (see `check::probe`): the greeting, and when
/// `starttls`, CAPA, STLS and its go-ahead. Returns the greeting and the capabilities seen.
pub(super) async fn probe(conn: &mut Conn, starttls: bool) -> Result<Probed, Failure> {
    let greeting = conn
        .read_line()
        .await
        .map_err(|e| Failure::net(e, GREETING))?;
    if !greeting.starts_with("+OK") {
        return Err(super::bad_greeting(Protocol::Pop3, &greeting));
    }
    let mut capabilities = Vec::new();
    if starttls {
        let caps = capa(conn).await?;
        if caps
            .as_ref()
            .is_some_and(|c| !c.iter().any(|l| l == "STLS"))
        {
            return Err(not_offered("STLS"));
        }
        let r = command(conn, "STLS", "STLS").await?;
        if !r.starts_with("+OK") {
            return Err(refused("STLS", &r));
        }
        capabilities = caps.unwrap_or_default();
    }
    Ok(Probed {
        greeting: clean_text(&greeting),
        capabilities,
    })
}

/// Runs the POP3 check on a connected (and, for implicit TLS, encrypted) `conn`.
#[tracing::instrument(skip_all, fields(host = %side.target.host, port = side.target.port, protocol = "pop3"))]
pub(super) async fn run(
    side: &mut SideRun<'_>,
    mut conn: Conn,
    creds: &Creds<'_>,
) -> Result<(), Failure> {
    let greeting = side.read_greeting(&mut conn).await?;
    if greeting.starts_with("-ERR") {
        let f = side.classify(Stage::Greeting, &greeting);
        return Err(side.fail(f));
    }
    if !greeting.starts_with("+OK") {
        let f = super::bad_greeting(Protocol::Pop3, &greeting);
        return Err(side.fail(f));
    }
    side.quote(clean_text(&greeting));

    side.start(StepKind::Capabilities);
    let mut caps = capa(&mut conn).await.map_err(|f| side.fail(f))?;
    side.done(capa_text(caps.as_deref()));

    if side.target.security == Security::Starttls {
        side.start(StepKind::Starttls);
        if caps
            .as_ref()
            .is_some_and(|c| !c.iter().any(|l| l == "STLS"))
        {
            return Err(side.fail(not_offered("STLS")));
        }
        let r = command(&mut conn, "STLS", "STLS")
            .await
            .map_err(|f| side.fail(f))?;
        if !r.starts_with("+OK") {
            let mut f = side.classify(Stage::Starttls, &r);
            if matches!(
                f.code,
                DiagnosisCode::ProtocolError | DiagnosisCode::AuthFailed
            ) {
                f.code = DiagnosisCode::StarttlsUnavailable;
            }
            return Err(side.fail(f));
        }
        side.quote(clean_text(&r));
        conn = side.starttls_upgrade(conn).await?;
        side.start(StepKind::Capabilities);
        caps = capa(&mut conn).await.map_err(|f| side.fail(f))?;
        side.done(capa_text(caps.as_deref()));
    }

    side.capabilities = caps
        .iter()
        .flatten()
        .filter_map(|c| c.split_whitespace().next())
        .filter(|c| INTERESTING.contains(c))
        .map(str::to_owned)
        .collect();

    side.start(StepKind::Auth);
    let (method, reply, error) = login(side, &mut conn, creds, caps.as_deref()).await?;
    if !reply.starts_with("+OK") {
        let f = side.refused_login(creds, &reply, error.as_ref());
        return Err(side.fail(f));
    }
    side.done(Text::new(
        format!("logged in with {method}"),
        format!("вход выполнен через {method}"),
    ));

    side.start(StepKind::Mailbox);
    let r = command(&mut conn, "STAT", "STAT")
        .await
        .map_err(|f| side.fail(f))?;
    if !r.starts_with("+OK") {
        let f = side.classify(Stage::Mailbox, &r);
        return Err(side.fail(f));
    }
    let count = r
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse::<u64>().ok());
    side.done(match count {
        Some(n) => Text::new(
            format!("mailbox opened, {n} messages"),
            format!("ящик открыт, писем: {n}"),
        ),
        None => Text::new("mailbox opened", "ящик открыт"),
    });

    side.start(StepKind::Logout);
    side.logout(command(&mut conn, "QUIT", "QUIT").await);
    conn.shutdown().await;
    Ok(())
}

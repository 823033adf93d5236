//! Microsoft Autodiscover, the "POX" (plain old XML) flavour Outlook uses: a POST of the
//! address to `https://autodiscover.<domain>/autodiscover/autodiscover.xml` and
//! `https://<domain>/autodiscover/autodiscover.xml`; the answer lists IMAP, POP3 and SMTP
//! `<Protocol>` blocks. Exchange servers that want a login first answer 401; that is
//! reported, never answered with a password. [`parse`] is pure.

use mailsetup_shared::api::{Protocol, Security, Server, Text, UsernameForm};

use super::{Collector, Discoverer, Method, Target, http, pair};

/// The largest answer accepted.
const MAX_BODY: usize = 256 * 1024;

/// Why an answer is not usable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not well-formed XML.
    #[error("not well-formed XML: {0}")]
    Xml(String),
    /// Well-formed, but not an Autodiscover answer.
    #[error("not an Autodiscover answer (root element <{0}>)")]
    NotAutodiscover(String),
    /// The server answered with an error.
    #[error("Autodiscover error: {0}")]
    ServerError(String),
    /// The server points elsewhere (not followed).
    #[error("Autodiscover redirect to {0} (not followed)")]
    Redirect(String),
}

impl ParseError {
    /// What is wrong, in every language (the English is the `Display` text).
    pub fn text(&self) -> Text {
        let ru = match self {
            Self::Xml(e) => format!("испорченный XML: {e}"),
            Self::NotAutodiscover(root) => {
                format!("это не ответ Autodiscover (корневой элемент <{root}>)")
            }
            Self::ServerError(e) => format!("ошибка Autodiscover: {e}"),
            Self::Redirect(to) => format!("Autodiscover перенаправляет на {to} (не пройдено)"),
        };
        Text::new(self.to_string(), ru)
    }
}

/// The servers in an Autodiscover answer, for the address `email` (`local@...`):
/// `(incoming, outgoing)`, in the answer's order.
pub fn parse(
    xml: &str,
    email: &str,
    local: &str,
) -> Result<(Vec<Server>, Vec<Server>), ParseError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| ParseError::Xml(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "Autodiscover" {
        return Err(ParseError::NotAutodiscover(
            root.tag_name().name().chars().take(40).collect(),
        ));
    }
    let child_text = |n: roxmltree::Node<'_, '_>, tag: &str| -> Option<String> {
        n.children()
            .find(|c| c.tag_name().name() == tag)
            .and_then(|c| c.text())
            .map(|t| t.trim().to_owned())
    };
    if let Some(err) = root.descendants().find(|n| n.tag_name().name() == "Error") {
        let message = child_text(err, "Message").unwrap_or_else(|| "unknown".to_owned());
        return Err(ParseError::ServerError(message));
    }
    let mut incoming = Vec::new();
    let mut outgoing = Vec::new();
    for account in root
        .descendants()
        .filter(|n| n.tag_name().name() == "Account")
    {
        match child_text(account, "Action").as_deref() {
            Some("redirectAddr") | Some("redirectUrl") => {
                let to = child_text(account, "RedirectAddr")
                    .or_else(|| child_text(account, "RedirectUrl"))
                    .unwrap_or_default();
                return Err(ParseError::Redirect(to));
            }
            _ => {}
        }
        for proto in account
            .children()
            .filter(|n| n.tag_name().name() == "Protocol")
        {
            let protocol = match child_text(proto, "Type").as_deref() {
                Some("IMAP") => Protocol::Imap,
                Some("POP3") => Protocol::Pop3,
                Some("SMTP") => Protocol::Smtp,
                _ => continue,
            };
            let Some(host) = child_text(proto, "Server").map(|h| h.to_ascii_lowercase()) else {
                continue;
            };
            if host.is_empty()
                || !host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
            {
                continue;
            }
            let Some(port) = child_text(proto, "Port").and_then(|p| p.parse::<u16>().ok()) else {
                continue;
            };
            if port == 0 {
                continue;
            }
            let ssl_on = child_text(proto, "SSL").is_none_or(|s| !s.eq_ignore_ascii_case("off"));
            let security = match child_text(proto, "Encryption")
                .map(|e| e.to_ascii_lowercase())
                .as_deref()
            {
                Some("none") => Security::None,
                Some("ssl") => Security::Tls,
                Some("tls") => Security::Starttls,
                _ if !ssl_on => Security::None,
                // SSL "on" without Encryption: implicit TLS, except on the STARTTLS ports.
                _ if matches!(port, 143 | 110 | 587 | 25) => Security::Starttls,
                _ => Security::Tls,
            };
            let username = match child_text(proto, "LoginName") {
                Some(l) if l == local && local != email => UsernameForm::LocalPart,
                _ => UsernameForm::Email,
            };
            let server = Server {
                protocol,
                host,
                port,
                security,
                username,
            };
            if protocol == Protocol::Smtp {
                outgoing.push(server);
            } else {
                incoming.push(server);
            }
        }
    }
    Ok((incoming, outgoing))
}

/// The request body for `email`.
fn request(email: &str) -> String {
    let email = email
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\n\
         <Request><EMailAddress>{email}</EMailAddress>\n\
         <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>\n\
         </Request></Autodiscover>\n"
    )
}

async fn post_one(d: &Discoverer, c: &Collector, target: &Target, url: String) {
    let step = c.begin(Method::Autodiscover, &url);
    let body = request(&target.email);
    let fetched = match http::post_xml(d, &url, Some(d.settings.ports.https), MAX_BODY, &body).await
    {
        Ok(f) => f,
        Err(http::FetchError::Status(401)) => {
            c.end(
                step,
                false,
                Text::new(
                    "HTTP 401: the server wants the account's login first",
                    "HTTP 401: сервер сначала требует вход в учётную запись",
                ),
            );
            return;
        }
        Err(e) => {
            c.end(step, false, e.text());
            return;
        }
    };
    let text = String::from_utf8_lossy(&fetched.body);
    match parse(
        text.trim_start_matches('\u{feff}'),
        &target.email,
        &target.local,
    ) {
        Err(e) => c.end(step, false, e.text()),
        Ok((inc, out)) => {
            let n = pair(c, Method::Autodiscover, &inc, &out);
            let (i, o) = (inc.len(), out.len());
            c.end(
                step,
                n > 0,
                Text::new(
                    format!("{i} incoming and {o} outgoing servers"),
                    format!("серверов входящей почты {i}, исходящей {o}"),
                ),
            );
        }
    }
}

/// Both Autodiscover URLs at once.
pub(super) async fn run(d: &Discoverer, c: &Collector, target: &Target) {
    let domain = &target.domain;
    tokio::join!(
        post_one(
            d,
            c,
            target,
            format!("https://autodiscover.{domain}/autodiscover/autodiscover.xml")
        ),
        post_one(
            d,
            c,
            target,
            format!("https://{domain}/autodiscover/autodiscover.xml")
        ),
    );
    c.finish(Method::Autodiscover);
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol>
        <Type>IMAP</Type><Server>Mail.Example.com</Server><Port>993</Port>
        <LoginName>alice</LoginName><SSL>on</SSL><SPA>off</SPA>
      </Protocol>
      <Protocol>
        <Type>POP3</Type><Server>mail.example.com</Server><Port>110</Port>
        <SSL>on</SSL><Encryption>TLS</Encryption>
      </Protocol>
      <Protocol>
        <Type>SMTP</Type><Server>mail.example.com</Server><Port>587</Port><SSL>on</SSL>
      </Protocol>
      <Protocol><Type>EXCH</Type><Server>ex.example.com</Server></Protocol>
    </Account>
  </Response>
</Autodiscover>"#;

    #[test]
    fn parses_protocols() {
        let (inc, out) = parse(ANSWER, "alice@example.com", "alice").unwrap();
        assert_eq!(inc.len(), 2);
        assert_eq!(
            (
                inc[0].host.as_str(),
                inc[0].port,
                inc[0].security,
                inc[0].username
            ),
            (
                "mail.example.com",
                993,
                Security::Tls,
                UsernameForm::LocalPart
            )
        );
        assert_eq!(inc[1].security, Security::Starttls);
        assert_eq!((out[0].port, out[0].security), (587, Security::Starttls));
    }

    #[test]
    fn errors_and_redirects() {
        let err = r#"<Autodiscover><Response><Error><ErrorCode>600</ErrorCode><Message>Invalid Request</Message></Error></Response></Autodiscover>"#;
        assert_eq!(
            parse(err, "a@b.c", "a"),
            Err(ParseError::ServerError("Invalid Request".to_owned()))
        );
        let redirect = r#"<Autodiscover><Response><Account><Action>redirectAddr</Action><RedirectAddr>a@other.example</RedirectAddr></Account></Response></Autodiscover>"#;
        assert!(matches!(
            parse(redirect, "a@b.c", "a"),
            Err(ParseError::Redirect(_))
        ));
        assert!(matches!(
            parse("<html/>", "a@b.c", "a"),
            Err(ParseError::NotAutodiscover(_))
        ));
        assert!(matches!(
            parse("<Autodiscover>", "a@b.c", "a"),
            Err(ParseError::Xml(_))
        ));
    }

    #[test]
    fn request_escapes_the_address() {
        assert!(request("a<b@c.d").contains("a&lt;b@c.d"));
    }
}

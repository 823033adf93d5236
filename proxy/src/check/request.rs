//! What a check request asks for: its fields checked ([`validate`]), the servers as
//! [`Target`]s (network and display names), and who logs in ([`Creds`]: the login name,
//! computed once, and the one credential).

use mailsetup_shared::api::{CheckRequest, Credential, IncomingProtocol, Protocol, Security, Text};
use mailsetup_shared::email::EmailAddress;
use mailsetup_shared::validate::parse_host;

use super::{CheckError, sasl};

/// One server to check.
#[derive(Clone, Debug)]
pub(super) struct Target {
    pub(super) protocol: Protocol,
    /// The host for the network: ASCII (punycode for international names); what is
    /// resolved, the TLS server name and the name certificates are checked against.
    pub(super) host: String,
    /// The host for people (reports): the name in Unicode, or the IP address.
    pub(super) display: String,
    pub(super) port: u16,
    pub(super) security: Security,
}

impl Target {
    /// A target from a validated request field.
    pub(super) fn new(protocol: Protocol, host: &str, port: u16, security: Security) -> Self {
        let (host, display) = match parse_host(host) {
            Ok(h) => (h.ascii().to_owned(), h.unicode().to_owned()),
            // Not reached after `validate`; kept as typed.
            Err(_) => (host.trim().to_owned(), host.trim().to_owned()),
        };
        Self {
            protocol,
            host,
            display,
            port,
            security,
        }
    }
}

/// Who logs in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Creds<'a> {
    pub(super) email: &'a str,
    pub(super) username: &'a str,
    pub(super) credential: Credential<'a>,
}

impl Creds<'_> {
    /// The login for a SASL exchange with `target`.
    pub(super) fn login<'t>(&'t self, target: &'t Target) -> sasl::Login<'t> {
        sasl::Login {
            username: self.username,
            credential: self.credential,
            host: &target.host,
            port: target.port,
        }
    }

    /// Whether the login is with an OAuth token.
    pub(super) fn token(&self) -> bool {
        matches!(self.credential, Credential::OAuth2 { .. })
    }
}

/// The address as the network needs it (SMTP's `MAIL FROM`): an international domain in
/// punycode, since servers without SMTPUTF8 refuse UTF-8 there. An address the shared
/// parser does not take (it passed `validate`) is used as sent.
pub(super) fn network_address(email: &str) -> String {
    match EmailAddress::parse(email) {
        Ok(address) => address.as_str().to_owned(),
        Err(_) => email.trim().to_owned(),
    }
}

/// The login name of a request: `username`, or the address when it is absent or blank.
pub(super) fn login_name(req: &CheckRequest) -> &str {
    req.username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(req.email.trim())
}

/// Checks the fields of a request (400 on the first bad one).
pub fn validate(req: &CheckRequest) -> Result<(), CheckError> {
    let invalid = |field: &'static str, en: &str, ru: &str| CheckError::Invalid {
        field,
        message: Text::new(en, ru),
    };
    let email = req.email.trim();
    let (local, domain) = email.split_once('@').unwrap_or(("", ""));
    if email.is_empty()
        || email.len() > 254
        || local.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || email
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>')
    {
        return Err(invalid(
            "email",
            "Enter a mail address like name@example.com.",
            "Введите адрес почты, например name@example.com.",
        ));
    }
    if let Some(u) = &req.username
        && (u.len() > 254 || u.chars().any(char::is_control))
    {
        return Err(invalid(
            "username",
            "The user name is too long or has control characters.",
            "Имя пользователя слишком длинное или содержит управляющие символы.",
        ));
    }
    validate_credential(req)?;
    if req.incoming.is_none() && req.outgoing.is_none() {
        return Err(invalid(
            "incoming",
            "Give an incoming or an outgoing server (or both).",
            "Укажите сервер входящей или исходящей почты (или оба).",
        ));
    }
    // The same host rules as the wizard's: a name in Unicode or punycode, or an IP address.
    let host_ok = |h: &str| parse_host(h).is_ok();
    if let Some(inc) = &req.incoming {
        if !host_ok(&inc.host) {
            return Err(invalid(
                "incoming.host",
                "Enter a server name like imap.example.com.",
                "Введите имя сервера, например imap.example.com.",
            ));
        }
        if inc.port == 0 {
            return Err(invalid(
                "incoming.port",
                "The port must be between 1 and 65535.",
                "Порт должен быть от 1 до 65535.",
            ));
        }
        let _: IncomingProtocol = inc.protocol;
    }
    if let Some(out) = &req.outgoing {
        if !host_ok(&out.host) {
            return Err(invalid(
                "outgoing.host",
                "Enter a server name like smtp.example.com.",
                "Введите имя сервера, например smtp.example.com.",
            ));
        }
        if out.port == 0 {
            return Err(invalid(
                "outgoing.port",
                "The port must be between 1 and 65535.",
                "Порт должен быть от 1 до 65535.",
            ));
        }
    }
    Ok(())
}

/// Checks that the request logs in with exactly one credential, and that it can go on a
/// protocol line.
fn validate_credential(req: &CheckRequest) -> Result<(), CheckError> {
    let invalid = |field: &'static str, en: &str, ru: &str| CheckError::Invalid {
        field,
        message: Text::new(en, ru),
    };
    let bad_chars = |s: &str| s.chars().any(|c| c == '\r' || c == '\n' || c == '\0');
    if req.password.is_some() && req.auth.is_some() {
        return Err(invalid(
            "auth",
            "Give either a password or an auth (OAuth token), not both.",
            "Укажите либо пароль, либо auth (токен OAuth), но не оба сразу.",
        ));
    }
    match req.credential() {
        None => Err(invalid(
            "password",
            "Enter the password.",
            "Введите пароль.",
        )),
        Some(Credential::Password(pw)) => {
            let field = if req.auth.is_some() {
                "auth.password"
            } else {
                "password"
            };
            let pw = pw.expose();
            if pw.is_empty() {
                return Err(invalid(field, "Enter the password.", "Введите пароль."));
            }
            if pw.len() > 1024 || bad_chars(pw) {
                return Err(invalid(
                    field,
                    "The password is too long or has line breaks.",
                    "Пароль слишком длинный или содержит переводы строк.",
                ));
            }
            Ok(())
        }
        Some(Credential::OAuth2 { token, .. }) => {
            let token = token.expose();
            // RFC 6750 b64token characters only; tokens of big providers are a few KB.
            let b64token = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
            if token.is_empty() || token.len() > 8192 || !token.chars().all(b64token) {
                return Err(invalid(
                    "auth.access_token",
                    "The access token is empty, too long or not a bearer token.",
                    "Токен доступа пустой, слишком длинный или не является bearer-токеном.",
                ));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::net;
    use mailsetup_shared::api::{Auth, IncomingTarget, OutgoingTarget};
    use mailsetup_shared::secret::{Password, Token};

    fn request() -> CheckRequest {
        CheckRequest {
            email: "alice@example.com".to_owned(),
            username: None,
            password: Some(Password::new("abcd efgh")),
            auth: None,
            incoming: Some(IncomingTarget {
                protocol: IncomingProtocol::Imap,
                host: "imap.example.com".to_owned(),
                port: 993,
                security: Security::Tls,
            }),
            outgoing: Some(OutgoingTarget {
                host: "smtp.example.com".to_owned(),
                port: 465,
                security: Security::Tls,
            }),
        }
    }

    #[test]
    fn validation_names_the_field_at_fault() {
        assert_eq!(validate(&request()), Ok(()));
        let field = |f: fn(&mut CheckRequest)| {
            let mut r = request();
            f(&mut r);
            match validate(&r) {
                Err(CheckError::Invalid { field, .. }) => field,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(field(|r| r.email = "alice".to_owned()), "email");
        assert_eq!(field(|r| r.email = "a@b".to_owned()), "email");
        assert_eq!(field(|r| r.email = "a@b.c>\r\nRCPT".to_owned()), "email");
        assert_eq!(
            field(|r| r.username = Some("a\r\nb".to_owned())),
            "username"
        );
        assert_eq!(field(|r| r.password = Some(Password::new(""))), "password");
        assert_eq!(
            field(|r| r.password = Some(Password::new("a\nb"))),
            "password"
        );
        assert_eq!(
            field(|r| {
                r.incoming = None;
                r.outgoing = None;
            }),
            "incoming"
        );
        assert_eq!(
            field(|r| r.incoming.as_mut().unwrap().host = "a b".to_owned()),
            "incoming.host"
        );
        assert_eq!(
            field(|r| r.outgoing.as_mut().unwrap().port = 0),
            "outgoing.port"
        );
    }

    #[test]
    fn hosts_follow_the_shared_rules_in_unicode_and_punycode() {
        let with_host = |host: &str| {
            let mut r = request();
            r.incoming.as_mut().unwrap().host = host.to_owned();
            r.outgoing.as_mut().unwrap().host = host.to_owned();
            validate(&r)
        };
        for good in [
            "imap.пример.рф",
            "IMAP.ПРИМЕР.РФ",
            "imap.xn--e1afmkfd.xn--p1ai",
            "[::1]",
            "192.0.2.1",
        ] {
            assert_eq!(with_host(good), Ok(()), "{good}");
        }
        for bad in [
            "xn--zz.example.com",
            "imap.example.com:993",
            "imap_1.example.com",
        ] {
            assert!(
                matches!(
                    with_host(bad),
                    Err(CheckError::Invalid {
                        field: "incoming.host",
                        ..
                    })
                ),
                "{bad}"
            );
        }
        let t = Target::new(Protocol::Imap, " IMAP.Пример.рф. ", 993, Security::Tls);
        assert_eq!(t.host, "imap.xn--e1afmkfd.xn--p1ai");
        assert_eq!(t.display, "imap.пример.рф");
        assert_eq!(
            network_address("anna@Пример.РФ"),
            "anna@xn--e1afmkfd.xn--p1ai"
        );
    }

    #[test]
    fn server_text_is_cleaned_and_shortened() {
        assert_eq!(net::clean_text("NO\tbad\u{7}"), "NO bad");
        let long = "x".repeat(10_000);
        assert_eq!(
            net::clean_text(&long).chars().count(),
            net::MAX_REPLY_TEXT + 1
        );
    }

    #[test]
    fn a_request_logs_in_with_one_credential() {
        let token = |t: &str| Auth::Oauth2 {
            access_token: Token::new(t),
            sasl: None,
        };
        let with = |password: Option<&str>, auth: Option<Auth>| {
            let mut r = request();
            r.password = password.map(Password::new);
            r.auth = auth;
            match validate(&r) {
                Ok(()) => "ok",
                Err(CheckError::Invalid { field, .. }) => field,
                Err(other) => panic!("{other:?}"),
            }
        };
        assert_eq!(with(Some("pw"), None), "ok");
        assert_eq!(with(None, Some(token("ya29.a0-_~+/="))), "ok");
        assert_eq!(
            with(
                None,
                Some(Auth::Password {
                    password: Password::new("pw")
                })
            ),
            "ok"
        );
        assert_eq!(with(None, None), "password");
        assert_eq!(with(Some("pw"), Some(token("t"))), "auth");
        assert_eq!(with(None, Some(token(""))), "auth.access_token");
        assert_eq!(
            with(None, Some(token("a\r\nA1 LOGOUT"))),
            "auth.access_token"
        );
        assert_eq!(with(None, Some(token("a b"))), "auth.access_token");
        assert_eq!(
            with(None, Some(token(&"x".repeat(8193)))),
            "auth.access_token"
        );
        assert_eq!(
            with(
                None,
                Some(Auth::Password {
                    password: Password::new("")
                })
            ),
            "auth.password"
        );
    }
}

//! `start`: checks the address and the provider, makes a PKCE verifier and a flow id,
//! binds the flow to the browser (cookie), seals all of it into `state` and answers with
//! the provider's authorization URL (302/303 by the route).

use mailsetup_shared::api::{Lang, Text};
use mailsetup_shared::email::EmailAddress;
use serde::Deserialize;

use super::state::{FlowState, Mode, random_token, s256};
use super::{COOKIE, OAuth, OAuthClient};
use crate::error::ApiError;

/// `GET /api/v1/oauth/{provider}/start` query.
#[derive(Debug, Default, Deserialize)]
pub struct StartQuery {
    /// The address typed.
    #[serde(default)]
    pub email: Option<String>,
    /// `popup` (default) or `redirect`.
    #[serde(default)]
    pub mode: Option<String>,
    /// Where a same-tab flow returns: a path on the proxy's origin.
    #[serde(default)]
    pub return_to: Option<String>,
    /// `true` when the host opted in to receive the tokens.
    #[serde(default)]
    pub credentials: Option<String>,
    /// `en` or `ru`: the wizard's language (else `Accept-Language`).
    #[serde(default)]
    pub locale: Option<String>,
}

/// What `start` answers with.
#[derive(Debug)]
pub struct Started {
    /// The provider's authorization URL.
    pub location: String,
    /// The browser-binding cookie to set, when the browser has none yet.
    pub set_cookie: Option<String>,
}

/// Starts a flow for `provider`. `cookie` is the browser's binding cookie, if any.
pub fn start(
    oauth: &OAuth,
    provider: &str,
    query: &StartQuery,
    cookie: Option<&str>,
    lang: Lang,
    now: u64,
) -> Result<Started, ApiError> {
    let Some(client) = oauth.config.client(provider) else {
        return Err(ApiError::invalid(
            "provider",
            Text::new(
                format!("no OAuth sign-in is configured for `{provider}`"),
                format!("вход через OAuth для `{provider}` не настроен"),
            ),
        ));
    };
    let raw = query.email.as_deref().unwrap_or("");
    let email = EmailAddress::parse(raw)
        .map_err(|e| ApiError::InvalidEmail(Text::new(e.message(Lang::En), e.message(Lang::Ru))))?;
    let mode = match query.mode.as_deref() {
        None | Some("" | "popup") => Mode::Popup,
        Some("redirect") => Mode::Redirect,
        Some(other) => {
            return Err(ApiError::invalid(
                "mode",
                Text::new(
                    format!("mode `{other}`: give popup or redirect"),
                    format!("mode `{other}`: укажите popup или redirect"),
                ),
            ));
        }
    };
    let return_to = match &query.return_to {
        None => None,
        Some(r) => Some(same_origin_path(&oauth.origin(), r).ok_or_else(|| {
            ApiError::invalid(
                "return_to",
                Text::new(
                    "return_to must be a page of this site",
                    "return_to должен быть страницей этого сайта",
                ),
            )
        })?),
    };
    let lang = match query.locale.as_deref() {
        Some(l) => Lang::from_accept_language(l),
        None => lang,
    };
    let failed = |_| ApiError::Invalid {
        field: None,
        message: Text::new("no random numbers", "нет случайных чисел"),
    };
    let (cookie_value, set_cookie) = match cookie.filter(|c| c.len() == 43) {
        Some(c) => (c.to_owned(), None),
        None => {
            let value = random_token().map_err(failed)?;
            (value.clone(), Some(cookie_header(oauth, &value)))
        }
    };
    let verifier = random_token().map_err(failed)?;
    let flow = FlowState {
        id: random_token().map_err(failed)?,
        provider: provider.to_owned(),
        email: email.as_str().to_owned(),
        verifier: verifier.clone(),
        browser: s256(&cookie_value),
        exp: now + oauth.state_ttl.as_secs().max(1),
        mode,
        return_to,
        credentials: matches!(query.credentials.as_deref(), Some("true" | "1" | "yes")),
        lang,
    };
    let sealed = oauth.key.seal(&flow).map_err(failed)?;
    Ok(Started {
        location: authorization_url(
            &oauth.redirect_uri(),
            client,
            &sealed,
            &s256(&verifier),
            raw.trim(),
        ),
        set_cookie,
    })
}

/// The provider's authorization URL for a flow.
fn authorization_url(
    redirect_uri: &str,
    client: &OAuthClient,
    state: &str,
    challenge: &str,
    login_hint: &str,
) -> String {
    let scope = client.scopes.join(" ");
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("redirect_uri", redirect_uri),
        ("scope", &scope),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("login_hint", login_hint),
    ];
    for (k, v) in &client.authorization_params {
        params.push((k, v));
    }
    let query = serde_urlencoded::to_string(&params).unwrap_or_default();
    let sep = if client.authorization_url.contains('?') {
        '&'
    } else {
        '?'
    };
    format!("{}{sep}{query}", client.authorization_url)
}

/// The `Set-Cookie` value binding the browser.
fn cookie_header(oauth: &OAuth, value: &str) -> String {
    format!(
        "{COOKIE}={value}; Path=/api/v1/oauth; Max-Age={}; HttpOnly; SameSite=Lax{}",
        oauth.state_ttl.as_secs().max(1) * 4,
        if oauth.secure_cookies() {
            "; Secure"
        } else {
            ""
        }
    )
}

/// `return_to` as a path on the proxy's own origin: a path (`/x`, never `//host`) or an
/// absolute URL of that origin. Anything else is refused.
fn same_origin_path(origin: &str, r: &str) -> Option<String> {
    let path = if let Some(rest) = r.strip_prefix(origin).filter(|_| !origin.is_empty()) {
        if rest.is_empty() { "/" } else { rest }
    } else {
        r
    };
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains(['\\', '\r', '\n', '\t'])
        && path.len() <= 2048;
    ok.then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn return_to_stays_on_this_site() {
        let own = "https://setup.example.com";
        for (given, want) in [
            ("/wizard?x=1", Some("/wizard?x=1")),
            ("https://setup.example.com/a", Some("/a")),
            ("https://setup.example.com", Some("/")),
            ("https://setup.example.com.evil.example/a", None),
            ("//evil.example/", None),
            ("/\\evil.example", None),
            ("https://evil.example/", None),
            ("javascript:alert(1)", None),
            ("/a\nb", None),
        ] {
            assert_eq!(same_origin_path(own, given).as_deref(), want, "{given}");
        }
    }

    #[test]
    fn the_authorization_url_keeps_the_endpoint_s_query_and_adds_the_provider_s_parameters() {
        let client = OAuthClient {
            provider: "gmail".into(),
            name: "Gmail".into(),
            client_id: "id 1".into(),
            client_secret: None,
            authorization_url: "https://accounts.example.com/auth?tenant=x".into(),
            token_url: "https://accounts.example.com/token".into(),
            scopes: vec!["https://mail.google.com/".into(), "openid".into()],
            mail_scopes: vec!["https://mail.google.com/".into()],
            authorization_params: [("access_type".to_owned(), "offline".to_owned())].into(),
            sasl: mailsetup_shared::oauth::OAuthSasl::Xoauth2,
        };
        let url = authorization_url("https://s.example/cb", &client, "ST", "CH", "a@b.c");
        assert_eq!(
            url,
            "https://accounts.example.com/auth?tenant=x&response_type=code&client_id=id+1\
             &redirect_uri=https%3A%2F%2Fs.example%2Fcb&scope=https%3A%2F%2Fmail.google.com%2F+openid\
             &state=ST&code_challenge=CH&code_challenge_method=S256&login_hint=a%40b.c\
             &access_type=offline"
        );
    }
}

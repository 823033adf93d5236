//! The callback page: a few lines for the person (what happened, in EN or RU, with the
//! diagnosis code named) and a script that hands the [`OAuthMessage`] to the wizard that
//! opened the flow: `postMessage` to `window.opener` with the proxy's own origin as the
//! only target, a `BroadcastChannel` of the same origin as a fallback (an opener lost to
//! a cross-origin hop), or, for a same-tab flow, `sessionStorage` under
//! [`OAUTH_STORAGE_KEY`] and back to `return_to`.
//!
//! The page is served with a Content-Security-Policy that allows only its own two
//! elements (a per-response nonce), `no-store` and `no-referrer` (its URL held a code).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mailsetup_shared::api::Lang;
use mailsetup_shared::oauth::{OAUTH_MESSAGE_TYPE, OAUTH_STORAGE_KEY, OAuthMessage, OAuthOutcome};

use super::state::Mode;

/// A rendered callback page with its status.
#[derive(Debug)]
pub struct Page {
    /// 200 for a flow that ended (well or not), 4xx for a refused `state`, 503 when the
    /// store is down.
    pub status: StatusCode,
    /// What the wizard gets.
    pub outcome: OAuthOutcome,
    /// How to hand it over.
    pub mode: Mode,
    /// Where a same-tab flow returns.
    pub return_to: Option<String>,
    /// The proxy's own origin.
    pub origin: String,
    /// The page's language.
    pub lang: Lang,
}

impl Page {
    /// The page's HTML with `nonce` on its script and style.
    pub fn html(&self, nonce: &str) -> String {
        let ok = self.outcome.ok();
        let ru = self.lang == Lang::Ru;
        let (title, lines, code) = self.words(ok, ru);
        let data = serde_json::json!({
            "message": OAuthMessage {
                kind: OAUTH_MESSAGE_TYPE.to_owned(),
                outcome: self.outcome.clone(),
            },
            "origin": self.origin,
            "mode": self.mode,
            "return_to": self.return_to,
            "key": OAUTH_STORAGE_KEY,
        });
        // `<` never appears raw inside the script element, so nothing closes it early.
        let data = data.to_string().replace('<', "\\u003c");
        let lang = if ru { "ru" } else { "en" };
        let paragraphs: String = lines
            .iter()
            .filter(|l| !l.is_empty())
            .map(|l| format!("<p>{}</p>", escape(l)))
            .collect();
        let code_line = match code {
            Some(c) => format!(
                "<p>{} <code id=\"code\">{}</code></p>",
                if ru { "Код:" } else { "Code:" },
                escape(&c)
            ),
            None => String::new(),
        };
        let close = if ru {
            "Это окно можно закрыть."
        } else {
            "You can close this window."
        };
        format!(
            "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"referrer\" content=\"no-referrer\"><title>{title}</title>\
             <style nonce=\"{nonce}\">body{{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;\
             max-width:36rem;padding:0 1rem;color:#1a1a1a}}code{{background:#f2f2f2;padding:0 .25em}}</style>\
             </head><body><main><h1 id=\"title\">{title}</h1>{paragraphs}{code_line}\
             <p id=\"close\">{close}</p></main>\
             <script nonce=\"{nonce}\" id=\"mailsetup-oauth\" type=\"application/json\">{data}</script>\
             <script nonce=\"{nonce}\">{SCRIPT}</script></body></html>\n",
            title = escape(&title),
        )
    }

    /// Title, lines and the diagnosis code to name.
    fn words(&self, ok: bool, ru: bool) -> (String, Vec<String>, Option<String>) {
        if ok {
            let title = if ru {
                "Вход выполнен, настройки проверены"
            } else {
                "Signed in; your settings work"
            };
            let line = if ru {
                format!(
                    "{} подключён: вход по IMAP/POP3 и SMTP прошёл.",
                    self.outcome.email
                )
            } else {
                format!(
                    "{} is connected: the IMAP/POP3 and SMTP logins worked.",
                    self.outcome.email
                )
            };
            return (title.to_owned(), vec![line], None);
        }
        let title = if ru {
            "Вход не удался"
        } else {
            "Sign-in did not work"
        };
        let diagnosis = self.outcome.error.as_ref().or_else(|| {
            let check = self.outcome.check.as_ref()?;
            [check.incoming.as_ref(), check.outgoing.as_ref()]
                .into_iter()
                .flatten()
                .find_map(|side| side.diagnosis.as_ref())
        });
        match diagnosis {
            Some(d) => (
                title.to_owned(),
                vec![d.message.clone(), d.advice.clone()],
                Some(d.code.as_str().to_owned()),
            ),
            None => (title.to_owned(), Vec::new(), None),
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let nonce = super::state::random_token().unwrap_or_else(|_| "n".to_owned());
        let html = self.html(&nonce);
        let csp = format!(
            "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; \
             base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        );
        let mut response = (self.status, html).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_str(&csp) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}

/// The page's script: hand the message over, once.
const SCRIPT: &str = r#"(function () {
  var d = JSON.parse(document.getElementById('mailsetup-oauth').textContent);
  if (d.mode === 'redirect') {
    try { sessionStorage.setItem(d.key, JSON.stringify(d.message)); } catch (e) {}
    location.replace(d.return_to || '/');
    return;
  }
  if (window.opener && !window.opener.closed) {
    try { window.opener.postMessage(d.message, d.origin); } catch (e) {}
  }
  try {
    var channel = new BroadcastChannel(d.key);
    channel.postMessage(d.message);
    channel.close();
  } catch (e) {}
})();"#;

/// HTML text escaping.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_page_names_nothing_it_should_not_and_cannot_be_broken_out_of() {
        let page = Page {
            status: StatusCode::OK,
            outcome: OAuthOutcome {
                provider: "gmail".into(),
                email: "</script><b>x@example.com".into(),
                check: None,
                error: None,
                grant: None,
            },
            mode: Mode::Popup,
            return_to: None,
            origin: "https://setup.example.com".into(),
            lang: Lang::En,
        };
        let html = page.html("NONCE");
        assert_eq!(html.matches("</script>").count(), 2, "{html}");
        assert!(!html.contains("<b>"));
        assert!(html.contains("nonce=\"NONCE\""));
        assert!(html.contains("\"origin\":\"https://setup.example.com\""));
        assert!(html.contains("Sign-in did not work"));
        let ru = Page {
            lang: Lang::Ru,
            ..page
        };
        assert!(ru.html("n").contains("Вход не удался"));
    }
}

//! The bridge from a check's failures to [`mailsetup_shared::api::Diagnosis`]: server
//! replies are classified by the shared rules (`shared/data/diagnoses.toml`, through
//! [`mailsetup_shared::diagnose`]) and every code is explained there too, in the user's
//! language with the provider's own advice. Non-reply failures (DNS, connect, TLS,
//! timeouts, wrong protocol) are classified by the check itself.
//!
//! [`Judge::failure`] is where a protocol session's [`Fault`] becomes a [`Failure`]: the
//! step recorder calls it for every step that did not work.

use mailsetup_shared::api::{DiagnosisCode, Protocol, Provider, StepKind};
pub use mailsetup_shared::diagnose::{ReplyContext, Stage, classify_reply, explain};

use super::failure::{Failure, Fault};
use super::sasl::OAuthError;

/// What a side's failures are judged by: its protocol, the provider behind the server, and
/// whether the login is with a token.
#[derive(Clone, Copy, Debug)]
pub(super) struct Judge<'a> {
    pub(super) protocol: Protocol,
    pub(super) provider: Option<&'a Provider>,
    pub(super) token: bool,
}

impl Judge<'_> {
    /// The failure of `step`: a session's own verdict stands; a server's refusal is
    /// classified by the shared rules at the step's stage; a refused STARTTLS that no rule
    /// explains is `starttls_unavailable`; a refused login goes through [`login`].
    pub(super) fn failure(&self, step: StepKind, fault: Fault) -> Failure {
        match fault {
            Fault::Failed(failure) => failure,
            Fault::Refused { words, .. } => {
                let mut f = self.classify(step.into(), &words);
                // A POP3 `-ERR` or SMTP 5xx to STARTTLS says nothing about the password,
                // so the catch-all `auth_failed` does not apply there (IMAP's verdict stands).
                let unexplained = f.code == DiagnosisCode::ProtocolError
                    || (f.code == DiagnosisCode::AuthFailed && self.protocol != Protocol::Imap);
                if step == StepKind::Starttls && unexplained {
                    f.code = DiagnosisCode::StarttlsUnavailable;
                }
                f
            }
            Fault::LoginRefused { words, error } => {
                // The server's words, with a token server's JSON error.
                let words = match &error {
                    Some(e) if !e.text.is_empty() => format!("{words}\n{}", e.text),
                    _ => words,
                };
                let mut f = self.classify(Stage::Auth, &words);
                f.code = login(f.code, self.token, error.as_ref());
                f
            }
        }
    }

    /// Classifies a server's refusal with the shared rules.
    fn classify(&self, stage: Stage, reply: &str) -> Failure {
        let code = classify_reply(&ReplyContext {
            protocol: self.protocol,
            stage,
            reply,
            provider: self.provider,
        });
        Failure::reply(code, reply)
    }
}

/// What a refused login means: `code` is the shared rules' verdict on the server's words.
/// For a token login, a verdict about the password (`auth_failed`,
/// `app_password_required`) becomes `oauth_token_rejected`, and a server that says the
/// token lacks the mail scope (its SASL error's `status`, see [`OAuthError::scope_missing`])
/// gives `oauth_scope_missing`. Verdicts about the account (disabled, IMAP off, rate
/// limited) stand.
pub(crate) fn login(code: DiagnosisCode, token: bool, error: Option<&OAuthError>) -> DiagnosisCode {
    if !token {
        return code;
    }
    match code {
        DiagnosisCode::AuthFailed
        | DiagnosisCode::AppPasswordRequired
        | DiagnosisCode::OauthRequired
        | DiagnosisCode::WebLoginRequired => {
            if error.is_some_and(OAuthError::scope_missing) {
                DiagnosisCode::OauthScopeMissing
            } else {
                DiagnosisCode::OauthTokenRejected
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_refusals_get_oauth_codes() {
        let scope = OAuthError {
            status: Some("insufficient_scope".to_owned()),
            ..OAuthError::default()
        };
        let invalid = OAuthError {
            status: Some("401".to_owned()),
            ..OAuthError::default()
        };
        let c = DiagnosisCode::AuthFailed;
        assert_eq!(login(c, false, Some(&scope)), DiagnosisCode::AuthFailed);
        assert_eq!(login(c, true, None), DiagnosisCode::OauthTokenRejected);
        assert_eq!(
            login(c, true, Some(&invalid)),
            DiagnosisCode::OauthTokenRejected
        );
        assert_eq!(
            login(c, true, Some(&scope)),
            DiagnosisCode::OauthScopeMissing
        );
        assert_eq!(
            login(DiagnosisCode::ProtocolDisabled, true, Some(&scope)),
            DiagnosisCode::ProtocolDisabled
        );
    }

    #[test]
    fn the_judge_keeps_a_sessions_verdict_and_classifies_refusals_at_the_step() {
        use mailsetup_shared::api::Text;
        let judge = |protocol, token| Judge {
            protocol,
            provider: None,
            token,
        };
        let own = Failure::new(DiagnosisCode::PlaintextRefused, Text::new("x", "x"));
        let f = judge(Protocol::Smtp, false).failure(StepKind::Auth, Fault::Failed(own));
        assert_eq!(f.code, DiagnosisCode::PlaintextRefused);
        assert_eq!(f.server_reply, None);
        // A refusal no rule explains: at STARTTLS it is starttls_unavailable, elsewhere not.
        let refused = || Fault::Refused {
            what: "STARTTLS",
            words: "NO go away".to_owned(),
        };
        for protocol in [Protocol::Imap, Protocol::Pop3, Protocol::Smtp] {
            let f = judge(protocol, false).failure(StepKind::Starttls, refused());
            assert_eq!(f.code, DiagnosisCode::StarttlsUnavailable, "{protocol:?}");
            assert_eq!(f.server_reply.as_deref(), Some("NO go away"));
            let f = judge(protocol, false).failure(StepKind::Capabilities, refused());
            assert_eq!(f.code, DiagnosisCode::ProtocolError, "{protocol:?}");
        }
        // A refused token login: the token server's JSON error decides the scope verdict,
        // and its text is part of the server's words.
        let login = |status: &str| Fault::LoginRefused {
            words: "NO [AUTHENTICATIONFAILED] Authentication failed.".to_owned(),
            error: Some(OAuthError {
                status: Some(status.to_owned()),
                scope: None,
                text: format!("{{\"status\":\"{status}\"}}"),
            }),
        };
        let f = judge(Protocol::Imap, true).failure(StepKind::Auth, login("insufficient_scope"));
        assert_eq!(f.code, DiagnosisCode::OauthScopeMissing);
        assert!(
            f.server_reply
                .as_deref()
                .is_some_and(|r| r.contains("insufficient_scope")),
            "{f:?}"
        );
        let f = judge(Protocol::Imap, true).failure(StepKind::Auth, login("invalid_token"));
        assert_eq!(f.code, DiagnosisCode::OauthTokenRejected);
        let f = judge(Protocol::Imap, false).failure(StepKind::Auth, login("invalid_token"));
        assert_eq!(f.code, DiagnosisCode::AuthFailed);
    }
}

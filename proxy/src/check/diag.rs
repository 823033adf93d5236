//! The bridge from a check's failures to [`mailsetup_shared::api::Diagnosis`]: server
//! replies are classified by the shared rules (`shared/data/diagnoses.toml`, through
//! [`mailsetup_shared::diagnose`]) and every code is explained there too, in the user's
//! language with the provider's own advice. Non-reply failures (DNS, connect, TLS,
//! timeouts, wrong protocol) are classified by the check itself.

use mailsetup_shared::api::DiagnosisCode;
pub use mailsetup_shared::diagnose::{ReplyContext, Stage, classify_reply, explain};

use super::sasl::OAuthError;

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
}

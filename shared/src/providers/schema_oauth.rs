// The `[provider.oauth]` table of the provider data file and its check.
//
// `include!`d next to schema.rs (by shared/build.rs and by `providers::schema`), so, like
// it, this file uses no `crate::` paths and has no inner attributes.
//
// The build script takes these tables out of `providers.json` (the wasm front end's
// first-screen data) and writes them to `providers-oauth.json`, which only
// `providers::oauth_facts` reads: a build that never asks for OAuth facts never carries them.

/// A provider's OAuth 2.0 facts: where to sign in, what to ask for, how the token logs in.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawOAuth {
    /// The authorization endpoint (https).
    pub authorization_url: String,
    /// The token endpoint (https).
    pub token_url: String,
    /// Every scope to ask for: the mail scopes, the one that brings a refresh token where
    /// the provider works that way (`offline_access`), `openid email` where the provider
    /// gives an id_token with the address.
    pub scopes: Vec<String>,
    /// The scopes without which IMAP/POP3/SMTP logins fail (a subset of `scopes`): a
    /// token granted without one of them ends in `oauth_scope_missing`.
    pub mail_scopes: Vec<String>,
    /// Extra authorization request parameters (Google's `access_type = "offline"` for a
    /// refresh token).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub authorization_params: std::collections::BTreeMap<String, String>,
    /// SASL mechanisms the mail servers accept for the token, preferred first.
    pub sasl: Vec<RawSasl>,
    /// Whether the provider supports PKCE (S256). mailsetup always sends it.
    pub pkce: bool,
    /// Whether the token endpoint wants a client secret from a web server's client.
    pub client_secret_required: bool,
    /// The provider's documentation the facts come from (https).
    pub sources: Vec<String>,
}

/// The SASL mechanisms for a token, as in `oauth::OAuthSasl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawSasl {
    /// `XOAUTH2`.
    Xoauth2,
    /// `OAUTHBEARER` (RFC 7628).
    Oauthbearer,
}

/// Checks one provider's `oauth` table: https endpoints, at least one scope and every
/// mail scope among them, at least one SASL mechanism, at least one https source, no
/// empty or spaced scope or parameter.
pub fn check_oauth(errors: &mut Vec<String>, id: &str, o: &RawOAuth) {
    for (what, u) in [
        ("authorization_url", &o.authorization_url),
        ("token_url", &o.token_url),
    ] {
        if !schema_valid_https_url(u) {
            errors.push(format!(
                "provider `{id}`: oauth {what} `{u}` is not a valid https URL"
            ));
        }
    }
    if o.scopes.is_empty() {
        errors.push(format!("provider `{id}`: oauth scopes are empty"));
    }
    for s in o.scopes.iter().chain(&o.mail_scopes) {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\') {
            errors.push(format!(
                "provider `{id}`: oauth scope `{s}` is empty or has spaces or quotes"
            ));
        }
    }
    if o.mail_scopes.is_empty() {
        errors.push(format!("provider `{id}`: oauth mail_scopes are empty"));
    }
    for s in &o.mail_scopes {
        if !o.scopes.contains(s) {
            errors.push(format!(
                "provider `{id}`: oauth mail scope `{s}` is not among its scopes"
            ));
        }
    }
    for (k, v) in &o.authorization_params {
        let reserved = [
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
            "login_hint",
        ];
        if k.is_empty() || v.is_empty() || reserved.contains(&k.as_str()) {
            errors.push(format!(
                "provider `{id}`: oauth authorization parameter `{k}` is empty or one mailsetup sets itself"
            ));
        }
    }
    if o.sasl.is_empty() {
        errors.push(format!("provider `{id}`: oauth sasl lists no mechanism"));
    }
    if o.sources.is_empty() {
        errors.push(format!("provider `{id}`: oauth cites no source"));
    }
    for u in &o.sources {
        if !schema_valid_https_url(u) {
            errors.push(format!(
                "provider `{id}`: oauth source `{u}` is not a valid https URL"
            ));
        }
    }
}

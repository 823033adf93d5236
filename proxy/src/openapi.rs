//! The OpenAPI 3.1 description served at `GET /api/v1/openapi.json`, generated with
//! utoipa from the `shared` API types (their `ToSchema` derives live behind `shared`'s
//! `openapi` feature, which only the proxy turns on) and the operations below.
//!
//! The operations are described here, one documented function per route, rather than on
//! the handlers in `routes/`, so the description stays in one place. It cannot drift
//! unnoticed: the integration test `openapi` sends every example request to the real
//! proxy and compares status and shape with the documented answer. Examples are named so
//! the test can pair them: for a POST, a response example's name is the name of the
//! request-body example that produces it; for a GET, the name is the query string
//! (`?email=...`). Answers that need a fault to happen (429, 503 `overloaded`, 504...)
//! carry examples with other names; the test checks that they parse as the documented
//! type.

// The documented functions are never called: utoipa reads their attributes.
#![allow(dead_code)]

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use mailsetup_shared::api::{
    AppPasswordFormat, Candidate, CandidateSource, Charset, CheckRequest, CheckResponse,
    Confidence, Diagnosis, DiagnosisCode, DiscoverResponse, ErrorBody, ErrorDetail, Health,
    IncomingProtocol, IncomingTarget, Link, OutgoingTarget, PrepStep, Protocol, Provider,
    ProviderStatus, Security, Server, SideReport, StepKind, StepReport, StepTopic, Text, TlsInfo,
    TraceEntry, TraceMethod, UsernameForm,
};
use mailsetup_shared::oauth::{OAuthGrant, OAuthOutcome, OAuthProvider, OAuthProviders, OAuthSasl};
use utoipa::OpenApi as _;
use utoipa::openapi::{RefOr, Schema};

/// Every stable error code of `{"error":{"code"}}`.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body or a field is malformed.
    InvalidRequest,
    /// 400: the address is not a valid email address.
    InvalidEmail,
    /// 404: no provider is known for the domain (a "did you mean" may follow).
    UnknownProvider,
    /// 403: the egress policy forbids the target (private address, port, plaintext).
    TargetNotAllowed,
    /// 403: the page's origin may not call the API.
    OriginNotAllowed,
    /// 429: too many requests from this client, or too many failed logins for this
    /// mailbox; see `Retry-After`.
    RateLimited,
    /// 503: too many checks running; see `Retry-After`.
    Overloaded,
    /// 503: the shared state store (Redis) is unreachable, so checks are paused.
    StoreUnavailable,
    /// 413: the body is over 64 KiB.
    BodyTooLarge,
    /// 408/504: the body did not arrive in time, or the request took too long.
    Timeout,
    /// 404: no such API route.
    NotFound,
}

/// Every error code's text, as in [`ErrorCode`].
pub const ERROR_CODES: [&str; 11] = [
    "invalid_request",
    "invalid_email",
    "unknown_provider",
    "target_not_allowed",
    "origin_not_allowed",
    "rate_limited",
    "overloaded",
    "store_unavailable",
    "body_too_large",
    "timeout",
    "not_found",
];

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "mailsetup proxy API",
        description = "Checks mailbox settings for real (IMAP/POP3/SMTP logins) and finds the \
servers of any mail domain. Every error has one shape, `{\"error\":{\"code\",\"message\",\"field\"}}`; \
messages follow `Accept-Language` (English or Russian). Every answer carries `X-Request-Id`. \
Example names: for a POST, the request example that produces the answer; for a GET, the query.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(health, ready, providers, lookup, check, check_stream, discover, openapi_json,
        oauth_providers, oauth_start, oauth_callback),
    components(schemas(
        ErrorCode, ErrorBody, ErrorDetail, Health, CheckRequest, IncomingTarget,
        OutgoingTarget, IncomingProtocol, Protocol, Security, UsernameForm, CheckResponse,
        SideReport, StepReport, StepKind, Diagnosis, DiagnosisCode, Link, TlsInfo, Provider,
        Server, Text, PrepStep, StepTopic, Charset, AppPasswordFormat, ProviderStatus,
        DiscoverResponse, Candidate, CandidateSource, Confidence, TraceEntry, TraceMethod,
        OAuthProviders,
        OAuthProvider, OAuthSasl, OAuthOutcome, OAuthGrant
    )),
    modifiers(&ErrorCodes),
    tags(
        (name = "status", description = "Liveness, readiness and this description."),
        (name = "providers", description = "The provider knowledge base (no network)."),
        (name = "check", description = "Real logins to the user's servers."),
        (name = "discover", description = "Finding the servers of any mail domain."),
        (name = "oauth", description = "Sign in with the provider (OAuth 2.0), then the real check.")
    )
)]
struct ApiDoc;

/// Makes `ErrorDetail.code` refer to [`ErrorCode`] (the field is a string in `shared`,
/// so older clients keep working when a code is added).
struct ErrorCodes;

impl utoipa::Modify for ErrorCodes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        if let Some(RefOr::T(Schema::Object(detail))) = components.schemas.get_mut("ErrorDetail") {
            detail.properties.insert(
                "code".to_owned(),
                RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorCode")),
            );
        }
    }
}

/// The description as JSON, built once.
pub fn json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .unwrap_or_else(|_| "{}".to_owned())
    })
}

/// `GET /api/v1/openapi.json`.
pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], json())
}

#[utoipa::path(get, path = "/api/v1/health", tag = "status",
    description = "Liveness: answers whenever the process serves requests; never touches Redis.",
    responses((status = 200, description = "Alive.", body = Health,
        examples(("?" = (value = json!({"status": "ok", "version": "0.1.0"}))))))
)]
fn health() {}

#[utoipa::path(get, path = "/api/v1/ready", tag = "status",
    description = "Readiness: 200 only when checks can be served (the shared state store \
answers: always without `--redis-url`, Redis when it is set). Point the load balancer's health \
check here.",
    responses(
        (status = 200, description = "Ready.", body = Health,
            examples(("?" = (value = json!({"status": "ready", "version": "0.1.0"}))))),
        (status = 503, description = "Redis is unreachable; checks are refused.", body = ErrorBody,
            examples(("?" = (value = json!({"error": {"code": "store_unavailable",
                "message": "Checks are paused: the proxy cannot reach its shared state (Redis), which keeps your mailbox from being locked by too many failed logins. Try again in a minute."}})))))
    )
)]
fn ready() {}

#[utoipa::path(get, path = "/api/v1/providers", tag = "providers",
    description = "Every provider the proxy knows (built in plus the operator's \
`--providers-file`), most used first.",
    responses(
        (status = 200, description = "The knowledge base.", body = Vec<Provider>,
            examples(("?" = (value = json!([{"id": "gmail", "name": "Gmail",
                "domains": ["gmail.com", "googlemail.com"], "mx": [],
                "servers": [{"protocol": "imap", "host": "imap.gmail.com", "port": 993,
                             "security": "tls", "username": "email"}],
                "status": "needs_preparation",
                "status_note": {"en": "Google no longer accepts the account password from mail apps.",
                                "ru": "Google больше не принимает обычный пароль аккаунта."},
                "steps": [], "resets": [], "limits": [],
                "sources": ["https://support.google.com/mail/answer/7126229"]}]))))),
        (status = 403, description = "A page of a foreign origin called the API.", body = ErrorBody,
            examples(("foreign origin" = (value = json!({"error": {"code": "origin_not_allowed",
                "message": "This page's origin may not use the mailsetup API. The operator can allow it with --allowed-origin."}})))))
    )
)]
fn providers() {}

#[utoipa::path(get, path = "/api/v1/providers/lookup", tag = "providers",
    description = "The provider of an address's domain, from the knowledge base alone (no network).",
    params(("email" = String, Query, description = "The mailbox address.", example = "anna@gmail.com")),
    responses(
        (status = 200, description = "The provider.", body = Provider,
            examples(("?email=anna@gmail.com" = (value = json!({"id": "gmail", "name": "Gmail",
                "domains": ["gmail.com", "googlemail.com"], "mx": [],
                "servers": [{"protocol": "imap", "host": "imap.gmail.com", "port": 993,
                             "security": "tls", "username": "email"}],
                "status": "needs_preparation", "steps": [], "resets": [], "limits": [],
                "sources": ["https://support.google.com/mail/answer/7126229"]}))))),
        (status = 400, description = "Not an email address.", body = ErrorBody,
            examples(("?email=not-an-address" = (value = json!({"error": {"code": "invalid_email",
                "message": "The address needs an @ and a domain, like anna@example.com.", "field": "email"}}))))),
        (status = 404, description = "No provider is known for the domain.", body = ErrorBody,
            examples(("?email=anna@gmial.com" = (value = json!({"error": {"code": "unknown_provider",
                "message": "No provider is known for gmial.com; its servers can still be discovered. Did you mean anna@gmail.com?",
                "field": "email"}})))))
    )
)]
fn lookup() {}

#[utoipa::path(post, path = "/api/v1/check", tag = "check",
    description = "Logs in for real on the incoming (IMAP or POP3) and outgoing (SMTP) servers \
given, both at once, and reports every step with a diagnosis in plain words. IMAP opens INBOX \
read-only; SMTP checks the sender with `MAIL FROM` and `RSET`: nothing is ever sent. The \
password is never echoed, logged or stored.",
    request_body(content = CheckRequest, content_type = "application/json", examples(
        ("connect_refused" = (summary = "Nothing listens on the port (with --allow-private-targets --allow-any-port)",
            value = json!({"email": "alice@example.com", "password": "abcd efgh ijkl mnop",
                "incoming": {"protocol": "imap", "host": "127.0.0.1", "port": 1, "security": "tls"}}))),
        ("missing_password" = (summary = "A required field is missing",
            value = json!({"email": "alice@example.com"}))),
        ("plaintext" = (summary = "A password without encryption (refused unless --allow-plaintext)",
            value = json!({"email": "alice@example.com", "password": "abcd efgh ijkl mnop",
                "incoming": {"protocol": "imap", "host": "imap.example.com", "port": 143, "security": "none"}}))),
        ("redis_down" = (summary = "Any check while Redis is unreachable",
            value = json!({"email": "alice@example.com", "password": "abcd efgh ijkl mnop",
                "outgoing": {"host": "smtp.example.com", "port": 465, "security": "tls"}})))
    )),
    responses(
        (status = 200, description = "The check ran; `ok` says whether it worked, each side's \
`diagnosis` says why not (one of `DiagnosisCode`).", body = CheckResponse,
            examples(("connect_refused" = (value = json!({"ok": false, "incoming": {"ok": false,
                "protocol": "imap", "host": "127.0.0.1", "port": 1, "security": "tls",
                "steps": [{"step": "resolve", "ok": true, "ms": 0, "detail": "127.0.0.1:1"},
                          {"step": "connect", "ok": false, "ms": 0, "detail": "connection refused"}],
                "diagnosis": {"code": "connect_refused", "message": "Nothing answers on port 1 of 127.0.0.1.",
                              "advice": "Check the host and the port.", "server_reply": null, "links": []},
                "tls": null}, "outgoing": null}))))),
        (status = 400, description = "Malformed body or field.", body = ErrorBody,
            examples(("missing_password" = (value = json!({"error": {"code": "invalid_request",
                "message": "Failed to deserialize the JSON body into the target type: missing field `password`"}}))))),
        (status = 403, description = "The policy forbids the target.", body = ErrorBody,
            examples(("plaintext" = (value = json!({"error": {"code": "target_not_allowed",
                "message": "This proxy does not send passwords without encryption; choose TLS or STARTTLS.",
                "field": "incoming.security"}}))))),
        (status = 408, description = "The body did not arrive within 10 s.", body = ErrorBody,
            examples(("slow body" = (value = json!({"error": {"code": "timeout", "message": "The request body did not arrive within 10 s."}}))))),
        (status = 413, description = "The body is over 64 KiB.", body = ErrorBody,
            examples(("large body" = (value = json!({"error": {"code": "body_too_large", "message": "The request body is too large (the limit is 64 KiB)."}}))))),
        (status = 429, description = "Too many checks from this client (`--rate-limit-per-minute`) \
or too many failed logins for this mailbox (`--max-failed-logins`); see `Retry-After`.", body = ErrorBody,
            examples(("too many" = (value = json!({"error": {"code": "rate_limited", "message": "Too many checks from your address. Try again in 20 s."}}))))),
        (status = 503, description = "Too many checks running (`overloaded`, see `Retry-After`), \
or Redis unreachable (`store_unavailable`).", body = ErrorBody,
            examples(
                ("redis_down" = (value = json!({"error": {"code": "store_unavailable",
                    "message": "Checks are paused: the proxy cannot reach its shared state (Redis), which keeps your mailbox from being locked by too many failed logins. Try again in a minute."}}))),
                ("busy" = (value = json!({"error": {"code": "overloaded", "message": "The proxy is busy with other checks. Try again in a few seconds."}})))
            )),
        (status = 504, description = "The request took longer than `--request-timeout`.", body = ErrorBody,
            examples(("slow" = (value = json!({"error": {"code": "timeout", "message": "The request took too long."}})))))
    )
)]
fn check() {}

#[utoipa::path(post, path = "/api/v1/check/stream", tag = "check",
    description = "The same check as Server-Sent Events: one `step` event per finished step \
(`{\"side\":\"incoming\",\"step\":StepReport}`), then one `result` event with the whole \
`CheckResponse`. Request-level errors are the same JSON errors as `/check`, before the stream starts.",
    request_body(content = CheckRequest, content_type = "application/json", examples(
        ("connect_refused" = (value = json!({"email": "alice@example.com", "password": "abcd efgh ijkl mnop",
            "incoming": {"protocol": "imap", "host": "127.0.0.1", "port": 1, "security": "tls"}}))),
        ("plaintext" = (value = json!({"email": "alice@example.com", "password": "abcd efgh ijkl mnop",
            "incoming": {"protocol": "imap", "host": "imap.example.com", "port": 143, "security": "none"}})))
    )),
    responses(
        (status = 200, description = "The event stream.", content_type = "text/event-stream", body = String,
            examples(("connect_refused" = (value = json!("event: step\ndata: {\"side\":\"incoming\",\"step\":{\"step\":\"resolve\",\"ok\":true,\"ms\":0,\"detail\":\"127.0.0.1:1\"}}\n\nevent: result\ndata: {\"ok\":false,...}\n\n"))))),
        (status = 403, description = "The policy forbids the target.", body = ErrorBody,
            examples(("plaintext" = (value = json!({"error": {"code": "target_not_allowed",
                "message": "This proxy does not send passwords without encryption; choose TLS or STARTTLS.",
                "field": "incoming.security"}}))))),
        (status = 429, description = "As for `/check`.", body = ErrorBody,
            examples(("too many" = (value = json!({"error": {"code": "rate_limited", "message": "Too many checks from your address. Try again in 20 s."}}))))),
        (status = 503, description = "As for `/check`.", body = ErrorBody,
            examples(("busy" = (value = json!({"error": {"code": "overloaded", "message": "The proxy is busy with other checks. Try again in a few seconds."}})))))
    )
)]
fn check_stream() {}

#[utoipa::path(get, path = "/api/v1/discover", tag = "discover",
    description = "Finds the servers of the address's domain: every method at once (`builtin`, \
`mx`, `autoconfig`, `srv`, `ispdb`, `autodiscover`, `guess`), best first, with a trace. Answers \
are cached per domain (shared by every replica with `--redis-url`).",
    params(("email" = String, Query, description = "The mailbox address.", example = "someone@gmail.com")),
    responses(
        (status = 200, description = "Candidates, best first, and what was tried.", body = DiscoverResponse,
            examples(("?email=someone@gmail.com" = (value = json!({"domain": "gmail.com",
                "provider": {"id": "gmail", "name": "Gmail", "domains": ["gmail.com"], "mx": [],
                    "servers": [], "status": "needs_preparation", "steps": [], "resets": [], "limits": [],
                    "sources": []},
                "candidates": [{"incoming": {"protocol": "imap", "host": "imap.gmail.com", "port": 993,
                                             "security": "tls", "username": "email"},
                                "outgoing": {"protocol": "smtp", "host": "smtp.gmail.com", "port": 465,
                                             "security": "tls", "username": "email"},
                                "source": "builtin", "confidence": "high"}],
                "trace": [{"method": "builtin", "target": "gmail.com", "ok": true, "ms": 0,
                           "detail": "Gmail"}]}))))),
        (status = 400, description = "Not an email address.", body = ErrorBody,
            examples(("?email=nope" = (value = json!({"error": {"code": "invalid_email",
                "message": "The address needs an @ and a domain, like anna@example.com.", "field": "email"}}))))),
        (status = 429, description = "Too many discoveries from this client.", body = ErrorBody,
            examples(("too many" = (value = json!({"error": {"code": "rate_limited", "message": "Too many checks from your address. Try again in 20 s."}})))))
    )
)]
fn discover() {}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "status",
    description = "This description (OpenAPI 3.1).",
    responses((status = 200, description = "The description.", content_type = "application/json", body = Object))
)]
fn openapi_json() {}

#[utoipa::path(get, path = "/api/v1/oauth/providers", tag = "oauth",
    description = "The providers the operator configured an OAuth client for (`--oauth-config`): \
the wizard offers \"Sign in with ...\" for them.",
    responses((status = 200, description = "Configured providers (none without --oauth-config).",
        body = OAuthProviders, examples(("?" = (value = json!({"providers": []}))))))
)]
fn oauth_providers() {}

#[utoipa::path(get, path = "/api/v1/oauth/{provider}/start", tag = "oauth",
    description = "Starts a sign-in: 303 to the provider's authorization endpoint (authorization code \
with PKCE S256, `state`, `login_hint`), with a browser-binding cookie. Open it in a popup, or in the \
same tab with `mode=redirect`.",
    params(
        ("provider" = String, Path, description = "A provider id with a configured client."),
        ("email" = String, Query, description = "The address typed."),
        ("mode" = Option<String>, Query, description = "`popup` (default) or `redirect`."),
        ("return_to" = Option<String>, Query, description = "Where a same-tab flow returns: a path of this site."),
        ("credentials" = Option<bool>, Query, description = "`true`: the outcome carries the grant (tokens)."),
        ("locale" = Option<String>, Query, description = "`en` or `ru`: the callback page's language."),
    ),
    responses(
        (status = 303, description = "To the provider's sign-in page."),
        (status = 400, description = "No client for the provider, a bad address, mode or return_to.", body = ErrorBody,
            examples(("?email=anna@gmail.com" = (value = json!({"error": {"code": "invalid_request",
                "message": "no OAuth sign-in is configured for `gmail`", "field": "provider"}})))))
    )
)]
fn oauth_start() {}

#[utoipa::path(get, path = "/api/v1/oauth/callback", tag = "oauth",
    description = "Where the provider sends the browser back. Answers an HTML page (EN/RU, naming the \
diagnosis code) that hands `{\"type\": \"mailsetup:oauth\", \"outcome\": OAuthOutcome}` to the wizard \
(postMessage to the opener with this origin as target, BroadcastChannel, or sessionStorage and back to \
`return_to`).",
    params(
        ("code" = Option<String>, Query, description = "The authorization code."),
        ("state" = String, Query, description = "The sealed flow state."),
        ("error" = Option<String>, Query, description = "The provider's refusal (`access_denied`)."),
    ),
    responses(
        (status = 200, description = "The flow ended: verified, or a diagnosis (oauth_denied, \
oauth_exchange_failed, oauth_scope_missing, oauth_account_mismatch, a check's codes).", content_type = "text/html"),
        (status = 400, description = "`state` forged, replayed or expired (oauth_state_invalid, oauth_state_expired). \
Example: a text the page contains.", content_type = "text/html", body = String,
            examples(("?state=forged" = (value = json!("oauth_state_invalid"))))),
        (status = 403, description = "`state` from another browser (oauth_state_invalid).", content_type = "text/html"),
        (status = 503, description = "The shared store is down: the sign-in cannot be finished now.", content_type = "text/html"),
    )
)]
fn oauth_callback() {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_description_is_openapi_3_1_and_names_every_code() {
        let doc: serde_json::Value = serde_json::from_str(json()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let schemas = &doc["components"]["schemas"];
        // The values a string enum's schema lists.
        let values = |name: &str| -> Vec<String> {
            schemas[name]["enum"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let all: Vec<&str> = DiagnosisCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(values("DiagnosisCode"), all);
        assert_eq!(values("ErrorCode"), ERROR_CODES);
        assert_eq!(
            schemas["ErrorDetail"]["properties"]["code"]["$ref"],
            "#/components/schemas/ErrorCode"
        );
        let all: Vec<&str> = TraceMethod::ALL.iter().map(|m| m.as_str()).collect();
        assert_eq!(values("TraceMethod"), all);
        assert_eq!(
            schemas["TraceEntry"]["properties"]["method"]["$ref"],
            "#/components/schemas/TraceMethod"
        );
        for path in [
            "/api/v1/health",
            "/api/v1/ready",
            "/api/v1/providers",
            "/api/v1/providers/lookup",
            "/api/v1/check",
            "/api/v1/check/stream",
            "/api/v1/discover",
            "/api/v1/openapi.json",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} undocumented");
        }
    }
}

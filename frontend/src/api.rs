//! A typed client for the proxy's JSON API over the browser's `fetch`, with its own error
//! type. Requests go to the page's own origin (the proxy serves the app).
//!
//! [`check_live`] reads the Server-Sent Events of `POST /api/v1/check/stream` from the
//! response body as it arrives, handing each finished step on. It falls back to the
//! one-answer `POST /check` only when the stream endpoint is absent (an older proxy answers
//! 404, 405 or 415 before any login started); a stream that breaks once the check may have
//! started is reported as [`ApiError::StreamBroken`], never silently run again: a second
//! login would count against the failed-login guard and the provider's own lockout.

use mailsetup_shared::api::{
    API_PREFIX, CheckRequest, CheckResponse, DiscoverResponse, ErrorBody, Lang, Provider,
    StepEvent, StepReport, StreamEvent,
};
use mailsetup_shared::oauth::OAuthProviders;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, ReadableStreamDefaultReader, Request, RequestInit, Response};

use crate::sse::SseParser;
use crate::wizard::Side;

/// What can go wrong talking to the proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// The request never got an answer (offline, blocked, aborted).
    Network(String),
    /// The request was cancelled by the user.
    Aborted,
    /// The proxy answered with an error body.
    Api {
        /// HTTP status.
        status: u16,
        /// The stable error code (`unknown_provider`, `rate_limited`...).
        code: String,
        /// The proxy's message.
        message: String,
    },
    /// The answer was not the JSON expected.
    Decode(String),
    /// The live check's connection broke after the check may have started (cut off,
    /// garbled, ended without a result). The user decides whether to run it again.
    StreamBroken,
}

fn js_err(e: JsValue) -> ApiError {
    let name = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.name()))
        .unwrap_or_default();
    if name == "AbortError" {
        ApiError::Aborted
    } else {
        ApiError::Network(format!("{e:?}"))
    }
}

fn encode(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

/// Sends a request; the response whatever its status.
async fn fetch(
    method: &str,
    path: &str,
    body: Option<String>,
    lang: Lang,
    signal: Option<&AbortSignal>,
    accept: &str,
) -> Result<Response, ApiError> {
    let window = web_sys::window().ok_or_else(|| ApiError::Network("no window".into()))?;
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(js_err)?;
    headers.set("Accept", accept).map_err(js_err)?;
    headers
        .set("Accept-Language", lang.code())
        .map_err(js_err)?;
    if let Some(b) = &body {
        headers
            .set("Content-Type", "application/json")
            .map_err(js_err)?;
        init.set_body(&JsValue::from_str(b));
    }
    init.set_headers(&headers);
    if let Some(s) = signal {
        init.set_signal(Some(s));
    }
    let url = format!("{API_PREFIX}{path}");
    let req = Request::new_with_str_and_init(&url, &init).map_err(js_err)?;
    JsFuture::from(window.fetch_with_request(&req))
        .await
        .map_err(js_err)?
        .dyn_into()
        .map_err(js_err)
}

async fn send<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<String>,
    lang: Lang,
    signal: Option<&AbortSignal>,
) -> Result<T, ApiError> {
    let resp = fetch(method, path, body, lang, signal, "application/json").await?;
    let text = body_text(&resp).await?;
    if resp.ok() {
        serde_json::from_str(&text).map_err(|e| ApiError::Decode(e.to_string()))
    } else {
        Err(error_of(&resp, &text))
    }
}

async fn body_text(resp: &Response) -> Result<String, ApiError> {
    Ok(JsFuture::from(resp.text().map_err(js_err)?)
        .await
        .map_err(js_err)?
        .as_string()
        .unwrap_or_default())
}

/// The error a non-2xx answer stands for.
fn error_of(resp: &Response, text: &str) -> ApiError {
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(b) => ApiError::Api {
            status: resp.status(),
            code: b.error.code,
            message: b.error.message,
        },
        Err(_) => ApiError::Api {
            status: resp.status(),
            code: "http_error".into(),
            message: format!("HTTP {}", resp.status()),
        },
    }
}

/// `GET /api/v1/providers/lookup?email=`: the known provider, `None` when unknown;
/// cancellable through `signal`.
pub async fn lookup(
    email: &str,
    lang: Lang,
    signal: &AbortSignal,
) -> Result<Option<Provider>, ApiError> {
    let path = format!("/providers/lookup?email={}", encode(email));
    match send::<Provider>("GET", &path, None, lang, Some(signal)).await {
        Ok(p) => Ok(Some(p)),
        Err(ApiError::Api { status: 404, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `GET /api/v1/oauth/providers`: the providers the operator configured a sign-in for.
pub async fn oauth_providers(lang: Lang) -> Result<OAuthProviders, ApiError> {
    send("GET", "/oauth/providers", None, lang, None).await
}

/// The URL-component encoding of `s` (the browser's `encodeURIComponent`).
pub fn encode_component(s: &str) -> String {
    encode(s)
}

/// `GET /api/v1/discover?email=`, cancellable through `signal`.
pub async fn discover(
    email: &str,
    lang: Lang,
    signal: &AbortSignal,
) -> Result<DiscoverResponse, ApiError> {
    let path = format!("/discover?email={}", encode(email));
    send("GET", &path, None, lang, Some(signal)).await
}

/// `POST /api/v1/check`, cancellable through `signal`.
pub async fn check(
    req: &CheckRequest,
    lang: Lang,
    signal: &AbortSignal,
) -> Result<CheckResponse, ApiError> {
    let body = serde_json::to_string(req).map_err(|e| ApiError::Decode(e.to_string()))?;
    send("POST", "/check", Some(body), lang, Some(signal)).await
}

/// Why the live stream gave no result.
enum StreamFailure {
    /// A real answer: report it as is.
    Final(ApiError),
    /// The proxy has no stream endpoint (404/405/415 before any login): use `/check`.
    Absent,
}

/// Whether a status from `POST /check/stream` means the endpoint does not exist (an older
/// proxy), so no login was attempted and the plain check may run instead.
pub fn stream_absent(status: u16) -> bool {
    matches!(status, 404 | 405 | 415)
}

/// `POST /api/v1/check/stream`: calls `on_step` for every step as it finishes and returns
/// the whole answer at the end. Cancellable through `signal`. Only when the proxy has no
/// such endpoint is the check run with the one-answer `POST /check`; a stream that breaks
/// gives [`ApiError::StreamBroken`].
pub async fn check_live(
    req: &CheckRequest,
    lang: Lang,
    signal: &AbortSignal,
    mut on_step: impl FnMut(Side, StepReport),
) -> Result<CheckResponse, ApiError> {
    let body = serde_json::to_string(req).map_err(|e| ApiError::Decode(e.to_string()))?;
    match stream(body, lang, signal, &mut on_step).await {
        Ok(resp) => Ok(resp),
        Err(_) if signal.aborted() => Err(ApiError::Aborted),
        Err(StreamFailure::Final(e)) => Err(e),
        Err(StreamFailure::Absent) => check(req, lang, signal).await,
    }
}

async fn stream(
    body: String,
    lang: Lang,
    signal: &AbortSignal,
    on_step: &mut impl FnMut(Side, StepReport),
) -> Result<CheckResponse, StreamFailure> {
    // From here on the request may have reached the proxy and a login may be under way:
    // every failure is final.
    fn broken<E>(_: E) -> StreamFailure {
        StreamFailure::Final(ApiError::StreamBroken)
    }
    let resp = fetch(
        "POST",
        "/check/stream",
        Some(body),
        lang,
        Some(signal),
        "text/event-stream",
    )
    .await
    .map_err(|e| match e {
        ApiError::Aborted => StreamFailure::Final(ApiError::Aborted),
        _ => StreamFailure::Final(ApiError::StreamBroken),
    })?;
    if !resp.ok() {
        let status = resp.status();
        if stream_absent(status) {
            return Err(StreamFailure::Absent);
        }
        let text = body_text(&resp).await.map_err(broken)?;
        return Err(StreamFailure::Final(error_of(&resp, &text)));
    }
    let is_sse = resp
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .is_some_and(|t| t.starts_with("text/event-stream"));
    if !is_sse {
        // Something answered 200 with one body: take it if it is the whole result.
        let text = body_text(&resp).await.map_err(broken)?;
        return serde_json::from_str(&text).map_err(broken);
    }
    let Some(stream) = resp.body() else {
        return Err(StreamFailure::Final(ApiError::StreamBroken));
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().dyn_into().map_err(broken)?;
    let mut parser = SseParser::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(broken)?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
            .map(|d| d.is_truthy())
            .unwrap_or(true);
        if done {
            return Err(StreamFailure::Final(ApiError::StreamBroken));
        }
        let value = js_sys::Reflect::get(&chunk, &JsValue::from_str("value")).map_err(broken)?;
        let bytes = js_sys::Uint8Array::new(&value).to_vec();
        let events = parser.push(&bytes).map_err(broken)?;
        for ev in events {
            match StreamEvent::from_wire(&ev.event) {
                Some(StreamEvent::Step) => {
                    // A step we cannot read is only a missing line on screen; the result
                    // still has every step.
                    if let Ok(s) = serde_json::from_str::<StepEvent>(&ev.data) {
                        on_step(s.side, s.step);
                    }
                }
                Some(StreamEvent::Result) => {
                    let _ = reader.cancel();
                    return serde_json::from_str(&ev.data).map_err(broken);
                }
                None => {}
            }
        }
    }
}

//! A typed client for the proxy's JSON API over the browser's `fetch`, with its own error
//! type. Requests go to the page's own origin (the proxy serves the app).

use mailsetup_shared::api::{
    API_PREFIX, CheckRequest, CheckResponse, DiscoverResponse, ErrorBody, Lang, Provider,
};
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, Request, RequestInit, Response};

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

async fn send<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<String>,
    lang: Lang,
    signal: Option<&AbortSignal>,
) -> Result<T, ApiError> {
    let window = web_sys::window().ok_or_else(|| ApiError::Network("no window".into()))?;
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(js_err)?;
    headers.set("Accept", "application/json").map_err(js_err)?;
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
    let resp: Response = JsFuture::from(window.fetch_with_request(&req))
        .await
        .map_err(js_err)?
        .dyn_into()
        .map_err(js_err)?;
    let text = JsFuture::from(resp.text().map_err(js_err)?)
        .await
        .map_err(js_err)?
        .as_string()
        .unwrap_or_default();
    if resp.ok() {
        serde_json::from_str(&text).map_err(|e| ApiError::Decode(e.to_string()))
    } else {
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(b) => Err(ApiError::Api {
                status: resp.status(),
                code: b.error.code,
                message: b.error.message,
            }),
            Err(_) => Err(ApiError::Api {
                status: resp.status(),
                code: "http_error".into(),
                message: format!("HTTP {}", resp.status()),
            }),
        }
    }
}

/// `GET /api/v1/providers/lookup?email=`: the known provider, `None` when unknown.
pub async fn lookup(email: &str, lang: Lang) -> Result<Option<Provider>, ApiError> {
    let path = format!("/providers/lookup?email={}", encode(email));
    match send::<Provider>("GET", &path, None, lang, None).await {
        Ok(p) => Ok(Some(p)),
        Err(ApiError::Api { status: 404, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `GET /api/v1/discover?email=`.
pub async fn discover(email: &str, lang: Lang) -> Result<DiscoverResponse, ApiError> {
    let path = format!("/discover?email={}", encode(email));
    send("GET", &path, None, lang, None).await
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

//! The one middleware stack at the edge (the static site is in `static_files.rs`).
//!
//! From the outside in: trace; origin check and CORS for `/api/` (same origin or
//! `--allowed-origin`, never `*`; preflights answered here); per-client rate limit and
//! concurrency limit / load shedding for the expensive routes (`/api/v1/check...`,
//! `/api/v1/discover...`); request timeout; body limit. Every refusal has the API's one
//! JSON error shape: 403 `origin_not_allowed`, 429 `rate_limited` (with `Retry-After`),
//! 503 `overloaded`, 504 `timeout`, 413 `body_too_large`.
//!
//! The limits run before any handler, so a request is counted before its body is read or
//! validated. The body of an expensive request is read whole (at most [`BODY_LIMIT`],
//! within [`BODY_READ_TIMEOUT`]) *before* it may take a concurrency slot, so a client that
//! sends its body slowly cannot hold the check slots (slowloris): it gets 408 `timeout`.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use mailsetup_shared::api::API_PREFIX;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_http::trace::TraceLayer;

use crate::AppState;
use crate::config::Config;
use crate::error::ApiError;
use crate::limits::{BODY_LIMIT, RateLimiter};
use crate::origin::{
    forwarded_host, host_of, is_literal_host, is_same_origin, parse_origin, public_url_origin,
};

/// How long a client may take to send the body of an expensive request (also capped by
/// `--request-timeout`).
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The checks' routes (`/check`, `/check/stream`).
const CHECK_PREFIX: &str = "/api/v1/check";

/// Seconds a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE: &str = "600";

/// Request headers a cross-origin page may send.
const ALLOWED_HEADERS: &str = "content-type, accept-language";

/// What the edge layers share: built once per [`edge`] call.
#[derive(Debug)]
struct Edge {
    /// The proxy's own origins: `--public-url`'s and the listen address's.
    own_origins: Vec<String>,
    allowed_origins: Vec<String>,
    trust_forwarded_for: bool,
    limiter: RateLimiter,
    expensive: Arc<Semaphore>,
    timeout: Duration,
    metrics: Arc<crate::metrics::Metrics>,
}

impl Edge {
    fn new(state: &AppState) -> Self {
        let config: &Config = &state.config;
        let mut own_origins = Vec::new();
        if let Some(url) = &config.public_url
            && let Ok(origin) = public_url_origin(url)
        {
            own_origins.push(origin);
        }
        if !config.listen.ip().is_unspecified()
            && let Ok(origin) = parse_origin(&format!("http://{}", config.listen))
        {
            own_origins.push(origin);
        }
        Self {
            own_origins,
            allowed_origins: config
                .allowed_origin
                .iter()
                .filter_map(|o| parse_origin(o).ok())
                .collect(),
            trust_forwarded_for: config.trust_forwarded_for,
            limiter: RateLimiter::with_store(config.rate_limit_per_minute, state.store.clone()),
            metrics: state.metrics.clone(),
            expensive: Arc::new(Semaphore::new(config.max_concurrent_checks)),
            timeout: config.request_timeout.get(),
        }
    }
}

/// Wraps the whole router in the edge layers.
pub fn edge(router: Router, state: &AppState) -> Router {
    let edge = Arc::new(Edge::new(state));
    // `layer` wraps what is there already, so the last one added runs first.
    router
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(body_limit))
        .layer(from_fn_with_state(edge.clone(), timeout))
        .layer(from_fn_with_state(edge.clone(), concurrency_limit))
        .layer(from_fn_with_state(edge.clone(), rate_limit))
        .layer(from_fn_with_state(edge, origin_check))
        .layer(axum::middleware::from_fn(crate::error::localize))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(crate::observe::make_span)
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO),
                ),
        )
}

/// Whether `path` is an API route that talks to other machines (checks, discovery).
fn is_expensive(path: &str) -> bool {
    let Some(rest) = path.strip_prefix(API_PREFIX) else {
        return false;
    };
    ["/check", "/discover", "/oauth/callback"]
        .iter()
        .any(|p| rest == *p || rest.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
}

fn is_api(path: &str) -> bool {
    path == API_PREFIX
        || path
            .strip_prefix(API_PREFIX)
            .is_some_and(|r| r.starts_with('/'))
}

/// 403 for `/api/` requests whose `Origin` is neither the proxy's own nor allowed; CORS
/// headers for allowed foreign origins; preflights answered without reaching a route.
async fn origin_check(State(edge): State<Arc<Edge>>, req: Request, next: Next) -> Response {
    if !is_api(req.uri().path()) {
        return next.run(req).await;
    }
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
        return next.run(req).await;
    };
    let text = origin.to_str().unwrap_or("");
    let normalised = parse_origin(text).ok();
    let configured = normalised
        .as_ref()
        .is_some_and(|o| edge.own_origins.contains(o) || edge.allowed_origins.contains(o));
    // A `Host` header is the browser's word for the name it connected to, and a
    // DNS-rebinding page controls that name. So an origin equal to `Host` counts only when
    // `Host` is an IP literal or `localhost`, which no rebinding page can be served from.
    let literal_host = |host: Option<&str>| {
        host.filter(|h| is_literal_host(h))
            .is_some_and(|h| is_same_origin(text, Some(h)))
    };
    let same = literal_host(host_of(&req).as_deref())
        || (edge.trust_forwarded_for && literal_host(forwarded_host(&req)));
    let allowed = configured || same;
    if !allowed {
        tracing::debug!(origin = text, "origin refused");
        edge.metrics.refused(crate::metrics::Refusal::Origin);
        let mut res = ApiError::OriginNotAllowed.into_response();
        vary_origin(res.headers_mut());
        return res;
    }
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = if preflight {
        let mut res = StatusCode::NO_CONTENT.into_response();
        let h = res.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE),
        );
        res
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("retry-after"),
    );
    vary_origin(h);
    res
}

fn vary_origin(headers: &mut HeaderMap) {
    headers.append(header::VARY, HeaderValue::from_static("origin"));
}

/// 429 `rate_limited` with `Retry-After` when a client exceeds `--rate-limit-per-minute`
/// on the expensive routes.
async fn rate_limit(State(edge): State<Arc<Edge>>, req: Request, next: Next) -> Response {
    if !is_expensive(req.uri().path()) || req.method() == Method::OPTIONS {
        return next.run(req).await;
    }
    // Without a peer address (a router driven in-process) there is nobody to count;
    // `serve` always provides one.
    let Some(ip) = client_ip(&req, edge.trust_forwarded_for) else {
        return next.run(req).await;
    };
    let limited = match edge.limiter.check(ip).await {
        Ok(limited) => limited,
        // Checks never run without the shared counts (see `crate::store`); discovery
        // falls back to this replica's own count.
        Err(_) if req.uri().path().starts_with(CHECK_PREFIX) => {
            edge.metrics
                .refused(crate::metrics::Refusal::StoreUnavailable);
            return ApiError::StoreUnavailable.into_response();
        }
        Err(_) => edge.limiter.check_local(ip).await,
    };
    match limited {
        None => next.run(req).await,
        Some(wait) => {
            edge.metrics.refused(crate::metrics::Refusal::RateLimit);
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let secs = secs.max(1);
            tracing::info!(client = %ip, retry_after = secs, "rate limited");
            ApiError::ClientRateLimited { retry_after: secs }.into_response()
        }
    }
}

/// The client's address: the peer, or with `--trust-forwarded-for` the last
/// `X-Forwarded-For` entry (the one the trusted reverse proxy added; earlier entries are
/// the client's own words). A last entry that is not an address counts as absent.
fn client_ip(req: &Request, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|s| s.trim().parse::<IpAddr>().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// 503 `overloaded` when `--max-concurrent-checks` expensive requests already run.
async fn concurrency_limit(State(edge): State<Arc<Edge>>, req: Request, next: Next) -> Response {
    if !is_expensive(req.uri().path()) || req.method() == Method::OPTIONS {
        return next.run(req).await;
    }
    let req = match read_body_first(req, edge.timeout.min(BODY_READ_TIMEOUT)).await {
        Ok(req) => req,
        Err(res) => return *res,
    };
    let Ok(permit) = edge.expensive.clone().try_acquire_owned() else {
        tracing::warn!("overloaded: refusing a request");
        edge.metrics.refused(crate::metrics::Refusal::Overload);
        return ApiError::Overloaded.into_response();
    };
    // The permit lives as long as the response body, so a streamed check counts until
    // its last event.
    next.run(req).await.map(|body| {
        Body::new(HoldPermit {
            body,
            _permit: permit,
        })
    })
}

/// Whether the request declares a body longer than [`BODY_LIMIT`].
fn declares_too_large(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > BODY_LIMIT as u64)
}

/// Reads the whole body (at most [`BODY_LIMIT`]) within `limit`, so that the request
/// holds no scarce resource while a slow client trickles it in.
async fn read_body_first(req: Request, limit: Duration) -> Result<Request, Box<Response>> {
    if declares_too_large(req.headers()) {
        return Err(Box::new(ApiError::BodyTooLarge.into_response()));
    }
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(limit, axum::body::to_bytes(body, BODY_LIMIT)).await {
        Ok(Ok(bytes)) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Ok(Err(_)) => Err(Box::new(ApiError::BodyTooLarge.into_response())),
        Err(_) => Err(Box::new(
            ApiError::BodyTimeout {
                secs: limit.as_secs_f64(),
            }
            .into_response(),
        )),
    }
}

/// A response body that holds a concurrency permit until it is dropped.
struct HoldPermit {
    body: Body,
    _permit: OwnedSemaphorePermit,
}

impl http_body::Body for HoldPermit {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// 504 `timeout` when a request takes longer than `--request-timeout`.
async fn timeout(State(edge): State<Arc<Edge>>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(edge.timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::RequestTimeout.into_response(),
    }
}

/// 413 `body_too_large` for a declared length over [`BODY_LIMIT`]; longer bodies without a
/// declared length are cut by `DefaultBodyLimit` and answered the same way by the `Json`
/// extractor.
async fn body_limit(req: Request, next: Next) -> Response {
    if declares_too_large(req.headers()) {
        return ApiError::BodyTooLarge.into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn expensive_routes() {
        assert!(is_expensive("/api/v1/check"));
        assert!(is_expensive("/api/v1/check/stream"));
        assert!(is_expensive("/api/v1/discover"));
        assert!(!is_expensive("/api/v1/checker"));
        assert!(!is_expensive("/api/v1/health"));
        assert!(!is_expensive("/api/v1/providers"));
        assert!(!is_expensive("/check"));
        assert!(is_api("/api/v1/health"));
        assert!(!is_api("/api/v1x"));
        assert!(!is_api("/index.html"));
    }
}

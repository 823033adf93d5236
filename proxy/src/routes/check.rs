//! `POST /api/v1/check`: log in to the user's servers and report every step, with a
//! diagnosis in the language of `Accept-Language`.
//!
//! `POST /api/v1/check/stream` takes the same body and answers with Server-Sent Events so
//! the UI can show steps live: one `step` event per finished step
//! (`{"side":"incoming","step":{StepReport}}`), then one `result` event with the whole
//! [`CheckResponse`]. Request-level errors are plain JSON 4xx before the stream starts.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use mailsetup_shared::api::{CheckRequest, CheckResponse, Lang, Provider};

use crate::AppState;
use crate::check::CheckError;
use crate::error::{ApiError, Json};

/// Runs a check. 400 on bad fields, 403 when the policy forbids a target.
pub async fn check(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<CheckRequest>,
) -> Result<Json<CheckResponse>, ApiError> {
    let (lang, provider) = context(&state, &headers, &req);
    let started = std::time::Instant::now();
    let _running = state.metrics.in_flight();
    let report = state
        .checker
        .check(&req, lang, provider.as_ref())
        .await
        .map_err(|e| api_error(&state, e, lang))?;
    state.metrics.check_done(&report, started.elapsed());
    Ok(Json(report))
}

/// Runs a check and streams its steps as Server-Sent Events.
pub async fn check_stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<CheckRequest>,
) -> Result<Sse<axum::response::sse::KeepAliveStream<Events>>, ApiError> {
    let (lang, provider) = context(&state, &headers, &req);
    let started = std::time::Instant::now();
    let running = state.metrics.in_flight();
    let prepared = state
        .checker
        .prepare(&req)
        .await
        .map_err(|e| api_error(&state, e, lang))?;
    let metrics = state.metrics.clone();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let checker = state.checker.clone();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let report = checker
            .run(&req, prepared, lang, provider.as_ref(), Some(tx))
            .await;
        metrics.check_done(&report, started.elapsed());
        drop(running);
        let _ = done_tx.send(report);
    });
    Ok(Sse::new(Events {
        steps: rx,
        done: Some(done_rx),
        task,
    })
    .keep_alive(KeepAlive::default()))
}

/// The SSE body: step events while the check runs, then the result. Dropping it (the
/// client went away) stops the check.
#[derive(Debug)]
pub struct Events {
    steps: tokio::sync::mpsc::UnboundedReceiver<crate::check::StepEvent>,
    done: Option<tokio::sync::oneshot::Receiver<CheckResponse>>,
    task: tokio::task::JoinHandle<()>,
}

impl futures_core::Stream for Events {
    type Item = Result<Event, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.steps.poll_recv(cx) {
            Poll::Ready(Some(step)) => {
                let event = Event::default()
                    .event("step")
                    .json_data(&step)
                    .unwrap_or_else(|_| Event::default().event("step"));
                return Poll::Ready(Some(Ok(event)));
            }
            Poll::Pending => return Poll::Pending,
            // Every sender is gone: the check has ended; the result follows.
            Poll::Ready(None) => {}
        }
        let Some(done) = this.done.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(done).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                this.done = None;
                Poll::Ready(result.ok().map(|report| {
                    Ok(Event::default()
                        .event("result")
                        .json_data(&report)
                        .unwrap_or_else(|_| Event::default().event("result")))
                }))
            }
        }
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The language asked for and the provider of the address's domain, from the operator's
/// registry (built-in data plus `--providers-file`).
fn context(state: &AppState, headers: &HeaderMap, req: &CheckRequest) -> (Lang, Option<Provider>) {
    let lang = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::En, Lang::from_accept_language);
    let provider = req
        .email
        .trim()
        .rsplit_once('@')
        .and_then(|(_, d)| state.providers.by_domain(&d.to_ascii_lowercase()).cloned());
    (lang, provider)
}

fn api_error(state: &AppState, err: CheckError, lang: Lang) -> ApiError {
    use crate::metrics::Refusal;
    match err {
        CheckError::Invalid { field, message } => ApiError::invalid(field, message),
        CheckError::TooManyFailedLogins { message, .. } => {
            state.metrics.refused(Refusal::Guard);
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
        }
        CheckError::NotAllowed { field, message } => {
            state.metrics.refused(Refusal::Policy);
            ApiError::new(StatusCode::FORBIDDEN, "target_not_allowed", message).with_field(field)
        }
        CheckError::StoreUnavailable(_) => {
            state.metrics.refused(Refusal::StoreUnavailable);
            crate::store::unavailable(lang)
        }
    }
}

//! `POST /api/v1/check`: log in to the user's servers and report every step, with a
//! diagnosis in the language of `Accept-Language`.
//!
//! `POST /api/v1/check/stream` takes the same body and answers with Server-Sent Events so
//! the UI can show steps live: one `step` event per finished step (a [`StepEvent`],
//! `{"side":"incoming","step":{StepReport}}`), then one `result` event with the whole
//! [`CheckResponse`]; the names are [`StreamEvent`]'s. Request-level errors are plain JSON
//! 4xx before the stream starts.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use mailsetup_shared::api::{CheckRequest, CheckResponse, Lang, Provider, StepEvent, StreamEvent};
use mailsetup_shared::email::EmailAddress;

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
        .map_err(|e| api_error(&state, e))?;
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
        .map_err(|e| api_error(&state, e))?;
    let metrics = state.metrics.clone();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let checker = state.checker.clone();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let report = checker
            .run(prepared, lang, provider.as_ref(), Some(tx))
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
    steps: tokio::sync::mpsc::UnboundedReceiver<StepEvent>,
    done: Option<tokio::sync::oneshot::Receiver<CheckResponse>>,
    task: tokio::task::JoinHandle<()>,
}

impl futures_core::Stream for Events {
    type Item = Result<Event, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.steps.poll_recv(cx) {
            Poll::Ready(Some(step)) => {
                let name = StreamEvent::Step.as_str();
                let event = Event::default()
                    .event(name)
                    .json_data(&step)
                    .unwrap_or_else(|_| Event::default().event(name));
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
                let name = StreamEvent::Result.as_str();
                Poll::Ready(result.ok().map(|report| {
                    Ok(Event::default()
                        .event(name)
                        .json_data(&report)
                        .unwrap_or_else(|_| Event::default().event(name)))
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
    let _ = headers;
    let lang = crate::error::lang();
    // The same address parser as lookup and discovery (international domains in Unicode
    // or punycode alike).
    let provider = EmailAddress::parse(&req.email)
        .ok()
        .and_then(|email| state.providers.by_domain(email.domain()).cloned());
    (lang, provider)
}

fn api_error(state: &AppState, err: CheckError) -> ApiError {
    use crate::metrics::Refusal;
    match err {
        CheckError::Invalid { field, message } => ApiError::invalid(field, message),
        CheckError::TooManyFailedLogins { retry_after } => {
            state.metrics.refused(Refusal::Guard);
            ApiError::TooManyFailedLogins { retry_after }
        }
        CheckError::NotAllowed { field, message } => {
            state.metrics.refused(Refusal::Policy);
            ApiError::TargetNotAllowed {
                field: field.to_owned(),
                message,
            }
        }
        CheckError::StoreUnavailable(_) => {
            state.metrics.refused(Refusal::StoreUnavailable);
            ApiError::StoreUnavailable
        }
    }
}

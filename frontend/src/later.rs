//! The steps after the address, in the release build's chunk (`crate::split`): the views
//! of every step after the address (and what only they use: the check, the report, the
//! sign-in choice) are built by a split function, so the first screen downloads only the
//! address step (issue 15).
//!
//! [`view`] is synchronous: once the chunk is in, a step's view is built in the render,
//! as before the split. While it loads, a short line says so; if it fails (the network
//! dropped before the chunk came), the step says so with a Try again button, and a
//! later attempt fetches again (a failed load is not remembered). [`prefetch`] loads
//! the chunk when the browser is idle after the first step shows, so moving on never
//! waits and the wizard keeps working offline once loaded.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast as _;

use crate::app::Ctx;
use crate::components::BackButton;
use crate::split::split;
use crate::steps;
use crate::wizard::Step;

split! {
    /// A later step's view. One chunk for all steps, not one per step: every chunk is
    /// fetched right after the first step shows anyway, and each file more would compete
    /// with the API's requests (the provider lookup, the sign-in offers) for the browser's
    /// few connections to the proxy just when the user types.
    fn step_view(step: Step) -> AnyView, preload load_chunk {
        build(step)
    }
}

fn build(step: Step) -> AnyView {
    match step {
        Step::Address => steps::address::Address().into_any(),
        Step::Prepare => steps::prepare::Prepare().into_any(),
        Step::Password => steps::password::PasswordStep().into_any(),
        Step::Servers => steps::servers::Servers().into_any(),
        Step::Test => steps::test::Test().into_any(),
        Step::Result => steps::result::ResultStep().into_any(),
    }
}

/// Where the chunk stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    /// Not asked for yet.
    Idle,
    /// Being fetched.
    Loading,
    /// In: the steps' views can be built at once.
    Ready,
    /// The last attempt failed.
    Failed,
}

/// The chunk's load state, kept by the frame.
#[derive(Clone, Copy)]
pub struct Chunk(RwSignal<Load>);

impl Chunk {
    /// Not asked for yet (the address step needs none).
    pub fn new() -> Self {
        Self(RwSignal::new(Load::Idle))
    }

    /// Whether the chunk is in (reactive).
    pub fn ready(self) -> bool {
        self.0.get() == Load::Ready
    }
}

/// Fetches the chunk for a step that needs it, unless it is in or on its way; the state
/// follows, and a failure is shown.
pub fn load(chunk: Chunk) {
    fetch(chunk, Load::Failed);
}

/// Fetches the chunk unless it is in or on its way; a failure leaves the state `failed`.
fn fetch(chunk: Chunk, failed: Load) {
    if matches!(chunk.0.get_untracked(), Load::Loading | Load::Ready) {
        return;
    }
    chunk.0.set(Load::Loading);
    spawn_local(async move {
        let done = load_chunk().await;
        chunk.0.set(if done.is_ok() { Load::Ready } else { failed });
    });
}

/// The first poll of `fut`: a split function whose chunk is in is ready at once.
fn now<T>(fut: impl Future<Output = T>) -> Option<T> {
    let fut = pin!(fut);
    match fut.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// The view of a later `step` (reactive: it follows the chunk's state).
pub fn view(c: Ctx, chunk: Chunk, step: Step) -> AnyView {
    match chunk.0.get() {
        Load::Ready => match now(step_view(step)) {
            Some(Ok(v)) => v,
            // Not expected once the chunk is in; shown as a failure, never a blank.
            _ => {
                chunk.0.set(Load::Failed);
                unloaded(c, chunk)
            }
        },
        Load::Failed => unloaded(c, chunk),
        Load::Idle | Load::Loading => {
            load(chunk);
            view! {
                <p class="hint" role="status" data-testid="step-loading">
                    {move || c.t().step_loading}
                </p>
            }
            .into_any()
        }
    }
}

/// The chunk could not be loaded: say so, offer to try again or to go back.
fn unloaded(c: Ctx, chunk: Chunk) -> AnyView {
    view! {
        <div class="step">
            <div class="notice danger" role="alert" data-testid="step-unloaded">
                <p>{move || c.t().step_unloaded}</p>
            </div>
            <div class="nav">
                <button type="button" class="primary" on:click=move |_| load(chunk)>
                    {move || c.t().retry}
                </button>
                <BackButton />
            </div>
        </div>
    }
    .into_any()
}

/// Loads the chunk when the browser is next idle (at the latest after a second), so the
/// following steps never wait and work without the network. A failure here is silent: the
/// chunk may still come with a later call (the provider lookup's decoder is in it too), and
/// the step that needs it tries again and only then says it could not be loaded.
pub fn prefetch(chunk: Chunk) {
    let run = move || fetch(chunk, Load::Idle);
    let Some(window) = web_sys::window() else {
        return;
    };
    let cb = wasm_bindgen::closure::Closure::once_into_js(run);
    let opts = web_sys::IdleRequestOptions::new();
    opts.set_timeout(1000);
    let idle = window.request_idle_callback_with_options(cb.unchecked_ref(), &opts);
    if idle.is_err() {
        set_timeout(run, std::time::Duration::ZERO);
    }
}

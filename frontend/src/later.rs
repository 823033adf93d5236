//! The steps after the address, as split points of the release build: `cargo xtask
//! build-web` compiles with `--cfg mailsetup_split`, and `wasm_split_cli_support` moves
//! each step's code (its views, and what only it uses: the check, the report, the
//! sign-in choice) into a chunk of its own that is fetched when the step needs it. The
//! first screen downloads only the address step (issue 15).
//!
//! Without the cfg (`trunk serve`, `cargo xtask build-web --dev`, clippy) the same
//! functions are plain `async fn`s that are ready at once, so one code path serves both.
//!
//! [`view`] is synchronous: once a step's chunk is in, its view is built in the render,
//! as before the split. While it loads, a short line says so; if it fails (the network
//! dropped before the chunks came), the step says so with a Try again button, and a
//! later attempt fetches again (a failed load is not remembered). [`prefetch`] loads
//! every chunk when the browser is idle after the first step shows, so moving on never
//! waits and the wizard keeps working offline once loaded.
//!
//! A split function crosses into its chunk through an `extern "C"` import, hence
//! `unsafe` in the expansion of `wasm_split` (the frontend's lints deny `unsafe_code`
//! instead of forbidding it, for this module only).

#![allow(unsafe_code)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast as _;

use crate::app::Ctx;
use crate::steps;
use crate::wizard::Step;

/// A chunk could not be fetched or instantiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unloaded;

impl From<leptos::wasm_split::SplitLoaderError> for Unloaded {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Self
    }
}

/// A step whose code may live in a chunk: `$load` fetches the chunk, `$view` builds the
/// step's view (fetching first if needed).
#[rustfmt::skip]
macro_rules! split_step {
    ($chunk:ident, $load:ident, $view:ident, $body:expr) => {
        #[cfg(mailsetup_split)]
        #[leptos::wasm_split::wasm_split($chunk, fallible, wasm_split_path = ::leptos::wasm_split, preload($load))]
        fn $view() -> Result<AnyView, Unloaded> {
            Ok($body.into_any())
        }

        #[cfg(not(mailsetup_split))]
        async fn $view() -> Result<AnyView, Unloaded> {
            Ok($body.into_any())
        }

        #[cfg(not(mailsetup_split))]
        async fn $load() -> Result<(), leptos::wasm_split::SplitLoaderError> {
            Ok(())
        }
    };
}

split_step!(
    prepare,
    load_prepare,
    prepare_view,
    steps::prepare::Prepare()
);
split_step!(
    password,
    load_password,
    password_view,
    steps::password::PasswordStep()
);
split_step!(
    servers,
    load_servers,
    servers_view,
    steps::servers::Servers()
);
split_step!(test, load_test, test_view, steps::test::Test());
split_step!(
    result,
    load_result,
    result_view,
    steps::result::ResultStep()
);

/// Where a step's chunk stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    /// Not asked for yet.
    Idle,
    /// Being fetched.
    Loading,
    /// In: the step's view can be built at once.
    Ready,
    /// The last attempt failed.
    Failed,
}

/// The steps that live in chunks, in the order [`prefetch`] loads them.
const LATER: [Step; 5] = [
    Step::Prepare,
    Step::Password,
    Step::Servers,
    Step::Test,
    Step::Result,
];

/// The load state of every step's chunk (index of [`LATER`]), in the context.
#[derive(Clone, Copy)]
pub struct Chunks([RwSignal<Load>; 5]);

impl Chunks {
    /// All idle (the address step needs none).
    pub fn new() -> Self {
        Self(std::array::from_fn(|_| RwSignal::new(Load::Idle)))
    }

    fn of(self, step: Step) -> Option<RwSignal<Load>> {
        LATER.iter().position(|s| *s == step).map(|i| self.0[i])
    }
}

/// Fetches `step`'s chunk unless it is in or on its way; the state follows.
pub fn load(chunks: Chunks, step: Step) {
    let Some(state) = chunks.of(step) else {
        return;
    };
    if matches!(state.get_untracked(), Load::Loading | Load::Ready) {
        return;
    }
    state.set(Load::Loading);
    spawn_local(async move {
        let done = match step {
            Step::Prepare => load_prepare().await,
            Step::Password => load_password().await,
            Step::Servers => load_servers().await,
            Step::Test => load_test().await,
            Step::Result => load_result().await,
            Step::Address => Ok(()),
        };
        state.set(if done.is_ok() {
            Load::Ready
        } else {
            Load::Failed
        });
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
pub fn view(c: Ctx, chunks: Chunks, step: Step) -> AnyView {
    let Some(state) = chunks.of(step) else {
        return ().into_any();
    };
    match state.get() {
        Load::Ready => {
            let built = match step {
                Step::Prepare => now(prepare_view()),
                Step::Password => now(password_view()),
                Step::Servers => now(servers_view()),
                Step::Test => now(test_view()),
                Step::Result => now(result_view()),
                Step::Address => None,
            };
            match built {
                Some(Ok(v)) => v,
                // Not expected once the chunk is in; shown as a failure, never a blank.
                _ => {
                    state.set(Load::Failed);
                    unloaded(chunks, step, c)
                }
            }
        }
        Load::Failed => unloaded(chunks, step, c),
        Load::Idle | Load::Loading => {
            load(chunks, step);
            view! {
                <p class="hint" role="status" data-testid="step-loading">
                    {move || c.t().step_loading}
                </p>
            }
            .into_any()
        }
    }
}

/// The step's chunk could not be loaded: say so, offer to try again.
fn unloaded(chunks: Chunks, step: Step, c: Ctx) -> AnyView {
    view! {
        <div class="error" role="alert" data-testid="step-unloaded">
            <p>{move || c.t().step_unloaded}</p>
            <button type="button" on:click=move |_| load(chunks, step)>
                {move || c.t().retry}
            </button>
        </div>
    }
    .into_any()
}

/// Loads every step's chunk when the browser is next idle (at the latest after a
/// second), so the following steps never wait and work without the network.
pub fn prefetch(chunks: Chunks) {
    let run = move || {
        for step in LATER {
            load(chunks, step);
        }
    };
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

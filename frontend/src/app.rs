//! The wizard's shared context ([`Ctx`]) and the actions the steps take with it: recognise
//! the provider, continue from the address, run or cancel the check, go back. No views, so
//! the steps, components and the host messaging import it, and the frame (`ui.rs`) imports
//! them, without a circle.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mailsetup_shared::api::Lang;
use web_sys::{AbortController, AbortSignal};

use crate::Options;
use crate::api::{self, ApiError};
use crate::browser;
use crate::i18n::{self, LaterStrings, Strings, tr};
use crate::split::{Task, Unloaded, split};
use crate::wizard::{Step, Wizard};

/// Where provider recognition stands for the typed domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recognition {
    /// The domain looked up.
    pub domain: String,
    /// A lookup is under way.
    pub looking: bool,
    /// Discovery is under way.
    pub discovering: bool,
    /// The proxy is being asked which providers offer a sign-in (once per page).
    pub offers: bool,
    /// The last recognition got no answer (no connection, the proxy refused, the chunk with
    /// its decoder did not come): nothing is known of the domain, which is not the same as
    /// an unknown domain. The domain is forgotten, so Continue asks again.
    pub failed: bool,
}

/// The state of the running check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Run {
    /// A check is in flight.
    pub running: bool,
    /// Seconds since it started.
    pub seconds: u32,
    /// The last request-level error (network, rate limit...).
    pub error: Option<String>,
}

/// Everything the steps share.
#[derive(Clone, Copy)]
pub struct Ctx {
    /// The wizard.
    pub w: RwSignal<Wizard>,
    /// The language shown.
    pub lang: RwSignal<Lang>,
    /// Options from the URL.
    pub opts: StoredValue<Options>,
    /// Provider recognition.
    pub recog: RwSignal<Recognition>,
    /// The running check.
    pub run: RwSignal<Run>,
    /// The running check's abort handle.
    pub(crate) abort: StoredValue<Option<AbortController>, LocalStorage>,
    /// The recognition under way's abort handle: a newer address aborts it.
    pub(crate) recognising: StoredValue<Option<AbortController>, LocalStorage>,
}

impl Ctx {
    /// The texts in the current language (reactive).
    pub fn t(&self) -> &'static Strings {
        tr(self.lang.get())
    }

    /// The later steps' texts in the current language (reactive). Only for code in the
    /// later steps' chunk: a call from the first screen's code pulls them into its module.
    pub fn tl(&self) -> &'static LaterStrings {
        i18n::later(self.lang.get())
    }
}

/// The context, from any component below [`App`].
pub fn ctx() -> Ctx {
    expect_context::<Ctx>()
}

/// Starts recognising the provider of the typed address. Latest answer wins: a newer
/// address aborts the recognition under way (its requests, and the wizard never hears of
/// their answers).
pub fn recognise(c: Ctx) {
    let Some(domain) = c.w.with_untracked(|w| {
        crate::rules::email_error(&w.email)
            .is_none()
            .then(|| w.domain())
            .flatten()
    }) else {
        return;
    };
    if c.recog.with_untracked(|r| r.domain == domain) {
        return;
    }
    let Some(signal) = replace_inflight(c.recognising) else {
        return;
    };
    c.recog.update(|r| {
        r.domain.clone_from(&domain);
        r.looking = true;
        r.discovering = false;
        r.failed = false;
    });
    let email = c.w.with_untracked(|w| w.email.trim().to_owned());
    let lang = c.lang.get_untracked();
    spawn_local(async move {
        match find_provider(c, email, lang, signal.clone()).await {
            Ok(run) => run.await,
            // The chunk did not come (offline): as when the proxy gives no answer.
            Err(Unloaded) if !signal.aborted() => c.recog.update(no_answer),
            Err(Unloaded) => {}
        }
    });
}

split! {
    /// The provider of `email`: looked up, else discovered, and applied to the wizard. In
    /// the chunk with the decoders of the answers.
    fn find_provider(c: Ctx, email: String, lang: Lang, signal: AbortSignal) -> Task<()>,
    preload load_find_provider {
        Box::pin(async move {
            let found = api::lookup(&email, lang, &signal).await;
            if signal.aborted() {
                return;
            }
            if let Ok(Some(p)) = found {
                c.w.update(|w| w.set_provider(p));
                c.recog.update(|r| r.looking = false);
                return;
            }
            c.recog.update(|r| {
                r.looking = false;
                r.discovering = true;
            });
            let looked_up = found.is_ok();
            let found = api::discover(&email, lang, &signal).await;
            if signal.aborted() {
                return;
            }
            match found {
                Ok(d) => {
                    c.recog.update(|r| r.discovering = false);
                    c.w.update(|w| w.apply_discovery(d));
                }
                Err(_) if !looked_up => c.recog.update(no_answer),
                Err(_) => c.recog.update(|r| r.discovering = false),
            }
        })
    }
}

/// The recognition got no answer at all.
fn no_answer(r: &mut Recognition) {
    r.domain.clear();
    r.looking = false;
    r.discovering = false;
    r.failed = true;
}

/// Aborts the request under way in `slot`, if any, and puts a new abort handle there; its
/// signal, for the new request (`None` if the browser gives no `AbortController`).
fn replace_inflight(
    slot: StoredValue<Option<AbortController>, LocalStorage>,
) -> Option<AbortSignal> {
    if let Some(old) = slot.get_value() {
        old.abort();
    }
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map(AbortController::signal);
    slot.set_value(controller);
    signal
}

/// How long Continue waits at most for the provider lookup of the typed domain.
const LOOKUP_WAIT_MS: i32 = 5000;

/// Continue from the address step: once the provider lookup of this domain and the
/// question which providers offer a sign-in have answered (at most [`LOOKUP_WAIT_MS`]),
/// so the preparation step is not skipped by a slow answer (the later steps' chunk is
/// often being fetched just then).
pub fn continue_from_address(c: Ctx) {
    recognise(c);
    spawn_local(async move {
        if c.recog.with_untracked(|r| r.looking || r.offers) {
            // One promise, settled by whichever comes first: the lookup's answer (seen by
            // an effect, which only settles the promise and writes no signal) or the cap.
            let owner = Owner::new();
            let answered = js_sys::Promise::new(&mut |resolve, _| {
                if let Some(w) = web_sys::window() {
                    let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                        &resolve,
                        LOOKUP_WAIT_MS,
                    );
                }
                owner.with(|| {
                    Effect::new(move |_| {
                        if !c.recog.with(|r| r.looking || r.offers) {
                            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
                        }
                    });
                });
            });
            let _ = wasm_bindgen_futures::JsFuture::from(answered).await;
            owner.cleanup();
        }
        c.w.update(|w| {
            w.advance();
        });
    });
}

/// Starts the check for the current settings (the wizard is on the test step).
pub fn start_check(c: Ctx) {
    let Some(signal) = replace_inflight(c.abort) else {
        return;
    };
    c.run.set(Run {
        running: true,
        seconds: 0,
        error: None,
    });
    let timer = set_interval_with_handle(
        move || c.run.update(|r| r.seconds += 1),
        std::time::Duration::from_secs(1),
    )
    .ok();
    c.w.update(|w| w.start_check());
    let req = c.w.with_untracked(|w| w.check_request());
    let lang = c.lang.get_untracked();
    spawn_local(async move {
        let on_step = {
            let signal = signal.clone();
            move |side, step| {
                if !signal.aborted() {
                    c.w.update(|w| w.record_step(side, step));
                }
            }
        };
        let res = api::check_live(&req, lang, &signal, on_step).await;
        drop(req);
        if let Some(t) = timer {
            t.clear();
        }
        if signal.aborted() {
            return;
        }
        c.abort.set_value(None);
        match res {
            Ok(resp) => {
                c.run.update(|r| r.running = false);
                c.w.update(|w| w.finish_check(resp));
            }
            Err(ApiError::Aborted) => {}
            Err(e) => {
                let t = i18n::later(lang);
                let msg = match e {
                    ApiError::Api { message, .. } => message,
                    ApiError::StreamBroken => t.stream_broken.to_owned(),
                    _ => t.network_error.to_owned(),
                };
                c.run.set(Run {
                    running: false,
                    seconds: 0,
                    error: Some(msg),
                });
            }
        }
    });
}

pub(crate) fn cancel_inflight(c: Ctx) {
    if let Some(ctrl) = c.abort.get_value() {
        ctrl.abort();
    }
    c.abort.set_value(None);
}

/// Cancels the running check and goes back to the servers (through the browser's history
/// when the entry before is the servers, so Forward does not re-run the check).
pub fn cancel_check(c: Ctx) {
    cancel_inflight(c);
    c.run.set(Run::default());
    if !browser::back_to(Step::Servers) {
        c.w.update(|w| w.cancel_check());
    }
}

/// The wizard's own Back button: like the browser's Back when the entry before is the
/// step it leads to, otherwise a plain step back.
pub fn go_back(c: Ctx) {
    let target = c.w.with_untracked(|w| w.back_target());
    if !browser::back_to(target) {
        c.w.update(|w| w.back());
    }
}

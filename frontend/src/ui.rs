//! The Leptos side: the shared context, the page frame (title, language switch, stepper)
//! and the actions that talk to the proxy, the browser's history or the host page.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mailsetup_shared::api::{IncomingProtocol, Lang, Protocol};
use web_sys::AbortController;

use crate::Options;
use crate::api::{self, ApiError};
use crate::browser;
use crate::components::Stepper;
use crate::embed::cancel_widget;
use crate::i18n::{self, Strings, tr};
use crate::oauth;
use crate::steps;
use crate::wizard::{ServerForm, Source, Step, Wizard};

/// Where provider recognition stands for the typed domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recognition {
    /// The domain looked up.
    pub domain: String,
    /// A lookup is under way.
    pub looking: bool,
    /// Discovery is under way.
    pub discovering: bool,
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
    abort: StoredValue<Option<AbortController>, LocalStorage>,
    generation: StoredValue<u32>,
}

impl Ctx {
    /// The texts in the current language (reactive).
    pub fn t(&self) -> &'static Strings {
        tr(self.lang.get())
    }
}

/// The context, from any component below [`App`].
pub fn ctx() -> Ctx {
    expect_context::<Ctx>()
}

fn read_options() -> Options {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok();
    let keys = [
        "embed",
        "locale",
        "email",
        "providers",
        "return_password",
        "return_credentials",
        "parent_origin",
        "frame",
    ];
    let pairs: Vec<(&str, String)> = keys
        .iter()
        .filter_map(|k| params.as_ref()?.get(k).map(|v| (*k, v)))
        .collect();
    Options::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
}

fn browser_lang() -> Lang {
    let nav = web_sys::window().map(|w| w.navigator());
    let langs = nav
        .as_ref()
        .map(|n| n.languages().to_vec())
        .unwrap_or_default();
    for l in langs {
        if let Some(l) = l.as_string().and_then(|s| i18n::lang_from_tag(&s)) {
            return l;
        }
    }
    nav.and_then(|n| n.language())
        .and_then(|s| i18n::lang_from_tag(&s))
        .unwrap_or_default()
}

/// Starts recognising the provider of the typed address (debounced by a generation
/// counter: only the newest answer is applied).
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
    let generation = c.generation.get_value() + 1;
    c.generation.set_value(generation);
    c.recog.set(Recognition {
        domain: domain.clone(),
        looking: true,
        discovering: false,
    });
    let email = c.w.with_untracked(|w| w.email.trim().to_owned());
    let lang = c.lang.get_untracked();
    spawn_local(async move {
        let current = move || c.generation.get_value() == generation;
        let found = api::lookup(&email, lang).await;
        if !current() {
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
        let found = api::discover(&email, lang).await;
        if !current() {
            return;
        }
        c.recog.update(|r| r.discovering = false);
        let Ok(d) = found else { return };
        if let Some(p) = d.provider {
            c.w.update(|w| w.set_provider(p));
            return;
        }
        let Some(cand) = d.candidates.into_iter().next() else {
            return;
        };
        c.w.update(|w| {
            let proto = if cand.incoming.protocol == Protocol::Pop3 {
                IncomingProtocol::Pop3
            } else {
                IncomingProtocol::Imap
            };
            let inc = ServerForm {
                host: cand.incoming.host,
                port: cand.incoming.port.to_string(),
                security: cand.incoming.security,
            };
            let out = ServerForm {
                host: cand.outgoing.host,
                port: cand.outgoing.port.to_string(),
                security: cand.outgoing.security,
            };
            w.set_discovered((proto, inc), Some(out), cand.source.as_str().to_owned());
        });
    });
}

/// Continue from the address step: waits for the provider lookup of this domain first,
/// so the preparation step is not skipped by a slow answer.
pub fn continue_from_address(c: Ctx) {
    recognise(c);
    spawn_local(async move {
        for _ in 0..50 {
            if !c.recog.with_untracked(|r| r.looking) {
                break;
            }
            sleep_ms(100).await;
        }
        c.w.update(|w| {
            w.advance();
        });
    });
}

async fn sleep_ms(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// Starts the check for the current settings (the wizard is on the test step).
pub fn start_check(c: Ctx) {
    cancel_inflight(c);
    let Ok(controller) = AbortController::new() else {
        return;
    };
    let signal = controller.signal();
    c.abort.set_value(Some(controller));
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
                let t = tr(lang);
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

/// The browser moved to another history entry: show its step (never re-running a check).
fn on_popstate(c: Ctx, ev: web_sys::PopStateEvent) {
    let Some((index, step)) = browser::parse_state(&ev.state()) else {
        return;
    };
    if c.run.with_untracked(|r| r.running) {
        cancel_inflight(c);
    }
    c.run.set(Run::default());
    browser::moved_to(index, step);
    let shown = c.w.try_update(|w| w.restore_step(step)).unwrap_or(step);
    if shown != step {
        browser::replace(shown);
    }
}

fn focus_heading() {
    request_animation_frame(|| {
        let el = web_sys::window().and_then(|w| w.document()).and_then(|d| {
            d.query_selector("[data-testid=step-heading]")
                .ok()
                .flatten()
        });
        if let Some(el) = el {
            use wasm_bindgen::JsCast;
            if let Some(h) = el.dyn_ref::<web_sys::HtmlElement>() {
                let _ = h.focus();
            }
        }
    });
}

/// The whole wizard.
#[component]
pub fn App() -> impl IntoView {
    let opts = read_options();
    let lang = opts
        .locale
        .as_deref()
        .and_then(i18n::lang_from_tag)
        .unwrap_or_else(browser_lang);
    let mut wizard = Wizard::new();
    wizard.allowed_providers = opts.providers.clone();
    if let Some(e) = &opts.email {
        wizard.set_email(e.clone());
    }
    // A reload (or coming back to the tab) continues where the user was; so does the
    // return from the provider's sign-in page in this tab, with its result.
    let signed_in = oauth::take_redirect_result();
    let restored = browser::load_saved(signed_in.is_some()).is_some_and(|s| wizard.restore(s));
    if let Some(outcome) = signed_in.filter(|_| restored) {
        wizard.take_sign_in(outcome, false);
    }
    let known_domain = (restored
        && (wizard.provider.is_some() || matches!(wizard.source, Source::Discovered(_))))
    .then(|| wizard.domain())
    .flatten();
    let embed = opts.embed;
    let c = Ctx {
        w: RwSignal::new(wizard),
        lang: RwSignal::new(lang),
        opts: StoredValue::new(opts),
        recog: RwSignal::new(Recognition {
            domain: known_domain.unwrap_or_default(),
            ..Recognition::default()
        }),
        run: RwSignal::new(Run::default()),
        abort: StoredValue::new_local(None),
        generation: StoredValue::new(0),
    };
    provide_context(c);
    recognise(c);

    let step = Memo::new(move |_| c.w.with(|w| w.step));
    let sent = Memo::new(move |_| c.w.with(|w| w.verified_sent));
    // One history entry per step: Back and Forward move between steps.
    Effect::new(move |prev: Option<Step>| {
        let s = step.get();
        match prev {
            None => browser::init_history(s),
            Some(p) if p == s => {}
            // The browser moved here itself (Back/Forward).
            Some(_) if browser::current_entry() == Some(s) => {}
            // The result takes the running check's place: Back from it leads to the servers.
            Some(Step::Test) if s == Step::Result => browser::replace(s),
            Some(_) => browser::push(s),
        }
        s
    });
    let _ = window_event_listener(leptos::ev::popstate, move |ev| on_popstate(c, ev));
    let _ = window_event_listener(leptos::ev::message, move |ev| oauth::on_message(c, ev));
    // Which providers offer a sign-in is asked once, when an address has a domain: in
    // parallel with recognising its provider, so the answer is there by Continue.
    Effect::new(move |_| {
        if c.w.with(|w| w.provider.is_some() || w.domain().is_some()) {
            oauth::load_providers(c);
        }
    });
    // Keep the non-secret flow state for a reload.
    Effect::new(move |_| {
        let saved = c.w.with(|w| w.saved());
        browser::save(&saved);
    });
    // Keep <html lang> right for screen readers.
    Effect::new(move |_| {
        let code = c.lang.get().code();
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = el.set_attribute("lang", code);
        }
    });
    // Move focus to each new step's heading (not on first load).
    Effect::new(move |prev: Option<Step>| {
        let s = step.get();
        if prev.is_some_and(|p| p != s) {
            focus_heading();
        }
        s
    });

    let lang_button = move |l: Lang, label: &'static str| {
        view! {
            <button
                type="button"
                class="lang"
                lang=l.code()
                data-testid=format!("lang-{}", l.code())
                aria-pressed=move || (c.lang.get() == l).to_string()
                on:click=move |_| c.lang.set(l)
            >
                {label}
            </button>
        }
    };

    view! {
        <div class="shell" class:embed=embed data-testid="wizard">
            <header class="top">
                <p class="brand">{move || c.t().app_title}</p>
                <div class="top-actions">
                    <div class="langs" role="group" aria-label=move || c.t().language>
                        {lang_button(Lang::En, "English")}
                        {lang_button(Lang::Ru, "Русский")}
                    </div>
                    <Show when=move || embed && !sent.get()>
                        <button
                            type="button"
                            class="link"
                            data-testid="widget-cancel"
                            on:click=move |_| cancel_widget(c)
                        >
                            {move || c.t().cancel}
                        </button>
                    </Show>
                </div>
            </header>
            <main class="card" data-step=move || step.get().as_str()>
                <Stepper />
                {move || match step.get() {
                    Step::Address => steps::address::Address().into_any(),
                    Step::Prepare => steps::prepare::Prepare().into_any(),
                    Step::Password => steps::password::PasswordStep().into_any(),
                    Step::Servers => steps::servers::Servers().into_any(),
                    Step::Test => steps::test::Test().into_any(),
                    Step::Result => steps::result::ResultStep().into_any(),
                }}
            </main>
        </div>
    }
}

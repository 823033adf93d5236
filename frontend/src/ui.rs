//! The page frame: [`App`] (title, language switch, stepper, the step shown), options
//! from the URL, and the browser's history moves. The context and the actions the steps
//! take live in `app.rs`.

use leptos::prelude::*;
use mailsetup_shared::api::Lang;
use mailsetup_shared::oauth::OAuthOutcome;

use crate::Options;
use crate::app::{Ctx, Recognition, Run, cancel_inflight, recognise};
use crate::browser;
use crate::components::Stepper;
use crate::embed::cancel_widget;
use crate::i18n;
use crate::later;
use crate::oauth;
use crate::split::split;
use crate::steps;
use crate::wizard::{self, Saved, Source, Step, Wizard};

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

/// The whole wizard. A reload (or coming back to the tab) continues where the user was;
/// so does the return from the provider's sign-in page in this tab, with its result. Their
/// state is decoded in the chunk (`crate::split`), so only then does the wizard wait for
/// it; a first visit starts at once.
#[component]
pub fn App() -> impl IntoView {
    let opts = read_options();
    let lang = opts
        .locale
        .as_deref()
        .and_then(i18n::lang_from_tag)
        .unwrap_or_else(browser_lang);
    let redirect = oauth::take_redirect_result();
    let saved = browser::saved_text(redirect.is_some());
    if saved.is_none() && redirect.is_none() {
        return frame(opts, lang, None, None).into_any();
    }
    let decoded = RwSignal::new(None);
    leptos::task::spawn_local(async move {
        // The chunk did not come (offline): start over, as with a state that cannot be read.
        let state = decode_state(saved, redirect).await.unwrap_or_default();
        decoded.set(Some(state));
    });
    let opts = StoredValue::new(opts);
    let t = i18n::tr(lang);
    (move || match decoded.get() {
        Some((saved, outcome)) => frame(opts.get_value(), lang, saved, outcome).into_any(),
        None => view! { <p class="hint" role="status">{t.step_loading}</p> }.into_any(),
    })
    .into_any()
}

split! {
    /// The saved state and a same-tab sign-in's result, decoded.
    fn decode_state(saved: Option<String>, redirect: Option<String>)
        -> (Option<Saved>, Option<OAuthOutcome>), preload load_decode_state {
        (
            saved.and_then(|t| serde_json::from_str(&t).ok()),
            redirect.and_then(|t| wizard::parse_message(&t)),
        )
    }
}

/// The wizard's frame, from an earlier load's state and a sign-in's result if any.
fn frame(
    opts: Options,
    lang: Lang,
    saved: Option<Saved>,
    signed_in: Option<OAuthOutcome>,
) -> impl IntoView {
    let mut wizard = Wizard::new();
    wizard.allowed_providers = opts.providers.clone();
    if let Some(e) = &opts.email {
        wizard.set_email(e.clone());
    }
    let restored = saved.is_some_and(|s| wizard.restore(s));
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
        recognising: StoredValue::new_local(None),
    };
    provide_context(c);
    recognise(c);
    let chunk = later::Chunk::new();
    later::prefetch(chunk);

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
    // Move focus to each new step's heading (not on first load); a later step's heading
    // exists once its chunk is in, so a move made while it loads focuses then.
    Effect::new(move |prev: Option<(Step, bool)>| {
        let s = step.get();
        let shown = s == Step::Address || chunk.ready();
        let pending = prev.is_some_and(|(p, pending)| p != s || pending);
        if pending && shown {
            focus_heading();
        }
        (s, pending && !shown)
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
                // The later steps' code arrives in a chunk (release builds), fetched
                // when the browser is idle after this first render.
                {move || match step.get() {
                    Step::Address => steps::address::Address().into_any(),
                    s => later::view(c, chunk, s),
                }}
            </main>
        </div>
    }
}

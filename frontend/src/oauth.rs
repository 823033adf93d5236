//! "Sign in with the provider" in the browser: opens the proxy's
//! `/api/v1/oauth/{provider}/start` in a popup (520×680, centred) or, on narrow screens and
//! when the popup is blocked outside a host's frame, in the same tab; takes the result
//! from the popup's `postMessage` (only from the proxy's own origin and the popup this
//! wizard opened), from a `BroadcastChannel` of the same origin (when the provider's pages
//! cut the popup from its opener), or after a same-tab redirect from `sessionStorage`;
//! notices a popup closed without a result. The decisions are plain functions in
//! `crate::wizard` (unit-tested natively); this module only wires them to the browser.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use mailsetup_shared::api::Lang;
use mailsetup_shared::oauth::{OAUTH_STORAGE_KEY, OAuthOutcome};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{BroadcastChannel, MessageEvent};

use crate::api;
use crate::app::Ctx;
use crate::browser;
use crate::split::{Task, split};
use crate::wizard::{self, Mode};

/// How often the popup's `closed` is looked at.
const POLL: Duration = Duration::from_millis(500);
/// How long a result may still arrive after the popup closed before "closed" is shown.
const GRACE: Duration = Duration::from_millis(1500);
/// The `BroadcastChannel` the callback page also posts its message on (named like the
/// storage key).
const CHANNEL: &str = OAUTH_STORAGE_KEY;

/// The sign-in under way.
struct Flow {
    popup: web_sys::Window,
    poll: Option<IntervalHandle>,
}

thread_local! {
    static FLOW: RefCell<Option<Flow>> = const { RefCell::new(None) };
    static FLOW_ID: Cell<u32> = const { Cell::new(0) };
    static PROVIDERS_ASKED: Cell<bool> = const { Cell::new(false) };
    static CHANNEL_OPEN: RefCell<Option<BroadcastChannel>> = const { RefCell::new(None) };
}

/// Asks the proxy once which providers offer a sign-in. A failure (an older proxy, no
/// network) leaves the wizard as it is without sign-in.
pub fn load_providers(c: Ctx) {
    if PROVIDERS_ASKED.with(|a| a.replace(true)) {
        return;
    }
    let lang = c.lang.get_untracked();
    c.recog.update(|r| r.offers = true);
    spawn_local(async move {
        if let Ok(ask) = ask_providers(c, lang).await {
            ask.await;
        }
        c.recog.update(|r| r.offers = false);
    });
}

split! {
    /// The question and the decoding of its answer, in the chunk.
    fn ask_providers(c: Ctx, lang: Lang) -> Task<()>, preload load_ask_providers {
        Box::pin(async move {
            if let Ok(list) = api::oauth_providers(lang).await
                && !list.providers.is_empty()
            {
                c.w.update(|w| w.set_oauth_providers(list.providers));
            }
        })
    }
}

/// The result a same-tab redirect left in `sessionStorage` (read once and removed), as
/// written: decoded with the saved state (`crate::ui`).
pub fn take_redirect_result() -> Option<String> {
    let store = web_sys::window()?.session_storage().ok()??;
    let text = store.get_item(OAUTH_STORAGE_KEY).ok()??;
    let _ = store.remove_item(OAUTH_STORAGE_KEY);
    Some(text)
}

split! {
    /// The outcome in a welcome message's data (JSON), when it is one; decoded in the chunk.
    fn read_outcome(data: String) -> Option<OAuthOutcome>, preload load_read_outcome {
        wizard::parse_message(&data)
    }
}

/// Takes the outcome in `ev` when it is welcome ([`wizard::welcome_message`]), once decoded.
fn take_message(c: Ctx, ev: &MessageEvent, from_popup: bool) {
    if !wizard::welcome_message(&ev.origin(), &own_origin(), from_popup) {
        return;
    }
    let Some(data) = data_json(ev) else { return };
    spawn_local(async move {
        if let Ok(Some(o)) = read_outcome(data).await {
            take(c, o);
        }
    });
}

fn own_origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

fn data_json(ev: &MessageEvent) -> Option<String> {
    js_sys::JSON::stringify(&ev.data()).ok()?.as_string()
}

/// A `message` event on the window: taken only from the proxy's origin and the popup this
/// wizard opened.
pub fn on_message(c: Ctx, ev: MessageEvent) {
    let from_popup = FLOW.with(|f| {
        let f = f.borrow();
        match (f.as_ref(), ev.source()) {
            (Some(flow), Some(source)) => {
                wasm_bindgen::JsValue::from(source) == wasm_bindgen::JsValue::from(&flow.popup)
            }
            _ => false,
        }
    });
    take_message(c, &ev, from_popup);
}

fn take(c: Ctx, outcome: OAuthOutcome) {
    if c.w
        .try_update(|w| w.take_sign_in(outcome, true))
        .unwrap_or(false)
    {
        end_flow();
    }
}

/// Forgets the flow under way and closes its popup (the callback page may have closed it).
fn end_flow() {
    FLOW_ID.with(|g| g.set(g.get() + 1));
    if let Some(f) = FLOW.with(|f| f.borrow_mut().take()) {
        if let Some(p) = f.poll {
            p.clear();
        }
        let _ = f.popup.close();
    }
}

/// Listens on the same origin's channel (once per page): the callback page posts there too,
/// for when the provider's pages cut the popup from this window.
fn open_channel(c: Ctx) {
    CHANNEL_OPEN.with(|slot| {
        if slot.borrow().is_some() {
            return;
        }
        let Ok(channel) = BroadcastChannel::new(CHANNEL) else {
            return;
        };
        let on = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            // Only while this page waits for its own sign-in; `take_sign_in` also checks
            // the address and the provider.
            let active = FLOW.with(|f| f.borrow().is_some());
            take_message(c, &ev, active);
        });
        channel.set_onmessage(Some(on.as_ref().unchecked_ref()));
        // The channel lives as long as the page.
        on.forget();
        *slot.borrow_mut() = Some(channel);
    });
}

/// "Sign in with ...": a popup where it can open, else the same tab. Runs inside the
/// click, so the browser lets the popup open.
pub fn sign_in(c: Ctx) {
    let Some((provider, email)) =
        c.w.with_untracked(|w| Some((w.oauth_offer()?.id.clone(), w.email.trim().to_owned())))
    else {
        return;
    };
    let Some(window) = web_sys::window() else {
        return;
    };
    let (embed, credentials) = c.opts.with_value(|o| (o.embed, o.return_credentials));
    let lang = c.lang.get_untracked();
    end_flow();
    let num = |v: Result<wasm_bindgen::JsValue, _>| v.ok().and_then(|v| v.as_f64());
    let width = num(window.inner_width()).unwrap_or(1024.0);
    if wizard::first_mode(width, embed) == Mode::Popup {
        let url = wizard::start_url(
            &provider,
            &email,
            Mode::Popup,
            None,
            credentials,
            lang,
            api::encode_component,
        );
        let features = wizard::popup_features(
            num(window.screen_x()).unwrap_or(0.0),
            num(window.screen_y()).unwrap_or(0.0),
            num(window.outer_width()).unwrap_or(width),
            num(window.outer_height()).unwrap_or(800.0),
        );
        match window.open_with_url_and_target_and_features(&url, "mailsetup-oauth", &features) {
            Ok(Some(popup)) => {
                watch(c, popup);
                return;
            }
            _ if wizard::when_blocked(embed).is_none() => {
                c.w.update(|w| w.sign_in_blocked());
                return;
            }
            _ => {}
        }
    }
    // Back to this very page (its query holds the embed options and keys the saved state).
    let loc = window.location();
    let here = format!(
        "{}{}",
        loc.pathname().unwrap_or_default(),
        loc.search().unwrap_or_default()
    );
    let url = wizard::start_url(
        &provider,
        &email,
        Mode::Redirect,
        Some(&here),
        credentials,
        lang,
        api::encode_component,
    );
    c.w.update(|w| w.start_redirect());
    // The flow's state must be there when the tab comes back.
    browser::save(&c.w.with_untracked(|w| w.saved()));
    let _ = window.location().assign(&url);
}

/// Waits for the popup's result; notices when it is closed without one.
fn watch(c: Ctx, popup: web_sys::Window) {
    c.w.update(|w| w.start_sign_in());
    open_channel(c);
    let id = FLOW_ID.with(|g| g.get());
    let seen = popup.clone();
    let poll = set_interval_with_handle(
        move || {
            if !seen.closed().unwrap_or(true) || FLOW_ID.with(|g| g.get()) != id {
                return;
            }
            if let Some(p) = FLOW.with(|f| f.borrow_mut().as_mut().and_then(|f| f.poll.take())) {
                p.clear();
            }
            // A result posted just before the window closed may still be on its way.
            set_timeout(
                move || {
                    if FLOW_ID.with(|g| g.get()) == id {
                        c.w.update(|w| w.sign_in_closed());
                    }
                },
                GRACE,
            );
        },
        POLL,
    )
    .ok();
    FLOW.with(|f| *f.borrow_mut() = Some(Flow { popup, poll }));
}

//! Step 3: the (app) password, with show/hide, paste clean-up, the provider's format hint
//! and warnings for the Russian layout, Caps Lock and "this looks like your account
//! password".

use leptos::prelude::*;
use mailsetup_shared::secret::Password;
use wasm_bindgen::JsCast;

use crate::components::{FieldError, Heading, Nav};
use crate::i18n::with_name;
use crate::rules;
use crate::ui::ctx;
use crate::wizard::Blocker;

/// The password screen.
#[component]
pub fn PasswordStep() -> impl IntoView {
    let c = ctx();
    let shown = RwSignal::new(false);
    let caps = RwSignal::new(false);
    let notes = RwSignal::new(Vec::<mailsetup_shared::api::Text>::new());
    let (provider, name) = c.w.with_untracked(|w| {
        (
            w.provider.clone(),
            w.provider.as_ref().map(|p| p.name.clone()),
        )
    });
    let format = provider.as_ref().and_then(|p| p.app_password.clone());
    let is_app = format.is_some();
    let value = Memo::new(move |_| c.w.with(|w| w.password.expose().to_owned()));
    let warnings = Signal::derive(move || {
        let lang = c.lang.get();
        let found = rules::password_warnings(&value.get(), provider.as_ref());
        let mut v: Vec<String> = found.iter().map(|(_, t)| t.get(lang).to_owned()).collect();
        if caps.get() && !found.iter().any(|(code, _)| *code == "caps_lock") {
            v.push(c.t().caps_on.to_owned());
        }
        v
    });
    let error = Signal::derive(move || {
        c.w.with(|w| (w.blocker == Some(Blocker::NoPassword)).then(|| c.t().no_password.to_owned()))
    });
    let set_password = move |v: String| {
        c.w.update(|w| {
            w.password = Password::new(v);
            if w.blocker == Some(Blocker::NoPassword) {
                w.blocker = None;
            }
        });
    };
    let on_input = move |ev: leptos::ev::Event| {
        let raw = event_target_value(&ev);
        let pasted = ev
            .dyn_ref::<web_sys::InputEvent>()
            .is_some_and(|i| i.input_type() == "insertFromPaste");
        if pasted {
            let (clean, changes) = rules::clean_password(&raw);
            notes.set(changes);
            set_password(clean);
        } else {
            notes.set(Vec::new());
            set_password(rules::strip_invisible(&raw));
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        caps.try_set(ev.get_modifier_state("CapsLock"));
    };
    let name_h = name.clone().unwrap_or_default();
    let name_i = name_h.clone();
    let hint = format.map(|f| f.hint);
    view! {
        <form
            class="step"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                let (clean, changes) = rules::clean_password(&value.get_untracked());
                if !changes.is_empty() {
                    notes.set(changes);
                    set_password(clean);
                }
                c.w.update(|w| {
                    w.advance();
                });
            }
        >
            <Heading text=Signal::derive(move || {
                let t = c.t();
                if is_app { t.password_h_app.to_owned() } else { t.password_h.to_owned() }
            }) />
            <p class="intro">
                {move || {
                    let t = c.t();
                    if is_app {
                        with_name(t.password_intro_app, &name_i)
                    } else {
                        t.password_intro.to_owned()
                    }
                }}
            </p>
            <div class="field">
                <label for="password">
                    {move || {
                        let t = c.t();
                        if is_app { t.app_password_label } else { t.password_label }
                    }}
                </label>
                <div class="with-button">
                    <input
                        id="password"
                        name="password"
                        type=move || if shown.get() { "text" } else { "password" }
                        autocomplete="off"
                        autocapitalize="off"
                        spellcheck="false"
                        data-testid="password"
                        aria-describedby="password-hint password-warnings password-error"
                        aria-invalid=move || error.get().is_some().to_string()
                        prop:value=move || value.get()
                        on:input=on_input
                        on:keydown=on_key
                        on:keyup=on_key
                    />
                    <button
                        type="button"
                        class="secondary"
                        data-testid="toggle-password"
                        aria-pressed=move || shown.get().to_string()
                        aria-controls="password"
                        on:click=move |_| shown.update(|s| *s = !*s)
                    >
                        {move || if shown.get() { c.t().hide } else { c.t().show }}
                    </button>
                </div>
                <p class="hint" id="password-hint" data-testid="password-hint">
                    {move || {
                        hint.as_ref()
                            .map(|h| with_name(c.t().format_hint, h.get(c.lang.get())))
                            .unwrap_or_default()
                    }}
                </p>
                <p class="hint ok" data-testid="password-cleaned" aria-live="polite">
                    {move || {
                        let lang = c.lang.get();
                        notes.get().iter().map(|n| n.get(lang).to_owned()).collect::<Vec<_>>().join(" ")
                    }}
                </p>
                <ul class="warnings" id="password-warnings" data-testid="password-warnings" aria-live="polite">
                    {move || {
                        warnings.get().into_iter().map(|w| view! { <li>{w}</li> }).collect_view()
                    }}
                </ul>
                <FieldError id="password" message=error />
            </div>
            <Nav />
        </form>
    }
}

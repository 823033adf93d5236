//! Step 3: the (app) password, with show/hide, paste clean-up, the provider's format hint,
//! a conversion for a password typed in the Russian layout (ЙЦУКЕН to QWERTY, shown before
//! and after, masked unless the password is shown) and warnings for Caps Lock and "this
//! looks like your account password". After a refused login it says so, starts empty and
//! checks again at once on Continue.

use leptos::prelude::*;
use mailsetup_shared::api::Lang;
use mailsetup_shared::secret::Password;
use wasm_bindgen::JsCast;

use crate::app::{ctx, start_check};
use crate::components::{FieldError, Heading, Nav, provider_name};
use crate::i18n::with_name;
use crate::rules;
use crate::wizard::{Blocker, Step};

/// The password as the page may show it: itself when shown, bullets otherwise.
fn masked(value: &str, shown: bool) -> String {
    if shown {
        value.to_owned()
    } else {
        "•".repeat(value.chars().count())
    }
}

/// The password screen.
#[component]
pub fn PasswordStep() -> impl IntoView {
    let c = ctx();
    let shown = RwSignal::new(false);
    let caps = RwSignal::new(false);
    let notes = RwSignal::new(Vec::<mailsetup_shared::api::Text>::new());
    let provider = c.w.with_untracked(|w| w.provider.clone());
    let refused = Memo::new(move |_| c.w.with(|w| w.password_refused));
    let format = provider.as_ref().and_then(|p| p.app_password.clone());
    let is_app = format.is_some();
    let value = Memo::new(move |_| c.w.with(|w| w.password.expose().to_owned()));
    let provider_w = provider.clone();
    let checked = Memo::new(move |_| rules::password_warnings(&value.get(), provider_w.as_ref()));
    let warnings = Signal::derive(move || {
        let lang = c.lang.get();
        let (found, _) = checked.get();
        let mut v: Vec<String> = found.iter().map(|(_, t)| t.get(lang).to_owned()).collect();
        if caps.get() && !found.iter().any(|(code, _)| *code == "caps_lock") {
            v.push(c.tl().caps_on.to_owned());
        }
        v
    });
    let guess = Memo::new(move |_| checked.get().1);
    let error = Signal::derive(move || {
        c.w.with(|w| {
            (w.blocker == Some(Blocker::NoPassword)).then(|| c.tl().no_password.to_owned())
        })
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
    let provider_i = provider.clone();
    let name_i = move || {
        provider_i
            .as_ref()
            .map(|p| provider_name(p, c.lang.get()))
            .unwrap_or_default()
    };
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
                if c.w.with_untracked(|w| w.step == Step::Test) {
                    start_check(c);
                }
            }
        >
            <Heading text=Signal::derive(move || {
                let t = c.tl();
                if is_app { t.password_h_app.to_owned() } else { t.password_h.to_owned() }
            }) />
            <p class="intro">
                {move || {
                    let t = c.tl();
                    if is_app {
                        with_name(t.password_intro_app, &name_i())
                    } else {
                        t.password_intro.to_owned()
                    }
                }}
            </p>
            <Show when=move || refused.get()>
                <div class="notice danger" role="alert" data-testid="password-refused">
                    <p>{move || c.tl().password_refused}</p>
                </div>
            </Show>
            <div class="field">
                <label for="password">
                    {move || {
                        let t = c.tl();
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
                        {move || if shown.get() { c.tl().hide } else { c.tl().show }}
                    </button>
                </div>
                <p class="hint" id="password-hint" data-testid="password-hint">
                    {move || {
                        hint.as_ref()
                            .map(|h| with_name(c.tl().format_hint, h.get(c.lang.get())))
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
                {move || {
                    guess
                        .get()
                        .map(|after| {
                            let before = value.get();
                            let to = after.clone();
                            view! {
                                <div class="notice layout" data-testid="layout">
                                    <p>{move || c.tl().layout_note}</p>
                                    <dl class="summary-list">
                                        <dt>{move || c.tl().layout_before}</dt>
                                        <dd class="mono" data-testid="layout-before">{masked(&before, shown.get())}</dd>
                                        <dt>{move || c.tl().layout_after}</dt>
                                        <dd class="mono" data-testid="layout-after">{masked(&after, shown.get())}</dd>
                                    </dl>
                                    <button
                                        type="button"
                                        class="secondary"
                                        data-testid="convert-layout"
                                        on:click=move |_| {
                                            set_password(to.clone());
                                            notes.set(vec![mailsetup_shared::api::Text::new(
                                                crate::i18n::later(Lang::En).layout_converted,
                                                crate::i18n::later(Lang::Ru).layout_converted,
                                            )]);
                                        }
                                    >
                                        {move || c.tl().convert_layout}
                                    </button>
                                </div>
                            }
                        })
                }}
                <FieldError id="password" message=error />
            </div>
            <Nav label=Signal::derive(move || {
                if refused.get() { c.tl().check_again.to_owned() } else { String::new() }
            }) />
        </form>
    }
}

//! Step 1: the email address, validated as it is typed, with a typo suggestion and the
//! provider recognised as soon as the domain is known.

use std::time::Duration;

use leptos::prelude::*;

use crate::app::{continue_from_address, ctx, recognise};
use crate::components::{FieldError, Heading, Nav, provider_name};
use crate::i18n::with_name;
use crate::rules;
use crate::wizard::{Blocker, Source};

/// The address screen.
#[component]
pub fn Address() -> impl IntoView {
    let c = ctx();
    let blurred = RwSignal::new(false);
    let email = Memo::new(move |_| c.w.with(|w| w.email.clone()));
    let error = Signal::derive(move || {
        let lang = c.lang.get();
        let e = email.get();
        // As you type: quiet until the address could be complete (something after a dot
        // behind the @), then live; after leaving the field or pressing Continue, always.
        let looks_complete = e
            .rsplit_once('@')
            .is_some_and(|(_, d)| d.rsplit_once('.').is_some_and(|(_, tld)| !tld.is_empty()));
        let show = looks_complete || blurred.get() || c.w.with(|w| w.blocker.is_some());
        let err = rules::email_error(&e)
            .filter(|_| show)
            .map(|t| t.get(lang).to_owned());
        err.or_else(|| {
            c.w.with(|w| {
                (w.blocker == Some(Blocker::NotAllowed)).then(|| {
                    let name = w.provider.as_ref().map_or_else(
                        || w.domain().unwrap_or_default(),
                        |p| provider_name(p, lang),
                    );
                    with_name(c.t().not_allowed, &name)
                })
            })
        })
    });
    let suggestion = Memo::new(move |_| rules::suggestion(&email.get()));
    // Continue was pressed with a likely typo: the question is asked (once) in words.
    let asked = Memo::new(move |_| c.w.with(|w| matches!(w.blocker, Some(Blocker::Typo(_)))));
    let status = move || {
        let t = c.t();
        let r = c.recog.get();
        c.w.with(|w| {
            if rules::email_error(&w.email).is_some() {
                return String::new();
            }
            if let Some(p) = &w.provider {
                return with_name(t.provider_known, &provider_name(p, c.lang.get()));
            }
            if r.looking || r.discovering {
                return t.looking_up.to_owned();
            }
            if r.failed {
                return with_name(t.lookup_failed, t.next);
            }
            if suggestion.get().is_some() {
                return String::new();
            }
            match w.source {
                Source::Discovered(_) => t.discovered.to_owned(),
                Source::Guessed => t.guessed.to_owned(),
                _ => String::new(),
            }
        })
    };
    let on_input = move |ev| {
        let v = event_target_value(&ev);
        c.w.update(|w| w.set_email(v.clone()));
        set_timeout(
            move || {
                if c.w.with_untracked(|w| w.email == v) {
                    recognise(c);
                }
            },
            Duration::from_millis(350),
        );
    };
    view! {
        <form
            class="step"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                blurred.set(true);
                continue_from_address(c);
            }
        >
            <Heading text=Signal::derive(move || c.t().address_h.to_owned()) />
            <p class="intro">{move || c.t().address_intro}</p>
            <div class="field">
                <label for="email">{move || c.t().email_label}</label>
                <input
                    id="email"
                    name="email"
                    type="email"
                    inputmode="email"
                    autocomplete="email"
                    autocapitalize="off"
                    spellcheck="false"
                    data-testid="email"
                    aria-describedby="email-hint email-error"
                    aria-invalid=move || error.get().is_some().to_string()
                    prop:value=move || email.get()
                    on:input=on_input
                    on:blur=move |_| {
                        // Chrome fires blur when the focused field is removed with the step:
                        // the signals may be gone by then.
                        if let Some(e) = email.try_get_untracked() {
                            blurred.try_set(!e.is_empty());
                        }
                    }
                />
                <p class="hint" id="email-hint">{move || c.t().email_hint}</p>
                <FieldError id="email" message=error />
            </div>
            {move || {
                suggestion
                    .get()
                    .map(|s| {
                        let s2 = s.clone();
                        view! {
                            <div
                                class="suggestion"
                                class:asked=move || asked.get()
                                data-testid="suggestion"
                                role=move || asked.get().then_some("alert")
                            >
                                <p>
                                    {
                                        let s = s.clone();
                                        move || {
                                            let t = c.t();
                                            if asked.get() {
                                                with_name(t.typo_question, &s)
                                            } else {
                                                with_name(t.did_you_mean, &s)
                                            }
                                        }
                                    }
                                </p>
                                <div class="suggestion-actions">
                                    <button
                                        type="button"
                                        class="secondary"
                                        data-testid="use-suggestion"
                                        on:click=move |_| {
                                            let v = s2.clone();
                                            c.w.update(|w| w.set_email(v));
                                            recognise(c);
                                        }
                                    >
                                        {
                                            let s = s.clone();
                                            move || with_name(c.t().use_suggestion, &s)
                                        }
                                    </button>
                                </div>
                            </div>
                        }
                    })
            }}
            <p class="status" data-testid="provider-status" aria-live="polite">
                {status}
            </p>
            <Nav back=false />
        </form>
    }
}

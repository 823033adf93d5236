//! Small pieces every step uses: the stepper, the focusable heading, the back/continue bar
//! and field messages.

use leptos::prelude::*;
use mailsetup_shared::api::{Lang, Provider};

use crate::app::{ctx, go_back};
use crate::i18n::step_names;
use crate::wizard::{Mark, Step};

/// A provider's name as shown to users in `lang`. Every display of a provider name goes
/// through here, so names per language (from the data) are switched on in one place.
pub fn provider_name(provider: &Provider, lang: Lang) -> String {
    provider.display_name(lang).to_owned()
}

/// The named steps, always all six (a step not needed for this address is marked so), with
/// the current one as `aria-current` and a failed result marked failed.
#[component]
pub fn Stepper() -> impl IntoView {
    let c = ctx();
    let marks = Memo::new(move |_| c.w.with(|w| w.stepper()));
    // After a sign-in with the provider, the password's place is the sign-in's.
    let signed_in = Memo::new(move |_| c.w.with(|w| w.signed_in()));
    view! {
        <nav class="stepper" aria-label=move || c.t().progress data-testid="stepper">
            <ol>
                {move || {
                    let t = c.t();
                    let lang = c.lang.get();
                    let names = step_names(lang);
                    let signed_in = signed_in.get();
                    marks
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, (step, mark))| {
                            let (class, note, dot) = match mark {
                                Mark::Done => ("done", t.mark_done, "✓".to_owned()),
                                Mark::Current => ("current", "", (i + 1).to_string()),
                                Mark::Upcoming => ("upcoming", "", (i + 1).to_string()),
                                Mark::Skipped => ("skipped", t.mark_skipped, "–".to_owned()),
                                Mark::Failed => ("failed", t.mark_failed, "✗".to_owned()),
                            };
                            let current = matches!(mark, Mark::Current | Mark::Failed);
                            let name = if signed_in && step == Step::Password {
                                t.step_sign_in
                            } else {
                                names[i]
                            };
                            view! {
                                <li
                                    class=class
                                    data-testid=format!("stepper-{}", step.as_str())
                                    data-mark=class
                                    aria-current=current.then_some("step")
                                >
                                    <span class="dot" aria-hidden="true">{dot}</span>
                                    <span class="step-name">{name}</span>
                                    {(!note.is_empty()).then(|| view! { <span class="sr-only">" " {note}</span> })}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ol>
        </nav>
    }
}

/// The step's heading: focus moves here when the step opens.
#[component]
pub fn Heading(
    /// The heading text.
    #[prop(into)]
    text: Signal<String>,
) -> impl IntoView {
    view! {
        <h1 class="step-heading" tabindex="-1" data-testid="step-heading">
            {move || text.get()}
        </h1>
    }
}

/// Back and continue buttons. `next` runs on continue (or on submitting the step's form).
#[component]
pub fn Nav(
    /// Show the back button.
    #[prop(default = true)]
    back: bool,
    /// The continue label; the generic "Continue" when empty.
    #[prop(into, optional)]
    label: Signal<String>,
    /// Hide the continue button (no way forwards from here but the step's own).
    #[prop(into, optional)]
    no_next: Signal<bool>,
    /// Show continue as a second choice (the step has its own primary action).
    #[prop(into, optional)]
    secondary: Signal<bool>,
) -> impl IntoView {
    let c = ctx();
    view! {
        <div class="nav">
            <button
                type="submit"
                class=move || if secondary.get() { "secondary" } else { "primary" }
                data-testid="next"
                hidden=move || no_next.get()
            >
                {move || {
                    let l = label.get();
                    if l.is_empty() { c.t().next.to_owned() } else { l }
                }}
            </button>
            <Show when=move || back>
                <BackButton />
            </Show>
        </div>
    }
}

/// A field's error (announced) or nothing.
#[component]
pub fn FieldError(
    /// The field's id; the message gets `{id}-error`.
    id: &'static str,
    /// The message, if any.
    #[prop(into)]
    message: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <p class="field-error" id=format!("{id}-error") data-testid=format!("{id}-error") aria-live="polite">
            {move || message.get()}
        </p>
    }
}

/// The wizard's own Back (a second choice beside a step's primary action).
#[component]
pub fn BackButton() -> impl IntoView {
    let c = ctx();
    view! {
        <button type="button" class="secondary" data-testid="back" on:click=move |_| go_back(c)>
            {move || c.t().back}
        </button>
    }
}

//! Small pieces every step uses: the focusable heading, the back/continue bar and
//! field messages.

use leptos::prelude::*;

use crate::ui::ctx;

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
) -> impl IntoView {
    let c = ctx();
    view! {
        <div class="nav">
            <button type="submit" class="primary" data-testid="next">
                {move || {
                    let l = label.get();
                    if l.is_empty() { c.t().next.to_owned() } else { l }
                }}
            </button>
            <Show when=move || back>
                <button
                    type="button"
                    class="secondary"
                    data-testid="back"
                    on:click=move |_| c.w.update(|w| w.back())
                >
                    {move || c.t().back}
                </button>
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

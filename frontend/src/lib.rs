//! The mailsetup wizard, a Leptos CSR app.

#![warn(missing_docs)]

use leptos::prelude::*;

/// The whole wizard.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <main class="wizard" data-testid="wizard">
            <h1 data-testid="step-heading">"Connect your mailbox"</h1>
            <label for="email">"Email address"</label>
            <input id="email" type="email" autocomplete="email" data-testid="email" />
        </main>
    }
}

//! The sign-in with the provider on the preparation screen: the primary choice where the
//! operator configured it, with where it stands (waiting for the sign-in window, window
//! closed, popup blocked) and why it failed, in plain words, from the proxy's diagnosis
//! (its message and advice; the code is in `data-code`).

use leptos::prelude::*;
use mailsetup_shared::oauth::OAuthProvider;

use crate::i18n::{oauth_tr, with_name};
use crate::oauth;
use crate::ui::ctx;
use crate::wizard::SignIn;

/// "Sign in with {name}" and its state.
#[component]
pub fn SignInChoice(
    /// The configured sign-in.
    offer: OAuthProvider,
) -> impl IntoView {
    let c = ctx();
    let state = Memo::new(move |_| c.w.with(|w| w.sign_in.clone()));
    let o = move || oauth_tr(c.lang.get());
    let name = offer.name;
    let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
    let status = move || {
        let t = o();
        match state.get() {
            SignIn::Waiting => with_name(t.waiting, &n3),
            SignIn::Redirecting => with_name(t.redirecting, &n3),
            SignIn::Closed => t.closed.to_owned(),
            SignIn::Blocked => t.blocked.to_owned(),
            SignIn::Idle | SignIn::Failed(_) => String::new(),
        }
    };
    let failure = move || {
        let SignIn::Failed(d) = state.get() else {
            return None;
        };
        Some(view! {
            <div class="notice danger" data-testid="oauth-error" data-code=d.code.as_str()>
                <p class="notice-title">{o().failed_h}</p>
                <p data-testid="oauth-error-message"><strong>{d.message}</strong></p>
                <p data-testid="oauth-error-advice">{d.advice}</p>
            </div>
        })
    };
    view! {
        <section class="sign-in" aria-labelledby="sign-in-h" data-testid="sign-in">
            <h2 id="sign-in-h">{move || o().sign_in_h}</h2>
            <p>{move || with_name(o().sign_in_intro, &n1)}</p>
            <button
                type="button"
                class="primary"
                data-testid="oauth-sign-in"
                on:click=move |_| oauth::sign_in(c)
            >
                {move || with_name(o().sign_in_with, &n2)}
            </button>
            <p class="status" role="status" data-testid="oauth-status">{status}</p>
            <div role="alert">{failure}</div>
        </section>
    }
}

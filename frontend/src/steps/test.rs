//! Step 5: the live check of both sides, side by side, with progress and cancel. The
//! proxy answers once both sides are done, so until then each side honestly says
//! "checking" and the elapsed time runs.

use leptos::prelude::*;
use mailsetup_shared::api::Protocol;

use crate::components::Heading;
use crate::ui::{cancel_check, ctx, start_check};

/// The test screen.
#[component]
pub fn Test() -> impl IntoView {
    let c = ctx();
    let target = move |outgoing: bool| {
        c.w.with(|w| {
            if outgoing {
                format!("SMTP {}:{}", w.outgoing.host.trim(), w.outgoing.port.trim())
            } else {
                let p: Protocol = w.incoming_protocol.into();
                format!(
                    "{} {}:{}",
                    p.label(),
                    w.incoming.host.trim(),
                    w.incoming.port.trim()
                )
            }
        })
    };
    let running = Memo::new(move |_| c.run.with(|r| r.running));
    let error = Memo::new(move |_| c.run.with(|r| r.error.clone()));
    let side = move |outgoing: bool| {
        view! {
            <section class="side-card" data-testid=if outgoing { "test-outgoing" } else { "test-incoming" }>
                <h2>{move || if outgoing { c.t().outgoing } else { c.t().incoming }}</h2>
                <p class="mono">{move || target(outgoing)}</p>
                <p class="side-state">
                    <Show when=move || running.get()>
                        <span class="spinner" aria-hidden="true"></span>
                    </Show>
                    {move || if running.get() { c.t().checking } else { "" }}
                </p>
            </section>
        }
    };
    view! {
        <div class="step">
            <Heading text=Signal::derive(move || c.t().test_h.to_owned()) />
            <p class="intro">{move || c.t().test_intro}</p>
            <div
                class="indeterminate"
                role="progressbar"
                aria-busy=move || running.get().to_string()
                aria-label=move || c.t().checking
                class:stopped=move || !running.get()
            >
                <div></div>
            </div>
            <p class="status" data-testid="test-status">
                <span role="status">
                    {move || {
                        let t = c.t();
                        if running.get() { format!("{} {}", t.checking, t.waiting) } else { String::new() }
                    }}
                </span>
                " "
                <span class="elapsed" aria-hidden="true">
                    {move || {
                        running
                            .get()
                            .then(|| c.t().elapsed.replace("{n}", &c.run.with(|r| r.seconds).to_string()))
                    }}
                </span>
            </p>
            <div class="sides">{side(false)} {side(true)}</div>
            {move || {
                error
                    .get()
                    .map(|e| {
                        view! {
                            <div class="notice danger" role="alert" data-testid="test-error">
                                <p>{e}</p>
                            </div>
                        }
                    })
            }}
            <div class="nav">
                <Show
                    when=move || running.get()
                    fallback=move || {
                        view! {
                            <button
                                type="button"
                                class="primary"
                                data-testid="retry"
                                on:click=move |_| start_check(c)
                            >
                                {move || c.t().retry}
                            </button>
                            <button
                                type="button"
                                class="secondary"
                                data-testid="back"
                                on:click=move |_| cancel_check(c)
                            >
                                {move || c.t().back}
                            </button>
                        }
                    }
                >
                    <button
                        type="button"
                        class="secondary"
                        data-testid="cancel-check"
                        on:click=move |_| cancel_check(c)
                    >
                        {move || c.t().cancel}
                    </button>
                </Show>
            </div>
        </div>
    }
}

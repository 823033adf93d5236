//! Step 5: the live check of both sides, side by side, with progress and cancel. Steps
//! appear as the proxy finishes them (`POST /api/v1/check/stream`), the step under way is
//! shown as in progress, and a polite live region announces each side's outcome (not
//! every step, to stay quiet for screen reader users).

use leptos::prelude::*;
use mailsetup_shared::api::{Lang, Protocol};

use crate::app::{Ctx, cancel_check, ctx, start_check};
use crate::components::Heading;
use crate::i18n::step_name;
use crate::wizard::{LiveState, Side};

/// The sentence announced when a side has finished, if it has.
fn announcement(c: Ctx, side: Side) -> String {
    let t = c.tl();
    let name = match side {
        Side::Incoming => t.incoming,
        Side::Outgoing => t.outgoing,
    };
    match c.w.with(|w| w.live_state(side)) {
        LiveState::Passed => t.live_side_ok.replace("{side}", name),
        LiveState::Failed(step) => t
            .live_side_failed
            .replace("{side}", name)
            .replace("{step}", step_name(c.lang.get(), step)),
        LiveState::Waiting | LiveState::Running => String::new(),
    }
}

/// One side's card: its target, the steps finished so far and the one under way.
fn side_card(c: Ctx, side: Side, running: Memo<bool>) -> impl IntoView {
    let target = move || {
        c.w.with(|w| match side {
            Side::Outgoing => {
                format!("SMTP {}:{}", w.outgoing.host.trim(), w.outgoing.port.trim())
            }
            Side::Incoming => {
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
    let state = Memo::new(move |_| c.w.with(|w| w.live_state(side)));
    let steps = move || {
        c.w.with(|w| w.live_steps(side).to_vec())
            .into_iter()
            .map(|s| {
                let mark = if s.ok { "✓" } else { "✗" };
                let detail = (!s.ok).then(|| s.detail.clone()).flatten();
                view! {
                    <li class:failed=!s.ok data-kind=s.step.as_str() data-ok=s.ok.to_string()>
                        <span class="mark" aria-hidden="true">{mark}</span>
                        <span class="check-name">
                            <span class="sr-only">
                                {move || if s.ok { c.tl().side_ok } else { c.tl().side_failed }} ": "
                            </span>
                            {move || step_name(c.lang.get(), s.step)}
                        </span>
                        <span class="ms">
                            {move || {
                                let unit = if c.lang.get() == Lang::Ru { "мс" } else { "ms" };
                                format!("{} {unit}", s.ms)
                            }}
                        </span>
                        <span class="detail mono">{detail}</span>
                    </li>
                }
            })
            .collect_view()
    };
    let pending =
        move || running.get() && matches!(state.get(), LiveState::Waiting | LiveState::Running);
    view! {
        <section
            class="side-card"
            class:ok=move || state.get() == LiveState::Passed
            class:bad=move || matches!(state.get(), LiveState::Failed(_))
            data-testid=format!("test-{}", side.as_str())
            data-state=move || match state.get() {
                LiveState::Waiting => "waiting",
                LiveState::Running => "running",
                LiveState::Passed => "passed",
                LiveState::Failed(_) => "failed",
            }
        >
            <h2>
                {move || match side {
                    Side::Incoming => c.tl().incoming,
                    Side::Outgoing => c.tl().outgoing,
                }}
                {move || match state.get() {
                    LiveState::Passed => Some(view! { " — " <span class="badge">{c.tl().side_ok}</span> }),
                    LiveState::Failed(_) => Some(view! { " — " <span class="badge">{c.tl().side_failed}</span> }),
                    _ => None,
                }}
            </h2>
            <p class="mono">{target}</p>
            <ol class="checks live" data-testid=format!("live-{}", side.as_str())>
                {steps}
                <Show when=pending>
                    <li class="pending" data-testid=format!("live-{}-pending", side.as_str())>
                        <span class="spinner" aria-hidden="true"></span>
                        <span class="check-name">
                            {move || {
                                if state.get() == LiveState::Waiting { c.tl().live_waiting } else { c.tl().live_next }
                            }}
                        </span>
                    </li>
                </Show>
            </ol>
        </section>
    }
}

/// The test screen.
#[component]
pub fn Test() -> impl IntoView {
    let c = ctx();
    let running = Memo::new(move |_| c.run.with(|r| r.running));
    let error = Memo::new(move |_| c.run.with(|r| r.error.clone()));
    view! {
        <div class="step">
            <Heading text=Signal::derive(move || c.tl().test_h.to_owned()) />
            <p class="intro">{move || c.tl().test_intro}</p>
            <div
                class="indeterminate"
                role="progressbar"
                aria-busy=move || running.get().to_string()
                aria-label=move || c.tl().checking
                class:stopped=move || !running.get()
            >
                <div></div>
            </div>
            <p class="status" data-testid="test-status">
                <span role="status">
                    {move || {
                        let t = c.tl();
                        if running.get() { format!("{} {}", t.checking, t.waiting) } else { String::new() }
                    }}
                </span>
                " "
                <span class="elapsed" aria-hidden="true">
                    {move || {
                        running
                            .get()
                            .then(|| c.tl().elapsed.replace("{n}", &c.run.with(|r| r.seconds).to_string()))
                    }}
                </span>
            </p>
            <div class="sr-only" aria-live="polite" data-testid="live-announce">
                <p>{move || announcement(c, Side::Incoming)}</p>
                <p>{move || announcement(c, Side::Outgoing)}</p>
            </div>
            <div class="sides">
                {side_card(c, Side::Incoming, running)} {side_card(c, Side::Outgoing, running)}
            </div>
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

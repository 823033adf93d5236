//! Step 2: "Sign in with the provider" first where the operator configured it, then the
//! provider's own checklist (enable access, two-step verification, app password), each
//! with its real settings page and a tick box; honest about providers that do not accept
//! passwords at all (unless their sign-in is offered, which replaces that dead end).

use leptos::prelude::*;
use mailsetup_shared::api::{ProviderStatus, StepTopic};

use crate::app::ctx;
use crate::components::{FieldError, Heading, Nav, provider_name};
use crate::i18n::{oauth_tr, with_name};
use crate::steps::sign_in::SignInChoice;
use crate::wizard::Blocker;

/// The preparation screen.
#[component]
pub fn Prepare() -> impl IntoView {
    let c = ctx();
    // The provider does not change on this screen: read it once.
    let provider = c.w.with_untracked(|w| w.provider.clone());
    let Some(p) = provider else {
        return view! { <p>"—"</p> }.into_any();
    };
    let p_name = p.clone();
    let name = move || provider_name(&p_name, c.lang.get());
    let name_h = name.clone();
    let blocked = matches!(p.status, ProviderStatus::OauthOnly | ProviderStatus::Broken);
    // The sign-in offer may arrive while the screen is shown.
    let choices = Memo::new(move |_| c.w.with(|w| w.choices()));
    let offered = move || choices.with(|ch| ch.sign_in.is_some());
    let status = p.status;
    let note = p.status_note.clone();
    let has_app_password =
        p.app_password.is_some() || p.steps.iter().any(|s| s.topic == StepTopic::AppPassword);
    let steps = p.steps.clone();
    let resets = p.resets.clone();
    let limits = p.limits.clone();
    let name_w = name.clone();
    let warning = move || {
        let lang = c.lang.get();
        let t = c.tl();
        let head = match status {
            _ if !choices.with(|ch| ch.blocked_warning) => String::new(),
            ProviderStatus::OauthOnly => with_name(t.oauth_only, &name_w()),
            ProviderStatus::Broken => with_name(t.broken, &name_w()),
            _ => String::new(),
        };
        let note = note
            .as_ref()
            .map(|n| n.get(lang).to_owned())
            .unwrap_or_default();
        (head, note)
    };
    let error = Signal::derive(move || {
        c.w.with(|w| (w.blocker == Some(Blocker::Unticked)).then(|| c.tl().unticked.to_owned()))
    });
    let name_i = name.clone();
    let items = steps
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let title_id = format!("prep-{i}-title");
            let tick_id = format!("prep-{i}-tick");
            let tick_for = tick_id.clone();
            let s2 = s.clone();
            let url = s.url.clone();
            view! {
                <li class="prep" data-testid=format!("prep-step-{i}")>
                    <h2 class="prep-title" id=title_id.clone()>
                        {move || s.title.get(c.lang.get()).to_owned()}
                    </h2>
                    <p>{move || s2.body.get(c.lang.get()).to_owned()}</p>
                    <div class="prep-actions">
                        {url.map(|u| {
                            view! {
                                <a
                                    class="button secondary"
                                    href=u
                                    target="_blank"
                                    rel="noopener noreferrer"
                                    data-testid=format!("prep-link-{i}")
                                    aria-describedby=title_id.clone()
                                >
                                    {move || c.tl().open_page}
                                    <span class="sr-only">" " {move || c.tl().new_tab}</span>
                                </a>
                            }
                        })}
                        <label class="tick" for=tick_for>
                            <input
                                type="checkbox"
                                id=tick_id
                                data-testid=format!("prep-tick-{i}")
                                aria-describedby=format!("prep-{i}-title")
                                prop:checked=move || {
                                    c.w.with(|w| w.ticks.get(i).copied().unwrap_or(false))
                                }
                                on:change=move |ev| {
                                    let v = event_target_checked(&ev);
                                    c.w.update(|w| {
                                        if let Some(t) = w.ticks.get_mut(i) {
                                            *t = v;
                                        }
                                        if w.blocker == Some(Blocker::Unticked)
                                            && w.ticks.iter().all(|t| *t)
                                        {
                                            w.blocker = None;
                                        }
                                    });
                                }
                            />
                            {move || c.tl().tick}
                        </label>
                    </div>
                </li>
            }
        })
        .collect_view();
    view! {
        <form
            class="step"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                c.w.update(|w| {
                    w.advance();
                });
            }
        >
            <Heading text=Signal::derive(move || with_name(c.tl().prepare_h, &name_h())) />
            {move || {
                let (head, note) = warning();
                (!head.is_empty() || !note.is_empty())
                    .then(|| {
                        view! {
                            <div
                                class=if blocked && !offered() { "notice danger" } else { "notice" }
                                data-testid="provider-warning"
                            >
                                {(!head.is_empty()).then(|| view! { <p><strong>{head}</strong></p> })}
                                {(!note.is_empty()).then(|| view! { <p>{note}</p> })}
                            </div>
                        }
                    })
            }}
            {move || choices.with(|ch| ch.sign_in.clone()).map(|offer| view! { <SignInChoice offer /> })}
            <h2
                class="or"
                data-testid="or-app-password"
                hidden=move || !(offered() && choices.with(|ch| ch.checklist))
            >
                {move || oauth_tr(c.lang.get()).or_app_password}
            </h2>
            <Show when=move || !blocked>
                <p class="intro">{
                    let n = name_i.clone();
                    move || with_name(c.tl().prepare_intro, &n())
                }</p>
            </Show>
            <ol class="prep-list">{items}</ol>
            <Show when=move || has_app_password>
                <div class="notice" data-testid="shown-once">
                    <p>{move || c.tl().shown_once}</p>
                    {
                        let resets = resets.clone();
                        (!resets.is_empty()).then(move || {
                            let list = resets.clone();
                            view! {
                                <p class="notice-title">{move || c.tl().resets_h}</p>
                                <ul data-testid="resets">
                                    {list
                                        .into_iter()
                                        .map(|r| view! { <li>{move || r.get(c.lang.get()).to_owned()}</li> })
                                        .collect_view()}
                                </ul>
                            }
                        })
                    }
                </div>
            </Show>
            {(!limits.is_empty()).then(|| {
                view! {
                    <details class="limits">
                        <summary>{move || c.tl().limits_h}</summary>
                        <ul>
                            {limits
                                .into_iter()
                                .map(|r| view! { <li>{move || r.get(c.lang.get()).to_owned()}</li> })
                                .collect_view()}
                        </ul>
                    </details>
                }
            })}
            <FieldError id="prepare" message=error />
            <Nav
                label=Signal::derive(move || {
                    let o = oauth_tr(c.lang.get());
                    if offered() && has_app_password {
                        o.use_password.to_owned()
                    } else if offered() {
                        o.use_any_password.to_owned()
                    } else if blocked {
                        c.tl().try_anyway.to_owned()
                    } else {
                        String::new()
                    }
                })
                no_next=Signal::derive(move || !choices.with(|ch| ch.password_path))
                secondary=Signal::derive(offered)
            />
        </form>
    }
    .into_any()
}

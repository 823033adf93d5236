//! Step 6: success (the verified settings and "Done") or failure (the diagnosis in plain
//! words, the fix with the provider's link, a button back to the step to change), and a
//! redacted report for IT.

use leptos::prelude::*;
use mailsetup_shared::api::{DiagnosisCode, Protocol, SideReport};

use crate::app::{Ctx, ctx, go_back, start_check};
use crate::components::{BackButton, Heading, provider_name};
use crate::embed::finish;
use crate::i18n::step_name;
use crate::i18n::{oauth_tr, with_name};
use crate::steps::servers::security_label;
use crate::wizard::{Source, Step};

fn fix_label(c: Ctx, s: Step) -> &'static str {
    let t = c.tl();
    match s {
        Step::Password => t.fix_password,
        Step::Servers => t.fix_servers,
        Step::Prepare => t.fix_prepare,
        _ => c.t().retry,
    }
}

/// One side's steps, as a list with times.
#[component]
fn StepList(outgoing: bool, report: Option<SideReport>) -> impl IntoView {
    let c = ctx();
    let name = move || {
        if outgoing {
            c.tl().outgoing
        } else {
            c.tl().incoming
        }
    };
    let Some(r) = report else {
        return view! {
            <section class="side-card">
                <h3>{name}</h3>
                <p>{move || c.tl().side_skipped}</p>
            </section>
        }
        .into_any();
    };
    let ok = r.ok;
    let head = format!("{} {}:{}", r.protocol.label(), r.host, r.port);
    let steps = r.steps.clone();
    view! {
        <section
            class="side-card"
            class:ok=ok
            class:bad=!ok
            data-testid=if outgoing { "report-outgoing" } else { "report-incoming" }
        >
            <h3>
                {name} " — "
                <span class="badge">{move || if ok { c.tl().side_ok } else { c.tl().side_failed }}</span>
            </h3>
            <p class="mono">{head}</p>
            <ol class="checks">
                {steps
                    .into_iter()
                    .map(|s| {
                        let mark = if s.ok { "✓" } else { "✗" };
                        let detail = s.detail.clone().unwrap_or_default();
                        view! {
                            <li class:failed=!s.ok>
                                <span class="mark" aria-hidden="true">{mark}</span>
                                <span class="sr-only">{move || if s.ok { c.tl().sr_ok } else { c.tl().sr_failed }}</span>
                                <span class="check-name">{move || step_name(c.lang.get(), s.step)}</span>
                                <span class="ms">
                                    {move || {
                                        let unit = if c.lang.get() == mailsetup_shared::api::Lang::Ru { "мс" } else { "ms" };
                                        format!("{} {unit}", s.ms)
                                    }}
                                </span>
                                <span class="detail mono">{detail}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
    .into_any()
}

/// A failed side's diagnosis with its fix; `both` when the other side failed the same way.
#[component]
fn DiagnosisCard(outgoing: bool, report: SideReport, both: bool) -> impl IntoView {
    let c = ctx();
    let Some(d) = report.diagnosis.clone() else {
        return ().into_any();
    };
    let fix = c.w.with_untracked(|w| w.fix_step(d.code));
    let side = if outgoing { "outgoing" } else { "incoming" };
    let proto = report.protocol;
    // A server name the wizard filled in itself (from the data or discovery) that does not
    // resolve is not the user's typo: say so instead of the proxy's generic advice.
    let filled_by_us = c.w.with_untracked(|w| {
        !w.servers_edited && matches!(w.source, Source::Provider | Source::Discovered(_))
    });
    let host = report.host.clone();
    let advice = d.advice.clone();
    let code = d.code;
    let advice = move || {
        if code == DiagnosisCode::DnsNotFound && filled_by_us {
            with_name(c.tl().dns_provider_advice, &host)
        } else {
            advice.clone()
        }
    };
    // A timeout's advice talks about ports and encryption: offer to change them too.
    let also_servers = fix == Step::Test
        && matches!(
            code,
            DiagnosisCode::ServerTimeout | DiagnosisCode::ConnectTimeout
        );
    view! {
        <section class="diagnosis" data-testid=format!("diagnosis-{side}") data-code=d.code.as_str()>
            <h2>
                {move || {
                    let t = c.tl();
                    if both {
                        format!("{} · {}", t.incoming, t.outgoing)
                    } else if outgoing {
                        format!("{} ({})", t.outgoing, proto.label())
                    } else {
                        format!("{} ({})", t.incoming, proto.label())
                    }
                }}
            </h2>
            <p class="diag-message" data-testid="diagnosis-message"><strong>{d.message.clone()}</strong></p>
            <p data-testid="diagnosis-advice">{advice}</p>
            {d.server_reply.clone().map(|r| {
                view! {
                    <p class="hint">
                        {move || c.tl().server_said} " " <span class="mono">{r}</span>
                    </p>
                }
            })}
            {(!d.links.is_empty()).then(|| {
                view! {
                    <ul class="links">
                        {d.links
                            .iter()
                            .map(|l| {
                                view! {
                                    <li>
                                        <a href=l.url.clone() target="_blank" rel="noopener noreferrer">
                                            {l.title.clone()}
                                            <span class="sr-only">" " {move || c.tl().new_tab}</span>
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
            })}
            <button
                type="button"
                class="primary"
                data-testid=format!("fix-{side}")
                data-target=fix.as_str()
                on:click=move |_| {
                    c.w.update(|w| w.fix(code));
                    if fix == Step::Test {
                        start_check(c);
                    }
                }
            >
                {move || fix_label(c, fix)}
            </button>
            {also_servers.then(|| view! {
                <button
                    type="button"
                    class="secondary"
                    data-testid=format!("fix-{side}-servers")
                    on:click=move |_| c.w.update(|w| w.go_to(Step::Servers))
                >
                    {move || c.tl().fix_servers}
                </button>
            })}
        </section>
    }
    .into_any()
}

/// The result screen.
#[component]
pub fn ResultStep() -> impl IntoView {
    let c = ctx();
    let outcome = c.w.with_untracked(|w| w.outcome.clone());
    let ok = outcome.as_ref().is_some_and(|o| o.ok);
    let (inc, out) = outcome
        .map(|o| (o.incoming, o.outgoing))
        .unwrap_or((None, None));
    let sent = Memo::new(move |_| c.w.with(|w| w.verified_sent));
    let embed = c.opts.with_value(|o| o.embed);
    let copy_state = RwSignal::new(None::<bool>);
    let report = move || c.w.with(|w| w.report());
    let copy = move |_| {
        let text = c.w.with_untracked(|w| w.report());
        let Some(win) = web_sys::window() else { return };
        let promise = win.navigator().clipboard().write_text(&text);
        leptos::task::spawn_local(async move {
            let r = wasm_bindgen_futures::JsFuture::from(promise).await;
            copy_state.set(Some(r.is_ok()));
        });
    };
    // A sign-in checked the provider's servers with the address: show what was checked.
    let signed_in = c.w.with_untracked(|w| {
        let side = |r: &Option<SideReport>| {
            r.as_ref().map(|r| {
                let sec = security_label(c.tl(), r.security);
                format!("{} {}:{} ({sec})", r.protocol.label(), r.host, r.port)
            })
        };
        let name = w
            .oauth_offer()
            .map(|o| o.name.clone())
            .or_else(|| {
                w.provider
                    .as_ref()
                    .map(|p| provider_name(p, c.lang.get_untracked()))
            })
            .unwrap_or_default();
        w.signed_in().then(|| {
            let o = w.outcome.as_ref();
            (
                name,
                o.and_then(|o| side(&o.incoming)).unwrap_or_default(),
                o.and_then(|o| side(&o.outgoing)).unwrap_or_default(),
            )
        })
    });
    let summary = c.w.with_untracked(|w| {
        let p: Protocol = w.incoming_protocol.into();
        (
            w.email.trim().to_owned(),
            w.login(),
            format!(
                "{} {}:{} ({})",
                p.label(),
                w.incoming.host.trim(),
                w.incoming.port.trim(),
                security_label(c.tl(), w.incoming.security)
            ),
            format!(
                "SMTP {}:{} ({})",
                w.outgoing.host.trim(),
                w.outgoing.port.trim(),
                security_label(c.tl(), w.outgoing.security)
            ),
        )
    });
    let mut failed: Vec<(bool, SideReport)> = [(false, inc.clone()), (true, out.clone())]
        .into_iter()
        .filter_map(|(o, r)| r.filter(|r| !r.ok).map(|r| (o, r)))
        .collect();
    // The same diagnosis on both sides (a wrong password) is said once.
    let code = |r: &SideReport| r.diagnosis.as_ref().map(|d| d.code);
    let same = failed.len() == 2
        && code(&failed[0].1).is_some()
        && code(&failed[0].1) == code(&failed[1].1);
    if same {
        failed.truncate(1);
    }
    view! {
        <div class="step" data-testid=if ok { "result-ok" } else { "result-failed" }>
            <Heading text=Signal::derive(move || {
                if ok { c.tl().result_ok_h.to_owned() } else { c.tl().result_fail_h.to_owned() }
            }) />
            {if ok {
                let (email, login, incoming, outgoing) = summary;
                let (auth, incoming, outgoing) = match signed_in {
                    Some((name, i, o)) => (Some(name), i, o),
                    None => (None, incoming, outgoing),
                };
                // After a sign-in the login row names the account it used.
                let is_oauth = auth.is_some();
                let login_h = move || {
                    if is_oauth { oauth_tr(c.lang.get()).summary_auth } else { c.tl().summary_login }
                };
                let login_v = move || match &auth {
                    Some(name) => with_name(oauth_tr(c.lang.get()).summary_oauth, name),
                    None => login.clone(),
                };
                view! {
                    <p class="intro">{move || c.tl().result_ok_intro}</p>
                    <dl class="summary-list" data-testid="verified-summary">
                        <dt>{move || c.tl().summary_email}</dt>
                        <dd>{email}</dd>
                        <dt>{login_h}</dt>
                        <dd data-testid="summary-login" data-auth=if is_oauth { "oauth2" } else { "password" }>
                            {login_v}
                        </dd>
                        <dt>{move || c.tl().incoming}</dt>
                        <dd class="mono">{incoming}</dd>
                        <dt>{move || c.tl().outgoing}</dt>
                        <dd class="mono">{outgoing}</dd>
                    </dl>
                    <Show
                        when=move || sent.get()
                        fallback=move || view! {
                            <div class="nav">
                                <button
                                    type="button"
                                    class="primary"
                                    data-testid="done"
                                    on:click=move |_| finish(c)
                                >
                                    {move || c.tl().done}
                                </button>
                                <BackButton />
                            </div>
                        }
                    >
                        <div class="notice ok final" data-testid="final">
                            <p>{move || if embed { c.tl().done_embed } else { c.tl().done_note }}</p>
                        </div>
                    </Show>
                    <p class="sr-only" role="status" data-testid="done-status">
                        {move || {
                            if sent.get() {
                                if embed { c.tl().done_embed } else { c.tl().done_note }
                            } else {
                                ""
                            }
                        }}
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <div role="alert" class="diagnoses">
                        {failed
                            .into_iter()
                            .map(|(o, r)| view! { <DiagnosisCard outgoing=o report=r both=same /> })
                            .collect_view()}
                    </div>
                    <div class="nav">
                        <button
                            type="button"
                            class="secondary"
                            data-testid="back"
                            on:click=move |_| go_back(c)
                        >
                            {move || c.t().back}
                        </button>
                    </div>
                }
                    .into_any()
            }}
            <details class="checked" prop:open=!ok>
                <summary class="details-h" data-testid="details">{move || c.tl().details}</summary>
                <div class="sides">
                    <StepList outgoing=false report=inc />
                    <StepList outgoing=true report=out />
                </div>
            </details>
            <div class="report">
                <label for="report">
                    {move || {
                        if c.w.with(|w| w.signed_in()) {
                            oauth_tr(c.lang.get()).report_label
                        } else {
                            c.tl().report_label
                        }
                    }}
                </label>
                <textarea id="report" data-testid="report" readonly rows="8" prop:value=report></textarea>
                <button type="button" class="secondary" data-testid="copy-report" on:click=copy>
                    {move || c.tl().copy_report}
                </button>
                <p class="status" role="status" data-testid="copy-status">
                    {move || match copy_state.get() {
                        Some(true) => c.tl().copied,
                        Some(false) => c.tl().copy_failed,
                        None => "",
                    }}
                </p>
            </div>
        </div>
    }
}

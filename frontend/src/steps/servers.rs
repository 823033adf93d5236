//! Step 4: incoming (IMAP recommended, POP3 possible) and outgoing servers: folded under
//! "Advanced" for known providers, open and validated field by field otherwise.

use leptos::prelude::*;
use mailsetup_shared::api::{IncomingProtocol, Protocol, Security};

use crate::app::{ctx, start_check};
use crate::components::{FieldError, Heading, Nav, provider_name};
use crate::i18n::{LaterStrings, with_name};
use crate::rules;
use crate::wizard::{Blocker, Field, Source, Step, Wizard};

/// How a TLS mode is shown.
pub fn security_label(t: &LaterStrings, s: Security) -> &'static str {
    match s {
        Security::Tls => t.sec_tls,
        Security::Starttls => t.sec_starttls,
        Security::None => t.sec_none,
    }
}

fn field_id(f: Field) -> &'static str {
    match f {
        Field::IncomingHost => "in-host",
        Field::IncomingPort => "in-port",
        Field::OutgoingHost => "out-host",
        Field::OutgoingPort => "out-port",
    }
}

fn focus_id(id: &'static str) {
    request_animation_frame(move || {
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(id))
        {
            use wasm_bindgen::JsCast;
            if let Some(h) = el.dyn_ref::<web_sys::HtmlElement>() {
                let _ = h.focus();
            }
        }
    });
}

/// One side's host, port and TLS fields.
#[component]
fn Side(outgoing: bool) -> impl IntoView {
    let c = ctx();
    let (hf, pf) = if outgoing {
        (Field::OutgoingHost, Field::OutgoingPort)
    } else {
        (Field::IncomingHost, Field::IncomingPort)
    };
    let prefix = if outgoing { "out" } else { "in" };
    let get = move |w: &Wizard| {
        if outgoing {
            w.outgoing.clone()
        } else {
            w.incoming.clone()
        }
    };
    let form = Memo::new(move |_| c.w.with(get));
    let err = move |f: Field| {
        Signal::derive(move || {
            let lang = c.lang.get();
            c.w.with(|w| {
                let value = match f {
                    Field::IncomingHost => &w.incoming.host,
                    Field::IncomingPort => &w.incoming.port,
                    Field::OutgoingHost => &w.outgoing.host,
                    Field::OutgoingPort => &w.outgoing.port,
                };
                let show =
                    !value.trim().is_empty() || matches!(w.blocker, Some(Blocker::Server(_)));
                w.field_error(f)
                    .filter(|_| show)
                    .map(|t| t.get(lang).to_owned())
            })
        })
    };
    let host_err = err(hf);
    let port_err = err(pf);
    let host_label = move || {
        let t = c.tl();
        if outgoing {
            t.smtp_server
        } else if c.w.with(|w| w.incoming_protocol == IncomingProtocol::Pop3) {
            t.pop_server
        } else {
            t.imap_server
        }
    };
    let sec_id = format!("{prefix}-sec");
    let options = [Security::Tls, Security::Starttls, Security::None];
    view! {
        <div class="row">
            <div class="field grow">
                <label for=field_id(hf)>{host_label}</label>
                <input
                    id=field_id(hf)
                    type="text"
                    inputmode="url"
                    autocapitalize="off"
                    spellcheck="false"
                    data-testid=field_id(hf)
                    aria-describedby=format!("{}-error", field_id(hf))
                    aria-invalid=move || host_err.get().is_some().to_string()
                    prop:value=move || form.get().host
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        c.w.update(|w| {
                            if outgoing { w.outgoing.host = v } else { w.incoming.host = v }
                            w.servers_edited = true;
                            clear_server_blocker(w);
                        });
                    }
                />
                <FieldError id=field_id(hf) message=host_err />
            </div>
            <div class="field port">
                <label for=field_id(pf)>{move || c.tl().port}</label>
                <input
                    id=field_id(pf)
                    type="text"
                    inputmode="numeric"
                    data-testid=field_id(pf)
                    aria-describedby=format!("{}-error", field_id(pf))
                    aria-invalid=move || port_err.get().is_some().to_string()
                    prop:value=move || form.get().port
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        c.w.update(|w| {
                            if outgoing { w.outgoing.port = v } else { w.incoming.port = v }
                            w.servers_edited = true;
                            clear_server_blocker(w);
                        });
                    }
                />
                <FieldError id=field_id(pf) message=port_err />
            </div>
            <div class="field sec">
                <label for=sec_id.clone()>{move || c.tl().security}</label>
                <select
                    id=sec_id.clone()
                    data-testid=sec_id
                    on:change=move |ev| {
                        let s = match event_target_value(&ev).as_str() {
                            "starttls" => Security::Starttls,
                            "none" => Security::None,
                            _ => Security::Tls,
                        };
                        c.w.update(|w| {
                            w.set_security(outgoing, s);
                            w.servers_edited = true;
                        });
                    }
                >
                    {options
                        .into_iter()
                        .map(|s| {
                            view! {
                                <option
                                    value=s.as_str()
                                    prop:selected=move || form.get().security == s
                                >
                                    {move || security_label(c.tl(), s)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
        </div>
        <ul class="warnings" aria-live="polite" data-testid=format!("{prefix}-warnings")>
            {move || {
                let lang = c.lang.get();
                let f = form.get();
                let proto = if outgoing {
                    Protocol::Smtp
                } else {
                    c.w.with(|w| w.incoming_protocol.into())
                };
                rules::server_warnings(proto, &f.host, &f.port, f.security)
                    .into_iter()
                    .map(|t| view! { <li>{t.get(lang).to_owned()}</li> })
                    .collect_view()
            }}
        </ul>
    }
}

fn clear_server_blocker(w: &mut Wizard) {
    if matches!(w.blocker, Some(Blocker::Server(_))) && w.blocker_here().is_none() {
        w.blocker = None;
    }
}

/// The whole form (both sides, protocol, user name).
#[component]
fn ServerForm() -> impl IntoView {
    let c = ctx();
    let proto = Memo::new(move |_| c.w.with(|w| w.incoming_protocol));
    let radio = move |p: IncomingProtocol, id: &'static str| {
        view! {
            <label class="radio" for=id>
                <input
                    type="radio"
                    name="protocol"
                    id=id
                    data-testid=id
                    value=Protocol::from(p).as_str()
                    prop:checked=move || proto.get() == p
                    on:change=move |_| {
                        c.w.update(|w| {
                            w.set_incoming_protocol(p);
                            w.servers_edited = true;
                        })
                    }
                />
                {move || {
                    let t = c.tl();
                    if p == IncomingProtocol::Imap { t.imap_recommended } else { t.pop3 }
                }}
            </label>
        }
    };
    view! {
        <fieldset class="side">
            <legend>{move || c.tl().incoming}</legend>
            <fieldset class="radios">
                <legend class="small-legend">{move || c.tl().protocol}</legend>
                {radio(IncomingProtocol::Imap, "proto-imap")}
                {radio(IncomingProtocol::Pop3, "proto-pop3")}
                <p class="hint" data-testid="pop-note">{move || c.tl().pop_note}</p>
            </fieldset>
            <Side outgoing=false />
        </fieldset>
        <fieldset class="side">
            <legend>{move || c.tl().outgoing}</legend>
            <Show when=move || {
                c.w.with(|w| w.source != Source::Provider && w.outgoing.host.trim() != w.incoming.host.trim())
            }>
                <button
                    type="button"
                    class="secondary"
                    data-testid="same-as-incoming"
                    on:click=move |_| {
                        c.w.update(|w| {
                            w.outgoing.host = w.incoming.host.trim().to_owned();
                            w.servers_edited = true;
                            clear_server_blocker(w);
                        })
                    }
                >
                    {move || c.tl().same_as_incoming}
                </button>
            </Show>
            <Side outgoing=true />
        </fieldset>
        <div class="field">
            <label for="username">{move || c.tl().username}</label>
            <input
                id="username"
                type="text"
                autocapitalize="off"
                spellcheck="false"
                data-testid="username"
                aria-describedby="username-hint"
                prop:value=move || c.w.with(|w| w.login())
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    c.w.update(|w| w.username = v);
                }
            />
            <p class="hint" id="username-hint">{move || c.tl().username_hint}</p>
        </div>
    }
}

/// The servers screen.
#[component]
pub fn Servers() -> impl IntoView {
    let c = ctx();
    let folded = c.w.with_untracked(|w| w.servers_folded());
    let provider = c.w.with_untracked(|w| w.provider.clone());
    let name = move || {
        provider
            .as_ref()
            .map(|p| provider_name(p, c.lang.get()))
            .unwrap_or_default()
    };
    let open = RwSignal::new(!folded);
    let summary = move || {
        let t = c.tl();
        c.w.with(|w| {
            let p: Protocol = w.incoming_protocol.into();
            format!(
                "{}: {} {}:{} ({}) · {}: SMTP {}:{} ({})",
                t.incoming,
                p.label(),
                w.incoming.host,
                w.incoming.port,
                security_label(t, w.incoming.security),
                t.outgoing,
                w.outgoing.host,
                w.outgoing.port,
                security_label(t, w.outgoing.security)
            )
        })
    };
    view! {
        <form
            class="step"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                c.w.update(|w| {
                    w.advance();
                });
                let (step, blocker) = c.w.with_untracked(|w| (w.step, w.blocker.clone()));
                if step == Step::Test {
                    start_check(c);
                } else if let Some(Blocker::Server(f)) = blocker {
                    open.set(true);
                    focus_id(field_id(f));
                }
            }
        >
            <Heading text=Signal::derive(move || c.tl().servers_h.to_owned()) />
            {if folded {
                view! {
                    <p class="intro">{
                        let n = name.clone();
                        move || with_name(c.tl().servers_known, &n())
                    }</p>
                    <p class="summary" data-testid="servers-summary">{summary}</p>
                    <details
                        class="advanced"
                        data-testid="advanced"
                        prop:open=move || open.get()
                        on:toggle=move |ev| {
                            use wasm_bindgen::JsCast;
                            if let Some(d) = ev
                                .target()
                                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                            {
                                open.try_set(d.has_attribute("open"));
                            }
                        }
                    >
                        <summary>{move || c.tl().advanced}</summary>
                        <ServerForm />
                    </details>
                }
                    .into_any()
            } else {
                view! {
                    <p class="intro">{move || c.tl().servers_unknown}</p>
                    <ServerForm />
                }
                    .into_any()
            }}
            <Nav label=Signal::derive(move || c.tl().check.to_owned()) />
        </form>
    }
}

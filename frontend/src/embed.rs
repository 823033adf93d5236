//! Talking to the host app: `mailsetup:verified` (once per verified result) and
//! `mailsetup:cancelled`, as `postMessage` to the loader's page in embed mode (only to the
//! origin it named) or as DOM events on the document when the wizard is the whole page.
//! Messages are [`HostMessage`]s written by serde.

use leptos::prelude::*;

use crate::HostMessage;
use crate::ui::{Ctx, cancel_inflight};
use crate::wizard::Verified;

fn post_to_parent(c: Ctx, kind: &str, detail: Option<&Verified>) {
    let opts = c.opts.get_value();
    let Some(window) = web_sys::window() else {
        return;
    };
    let event = format!("mailsetup:{kind}");
    if opts.embed {
        let Some(origin) = opts.parent_origin.clone() else {
            return;
        };
        // Only talk to the origin the loader named, and only when that is really who framed
        // us (the referrer carries the embedding page's origin).
        let referrer = window.document().map(|d| d.referrer()).unwrap_or_default();
        if !referrer.is_empty() && !crate::same_origin(&referrer, &origin) {
            return;
        }
        let Ok(Some(parent)) = window.parent() else {
            return;
        };
        let msg = HostMessage::new(&event, opts.frame.as_deref(), detail);
        let Ok(text) = serde_json::to_string(&msg) else {
            return;
        };
        if let Ok(v) = js_sys::JSON::parse(&text) {
            let _ = parent.post_message(&v, &origin);
        }
    } else if let Some(doc) = window.document() {
        let init = web_sys::CustomEventInit::new();
        init.set_bubbles(true);
        if let Some(v) = serde_json::to_string(&detail)
            .ok()
            .and_then(|text| js_sys::JSON::parse(&text).ok())
        {
            init.set_detail(&v);
        }
        if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(&event, &init) {
            let _ = doc.dispatch_event(&ev);
        }
    }
}

/// "Done": hands the verified settings to the host app, once per verified result; the
/// password or the sign-in's tokens only when the host opted in.
pub fn finish(c: Ctx) {
    if !c.w.try_update(|w| w.take_verified_send()).unwrap_or(false) {
        return;
    }
    let with_secret = c.opts.with_value(|o| o.return_credentials);
    let detail = c.w.with_untracked(|w| w.verified(with_secret));
    post_to_parent(c, "verified", detail.as_ref());
}

/// "Cancel" in embed mode: tells the host app the user gave up.
pub fn cancel_widget(c: Ctx) {
    cancel_inflight(c);
    post_to_parent(c, "cancelled", None);
}

//! Talking to the host app: `mailsetup:verified` (once per verified result) and
//! `mailsetup:cancelled`, as `postMessage` to the loader's page in embed mode (only to the
//! origin it named) or as DOM events on the document when the wizard is the whole page.

use leptos::prelude::*;

use crate::app::{Ctx, cancel_inflight};

fn post_to_parent(c: Ctx, kind: &str, detail: Option<String>) {
    let opts = c.opts.get_value();
    let Some(window) = web_sys::window() else {
        return;
    };
    let event = format!("mailsetup:{kind}");
    let detail_json = detail.unwrap_or_else(|| "null".to_owned());
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
        let frame = serde_json::to_string(&opts.frame).unwrap_or_else(|_| "null".into());
        let msg = format!(
            r#"{{"source":"mailsetup","type":"{event}","frame":{frame},"detail":{detail_json}}}"#
        );
        if let Ok(v) = js_sys::JSON::parse(&msg) {
            let _ = parent.post_message(&v, &origin);
        }
    } else if let Some(doc) = window.document() {
        let init = web_sys::CustomEventInit::new();
        init.set_bubbles(true);
        if let Ok(v) = js_sys::JSON::parse(&detail_json) {
            init.set_detail(&v);
        }
        if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(&event, &init) {
            let _ = doc.dispatch_event(&ev);
        }
    }
}

/// "Done": hands the verified settings to the host app, once per verified result.
pub fn finish(c: Ctx) {
    if !c.w.try_update(|w| w.take_verified_send()).unwrap_or(false) {
        return;
    }
    let with_pw = c.opts.with_value(|o| o.return_password);
    let detail =
        c.w.with_untracked(|w| w.verified(with_pw))
            .and_then(|v| serde_json::to_string(&v).ok());
    post_to_parent(c, "verified", detail);
}

/// "Cancel" in embed mode: tells the host app the user gave up.
pub fn cancel_widget(c: Ctx) {
    cancel_inflight(c);
    post_to_parent(c, "cancelled", None);
}

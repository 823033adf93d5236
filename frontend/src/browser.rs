//! The wizard's ties to the browser outside the page: one history entry per step (so Back
//! and Forward move between steps) and the flow's non-secret state in `sessionStorage`
//! (so a reload does not start over).
//!
//! Invariant: only [`Saved`] is written to storage, and it has no password or token.

use std::cell::RefCell;

use wasm_bindgen::JsValue;

use crate::wizard::{Saved, Step};

thread_local! {
    /// The steps of the history entries this page made, by their index (`None`: an
    /// entry from before a reload), and the index of the current one.
    static ENTRIES: RefCell<(Vec<Option<Step>>, usize)> = const { RefCell::new((Vec::new(), 0)) };
}

/// The key of the saved state: one per page address, so two embeds (or two options sets)
/// never share a state.
fn storage_key() -> Option<String> {
    let loc = web_sys::window()?.location();
    Some(format!(
        "mailsetup:{}{}",
        loc.pathname().ok()?,
        loc.search().ok()?
    ))
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// How this page was loaded (`navigate`, `reload`, `back_forward`), from the Navigation
/// Timing entry.
fn navigation_type() -> Option<String> {
    use wasm_bindgen::JsCast;
    let window: JsValue = web_sys::window()?.into();
    let perf = js_sys::Reflect::get(&window, &JsValue::from_str("performance")).ok()?;
    let by_type: js_sys::Function =
        js_sys::Reflect::get(&perf, &JsValue::from_str("getEntriesByType"))
            .ok()?
            .dyn_into()
            .ok()?;
    let entries: js_sys::Array = by_type
        .call1(&perf, &JsValue::from_str("navigation"))
        .ok()?
        .dyn_into()
        .ok()?;
    js_sys::Reflect::get(&entries.get(0), &JsValue::from_str("type"))
        .ok()?
        .as_string()
}

/// The state saved by an earlier load of this page in this tab, as written (decoded in
/// the chunk, `crate::ui`), when this load is a reload or a return through the history (a
/// phone reloading the tab counts), or `always` (the tab comes back from the provider's
/// sign-in page); opening the page anew starts a new flow.
pub fn saved_text(always: bool) -> Option<String> {
    if !always && navigation_type().is_some_and(|t| t == "navigate") {
        return None;
    }
    storage()?.get_item(&storage_key()?).ok().flatten()
}

/// Keeps the flow's non-secret state for a reload. Storage may be full or refused
/// (private modes): the wizard then simply starts over on reload.
pub fn save(saved: &Saved) {
    let (Some(store), Some(key), Ok(text)) =
        (storage(), storage_key(), serde_json::to_string(saved))
    else {
        return;
    };
    let _ = store.set_item(&key, &text);
}

fn history() -> Option<web_sys::History> {
    web_sys::window()?.history().ok()
}

fn state_of(index: usize, step: Step) -> JsValue {
    let text = format!(
        r#"{{"mailsetup":true,"index":{index},"step":"{}"}}"#,
        step.as_str()
    );
    js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL)
}

/// The index and step of a history state this page wrote.
pub fn parse_state(state: &JsValue) -> Option<(usize, Step)> {
    let get = |k: &str| js_sys::Reflect::get(state, &JsValue::from_str(k)).ok();
    if !get("mailsetup")?.is_truthy() {
        return None;
    }
    let index = get("index")?.as_f64()?;
    let step = Step::from_name(&get("step")?.as_string()?)?;
    (index >= 0.0).then_some((index as usize, step))
}

/// The step of the current history entry, when this page wrote it.
pub fn current_entry() -> Option<Step> {
    let state = history()?.state().ok()?;
    parse_state(&state).map(|(_, s)| s)
}

/// Marks the entry the page was loaded in (a reload keeps its index) as `step`.
pub fn init_history(step: Step) {
    let Some(h) = history() else { return };
    let index = h
        .state()
        .ok()
        .and_then(|s| parse_state(&s))
        .map_or(0, |(i, _)| i);
    let _ = h.replace_state(&state_of(index, step), "");
    ENTRIES.with(|e| {
        let mut e = e.borrow_mut();
        e.0 = vec![None; index];
        e.0.push(Some(step));
        e.1 = index;
    });
}

/// A new entry for `step` (the wizard moved forward or jumped).
pub fn push(step: Step) {
    let Some(h) = history() else { return };
    let index = ENTRIES.with(|e| e.borrow().1 + 1);
    if h.push_state(&state_of(index, step), "").is_ok() {
        ENTRIES.with(|e| {
            let mut e = e.borrow_mut();
            e.0.truncate(index);
            e.0.resize(index, None);
            e.0.push(Some(step));
            e.1 = index;
        });
    }
}

/// The current entry now stands for `step` (the result replaces the running check, and a
/// history step the flow cannot show is corrected).
pub fn replace(step: Step) {
    let Some(h) = history() else { return };
    let index = ENTRIES.with(|e| e.borrow().1);
    if h.replace_state(&state_of(index, step), "").is_ok() {
        ENTRIES.with(|e| {
            if let Some(slot) = e.borrow_mut().0.get_mut(index) {
                *slot = Some(step);
            }
        });
    }
}

/// The browser moved to an entry (Back/Forward): remember where we are.
pub fn moved_to(index: usize, step: Step) {
    ENTRIES.with(|e| {
        let mut e = e.borrow_mut();
        if e.0.len() <= index {
            e.0.resize(index + 1, None);
        }
        e.0[index] = Some(step);
        e.1 = index;
    });
}

/// Goes back one history entry when it is `step`: the wizard's own Back button then
/// behaves like the browser's instead of piling up entries. Returns whether it did.
pub fn back_to(step: Step) -> bool {
    let prev = ENTRIES.with(|e| {
        let e = e.borrow();
        e.1.checked_sub(1)
            .and_then(|i| e.0.get(i).copied().flatten())
    });
    if prev != Some(step) {
        return false;
    }
    history().is_some_and(|h| h.back().is_ok())
}

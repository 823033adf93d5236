//! Mounts the mailsetup wizard on the page's body and removes the static "Loading" line.

fn main() {
    #[cfg(target_arch = "wasm32")]
    {
        mailsetup_shared::idn::set_to_ascii(browser_to_ascii);
        if let Some(el) = leptos::prelude::document().get_element_by_id("loading") {
            el.remove();
        }
        leptos::mount::mount_to_body(mailsetup_frontend::App);
    }
}

/// The browser's own IDNA (UTS 46) conversion, through its URL parser: the host of
/// `http://NAME/`. `mailsetup_shared::idn` only passes names without URL delimiters.
#[cfg(target_arch = "wasm32")]
fn browser_to_ascii(name: &str) -> Option<String> {
    web_sys::Url::new(&format!("http://{name}/"))
        .ok()
        .map(|url| url.hostname())
}

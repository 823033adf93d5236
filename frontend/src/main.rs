//! Mounts the mailsetup wizard on the page's body and removes the static "Loading" line.

fn main() {
    #[cfg(target_arch = "wasm32")]
    {
        if let Some(el) = leptos::prelude::document().get_element_by_id("loading") {
            el.remove();
        }
        leptos::mount::mount_to_body(mailsetup_frontend::App);
    }
}

//! Mounts the mailsetup wizard on the page's body.

fn main() {
    leptos::mount::mount_to_body(mailsetup_frontend::App);
}

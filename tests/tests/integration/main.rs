//! The one integration-test binary, one module per area (one link step for all).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod api;
mod browser;
mod check;
mod check_dns;
mod check_oauth;
mod discover;
mod edge;
mod harness;
mod i18n;
mod ispdb;
mod oauth;
mod oauth_harness;
mod oauth_scale;
mod openapi;
mod postfix;
mod providers;
mod replicas;
mod secrets;
mod size;
mod slow_clients;
mod store;

use std::path::Path;

use mailsetup_proxy::{AppState, Config};
use mailsetup_tests::mail::MailServers;

/// An empty static-files folder, for tests that need no front end.
pub fn empty_dist() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("mailsetup-empty-dist");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The proxy configuration the end-to-end tests use: static files from `dist`, and the
/// loopback test servers allowed as targets (their CA trusted, any port).
pub fn test_config(dist: &Path, mail: &MailServers) -> Config {
    let mut config = Config::for_tests(dist);
    config.allow_private_targets = true;
    config.allow_any_port = true;
    config.allow_plaintext = true;
    config.extra_ca = vec![mail.ca_pem.clone()];
    // Discovery against the loopback DNS/web fixtures and this Dovecot's ports.
    let disc = mailsetup_tests::discovery::Fixture::shared(mail);
    let settings = disc.settings(std::time::Duration::from_secs(8));
    config.dns_server = settings.dns_server;
    config.ispdb_url = settings.ispdb_url;
    config
}

/// The ports of the shared discovery fixtures (web server, Dovecot), which a
/// [`test_config`]'s discovery probes instead of the standard ones.
pub fn discover_ports() -> mailsetup_proxy::discover::DiscoverPorts {
    let disc = mailsetup_tests::discovery::Fixture::shared(MailServers::shared());
    disc.settings(std::time::Duration::from_secs(8)).ports
}

/// The proxy's state for a [`test_config`]: discovery probes the fixtures' ports.
pub fn test_state(config: Config) -> AppState {
    AppState::with_discover_ports(config, discover_ports()).expect("proxy state")
}

//! The one integration-test binary, one module per area (one link step for all).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod api;
mod browser;
mod harness;

use std::path::Path;

use mailsetup_proxy::Config;
use mailsetup_tests::mail::MailServers;

/// The proxy configuration the end-to-end tests use: static files from `dist`, and the
/// loopback test servers allowed as targets (their CA trusted, any port).
pub fn test_config(dist: &Path, mail: &MailServers) -> Config {
    let _ = mail;
    Config::for_tests(dist)
}

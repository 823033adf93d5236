//! Test harness for mailsetup: real mail servers on loopback (Dovecot in [`mail`], Postfix
//! in [`postfix`]), their certificates ([`certs`]) and the proxy served on a real socket
//! ([`proxy`]), for the integration and browser tests and the benchmarks.

#![warn(missing_docs)]

pub mod binary;
pub mod certs;
pub mod discovery;
pub mod dns;
pub mod fake;
pub mod http;
pub mod mail;
pub mod nginx;
pub mod oidc;
pub mod postfix;
pub mod proxy;
pub mod redis;
pub mod watchdog;
pub mod web;

/// The workspace root (where Cargo.toml, dist/ and build/ live).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(
            || std::path::PathBuf::from("."),
            std::path::Path::to_path_buf,
        )
}

//! The wasm32 build's environment: the toolchain route ([`wasm_env`], used by every wasm32
//! build) and the size flags of the release build (issue 15), in one place: the standard library
//! is rebuilt for the front end with the options that drop what a browser page never uses.
//!
//! - `-Zbuild-std=std,panic_abort` with `-Zbuild-std-features=optimize_for_size`: std,
//!   core and alloc compiled with the module's own `opt-level = "z"` and LTO, and their
//!   size-over-speed code paths (the prebuilt std is built for speed);
//! - `-Zunstable-options -Cpanic=immediate-abort` (rustc 1.95's form; before it was the std
//!   feature `panic_immediate_abort`): a panic traps at once, without formatting its message
//!   or running a hook. The front end installs no panic hook (`frontend/src/main.rs`), and
//!   on wasm32-unknown-unknown the default hook writes to a stderr that goes nowhere, so
//!   a panic already showed nothing on the page and only a trap in the console: the same
//!   as now, minus the message formatting and the panic strings;
//! - `-Zlocation-detail=none`: no file/line/column of panics in the data;
//! - `-Zfmt-debug=none`: `{:?}` prints nothing. No text the user sees and no wire value
//!   is built with `Debug` in the front end or `shared` (they use `Display`/`as_str`); the
//!   one `{:?}` in the wasm, of a failed `fetch`'s JS error, is never shown.
//!
//! These are unstable options, enabled with `RUSTC_BOOTSTRAP=1` on a stable toolchain (the
//! Debian route builds std from source that way already). They need std's sources: rustup's
//! `rust-src` component, or Debian's `rust-web-src` (`setup.rs` provides one of them).
//! Building std costs about 70 s on 2 cores once per target folder. Development builds
//! (Trunk) do not get these flags.

use std::ffi::OsString;
use std::process::Command;

use crate::setup::{DEBIAN_TOOLCHAIN, Toolchain};

/// Points a command at the right toolchain for wasm32.
pub fn wasm_env(cmd: &mut Command, toolchain: Toolchain) -> &mut Command {
    match toolchain {
        Toolchain::Rustup => cmd,
        // Debian's rustc-web has no prebuilt wasm32 std: cargo builds it from the sources
        // in /usr/lib/rustlib/src (build-std is unstable, hence RUSTC_BOOTSTRAP).
        Toolchain::Debian => {
            if let Some(linker) = crate::setup::wasm_linker() {
                cmd.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", linker);
            }
            cmd.env("RUSTUP_TOOLCHAIN", DEBIAN_TOOLCHAIN)
                .env("RUSTC_BOOTSTRAP", "1")
                .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
        }
    }
}

/// Rust flags added to the release build's own (`RUSTFLAGS`, if the command has them).
const RUSTFLAGS: &str =
    "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none";

/// Gives the release wasm build `cmd` (a `cargo build` already pointed at its toolchain by
/// [`wasm_env`]) the size flags above.
pub fn size(cmd: &mut Command) -> &mut Command {
    let mut flags = cmd
        .get_envs()
        .find(|(k, _)| *k == "RUSTFLAGS")
        .and_then(|(_, v)| v.map(OsString::from))
        .unwrap_or_default();
    if !flags.is_empty() {
        flags.push(" ");
    }
    flags.push(RUSTFLAGS);
    cmd.env("RUSTFLAGS", flags)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
        .env("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_added_to_the_builds_own() {
        let mut cmd = Command::new("cargo");
        cmd.env("RUSTFLAGS", "--cfg a");
        size(&mut cmd);
        let flags = cmd
            .get_envs()
            .find(|(k, _)| *k == "RUSTFLAGS")
            .and_then(|(_, v)| v)
            .map(|v| v.to_string_lossy().into_owned());
        assert_eq!(flags, Some(format!("--cfg a {RUSTFLAGS}")));
    }
}

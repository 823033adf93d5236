//! Builds for wasm32: the front end (release builds split into chunks by `release.rs` into
//! `dist/`; development builds with Trunk into `target/dist-dev/`, Trunk.toml's folder, so
//! they never replace the release build), and a check that `shared` alone builds for
//! wasm32 (it must never grow I/O).

use std::process::Command;

use crate::setup::Toolchain;
use crate::wasm_flags::wasm_env;
use crate::{exec, step};

/// The folder of release builds, which the proxy serves by default.
pub const RELEASE_DIST: &str = "dist";

/// The front end: a release build split into chunks (`release.rs`) into
/// [`RELEASE_DIST`], or a development build with `trunk build` into Trunk.toml's
/// `target/dist-dev`.
pub fn build(toolchain: Toolchain, release: bool) -> anyhow::Result<()> {
    if release {
        return crate::release::build(toolchain, &crate::workspace_root().join(RELEASE_DIST));
    }
    step(&format!(
        "building the front end with Trunk (development build, {toolchain:?} wasm32 toolchain)"
    ));
    let mut cmd = Command::new("trunk");
    cmd.arg("build").arg("--offline");
    // npm's wasm-opt 132 first on PATH: Trunk takes it instead of downloading one.
    let bin = crate::workspace_root()
        .join(crate::setup::WASM_OPT_DIR)
        .join("node_modules/.bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(&path));
    cmd.env("PATH", std::env::join_paths(dirs)?);
    exec(wasm_env(&mut cmd, toolchain))
}

/// `shared` alone for wasm32 (it must never grow I/O), then clippy of `shared` and
/// `frontend` for wasm32 where the toolchain has clippy (rustup's; Debian's rustc-web has
/// none, so that route checks with `cargo check`).
pub fn check_shared_wasm(toolchain: Toolchain) -> anyhow::Result<()> {
    step("cargo check -p mailsetup-shared --target wasm32-unknown-unknown");
    let mut cmd = Command::new("cargo");
    cmd.args([
        "check",
        "--quiet",
        "-p",
        "mailsetup-shared",
        "--target",
        "wasm32-unknown-unknown",
    ]);
    exec(wasm_env(&mut cmd, toolchain))?;
    let mut cmd = Command::new("cargo");
    match toolchain {
        Toolchain::Rustup => {
            step("clippy of shared and frontend for wasm32 (warnings are errors)");
            cmd.args(["clippy", "--quiet"]);
        }
        Toolchain::Debian => {
            step("cargo check of shared and frontend for wasm32 (no clippy on this route)");
            cmd.args(["check", "--quiet"]);
        }
    }
    cmd.args([
        "-p",
        "mailsetup-shared",
        "-p",
        "mailsetup-frontend",
        "--target",
        "wasm32-unknown-unknown",
    ]);
    if toolchain == Toolchain::Rustup {
        cmd.args(["--", "-D", "warnings"]);
    }
    exec(wasm_env(&mut cmd, toolchain))
}

//! Front-end load benchmark: serves the release build in `dist/` through the real proxy on
//! loopback and runs `tests/browser/bench-load.mjs` (headless Chromium: median of 5 cold
//! loads to a usable first step, on loopback and under a throttled profile, and a repeat
//! visit). Prints a Markdown table and writes `build/bench-load.json`.
//!
//! `cargo run --release -p mailsetup-tests --bin bench-load [DIST]` after `cargo xtask
//! build-web` (`cargo xtask bench` runs it with the others); DIST (default: the workspace's
//! `dist/`) compares another build, e.g. an older one kept elsewhere.

use std::process::Command;

use anyhow::{Context as _, bail};
use mailsetup_proxy::Config;
use mailsetup_tests::proxy::RunningProxy;
use mailsetup_tests::workspace_root;

fn main() -> anyhow::Result<()> {
    let root = workspace_root();
    let dist = std::env::args_os()
        .nth(1)
        .map_or_else(|| root.join("dist"), std::path::PathBuf::from);
    if !dist.join("index.html").exists() {
        bail!(
            "{} has no build: run `cargo xtask build-web` first",
            dist.display()
        );
    }
    let browser = root.join("tests/browser");
    if !browser.join("node_modules/playwright-core").exists() {
        bail!("playwright-core is missing: run `cargo xtask setup --tests`");
    }
    // The first screen needs no mail server: the proxy alone, serving dist/.
    let proxy = RunningProxy::start(Config::for_tests(&dist)).context("start the proxy")?;
    let status = Command::new("node")
        .arg("bench-load.mjs")
        .current_dir(&browser)
        .env("MAILSETUP_URL", proxy.url())
        .env("MAILSETUP_BENCH_OUT", root.join("build/bench-load.json"))
        .status()
        .context("cannot run node: install Node.js (cargo xtask setup --tests)")?;
    if !status.success() {
        bail!("bench-load.mjs failed ({status})");
    }
    Ok(())
}

//! Front-end load benchmark: serves the built front end (dist/) from the real proxy on
//! loopback and runs `tests/browser/bench.mjs` (headless Chromium through playwright-core):
//! median, min and max time from navigation to the first interactive step over 5 cold
//! loads, and the transferred bytes of wasm, JS and CSS. Writes build/bench-frontend.json.
//!
//! `cargo xtask bench frontend` (after `cargo xtask build-web`), or
//! `cargo run --release -p mailsetup-tests --bin bench-frontend`.

use std::process::Command;

use anyhow::{Context as _, bail};
use mailsetup_proxy::Config;
use mailsetup_tests::proxy::RunningProxy;
use mailsetup_tests::workspace_root;

fn main() -> anyhow::Result<()> {
    let root = workspace_root();
    let dist = root.join("dist");
    if !dist.join("index.html").exists() {
        bail!(
            "{} is missing: build the front end first with `cargo xtask build-web`",
            dist.display()
        );
    }
    let browser_dir = root.join("tests/browser");
    if !browser_dir.join("node_modules/playwright-core").exists() {
        bail!("playwright-core is not installed: run `cargo xtask setup --tests`");
    }
    let proxy = RunningProxy::start(Config::for_tests(&dist)).context("start the proxy")?;
    let out = root.join("build/bench-frontend.json");
    let status = Command::new("node")
        .arg("bench.mjs")
        .current_dir(&browser_dir)
        .env("MAILSETUP_URL", proxy.url())
        .env("MAILSETUP_BENCH_OUT", &out)
        .status()
        .context("cannot run node: install Node.js (cargo xtask setup --tests)")?;
    if !status.success() {
        bail!("the front-end benchmark failed ({status})");
    }
    println!("written to {}", out.display());
    Ok(())
}

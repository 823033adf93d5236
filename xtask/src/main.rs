//! Project automation, run as `cargo xtask <task>` (the alias is in .cargo/config.toml).
//!
//! - `setup [--tests]`: installs what is missing (wasm32 std, Trunk, wasm-bindgen-cli and,
//!   with `--tests`, Dovecot, Chromium and the browser-test npm packages). Every step says
//!   what it does and is skipped when already satisfied.
//! - `build-web [--dev]`: builds the front end with Trunk: release into `dist/`, or with
//!   `--dev` a development build into `target/dist-dev/` (where `trunk serve` builds too).
//! - `run [-- PROXY FLAGS]`: setup, release build of the front end, then the proxy.
//! - `test`: setup --tests, then every check and test of the project.
//! - `ci`: what `.ci/run` calls; the same as `test`.
//! - `bench [NAME...]`: the benchmarks (`tests/src/bin/bench-*.rs`), release mode.

mod precompress;
mod release;
mod setup;
mod wasm_flags;
mod web;

use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map_or("help", String::as_str);
    let rest = args.get(1..).unwrap_or(&[]);
    let root = workspace_root();
    std::env::set_current_dir(&root).context("cannot enter the workspace root")?;
    match task {
        "setup" => setup::run(rest.iter().any(|a| a == "--tests")).map(drop),
        "build-web" => {
            let toolchain = setup::run(false)?;
            web::build(toolchain, !rest.iter().any(|a| a == "--dev"))
        }
        "run" => run(rest),
        "test" | "ci" => test(),
        "bench" => bench(rest),
        _ => {
            println!(
                "usage: cargo xtask <task>\n\n\
                 tasks:\n  \
                 setup [--tests]   install what is missing (and what tests need)\n  \
                 build-web [--dev] build the front end into dist/ (--dev: target/dist-dev/)\n  \
                 run [-- FLAGS]    build everything and start the proxy (flags go to the proxy)\n  \
                 test              install what tests need and run every test\n  \
                 bench [NAME...]   run the benchmarks (bench-check, bench-discover, bench-load) in release mode\n  \
                 ci                the same as test (called by .ci/run)"
            );
            if task == "help" {
                Ok(())
            } else {
                bail!("unknown task {task:?}")
            }
        }
    }
}

fn run(proxy_args: &[String]) -> anyhow::Result<()> {
    let toolchain = setup::run(false)?;
    web::build(toolchain, true)?;
    let proxy_args: Vec<&str> = proxy_args
        .iter()
        .map(String::as_str)
        .skip_while(|a| *a == "--")
        .collect();
    step("starting the proxy (Ctrl-C to stop)");
    let mut cmd = Command::new(cargo());
    cmd.args(["run", "--release", "--quiet", "-p", "mailsetup-proxy", "--"])
        .arg("--static-dir")
        .arg(workspace_root().join(web::RELEASE_DIST))
        .args(&proxy_args);
    exec(&mut cmd)
}

fn test() -> anyhow::Result<()> {
    let started = Instant::now();
    let toolchain = setup::run(true)?;
    let mut timings = Vec::new();
    let mut timed = |name: &str, f: &mut dyn FnMut() -> anyhow::Result<()>| {
        let t = Instant::now();
        step(name);
        let r = f();
        timings.push((name.to_owned(), t.elapsed().as_secs_f64()));
        r.with_context(|| format!("{name} failed"))
    };
    timed("rustfmt: cargo fmt --all --check", &mut || {
        exec(Command::new(cargo()).args(["fmt", "--all", "--check"]))
    })?;
    timed(
        "clippy (host, all targets, warnings are errors)",
        &mut || {
            exec(Command::new(cargo()).args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--quiet",
                "--",
                "-D",
                "warnings",
            ]))
        },
    )?;
    timed(
        "wasm32 check of shared, split release build of the front end",
        &mut || {
            web::check_shared_wasm(toolchain)?;
            web::build(toolchain, true)
        },
    )?;
    timed(
        "cargo test --workspace (unit, integration with real servers, browser)",
        &mut || exec(Command::new(cargo()).args(["test", "--workspace", "--all-targets"])),
    )?;
    println!(
        "\n== xtask test: all passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    for (name, secs) in &timings {
        println!("   {secs:7.1} s  {name}");
    }
    Ok(())
}

/// Runs the benchmark binaries of the tests crate (`tests/src/bin/bench-*.rs`) in release
/// mode against the loopback fixtures; each prints its own table. `bench-load` (the front
/// end's load time in Chromium) gets a fresh release build of the front end first.
fn bench(names: &[String]) -> anyhow::Result<()> {
    let toolchain = setup::run(true)?;
    let mut found: Vec<String> = std::fs::read_dir("tests/src/bin")
        .context("tests/src/bin is missing")?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".rs").map(str::to_owned))
        .filter(|f| f.starts_with("bench-"))
        .filter(|f| names.is_empty() || names.iter().any(|n| f.ends_with(n.as_str())))
        .collect();
    found.sort();
    if found.is_empty() {
        bail!("no benchmark matches {names:?}");
    }
    // bench-capacity runs the proxy binary in a process of its own, to measure its memory.
    step("the proxy binary (release)");
    exec(Command::new(cargo()).args(["build", "--release", "--quiet", "-p", "mailsetup-proxy"]))?;
    // The load benchmark measures the release build of the front end.
    if found.iter().any(|b| b == "bench-load") {
        web::build(toolchain, true)?;
    }
    for bin in found {
        step(&format!("benchmark {bin} (release)"));
        exec(Command::new(cargo()).args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "mailsetup-tests",
            "--bin",
            &bin,
        ]))?;
    }
    Ok(())
}

/// Prints a step heading.
pub fn step(what: &str) {
    println!("\n== {what}");
}

/// Runs a command with inherited output; fails on a non-zero exit.
pub fn exec(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{cmd:?} exited with {status}");
    }
    Ok(())
}

/// Runs a command and returns its trimmed stdout, or `None` if it cannot run or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The cargo that runs this xtask.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// The workspace root: the parent of this crate's folder.
pub fn workspace_root() -> std::path::PathBuf {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

//! Installs what the project needs, each step idempotent, skipped when already satisfied,
//! and saying what it does. The wasm32 standard library comes from rustup when it has or
//! can fetch it, else from Debian's `rustc-web` packages, built from source (see
//! ../shared/TOOLCHAIN.md for why). The release build rebuilds std for size
//! (`wasm_flags.rs`), so it needs std's sources too: rustup's `rust-src`, else the Debian
//! route's `rust-web-src`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail};

use crate::{exec, output, step};

/// Trunk's major.minor series that builds with stable rustc 1.95 (0.22 needs 1.96.1).
const TRUNK_SERIES: &str = "0.21";

/// Debian packages that give a second Rust with the std sources and the wasm linker.
const DEBIAN_WASM_PACKAGES: [&str; 4] = ["rustc-web", "cargo-web", "rust-web-src", "lld-22"];

/// Debian packages the tests need: real mail servers, a real browser, a real DNS server,
/// and the shared-state store and load balancer of the replica tests.
const DEBIAN_TEST_PACKAGES: [&str; 10] = [
    "dovecot-core",
    "dovecot-imapd",
    "dovecot-pop3d",
    "dovecot-submissiond",
    "postfix",
    "chromium",
    "dnsmasq-base",
    "nodejs",
    "redis-server",
    "nginx-light",
];

/// Where npm's binaryen (wasm-opt 132) is installed; `web.rs` puts its `.bin` on PATH.
pub const WASM_OPT_DIR: &str = "xtask/wasm-opt";

/// The name under which Debian's toolchain is linked into rustup.
pub const DEBIAN_TOOLCHAIN: &str = "web-debian";

/// How the wasm32 standard library is provided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toolchain {
    /// rustup's prebuilt `wasm32-unknown-unknown` target.
    Rustup,
    /// Debian's rustc-web, linked into rustup as `web-debian`; std is built from source.
    Debian,
}

/// Installs what is missing; with `tests`, also what the tests need.
pub fn run(tests: bool) -> anyhow::Result<Toolchain> {
    let started = Instant::now();
    step("setup: checking tools (each step is skipped when already satisfied)");
    let toolchain = match std::env::var("MAILSETUP_WASM_ROUTE").ok().as_deref() {
        Some("debian") => {
            println!("- wasm32 std: MAILSETUP_WASM_ROUTE=debian forces the Debian route");
            debian_route()?
        }
        Some("rustup") | None | Some("") => match wasm_target()? {
            Toolchain::Rustup if !rust_src() => {
                println!("  taking the Debian route for the std sources (rust-web-src)");
                debian_route()?
            }
            t => t,
        },
        Some(other) => bail!("MAILSETUP_WASM_ROUTE={other:?}: expected `rustup` or `debian`"),
    };
    trunk()?;
    wasm_bindgen()?;
    npm_ci(
        Path::new(WASM_OPT_DIR),
        "wasm-opt for release builds (npm binaryen 132)",
    )?;
    if tests {
        debian_packages(&DEBIAN_TEST_PACKAGES, "test servers, browser and DNS")?;
        npm_packages()?;
    }
    println!("setup done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(toolchain)
}

fn wasm_target() -> anyhow::Result<Toolchain> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]));
    if installed
        .as_deref()
        .is_some_and(|t| t.lines().any(|l| l.trim() == "wasm32-unknown-unknown"))
    {
        println!("- wasm32 std: rustup's wasm32-unknown-unknown target is installed (skip)");
        return Ok(Toolchain::Rustup);
    }
    if debian_toolchain_ready() {
        println!(
            "- wasm32 std: Debian route already set up (rustc-web linked as rustup toolchain \
             `{DEBIAN_TOOLCHAIN}`, std built from source) (skip)"
        );
        return Ok(Toolchain::Debian);
    }
    println!("- wasm32 std: trying `rustup target add wasm32-unknown-unknown` (45 s limit)");
    if rustup_within("45", &["target", "add", "wasm32-unknown-unknown"]) {
        println!("  took the rustup route");
        return Ok(Toolchain::Rustup);
    }
    println!("  rustup cannot fetch the target here; taking the Debian route");
    debian_route()
}

/// `rustup ARGS` under a time limit of `seconds` (rustup's downloads hang on some
/// machines): whether it succeeded in time.
fn rustup_within(seconds: &str, args: &[&str]) -> bool {
    Command::new("timeout")
        .args([seconds, "rustup"])
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

/// The std sources for the release build, which rebuilds std for size
/// (`wasm_flags.rs`): rustup's `rust-src` component if installed or added within 60 s.
/// False when rustup cannot fetch it; the caller then takes the Debian route, whose
/// `rust-web-src` package holds the sources of its own rustc.
fn rust_src() -> bool {
    let sources = output(Command::new("rustc").args(["--print", "sysroot"]))
        .map(|s| Path::new(&s).join("lib/rustlib/src/rust/library/std"));
    if sources.as_deref().is_some_and(Path::is_dir) {
        println!("- std sources: rustup's rust-src component is installed (skip)");
        return true;
    }
    println!("- std sources: trying `rustup component add rust-src` (60 s limit)");
    let added = rustup_within("60", &["component", "add", "rust-src"]);
    if added {
        println!("  took rustup's rust-src");
    } else {
        println!("  rustup cannot fetch rust-src here");
    }
    added
}

/// Debian's rustc-web linked into rustup, with the wasm linker from lld-22.
fn debian_route() -> anyhow::Result<Toolchain> {
    if debian_toolchain_ready() {
        println!("- Debian wasm toolchain: already set up (skip)");
        return Ok(Toolchain::Debian);
    }
    println!(
        "- Debian wasm toolchain: installing {} (std is then built from source, once)",
        DEBIAN_WASM_PACKAGES.join(" ")
    );
    debian_packages(&DEBIAN_WASM_PACKAGES, "Rust for wasm (rustc-web)")?;
    if !output(Command::new("rustup").args(["toolchain", "list"]))
        .is_some_and(|l| l.lines().any(|t| t.starts_with(DEBIAN_TOOLCHAIN)))
    {
        println!("- linking /usr's rustc-web into rustup as `{DEBIAN_TOOLCHAIN}`");
        exec(Command::new("rustup").args(["toolchain", "link", DEBIAN_TOOLCHAIN, "/usr"]))?;
    }
    if !debian_toolchain_ready() {
        bail!("the Debian wasm toolchain is still not usable after installing it");
    }
    Ok(Toolchain::Debian)
}

fn debian_toolchain_ready() -> bool {
    DEBIAN_WASM_PACKAGES.iter().all(|p| dpkg_installed(p))
        && wasm_linker().is_some()
        && Path::new("/usr/lib/rustlib/src/rust/library").is_dir()
        && output(Command::new("rustup").args(["toolchain", "list"]))
            .is_some_and(|l| l.lines().any(|t| t.starts_with(DEBIAN_TOOLCHAIN)))
}

/// The wasm linker of the Debian route. Debian ships no `rust-lld` (the name rustc looks
/// for by default), so the build points cargo at lld-22's `wasm-ld` instead.
pub fn wasm_linker() -> Option<&'static str> {
    [
        "/usr/bin/rust-lld",
        // rustc recognises the wasm linker by its file name `wasm-ld`.
        "/usr/lib/llvm-22/bin/wasm-ld",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
}

fn trunk() -> anyhow::Result<()> {
    let version = output(Command::new("trunk").arg("--version"));
    if let Some(v) = version
        .as_deref()
        .filter(|v| v.starts_with(&format!("trunk {TRUNK_SERIES}.")))
    {
        println!("- Trunk: {v} (skip)");
        return Ok(());
    }
    println!(
        "- Trunk: installing {TRUNK_SERIES}.x with cargo install (found {}; about 12 minutes \
         on 2 cores, once)",
        version.as_deref().unwrap_or("none")
    );
    exec(Command::new(crate::cargo()).args([
        "install",
        "trunk",
        "--version",
        &format!("~{TRUNK_SERIES}"),
        "--locked",
    ]))
}

/// The `wasm-bindgen` crate version in Cargo.lock; the CLI must match it exactly.
pub fn locked_wasm_bindgen_version() -> anyhow::Result<String> {
    let lock = std::fs::read_to_string("Cargo.lock").context("Cargo.lock missing")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(v) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|l| l.strip_suffix('"'))
        {
            return Ok(v.to_owned());
        }
    }
    bail!("wasm-bindgen is not in Cargo.lock")
}

fn wasm_bindgen() -> anyhow::Result<()> {
    let want = locked_wasm_bindgen_version()?;
    let have = output(Command::new("wasm-bindgen").arg("--version"));
    if have.as_deref() == Some(&format!("wasm-bindgen {want}")) {
        println!("- wasm-bindgen-cli {want}: matches Cargo.lock (skip)");
        return Ok(());
    }
    println!(
        "- wasm-bindgen-cli: installing {want} to match Cargo.lock (found {}; about 7 minutes, once)",
        have.as_deref().unwrap_or("none")
    );
    // Not --locked: its lock file wants a webpki-roots release the registry lacks.
    exec(Command::new(crate::cargo()).args(["install", "wasm-bindgen-cli", "--version", &want]))
}

fn dpkg_installed(package: &str) -> bool {
    output(Command::new("dpkg-query").args(["-W", "-f=${Status}", package]))
        .is_some_and(|s| s.ends_with("install ok installed"))
}

fn debian_packages(packages: &[&str], why: &str) -> anyhow::Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !dpkg_installed(p))
        .collect();
    if missing.is_empty() {
        println!("- Debian packages for {why}: all installed (skip)");
        return Ok(());
    }
    if !Path::new("/usr/bin/apt-get").exists() {
        bail!(
            "missing {}; this is not a Debian-like system: install their equivalents by hand",
            missing.join(" ")
        );
    }
    let sudo = !is_root();
    if sudo && output(Command::new("sudo").args(["-n", "true"])).is_none() {
        bail!(
            "missing Debian packages {}: run `sudo apt-get install -y {}` (or run this as root)",
            missing.join(" "),
            missing.join(" ")
        );
    }
    println!(
        "- Debian packages for {why}: installing {}",
        missing.join(" ")
    );
    let apt = |args: &[&str]| -> anyhow::Result<()> {
        let mut cmd = if sudo {
            let mut c = Command::new("sudo");
            c.arg("-n")
                .arg("env")
                .arg("DEBIAN_FRONTEND=noninteractive")
                .arg("apt-get");
            c
        } else {
            let mut c = Command::new("apt-get");
            c.env("DEBIAN_FRONTEND", "noninteractive");
            c
        };
        exec(cmd.args(args))
    };
    // Keep apt from starting a system-wide Dovecot on ports 110/143/993/995 (or Postfix,
    // Redis on 6379, nginx on 80): the tests run private instances on loopback.
    let policy = Path::new("/usr/sbin/policy-rc.d");
    let made_policy = !sudo && !policy.exists();
    if made_policy {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::write(policy, "#!/bin/sh\nexit 101\n")?;
        std::fs::set_permissions(policy, std::fs::Permissions::from_mode(0o755))?;
    }
    if missing.contains(&"postfix") {
        preseed_postfix(sudo)?;
    }
    let result = apt(&["update", "-q"]).and_then(|()| {
        let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
        args.extend(&missing);
        apt(&args)
    });
    if made_policy {
        let _ = std::fs::remove_file(policy);
    }
    result
}

/// Answers Postfix's install question ("General mailer configuration type") with "No
/// configuration": the tests run their own private instance (tests/src/postfix.rs), and
/// the system gets no mail server of its own.
fn preseed_postfix(sudo: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut cmd = if sudo {
        let mut c = Command::new("sudo");
        c.args(["-n", "debconf-set-selections"]);
        c
    } else {
        Command::new("debconf-set-selections")
    };
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .spawn()
        .context("cannot run debconf-set-selections")?;
    child
        .stdin
        .take()
        .context("no stdin for debconf-set-selections")?
        .write_all(b"postfix postfix/main_mailer_type select No configuration\n")?;
    let status = child.wait()?;
    if !status.success() {
        bail!("debconf-set-selections exited with {status}");
    }
    Ok(())
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).as_deref() == Some("0")
}

fn npm_packages() -> anyhow::Result<()> {
    npm_ci(
        Path::new("tests/browser"),
        "browser tests (playwright-core, no browser download)",
    )?;
    npm_ci(
        Path::new("tests/oidc"),
        "the OAuth 2.0 test server (oidc-provider)",
    )
}

/// `npm ci` in `dir` unless its node_modules is newer than its package-lock.json.
fn npm_ci(dir: &Path, why: &str) -> anyhow::Result<()> {
    if !dir.join("package-lock.json").exists() {
        bail!("{} has no package-lock.json", dir.display());
    }
    let stamp = dir.join("node_modules/.package-lock.json");
    let fresh = match (
        std::fs::metadata(&stamp),
        std::fs::metadata(dir.join("package-lock.json")),
    ) {
        (Ok(s), Ok(l)) => match (s.modified(), l.modified()) {
            (Ok(s), Ok(l)) => s >= l,
            _ => false,
        },
        _ => false,
    };
    if fresh {
        println!("- npm packages for {why}: installed (skip)");
        return Ok(());
    }
    if output(Command::new("npm").arg("--version")).is_none() {
        debian_packages(&["nodejs", "npm"], &format!("npm (needed for {why})"))?;
    }
    println!("- npm packages for {why}: npm ci in {}", dir.display());
    exec(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
    )
}

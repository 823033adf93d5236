//! The release build of the front end, split into a first-screen module and chunks
//! (issue 15), done here rather than by Trunk: Trunk 0.21 cannot split a wasm module, and
//! letting it build and then redoing its wasm would compile the front end twice (its
//! build cannot carry the split's flags without breaking its own wasm-bindgen step). So
//! this module runs what cargo-leptos runs for its `split` builds, step by step:
//!
//! 1. `cargo build` for wasm32 with `--cfg mailsetup_split` (the split points in
//!    `frontend/src/later.rs`) and `-Clink-args=--emit-relocs` (the splitter needs the
//!    relocations), besides the workspace's `--cfg erase_components`;
//! 2. `wasm_split_cli_support::transform`: the main module, one wasm chunk per split point
//!    (plus chunks of code that several of them share) and the JS loader of the chunks;
//! 3. `wasm-bindgen --target web --keep-lld-exports --no-demangle` on the main module (the
//!    chunks link against its exports);
//! 4. npm's `wasm-opt` 132 `-Oz` on every module, npm's `esbuild` `--minify` on the JS glue
//!    and the chunk loader (Trunk's minifier could not parse wasm-bindgen's glue);
//! 5. content-hashed names: one hash of all the outputs names every JS and wasm file
//!    (they refer to each other, the loader and the glue in a circle, so no file's name
//!    can depend only on its own bytes), `style-HASH.css` from the CSS; the proxy serves
//!    them as immutable (`proxy/src/static_files.rs`: `NAME-HASH.EXT`);
//! 6. `index.html` from `frontend/index.html` (Trunk's `data-trunk` links replaced by the
//!    stylesheet, `modulepreload` of the glue and the loader, `preload` of the main
//!    module, the start script), whitespace and comments out; `embed.js` and the
//!    examples copied;
//! 7. `NAME.br` and `NAME.gz` beside every file (`precompress.rs`), which the proxy
//!    serves as they are.
//!
//! Development builds stay with Trunk (`cargo xtask build-web --dev`, `trunk serve`):
//! unsplit, the split points being plain async functions there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

use crate::setup::Toolchain;
use crate::{exec, step, workspace_root};

/// The binary crate of the front end and the name of its glue.
const CRATE: &str = "mailsetup-frontend";

/// The loader's name until the hash is known: as long as a real one (16 hex digits),
/// because the main module names it in an import and is rewritten in place.
const LOADER_PLACEHOLDER: &str = "split-________________.js";

/// Builds the release front end into `dist`.
pub fn build(toolchain: Toolchain, dist: &Path) -> anyhow::Result<()> {
    let root = workspace_root();
    let target_dir =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let work = target_dir.join("web-release");
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("cannot clear {}", work.display()))?;
    }
    let split = work.join("split");
    std::fs::create_dir_all(&split)?;

    step(&format!(
        "cargo build of the front end for wasm32 (split release build, {toolchain:?} toolchain)"
    ));
    // The rustup proxy on PATH (not $CARGO), so that RUSTUP_TOOLCHAIN picks Debian's
    // toolchain on that route, as for Trunk.
    let mut cmd = Command::new("cargo");
    cmd.args([
        "build",
        "--quiet",
        "-p",
        CRATE,
        "--bin",
        CRATE,
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
        "--no-default-features",
    ])
    // RUSTFLAGS replaces .cargo/config.toml's flags for the target: repeat them.
    .env(
        "RUSTFLAGS",
        "--cfg erase_components --cfg mailsetup_split -Clink-args=--emit-relocs",
    );
    exec(crate::wasm_flags::size(crate::wasm_flags::wasm_env(
        &mut cmd, toolchain,
    )))?;
    let raw = target_dir.join(format!("wasm32-unknown-unknown/wasm-release/{CRATE}.wasm"));
    let input = std::fs::read(&raw).with_context(|| format!("cannot read {}", raw.display()))?;

    step("splitting the wasm module (wasm_split_cli_support)");
    let main_split = split.join("main.wasm");
    let main_module = format!("./{CRATE}.js");
    let link_name = format!("./{LOADER_PLACEHOLDER}");
    let mut opts = wasm_split_cli_support::Options::new(&input);
    opts.output_dir = &split;
    opts.main_out_path = &main_split;
    opts.main_module = &main_module;
    opts.link_name = &link_name;
    let out = wasm_split_cli_support::transform(opts)
        .map_err(|e| anyhow::anyhow!("{e:#}"))
        .context("wasm_split_cli_support could not split the module")?;
    let chunks: Vec<PathBuf> = out.split_modules;

    step("wasm-bindgen of the main module");
    exec(
        Command::new("wasm-bindgen")
            .args([
                "--target",
                "web",
                "--keep-lld-exports",
                "--no-demangle",
                "--no-typescript",
                "--out-name",
                CRATE,
                "--out-dir",
            ])
            .arg(&split)
            .arg(&main_split),
    )?;
    std::fs::remove_file(&main_split)?;

    step("wasm-opt -Oz of every module");
    let wasm_opt = root
        .join(crate::setup::WASM_OPT_DIR)
        .join("node_modules/.bin/wasm-opt");
    let main_wasm = split.join(format!("{CRATE}_bg.wasm"));
    // MAILSETUP_WASM_NAMES=1 keeps the name section, for `twiggy` (docs/BENCHMARKS.md).
    let names_kept = std::env::var_os("MAILSETUP_WASM_NAMES").is_some_and(|v| v == "1");
    for module in std::iter::once(&main_wasm).chain(&chunks) {
        exec(
            Command::new(&wasm_opt)
                .args(names_kept.then_some("-g"))
                .args([
                    "-Oz",
                    "--enable-bulk-memory",
                    "--enable-nontrapping-float-to-int",
                    "--enable-sign-ext",
                    "--enable-mutable-globals",
                    "--enable-reference-types",
                    "--enable-multivalue",
                ])
                .arg(module)
                .arg("-o")
                .arg(module),
        )?;
    }

    step("esbuild --minify of the JS glue and the chunk loader");
    let esbuild = root
        .join(crate::setup::WASM_OPT_DIR)
        .join("node_modules/.bin/esbuild");
    for entry in std::fs::read_dir(&split)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "js") {
            // In place: esbuild keeps exports and string literals (the file names the
            // hashing below rewrites), renames locals and drops comments and spaces.
            exec(
                Command::new(&esbuild)
                    .args([
                        "--minify",
                        "--format=esm",
                        "--log-level=warning",
                        "--allow-overwrite",
                    ])
                    .arg(&path)
                    .arg(format!("--outfile={}", path.display())),
            )?;
        }
    }

    step(&format!("writing {}", dist.display()));
    let staged = work.join("dist");
    std::fs::create_dir_all(&staged)?;
    let names = hashed_names(&split, &chunks)?;
    for (from, to) in &names {
        let mut bytes = std::fs::read(split.join(from))?;
        for (a, b) in &names {
            if from.ends_with(".wasm") && a.ends_with(".js") && a.len() != b.len() {
                continue; // only same-length names are rewritten inside a module
            }
            bytes = replace(&bytes, a.as_bytes(), b.as_bytes());
        }
        std::fs::write(staged.join(to), bytes)?;
    }
    let css = minify_css(&std::fs::read_to_string(root.join("frontend/style.css"))?);
    let css_name = format!("style-{}.css", hex_hash(&[css.as_bytes()]));
    std::fs::write(staged.join(&css_name), &css)?;
    let page = std::fs::read_to_string(root.join("frontend/index.html"))?;
    let page = release_page(&page, &names, &css_name)?;
    std::fs::write(staged.join("index.html"), page)?;
    std::fs::copy(
        root.join("frontend/public/embed.js"),
        staged.join("embed.js"),
    )?;
    copy_dir(&root.join("frontend/examples"), &staged.join("examples"))?;
    step("brotli 11 and gzip -9 copies of every file (precompress.rs)");
    let started = std::time::Instant::now();
    let packed = crate::precompress::precompress(&staged)?;
    println!(
        "- {packed} bytes of .br and .gz copies in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if dist.exists() {
        std::fs::remove_dir_all(dist)
            .with_context(|| format!("cannot clear {}", dist.display()))?;
    }
    std::fs::rename(&staged, dist)
        .with_context(|| format!("cannot move the build to {}", dist.display()))?;
    for (from, to) in &names {
        let size = std::fs::metadata(dist.join(to))?.len();
        println!("- {to} ({size} bytes, from {from})");
    }
    Ok(())
}

/// Old name → content-hashed name of every file of the split build: the glue, the main
/// module, the loader and the chunks.
fn hashed_names(split: &Path, chunks: &[PathBuf]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut files: Vec<String> = vec![
        format!("{CRATE}.js"),
        format!("{CRATE}_bg.wasm"),
        LOADER_PLACEHOLDER.to_owned(),
    ];
    for c in chunks {
        let name = c
            .file_name()
            .and_then(|n| n.to_str())
            .context("a chunk without a file name")?;
        files.push(name.to_owned());
    }
    let contents = files
        .iter()
        .map(|f| std::fs::read(split.join(f)).with_context(|| format!("cannot read {f}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let hash = hex_hash(&contents.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let mut names = BTreeMap::new();
    for f in files {
        let to = if let Some(stem) = f.strip_suffix("_bg.wasm") {
            format!("{stem}-{hash}_bg.wasm")
        } else if f == LOADER_PLACEHOLDER {
            format!("split-{hash}.js")
        } else {
            let (stem, ext) = f.rsplit_once('.').context("a file without extension")?;
            if stem.contains('.') {
                bail!("{f}: the proxy's content-hash pattern allows no dot in the name");
            }
            format!("{stem}-{hash}.{ext}")
        };
        names.insert(f, to);
    }
    Ok(names)
}

/// 16 lowercase hex digits of FNV-1a (64 bits) over `parts`, each prefixed with its length.
fn hex_hash(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    for p in parts {
        for b in (p.len() as u64).to_le_bytes() {
            eat(b);
        }
        for &b in *p {
            eat(b);
        }
    }
    format!("{h:016x}")
}

/// `haystack` with every `from` replaced by `to`.
fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// The release page: Trunk's `data-trunk` links replaced by the built files, the wasm
/// download started with the HTML, whitespace between tags and comment lines out.
fn release_page(page: &str, names: &BTreeMap<String, String>, css: &str) -> anyhow::Result<String> {
    let name = |f: String| {
        names
            .get(&f)
            .cloned()
            .with_context(|| format!("{f} was not built"))
    };
    let js = name(format!("{CRATE}.js"))?;
    let wasm = name(format!("{CRATE}_bg.wasm"))?;
    let loader = name(LOADER_PLACEHOLDER.to_owned())?;
    let head = format!(
        "<link rel=stylesheet href=/{css}>\
         <link rel=modulepreload href=/{js}>\
         <link rel=modulepreload href=/{loader}>\
         <link rel=preload href=/{wasm} as=fetch type=application/wasm crossorigin>\
         <script type=module>import init from'/{js}';init({{module_or_path:'/{wasm}'}})</script>"
    );
    let mut out = String::new();
    let mut placed = false;
    for line in page.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        if line.starts_with("<link data-trunk") {
            if !placed {
                out.push_str(&head);
                placed = true;
            }
            continue;
        }
        // A line inside the inline script needs its line break (no semicolons are added).
        if !out.is_empty() && !out.ends_with('>') && !line.starts_with('<') {
            out.push('\n');
        }
        out.push_str(line);
    }
    if !placed {
        bail!("frontend/index.html has no <link data-trunk> to replace");
    }
    out.push('\n');
    Ok(out)
}

/// The stylesheet without comments and needless whitespace.
fn minify_css(css: &str) -> String {
    let mut text = String::new();
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    text.push_str(rest);
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = words.join(" ");
    for p in ["{", "}", ";", ":", ",", ">"] {
        out = out
            .replace(&format!(" {p}"), p)
            .replace(&format!("{p} "), p);
    }
    out.replace(";}", "}")
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()))?;
        } else {
            std::fs::copy(&path, to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_loses_comments_and_spaces_only() {
        assert_eq!(
            minify_css("/* a */ .a > b ,.c {\n  color : red ;\n}\n@media (x: 1) { .d { e: f } }"),
            ".a>b,.c{color:red}@media (x:1){.d{e:f}}"
        );
    }

    #[test]
    fn the_page_gets_the_built_files() {
        let names = BTreeMap::from([
            (
                format!("{CRATE}.js"),
                format!("{CRATE}-0123456789abcdef.js"),
            ),
            (
                format!("{CRATE}_bg.wasm"),
                format!("{CRATE}-0123456789abcdef_bg.wasm"),
            ),
            (
                LOADER_PLACEHOLDER.to_owned(),
                "split-0123456789abcdef.js".to_owned(),
            ),
        ]);
        let page = "<html>\n  <head>\n    <link data-trunk rel=\"css\" href=\"style.css\" />\n    \
                    <link data-trunk rel=\"rust\" />\n    <script>\n      // note\n      var a = 1\n      \
                    var b = 2;\n    </script>\n  </head>\n</html>\n";
        let out = release_page(page, &names, "style-00.css").unwrap_or_default();
        assert!(
            out.contains("<link rel=stylesheet href=/style-00.css>"),
            "{out}"
        );
        assert!(out.contains("href=/split-0123456789abcdef.js"), "{out}");
        assert!(
            out.contains(&format!(
                "init({{module_or_path:'/{CRATE}-0123456789abcdef_bg.wasm'}})"
            )),
            "{out}"
        );
        assert!(out.contains("var a = 1\nvar b = 2;"), "{out}");
        assert!(
            !out.contains("note") && !out.contains("data-trunk"),
            "{out}"
        );
        assert_eq!(out.matches("<link").count(), 4, "{out}");
    }

    #[test]
    fn names_are_replaced_everywhere() {
        assert_eq!(
            replace(b"a./x.js b./x.js", b"./x.js", b"./y.js"),
            b"a./y.js b./y.js"
        );
    }
}

//! The size budget of the first screen: what a first visit must download before the
//! wizard's first step shows (the page, the JS glue, the chunk loader, the main wasm
//! module, the CSS, and the embed loader for the widget) is at most [`BUDGET`] bytes after
//! `gzip -9`. The later steps' wasm chunks (`cargo xtask build-web` splits them off; the
//! page fetches them when the browser is idle after the first step shows) are listed
//! apart and not counted. Sizes are deterministic, so this is a test; load times are in
//! the benchmarks. The later steps' texts must be in their chunk, not the first screen's
//! module.

use std::path::Path;
use std::process::{Command, Stdio};

/// The budget of `gzip -9` output: issue 15's 150 KB, read as 150 000 bytes (the stricter
/// of the two readings). Met on 2026-12-03 once JSON decoding moved into the later steps'
/// chunk (`frontend/src/split.rs`); before that, the split (205 196 bytes), std rebuilt
/// for size (183 161), the minified glue (181 124) and the later steps' texts in their
/// chunk (175 833) were not enough (docs/BENCHMARKS.md). Growth above the goal fails here.
const BUDGET: u64 = 150_000;

/// The local files `index.html` refers to (`href="/x"`, `src="/x"`, `'/x'` in the loader
/// script) that the first screen needs: scripts, styles and the wasm module.
fn referenced(index: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let tokens = index.split(|c: char| c.is_whitespace() || "\"'()=,;{}<>`".contains(c));
    for token in tokens {
        let name = token.trim_start_matches("./").trim_start_matches('/');
        let wanted = [".js", ".wasm", ".css"].iter().any(|e| name.ends_with(e));
        if wanted && !name.contains(['/', ':']) && !found.iter().any(|f| f == name) {
            found.push(name.to_owned());
        }
    }
    found
}

/// `gzip -9 -c FILE | wc -c`.
fn gzip9(path: &Path) -> u64 {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .stderr(Stdio::inherit())
        .output()
        .expect("cannot run gzip: install it (Debian package gzip)");
    assert!(out.status.success(), "gzip -9 {} failed", path.display());
    out.stdout.len() as u64
}

#[test]
fn first_screen_fits_the_size_budget() {
    let dist = mailsetup_tests::workspace_root().join("dist");
    let index = std::fs::read_to_string(dist.join("index.html")).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the front end first with `cargo xtask build-web` \
             (`cargo xtask test` does it)",
            dist.join("index.html").display()
        )
    });
    let mut files = vec!["index.html".to_owned(), "embed.js".to_owned()];
    files.extend(referenced(&index));
    for kind in [".wasm", ".js", ".css"] {
        assert!(
            files.iter().filter(|f| f.ends_with(kind)).count() >= 1,
            "index.html refers to no {kind} file: {files:?}"
        );
    }
    let mut table = String::new();
    let mut total = 0;
    for f in &files {
        let path = dist.join(f);
        let raw = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .len();
        let gz = gzip9(&path);
        total += gz;
        table.push_str(&format!("{f:60} {raw:>9} raw {gz:>9} gzip -9\n"));
    }
    println!(
        "{table}{:60} {:>9}     {total:>9} gzip -9 (budget {BUDGET})",
        "total", ""
    );
    assert_eq!(
        files.iter().filter(|f| f.ends_with(".wasm")).count(),
        1,
        "the first screen loads one wasm module (the later steps' chunks wait): {files:?}"
    );
    // The later steps' chunks: fetched after the first step shows, so not counted.
    let mut chunks: Vec<String> = std::fs::read_dir(&dist)
        .unwrap_or_else(|e| panic!("{}: {e}", dist.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|f| f.ends_with(".wasm") && !files.contains(f))
        .collect();
    chunks.sort();
    let (mut raw_sum, mut gz_sum) = (0, 0);
    for f in &chunks {
        let path = dist.join(f);
        let raw = std::fs::metadata(&path).map_or(0, |m| m.len());
        let gz = gzip9(&path);
        raw_sum += raw;
        gz_sum += gz;
        println!("later: {f:53} {raw:>9} raw {gz:>9} gzip -9");
    }
    println!(
        "later: {:53} {raw_sum:>9} raw {gz_sum:>9} gzip -9 (each alone)",
        format!("{} chunks", chunks.len())
    );
    assert!(
        total <= BUDGET,
        "the first screen needs {total} bytes after gzip -9, over the budget of {BUDGET} \
         by {} bytes:\n{table}",
        total - BUDGET
    );
}

/// The texts of a texts file of the front end: its `field: "text",` lines.
fn texts_of(src: &str) -> Vec<&str> {
    src.lines()
        .filter_map(|l| {
            let (field, text) = l.trim_start().split_once(": \"")?;
            let field_like = field
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            field_like.then(|| text.strip_suffix("\",")).flatten()
        })
        .collect()
}

/// A later step's text is in the later steps' chunk, not in the first screen's module
/// (`frontend/src/i18n/later.rs` and `oauth.rs` are read only from code in the chunk).
/// Texts shorter than 16 bytes are left out (such words also occur inside other texts and
/// data), and so is any that is part of a first screen's text (`frontend/src/i18n.rs`).
#[test]
fn the_later_steps_texts_wait_in_their_chunk() {
    let root = mailsetup_tests::workspace_root();
    let dist = root.join("dist");
    let Ok(index) = std::fs::read_to_string(dist.join("index.html")) else {
        panic!("dist/index.html is missing: run `cargo xtask build-web`");
    };
    let read = |f: &str| {
        let path = root.join(f);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let main: Vec<String> = referenced(&index)
        .into_iter()
        .filter(|f| f.ends_with(".wasm"))
        .collect();
    let [main] = &main[..] else {
        panic!("index.html refers to one wasm module, not {main:?}");
    };
    let main = read(&format!("dist/{main}"));
    let chunks: Vec<Vec<u8>> = std::fs::read_dir(&dist)
        .unwrap_or_else(|e| panic!("{}: {e}", dist.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|f| f.starts_with("split_") && f.ends_with(".wasm"))
        .map(|f| read(&format!("dist/{f}")))
        .collect();
    let first = String::from_utf8(read("frontend/src/i18n.rs")).expect("UTF-8");
    // Every literal of the first screen's file, the stepper's names too.
    let first: Vec<&str> = first.split('"').skip(1).step_by(2).collect();
    let contains = |hay: &[u8], text: &str| hay.windows(text.len()).any(|w| w == text.as_bytes());
    let mut checked = 0;
    for file in ["frontend/src/i18n/later.rs", "frontend/src/i18n/oauth.rs"] {
        let src = String::from_utf8(read(file)).expect("UTF-8");
        for text in texts_of(&src) {
            if text.len() < 16 || first.iter().any(|f| f.contains(text)) {
                continue;
            }
            assert!(
                !contains(&main, text),
                "{file}'s text is in the first screen's wasm module (first-screen code reads \
                 it): {text}"
            );
            assert!(
                chunks.iter().any(|c| contains(c, text)),
                "{file}'s text is in no later chunk of dist/: {text}"
            );
            checked += 1;
        }
    }
    // Both languages of about 100 texts: a parse that finds few would check nothing.
    assert!(checked > 100, "only {checked} texts checked");
}

#[test]
fn the_page_starts_the_wasm_download_with_the_html() {
    let dist = mailsetup_tests::workspace_root().join("dist");
    let Ok(index) = std::fs::read_to_string(dist.join("index.html")) else {
        panic!("dist/index.html is missing: run `cargo xtask build-web`");
    };
    // Attribute quotes removed: a minified page leaves them out.
    let preloads: Vec<String> = index
        .split('<')
        .filter(|tag| tag.starts_with("link") && tag.contains("preload"))
        .map(|tag| tag.replace(['"', '\''], ""))
        .collect();
    assert!(
        preloads
            .iter()
            .any(|t| t.contains("rel=preload") && t.contains(".wasm") && t.contains("as=fetch")),
        "no <link rel=preload as=fetch> for the wasm in index.html: {preloads:?}"
    );
    assert!(
        preloads
            .iter()
            .any(|t| t.contains("rel=modulepreload") && t.contains(".js")),
        "no <link rel=modulepreload> for the JS glue in index.html: {preloads:?}"
    );
}

#[test]
fn references_are_found_in_trunks_page() {
    let page = r#"<link rel="stylesheet" href="/style-0a1b2c3d4e5f6071.css" integrity="x"/>
        <link rel="modulepreload" href="/app-0123456789abcdef.js" crossorigin="anonymous">
        <script type="module">import init from '/app-0123456789abcdef.js';
        init({ module_or_path: '/app-0123456789abcdef_bg.wasm' });</script>
        <a href="https://example.com/x.js">x</a>"#;
    assert_eq!(
        referenced(page),
        [
            "style-0a1b2c3d4e5f6071.css",
            "app-0123456789abcdef.js",
            "app-0123456789abcdef_bg.wasm"
        ]
    );
}

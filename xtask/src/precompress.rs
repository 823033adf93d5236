//! Compressed copies of the release build's files, made once at build time: `NAME.br`
//! (brotli, quality 11) and `NAME.gz` (gzip, level 9) beside every file a browser fetches
//! (wasm, JS, CSS, HTML). The proxy serves them to browsers that accept them
//! (`proxy/src/static_files.rs`, tower-http's `precompressed_br`/`precompressed_gzip`),
//! instead of compressing every answer again at a level fast enough to do per request:
//! the first screen's main module is about 101 KB as brotli 11, 120 KB as brotli 4 (what
//! the proxy would do on the fly), 122 KB as gzip -9. A copy that is not smaller than its
//! file is not written.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// The file endings worth compressing (the rest, if any, is served as it is).
const COMPRESSIBLE: [&str; 6] = ["wasm", "js", "css", "html", "svg", "json"];

/// Writes `NAME.br` and `NAME.gz` beside every compressible file under `dir`, recursively;
/// the bytes written, in total, for the log.
pub fn precompress(dir: &Path) -> anyhow::Result<u64> {
    let mut written = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            written += precompress(&path)?;
            continue;
        }
        let compressible = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| COMPRESSIBLE.contains(&e));
        if !compressible {
            continue;
        }
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        for (ext, packed) in [("br", brotli(&bytes)?), ("gz", gzip(&bytes)?)] {
            if packed.len() >= bytes.len() {
                continue;
            }
            let mut name = path.clone().into_os_string();
            name.push(".");
            name.push(ext);
            std::fs::write(&name, &packed)
                .with_context(|| format!("cannot write {}", Path::new(&name).display()))?;
            written += packed.len() as u64;
        }
    }
    Ok(written)
}

/// Brotli at its best (quality 11, a 16 MiB window: the files are smaller than that).
fn brotli(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 24,
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).context("brotli")?;
    Ok(out)
}

/// Gzip at level 9, for browsers without brotli.
fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::Read as _;

    use super::*;

    #[test]
    fn copies_decompress_to_the_file_and_only_text_and_wasm_get_them() {
        let dir = std::env::temp_dir().join(format!("xtask-precompress-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("examples")).unwrap();
        let text = "body { color: red; }\n".repeat(200);
        std::fs::write(dir.join("style-00.css"), &text).unwrap();
        std::fs::write(dir.join("examples/page.html"), &text).unwrap();
        std::fs::write(dir.join("tiny.js"), "x").unwrap();
        std::fs::write(dir.join("picture.png"), &text).unwrap();
        assert!(precompress(&dir).unwrap() > 0);
        for f in ["style-00.css", "examples/page.html"] {
            let br = std::fs::read(dir.join(format!("{f}.br"))).unwrap();
            let mut back = Vec::new();
            brotli::Decompressor::new(&br[..], 4096)
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, text.as_bytes(), "{f}.br");
            let gz = std::fs::read(dir.join(format!("{f}.gz"))).unwrap();
            let mut back = String::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_string(&mut back)
                .unwrap();
            assert_eq!(back, text, "{f}.gz");
        }
        // Not smaller: not written; not a file a browser fetches compressed: left alone.
        assert!(!dir.join("tiny.js.br").exists() && !dir.join("tiny.js.gz").exists());
        assert!(!dir.join("picture.png.br").exists());
        std::fs::remove_dir_all(dir).ok();
    }
}

//! Build script: checks shared/data/providers.toml against the schema in
//! src/providers/schema.rs (the same check `cargo test` runs) and writes it as compact JSON
//! to `OUT_DIR/providers.json`, which `providers.rs` embeds. So the wasm build carries no
//! TOML parser, and the embedded data can never be stale: it is regenerated on every change.

#![allow(missing_docs, dead_code)]

include!("src/providers/schema.rs");

#[path = "build_diagnoses.rs"]
mod build_diagnoses;

fn main() {
    build_diagnoses::run();
    let path = "data/providers.toml";
    println!("cargo::rerun-if-changed={path}");
    println!("cargo::rerun-if-changed=src/providers/schema.rs");
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => fail(&format!("cannot read {path}: {e}")),
    };
    let file: RawFile = match toml::from_str(&text) {
        Ok(f) => f,
        Err(e) => fail(&format!("{path} does not match the schema: {e}")),
    };
    let errors = check_providers(&file.provider, DataOrigin::Builtin);
    if !errors.is_empty() {
        fail(&format!(
            "{path} fails the schema check:\n  {}",
            errors.join("\n  ")
        ));
    }
    let json = match serde_json::to_string(&file.provider) {
        Ok(j) => j,
        Err(e) => fail(&format!("cannot serialize providers: {e}")),
    };
    let out = match std::env::var("OUT_DIR") {
        Ok(o) => std::path::PathBuf::from(o).join("providers.json"),
        Err(e) => fail(&format!("OUT_DIR is not set: {e}")),
    };
    if let Err(e) = std::fs::write(&out, json) {
        fail(&format!("cannot write {}: {e}", out.display()));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

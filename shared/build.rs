//! Build script: checks shared/data/providers.toml against the schema in
//! src/providers/schema.rs (the same check `cargo test` runs) and writes it as compact JSON
//! to `OUT_DIR/providers.json`, which `providers.rs` embeds. So the wasm build carries no
//! TOML parser, and the embedded data can never be stale: it is regenerated on every change.
//! It also writes `OUT_DIR/providers-domains.txt`: a line per provider, its id and its
//! domain patterns, for lookups that only ask whether a domain is known (the front end's
//! first screen reads it without a JSON decoder), and `OUT_DIR/providers-oauth.json`: the `[provider.oauth]` tables by provider id, taken
//! out of the other two so the front end's first screen does not carry them.

#![allow(missing_docs, dead_code)]

include!("src/providers/schema.rs");
include!("src/providers/schema_oauth.rs");

#[path = "build_diagnoses.rs"]
mod build_diagnoses;

fn main() {
    build_diagnoses::run();
    let path = "data/providers.toml";
    println!("cargo::rerun-if-changed={path}");
    println!("cargo::rerun-if-changed=src/providers/schema.rs");
    println!("cargo::rerun-if-changed=src/providers/schema_oauth.rs");
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
    // OAuth facts go to their own file (read only by `providers::oauth_facts`), so the
    // first screen's provider data does not grow with them.
    let mut providers = file.provider;
    let oauth: std::collections::BTreeMap<String, RawOAuth> = providers
        .iter_mut()
        .filter_map(|p| p.oauth.take().map(|o| (p.id.clone(), o)))
        .collect();
    let oauth = match serde_json::to_string(&oauth) {
        Ok(j) => j,
        Err(e) => fail(&format!("cannot serialize OAuth facts: {e}")),
    };
    let json = match serde_json::to_string(&providers) {
        Ok(j) => j,
        Err(e) => fail(&format!("cannot serialize providers: {e}")),
    };
    let index: String = providers
        .iter()
        .map(|p| format!("{} {}\n", p.id, p.domains.join(" ")))
        .collect();
    let out = match std::env::var("OUT_DIR") {
        Ok(o) => std::path::PathBuf::from(o),
        Err(e) => fail(&format!("OUT_DIR is not set: {e}")),
    };
    for (name, text) in [
        ("providers.json", json),
        ("providers-domains.txt", index),
        ("providers-oauth.json", oauth),
    ] {
        let path = out.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            fail(&format!("cannot write {}: {e}", path.display()));
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

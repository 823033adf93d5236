//! Build-script part for the diagnosis rules: turns `data/diagnoses.toml` into compact JSON
//! at `OUT_DIR/diagnoses.json`, which `src/diagnose.rs` embeds. The schema (unknown keys,
//! codes, placeholders, rule order) is checked by `diagnose::check_data`, which the unit
//! tests run; here only the TOML syntax is checked, so a typo fails the build early.

/// Converts the rules file; exits the build with a message on any error.
pub fn run() {
    let path = "data/diagnoses.toml";
    println!("cargo::rerun-if-changed={path}");
    println!("cargo::rerun-if-changed=build_diagnoses.rs");
    let fail = |message: String| -> ! {
        eprintln!("error: {message}");
        std::process::exit(1)
    };
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| fail(format!("cannot read {path}: {e}")));
    let value: toml::Value =
        toml::from_str(&text).unwrap_or_else(|e| fail(format!("{path} is not valid TOML: {e}")));
    let json = serde_json::to_string(&value)
        .unwrap_or_else(|e| fail(format!("cannot serialize {path}: {e}")));
    let out = std::env::var("OUT_DIR")
        .map(|o| std::path::PathBuf::from(o).join("diagnoses.json"))
        .unwrap_or_else(|e| fail(format!("OUT_DIR is not set: {e}")));
    if let Err(e) = std::fs::write(&out, json) {
        fail(format!("cannot write {}: {e}", out.display()));
    }
}

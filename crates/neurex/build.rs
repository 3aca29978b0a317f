//! Embeds every model file under `models/` so that the binary is self-contained.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&root).expect("models/ exists") {
        let dir = dir.expect("readable").path();
        if !dir.is_dir() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", dir.display());
        for f in std::fs::read_dir(&dir).expect("readable") {
            let f = f.expect("readable").path();
            if f.extension().is_some_and(|e| e == "toml") {
                println!("cargo:rerun-if-changed={}", f.display());
                let rel = f.strip_prefix(&root).expect("under models").to_string_lossy().replace('\\', "/");
                files.push((rel, f.canonicalize().expect("canonical")));
            }
        }
    }
    files.sort();
    let mut out = String::from(
        "/// Model files embedded at build time: (path under `models/`, contents).\npub(crate) static EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for (rel, path) in files {
        writeln!(out, "    ({rel:?}, include_str!({:?})),", path.display().to_string()).unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded_models.rs");
    std::fs::write(dest, out).unwrap();
}

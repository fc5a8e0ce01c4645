//! Embeds the data files the binary ships: migrations (through `sqlx::migrate!`), the app
//! presets in `presets/` and the example recipes in `recipes/`. Adding a preset or an example is
//! adding a file: this script lists the folders and writes `$OUT_DIR/embedded.rs`, a table of
//! `include_str!`s that `src/recipe/presets.rs` includes.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=presets");
    println!("cargo:rerun-if-changed=recipes");

    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let mut out = String::new();
    out.push_str("/// `(kind, id, preset TOML, sample JSON, sample headers JSON)`.\n");
    out.push_str("pub type PresetSource = (&'static str, &'static str, &'static str, Option<&'static str>, Option<&'static str>);\n");
    out.push_str("/// Triggers, then actions, each sorted by id.\n");
    out.push_str("pub static PRESET_FILES: &[PresetSource] = &[\n");
    for kind in ["trigger", "action"] {
        let dir = root.join("presets").join(format!("{kind}s"));
        for (id, path) in toml_files(&dir) {
            let sample = optional(&dir.join(format!("{id}.sample.json")));
            let headers = optional(&dir.join(format!("{id}.headers.json")));
            writeln!(
                out,
                "    ({kind:?}, {id:?}, include_str!({:?}), {sample}, {headers}),",
                path.display()
            )
            .unwrap();
        }
    }
    out.push_str("];\n\n");
    out.push_str("/// `(id, recipe TOML, sample payload JSON)` of the recipes in `recipes/`, sorted by id.\n");
    out.push_str("pub static EXAMPLE_FILES: &[(&str, &str, Option<&str>)] = &[\n");
    let recipes = root.join("recipes");
    for (id, path) in toml_files(&recipes) {
        let sample = optional(&recipes.join(format!("{id}.payload.json")));
        writeln!(
            out,
            "    ({id:?}, include_str!({:?}), {sample}),",
            path.display()
        )
        .unwrap();
    }
    out.push_str("];\n");

    let target =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("embedded.rs");
    fs::write(target, out).expect("write embedded.rs");
}

/// `(file stem, path)` of each `*.toml` in `dir`, sorted; none when the folder is missing.
fn toml_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, PathBuf)> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let stem = path
                .file_name()?
                .to_str()?
                .strip_suffix(".toml")?
                .to_owned();
            Some((stem, path))
        })
        .collect();
    files.sort();
    files
}

fn optional(path: &Path) -> String {
    if path.is_file() {
        format!("Some(include_str!({:?}))", path.display())
    } else {
        "None".to_owned()
    }
}

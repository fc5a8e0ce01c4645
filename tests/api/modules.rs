//! The crate's top-level modules import each other one way (STYLE.md, "In Switchyard": data
//! flows one way; issue 10 item 6): web/cli → use cases → stages → recipe → foundations.
//! Read from the `crate::x` paths in `src/` outside test code, as `shared/tools/modcycles.py`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

/// Higher layers may import lower (or equal) ones, never higher. Equal layers are kept
/// acyclic by the cycle test.
const LAYERS: &[(&str, u8)] = &[
    ("cli", 6),
    ("startup", 5),
    ("web", 4),
    ("manage", 3),
    ("provision", 3),
    ("retention", 3),
    ("ingest", 2),
    ("engine", 2),
    ("deliver", 2),
    ("schedule", 2),
    ("recipe", 1),
    // Foundations: they import nothing above themselves.
    ("script", 0),
    ("outbound", 0),
    ("config", 0),
    ("store", 0),
    ("telemetry", 0),
    ("ids", 0),
];

type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `from → to → one file:line that makes the edge`, for the crate's non-test code.
fn import_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let path = Regex::new(r"crate::([a-z_][a-z0-9_]*)").unwrap();
    let member = Regex::new(r"(?:^|,)\s*([a-z_][a-z0-9_]*)").unwrap();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = first.to_str().unwrap().trim_end_matches(".rs").to_owned();
        let name = file.file_name().unwrap().to_str().unwrap();
        if module == "lib" || module == "main" || name.ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = without_inline_tests(&text);
        let lines: Vec<&str> = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect();
        let joined = lines.join("\n");
        let mut targets: Vec<String> = path
            .captures_iter(&joined)
            .map(|c| c[1].to_owned())
            .collect();
        for (at, _) in joined.match_indices("crate::{") {
            let inside = top_level_of_group(&joined[at + "crate::{".len()..]);
            targets.extend(member.captures_iter(&inside).map(|c| c[1].to_owned()));
        }
        for target in targets {
            if target != module && target != "self" {
                graph
                    .entry(module.clone())
                    .or_default()
                    .entry(target)
                    .or_insert_with(|| relative.display().to_string());
            }
        }
    }
    graph
}

/// `text` up to its inline test module (`#[cfg(test)]` then `mod x {`, at the end of a
/// file); a `#[cfg(test)] mod x;` line elsewhere does not end the code.
fn without_inline_tests(text: &str) -> &str {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim() == "#[cfg(test)]" {
            let after = &text[offset + line.len()..];
            let item = after
                .lines()
                .map(str::trim)
                .find(|l| !l.starts_with("#["))
                .unwrap_or("");
            if item.trim_start_matches("pub ").starts_with("mod ") && item.ends_with('{') {
                return &text[..offset];
            }
        }
        offset += line.len();
    }
    text
}

/// The text of a `{...}` group (its opening brace already read) without nested groups:
/// `a::{B, c}, d}` gives `a::, d`, whose members name modules.
fn top_level_of_group(rest: &str) -> String {
    let mut depth = 1;
    let mut out = String::new();
    for ch in rest.chars() {
        match ch {
            '{' => depth += 1,
            '}' if depth == 1 => break,
            '}' => depth -= 1,
            _ if depth == 1 => out.push(ch),
            _ => {}
        }
    }
    out
}

/// A cycle through `start`, as module names, if there is one.
fn cycle_from(graph: &Graph, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &Graph,
        node: &str,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(node).into_iter().flat_map(|m| m.keys()) {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, next, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    walk(graph, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn top_level_modules_import_each_other_without_a_cycle() {
    let graph = import_graph();
    assert!(
        graph.contains_key("web") && graph.contains_key("deliver"),
        "{graph:?}"
    );
    for module in graph.keys() {
        if let Some(cycle) = cycle_from(&graph, module) {
            let shown: Vec<String> = cycle
                .windows(2)
                .map(|w| format!("{} → {} ({})", w[0], w[1], graph[&w[0]][&w[1]]))
                .chain(std::iter::once(format!(
                    "{} → {} ({})",
                    cycle.last().unwrap(),
                    module,
                    graph[cycle.last().unwrap()][module]
                )))
                .collect();
            panic!(
                "modules import each other in a cycle:\n  {}",
                shown.join("\n  ")
            );
        }
    }
}

#[test]
fn imports_point_from_web_and_cli_down_to_the_store() {
    let layer: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut upward = Vec::new();
    for (from, targets) in import_graph() {
        let Some(&from_layer) = layer.get(from.as_str()) else {
            panic!("top-level module `{from}` has no layer in tests/api/modules.rs");
        };
        for (to, file) in targets {
            let to_layer = *layer
                .get(to.as_str())
                .unwrap_or_else(|| panic!("`{to}` (imported in {file}) has no layer"));
            if to_layer > from_layer {
                upward.push(format!("{from} → {to} ({file})"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports pointing up a layer:\n  {}",
        upward.join("\n  ")
    );
}

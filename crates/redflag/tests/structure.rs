//! The floor plan of the library, checked: the modules of `crates/redflag/src` import
//! only from their own floor or below, with no circle among them; and no function of
//! the library, the CLI or the generator runs over 150 lines (tests aside).
//!
//! Run alone with `cargo test -p redflag --test structure`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors, bottom first. A module may import from its own floor or any below.
const FLOORS: &[&[&str]] = &[
    &["util", "error"],
    &["model"],
    &["schema", "expr", "watchlist", "ingest"],
    &["engine"],
    &["kinds"],
    &["pack"],
    &["run"],
    &["cases"],
    &["output", "report", "catalogue", "evaluate", "tune", "setup"],
    &["shard"],
    &["lib"],
];

/// The longest a function may be, in lines.
const MAX_FN_LINES: usize = 150;

fn src() -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The file's code without its `#[cfg(test)]` module (kept at the end of a file).
fn without_tests(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// The top-level module a file of `src` belongs to (`lib` for lib.rs).
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .to_string();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules a piece of code names through `crate::`.
fn imports(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        let tail = &rest[i + "crate::".len()..];
        rest = tail;
        // `redflag_synth::` and the like are other crates, not this one.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = tail.strip_prefix('{') {
            // `use crate::{a, b::c}`: each item's first segment.
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
            continue;
        }
        let name: String = tail.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

/// Module → the modules it imports (itself aside).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let m = module_of(&f);
        let deps = graph.entry(m.clone()).or_default();
        let code: String = without_tests(&text)
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for d in imports(&code) {
            if d != m {
                deps.insert(d);
            }
        }
    }
    graph
}

fn floor_of(m: &str) -> Option<usize> {
    FLOORS.iter().position(|f| f.contains(&m))
}

#[test]
fn every_module_has_a_floor() {
    let graph = module_graph();
    let homeless: Vec<&String> = graph.keys().filter(|m| floor_of(m).is_none()).collect();
    assert!(homeless.is_empty(), "modules without a floor in FLOORS: {homeless:?}");
}

#[test]
fn no_import_goes_up_a_floor() {
    let graph = module_graph();
    let mut up = Vec::new();
    for (m, deps) in &graph {
        let Some(fm) = floor_of(m) else { continue };
        for d in deps {
            // A name the floors do not list is a re-export of lib.rs (the top).
            let fd = floor_of(d).unwrap_or(FLOORS.len());
            if fd > fm {
                up.push(format!("{m} (floor {fm}) imports {d} (floor {fd})"));
            }
        }
    }
    assert!(up.is_empty(), "imports that go up:\n{}", up.join("\n"));
}

#[test]
fn the_module_graph_has_no_circle() {
    let graph = module_graph();
    // Depth-first search; a module met again on the current path closes a circle.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            let mut circle = path[i..].to_vec();
            circle.push(m.to_string());
            return Some(circle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for d in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(c) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("a circle of imports: {}", c.join(" → "));
        }
    }
}

/// Each function's first line and length, found by rustfmt's layout: a line that starts
/// a `fn` and the first line after it that closes a brace at the same indentation.
fn long_functions(path: &Path) -> Vec<(usize, usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = without_tests(&text).lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        let is_fn = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "async fn ",
            "const fn ",
            "pub const fn ",
        ]
        .iter()
        .any(|p| t.starts_with(p));
        if !is_fn || l.trim_end().ends_with(';') {
            continue;
        }
        let indent = l.len() - t.len();
        let close = format!("{}}}", " ".repeat(indent));
        if let Some(end) = lines[i + 1..]
            .iter()
            .position(|x| x.starts_with(&close) && x.len() - x.trim_start().len() == indent)
        {
            let len = end + 2;
            if len > MAX_FN_LINES {
                let name: String = t
                    .split("fn ")
                    .nth(1)
                    .unwrap_or("")
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push((i + 1, len, name));
            }
        }
    }
    out
}

#[test]
fn no_function_runs_over_150_lines() {
    let crates = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("..");
    let mut files = Vec::new();
    for krate in ["redflag", "redflag-cli", "redflag-synth"] {
        rust_files(&crates.join(krate).join("src"), &mut files);
    }
    let mut long = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&crates).unwrap().to_string_lossy().replace('\\', "/");
        for (line, len, name) in long_functions(f) {
            long.push(format!("crates/{rel}:{line} `{name}`: {len} lines"));
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines:\n{}",
        long.join("\n")
    );
}

//! The shape of the code, checked: dependencies between the top-level modules point one way,
//! no two files import each other, and the pure layers (`domain`, `crypto`, `tlog`) and the
//! store keep to the crates they may know. Read from the source text, so a new `use` that
//! breaks a rule fails here, not in review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A source file and the module path it defines (`src/http/state.rs` → `["http", "state"]`).
struct SourceFile {
    path: PathBuf,
    module: Vec<String>,
    code: String,
}

/// The files of the server crate (`src/`) and of the pure core (`core/src/`), whose modules
/// (`domain`, `crypto`, `tlog`) the server re-exports under the same names.
fn source_files() -> Vec<SourceFile> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for root in [manifest.join("src"), manifest.join("core/src")] {
        files.extend(files_below(&root));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

fn files_below(root: &Path) -> Vec<SourceFile> {
    let root = root.to_path_buf();
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&root).unwrap().with_extension("");
                let mut module: Vec<String> = relative.iter().map(|s| s.to_string_lossy().into_owned()).collect();
                if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                    module.pop();
                }
                let code = strip_comments_and_strings(&std::fs::read_to_string(&path).unwrap());
                files.push(SourceFile { path, module, code });
            }
        }
    }
    files
}

/// The code without comments, string and char literals (whose text may look like paths).
fn strip_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !is_ident(chars.get(i.wrapping_sub(1))) {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            let closing: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            while j < chars.len() && !chars[j..].iter().collect::<String>().starts_with(&closing) {
                j += 1;
            }
            i = j + closing.len();
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// Every path the code names from `crate`, `super` or `self`, with `use` braces expanded.
fn named_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for statement in code.split(';') {
        let statement = statement.trim();
        if let Some(tree) = statement.strip_prefix("use ").or_else(|| statement.strip_prefix("pub use ")) {
            expand(&tree.replace(char::is_whitespace, ""), Vec::new(), &mut paths);
        }
    }
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !is_ident(i.checked_sub(1).and_then(|p| chars.get(p))) && chars[i].is_alphabetic() {
            let mut j = i;
            while j < chars.len() && (is_ident(chars.get(j)) || (chars[j] == ':' && chars.get(j + 1) == Some(&':'))) {
                j += if chars[j] == ':' { 2 } else { 1 };
            }
            let word: String = chars[i..j].iter().collect();
            let segments: Vec<String> = word.split("::").filter(|s| !s.is_empty()).map(String::from).collect();
            if segments.len() > 1 && matches!(segments[0].as_str(), "crate" | "super" | "self") {
                paths.push(segments);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    paths
}

/// Expands a `use` tree (`crate::a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Some(open) = tree.find('{') {
        let mut base = prefix.clone();
        base.extend(tree[..open].split("::").filter(|s| !s.is_empty()).map(String::from));
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut start = 0;
        for (k, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..k], base.clone(), out);
                    start = k + 1;
                }
                _ => {}
            }
        }
        expand(&inner[start..], base, out);
    } else {
        let tree = tree.split(" as ").next().unwrap_or(tree).split("as").next().unwrap_or(tree);
        let mut path = prefix;
        path.extend(tree.split("::").filter(|s| !s.is_empty() && *s != "*").map(String::from));
        if path.first().is_some_and(|s| matches!(s.as_str(), "crate" | "super" | "self")) {
            out.push(path);
        }
    }
}

/// The file a path names: the deepest module of the crate the path reaches.
fn resolve(from: &[String], path: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let mut at: Vec<String> = Vec::new();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => rest = &path[1..],
        Some("self") => {
            at = from.to_vec();
            rest = &path[1..];
        }
        Some("super") => {
            at = from.to_vec();
            while rest.first().is_some_and(|s| s == "super") {
                at.pop();
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    // Inside an inline module, the file is the deepest module that is a file.
    while !at.is_empty() && !modules.contains(&at) {
        at.pop();
    }
    for segment in rest {
        let mut next = at.clone();
        next.push(segment.clone());
        if modules.contains(&next) {
            at = next;
        } else {
            break;
        }
    }
    Some(at)
}

/// The code of a file split by inline module (`mod tests { … }`), each with its module path,
/// so that `super` inside one resolves from there.
fn inline_modules(code: &str, module: &[String], out: &mut Vec<(Vec<String>, String)>) {
    let mut outer = String::new();
    let mut rest = code;
    while let Some(at) = find_inline_mod(rest) {
        let (name, open) = at;
        outer.push_str(&rest[..open]);
        let mut depth = 0;
        let mut close = rest.len();
        for (k, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = open + k;
                        break;
                    }
                }
                _ => {}
            }
        }
        let mut inner = module.to_vec();
        inner.push(name);
        inline_modules(&rest[open + 1..close], &inner, out);
        rest = &rest[(close + 1).min(rest.len())..];
    }
    outer.push_str(rest);
    out.push((module.to_vec(), outer));
}

/// The next `mod name {`: its name and the position of its brace.
fn find_inline_mod(code: &str) -> Option<(String, usize)> {
    let mut from = 0;
    while let Some(k) = code[from..].find("mod ") {
        let start = from + k;
        from = start + 4;
        if start > 0 && is_ident(code[..start].chars().last().as_ref()) {
            continue;
        }
        let after = &code[start + 4..];
        let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let tail = after[name.len()..].trim_start();
        if !name.is_empty() && tail.starts_with('{') {
            return Some((name, code.len() - tail.len()));
        }
    }
    None
}

/// File → the files it names.
fn file_graph(files: &[SourceFile]) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    let mut graph = BTreeMap::new();
    for f in files {
        let mut parts = Vec::new();
        inline_modules(&f.code, &f.module, &mut parts);
        let names: BTreeSet<Vec<String>> = parts
            .iter()
            .flat_map(|(module, code)| named_paths(code).into_iter().filter_map(|p| resolve(module, &p, &modules)))
            .filter(|m| *m != f.module && !m.is_empty())
            .collect();
        graph.insert(f.module.clone(), names);
    }
    graph
}

fn top(module: &[String]) -> String {
    module.first().cloned().unwrap_or_default()
}

#[test]
fn top_level_modules_depend_one_way() {
    let graph = file_graph(&source_files());
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut why: BTreeMap<(String, String), String> = BTreeMap::new();
    for (from, names) in &graph {
        for to in names {
            let (a, b) = (top(from), top(to));
            if !a.is_empty() && a != b {
                edges.entry(a.clone()).or_default().insert(b.clone());
                why.entry((a, b)).or_insert_with(|| format!("{} → {}", from.join("::"), to.join("::")));
            }
        }
    }
    // Each layer may name only the layers below it.
    let rank = |m: &str| match m {
        "crypto" | "tlog" => 0,
        "domain" => 1,
        "publish" => 2,
        "store" => 3,
        "verify" | "transparency" | "demo" | "export" | "webhooks" => 4,
        "http" => 5,
        "cli" => 6,
        other => panic!("module {other} has no layer: add it to this test and docs/ARCHITECTURE.md"),
    };
    let mut wrong = Vec::new();
    for (a, targets) in &edges {
        for b in targets {
            if rank(b) >= rank(a) && !(rank(a) == 0 && rank(b) == 0 && a == "tlog" && b == "crypto") {
                wrong.push(why[&(a.clone(), b.clone())].clone());
            }
        }
    }
    assert!(wrong.is_empty(), "dependencies that point up or sideways:\n{}", wrong.join("\n"));
}

#[test]
fn no_two_files_import_each_other() {
    let graph = file_graph(&source_files());
    let mut pairs = Vec::new();
    for (a, names) in &graph {
        for b in names {
            if a < b && graph.get(b).is_some_and(|n| n.contains(a)) {
                pairs.push(format!("{} ⇄ {}", a.join("::"), b.join("::")));
            }
        }
    }
    assert!(pairs.is_empty(), "files that import each other:\n{}", pairs.join("\n"));
}

#[test]
fn each_layer_knows_only_its_own_crates() {
    // (where, crates it must not name)
    let rules: [(&str, &[&str]); 7] = [
        ("domain", &["axum", "sqlx", "clap", "tower", "reqwest", "moka", "tokio"]),
        ("crypto", &["axum", "sqlx", "clap", "utoipa", "tower", "reqwest", "moka"]),
        ("tlog", &["axum", "sqlx", "clap", "utoipa", "tower", "reqwest", "moka"]),
        ("publish", &["axum", "sqlx", "clap", "tower", "reqwest"]),
        ("verify", &["axum", "sqlx", "clap", "tower"]),
        ("store", &["axum", "clap", "tower", "reqwest"]),
        ("transparency", &["axum", "sqlx", "clap", "tower"]),
    ];
    let mut found = Vec::new();
    for f in source_files() {
        let names = |krate: &str| {
            f.code
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .any(|w| w.starts_with(&format!("{krate}::")))
        };
        for (layer, forbidden) in rules {
            if top(&f.module) == layer {
                found.extend(forbidden.iter().filter(|k| names(k)).map(|k| format!("{} names {k}", f.path.display())));
            }
        }
        if top(&f.module) != "store" && names("sqlx") {
            found.push(format!("{} names sqlx: only store may", f.path.display()));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_pure_core_depends_on_no_web_or_database_crate() {
    // The core is its own crate: what it may depend on is its manifest, checked here. utoipa is
    // optional (feature `openapi`, which only the server turns on), so the core builds without it
    // (`cargo check -p zhicheng-core` in .ci/run).
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("core/Cargo.toml")).unwrap();
    let dependencies = manifest.split("[dependencies]").nth(1).unwrap().split("\n[").next().unwrap();
    for line in dependencies.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let name = line.split('=').next().unwrap().trim();
        assert!(
            !["axum", "sqlx", "clap", "tower", "tokio", "reqwest", "moka"].contains(&name),
            "the core depends on {name}"
        );
        if name == "utoipa" {
            assert!(line.contains("optional = true"), "utoipa must stay optional in the core: {line}");
        }
    }
    // In the source, utoipa appears only behind that feature.
    let mut found = Vec::new();
    for f in source_files().iter().filter(|f| matches!(top(&f.module).as_str(), "domain" | "crypto" | "tlog")) {
        let raw = std::fs::read_to_string(&f.path).unwrap();
        for line in raw.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
            if line.contains("utoipa") && !line.starts_with("#[cfg_attr(feature = \"openapi\"") {
                found.push(format!("{}: {line}", f.path.display()));
            }
        }
    }
    assert!(found.is_empty(), "utoipa outside the `openapi` feature:\n{}", found.join("\n"));
}

#[test]
fn the_checker_sees_what_it_checks() {
    // A test that cannot fail is no test: the parser must find the paths a real file names.
    let paths = named_paths(&strip_comments_and_strings(
        "use crate::a::{b, c::{d as e, f}};\n// crate::not::this\nlet x = \"crate::nor::this\"; super::g::h();",
    ));
    let text: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert!(text.contains(&"crate::a::b".to_string()), "{text:?}");
    assert!(text.contains(&"crate::a::c::d".to_string()), "{text:?}");
    assert!(text.contains(&"crate::a::c::f".to_string()), "{text:?}");
    assert!(text.contains(&"super::g::h".to_string()), "{text:?}");
    assert!(!text.iter().any(|t| t.contains("not") || t.contains("nor")), "{text:?}");
    let mut parts = Vec::new();
    inline_modules(
        "use super::a; mod tests { use super::*; mod deeper { use super::super::b; } }",
        &["m".into()],
        &mut parts,
    );
    let modules: Vec<Vec<String>> = parts.iter().map(|(m, _)| m.clone()).collect();
    assert_eq!(modules.len(), 3, "{parts:?}");
    assert!(modules.contains(&vec!["m".to_string(), "tests".to_string(), "deeper".to_string()]));
    let graph = file_graph(&source_files());
    let http_state = vec!["http".to_string(), "state".to_string()];
    assert!(graph[&vec!["http".to_string(), "router".to_string()]].contains(&http_state));
}

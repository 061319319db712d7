//! The layering of the core's and the simulator's top-level modules, read from their sources:
//! each module may use only the modules of lower layers (and its own), so no two of them import
//! each other, however indirectly, and a change to a lower layer never needs one above it. The
//! layers are the ones `../shared/docs/architecture.md` describes; a new module must be placed
//! in one before it builds, and a module moved to break a rule shows here first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use snowlink_e2e::paths::workspace_root;

/// The core's layers, lowest first.
const CORE: &[&[&str]] = &[
    &["text"],
    &["env", "errors"],
    &["files", "ids", "startup"],
    &["instance", "http"],
    &["secrets"],
    &["grants"],
    &["browser", "api"],
    &["connections"],
    &["oauth", "profiles"],
    &["updateset", "checks"],
    &["views"],
    &["bundle", "flows"],
    &["wizard"],
];

/// The simulator's layers, lowest first.
const SIM: &[&[&str]] = &[
    &["tls", "faults", "html", "testing"],
    &["db"],
    &["platform"],
    &["app"],
    &["rest", "handle"],
    &["web"],
    &["oauth"],
    &["server"],
];

/// The top-level modules of the crate whose sources are in `src` (a folder or a file each).
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    std::fs::read_dir(src)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter_map(|path| {
            let name = path.file_stem()?.to_str()?.to_owned();
            let module = path.is_dir() || path.extension().is_some_and(|e| e == "rs");
            (module && !matches!(name.as_str(), "lib" | "main")).then_some((name, path))
        })
        .collect()
}

/// The Rust files of a module, with the code before its tests (test code may reach anywhere).
fn code_of(path: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap().flatten() {
            out.extend(code_of(&entry.path()));
        }
    } else if path.extension().is_some_and(|e| e == "rs")
        && path.file_name().is_none_or(|n| n != "tests.rs")
    {
        let text = std::fs::read_to_string(path).unwrap();
        let code = match text.find("#[cfg(test)]") {
            Some(at) => text[..at].to_owned(),
            None => text,
        };
        let code: String = code
            .lines()
            .map(|line| line.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        out.push((path.to_owned(), code));
    }
    out
}

/// The top-level modules each module names through `crate::…`, each with a file that does.
fn imports(src: &Path) -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    imports_among(&modules(src), &["crate::"])
}

/// The modules of `modules` each one names through one of `prefixes`, each with a file that does.
fn imports_among(
    modules: &BTreeMap<String, PathBuf>,
    prefixes: &[&str],
) -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let mut graph = BTreeMap::new();
    for (name, path) in modules {
        let mut used = BTreeMap::new();
        for (file, code) in code_of(path) {
            for prefix in prefixes {
                let mut rest = code.as_str();
                while let Some(at) = rest.find(prefix) {
                    rest = &rest[at + prefix.len()..];
                    let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                        let end = group.find('}').unwrap_or(group.len());
                        group[..end]
                            .split(',')
                            .map(|part| part.trim().split("::").next().unwrap_or_default())
                            .collect()
                    } else {
                        vec![
                            rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                                .next()
                                .unwrap_or_default(),
                        ]
                    };
                    for used_name in names {
                        if used_name != name && modules.contains_key(used_name) {
                            used.entry(used_name.to_owned())
                                .or_insert_with(|| file.clone());
                        }
                    }
                }
            }
        }
        graph.insert(name.clone(), used);
    }
    graph
}

/// Every use of a module that is not in a lower layer, and every module in no layer.
fn breaches(src: &Path, layers: &[&[&str]]) -> Vec<String> {
    let layer_of = |name: &str| layers.iter().position(|layer| layer.contains(&name));
    let mut found = Vec::new();
    for (module, used) in imports(src) {
        let Some(own) = layer_of(&module) else {
            found.push(format!(
                "{module} is in no layer: add it to this test's list"
            ));
            continue;
        };
        for (other, file) in used {
            match layer_of(&other) {
                Some(theirs) if theirs < own => {}
                _ => found.push(format!(
                    "{module} uses {other} ({}), which is not below it",
                    file.display()
                )),
            }
        }
    }
    found
}

/// Modules that import each other, directly or through others: what must never be.
fn cycles(src: &Path) -> Vec<BTreeSet<String>> {
    cycles_in(&imports(src))
}

/// The same inside each folder module (`checks/`, `db/`…): among its own modules, named as
/// `crate::<folder>::…` or `super::…`.
fn cycles_inside_groups(src: &Path) -> Vec<(String, BTreeSet<String>)> {
    let mut found = Vec::new();
    for (group, path) in modules(src).into_iter().filter(|(_, p)| p.is_dir()) {
        let crate_prefix = format!("crate::{group}::");
        let graph = imports_among(&modules(&path), &[&crate_prefix, "super::"]);
        found.extend(cycles_in(&graph).into_iter().map(|c| (group.clone(), c)));
    }
    found
}

fn cycles_in(graph: &BTreeMap<String, BTreeMap<String, PathBuf>>) -> Vec<BTreeSet<String>> {
    let reaches = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut pending = vec![from.to_owned()];
        while let Some(next) = pending.pop() {
            for used in graph.get(&next).into_iter().flat_map(|u| u.keys()) {
                if seen.insert(used.clone()) {
                    pending.push(used.clone());
                }
            }
        }
        seen
    };
    let mut found: Vec<BTreeSet<String>> = Vec::new();
    for module in graph.keys() {
        if !reaches(module).contains(module) {
            continue;
        }
        let circle: BTreeSet<String> = graph
            .keys()
            .filter(|other| reaches(module).contains(*other) && reaches(other).contains(module))
            .cloned()
            .collect();
        if !found.contains(&circle) {
            found.push(circle);
        }
    }
    found
}

#[test]
fn no_module_of_the_core_imports_one_that_imports_it_back() {
    let src = workspace_root().join("crates/core/src");
    assert_eq!(cycles(&src), Vec::<BTreeSet<String>>::new());
    assert_eq!(breaches(&src, CORE), Vec::<String>::new());
    assert_eq!(cycles_inside_groups(&src), Vec::new());
}

/// The core's `lib.rs` declares its modules lowest layer first, one line saying what each
/// holds, so a reader meets them in the order they build on each other.
#[test]
fn the_core_declares_its_modules_in_their_layers() {
    let lib = std::fs::read_to_string(workspace_root().join("crates/core/src/lib.rs")).unwrap();
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|line| line.strip_prefix("pub mod ")?.strip_suffix(';'))
        .collect();
    let layered: Vec<&str> = CORE
        .iter()
        .flat_map(|layer| layer.iter().copied())
        .collect();
    assert_eq!(declared, layered);
    for module in declared {
        let described = lib
            .lines()
            .zip(lib.lines().skip(1))
            .any(|(above, line)| line == format!("pub mod {module};") && above.starts_with("// "));
        assert!(
            described,
            "`pub mod {module};` has no line above it saying what it holds"
        );
    }
}

#[test]
fn no_module_of_the_simulator_imports_one_that_imports_it_back() {
    let src = workspace_root().join("crates/sim/src");
    assert_eq!(cycles(&src), Vec::<BTreeSet<String>>::new());
    assert_eq!(breaches(&src, SIM), Vec::<String>::new());
    assert_eq!(cycles_inside_groups(&src), Vec::new());
}

#[test]
fn the_checker_sees_a_cycle_and_a_breach() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.rs"), "mod a; mod b;").unwrap();
    std::fs::write(dir.path().join("a.rs"), "use crate::b::Thing;").unwrap();
    std::fs::write(
        dir.path().join("b.rs"),
        "pub fn f() { crate::{a::g, c}; }\n#[cfg(test)]\nuse crate::c;",
    )
    .unwrap();
    std::fs::write(dir.path().join("c.rs"), "// crate::a in a comment").unwrap();
    let circle: BTreeSet<String> = ["a", "b"].map(String::from).into();
    assert_eq!(cycles(dir.path()), vec![circle]);
    let found = breaches(dir.path(), &[&["c"], &["b"], &["a"]]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("b uses a"), "{found:?}");
}

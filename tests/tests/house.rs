//! House rules read from the sources, so each change keeps them: no file longer than a reader
//! can hold (500 lines before its tests), and errors shown to people built only in the core,
//! where the closed set of codes and every hint live.

use std::path::{Path, PathBuf};

use snowlink_e2e::paths::workspace_root;

/// The longest a source file may be, counting every line before its first `#[cfg(test)]`.
const MAX_LINES: usize = 500;

/// The Rust sources of the project that are not tests.
fn sources() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for root in ["crates", "src-tauri/src", "bench"] {
        collect(&workspace_root().join(root), &mut found);
    }
    found
}

fn collect(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            // Integration tests and build output are not the code a reader has to hold.
            if !matches!(name, "tests" | "target" | "benches" | "gen") {
                collect(&path, found);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            found.push(path);
        }
    }
}

/// The lines of `text` before its tests.
fn lines_before_tests(text: &str) -> usize {
    text.lines()
        .take_while(|line| line.trim() != "#[cfg(test)]")
        .count()
}

#[test]
fn no_source_file_is_longer_than_a_reader_can_hold() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let lines = lines_before_tests(&text);
            (lines > MAX_LINES).then(|| format!("{} has {lines} lines", path.display()))
        })
        .collect();
    assert_eq!(long, Vec::<String>::new(), "split them by what they hold");
}

#[test]
fn error_views_are_built_only_in_the_core() {
    let outside: Vec<String> = sources()
        .into_iter()
        .filter(|path| !path.starts_with(workspace_root().join("crates/core")))
        .filter(|path| {
            std::fs::read_to_string(path).is_ok_and(|text| text.contains("ErrorView::new"))
        })
        .map(|path| path.display().to_string())
        .collect();
    assert_eq!(
        outside,
        Vec::<String>::new(),
        "give the error a view() in the core instead"
    );
}

#[test]
fn the_rules_see_what_they_look_for() {
    assert_eq!(lines_before_tests("a\nb\n#[cfg(test)]\nc\nd"), 2);
    assert_eq!(lines_before_tests("a\nb\nc"), 3);
    let core = sources();
    assert!(
        core.iter().any(|p| p.ends_with("crates/core/src/lib.rs")),
        "the core's sources are read"
    );
    assert!(
        !core
            .iter()
            .any(|p| p.ends_with("crates/core/src/wizard/tests.rs")),
        "test-only files are apart"
    );
}

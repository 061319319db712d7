//! Where the end-to-end tests find what the build produced and where they leave artifacts.

use std::path::{Path, PathBuf};

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The debug build of the desktop app.
pub fn app_binary() -> PathBuf {
    target_dir().join("debug").join("snowlink-app")
}

/// The debug build of the `snowlink` command.
pub fn cli_binary() -> PathBuf {
    target_dir().join("debug").join("snowlink")
}

/// `tauri-driver`, from `PATH` or cargo's install directory.
pub fn tauri_driver() -> PathBuf {
    let installed = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .map(|home| home.join("bin").join("tauri-driver"));
    match installed {
        Some(path) if path.exists() => path,
        _ => PathBuf::from("tauri-driver"),
    }
}

/// Screenshots and logs the tests keep for people to look at.
pub fn artifacts_dir() -> PathBuf {
    target_dir().join("e2e-artifacts")
}

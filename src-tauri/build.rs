//! Declares the app's own commands so that capability files can grant them per window.

fn main() {
    let commands = &["relay", "first_view_shown"];
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .unwrap_or_else(|err| panic!("tauri build script failed: {err:#}"));
}

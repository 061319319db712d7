//! Declares the one command, as the app's build script does for its own.

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(&["first_view_shown"])),
    )
    .unwrap_or_else(|err| panic!("tauri build script failed: {err:#}"));
}

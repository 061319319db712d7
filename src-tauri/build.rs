//! Declares the app's own commands so that capability files can grant them per window.

fn main() {
    let commands = &[
        "parse_instance",
        "open_in_browser",
        "list_connections",
        "check_connection",
        "link_account",
        "cancel_sign_in",
        "paste_sign_in",
        "unlink_account",
        "remove_connection",
        "edit_form",
        "edit_connection",
        "run_diagnosis",
        "diagnosis_text",
        "export_bundle",
        "start_demo_instance",
        "list_profiles",
        "list_saved_setups",
        "start_setup",
        "setup_view",
        "close_setup",
        "setup_event",
        "setup_secret",
        "setup_admin",
        "verify_step",
        "plan_step",
        "do_step",
        "save_update_set",
        "handoff_text",
        "first_view_shown",
    ];
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .unwrap_or_else(|err| panic!("tauri build script failed: {err:#}"));
}

//! Snowlink's desktop shell: window, plugins, commands and error mapping over `snowlink-core`.
//! [`builder`] is generic over the runtime so tests drive the same commands through
//! `tauri::test::mock_builder()` without a display.

mod accounts;
mod bindings;
mod commands;
mod diagnose;
pub mod error;
mod setup;

use tauri::{Builder, Runtime};

/// Everything the app registers, on any runtime.
pub fn builder<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .manage(accounts::Accounts::from_environment())
        .manage(diagnose::Diagnoses::default())
        .manage(setup::Setups::default())
        .invoke_handler(tauri::generate_handler![
            commands::parse_instance,
            commands::open_in_browser,
            accounts::list_connections,
            accounts::check_connection,
            accounts::link_account,
            accounts::cancel_sign_in,
            accounts::paste_sign_in,
            accounts::unlink_account,
            diagnose::run_diagnosis,
            diagnose::diagnosis_text,
            diagnose::export_bundle,
            setup::list_profiles,
            setup::list_saved_setups,
            setup::start_setup,
            setup::setup_view,
            setup::close_setup,
            setup::setup_event,
            setup::setup_secret,
            setup::setup_admin,
            setup::verify_step,
            setup::plan_step,
            setup::do_step,
            setup::save_update_set,
            setup::handoff_text,
        ])
}

/// Runs the desktop app until its last window closes.
pub fn run() {
    let result = builder(Builder::default()).run(tauri::generate_context!());
    if let Err(err) = result {
        eprintln!("Snowlink could not start: {err}");
        std::process::exit(1);
    }
}

//! Snowlink's desktop shell: window, plugins, commands and error mapping over `snowlink-core`.
//! [`builder`] is generic over the runtime so tests drive the same commands through
//! `tauri::test::mock_builder()` without a display.

mod accounts;
mod bindings;
mod commands;
mod demo;
mod diagnose;
pub mod error;
mod setup;

use tauri::{Builder, Manager, Runtime};
use tauri_plugin_window_state::AppHandleExt;

/// Everything the app registers, on any runtime.
pub fn builder<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .manage(accounts::Accounts::from_environment())
        .manage(diagnose::Diagnoses::default())
        .manage(setup::Setups::default())
        .manage(demo::Demo::default())
        .invoke_handler(tauri::generate_handler![
            commands::parse_instance,
            commands::open_in_browser,
            accounts::list_connections,
            accounts::check_connection,
            accounts::link_account,
            accounts::cancel_sign_in,
            accounts::paste_sign_in,
            accounts::unlink_account,
            accounts::remove_connection,
            accounts::edit_form,
            accounts::edit_connection,
            diagnose::run_diagnosis,
            diagnose::diagnosis_text,
            diagnose::export_bundle,
            demo::start_demo_instance,
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
            first_view_shown,
        ])
}

/// The UI's first screen with data is on view: said on standard output when the start-up
/// benchmark asks (`snowlink_core::startup`).
#[tauri::command]
fn first_view_shown() {
    if snowlink_core::startup::reporting() {
        println!("{}", snowlink_core::startup::FIRST_VIEW_LINE);
    }
}

/// One app per connections file: a second launch on the same file brings the first window
/// forward and exits; another profile (`SNOWLINK_CONFIG_DIR`) gets its own window.
fn single_instance<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    let builder = tauri_plugin_single_instance::Builder::new().callback(|app, _args, _cwd| {
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
    });
    match snowlink_core::connections::ConnectionStore::in_config_dir() {
        Ok(store) => builder.dbus_id(format!("dev.snowlink.desktop.p{}", store.profile_key())),
        Err(_) => builder,
    }
    .build()
}

/// Runs the desktop app until its last window closes. One instance at a time: a second launch
/// brings the first window forward and exits. The window's size and position are kept after
/// every move or resize (not only at a clean exit) and restored at start.
pub fn run() {
    let app = Builder::default()
        .plugin(single_instance())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .on_window_event(|window, event| {
            if matches!(
                event,
                tauri::WindowEvent::Moved(_) | tauri::WindowEvent::Resized(_)
            ) {
                let _ = window
                    .app_handle()
                    .save_window_state(tauri_plugin_window_state::StateFlags::all());
            }
        });
    let result = builder(app).run(tauri::generate_context!());
    if let Err(err) = result {
        eprintln!("Snowlink could not start: {err}");
        std::process::exit(1);
    }
}

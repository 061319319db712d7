//! Snowlink's desktop shell: the window, its plugins, and the relay of its requests to the
//! engine beside it (`snowlink serve`, see [`engine`]), which holds every rule. [`builder`] is
//! generic over the runtime so tests drive the same commands through
//! `tauri::test::mock_builder()` without a display.

mod commands;
mod engine;

use tauri::{Builder, Manager, Runtime};
use tauri_plugin_window_state::AppHandleExt;

/// Everything the app registers, on any runtime.
pub fn builder<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .manage(engine::Engine::default())
        .setup(|app| {
            // Started beside the window's own loading, so the first request finds it ready.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                handle.state::<engine::Engine>().start().await;
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::engine,
            commands::open_in_browser,
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

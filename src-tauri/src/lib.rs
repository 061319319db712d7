//! Snowlink's desktop shell: the window, its plugins, and the relay of its requests to the
//! engine beside it (`snowlink serve`, see [`engine`]), which holds every rule. [`builder`] is
//! generic over the runtime so tests drive the same commands through
//! `tauri::test::mock_builder()` without a display.

mod commands;
mod engine;
#[cfg(unix)]
mod single_instance;
mod window;

use tauri::{Builder, Manager, Runtime};
use tauri_plugin_window_state::AppHandleExt;

/// Everything the app registers, on any runtime.
pub fn builder<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        // Started by its first request: the window's first answer (window::open_main).
        .manage(engine::EngineProcess::default())
        .invoke_handler(tauri::generate_handler![commands::relay, first_view_shown])
}

/// The UI's first screen with data is on view: said on standard output when the start-up
/// benchmark asks (`snowlink_core::startup`).
#[tauri::command]
fn first_view_shown() {
    if snowlink_core::startup::reporting() {
        println!("{}", snowlink_core::startup::FIRST_VIEW_LINE);
    }
}

/// Set once the app starts closing: a second launch then starts itself instead of handing
/// over to a window that is going away.
static CLOSING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Brings the main window forward, as a second launch asks; `false` when there is no window
/// to bring (the app is closing).
fn raise<R: Runtime>(app: &tauri::AppHandle<R>) -> bool {
    if CLOSING.load(std::sync::atomic::Ordering::SeqCst) {
        return false;
    }
    match app.get_webview_window(window::MAIN) {
        Some(window) => {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
            true
        }
        None => false,
    }
}

/// The directory one app runs on: the connections file's.
#[cfg(unix)]
fn config_dir() -> Option<std::path::PathBuf> {
    let store = snowlink_core::connections::ConnectionStore::in_config_dir().ok()?;
    store.path().parent().map(std::path::Path::to_path_buf)
}

/// One app per connections file on Windows: a second launch on the same file brings the first
/// window forward and exits; another profile (`SNOWLINK_CONFIG_DIR`) gets its own window.
#[cfg(windows)]
fn single_instance<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    let builder =
        tauri_plugin_single_instance::Builder::new().callback(|app, _args, _cwd| raise(app));
    match snowlink_core::connections::ConnectionStore::in_config_dir() {
        Ok(store) => builder.dbus_id(format!("dev.snowlink.desktop.p{}", store.profile_key())),
        Err(_) => builder,
    }
    .build()
}

/// This launch's claim on its directory (Unix): `Err(())` when another app holds it, which
/// has been asked to come forward.
#[cfg(unix)]
fn claim_directory() -> Result<Option<single_instance::Guard>, ()> {
    let Some(dir) = config_dir() else {
        return Ok(None);
    };
    match single_instance::launch(&dir) {
        Ok(single_instance::Launch::First(guard)) => Ok(Some(guard)),
        Ok(single_instance::Launch::Second) => Err(()),
        Err(err) if err.kind() != std::io::ErrorKind::PermissionDenied => {
            eprintln!("Snowlink is already running, but its window did not answer ({err}).");
            Err(())
        }
        Err(err) => {
            eprintln!(
                "Snowlink cannot tell whether it already runs ({err}): {} may not be writable.",
                dir.display()
            );
            Ok(None)
        }
    }
}

/// Runs the desktop app until its last window closes. One instance at a time: a second launch
/// brings the first window forward and exits. The window's size and position are kept after
/// every move or resize (not only at a clean exit) and restored at start.
pub fn run() {
    #[cfg(unix)]
    let Ok(guard) = claim_directory() else {
        return;
    };
    let app = Builder::default();
    #[cfg(windows)]
    let app = app.plugin(single_instance());
    let app = app
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .on_window_event(|window, event| {
            if window.label() == window::MAIN
                && matches!(
                    event,
                    tauri::WindowEvent::CloseRequested { .. } | tauri::WindowEvent::Destroyed
                )
            {
                CLOSING.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            if matches!(
                event,
                tauri::WindowEvent::Moved(_) | tauri::WindowEvent::Resized(_)
            ) {
                let _ = window
                    .app_handle()
                    .save_window_state(tauri_plugin_window_state::StateFlags::all());
            }
        });
    let app = match builder(app).build(tauri::generate_context!()) {
        Ok(app) => app,
        Err(err) => {
            eprintln!("Snowlink could not start: {err}");
            std::process::exit(1);
        }
    };
    if let Err(err) = window::open_main(app.handle()) {
        eprintln!("Snowlink could not open its window: {err}");
        std::process::exit(1);
    }
    #[cfg(unix)]
    if let Some(guard) = guard {
        let handle = app.handle().clone();
        guard.serve(move || raise(&handle));
    }
    app.run(|_, event| {
        if matches!(
            event,
            tauri::RunEvent::ExitRequested { .. } | tauri::RunEvent::Exit
        ) {
            CLOSING.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    });
}

//! The bare window: Tauri's defaults, one static page, and the same start-up report as the
//! app (`snowlink_core::startup`), so `bench/benches/desktop.rs` times both the same way.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// Says on standard output that the page has rendered, when asked to.
#[tauri::command]
fn first_view_shown() {
    if std::env::var_os("SNOWLINK_REPORT_FIRST_VIEW").is_some_and(|v| v == "1") {
        println!("snowlink: first view shown");
    }
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![first_view_shown])
        .run(tauri::generate_context!())
        .unwrap_or_else(|err| eprintln!("the bare window could not start: {err}"));
}

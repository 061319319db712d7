//! The commands the UI may invoke. Each takes state, calls one core function and maps the
//! error; anything longer belongs in `snowlink-core`.

use snowlink_core::{BrowserUrl, InstanceUrlView};
use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt;

use crate::error::UiError;

/// Normalizes what the user typed as the instance address, as they type.
#[tauri::command]
pub fn parse_instance(text: String) -> Result<InstanceUrlView, UiError> {
    Ok(InstanceUrlView::parse(&text)?)
}

/// Opens an http(s) URL in the system browser (never in the app's own webview).
#[tauri::command]
pub fn open_in_browser<R: Runtime>(app: AppHandle<R>, url: String) -> Result<(), UiError> {
    let url = BrowserUrl::parse(&url)?;
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(UiError::browser_unavailable)
}

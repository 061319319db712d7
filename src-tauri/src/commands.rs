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
    let url = BrowserUrl::parse(&url).map_err(UiError::from_browser_url)?;
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(UiError::browser_unavailable)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
    use tauri::webview::InvokeRequest;
    use tauri::{WebviewUrl, WebviewWindow, WebviewWindowBuilder};

    /// The app as it ships (real config and capabilities) on the mock runtime.
    fn main_window() -> WebviewWindow<MockRuntime> {
        let app = crate::builder(mock_builder())
            .build(tauri::generate_context!())
            .unwrap();
        WebviewWindowBuilder::new(&app, "main", WebviewUrl::default())
            .build()
            .unwrap()
    }

    fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(window, request).map(|body| body.deserialize::<Value>().unwrap())
    }

    #[test]
    fn parse_instance_returns_the_view_or_a_ui_error() {
        let window = main_window();
        let ok = invoke(&window, "parse_instance", json!({ "text": "acme" })).unwrap();
        assert_eq!(ok["url"], "https://acme.service-now.com");
        assert_eq!(ok["instanceName"], "acme");

        let err = invoke(
            &window,
            "parse_instance",
            json!({ "text": "http://acme.example.com" }),
        )
        .unwrap_err();
        assert_eq!(err["code"], "invalid_input");
        assert!(
            err["message"].as_str().unwrap().contains("http://"),
            "{err}"
        );
        assert!(!err["hint"].as_str().unwrap().is_empty());
    }

    #[test]
    fn open_in_browser_refuses_non_web_schemes_before_the_opener() {
        let window = main_window();
        for url in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "smb://host/share",
        ] {
            let err = invoke(&window, "open_in_browser", json!({ "url": url })).unwrap_err();
            assert_eq!(err["code"], "invalid_input", "{url}: {err}");
        }
    }
}

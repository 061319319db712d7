//! The commands the window may invoke: a request to the engine, opening a web page in the
//! system browser, and the start-up report.

use serde_json::Value;
use snowlink_core::BrowserUrl;
use snowlink_core::views::{ErrorCode, ErrorView};
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_opener::OpenerExt;

use crate::engine::Engine;

/// Asks the engine for `method` with `params`; its events (a sign-in URL, each check, each
/// step) arrive on `events` as `{ channel, data }`, its failure as the core's `ErrorView`.
#[tauri::command]
pub async fn engine(
    engine: State<'_, Engine>,
    method: String,
    params: Value,
    events: Channel<Value>,
) -> Result<Value, Value> {
    engine.call(method, params, events).await
}

/// Opens an http(s) URL in the system browser (never in the app's own webview).
#[tauri::command]
pub fn open_in_browser<R: Runtime>(app: AppHandle<R>, url: String) -> Result<(), ErrorView> {
    let url = BrowserUrl::parse(&url).map_err(|err| {
        ErrorView::new(
            ErrorCode::InvalidInput,
            err.to_string(),
            "Copy the address into your browser yourself if you trust it.",
        )
    })?;
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(|detail| {
            ErrorView::new(
                ErrorCode::BrowserUnavailable,
                format!("The system browser could not be opened ({detail})."),
                "Copy the address and open it in your browser yourself.",
            )
            .retryable(true)
        })
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
    fn without_its_engine_a_request_says_so_and_can_be_retried() {
        // The test binary has no `snowlink` beside it.
        let window = main_window();
        let err = invoke(
            &window,
            "engine",
            json!({ "method": "list_connections", "params": {}, "events": "__CHANNEL__:7" }),
        )
        .unwrap_err();
        assert_eq!(err["code"], "internal", "{err}");
        assert_eq!(err["retryable"], true, "{err}");
        assert!(
            err["message"]
                .as_str()
                .unwrap()
                .contains("could not be started"),
            "{err}"
        );
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

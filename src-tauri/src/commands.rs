//! The command the window sends its requests through: `relay`, which hands one request to the
//! engine beside the app and brings back its events and its answer.

use serde_json::Value;
use tauri::State;
use tauri::ipc::Channel;

use crate::engine::EngineProcess;

/// Asks the engine for `method` with `params`; its events (a sign-in URL, each check, each
/// step) arrive on `events` as `{ channel, data }`, its failure as the core's `ErrorView`.
#[tauri::command]
pub async fn relay(
    engine: State<'_, EngineProcess>,
    method: String,
    params: Value,
    events: Channel<Value>,
) -> Result<Value, Value> {
    engine.call(method, params, Some(events)).await
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
            "relay",
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
}

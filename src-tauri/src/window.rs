//! The main window, opened with the engine's first answer already in it. The connections are
//! read (a few milliseconds) before the window is made, and handed to the page as it loads, so
//! the first frame the window paints shows them. Asked for by the page instead, the answer
//! waits behind WebKit's loading of that page (80 ms and more on a slow machine, measured with
//! `bench/`), and the window paints an empty frame first.

use std::time::Duration;

use serde_json::{Value, json};
use tauri::{AppHandle, Manager, Runtime, WebviewWindowBuilder};

use crate::engine::EngineProcess;

/// The window's label in `tauri.conf.json` (where it is marked not to be made at start).
pub const MAIN: &str = "main";
/// How long the window waits for the first answer; without it the page asks itself.
const FIRST_ANSWER_WAIT: Duration = Duration::from_secs(2);
/// Where the page finds the answer (`firstConnections` in `ui/src/lib/api.ts`).
const HANDED_OVER: &str = "__SNOWLINK_CONNECTIONS__";

/// Reads the connections, then opens the main window as configured, with them in it.
pub fn open_main<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|window| window.label == MAIN)
        .cloned()
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    let engine = app.state::<EngineProcess>();
    let answer = tauri::async_runtime::block_on(async {
        let asked = engine.call("list_connections".into(), json!({}), None);
        tokio::time::timeout(FIRST_ANSWER_WAIT, asked).await
    });
    let mut window = WebviewWindowBuilder::from_config(app, &config)?;
    if let Ok(answer) = answer {
        window = window.initialization_script(hand_over(&answer));
    }
    window.build()?;
    Ok(())
}

/// The script that gives the page `answer`, shaped as the engine's answer lines: one JSON
/// value, which is JavaScript as it stands (every quote and control character in a name from
/// the file is escaped by the encoder). Only the app's own page gets it (`tauri://localhost`,
/// or `http(s)://tauri.localhost` on Windows), never a page the webview was sent to.
fn hand_over(answer: &Result<Value, Value>) -> String {
    let line = match answer {
        Ok(value) => json!({ "ok": value }),
        Err(error) => json!({ "error": error }),
    };
    format!(
        "if (location.protocol === 'tauri:' || location.hostname === 'tauri.localhost') \
         window.{HANDED_OVER} = {line};"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handed_over_answer_is_one_inert_value() {
        let hostile = "\"; alert(1); \"</script><img src=x onerror=alert(1)>\u{2028}\n";
        let answer = Ok(json!([{ "displayName": hostile }]));
        let script = hand_over(&answer);
        let (guard, value) = script
            .split_once(" window.__SNOWLINK_CONNECTIONS__ = ")
            .expect("one assignment");
        assert!(
            guard.starts_with("if (location.protocol === 'tauri:'"),
            "{guard}"
        );
        let value = value.strip_suffix(';').expect("one statement");
        let parsed: Value = serde_json::from_str(value).unwrap();
        assert_eq!(parsed["ok"][0]["displayName"], hostile);
        assert!(
            !value.contains('\n'),
            "no raw line break ends the statement early"
        );

        let failed = hand_over(&Err(json!({ "code": "config_error" })));
        assert!(
            failed.ends_with("{\"error\":{\"code\":\"config_error\"}};"),
            "{failed}"
        );
    }
}

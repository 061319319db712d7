//! "Try it on a simulated instance": starts the simulator that ships with the app (the
//! `snowlink` binary beside the app's own, `snowlink sim --seed demo`) and hands its address
//! and admin account to the wizard. The simulator stops with the app: it serves only while its
//! standard input, held here, stays open. It gets none of Snowlink's secret variables.

use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use snowlink_core::secrets::SECRET_ENV_VARS;
use snowlink_core::views::{ErrorCode, ErrorView};
use tauri::State;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

use crate::error::UiError;

/// A running simulated instance, as the wizard needs it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct DemoInstance {
    pub url: String,
    pub admin_username: String,
    pub admin_password: String,
}

/// The simulator's first line.
#[derive(Deserialize)]
struct Started {
    url: String,
    admin: Admin,
}

#[derive(Deserialize)]
struct Admin {
    user_name: String,
    password: String,
}

/// The simulator started by this app, if any.
#[derive(Default)]
pub struct Demo(Mutex<Option<(Child, DemoInstance)>>);

fn unavailable(detail: impl std::fmt::Display) -> UiError {
    UiError(
        ErrorView::new(
            ErrorCode::Internal,
            format!("The simulated instance could not start ({detail})."),
            "Reinstall Snowlink, or run `snowlink sim` in a terminal and type its address.",
        )
        .retryable(true),
    )
}

/// The simulator binary shipped beside the app.
fn simulator() -> Result<std::path::PathBuf, UiError> {
    let exe = std::env::current_exe().map_err(unavailable)?;
    let path = exe.with_file_name(format!("snowlink{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Ok(path)
    } else {
        Err(unavailable(format!("{} is missing", path.display())))
    }
}

#[tauri::command]
pub async fn start_demo_instance(demo: State<'_, Demo>) -> Result<DemoInstance, UiError> {
    let mut running = demo.0.lock().await;
    if let Some((child, instance)) = running.as_mut()
        && child.try_wait().ok().flatten().is_none()
    {
        return Ok(instance.clone());
    }
    let mut command = Command::new(simulator()?);
    command
        .args(["sim", "--seed", "demo", "--json", "--while-stdin-open"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for name in SECRET_ENV_VARS {
        command.env_remove(name);
    }
    let mut child = command.spawn().map_err(unavailable)?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| unavailable("no output"))?;
    let mut first = String::new();
    let read = tokio::time::timeout(
        Duration::from_secs(20),
        BufReader::new(stdout).read_line(&mut first),
    )
    .await;
    match read {
        Ok(Ok(n)) if n > 0 => {}
        Ok(Err(err)) => return Err(unavailable(err)),
        Ok(Ok(_)) => return Err(unavailable("it ended at once")),
        Err(_) => return Err(unavailable("it did not answer within 20 seconds")),
    }
    let started: Started = serde_json::from_str(first.trim()).map_err(unavailable)?;
    let instance = DemoInstance {
        url: started.url,
        admin_username: started.admin.user_name,
        admin_password: started.admin.password,
    };
    *running = Some((child, instance.clone()));
    Ok(instance)
}

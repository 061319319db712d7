//! The engine beside the app: `snowlink serve`, the binary shipped next to the app's own,
//! started when the app starts and again if it ever stops. Every request of the window goes
//! to it as one JSON line and comes back as its events and its answer (see
//! `snowlink_bridge::serve`); this side only relays them. The engine stops with the app: its
//! standard input, held here, closes when the app exits.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::Deserialize;
use serde_json::{Value, json};
use snowlink_core::errors::FrontEndError;
use tauri::ipc::Channel;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::oneshot;

type Answer = Result<Value, Value>;

/// A request waiting for its answer, and where its events go meanwhile (nowhere for one the
/// shell asks itself).
struct Pending {
    events: Option<Channel<Value>>,
    answer: oneshot::Sender<Answer>,
}

type PendingMap = Arc<Mutex<HashMap<u64, Pending>>>;

struct Running {
    child: Child,
    stdin: ChildStdin,
    pending: PendingMap,
}

/// The engine process and the requests it is answering.
#[derive(Default)]
pub struct EngineProcess {
    running: tokio::sync::Mutex<Option<Running>>,
    next_id: AtomicU64,
}

/// One line from the engine.
#[derive(Deserialize)]
struct Line {
    id: Option<u64>,
    event: Option<Value>,
    ok: Option<Value>,
    error: Option<Value>,
}

impl EngineProcess {
    /// Sends `method` with `params` to the engine; its events go to `events`.
    pub async fn call(
        &self,
        method: String,
        params: Value,
        events: Option<Channel<Value>>,
    ) -> Answer {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (answer, answered) = oneshot::channel();
        {
            let mut guard = self.running.lock().await;
            let running = ensure_running(&mut guard)?;
            lock(&running.pending).insert(id, Pending { events, answer });
            let mut line = json!({ "id": id, "method": method, "params": params }).to_string();
            line.push('\n');
            if let Err(err) = running.stdin.write_all(line.as_bytes()).await {
                lock(&running.pending).remove(&id);
                *guard = None;
                return Err(stopped(&err.to_string()));
            }
        }
        answered
            .await
            .unwrap_or_else(|_| Err(stopped("it stopped while answering")))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The running engine, started (again) when there is none or it has exited.
fn ensure_running(slot: &mut Option<Running>) -> Result<&mut Running, Value> {
    let exited = match slot.as_mut() {
        Some(running) => !matches!(running.child.try_wait(), Ok(None)),
        None => true,
    };
    if exited {
        *slot = Some(spawn()?);
    }
    slot.as_mut().ok_or_else(|| stopped("it could not start"))
}

fn spawn() -> Result<Running, Value> {
    let exe = std::env::current_exe().map_err(|err| stopped(&err.to_string()))?;
    let path = exe.with_file_name(format!("snowlink{}", std::env::consts::EXE_SUFFIX));
    let mut command = Command::new(&path);
    command
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    // The engine reads no secret from its environment: give it none.
    for name in snowlink_core::env::secrets_to_withhold() {
        command.env_remove(name);
    }
    let mut child = command
        .spawn()
        .map_err(|err| stopped(&format!("{} could not be started: {err}", path.display())))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(stopped("its pipes could not be opened"));
    };
    let pending = PendingMap::default();
    let routes = pending.clone();
    tauri::async_runtime::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(text)) = lines.next_line().await {
            route(&routes, &text);
        }
        // The engine is gone: every request still waiting hears so.
        for (_, waiting) in lock(&routes).drain() {
            let _ = waiting
                .answer
                .send(Err(stopped("it stopped while answering")));
        }
    });
    Ok(Running {
        child,
        stdin,
        pending,
    })
}

/// Hands one line from the engine to the request it belongs to.
fn route(pending: &PendingMap, text: &str) {
    let Ok(line) = serde_json::from_str::<Line>(text) else {
        return;
    };
    let Some(id) = line.id else {
        return;
    };
    let mut waiting = lock(pending);
    if let Some(event) = line.event {
        if let Some(events) = waiting.get(&id).and_then(|request| request.events.as_ref()) {
            let _ = events.send(event);
        }
        return;
    }
    if let Some(request) = waiting.remove(&id) {
        let answer = match (line.ok, line.error) {
            (_, Some(error)) => Err(error),
            (ok, None) => Ok(ok.unwrap_or(Value::Null)),
        };
        let _ = request.answer.send(answer);
    }
}

/// The error a request gets when the engine cannot answer it.
fn stopped(detail: &str) -> Value {
    let view = FrontEndError::EngineStopped(detail.to_owned()).view();
    serde_json::to_value(view).unwrap_or(Value::Null)
}

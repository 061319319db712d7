//! The CI/CD API's update set endpoints, as pipelines call them:
//! `POST /api/sn_cicd/update_set/preview/{remote_update_set_id}`,
//! `POST /api/sn_cicd/update_set/commit/{remote_update_set_id}` (both answer with a progress
//! link and status 0 "Pending") and `GET /api/sn_cicd/progress/{id}` (2 "Successful" or
//! 3 "Failed" with the reason). The work itself is done at once; only the shape is asynchronous.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::app::App;
use crate::platform::instance::random_hex;
use crate::platform::update_sets::{commit, preview};
use crate::rest::errors::ApiError;

const API: &str = "CICD Update Set API";

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/api/sn_cicd/update_set/preview/{sys_id}",
            post(preview_set),
        )
        .route("/api/sn_cicd/update_set/commit/{sys_id}", post(commit_set))
        .route("/api/sn_cicd/progress/{id}", get(progress))
}

fn label(status: u8) -> &'static str {
    match status {
        0 => "Pending",
        1 => "Running",
        2 => "Successful",
        _ => "Failed",
    }
}

fn body(base: &str, id: &str, (status, message, error): &(u8, String, String)) -> Value {
    json!({ "result": {
        "links": { "progress": { "id": id, "url": format!("{base}/api/sn_cicd/progress/{id}") } },
        "status": status.to_string(),
        "status_label": label(*status),
        "status_message": message,
        "status_detail": "",
        "error": error,
        "percent_complete": if *status >= 2 { 100 } else { 0 },
    }})
}

/// Runs `work` for a security admin and answers with a pending progress record.
fn start(
    app: &App,
    headers: &HeaderMap,
    work: impl FnOnce(&mut crate::platform::instance::Instance, &str) -> Result<String, String>,
) -> Response {
    let caller = match crate::rest::auth::caller(app, headers, API) {
        Ok(caller) if caller.has_role("security_admin") => caller,
        Ok(_) => return ApiError::ApiAclFailed.into_response(),
        Err(err) => return err.into_response(),
    };
    let id = random_hex(16);
    let mut instance = app.lock();
    let outcome = match work(&mut instance, &caller.user_name) {
        Ok(message) => (2, message, String::new()),
        Err(error) => (3, String::new(), error),
    };
    instance.progress.insert(id.clone(), outcome);
    let pending = (0, String::new(), String::new());
    axum::Json(body(&instance.base_url, &id, &pending)).into_response()
}

async fn preview_set(
    State(app): State<Arc<App>>,
    Path(sys_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    start(&app, &headers, |instance, by| {
        let problems = preview(instance, &sys_id, by).map_err(|e| e.to_string())?;
        Ok(format!(
            "Update set previewed with {} problem(s)",
            problems.len()
        ))
    })
}

async fn commit_set(
    State(app): State<Arc<App>>,
    Path(sys_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let response = start(&app, &headers, |instance, by| {
        commit(instance, &sys_id, by)
            .map(|n| format!("Committed {n} update(s)"))
            .map_err(|e| e.to_string())
    });
    app.flush_outbound();
    response
}

async fn progress(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(err) = crate::rest::auth::caller(&app, &headers, API) {
        return err.into_response();
    }
    let instance = app.lock();
    match instance.progress.get(&id) {
        Some(state) => axum::Json(body(&instance.base_url, &id, state)).into_response(),
        None => ApiError::NotFound.into_response(),
    }
}

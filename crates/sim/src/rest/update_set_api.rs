//! The REST face of update sets (a design of ours: the instance itself only offers the upload
//! form, which the admin pages mirror). `POST /api/x_snowlink_sim/update_sets` with the unload
//! XML as body imports; `.../{sys_id}/preview` and `.../{sys_id}/commit` move it on. All three
//! need `security_admin`, as importing on an instance does.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::app::App;
use crate::platform::update_sets::{UpdateSetError, commit, import, preview};
use crate::rest::errors::ApiError;

const API: &str = "Update Set API";

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/x_snowlink_sim/update_sets", post(upload))
        .route(
            "/api/x_snowlink_sim/update_sets/{sys_id}/preview",
            post(preview_set),
        )
        .route(
            "/api/x_snowlink_sim/update_sets/{sys_id}/commit",
            post(commit_set),
        )
}

fn failure(err: UpdateSetError) -> ApiError {
    match err {
        UpdateSetError::NotFound => ApiError::NotFound,
        other => ApiError::BadRequest {
            message: other.to_string(),
            detail: String::new(),
        },
    }
}

fn security_admin(
    app: &App,
    headers: &HeaderMap,
) -> Result<crate::platform::identity::Caller, ApiError> {
    let caller = crate::rest::auth::caller(app, headers, API)?;
    if caller.has_role("security_admin") {
        Ok(caller)
    } else {
        Err(ApiError::InsertDenied)
    }
}

/// The JSON answer with `status`, or the error's own response.
fn reply(status: StatusCode, result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(body) => (status, axum::Json(body)).into_response(),
        Err(err) => err.into_response(),
    }
}

async fn upload(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let result = security_admin(&app, &headers).and_then(|caller| {
        let xml = String::from_utf8_lossy(&body);
        let mut instance = app.lock();
        let id = import(&mut instance, &xml, &caller.user_name).map_err(failure)?;
        let set = instance.get("sys_remote_update_set", &id).unwrap_or_default();
        Ok(json!({ "result": { "sys_id": id, "name": set.get("name"), "state": set.get("state") } }))
    });
    reply(StatusCode::CREATED, result)
}

async fn preview_set(
    State(app): State<Arc<App>>,
    Path(sys_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = security_admin(&app, &headers).and_then(|caller| {
        let problems = preview(&mut app.lock(), &sys_id, &caller.user_name).map_err(failure)?;
        let problems: Vec<_> = problems
            .into_iter()
            .map(|d| json!({ "type": "error", "description": d }))
            .collect();
        Ok(json!({ "result": { "sys_id": sys_id, "state": "previewed", "problems": problems } }))
    });
    reply(StatusCode::OK, result)
}

async fn commit_set(
    State(app): State<Arc<App>>,
    Path(sys_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = security_admin(&app, &headers).and_then(|caller| {
        let applied = commit(&mut app.lock(), &sys_id, &caller.user_name).map_err(failure)?;
        Ok(json!({ "result": { "sys_id": sys_id, "state": "committed", "applied": applied.to_string() } }))
    });
    app.flush_outbound();
    reply(StatusCode::OK, result)
}

//! The CI/CD API's update set endpoints, as pipelines call them:
//! `POST /api/sn_cicd/update_set/preview/{remote_update_set_id}`,
//! `POST /api/sn_cicd/update_set/commit/{remote_update_set_id}` (both answer with a progress
//! link and status "0" Pending) and `GET /api/sn_cicd/progress/{id}` ("1" Running for a few
//! reads, then "2" Successful or "3" Failed with the reason). They need `admin` or
//! `sn_cicd.sys_ci_automation`; with the `no-cicd` fault the paths do not exist (servicenow.md
//! item 34), with `cicd-busy` every operation stays "Running", and with
//! `commit-needs-elevation` a set holding ACLs cannot be committed here.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::app::App;
use crate::platform::instance::{Instance, Job, random_hex};
use crate::platform::update_sets::{commit, holds_acls, preview};
use crate::rest::errors::ApiError;

const API: &str = "CICD Update Set API";
/// The role that runs the CI/CD API without being admin.
const ROLE: &str = "sn_cicd.sys_ci_automation";
/// Progress reads that answer "Running" before the outcome.
const RUNNING_READS: u32 = 2;

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
        3 => "Failed",
        _ => "Canceled",
    }
}

fn body(base: &str, id: &str, status: u8, job: &Job) -> Value {
    let (message, error) = if status >= 2 {
        (job.message.as_str(), job.error.as_str())
    } else {
        ("", "")
    };
    json!({ "result": {
        "links": { "progress": { "id": id, "url": format!("{base}/api/sn_cicd/progress/{id}") } },
        "status": status.to_string(),
        "status_label": label(status),
        "status_message": message,
        "status_detail": "",
        "error": error,
        "percent_complete": match status { 0 => 0, 1 => 50, _ => 100 },
    }})
}

/// Who may call the API, or its refusal; no API at all under `no-cicd`.
fn allowed(app: &App, headers: &HeaderMap) -> Result<String, ApiError> {
    if app.faults().no_cicd {
        return Err(ApiError::UnknownResource);
    }
    let caller = crate::rest::auth::caller(app, headers, API)?;
    if caller.is_admin() || caller.has_role(ROLE) {
        Ok(caller.user_name)
    } else {
        Err(ApiError::ApiAclFailed)
    }
}

/// Runs `work` for an allowed caller and answers with a pending progress record.
fn start(
    app: &App,
    headers: &HeaderMap,
    work: impl FnOnce(&mut Instance, &str) -> Result<String, String>,
) -> Response {
    let by = match allowed(app, headers) {
        Ok(by) => by,
        Err(err) => return err.into_response(),
    };
    let id = random_hex(16);
    let canceled = app.faults().cicd_canceled;
    let mut instance = app.lock();
    let (status, message, error) = if canceled {
        (4, String::new(), "The operation was canceled".to_owned())
    } else {
        match work(&mut instance, &by) {
            Ok(message) => (2, message, String::new()),
            Err(error) => (3, String::new(), error),
        }
    };
    let job = Job {
        status,
        message,
        error,
        running_reads: RUNNING_READS,
    };
    let pending = body(&instance.base_url, &id, 0, &job);
    instance.progress.insert(id, job);
    axum::Json(pending).into_response()
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
    let needs_elevation = app.faults().commit_needs_elevation;
    let response = start(&app, &headers, |instance, by| {
        if needs_elevation && holds_acls(instance, &sys_id) {
            return Err(
                "Committing ACLs requires the security_admin role elevated in the \
                        session; the CI/CD API runs without it"
                    .into(),
            );
        }
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
    if let Err(err) = allowed(&app, &headers) {
        return err.into_response();
    }
    let busy = app.faults().cicd_busy;
    let mut instance = app.lock();
    let base = instance.base_url.clone();
    match instance.progress.get_mut(&id) {
        Some(job) => {
            let status = if busy {
                1
            } else if job.running_reads > 0 {
                job.running_reads -= 1;
                1
            } else {
                job.status
            };
            axum::Json(body(&base, &id, status, job)).into_response()
        }
        None => ApiError::NotFound.into_response(),
    }
}

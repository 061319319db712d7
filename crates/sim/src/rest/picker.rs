//! The update set picker's endpoints, as the instance's UI and tools that run against live
//! instances call them (docs/servicenow.md 5.2): `GET /api/now/ui/concoursepicker/current` reads
//! the caller's current update set, `PUT /api/now/ui/concoursepicker/updateset` with
//! `{"sysId"}` chooses it (a set in progress; anything else is refused).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde_json::{Value, json};

use crate::app::App;
use crate::rest::errors::ApiError;

const API: &str = "UI Update Set Picker";

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/now/ui/concoursepicker/current", get(current))
        .route("/api/now/ui/concoursepicker/updateset", put(choose))
}

async fn current(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let answer = || -> Result<Value, ApiError> {
        let caller = crate::rest::auth::caller(&app, &headers, API)?;
        let set = app.lock().current_update_set(&caller.user_name);
        let field = |name: &str| {
            set.as_ref()
                .and_then(|s| s.get(name).cloned())
                .unwrap_or_default()
        };
        Ok(json!({ "result": { "currentUpdateSet": {
            "sysId": field("sys_id"),
            "name": field("name"),
        }}}))
    };
    answer()
        .map(|v| axum::Json(v).into_response())
        .unwrap_or_else(IntoResponse::into_response)
}

async fn choose(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = || -> Result<Value, ApiError> {
        let caller = crate::rest::auth::caller(&app, &headers, API)?;
        let wanted = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("sysId").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        if app.lock().choose_update_set(&caller.user_name, &wanted) {
            Ok(json!({ "result": { "success": true } }))
        } else {
            Err(ApiError::BadRequest {
                message: "Invalid update set".into(),
                detail: format!("No update set in progress with sys_id {wanted:.64}"),
            })
        }
    };
    answer()
        .map(|v| axum::Json(v).into_response())
        .unwrap_or_else(IntoResponse::into_response)
}

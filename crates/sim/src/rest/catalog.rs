//! Service Catalog ordering, `POST /api/sn_sc/servicecatalog/items/{sys_id}/order_now`: creates
//! an `sc_request` with one `sc_req_item` and answers with the real response shape
//! `{"result":{"sys_id","number","request_number","request_id","table":"sc_request"}}`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::app::App;
use crate::db::store::Record;
use crate::rest::errors::ApiError;
use crate::rest::table::store_error;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/api/sn_sc/servicecatalog/items/{sys_id}/order_now",
            post(latest),
        )
        .route(
            "/api/sn_sc/{version}/servicecatalog/items/{sys_id}/order_now",
            post(versioned),
        )
}

async fn latest(
    State(app): State<Arc<App>>,
    Path(item): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    order(&app, &item, &headers, &body).unwrap_or_else(IntoResponse::into_response)
}

async fn versioned(
    State(app): State<Arc<App>>,
    Path((_, item)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    order(&app, &item, &headers, &body).unwrap_or_else(IntoResponse::into_response)
}

fn order(
    app: &Arc<App>,
    item_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let caller = crate::rest::auth::caller(app, headers, "Service Catalog API")?;
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let quantity = match body.get("sysparm_quantity") {
        Some(Value::String(q)) => q.clone(),
        Some(Value::Number(q)) => q.to_string(),
        _ => "1".to_owned(),
    };
    let result = {
        let mut instance = app.lock();
        let item = instance
            .get("sc_cat_item", item_id)
            .filter(|item| item.get("active").is_none_or(|a| a == "true"))
            .ok_or(ApiError::NotFound)?;
        let name = item.get("name").cloned().unwrap_or_default();
        let request = Record::from([
            ("requested_for".into(), caller.user_id.clone()),
            ("opened_by".into(), caller.user_id.clone()),
            ("request_state".into(), "requested".into()),
            ("short_description".into(), name.clone()),
        ]);
        let request = instance
            .insert("sc_request", request, &caller.user_name)
            .map_err(store_error)?;
        let request_id = request.get("sys_id").cloned().unwrap_or_default();
        let number = request.get("number").cloned().unwrap_or_default();
        let line = Record::from([
            ("cat_item".into(), item_id.to_owned()),
            ("request".into(), request_id.clone()),
            ("quantity".into(), quantity),
            ("short_description".into(), name),
            ("opened_by".into(), caller.user_id.clone()),
        ]);
        instance
            .insert("sc_req_item", line, &caller.user_name)
            .map_err(store_error)?;
        json!({ "result": {
            "sys_id": request_id, "number": number, "request_number": number,
            "request_id": request_id, "table": "sc_request"
        }})
    };
    app.flush_outbound();
    Ok(axum::Json(result).into_response())
}

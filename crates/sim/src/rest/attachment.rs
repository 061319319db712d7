//! The Attachment API (servicenow.md 2.12): `GET /api/now/attachment` lists attachments'
//! metadata (`sysparm_query` or name-value pairs: `table_name`, `table_sys_id`),
//! `POST /api/now/attachment/file?table_name&table_sys_id&file_name` takes the raw body,
//! `POST /api/now/attachment/upload` a multipart form (`table_name`, `table_sys_id`, then the
//! file), `GET …/{sys_id}` the metadata, `GET …/{sys_id}/file` the bytes with their content type,
//! `DELETE …/{sys_id}` 204. Metadata lives in `sys_attachment`, the bytes (base64) in
//! `sys_attachment_doc`. An attachment is as readable as its record: the record's row ACLs
//! decide, and one the caller cannot read is "not found"; attaching or deleting needs write on
//! the record (the simulator's model of the `sys_attachment` ACLs).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::db::store::{Record, record_of};
use crate::platform::acl::{Acls, Operation};
use crate::platform::identity::Caller;
use crate::platform::instance::Instance;
use crate::rest::auth::api_access;
use crate::rest::errors::ApiError;
use crate::rest::params::{list_query, number, param, params};

const API: &str = "Attachment API";

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/now/attachment", get(list_handler))
        .route("/api/now/attachment/file", post(file_handler))
        .route("/api/now/attachment/upload", post(upload_handler))
        .route(
            "/api/now/attachment/{sys_id}",
            get(meta_handler).delete(delete_handler),
        )
        .route("/api/now/attachment/{sys_id}/file", get(bytes_handler))
}

fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn list_handler(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond(list(&app, raw.as_deref(), &headers))
}

async fn file_handler(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = params(raw.as_deref());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let target = (
        param(&params, "table_name").unwrap_or_default().to_owned(),
        param(&params, "table_sys_id")
            .unwrap_or_default()
            .to_owned(),
    );
    let file_name = param(&params, "file_name").unwrap_or_default().to_owned();
    respond(attach(
        &app,
        &headers,
        target,
        (&file_name, &content_type),
        &body,
    ))
}

async fn upload_handler(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let (mut table, mut record) = (String::new(), String::new());
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(file_name) = field.file_name().map(str::to_owned) {
            let content_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned();
            let Ok(bytes) = field.bytes().await else {
                return bad("The file could not be read").into_response();
            };
            return respond(attach(
                &app,
                &headers,
                (table, record),
                (&file_name, &content_type),
                &bytes,
            ));
        }
        let value = field.text().await.unwrap_or_default();
        match name.as_str() {
            "table_name" => table = value,
            "table_sys_id" => record = value,
            _ => {}
        }
    }
    bad("No file part in the upload").into_response()
}

async fn meta_handler(
    State(app): State<Arc<App>>,
    Path(sys_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond(readable(&app, &headers, &sys_id).map(|(_, meta)| {
        let instance = app.lock();
        axum::Json(json!({ "result": shown(&instance, &meta) })).into_response()
    }))
}

async fn bytes_handler(
    State(app): State<Arc<App>>,
    Path(sys_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond(readable(&app, &headers, &sys_id).map(|(data, meta)| {
        let mut response = (StatusCode::OK, data).into_response();
        let kind = meta.get("content_type").cloned().unwrap_or_default();
        if let Ok(kind) = HeaderValue::from_str(&kind) {
            response.headers_mut().insert(header::CONTENT_TYPE, kind);
        }
        response
    }))
}

async fn delete_handler(
    State(app): State<Arc<App>>,
    Path(sys_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond(delete(&app, &headers, &sys_id))
}

fn bad(detail: &str) -> ApiError {
    ApiError::BadRequest {
        message: "Bad Request".into(),
        detail: detail.into(),
    }
}

/// The `(table, sys_id)` of the record an attachment belongs to.
fn target(meta: &Record) -> (&str, &str) {
    (
        meta.get("table_name").map_or("", String::as_str),
        meta.get("table_sys_id").map_or("", String::as_str),
    )
}

/// Whether the caller may do `operation` on the record an attachment belongs to.
fn record_allows(
    instance: &Instance,
    (caller, acls): (&Caller, &Acls),
    (table, sys_id): (&str, &str),
    operation: Operation,
) -> bool {
    instance
        .db
        .locate(table, sys_id)
        .is_some_and(|(physical, row)| {
            acls.row_allows(instance, caller, table, (&physical, row), operation)
        })
}

fn list(app: &App, raw: Option<&str>, headers: &HeaderMap) -> Result<Response, ApiError> {
    let instance = app.lock();
    let (caller, acls) = api_access(&instance, headers, API)?;
    let params = params(raw);
    let query = list_query(&params);
    let limit = number(&params, "sysparm_limit", 1000);
    let context = instance.context_for(&caller.user_id);
    let (_, rows) = instance
        .db
        .select("sys_attachment", &query, &context, 0, usize::MAX);
    let result: Vec<Value> = rows
        .iter()
        .filter_map(|(physical, row)| {
            let meta = instance.db.record(physical, *row);
            record_allows(&instance, (&caller, &acls), target(&meta), Operation::Read)
                .then(|| shown(&instance, &meta))
        })
        .take(limit)
        .collect();
    Ok(axum::Json(json!({ "result": result })).into_response())
}

/// The metadata as the API shows it (every field of `sys_attachment`), with its download link.
fn shown(instance: &Instance, meta: &Record) -> Value {
    let mut out = serde_json::Map::new();
    for field in instance.db.schemas.field_names("sys_attachment") {
        let value = meta.get(&field).cloned().unwrap_or_default();
        out.insert(field, Value::String(value));
    }
    let id = meta.get("sys_id").cloned().unwrap_or_default();
    out.insert(
        "download_link".into(),
        Value::String(format!(
            "{}/api/now/attachment/{id}/file",
            instance.base_url
        )),
    );
    Value::Object(out)
}

fn attach(
    app: &App,
    headers: &HeaderMap,
    (table, record): (String, String),
    (file_name, content_type): (&str, &str),
    data: &[u8],
) -> Result<Response, ApiError> {
    let mut instance = app.lock();
    let (caller, acls) = api_access(&instance, headers, API)?;
    for (value, name) in [(&table, "table_name"), (&record, "table_sys_id")] {
        if value.is_empty() {
            return Err(bad(&format!("Missing parameter: {name}")));
        }
    }
    if file_name.is_empty() {
        return Err(bad("Missing parameter: file_name"));
    }
    if !instance.db.schemas.exists(&table) {
        return Err(ApiError::InvalidTable(table));
    }
    if instance.db.locate(&table, &record).is_none() {
        return Err(ApiError::NotFound);
    }
    if !record_allows(
        &instance,
        (&caller, &acls),
        (&table, &record),
        Operation::Write,
    ) {
        return Err(ApiError::InsertDenied);
    }
    let hash: String = Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let meta = record_of(&[
        ("file_name", file_name),
        ("content_type", content_type),
        ("size_bytes", &data.len().to_string()),
        ("table_name", &table),
        ("table_sys_id", &record),
        ("hash", &hash),
    ]);
    let meta = instance
        .insert("sys_attachment", meta, &caller.user_name)
        .map_err(crate::rest::table::store_error)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let doc = record_of(&[
        ("sys_attachment", &meta["sys_id"]),
        ("position", "0"),
        ("data", &encoded),
    ]);
    instance
        .insert("sys_attachment_doc", doc, &caller.user_name)
        .map_err(crate::rest::table::store_error)?;
    let body = json!({ "result": shown(&instance, &meta) });
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!(
        "{}/api/now/attachment/{}",
        instance.base_url, meta["sys_id"]
    )) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The bytes and metadata of an attachment the caller may read; "not found" otherwise.
fn readable(app: &App, headers: &HeaderMap, sys_id: &str) -> Result<(Vec<u8>, Record), ApiError> {
    let instance = app.lock();
    let (caller, acls) = api_access(&instance, headers, API)?;
    let meta = instance
        .get("sys_attachment", sys_id)
        .ok_or(ApiError::NotFound)?;
    if !record_allows(&instance, (&caller, &acls), target(&meta), Operation::Read) {
        return Err(ApiError::NotFound);
    }
    let data = instance
        .query("sys_attachment_doc", &format!("sys_attachment={sys_id}"))
        .first()
        .and_then(|doc| doc.get("data").cloned())
        .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
        .unwrap_or_default();
    Ok((data, meta))
}

fn delete(app: &App, headers: &HeaderMap, sys_id: &str) -> Result<Response, ApiError> {
    let mut instance = app.lock();
    let (caller, acls) = api_access(&instance, headers, API)?;
    let meta = instance
        .get("sys_attachment", sys_id)
        .ok_or(ApiError::NotFound)?;
    let target = target(&meta);
    if !record_allows(&instance, (&caller, &acls), target, Operation::Read) {
        return Err(ApiError::NotFound);
    }
    if !record_allows(&instance, (&caller, &acls), target, Operation::Write) {
        return Err(ApiError::DeleteDenied);
    }
    for doc in instance.query("sys_attachment_doc", &format!("sys_attachment={sys_id}")) {
        let _ = instance.delete("sys_attachment_doc", &doc["sys_id"]);
    }
    instance
        .delete("sys_attachment", sys_id)
        .map_err(crate::rest::table::store_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

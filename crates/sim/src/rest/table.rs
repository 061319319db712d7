//! The REST Table API, `/api/now[/v1|/v2]/table/{table}[/{sys_id}]`: GET 200, POST 201,
//! PUT/PATCH 200, DELETE 204, the real error bodies, `X-Total-Count` and `Link` headers.
//! `sysparm_limit` is applied before row ACLs, so a caller can get fewer rows than asked for
//! with a 200 and no hint why — exactly the silent partial read clients must survive.

use std::sync::{Arc, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::db::store::Record;
use crate::platform::acl::{Acls, Operation};
use crate::platform::identity::Caller;
use crate::platform::instance::{Instance, StoreError};
use crate::rest::auth::api_access;
use crate::rest::errors::ApiError;
use crate::rest::params::{flag, list_query, number, params};
use crate::rest::render::{RenderOptions, Renderer};
use crate::rest::writes::{INPUT_DISPLAY_VALUE, prepare};

const DEFAULT_LIMIT: usize = 10_000;
const API: &str = "Table API";

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/api/now/table/{table}",
            get(list_handler).post(create_handler),
        )
        .route(
            "/api/now/table/{table}/{sys_id}",
            get(read_handler)
                .put(update_handler)
                .patch(update_handler)
                .delete(delete_handler),
        )
        .route(
            "/api/now/{version}/table/{table}",
            get(list_handler).post(create_handler),
        )
        .route(
            "/api/now/{version}/table/{table}/{sys_id}",
            get(read_handler)
                .put(update_handler)
                .patch(update_handler)
                .delete(delete_handler),
        )
}

/// Which API version the path named. Only the v1 contract answers an empty list with 404.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    Latest,
    V1,
    V2,
}

fn version(text: &str) -> Result<Version, ApiError> {
    match text {
        "v1" => Ok(Version::V1),
        "v2" => Ok(Version::V2),
        _ => Err(ApiError::UnknownResource),
    }
}

/// A table path, with or without the version segment.
#[derive(Deserialize)]
struct TablePath {
    version: Option<String>,
    table: String,
}

/// A record path, with or without the version segment.
#[derive(Deserialize)]
struct RecordPath {
    version: Option<String>,
    table: String,
    sys_id: String,
}

/// The version a path named; an unknown one is refused before anything else happens.
fn path_version(named: Option<&str>) -> Result<Version, ApiError> {
    named.map_or(Ok(Version::Latest), version)
}

async fn list_handler(
    State(app): State<Arc<App>>,
    Path(path): Path<TablePath>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    path_version(path.version.as_deref())
        .and_then(|v| list(&app, v, &path.table, raw.as_deref(), &headers))
        .unwrap_or_else(IntoResponse::into_response)
}

async fn read_handler(
    State(app): State<Arc<App>>,
    Path(path): Path<RecordPath>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    path_version(path.version.as_deref())
        .and_then(|_| read(&app, &path.table, &path.sys_id, raw.as_deref(), &headers))
        .unwrap_or_else(IntoResponse::into_response)
}

async fn create_handler(
    State(app): State<Arc<App>>,
    Path(path): Path<TablePath>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    path_version(path.version.as_deref())
        .and_then(|_| create(&app, &path.table, raw.as_deref(), &headers, &body))
        .unwrap_or_else(IntoResponse::into_response)
}

async fn update_handler(
    State(app): State<Arc<App>>,
    Path(path): Path<RecordPath>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    path_version(path.version.as_deref())
        .and_then(|_| {
            let (table, sys_id) = (&path.table, &path.sys_id);
            update(&app, table, sys_id, raw.as_deref(), &headers, &body)
        })
        .unwrap_or_else(IntoResponse::into_response)
}

async fn delete_handler(
    State(app): State<Arc<App>>,
    Path(path): Path<RecordPath>,
    headers: HeaderMap,
) -> Response {
    path_version(path.version.as_deref())
        .and_then(|_| delete(&app, &path.table, &path.sys_id, &headers))
        .unwrap_or_else(IntoResponse::into_response)
}

/// Authenticates the request, then takes the instance lock for a table that exists.
fn open<'a>(
    app: &'a App,
    headers: &HeaderMap,
    table: &str,
) -> Result<(Caller, MutexGuard<'a, Instance>, Acls), ApiError> {
    let instance = app.lock();
    let (caller, acls) = api_access(&instance, headers, API)?;
    if !instance.db.schemas.exists(table) {
        return Err(ApiError::InvalidTable(table.to_owned()));
    }
    Ok((caller, instance, acls))
}

fn list(
    app: &App,
    version: Version,
    table: &str,
    raw: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, instance, acls) = open(app, headers, table)?;
    let params = params(raw);
    if !acls.table_allows(&instance, &caller, table, Operation::Read) {
        return Err(ApiError::ReadDenied);
    }
    let query = list_query(&params);
    let limit = number(&params, "sysparm_limit", DEFAULT_LIMIT);
    let offset = number(&params, "sysparm_offset", 0);
    let context = instance.context_for(&caller.user_id);
    let (total, rows) = instance.db.select(table, &query, &context, offset, limit);
    let renderer = Renderer::new(
        &instance,
        table,
        RenderOptions::from_params(&params),
        &acls,
        &caller,
    );
    let result: Vec<Value> = rows
        .iter()
        .filter(|(physical, row)| {
            acls.row_allows(&instance, &caller, table, (physical, *row), Operation::Read)
        })
        .map(|(physical, row)| renderer.record(physical, *row))
        .collect();
    if result.is_empty() && version == Version::V1 {
        return Err(ApiError::NotFound);
    }
    let mut response = (StatusCode::OK, axum::Json(json!({ "result": result }))).into_response();
    let out = response.headers_mut();
    if !flag(&params, "sysparm_no_count") {
        out.insert("x-total-count", HeaderValue::from(total));
    }
    if flag(&params, "sysparm_suppress_pagination_header") {
        return Ok(response);
    }
    let path = match version {
        Version::Latest => format!("/api/now/table/{table}"),
        Version::V1 => format!("/api/now/v1/table/{table}"),
        Version::V2 => format!("/api/now/v2/table/{table}"),
    };
    if let Ok(link) = HeaderValue::from_str(&link_header(
        &instance.base_url,
        &path,
        &params,
        total,
        offset,
        limit,
    )) {
        out.insert(header::LINK, link);
    }
    Ok(response)
}

/// RFC 8288 `Link` header with `first`, `prev`, `next` and `last` pages, as the instance sends.
fn link_header(
    base: &str,
    path: &str,
    params: &[(String, String)],
    total: usize,
    offset: usize,
    limit: usize,
) -> String {
    let limit = limit.max(1);
    let page = |offset: usize, rel: &str| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params
            .iter()
            .filter(|(k, _)| k != "sysparm_offset" && k != "sysparm_limit")
        {
            query.append_pair(k, v);
        }
        query.append_pair("sysparm_limit", &limit.to_string());
        query.append_pair("sysparm_offset", &offset.to_string());
        format!("<{base}{path}?{}>;rel=\"{rel}\"", query.finish())
    };
    let last = total.saturating_sub(1) / limit * limit;
    let mut links = vec![page(0, "first")];
    if offset > 0 {
        links.push(page(offset.saturating_sub(limit), "prev"));
    }
    if offset.saturating_add(limit) < total {
        links.push(page(offset + limit, "next"));
    }
    links.push(page(last, "last"));
    links.join(",")
}

fn read(
    app: &App,
    table: &str,
    sys_id: &str,
    raw: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, instance, acls) = open(app, headers, table)?;
    let params = params(raw);
    let (physical, row) = instance
        .db
        .locate(table, sys_id)
        .ok_or(ApiError::NotFound)?;
    // A record the caller may not read is indistinguishable from a missing one.
    if !acls.row_allows(&instance, &caller, table, (&physical, row), Operation::Read) {
        return Err(ApiError::NotFound);
    }
    let renderer = Renderer::new(
        &instance,
        table,
        RenderOptions::from_params(&params),
        &acls,
        &caller,
    );
    Ok(axum::Json(json!({ "result": renderer.record(&physical, row) })).into_response())
}

/// A JSON object body as string fields; numbers and booleans become their text, as the
/// instance stores them.
pub fn body_fields(body: &[u8]) -> Result<Record, ApiError> {
    let invalid = || ApiError::BadRequest {
        message: "Exception while reading request".into(),
        detail: "The payload is not valid JSON.".into(),
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Record::new());
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| invalid())?;
    let Value::Object(map) = value else {
        return Err(invalid());
    };
    Ok(map
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                Value::Object(ref o) => o
                    .get("value")
                    .and_then(Value::as_str)
                    .map_or_else(|| v.to_string(), str::to_owned),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect())
}

fn create(
    app: &Arc<App>,
    table: &str,
    raw: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let params = params(raw);
    let fields = body_fields(body)?;
    let input_display_value = flag(&params, INPUT_DISPLAY_VALUE);
    let response = {
        let (caller, mut instance, acls) = open(app, headers, table)?;
        if !acls.table_allows(&instance, &caller, table, Operation::Create) {
            return Err(ApiError::InsertDenied);
        }
        let prepared = prepare(&instance, &caller, table, fields, input_display_value)?;
        let record = instance
            .insert(table, prepared.fields.clone(), &caller.user_name)
            .map_err(store_error)?;
        let sys_id = record.get("sys_id").cloned().unwrap_or_default();
        prepared.set_password(&mut instance, &sys_id);
        instance.capture(table, &sys_id, &caller.user_name, "INSERT_OR_UPDATE");
        let (physical, row) = instance
            .db
            .locate(table, &sys_id)
            .ok_or(ApiError::NotFound)?;
        let renderer = Renderer::new(
            &instance,
            table,
            RenderOptions::from_params(&params),
            &acls,
            &caller,
        );
        let mut response = (
            StatusCode::CREATED,
            axum::Json(json!({ "result": renderer.record(&physical, row) })),
        )
            .into_response();
        let location = format!("{}/api/now/table/{table}/{sys_id}", instance.base_url);
        if let Ok(location) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    };
    app.flush_outbound();
    Ok(response)
}

fn update(
    app: &Arc<App>,
    table: &str,
    sys_id: &str,
    raw: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let params = params(raw);
    let fields = body_fields(body)?;
    let input_display_value = flag(&params, INPUT_DISPLAY_VALUE);
    let response = {
        let (caller, mut instance, acls) = open(app, headers, table)?;
        let (physical, row) = instance
            .db
            .locate(table, sys_id)
            .ok_or(ApiError::NotFound)?;
        if !acls.row_allows(&instance, &caller, table, (&physical, row), Operation::Read) {
            return Err(ApiError::NotFound);
        }
        if !acls.row_allows(
            &instance,
            &caller,
            table,
            (&physical, row),
            Operation::Write,
        ) {
            return Err(ApiError::UpdateDenied);
        }
        let prepared = prepare(&instance, &caller, table, fields, input_display_value)?;
        instance
            .update(table, sys_id, prepared.fields.clone(), &caller.user_name)
            .map_err(store_error)?;
        prepared.set_password(&mut instance, sys_id);
        instance.capture(table, sys_id, &caller.user_name, "INSERT_OR_UPDATE");
        let renderer = Renderer::new(
            &instance,
            table,
            RenderOptions::from_params(&params),
            &acls,
            &caller,
        );
        axum::Json(json!({ "result": renderer.record(&physical, row) })).into_response()
    };
    app.flush_outbound();
    Ok(response)
}

fn delete(app: &App, table: &str, sys_id: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    let (caller, mut instance, acls) = open(app, headers, table)?;
    let (physical, row) = instance
        .db
        .locate(table, sys_id)
        .ok_or(ApiError::NotFound)?;
    if !acls.row_allows(
        &instance,
        &caller,
        table,
        (&physical, row),
        Operation::Delete,
    ) {
        return Err(ApiError::DeleteDenied);
    }
    instance.capture(table, sys_id, &caller.user_name, "DELETE");
    instance.delete(table, sys_id).map_err(store_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::InvalidTable(table) => ApiError::InvalidTable(table),
        StoreError::NotFound => ApiError::NotFound,
    }
}

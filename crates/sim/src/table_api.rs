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
use serde_json::{Value, json};

use crate::acl::{Acls, Operation};
use crate::app::App;
use crate::errors::ApiError;
use crate::identity::Caller;
use crate::instance::{Instance, StoreError};
use crate::query::Query;
use crate::render::{RenderOptions, Renderer};
use crate::store::Record;

const DEFAULT_LIMIT: usize = 10_000;
const API: &str = "Table API";

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/api/now/table/{table}",
            get(list_latest).post(create_latest),
        )
        .route(
            "/api/now/table/{table}/{sys_id}",
            get(read_latest)
                .put(update_latest)
                .patch(update_latest)
                .delete(delete_latest),
        )
        .route(
            "/api/now/{version}/table/{table}",
            get(list_versioned).post(create_versioned),
        )
        .route(
            "/api/now/{version}/table/{table}/{sys_id}",
            get(read_versioned)
                .put(update_versioned)
                .patch(update_versioned)
                .delete(delete_versioned),
        )
}

/// Query parameters as decoded pairs; hostile encodings decode lossily instead of failing.
pub fn params(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
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

async fn list_latest(
    State(app): State<Arc<App>>,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    list(&app, Version::Latest, &table, raw.as_deref(), &headers)
        .unwrap_or_else(IntoResponse::into_response)
}

async fn list_versioned(
    State(app): State<Arc<App>>,
    Path((v, table)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    version(&v)
        .and_then(|v| list(&app, v, &table, raw.as_deref(), &headers))
        .unwrap_or_else(IntoResponse::into_response)
}

async fn read_latest(
    State(app): State<Arc<App>>,
    Path((table, sys_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    read(&app, &table, &sys_id, raw.as_deref(), &headers)
        .unwrap_or_else(IntoResponse::into_response)
}

async fn read_versioned(
    State(app): State<Arc<App>>,
    Path((v, table, sys_id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    version(&v)
        .and_then(|_| read(&app, &table, &sys_id, raw.as_deref(), &headers))
        .unwrap_or_else(IntoResponse::into_response)
}

async fn create_latest(
    State(app): State<Arc<App>>,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(&app, &table, raw.as_deref(), &headers, &body)
        .unwrap_or_else(IntoResponse::into_response)
}

async fn create_versioned(
    State(app): State<Arc<App>>,
    Path((v, table)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    version(&v)
        .and_then(|_| create(&app, &table, raw.as_deref(), &headers, &body))
        .unwrap_or_else(IntoResponse::into_response)
}

async fn update_latest(
    State(app): State<Arc<App>>,
    Path((table, sys_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    update(&app, &table, &sys_id, raw.as_deref(), &headers, &body)
        .unwrap_or_else(IntoResponse::into_response)
}

async fn update_versioned(
    State(app): State<Arc<App>>,
    Path((v, table, sys_id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    version(&v)
        .and_then(|_| update(&app, &table, &sys_id, raw.as_deref(), &headers, &body))
        .unwrap_or_else(IntoResponse::into_response)
}

async fn delete_latest(
    State(app): State<Arc<App>>,
    Path((table, sys_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    delete(&app, &table, &sys_id, &headers).unwrap_or_else(IntoResponse::into_response)
}

async fn delete_versioned(
    State(app): State<Arc<App>>,
    Path((v, table, sys_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    version(&v)
        .and_then(|_| delete(&app, &table, &sys_id, &headers))
        .unwrap_or_else(IntoResponse::into_response)
}

/// Authenticates the request, then takes the instance lock for a table that exists.
fn open<'a>(
    app: &'a App,
    headers: &HeaderMap,
    table: &str,
) -> Result<(Caller, MutexGuard<'a, Instance>, Acls), ApiError> {
    let caller = app.api_caller(headers, API)?;
    let instance = app.lock();
    if !instance.db.schemas.exists(table) {
        return Err(ApiError::InvalidTable(table.to_owned()));
    }
    let acls = Acls::load(&instance, &caller);
    Ok((caller, instance, acls))
}

fn number(params: &[(String, String)], name: &str, default: usize) -> usize {
    param(params, name)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
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
    let query = Query::parse(param(&params, "sysparm_query").unwrap_or(""));
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
    if param(&params, "sysparm_no_count") != Some("true") {
        out.insert("x-total-count", HeaderValue::from(total));
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
    let response = {
        let (caller, mut instance, acls) = open(app, headers, table)?;
        if !acls.table_allows(&instance, &caller, table, Operation::Create) {
            return Err(ApiError::InsertDenied);
        }
        let record = instance
            .insert(table, fields, &caller.user_name)
            .map_err(store_error)?;
        let sys_id = record.get("sys_id").cloned().unwrap_or_default();
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
        instance
            .update(table, sys_id, fields, &caller.user_name)
            .map_err(store_error)?;
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
    instance.delete(table, sys_id).map_err(store_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::InvalidTable(table) => ApiError::InvalidTable(table),
        StoreError::NotFound => ApiError::NotFound,
    }
}

//! The CMDB Instance API (servicenow.md 2.13): `GET /api/now/cmdb/instance/{class}` lists the
//! CIs of a class and its subclasses as `[{sys_id, name}]` (`sysparm_query`, `sysparm_limit`,
//! `sysparm_offset`), and `GET /api/now/cmdb/instance/{class}/{sys_id}` gives one CI as
//! `{attributes, outbound_relations, inbound_relations}`: every field of its class (references
//! as `{display_value, link, value}`), and its `cmdb_rel_ci` relations, each with its `type` and
//! `target`. The API asks for the itil role; row ACLs hide CIs as on the Table API.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::db::query::Query;
use crate::db::schema::FieldKind;
use crate::platform::acl::{Acls, Operation};
use crate::platform::identity::Caller;
use crate::platform::instance::Instance;
use crate::rest::auth::api_access;
use crate::rest::errors::ApiError;
use crate::rest::params::{number, param, params};
use crate::rest::render::display_of;

const API: &str = "CMDB Instance API";

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/now/cmdb/instance/{class}", get(list_handler))
        .route("/api/now/cmdb/instance/{class}/{sys_id}", get(read_handler))
}

/// The caller, the instance and its ACLs, for a class the caller may read.
fn open<'a>(
    app: &'a App,
    headers: &HeaderMap,
    class: &str,
) -> Result<(Caller, std::sync::MutexGuard<'a, Instance>, Acls), ApiError> {
    let instance = app.lock();
    let (caller, acls) = api_access(&instance, headers, API)?;
    if !(caller.has_role("itil") || caller.is_admin()) {
        return Err(ApiError::ReadDenied);
    }
    let is_ci = instance
        .db
        .schemas
        .ancestry(class)
        .iter()
        .any(|t| t == "cmdb_ci");
    if !is_ci {
        return Err(ApiError::InvalidTable(class.to_owned()));
    }
    Ok((caller, instance, acls))
}

async fn list_handler(
    State(app): State<Arc<App>>,
    Path(class): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    list(&app, &class, raw.as_deref(), &headers).unwrap_or_else(IntoResponse::into_response)
}

async fn read_handler(
    State(app): State<Arc<App>>,
    Path((class, sys_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    read(&app, &class, &sys_id, &headers).unwrap_or_else(IntoResponse::into_response)
}

fn list(
    app: &App,
    class: &str,
    raw: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, instance, acls) = open(app, headers, class)?;
    let params = params(raw);
    let query = Query::parse(param(&params, "sysparm_query").unwrap_or(""));
    let page = (
        number(&params, "sysparm_offset", 0),
        number(&params, "sysparm_limit", 10_000),
    );
    let result: Vec<Value> = acls
        .readable_records(&instance, &caller, (class, &query), page)
        .iter()
        .map(|record| json!({ "sys_id": record.get("sys_id"), "name": record.get("name") }))
        .collect();
    Ok(axum::Json(json!({ "result": result })).into_response())
}

fn read(app: &App, class: &str, sys_id: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    let (caller, instance, acls) = open(app, headers, class)?;
    let (physical, row) = instance
        .db
        .locate(class, sys_id)
        .ok_or(ApiError::NotFound)?;
    if !acls.row_allows(&instance, &caller, class, (&physical, row), Operation::Read) {
        return Err(ApiError::NotFound);
    }
    let record = instance.get(&physical, sys_id).ok_or(ApiError::NotFound)?;
    let mut attributes = Map::new();
    let viewer = crate::rest::dates::Viewer::of(&instance, &caller.user_id);
    for field in instance.db.schemas.field_names(&physical) {
        let value = record.get(&field).cloned().unwrap_or_default();
        let shown = match instance.db.schemas.field(&physical, &field) {
            Some(kind @ FieldKind::Reference(target)) if !value.is_empty() => json!({
                "display_value": display_of(&instance, &viewer, kind, &value),
                "link": format!("{}/api/now/table/{target}/{value}", instance.base_url),
                "value": value,
            }),
            _ => Value::String(value),
        };
        attributes.insert(field, shown);
    }
    let relations = |own: &str, other: &str| -> Vec<Value> {
        instance
            .query("cmdb_rel_ci", &format!("{own}={sys_id}"))
            .iter()
            .map(|rel| {
                let target = rel.get(other).cloned().unwrap_or_default();
                let kind = rel.get("type").cloned().unwrap_or_default();
                let name = |table: &str, id: &str, field: &str| {
                    instance
                        .get(table, id)
                        .and_then(|r| r.get(field).cloned())
                        .unwrap_or_default()
                };
                json!({
                    "sys_id": rel.get("sys_id"),
                    "type": {
                        "display_value": name("cmdb_rel_type", &kind, "name"),
                        "link": format!("{}/api/now/table/cmdb_rel_type/{kind}", instance.base_url),
                        "value": kind,
                    },
                    "target": {
                        "display_value": name("cmdb_ci", &target, "name"),
                        "link": format!("{}/api/now/cmdb/instance/cmdb_ci/{target}", instance.base_url),
                        "value": target,
                    },
                })
            })
            .collect()
    };
    let result = json!({
        "attributes": attributes,
        "outbound_relations": relations("parent", "child"),
        "inbound_relations": relations("child", "parent"),
    });
    Ok(axum::Json(json!({ "result": result })).into_response())
}

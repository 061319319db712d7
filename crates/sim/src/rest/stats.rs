//! The Aggregate API, `/api/now[/v1]/stats/{table}`: `sysparm_count` with `sysparm_query` →
//! `{"result":{"stats":{"count":"123"}}}` (a string, like every value), and with
//! `sysparm_group_by` an array of `{stats, groupby_fields}` whose values follow
//! `sysparm_display_value` (`true`: the label as `value`; `all`: `value` and `display_value`).
//! Counting never materialises rows.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::app::App;
use crate::db::query::Query;
use crate::db::schema::FieldKind;
use crate::platform::acl::Operation;
use crate::rest::auth::api_access;
use crate::rest::errors::ApiError;
use crate::rest::params::{flag, param, params};
use crate::rest::render::{DisplayMode, RenderOptions, display_of};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/now/stats/{table}", get(latest))
        .route("/api/now/{version}/stats/{table}", get(versioned))
}

async fn latest(
    State(app): State<Arc<App>>,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    stats(&app, &table, raw.as_deref(), &headers).unwrap_or_else(IntoResponse::into_response)
}

async fn versioned(
    State(app): State<Arc<App>>,
    Path((version, table)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    if version != "v1" {
        return ApiError::UnknownResource.into_response();
    }
    stats(&app, &table, raw.as_deref(), &headers).unwrap_or_else(IntoResponse::into_response)
}

fn stats(
    app: &App,
    table: &str,
    raw: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let instance = app.lock();
    let (caller, acls) = api_access(&instance, headers, "Aggregate API")?;
    let params = params(raw);
    if !instance.db.schemas.exists(table) {
        return Err(ApiError::InvalidTable(table.to_owned()));
    }
    if !acls.table_allows(&instance, &caller, table, Operation::Read) {
        return Err(ApiError::ReadDenied);
    }
    let query = Query::parse(param(&params, "sysparm_query").unwrap_or(""));
    let context = instance.context_for(&caller.user_id);
    let counting = flag(&params, "sysparm_count");
    let group_by: Vec<&str> = param(&params, "sysparm_group_by")
        .map(|g| {
            g.split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let stats_of = |count: usize| {
        if counting {
            json!({ "count": count.to_string() })
        } else {
            json!({})
        }
    };
    if group_by.is_empty() {
        let count = if counting {
            instance.db.count(table, &query, &context)
        } else {
            0
        };
        return Ok(axum::Json(json!({ "result": { "stats": stats_of(count) } })).into_response());
    }
    let display = RenderOptions::from_params(&params).display;
    let viewer = crate::rest::dates::Viewer::of(&instance, &caller.user_id);
    // A field this caller may not read groups nothing, and an encrypted one groups by what the
    // Table API shows of it, never by the secret.
    let group_by: Vec<&str> = group_by
        .into_iter()
        .filter(|field| acls.field_readable(&instance, &caller, table, field))
        .collect();
    let groups = instance.db.group_count(table, &query, &context, &group_by);
    let result: Vec<Value> = groups
        .into_iter()
        .map(|(values, count)| {
            let fields: Vec<Value> = group_by
                .iter()
                .zip(values)
                .map(|(field, value)| {
                    let kind = instance.db.schemas.field(table, field);
                    let shown = match kind {
                        Some(kind) => display_of(&instance, &viewer, kind, &value),
                        None => value.clone(),
                    };
                    // An encrypted field's value is what the Table API shows of it too.
                    let value = match kind {
                        Some(FieldKind::Password2) => shown.clone(),
                        _ => value,
                    };
                    match display {
                        DisplayMode::Value => json!({ "field": field, "value": value }),
                        DisplayMode::Display => json!({ "field": field, "value": shown }),
                        DisplayMode::All => {
                            json!({ "field": field, "value": value, "display_value": shown })
                        }
                    }
                })
                .collect();
            json!({ "stats": stats_of(count), "groupby_fields": fields })
        })
        .collect();
    Ok(axum::Json(json!({ "result": result })).into_response())
}

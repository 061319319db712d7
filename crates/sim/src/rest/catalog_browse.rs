//! Browsing the Service Catalog (servicenow.md 2.11): `GET /api/sn_sc/servicecatalog/catalogs`
//! (`[{sys_id, title, description, has_categories, has_items}]`), `…/catalogs/{sys_id}/categories`
//! (`[{sys_id, title, description, count}]`, `count` the category's active items), `…/items`
//! (`sysparm_text` in the name or short description, `sysparm_catalog`, `sysparm_category`,
//! `sysparm_limit`, `sysparm_offset`; `[{sys_id, name, short_description, price, category,
//! catalogs}]`) and `…/items/{sys_id}` (one item, with `description` and `variables`). Only
//! active records, and only what the caller's ACLs let it read.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::app::App;
use crate::db::query::Query;
use crate::db::store::Record;
use crate::platform::instance::Instance;
use crate::rest::auth::api_access;
use crate::rest::errors::ApiError;
use crate::rest::params::{number, param, params};

const API: &str = "Service Catalog API";
const BASE: &str = "/api/sn_sc/servicecatalog";

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(&format!("{BASE}/catalogs"), get(catalogs))
        .route(
            &format!("{BASE}/catalogs/{{sys_id}}/categories"),
            get(categories),
        )
        .route(&format!("{BASE}/items"), get(items))
        .route(&format!("{BASE}/items/{{sys_id}}"), get(item))
}

/// What a readable query found: the records, and the instance still locked.
type Found<'a> = (Vec<Record>, std::sync::MutexGuard<'a, Instance>);

/// The active records of `table` matching `query` that the caller may read.
fn readable<'a>(
    app: &'a App,
    headers: &HeaderMap,
    table: &str,
    query: &str,
) -> Result<Found<'a>, ApiError> {
    let instance = app.lock();
    let (caller, acls) = api_access(&instance, headers, API)?;
    let query = Query::parse(&format!("active!=false^{query}"));
    let records = acls.readable_records(&instance, &caller, (table, &query), (0, usize::MAX));
    Ok((records, instance))
}

fn text(record: &Record, field: &str) -> String {
    record.get(field).cloned().unwrap_or_default()
}

/// The `{"result": …}` answer, or the error's.
fn answer(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(result) => axum::Json(json!({ "result": result })).into_response(),
        Err(err) => err.into_response(),
    }
}

/// Every readable active record of `table` matching `query`, each as `show` renders it.
fn each(
    app: &App,
    headers: &HeaderMap,
    (table, query): (&str, &str),
    show: impl Fn(&Instance, &Record) -> Value,
) -> Response {
    answer(
        readable(app, headers, table, query)
            .map(|(records, instance)| records.iter().map(|r| show(&instance, r)).collect()),
    )
}

async fn catalogs(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    each(&app, &headers, ("sc_catalog", ""), |instance, c| {
        let id = text(c, "sys_id");
        let any =
            |table: &str, field: &str| !instance.query(table, &format!("{field}={id}")).is_empty();
        json!({
            "sys_id": id,
            "title": text(c, "title"),
            "description": text(c, "description"),
            "has_categories": any("sc_category", "sc_catalog"),
            "has_items": any("sc_cat_item", "sc_catalogs"),
        })
    })
}

async fn categories(
    State(app): State<Arc<App>>,
    Path(catalog): Path<String>,
    headers: HeaderMap,
) -> Response {
    let query = format!("sc_catalog={catalog}");
    each(&app, &headers, ("sc_category", &query), |instance, c| {
        let id = text(c, "sys_id");
        let items = instance.query("sc_cat_item", &format!("active!=false^category={id}"));
        json!({
            "sys_id": id,
            "title": text(c, "title"),
            "description": text(c, "description"),
            "count": items.len(),
        })
    })
}
/// An item as the API shows it in a list.
fn shown(instance: &Instance, item: &Record) -> Value {
    let category = text(item, "category");
    let catalog = text(item, "sc_catalogs");
    let title = |table: &str, id: &str| {
        instance
            .get(table, id)
            .map(|r| text(&r, "title"))
            .unwrap_or_default()
    };
    json!({
        "sys_id": text(item, "sys_id"),
        "name": text(item, "name"),
        "short_description": text(item, "short_description"),
        "price": text(item, "price"),
        "sys_class_name": "sc_cat_item",
        "category": { "sys_id": category, "title": title("sc_category", &category) },
        "catalogs": [{ "sys_id": catalog, "title": title("sc_catalog", &catalog) }],
    })
}

async fn items(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = params(raw.as_deref());
    let wanted = [
        ("sc_catalogs", param(&params, "sysparm_catalog")),
        ("category", param(&params, "sysparm_category")),
    ];
    let needle = param(&params, "sysparm_text").unwrap_or("").to_lowercase();
    let (offset, limit) = (
        number(&params, "sysparm_offset", 0),
        number(&params, "sysparm_limit", 1000),
    );
    answer(
        readable(&app, &headers, "sc_cat_item", "").map(|(items, instance)| {
            items
                .iter()
                .filter(|item| {
                    wanted
                        .iter()
                        .all(|(field, value)| value.is_none_or(|v| text(item, field) == v))
                })
                .filter(|item| {
                    needle.is_empty()
                        || text(item, "name").to_lowercase().contains(&needle)
                        || text(item, "short_description")
                            .to_lowercase()
                            .contains(&needle)
                })
                .skip(offset)
                .take(limit)
                .map(|item| shown(&instance, item))
                .collect()
        }),
    )
}

async fn item(
    State(app): State<Arc<App>>,
    Path(sys_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let query = format!("sys_id={sys_id}");
    answer(
        readable(&app, &headers, "sc_cat_item", &query).and_then(|(items, instance)| {
            let item = items.first().ok_or(ApiError::NotFound)?;
            let mut shown = shown(&instance, item);
            shown["description"] = Value::String(text(item, "description"));
            shown["variables"] = json!([]);
            Ok(shown)
        }),
    )
}

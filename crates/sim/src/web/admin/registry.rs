//! System OAuth → Application Registry: the list, "Create an OAuth API endpoint for external
//! clients", and the record page showing the generated Client ID and Client Secret.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use super::{
    checkbox, checkbox_input, details, list_with_new, new_record, not_found, outcome,
    requested_sys_id, require, require_form, screen, trimmed,
};
use crate::app::App;
use crate::db::store::Record;
use crate::html::input;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/oauth_entity_list.do", get(list))
        .route("/oauth_entity.do", get(show).post(create))
}

const ROLE: &str = "admin";
const LIST: &str = "/oauth_entity_list.do";
const PAGE: &str = "/oauth_entity.do";

async fn list(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(page) = require(&app, &headers, ROLE, LIST) {
        return *page;
    }
    let records = app.lock().query("oauth_entity", "ORDERBYname");
    let body = list_with_new(
        &records,
        &["name", "client_id", "redirect_url", "active"],
        PAGE,
    );
    screen("Application Registries", &body)
}

async fn show(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (_, session) = match require(&app, &headers, ROLE, LIST) {
        Ok(ok) => ok,
        Err(page) => return *page,
    };
    let sys_id = requested_sys_id(raw.as_deref(), "-1");
    if sys_id == "-1" {
        let inner = [
            input("Name", "name", "text", ""),
            input("Redirect URL (comma separated)", "redirect_url", "text", ""),
            input("Logo URL", "logo_url", "text", ""),
            input(
                "Client Secret (leave empty to generate)",
                "client_secret",
                "text",
                "",
            ),
            input(
                "Access Token Lifespan (seconds)",
                "access_token_lifespan",
                "number",
                "1800",
            ),
            input(
                "Refresh Token Lifespan (seconds)",
                "refresh_token_lifespan",
                "number",
                "8640000",
            ),
            checkbox_input("Public client", "public_client", false),
        ];
        return new_record(
            "Create an OAuth API endpoint for external clients",
            PAGE,
            "oauth_entity",
            &session,
            &inner,
        );
    }
    let Some(record) = app.lock().get("oauth_entity", &sys_id) else {
        return not_found();
    };
    let text = |f: &str| record.get(f).cloned().unwrap_or_default();
    let body = details(&[
        ("Name", text("name")),
        ("Client ID", text("client_id")),
        ("Client Secret", text("client_secret")),
        ("Redirect URL", text("redirect_url")),
        ("Public client", text("public_client")),
        ("Access Token Lifespan", text("access_token_lifespan")),
        ("Refresh Token Lifespan", text("refresh_token_lifespan")),
        ("Active", text("active")),
    ]);
    screen("Application Registry", &body)
}

async fn create(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let (caller, fields) = match require_form(&app, &headers, ROLE, LIST, &body) {
        Ok(ok) => ok,
        Err(page) => return *page,
    };
    let mut record: Record = trimmed(
        &fields,
        &[
            "name",
            "redirect_url",
            "logo_url",
            "client_secret",
            "access_token_lifespan",
            "refresh_token_lifespan",
        ],
    )
    .filter(|(_, v)| !v.is_empty())
    .collect();
    record.insert("public_client".into(), checkbox(&fields, "public_client"));
    let created = app.lock().insert("oauth_entity", record, &caller.user_name);
    outcome(
        PAGE,
        created.map(|record| record.get("sys_id").cloned().unwrap_or_default()),
    )
}

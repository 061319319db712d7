//! System OAuth → Application Registry: the list, "Create an OAuth API endpoint for external
//! clients", and the record page showing the generated Client ID and Client Secret.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use super::{Screens, checkbox, checkbox_input, details, trimmed};
use crate::app::App;
use crate::db::store::Record;
use crate::html::input;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/oauth_entity_list.do", get(list))
        .route("/oauth_entity.do", get(show).post(create))
}

const SCREENS: Screens = Screens {
    table: "oauth_entity",
    role: "admin",
    list: "/oauth_entity_list.do",
    list_title: "Application Registries",
    order: "ORDERBYname",
    columns: &["name", "client_id", "redirect_url", "active"],
    page: "/oauth_entity.do",
    page_title: "Application Registry",
    new: Some((
        "Create an OAuth API endpoint for external clients",
        new_inputs,
    )),
};

async fn list(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    SCREENS.list_page(&app, &headers, |_| String::new())
}

fn new_inputs() -> Vec<String> {
    vec![
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
    ]
}

async fn show(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    SCREENS.record_page(&app, raw.as_deref(), &headers, |_, _, record, _| {
        let text = |f: &str| record.get(f).cloned().unwrap_or_default();
        details(&[
            ("Name", text("name")),
            ("Client ID", text("client_id")),
            ("Client Secret", text("client_secret")),
            ("Redirect URL", text("redirect_url")),
            ("Public client", text("public_client")),
            ("Access Token Lifespan", text("access_token_lifespan")),
            ("Refresh Token Lifespan", text("refresh_token_lifespan")),
            ("Active", text("active")),
        ])
    })
}

async fn create(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let (caller, fields) = match SCREENS.posted(&app, &headers, &body) {
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
    let mut instance = app.lock();
    // Before Zurich the field does not exist: the box changes nothing.
    if instance.release.pkce_supported {
        record.insert("public_client".into(), checkbox(&fields, "public_client"));
    }
    let created = instance
        .insert("oauth_entity", record, &caller.user_name)
        .map(|record| record.get("sys_id").cloned().unwrap_or_default());
    if let Ok(sys_id) = &created {
        instance.capture(
            "oauth_entity",
            sys_id,
            &caller.user_name,
            "INSERT_OR_UPDATE",
        );
    }
    SCREENS.outcome(created)
}

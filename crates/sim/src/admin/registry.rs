//! System OAuth → Application Registry: the list, "Create an OAuth API endpoint for external
//! clients", and the record page showing the generated Client ID and Client Secret.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;

use super::{checkbox, details, field, form, post_form, record_list, require, screen};
use crate::app::App;
use crate::html::{found, input, page};
use crate::store::Record;
use crate::table_api::{param, params};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/oauth_entity_list.do", get(list))
        .route("/oauth_entity.do", get(show).post(create))
}

async fn list(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let (_, _) = match require(&app, &headers, "admin", "/oauth_entity_list.do") {
        Ok(ok) => ok,
        Err(page) => return *page,
    };
    let records = app.lock().query("oauth_entity", "ORDERBYname");
    let body = format!(
        "<p><a href=\"/oauth_entity.do?sys_id=-1\" id=\"new\">New</a></p>{}",
        record_list(
            &records,
            &["name", "client_id", "redirect_url", "active"],
            "/oauth_entity.do"
        )
    );
    screen("Application Registries", &body)
}

async fn show(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (_, session) = match require(&app, &headers, "admin", "/oauth_entity_list.do") {
        Ok(ok) => ok,
        Err(page) => return *page,
    };
    let params = params(raw.as_deref());
    let sys_id = param(&params, "sys_id").unwrap_or("-1");
    if sys_id == "-1" {
        let inner = [
            input("Name", "name", "text", ""),
            input("Redirect URL (comma separated)", "redirect_url", "text", ""),
            input("Logo URL", "logo_url", "text", ""),
            input("Client Secret (leave empty to generate)", "client_secret", "text", ""),
            input("Access Token Lifespan (seconds)", "access_token_lifespan", "number", "1800"),
            input("Refresh Token Lifespan (seconds)", "refresh_token_lifespan", "number", "8640000"),
            "<label>Public client <input type=\"checkbox\" name=\"public_client\" id=\"public_client\"></label>".into(),
        ]
        .concat();
        let form = post_form(
            "/oauth_entity.do",
            "oauth_entity",
            &session,
            &inner,
            "Submit",
        );
        return screen("Create an OAuth API endpoint for external clients", &form);
    }
    let Some(record) = app.lock().get("oauth_entity", sys_id) else {
        return page(
            StatusCode::NOT_FOUND,
            "Record not found",
            "<p>Record not found</p>",
        );
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
    let (caller, session) = match require(&app, &headers, "admin", "/oauth_entity_list.do") {
        Ok(ok) => ok,
        Err(page) => return *page,
    };
    let fields = match form(&body, &session) {
        Ok(fields) => fields,
        Err(page) => return *page,
    };
    let mut record: Record = [
        "name",
        "redirect_url",
        "logo_url",
        "client_secret",
        "access_token_lifespan",
        "refresh_token_lifespan",
    ]
    .iter()
    .map(|f| ((*f).to_owned(), field(&fields, f).trim().to_owned()))
    .filter(|(_, v)| !v.is_empty())
    .collect();
    record.insert("public_client".into(), checkbox(&fields, "public_client"));
    let created = app.lock().insert("oauth_entity", record, &caller.user_name);
    match created {
        Ok(record) => found(&format!(
            "/oauth_entity.do?sys_id={}",
            record.get("sys_id").map_or("", String::as_str)
        )),
        Err(err) => page(
            StatusCode::BAD_REQUEST,
            "Error",
            &format!("<p>{}</p>", crate::html::escape(&err.to_string())),
        ),
    }
}

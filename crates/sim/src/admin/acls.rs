//! System Security → Access Control (ACL): the list and a new-ACL form (type, operation, name,
//! roles, condition, admin overrides). Needs `security_admin`, as on the instance.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;

use super::{checkbox, details, field, form, post_form, record_list, require, screen};
use crate::app::App;
use crate::html::{escape, found, input, page};
use crate::store::Record;
use crate::table_api::{param, params};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/sys_security_acl_list.do", get(list))
        .route("/sys_security_acl.do", get(show).post(create))
}

async fn list(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(page) = require(
        &app,
        &headers,
        "security_admin",
        "/sys_security_acl_list.do",
    ) {
        return *page;
    }
    let records = app.lock().query("sys_security_acl", "ORDERBYname");
    let body = format!(
        "<p><a href=\"/sys_security_acl.do?sys_id=-1\" id=\"new\">New</a></p>{}",
        record_list(
            &records,
            &[
                "name",
                "type",
                "operation",
                "active",
                "admin_overrides",
                "condition"
            ],
            "/sys_security_acl.do"
        )
    );
    screen("Access Controls", &body)
}

async fn show(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (_, session) = match require(
        &app,
        &headers,
        "security_admin",
        "/sys_security_acl_list.do",
    ) {
        Ok(ok) => ok,
        Err(page) => return *page,
    };
    let params = params(raw.as_deref());
    let sys_id = param(&params, "sys_id").unwrap_or("-1");
    if sys_id == "-1" {
        let inner = [
            input("Type (record, rest_endpoint)", "type", "text", "record"),
            input("Operation (create, read, write, delete, execute)", "operation", "text", "read"),
            input("Name (table or table.field)", "name", "text", ""),
            input("Requires role (comma separated)", "roles", "text", ""),
            input("Condition (encoded query)", "condition", "text", ""),
            "<label>Admin overrides <input type=\"checkbox\" name=\"admin_overrides\" id=\"admin_overrides\" checked></label>"
                .into(),
        ]
        .concat();
        return screen(
            "New Access Control",
            &post_form(
                "/sys_security_acl.do",
                "sys_security_acl",
                &session,
                &inner,
                "Submit",
            ),
        );
    }
    let instance = app.lock();
    let Some(acl) = instance.get("sys_security_acl", sys_id) else {
        return page(
            StatusCode::NOT_FOUND,
            "Record not found",
            "<p>Record not found</p>",
        );
    };
    let roles: Vec<String> = instance
        .query(
            "sys_security_acl_role",
            &format!("sys_security_acl={sys_id}"),
        )
        .iter()
        .filter_map(|l| {
            l.get("sys_user_role")
                .and_then(|id| instance.get("sys_user_role", id))
        })
        .filter_map(|r| r.get("name").cloned())
        .collect();
    let text = |f: &str| acl.get(f).cloned().unwrap_or_default();
    let body = details(&[
        ("Name", text("name")),
        ("Type", text("type")),
        ("Operation", text("operation")),
        ("Roles", roles.join(", ")),
        ("Condition", text("condition")),
        ("Admin overrides", text("admin_overrides")),
        ("Active", text("active")),
    ]);
    screen("Access Control", &body)
}

async fn create(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let (caller, session) = match require(
        &app,
        &headers,
        "security_admin",
        "/sys_security_acl_list.do",
    ) {
        Ok(ok) => ok,
        Err(page) => return *page,
    };
    let fields = match form(&body, &session) {
        Ok(fields) => fields,
        Err(page) => return *page,
    };
    let mut record: Record = ["type", "operation", "name", "condition"]
        .iter()
        .map(|f| ((*f).to_owned(), field(&fields, f).trim().to_owned()))
        .collect();
    record.insert(
        "admin_overrides".into(),
        checkbox(&fields, "admin_overrides"),
    );
    if record.get("name").is_none_or(String::is_empty) {
        return page(StatusCode::BAD_REQUEST, "Error", "<p>Name is mandatory</p>");
    }
    let mut instance = app.lock();
    let acl = match instance.insert("sys_security_acl", record, &caller.user_name) {
        Ok(acl) => acl.get("sys_id").cloned().unwrap_or_default(),
        Err(err) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Error",
                &format!("<p>{}</p>", escape(&err.to_string())),
            );
        }
    };
    for role in field(&fields, "roles")
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        let Some(role_id) = instance
            .find_by("sys_user_role", "name", role)
            .and_then(|r| r.get("sys_id").cloned())
        else {
            return page(
                StatusCode::BAD_REQUEST,
                "Error",
                &format!("<p>No role named {}</p>", escape(role)),
            );
        };
        let link = Record::from([
            ("sys_security_acl".into(), acl.clone()),
            ("sys_user_role".into(), role_id),
        ]);
        let _ = instance.insert("sys_security_acl_role", link, &caller.user_name);
    }
    found(&format!("/sys_security_acl.do?sys_id={acl}"))
}

//! System Security → Access Control (ACL): the list and a new-ACL form (type, operation, name,
//! roles, condition, admin overrides). Needs `security_admin`, as on the instance.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use super::{Screens, checkbox, checkbox_input, details, error, field, trimmed};
use crate::app::App;
use crate::db::store::Record;
use crate::html::input;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/sys_security_acl_list.do", get(list))
        .route("/sys_security_acl.do", get(show).post(create))
}

const SCREENS: Screens = Screens {
    table: "sys_security_acl",
    role: "security_admin",
    list: "/sys_security_acl_list.do",
    list_title: "Access Controls",
    order: "ORDERBYname",
    columns: &[
        "name",
        "type",
        "operation",
        "active",
        "admin_overrides",
        "condition",
    ],
    page: "/sys_security_acl.do",
    page_title: "Access Control",
    new: Some(("New Access Control", new_inputs)),
};

async fn list(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    SCREENS.list_page(&app, &headers, |_| String::new())
}

fn new_inputs() -> Vec<String> {
    vec![
        input("Type (record, rest_endpoint)", "type", "text", "record"),
        input(
            "Operation (create, read, write, delete, execute)",
            "operation",
            "text",
            "read",
        ),
        input("Name (table or table.field)", "name", "text", ""),
        input("Requires role (comma separated)", "roles", "text", ""),
        input("Condition (encoded query)", "condition", "text", ""),
        checkbox_input("Admin overrides", "admin_overrides", true),
    ]
}

async fn show(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    SCREENS.record_page(
        &app,
        raw.as_deref(),
        &headers,
        |instance, sys_id, acl, _| {
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
            details(&[
                ("Name", text("name")),
                ("Type", text("type")),
                ("Operation", text("operation")),
                ("Roles", roles.join(", ")),
                ("Condition", text("condition")),
                ("Admin overrides", text("admin_overrides")),
                ("Active", text("active")),
            ])
        },
    )
}

async fn create(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let (caller, fields) = match SCREENS.posted(&app, &headers, &body) {
        Ok(ok) => ok,
        Err(page) => return *page,
    };
    let mut record: Record =
        trimmed(&fields, &["type", "operation", "name", "condition"]).collect();
    record.insert(
        "admin_overrides".into(),
        checkbox(&fields, "admin_overrides"),
    );
    if record.get("name").is_none_or(String::is_empty) {
        return error("Name is mandatory");
    }
    let mut instance = app.lock();
    let acl = match instance.insert("sys_security_acl", record, &caller.user_name) {
        Ok(acl) => acl.get("sys_id").cloned().unwrap_or_default(),
        Err(err) => return error(&err.to_string()),
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
            return error(&format!("No role named {role}"));
        };
        let link = Record::from([
            ("sys_security_acl".into(), acl.clone()),
            ("sys_user_role".into(), role_id),
        ]);
        let _ = instance.insert("sys_security_acl_role", link, &caller.user_name);
    }
    instance.capture(
        "sys_security_acl",
        &acl,
        &caller.user_name,
        "INSERT_OR_UPDATE",
    );
    SCREENS.to_record(&acl)
}

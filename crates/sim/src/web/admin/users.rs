//! User Administration → Users: the list, a new-user form, and the user page with its Roles
//! tab (add a role) and "Set Password".

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use super::{
    checkbox, checkbox_input, details, error, field, list_with_new, new_record, not_found, outcome,
    post_form, requested_sys_id, require, require_form, screen, trimmed,
};
use crate::app::App;
use crate::db::store::Record;
use crate::html::{escape, hidden, input};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/sys_user_list.do", get(list))
        .route("/sys_user.do", get(show).post(submit))
}

const ROLE: &str = "admin";
const LIST: &str = "/sys_user_list.do";
const PAGE: &str = "/sys_user.do";

async fn list(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(page) = require(&app, &headers, ROLE, LIST) {
        return *page;
    }
    let records = app.lock().query("sys_user", "ORDERBYuser_name");
    let body = list_with_new(
        &records,
        &[
            "user_name",
            "name",
            "email",
            "active",
            "web_service_access_only",
        ],
        PAGE,
    );
    screen("Users", &body)
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
    let sys_id = sys_id.as_str();
    if sys_id == "-1" {
        let inner = [
            hidden("action", "create"),
            input("User ID", "user_name", "text", ""),
            input("First name", "first_name", "text", ""),
            input("Last name", "last_name", "text", ""),
            input("Email", "email", "email", ""),
            input(
                "Identity type (Human, Machine, AI)",
                "identity_type",
                "text",
                "Human",
            ),
            checkbox_input("Web service access only", "web_service_access_only", false),
        ];
        return new_record("New user", PAGE, "sys_user", &session, &inner);
    }
    let instance = app.lock();
    let Some(user) = instance.get("sys_user", sys_id) else {
        return not_found();
    };
    let text = |f: &str| user.get(f).cloned().unwrap_or_default();
    let roles: Vec<String> = instance.roles_of(sys_id).into_iter().collect();
    let role_items: String = roles
        .iter()
        .map(|r| format!("<li>{}</li>", escape(r)))
        .collect();
    let add_role = post_form(
        "/sys_user.do",
        "add_role",
        &session,
        &[
            hidden("action", "add_role"),
            hidden("sys_id", sys_id),
            input("Role", "role", "text", ""),
        ]
        .concat(),
        "Add role",
    );
    let set_password = post_form(
        "/sys_user.do",
        "set_password",
        &session,
        &[
            hidden("action", "set_password"),
            hidden("sys_id", sys_id),
            input("New password", "password", "password", ""),
        ]
        .concat(),
        "Save password",
    );
    let body = format!(
        "{}<h2>Roles</h2><ul id=\"roles\">{role_items}</ul>{add_role}<h2>Set Password</h2>{set_password}",
        details(&[
            ("User ID", text("user_name")),
            ("Name", text("name")),
            ("Email", text("email")),
            ("Identity type", text("identity_type")),
            ("Web service access only", text("web_service_access_only")),
            ("Active", text("active")),
            ("Locked out", text("locked_out")),
        ])
    );
    screen("User", &body)
}

async fn submit(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let (caller, fields) = match require_form(&app, &headers, ROLE, LIST, &body) {
        Ok(ok) => ok,
        Err(page) => return *page,
    };
    let mut instance = app.lock();
    let sys_id = field(&fields, "sys_id").to_owned();
    let result = match field(&fields, "action") {
        "create" => {
            let mut record: Record = trimmed(
                &fields,
                &[
                    "user_name",
                    "first_name",
                    "last_name",
                    "email",
                    "identity_type",
                ],
            )
            .filter(|(_, v)| !v.is_empty())
            .collect();
            record.insert(
                "web_service_access_only".into(),
                checkbox(&fields, "web_service_access_only"),
            );
            if record.get("user_name").is_none_or(String::is_empty) {
                return error("User ID is mandatory");
            }
            instance
                .insert("sys_user", record, &caller.user_name)
                .map(|r| r.get("sys_id").cloned().unwrap_or_default())
        }
        "add_role" => instance
            .grant_role(&sys_id, field(&fields, "role").trim())
            .map(|()| sys_id.clone()),
        "set_password" => {
            let password = Record::from([(
                "user_password".into(),
                field(&fields, "password").to_owned(),
            )]);
            instance
                .update("sys_user", &sys_id, password, &caller.user_name)
                .map(|_| sys_id.clone())
        }
        _ => return error("Unknown action"),
    };
    outcome(PAGE, result)
}

//! User Administration → Users: the list, a new-user form, and the user page with its Roles
//! tab (add a role) and "Set Password".

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use super::{Screens, checkbox, checkbox_input, details, error, field, post_form, trimmed};
use crate::app::App;
use crate::db::store::Record;
use crate::html::{escape, hidden, input};
use crate::platform::instance::{Instance, Session};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/sys_user_list.do", get(list))
        .route("/sys_user.do", get(show).post(submit))
}

const SCREENS: Screens = Screens {
    table: "sys_user",
    role: "admin",
    list: "/sys_user_list.do",
    list_title: "Users",
    order: "ORDERBYuser_name",
    columns: &[
        "user_name",
        "name",
        "email",
        "active",
        "web_service_access_only",
    ],
    page: "/sys_user.do",
    page_title: "User",
    new: Some(("New user", new_inputs)),
};

async fn list(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    SCREENS.list_page(&app, &headers, |_| String::new())
}

fn new_inputs() -> Vec<String> {
    vec![
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
    ]
}

async fn show(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    SCREENS.record_page(&app, raw.as_deref(), &headers, user_page)
}

/// A user's details, its Roles tab with "Add role", and "Set Password".
fn user_page(instance: &Instance, sys_id: &str, user: &Record, session: &Session) -> String {
    let text = |f: &str| user.get(f).cloned().unwrap_or_default();
    let role_items: String = instance
        .roles_of(sys_id)
        .iter()
        .map(|r| format!("<li>{}</li>", escape(r)))
        .collect();
    let form = |id: &str, input: String, button: &str| {
        post_form(
            SCREENS.page,
            id,
            session,
            &[hidden("action", id), hidden("sys_id", sys_id), input].concat(),
            button,
        )
    };
    let add_role = form("add_role", input("Role", "role", "text", ""), "Add role");
    let set_password = form(
        "set_password",
        input("New password", "password", "password", ""),
        "Save password",
    );
    format!(
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
    )
}

async fn submit(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let (caller, fields) = match SCREENS.posted(&app, &headers, &body) {
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
    SCREENS.outcome(result)
}

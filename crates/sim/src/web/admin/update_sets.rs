//! System Update Sets → Retrieved Update Sets: "Import Update Set from XML" (a file upload),
//! the set's page with its state, preview problems and the Preview / Commit buttons.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use super::{
    Screens, alert, details, error, field, invalid_token, post_form, record_list, require,
};
use crate::app::App;
use crate::db::store::Record;
use crate::html::{escape, hidden};
use crate::platform::instance::{Instance, Session};
use crate::platform::update_sets::{commit, holds_acls, import, preview, resolve_problem};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/sys_remote_update_set_list.do", get(list))
        .route("/sys_remote_update_set.do", get(show).post(act))
        // The deep link to "Import Update Set from XML" (`upload.do?sysparm_target=…`).
        .route("/upload.do", get(list).post(upload))
}

const SCREENS: Screens = Screens {
    table: "sys_remote_update_set",
    role: "admin",
    list: "/sys_remote_update_set_list.do",
    list_title: "Retrieved Update Sets",
    order: "ORDERBYDESCsys_created_on",
    columns: &["name", "state", "remote_sys_id", "commit_date"],
    page: "/sys_remote_update_set.do",
    page_title: "Retrieved Update Set",
    new: None,
};

/// The list, then "Import Update Set from XML".
async fn list(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    SCREENS.list_page(&app, &headers, |session| {
        format!(
            "<h2>Import Update Set from XML</h2><form method=\"post\" action=\"/upload.do\" enctype=\"multipart/form-data\" id=\"upload\">\
             {}<label>File <input type=\"file\" name=\"attachFile\" id=\"attachFile\" accept=\".xml\"></label>\
             <button type=\"submit\">Upload</button></form>",
            hidden("sysparm_ck", &session.form_token)
        )
    })
}

async fn upload(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let (caller, session) = match require(&app, &headers, SCREENS.role, SCREENS.list) {
        Ok(ok) => ok,
        Err(page) => return *page,
    };
    let mut token = String::new();
    let mut xml = None;
    while let Ok(Some(part)) = multipart.next_field().await {
        match part.name() {
            Some("sysparm_ck") => token = part.text().await.unwrap_or_default(),
            Some("attachFile") => xml = part.bytes().await.ok(),
            _ => {}
        }
    }
    if token != session.form_token {
        return invalid_token();
    }
    let Some(xml) = xml else {
        return error("Choose a file to upload");
    };
    let imported = import(
        &mut app.lock(),
        &String::from_utf8_lossy(&xml),
        &caller.user_name,
    );
    to_set(imported)
}

async fn show(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    SCREENS.record_page(&app, raw.as_deref(), &headers, set_page)
}

/// A retrieved set's state, its preview problems (each with Accept or Skip until resolved),
/// the Preview and Commit buttons, and its customer updates.
fn set_page(instance: &Instance, sys_id: &str, set: &Record, session: &Session) -> String {
    let text = |f: &str| set.get(f).cloned().unwrap_or_default();
    let problems = instance.query(
        "sys_update_preview_problem",
        &format!("remote_update_set={sys_id}"),
    );
    let resolve = |problem: &str, action: &str, label: &str| {
        let inner = [
            hidden("action", action),
            hidden("sys_id", sys_id),
            hidden("problem", problem),
        ]
        .concat();
        post_form(
            SCREENS.page,
            &format!("{action}_{problem}"),
            session,
            &inner,
            label,
        )
    };
    let problem_items: String = problems
        .iter()
        .map(|p| {
            let id = p.get("sys_id").map_or("", String::as_str);
            let status = p.get("status").map_or("", String::as_str);
            let actions = if status.is_empty() {
                [
                    resolve(id, "accept", "Accept remote update"),
                    resolve(id, "skip", "Skip remote update"),
                ]
                .concat()
            } else {
                format!("<em>{}</em>", escape(status))
            };
            format!(
                "<li>{} {actions}</li>",
                escape(p.get("description").map_or("", String::as_str))
            )
        })
        .collect();
    let updates = instance.query("sys_update_xml", &format!("remote_update_set={sys_id}"));
    let button = |action: &str, label: &str| {
        post_form(
            SCREENS.page,
            action,
            session,
            &[hidden("action", action), hidden("sys_id", sys_id)].concat(),
            label,
        )
    };
    format!(
        "{}<h2>Preview problems</h2><ul id=\"problems\">{problem_items}</ul>{}{}<h2>Customer updates</h2>{}",
        details(&[
            ("Name", text("name")),
            ("State", text("state")),
            ("Commit date", text("commit_date"))
        ]),
        button("preview", "Preview Update Set"),
        button("commit", "Commit Update Set"),
        record_list(&updates, &["name", "type", "target_name", "action"], "")
    )
}

async fn act(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let (caller, fields) = match SCREENS.posted(&app, &headers, &body) {
        Ok(ok) => ok,
        Err(page) => return *page,
    };
    let sys_id = field(&fields, "sys_id").to_owned();
    let needs_elevation = app.faults().commit_needs_elevation;
    let outcome = {
        let mut instance = app.lock();
        match field(&fields, "action") {
            "preview" => preview(&mut instance, &sys_id, &caller.user_name).map(|_| ()),
            "commit"
                if needs_elevation
                    && holds_acls(&instance, &sys_id)
                    && !caller.has_role("security_admin") =>
            {
                return alert(
                    "This update set changes ACLs: elevate to security_admin (User menu > \
                     Elevate role), then commit it.",
                );
            }
            "commit" => commit(&mut instance, &sys_id, &caller.user_name).map(|_| ()),
            action @ ("accept" | "skip") => resolve_problem(
                &mut instance,
                field(&fields, "problem"),
                action == "accept",
                &caller.user_name,
            ),
            _ => return error("Unknown action"),
        }
    };
    app.flush_outbound();
    to_set(
        outcome
            .map(|()| url::form_urlencoded::byte_serialize(sys_id.as_bytes()).collect::<String>()),
    )
}

/// After a post: the update set's page, or the error as an alert.
fn to_set<E: std::fmt::Display>(outcome: Result<String, E>) -> Response {
    match outcome {
        Ok(sys_id) => SCREENS.to_record(&sys_id),
        Err(err) => alert(&err.to_string()),
    }
}

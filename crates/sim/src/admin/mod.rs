//! Admin screens a person can click through in a browser, mirroring the real ones the wizard
//! sends admins to: Application Registry, Users (roles, password), Access Control and Retrieved
//! Update Sets. Plain server-rendered HTML with real forms; every form carries the session's
//! `sysparm_ck` and every value is escaped.

mod acls;
mod registry;
mod update_sets;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;

use crate::app::App;
use crate::html::{escape, hidden, page};
use crate::identity::Caller;
use crate::instance::Session;
use crate::session::{login_form, signed_in};
use crate::store::Record;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(home))
        .route("/navpage.do", get(home))
        .merge(registry::routes())
        .merge(users::routes())
        .merge(acls::routes())
        .merge(update_sets::routes())
}

/// The signed-in caller holding `role`, or the page to show instead (login, or 403).
fn require(
    app: &App,
    headers: &HeaderMap,
    role: &str,
    return_to: &str,
) -> Result<(Caller, Session), Box<Response>> {
    let instance = app.lock();
    let Some((caller, session)) = signed_in(&instance, headers) else {
        return Err(Box::new(login_form(return_to, None)));
    };
    if !caller.has_role(role) {
        return Err(Box::new(page(
            StatusCode::FORBIDDEN,
            "Security constraints",
            "<p>Security constraints prevent access to this page.</p>",
        )));
    }
    Ok((caller, session))
}

/// Decoded form fields of a posted body; the form token must match the session's.
fn form(body: &[u8], session: &Session) -> Result<Vec<(String, String)>, Box<Response>> {
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    if field(&fields, "sysparm_ck") != session.form_token {
        return Err(Box::new(page(
            StatusCode::FORBIDDEN,
            "Invalid request",
            "<p>The form token is invalid; reload the page.</p>",
        )));
    }
    Ok(fields)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn checkbox(fields: &[(String, String)], name: &str) -> String {
    if fields
        .iter()
        .any(|(k, v)| k == name && (v == "on" || v == "true"))
    {
        "true"
    } else {
        "false"
    }
    .to_owned()
}

/// A `<form method=post>` with the session's form token.
fn post_form(action: &str, id: &str, session: &Session, inner: &str, button: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\" id=\"{}\">{}{inner}<button type=\"submit\">{}</button></form>",
        escape(action),
        escape(id),
        hidden("sysparm_ck", &session.form_token),
        escape(button)
    )
}

/// A table of records with the given columns; the first column links to the record page
/// unless `link` is empty.
fn record_list(records: &[Record], columns: &[&str], link: &str) -> String {
    let head: String = columns
        .iter()
        .map(|c| format!("<th>{}</th>", escape(c)))
        .collect();
    let rows: String = records
        .iter()
        .map(|record| {
            let cells: String = columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let value = escape(record.get(*c).map_or("", String::as_str));
                    if i == 0 && !link.is_empty() {
                        let id = record.get("sys_id").map_or("", String::as_str);
                        format!(
                            "<td><a href=\"{}?sys_id={}\">{value}</a></td>",
                            escape(link),
                            escape(id)
                        )
                    } else {
                        format!("<td>{value}</td>")
                    }
                })
                .collect();
            format!("<tr>{cells}</tr>")
        })
        .collect();
    format!("<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
}

/// A read-only list of label/value pairs.
fn details(pairs: &[(&str, String)]) -> String {
    let rows: String = pairs
        .iter()
        .map(|(k, v)| format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v)))
        .collect();
    format!("<table class=\"details\">{rows}</table>")
}

const NAV: &str = "<nav><a href=\"/navpage.do\">Home</a><a href=\"/oauth_entity_list.do\">Application Registry</a>\
    <a href=\"/sys_user_list.do\">Users</a><a href=\"/sys_security_acl_list.do\">Access Control</a>\
    <a href=\"/sys_remote_update_set_list.do\">Retrieved Update Sets</a><a href=\"/logout.do\">Log out</a></nav>";

fn screen(title: &str, body: &str) -> Response {
    page(StatusCode::OK, title, &format!("{NAV}{body}"))
}

async fn home(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let instance = app.lock();
    match signed_in(&instance, &headers) {
        Some((caller, _)) => screen(
            "ServiceNow",
            &format!("<p>Signed in as {}.</p>", escape(&caller.user_name)),
        ),
        None => login_form("/navpage.do", None),
    }
}

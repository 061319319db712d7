//! Admin screens a person can click through in a browser, mirroring the real ones the wizard
//! sends admins to: Application Registry, Users (roles, password), Access Control and Retrieved
//! Update Sets. Plain server-rendered HTML with real forms; every form carries the session's
//! `sysparm_ck` and every value is escaped.

mod acls;
mod elevate;
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
use crate::db::store::Record;
use crate::html::{escape, found, hidden, page};
use crate::platform::identity::Caller;
use crate::platform::instance::{Instance, Session};
use crate::rest::params::{param, params};
use crate::web::session::{login_form, signed_in};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(home))
        .route("/navpage.do", get(home))
        .merge(registry::routes())
        .merge(users::routes())
        .merge(acls::routes())
        .merge(elevate::routes())
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

/// The decoded fields of a posted form, in order.
type Fields = Vec<(String, String)>;

/// [`require`], then the decoded fields of the posted `body`, whose form token must match the
/// session's.
fn require_form(
    app: &App,
    headers: &HeaderMap,
    role: &str,
    return_to: &str,
    body: &[u8],
) -> Result<(Caller, Fields), Box<Response>> {
    let (caller, session) = require(app, headers, role, return_to)?;
    let fields: Fields = url::form_urlencoded::parse(body).into_owned().collect();
    if field(&fields, "sysparm_ck") != session.form_token {
        return Err(Box::new(invalid_token()));
    }
    Ok((caller, fields))
}

/// The answer to a post whose form token is not the session's.
fn invalid_token() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Invalid request",
        "<p>The form token is invalid; reload the page.</p>",
    )
}

fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Record not found",
        "<p>Record not found</p>",
    )
}

/// A 400 page showing `message` as text.
fn error(message: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Error",
        &format!("<p>{}</p>", escape(message)),
    )
}

/// A 400 page showing `message` as text in an alert.
fn alert(message: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Error",
        &format!("<p role=\"alert\">{}</p>", escape(message)),
    )
}

/// One table's admin screens, laid out as the instance lays out every list and form: who may
/// open them, the list's order and columns, the record page, and the form of a new record.
struct Screens {
    table: &'static str,
    /// The role that opens both screens (and posts their forms).
    role: &'static str,
    list: &'static str,
    list_title: &'static str,
    order: &'static str,
    columns: &'static [&'static str],
    page: &'static str,
    page_title: &'static str,
    /// The new-record form, when records are created from the page.
    new: Option<NewForm>,
}

/// The form a record page shows for `sys_id=-1`: its title and inputs.
type NewForm = (&'static str, fn() -> Vec<String>);

impl Screens {
    /// The list, with a "New" link when records are created here, then `below` (given the
    /// session, for forms).
    fn list_page(
        &self,
        app: &App,
        headers: &HeaderMap,
        below: impl FnOnce(&Session) -> String,
    ) -> Response {
        let (_, session) = match require(app, headers, self.role, self.list) {
            Ok(ok) => ok,
            Err(page) => return *page,
        };
        let records = app.lock().query(self.table, self.order);
        let new = if self.new.is_some() {
            format!(
                "<p><a href=\"{}?sys_id=-1\" id=\"new\">New</a></p>",
                escape(self.page)
            )
        } else {
            String::new()
        };
        let list = record_list(&records, self.columns, self.page);
        screen(self.list_title, &format!("{new}{list}{}", below(&session)))
    }

    /// The record page asked for by `raw`'s `sys_id`: the new-record form for `-1`, else what
    /// `body` shows of the record.
    fn record_page(
        &self,
        app: &App,
        raw: Option<&str>,
        headers: &HeaderMap,
        body: impl FnOnce(&Instance, &str, &Record, &Session) -> String,
    ) -> Response {
        let (_, session) = match require(app, headers, self.role, self.list) {
            Ok(ok) => ok,
            Err(page) => return *page,
        };
        let params = params(raw);
        let sys_id = param(&params, "sys_id").unwrap_or("-1");
        if let (Some((title, inputs)), "-1") = (self.new, sys_id) {
            let form = post_form(
                self.page,
                self.table,
                &session,
                &inputs().concat(),
                "Submit",
            );
            return screen(title, &form);
        }
        let instance = app.lock();
        let Some(record) = instance.get(self.table, sys_id) else {
            return not_found();
        };
        screen(self.page_title, &body(&instance, sys_id, &record, &session))
    }

    /// The caller and fields of a form posted to these screens.
    fn posted(
        &self,
        app: &App,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(Caller, Fields), Box<Response>> {
        require_form(app, headers, self.role, self.list, body)
    }

    /// The redirect to the record `sys_id`'s page.
    fn to_record(&self, sys_id: &str) -> Response {
        found(&format!("{}?sys_id={sys_id}", self.page))
    }

    /// After a post: the page of the record it created or changed, or its error.
    fn outcome<E: std::fmt::Display>(&self, outcome: Result<String, E>) -> Response {
        match outcome {
            Ok(sys_id) => self.to_record(&sys_id),
            Err(err) => error(&err.to_string()),
        }
    }
}

/// The named fields of a posted form, trimmed.
fn trimmed<'a>(
    fields: &'a [(String, String)],
    names: &'a [&str],
) -> impl Iterator<Item = (String, String)> + 'a {
    names
        .iter()
        .map(|f| ((*f).to_owned(), field(fields, f).trim().to_owned()))
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

/// A labelled checkbox.
fn checkbox_input(label: &str, name: &str, checked: bool) -> String {
    format!(
        "<label>{} <input type=\"checkbox\" name=\"{}\" id=\"{}\"{}></label>",
        escape(label),
        escape(name),
        escape(name),
        if checked { " checked" } else { "" }
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
    <a href=\"/sys_remote_update_set_list.do\">Retrieved Update Sets</a><a href=\"/elevate_role.do\" id=\"elevate\">Elevate role</a>\
    <a href=\"/logout.do\">Log out</a></nav>";

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

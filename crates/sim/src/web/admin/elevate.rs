//! User menu > Elevate role: a browser session turns on the elevated-privilege roles its user
//! holds (`security_admin`), until it ends. Only here: no REST call can elevate (servicenow.md
//! item 19), so ACLs are created by a person in the browser, or arrive in an update set.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;

use super::{Fields, checkbox_input, field, invalid_token, post_form, screen};
use crate::app::App;
use crate::html::{found, page};
use crate::web::session::{current, login_form};

const PAGE: &str = "/elevate_role.do";

pub fn routes() -> Router<Arc<App>> {
    Router::new().route(PAGE, get(show).post(elevate))
}

async fn show(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let instance = app.lock();
    let Some((_, session)) = current(&instance, &headers) else {
        return login_form(PAGE, None);
    };
    let roles = instance.elevatable_roles(&session.user_id);
    if roles.is_empty() {
        return page(
            StatusCode::FORBIDDEN,
            "Elevate role",
            "<p>You have no elevated privilege roles.</p>",
        );
    }
    let boxes: String = roles
        .iter()
        .map(|role| checkbox_input(role, role, session.elevated.contains(role)))
        .collect();
    let form = post_form(PAGE, "elevate", &session, &boxes, "Update");
    screen(
        "Elevate role",
        &format!("<p>Elevated privilege roles last until you log out.</p>{form}"),
    )
}

async fn elevate(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let mut instance = app.lock();
    let Some((id, session)) = current(&instance, &headers) else {
        return login_form(PAGE, None);
    };
    let fields: Fields = url::form_urlencoded::parse(&body).into_owned().collect();
    if field(&fields, "sysparm_ck") != session.form_token {
        return invalid_token();
    }
    let chosen = instance
        .elevatable_roles(&session.user_id)
        .into_iter()
        .filter(|role| matches!(field(&fields, role), "on" | "true"))
        .collect();
    if let Some(live) = instance.sessions.get_mut(&id) {
        live.elevated = chosen;
    }
    found("/navpage.do")
}

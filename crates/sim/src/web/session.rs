//! Browser sessions: the `/login.do` form, the `JSESSIONID` cookie, and the per-session form
//! token (the instance's `sysparm_ck`) every state-changing form must echo back, so a page on
//! another site cannot post to the admin screens or the consent page.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;

use crate::app::App;
use crate::html::{escape, found, hidden, input, page};
use crate::platform::identity::Caller;
use crate::platform::instance::{Instance, Session, random_hex};

const COOKIE: &str = "JSESSIONID";

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/login.do", get(login_page).post(login))
        .route("/logout.do", get(logout))
        .route("/nav_to.do", get(nav_to))
}

/// `/nav_to.do?uri=<classic UI target>`: the link form every release understands. The target
/// is a page of this instance (`sys_user.do?sys_id=…`); anything else goes to the home page,
/// so the link cannot send a person elsewhere. The page itself asks for a sign-in if needed.
async fn nav_to(RawQuery(query): RawQuery) -> Response {
    let target = crate::rest::params::params(query.as_deref())
        .into_iter()
        .find(|(name, _)| name == "uri")
        .map(|(_, value)| value)
        .unwrap_or_default();
    // Only a page of this instance: a scheme or a second slash would leave it.
    let path = if target.contains("://") || target.starts_with("//") {
        String::new()
    } else {
        format!("/{}", target.trim_start_matches('/'))
    };
    found(safe_return(&path))
}

/// The session id and session of the request's cookie, if it names a live session.
pub fn current(instance: &Instance, headers: &HeaderMap) -> Option<(String, Session)> {
    let cookies = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let id = cookies
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())?;
    let session = instance.sessions.get(&id)?.clone();
    Some((id, session))
}

/// The signed-in caller, if the session's user may still log in.
pub fn signed_in(instance: &Instance, headers: &HeaderMap) -> Option<(Caller, Session)> {
    let (_, session) = current(instance, headers)?;
    let user = instance.get("sys_user", &session.user_id)?;
    if !instance.user_can_log_in(&user) {
        return None;
    }
    let caller = instance.caller_elevated(&session.user_id, &session.elevated)?;
    Some((caller, session))
}

/// Only a local path may be returned to after login: an absolute URL would make the login page
/// an open redirect.
fn safe_return(target: &str) -> &str {
    if target.starts_with('/') && !target.starts_with("//") && !target.contains('\\') {
        target
    } else {
        "/navpage.do"
    }
}

/// The login page; `return_to` is where a successful login goes.
pub fn login_form(return_to: &str, error: Option<&str>) -> Response {
    let message = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "{message}<form method=\"post\" action=\"/login.do\" id=\"login\">{}{}{}{}\
         <button type=\"submit\" id=\"sysverb_login\">Log in</button></form>",
        hidden("return_to", safe_return(return_to)),
        input("User name", "user_name", "text", ""),
        input("Password", "user_password", "password", ""),
        input("Multi-factor code (if enrolled)", "mfa_code", "text", ""),
    );
    page(
        if error.is_some() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        },
        "Log in",
        &body,
    )
}

async fn login_page(RawQuery(raw): RawQuery) -> Response {
    let params = crate::rest::params::params(raw.as_deref());
    login_form(
        crate::rest::params::param(&params, "return_to").unwrap_or("/navpage.do"),
        None,
    )
}

#[derive(serde::Deserialize)]
struct LoginForm {
    #[serde(default)]
    user_name: String,
    #[serde(default)]
    user_password: String,
    #[serde(default)]
    mfa_code: String,
    #[serde(default)]
    return_to: String,
}

async fn login(State(app): State<Arc<App>>, Form(form): Form<LoginForm>) -> Response {
    let mut instance = app.lock();
    let given = format!("{}{}", form.user_password, form.mfa_code.trim());
    let user_id = match instance.check_password(&form.user_name, &given) {
        Ok(id) => id,
        Err(_) => return login_form(&form.return_to, Some("User name or password invalid")),
    };
    // Web-service-only users may not use the interface (servicenow.md, sys_user).
    let web_only = instance.get("sys_user", &user_id).is_some_and(|u| {
        u.get("web_service_access_only")
            .is_some_and(|v| v == "true")
    });
    if web_only {
        return login_form(&form.return_to, Some("User name or password invalid"));
    }
    let id = random_hex(16);
    instance.sessions.insert(
        id.clone(),
        Session {
            user_id,
            form_token: random_hex(16),
            elevated: std::collections::BTreeSet::new(),
        },
    );
    let mut response = found(safe_return(&form.return_to));
    if let Ok(cookie) =
        HeaderValue::from_str(&format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax"))
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let mut instance = app.lock();
    if let Some((id, _)) = current(&instance, &headers) {
        instance.sessions.remove(&id);
    }
    found("/login.do")
}

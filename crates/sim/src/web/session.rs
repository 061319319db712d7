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
use crate::platform::identity::LoginRefusal;
use crate::platform::instance::{Instance, Session, random_hex};
pub use crate::rest::auth::{SESSION_COOKIE as COOKIE, current, signed_in};

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
    let given = format!("{}{}", form.user_password, form.mfa_code.trim());
    match start_session(&mut app.lock(), &form.user_name, &given) {
        Ok(id) => with_session_cookie(found(safe_return(&form.return_to)), &id),
        Err(_) => login_form(&form.return_to, Some("User name or password invalid")),
    }
}

/// Checks a person's sign-in (the password, with the one-time code appended for MFA users) and
/// opens a session for them; the session id. Web-service-only users may not use the interface
/// (servicenow.md, sys_user).
pub fn start_session(
    instance: &mut Instance,
    user_name: &str,
    given: &str,
) -> Result<String, LoginRefusal> {
    let user_id = instance.check_password(user_name, given)?;
    let web_only = instance.get("sys_user", &user_id).is_some_and(|u| {
        u.get("web_service_access_only")
            .is_some_and(|v| v == "true")
    });
    if web_only {
        return Err(LoginRefusal::Refused);
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
    Ok(id)
}

/// `response` setting the session cookie `id`.
pub fn with_session_cookie(mut response: Response, id: &str) -> Response {
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

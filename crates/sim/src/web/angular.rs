//! The UI's own sign-in, as ServiceNow's SDK and the tools built on it use it (servicenow.md
//! 2.16): `POST /angular.do?sysparm_type=view_form.login` with the login form's fields answers
//! a JSON status and the session cookie; `angular.do?sysparm_type=get_user` answers the
//! session's user and its token in `X-UserToken-Response`, which the session's API calls send
//! back as `X-UserToken` (`crate::rest::auth`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::session::{signed_in, start_session, with_session_cookie};
use crate::app::App;
use crate::platform::identity::LoginRefusal;
use crate::rest::errors::ApiError;
use crate::rest::params::{param, params};

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/angular.do", get(angular).post(angular))
}

async fn angular(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = params(raw.as_deref());
    match param(&query, "sysparm_type").unwrap_or_default() {
        "view_form.login" => login(&app, &body),
        "get_user" => current_user(&app, &headers),
        _ => ApiError::UnknownResource.into_response(),
    }
}

fn login(app: &App, body: &[u8]) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| param(&form, name).unwrap_or_default();
    let answer = |status: &str, message: &str| {
        (
            StatusCode::OK,
            axum::Json(json!({ "status": status, "message": message })),
        )
            .into_response()
    };
    match start_session(&mut app.lock(), field("user_name"), field("user_password")) {
        Ok(id) => with_session_cookie(answer("success", "Login successful"), &id),
        Err(LoginRefusal::MfaCodeMissing) => answer(
            "mfa_code_required",
            "Enter the code from your authenticator app",
        ),
        Err(LoginRefusal::Refused) => answer("error", "User name or password invalid"),
    }
}

fn current_user(app: &App, headers: &HeaderMap) -> Response {
    let instance = app.lock();
    let Some((caller, session)) = signed_in(&instance, headers) else {
        return ApiError::NotAuthenticated { mfa: false }.into_response();
    };
    let mut response = axum::Json(json!({
        "result": {
            "user_name": caller.user_name,
            "user_sys_id": caller.user_id,
            "roles": caller.roles,
        }
    }))
    .into_response();
    if let Ok(token) = HeaderValue::from_str(&session.form_token) {
        response.headers_mut().insert("X-UserToken-Response", token);
    }
    response
}

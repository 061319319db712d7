//! `/oauth_auth.do`, the authorization endpoint, as the instance behaves: `state` is required
//! ("Missing State parameter in request"); without a session the login page is shown; with one,
//! an Allow/Deny consent form. The redirect URL is matched against the Application Registry
//! list and, when it matches none, the *first* registered URL is used without any error — the
//! silent fallback that makes random loopback ports fail in practice (servicenow.md, OAuth).

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::Utc;

use crate::app::App;
use crate::db::store::Record;
use crate::html::{escape, found, hidden, page};
use crate::platform::instance::{AuthCode, Instance, random_hex};
use crate::rest::params::{param, params};
use crate::web::session::{login_form, signed_in};

/// How long an authorization code stays redeemable.
const CODE_LIFETIME_SECONDS: i64 = 120;

/// The authorization request parameters carried through login and consent.
const CARRIED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/oauth_auth.do", get(authorize).post(decide))
}

fn error_page(message: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "OAuth error",
        &format!("<p role=\"alert\">{}</p>", escape(message)),
    )
}

/// The Application Registry record of an active client.
fn client(instance: &Instance, client_id: &str) -> Option<Record> {
    if client_id.is_empty() {
        return None;
    }
    instance
        .find_by("oauth_entity", "client_id", client_id)
        .filter(|e| e.get("active").is_none_or(|a| a == "true"))
}

/// Validates what can be checked before anyone signs in.
fn validate(instance: &Instance, params: &[(String, String)]) -> Result<Record, Box<Response>> {
    if param(params, "response_type") != Some("code") {
        return Err(Box::new(error_page(
            "Invalid response_type: only \"code\" is supported",
        )));
    }
    let entity = client(instance, param(params, "client_id").unwrap_or(""))
        .ok_or_else(|| Box::new(error_page("Invalid client_id")))?;
    if param(params, "state").is_none_or(str::is_empty) {
        return Err(Box::new(error_page("Missing State parameter in request")));
    }
    Ok(entity)
}

async fn authorize(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = params(raw.as_deref());
    let instance = app.lock();
    let entity = match validate(&instance, &params) {
        Ok(entity) => entity,
        Err(response) => return *response,
    };
    let Some((caller, session)) = signed_in(&instance, &headers) else {
        let return_to = format!("/oauth_auth.do?{}", raw.as_deref().unwrap_or(""));
        return login_form(&return_to, None);
    };
    let name = entity.get("name").cloned().unwrap_or_default();
    let carried: String = CARRIED
        .iter()
        .filter_map(|field| param(&params, field).map(|value| hidden(field, value)))
        .collect();
    let body = format!(
        "<p><strong>{}</strong> would like to connect to your account <strong>{}</strong> \
         (scope: {}).</p><form method=\"post\" action=\"/oauth_auth.do\" id=\"consent\">{carried}{}\
         <button type=\"submit\" name=\"action\" value=\"allow\" id=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"action\" value=\"deny\" id=\"deny\">Deny</button></form>",
        escape(&name),
        escape(&caller.user_name),
        escape(&crate::oauth::token::normal_scope(
            param(&params, "scope").unwrap_or("")
        )),
        hidden("sysparm_ck", &session.form_token),
    );
    page(StatusCode::OK, "Authorize access", &body)
}

/// The registered URL to send the browser to: the requested one when registered, else the first.
fn effective_redirect(entity: &Record, requested: &str) -> Option<String> {
    let registered: Vec<&str> = entity
        .get("redirect_url")
        .map(String::as_str)
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    let first = registered.first()?;
    Some(
        registered
            .iter()
            .find(|u| **u == requested)
            .unwrap_or(first)
            .to_string(),
    )
}

fn with_params(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}{}", query.finish())
}

async fn decide(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let mut instance = app.lock();
    let entity = match validate(&instance, &params) {
        Ok(entity) => entity,
        Err(response) => return *response,
    };
    let Some((caller, session)) = signed_in(&instance, &headers) else {
        return login_form(
            "/navpage.do",
            Some("Your session has expired; log in and start again"),
        );
    };
    if param(&params, "sysparm_ck") != Some(session.form_token.as_str()) {
        return page(
            StatusCode::FORBIDDEN,
            "Invalid request",
            "<p>The form token is invalid.</p>",
        );
    }
    let requested = param(&params, "redirect_uri").unwrap_or("");
    let Some(target) = effective_redirect(&entity, requested) else {
        return error_page("The application has no redirect URL registered");
    };
    let state = param(&params, "state").unwrap_or("");
    if param(&params, "action") != Some("allow") {
        return found(&with_params(
            &target,
            &[("error", "access_denied"), ("state", state)],
        ));
    }
    let challenge = param(&params, "code_challenge").filter(|c| !c.is_empty());
    let public = entity.get("public_client").is_some_and(|p| p == "true");
    let challenge = if instance.release.pkce_supported {
        if challenge.is_some() && param(&params, "code_challenge_method") != Some("S256") {
            let error = [
                ("error", "invalid_request"),
                ("error_description", "Only S256 is supported"),
                ("state", state),
            ];
            return found(&with_params(&target, &error));
        }
        if public && challenge.is_none() {
            let error = [
                ("error", "invalid_request"),
                ("error_description", "code_challenge is required"),
                ("state", state),
            ];
            return found(&with_params(&target, &error));
        }
        challenge
    } else {
        // Before Zurich the instance knows nothing of PKCE and ignores the parameters.
        None
    };
    let code = random_hex(24);
    instance.codes.insert(
        code.clone(),
        AuthCode {
            client_id: entity.get("client_id").cloned().unwrap_or_default(),
            user_id: caller.user_id,
            requested_redirect: requested.to_owned(),
            used_redirect: target.clone(),
            code_challenge: challenge.map(str::to_owned),
            scope: crate::oauth::token::normal_scope(param(&params, "scope").unwrap_or("")),
            expires: Utc::now() + chrono::Duration::seconds(CODE_LIFETIME_SECONDS),
        },
    );
    found(&with_params(&target, &[("code", &code), ("state", state)]))
}

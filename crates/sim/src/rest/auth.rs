//! Who an API request is: Basic or Bearer, checked the way the instance checks them, then the
//! REST API ACL of the API asked for and the token's API access scopes. Every REST API
//! authenticates this way; a refusal is the instance's own 401 or 403.

use axum::http::{HeaderMap, header};
use base64::Engine;

use crate::app::App;
use crate::platform::acl::Acls;
use crate::platform::identity::{Caller, LoginRefusal};
use crate::platform::instance::{Instance, Session, now_text};
use crate::rest::errors::ApiError;

/// Authenticates an API request (Basic or Bearer) and applies the REST API ACL of `api`.
pub fn caller(app: &App, headers: &HeaderMap, api: &str) -> Result<Caller, ApiError> {
    api_access(&app.lock(), headers, api).map(|(caller, _)| caller)
}

/// [`caller`] under a lock the caller already holds, also handing back the ACLs it
/// loaded so the request can check its records against them without loading them again.
pub fn api_access(
    instance: &Instance,
    headers: &HeaderMap,
    api: &str,
) -> Result<(Caller, Acls), ApiError> {
    let caller = authenticate(instance, headers)?;
    let acls = Acls::load(instance, &caller);
    if !acls.api_allows(&caller, api) {
        return Err(ApiError::ApiAclFailed);
    }
    if let Some(scopes) = &caller.scopes {
        let missing = instance
            .query("sys_api_access_policy", "active=true")
            .iter()
            .filter(|p| p.get("api").is_some_and(|a| a == api || a == "*"))
            .filter_map(|p| p.get("required_scope").filter(|s| !s.is_empty()))
            .any(|required| !scopes.contains(required));
        if missing || restricted_to_other_scopes(instance, caller.client_id.as_deref()) {
            return Err(ApiError::MissingScope);
        }
    }
    Ok((caller, acls))
}

/// "Allow access only to APIs in selected scope" on the token's application (servicenow.md
/// items 21 and 37): the platform's REST APIs then need the `useraccount` auth scope among
/// the application's, and a new application has none.
fn restricted_to_other_scopes(instance: &Instance, client_id: Option<&str>) -> bool {
    let Some(app) = client_id.and_then(|id| instance.find_by("oauth_entity", "client_id", id))
    else {
        return false;
    };
    if app.get("scope_restriction_status").map(String::as_str) != Some("restricted") {
        return false;
    }
    let app_id = app.get("sys_id").cloned().unwrap_or_default();
    !instance
        .query(
            "oauth_entity_auth_scope_mapping",
            &format!("oauth_entity={app_id}"),
        )
        .iter()
        .any(|m| m.get("auth_scope").is_some_and(|s| s == "useraccount"))
}

/// Who sent `headers`, or the single 401: Basic, Bearer, or the UI's session cookie with the
/// session's `X-UserToken` (servicenow.md 2.16), which carries the session's elevation.
pub fn authenticate(instance: &Instance, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let refused = ApiError::NotAuthenticated { mfa: false };
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return session_caller(instance, headers).ok_or(refused);
    };
    let user_id = if let Some(encoded) = strip_scheme(value, "basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| refused.clone())?;
        let text = String::from_utf8(decoded).map_err(|_| refused.clone())?;
        let (user_name, password) = text.split_once(':').ok_or(refused.clone())?;
        let user_id = instance
            .check_password(user_name, password)
            .map_err(|refusal| ApiError::NotAuthenticated {
                mfa: refusal == LoginRefusal::MfaCodeMissing,
            })?;
        if instance.basic_auth_restricted_for(&user_id) {
            return Err(refused);
        }
        user_id
    } else if let Some(token) = strip_scheme(value, "bearer") {
        let token = bearer_user(instance, token.trim()).ok_or(refused.clone())?;
        let mut caller = instance.caller(&token.user_id).ok_or(refused)?;
        caller.scopes = Some(token.scopes);
        caller.client_id = Some(token.client_id);
        return Ok(caller);
    } else {
        return Err(refused);
    };
    instance.caller(&user_id).ok_or(refused)
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "JSESSIONID";
/// The header an API call of a UI session sends its token in.
pub const USER_TOKEN: &str = "X-UserToken";

/// The caller of a UI session's API call: a live session and its own token, never the cookie
/// alone, so a page on another site that makes the browser send the cookie gets the 401.
fn session_caller(instance: &Instance, headers: &HeaderMap) -> Option<Caller> {
    let (caller, session) = signed_in(instance, headers)?;
    let token = headers.get(USER_TOKEN).and_then(|v| v.to_str().ok())?;
    (!token.is_empty() && token == session.form_token).then_some(caller)
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
        .find(|(name, _)| *name == SESSION_COOKIE)
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

/// What a live access token stands for.
pub struct Bearer {
    pub user_id: String,
    pub scopes: Vec<String>,
    /// The OAuth application it was issued to.
    pub client_id: String,
}

/// The user behind a live access token whose user may still log in, with the token's scopes
/// and application.
pub fn bearer_user(instance: &Instance, token: &str) -> Option<Bearer> {
    if token.is_empty() {
        return None;
    }
    let credential = instance.find_by("oauth_credential", "token", token)?;
    if credential.get("type").map(String::as_str) != Some("access_token") {
        return None;
    }
    let expires = credential.get("expires").map(String::as_str).unwrap_or("");
    if expires <= now_text().as_str() {
        return None;
    }
    let user_id = credential.get("user").cloned()?;
    let user = instance.get("sys_user", &user_id)?;
    let alive = user.get("active").is_some_and(|v| v == "true")
        && user.get("locked_out").is_none_or(|v| v != "true");
    let scopes = credential
        .get("scopes")
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let client_id = credential.get("client_id").cloned().unwrap_or_default();
    alive.then_some(Bearer {
        user_id,
        scopes,
        client_id,
    })
}

fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

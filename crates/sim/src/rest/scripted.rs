//! Scripted REST APIs (`sys_ws_definition` + `sys_ws_operation`) without a JavaScript engine.
//! Any `/api/...` path no built-in API claims is matched against the active operations'
//! `operation_uri` (with `{param}` segments) and HTTP method; no match is the instance's
//! 400 "Requested URI does not represent any resource". An operation's behaviour is read from
//! its script: an explicit `snowlink:behaviour=NAME` marker, or a script that returns
//! `gs.getUserName()` and `gs.getUserID()` is "return the caller's user_name and sys_id".

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::app::App;
use crate::db::store::Record;
use crate::platform::instance::Instance;
use crate::rest::errors::ApiError;

/// The fixed set of behaviours a scripted operation can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// `{"result":{"user_name","sys_id"}}` of the caller.
    CallerIdentity,
    /// `{"result": <request JSON body>}`.
    Echo,
    /// `{"result":{"status":"ok"}}`.
    Ok,
}

fn behaviour(script: &str) -> Behaviour {
    match script.split("snowlink:behaviour=").nth(1).map(|rest| {
        rest.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .next()
            .unwrap_or("")
    }) {
        Some("caller_identity") => Behaviour::CallerIdentity,
        Some("echo") => Behaviour::Echo,
        Some(_) => Behaviour::Ok,
        None if script.contains("gs.getUserName()") && script.contains("gs.getUserID()") => {
            Behaviour::CallerIdentity
        }
        None => Behaviour::Ok,
    }
}

fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    pattern.len() == path.len()
        && pattern
            .iter()
            .zip(&path)
            .all(|(p, s)| (p.starts_with('{') && p.ends_with('}') && !s.is_empty()) || p == s)
}

/// The active operation answering `method path`, with its definition's name.
fn find_operation(instance: &Instance, method: &Method, path: &str) -> Option<(Record, String)> {
    instance
        .query("sys_ws_operation", "active!=false")
        .into_iter()
        .find_map(|operation| {
            let definition = instance.get(
                "sys_ws_definition",
                operation.get("web_service_definition")?,
            )?;
            if definition.get("active").is_some_and(|a| a == "false") {
                return None;
            }
            let uri = operation
                .get("operation_uri")
                .cloned()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| {
                    let base = definition.get("base_uri").cloned().unwrap_or_default();
                    let relative = operation.get("relative_path").cloned().unwrap_or_default();
                    format!(
                        "{}{}",
                        base.trim_end_matches('/'),
                        if relative == "/" {
                            ""
                        } else {
                            relative.as_str()
                        }
                    )
                });
            let same_method = operation
                .get("http_method")
                .is_some_and(|m| m.eq_ignore_ascii_case(method.as_str()));
            (same_method && path_matches(&uri, path)).then(|| {
                (
                    operation,
                    definition.get("name").cloned().unwrap_or_default(),
                )
            })
        })
}

/// Fallback handler: scripted REST under `/api/`, 404 page elsewhere.
pub async fn dispatch(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    // Deep links people paste (`/now/nav/ui/home`) land on the instance's home page.
    if path.starts_with("/now/") && method == Method::GET {
        return crate::html::found("/navpage.do");
    }
    if !path.starts_with("/api/") {
        return crate::html::page(
            StatusCode::NOT_FOUND,
            "Page not found",
            "<p>The page you are looking for could not be found.</p>",
        );
    }
    let found = find_operation(&app.lock(), &method, path);
    let Some((operation, api)) = found else {
        return ApiError::UnknownResource.into_response();
    };
    let caller = if operation
        .get("requires_authentication")
        .is_some_and(|v| v == "false")
    {
        None
    } else {
        match crate::rest::auth::caller(&app, &headers, &api) {
            Ok(caller) => Some(caller),
            Err(err) => return err.into_response(),
        }
    };
    let script = operation
        .get("operation_script")
        .cloned()
        .unwrap_or_default();
    let result = match behaviour(&script) {
        Behaviour::CallerIdentity => match caller {
            Some(caller) => json!({ "user_name": caller.user_name, "sys_id": caller.user_id }),
            None => return ApiError::NotAuthenticated { mfa: false }.into_response(),
        },
        Behaviour::Echo => serde_json::from_slice(&body).unwrap_or(Value::Null),
        Behaviour::Ok => json!({ "status": "ok" }),
    };
    axum::Json(json!({ "result": result })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviours_are_read_from_markers_or_the_identity_idiom() {
        assert_eq!(behaviour("// snowlink:behaviour=echo\n"), Behaviour::Echo);
        assert_eq!(
            behaviour("response.setBody({user_name: gs.getUserName(), sys_id: gs.getUserID()});"),
            Behaviour::CallerIdentity
        );
        assert_eq!(behaviour("gs.info('x')"), Behaviour::Ok);
    }

    #[test]
    fn uri_templates_match_segments() {
        assert!(path_matches(
            "/api/snc/oauth_userinfo",
            "/api/snc/oauth_userinfo/"
        ));
        assert!(path_matches("/api/x/y/{id}", "/api/x/y/42"));
        assert!(!path_matches("/api/x/y/{id}", "/api/x/y"));
    }
}

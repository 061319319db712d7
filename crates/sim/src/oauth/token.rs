//! `/oauth_token.do` and `/oauth_revoke_token.do`. Form-encoded bodies only. Grants:
//! authorization_code (client secret or, on releases with PKCE, an S256 verifier), password
//! (unless `glide.oauth.inbound.ropc.grant_type.disabled`), refresh_token, client_credentials
//! (only with `glide.oauth.inbound.client.credential.grant_type.enabled` and an OAuth Application
//! User). Every failure is the same 401 `{"error_description":"access_denied","error":"server_error"}`
//! as on the instance; tokens are recorded in `oauth_credential`, and a live access token is
//! handed out again rather than minting a new one.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use chrono::{NaiveDateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::db::store::Record;
use crate::platform::instance::{Instance, format_time, now_text};
use crate::rest::params::{param, params};

pub const ROPC_DISABLED: &str = "glide.oauth.inbound.ropc.grant_type.disabled";
pub const CLIENT_CREDENTIALS_ENABLED: &str =
    "glide.oauth.inbound.client.credential.grant_type.enabled";
const DEFAULT_ACCESS_SECONDS: i64 = 1800;
const DEFAULT_REFRESH_SECONDS: i64 = 8_640_000;

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/oauth_token.do", post(token)).route(
        "/oauth_revoke_token.do",
        get(revoke_by_query).post(revoke_by_form),
    )
}

/// The one failure body of the token endpoint.
struct Denied;

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        let body = json!({ "error_description": "access_denied", "error": "server_error" });
        (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
    }
}

async fn token(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_encoded {
        return Denied.into_response();
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let mut instance = app.lock();
    match grant(&mut instance, &form, &headers) {
        Ok(body) => axum::Json(body).into_response(),
        Err(Denied) => Denied.into_response(),
    }
}

/// Client credentials from the form, or from HTTP Basic (RFC 6749 §2.3.1).
fn client_credentials(form: &[(String, String)], headers: &HeaderMap) -> (String, Option<String>) {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()
        })
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| {
            v.split_once(':')
                .map(|(id, secret)| (id.to_owned(), secret.to_owned()))
        });
    if let Some((id, secret)) = basic {
        return (id, Some(secret));
    }
    let id = param(form, "client_id").unwrap_or("").to_owned();
    (id, param(form, "client_secret").map(str::to_owned))
}

fn grant(
    instance: &mut Instance,
    form: &[(String, String)],
    headers: &HeaderMap,
) -> Result<Value, Denied> {
    let (client_id, secret) = client_credentials(form, headers);
    let entity = instance
        .find_by("oauth_entity", "client_id", &client_id)
        .filter(|e| !client_id.is_empty() && e.get("active").is_none_or(|a| a == "true"))
        .ok_or(Denied)?;
    let secret_ok = |given: &Option<String>| {
        given.as_deref().is_some_and(|s| {
            !s.is_empty() && Some(s) == entity.get("client_secret").map(String::as_str)
        })
    };
    // Before Zurich the field does not exist: every client is confidential.
    let public =
        instance.release.pkce_supported && entity.get("public_client").is_some_and(|p| p == "true");
    let requested_scope = normal_scope(param(form, "scope").unwrap_or(""));
    match param(form, "grant_type").unwrap_or("") {
        "authorization_code" => {
            let code = instance
                .codes
                .remove(param(form, "code").unwrap_or(""))
                .ok_or(Denied)?;
            let redirect = param(form, "redirect_uri").unwrap_or("");
            let redirect_ok = redirect == code.requested_redirect || redirect == code.used_redirect;
            if code.client_id != client_id || code.expires < Utc::now() || !redirect_ok {
                return Err(Denied);
            }
            let verifier_ok = match (&code.code_challenge, param(form, "code_verifier")) {
                (Some(challenge), Some(verifier)) => s256(verifier) == *challenge,
                (Some(_), None) => false,
                (None, _) => true,
            };
            // Only a public client proves itself by PKCE alone; any other needs its secret.
            let by_pkce = public && code.code_challenge.is_some() && secret.is_none();
            if !verifier_ok || !(secret_ok(&secret) || (by_pkce && instance.release.pkce_supported))
            {
                return Err(Denied);
            }
            user_may_log_in(instance, &code.user_id)?;
            // Public clients get no refresh token (servicenow.md, OAuth).
            issue(instance, &entity, &code.user_id, &code.scope, !public)
        }
        "password" => {
            if instance.property_is_true(ROPC_DISABLED) || !(secret_ok(&secret) || public) {
                return Err(Denied);
            }
            let user_name = param(form, "username").unwrap_or("");
            let user_id = instance
                .check_password(user_name, param(form, "password").unwrap_or(""))
                .map_err(|_| Denied)?;
            issue(instance, &entity, &user_id, &requested_scope, !public)
        }
        "refresh_token" => {
            let given = param(form, "refresh_token").unwrap_or("");
            let refresh = instance
                .find_by("oauth_credential", "token", given)
                .ok_or(Denied)?;
            let live = refresh.get("type").is_some_and(|t| t == "refresh_token")
                && refresh.get("client_id") == Some(&client_id)
                && refresh
                    .get("expires")
                    .is_some_and(|e| e.as_str() > now_text().as_str());
            if given.is_empty() || !live || !(secret_ok(&secret) || public) {
                return Err(Denied);
            }
            let user_id = refresh.get("user").cloned().unwrap_or_default();
            user_may_log_in(instance, &user_id)?;
            let mut body = access_token(
                instance,
                &entity,
                &user_id,
                refresh.get("scopes").map_or("useraccount", String::as_str),
                refresh.get("sys_id").map(String::as_str),
            );
            body.insert("refresh_token".into(), json!(given));
            Ok(Value::Object(body))
        }
        "client_credentials" => {
            let app_user = entity.get("user").cloned().unwrap_or_default();
            if !instance.property_is_true(CLIENT_CREDENTIALS_ENABLED)
                || app_user.is_empty()
                || !secret_ok(&secret)
            {
                return Err(Denied);
            }
            user_may_log_in(instance, &app_user)?;
            issue(instance, &entity, &app_user, &requested_scope, false)
        }
        _ => Err(Denied),
    }
}

/// Locked-out, inactive, "password needs reset" and SSO-only users get no token either.
fn user_may_log_in(instance: &Instance, user_id: &str) -> Result<(), Denied> {
    let user = instance.get("sys_user", user_id).ok_or(Denied)?;
    if instance.user_can_log_in(&user) {
        Ok(())
    } else {
        Err(Denied)
    }
}

/// RFC 7636 §4.2: BASE64URL(SHA256(verifier)) without padding.
fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn lifespan(entity: &Record, field: &str, default: i64) -> i64 {
    entity
        .get(field)
        .and_then(|v| v.trim().parse().ok())
        .filter(|s: &i64| *s > 0)
        .unwrap_or(default)
}

fn new_token() -> String {
    let bytes: Vec<u8> = (0..48).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn seconds_left(expires: &str) -> i64 {
    NaiveDateTime::parse_from_str(expires, "%Y-%m-%d %H:%M:%S")
        .map(|t| (t.and_utc() - Utc::now()).num_seconds())
        .unwrap_or(0)
}

fn record_token(
    instance: &mut Instance,
    entity: &Record,
    user_id: &str,
    scope: &str,
    kind: &str,
    seconds: i64,
    parent: Option<&str>,
) -> String {
    let token = new_token();
    let expires = format_time(Utc::now() + chrono::Duration::seconds(seconds));
    let mut fields = Record::from([
        ("type".into(), kind.into()),
        ("token".into(), token.clone()),
        ("expires".into(), expires),
        ("scopes".into(), scope.into()),
        (
            "client_id".into(),
            entity.get("client_id").cloned().unwrap_or_default(),
        ),
        (
            "peer".into(),
            entity.get("sys_id").cloned().unwrap_or_default(),
        ),
        ("user".into(), user_id.into()),
    ]);
    if let Some(parent) = parent {
        fields.insert("parent".into(), parent.into());
    }
    let _ = instance.insert("oauth_credential", fields, "system");
    token
}

/// A live access token for this client and user (the same one while it lives), as a response
/// body without `refresh_token`.
fn access_token(
    instance: &mut Instance,
    entity: &Record,
    user_id: &str,
    scope: &str,
    parent: Option<&str>,
) -> Map<String, Value> {
    let client_id = entity.get("client_id").cloned().unwrap_or_default();
    let now = now_text();
    let existing = instance
        .query(
            "oauth_credential",
            &format!("type=access_token^user={user_id}"),
        )
        .into_iter()
        .find(|c| {
            c.get("client_id") == Some(&client_id)
                && c.get("scopes").map(String::as_str) == Some(scope)
                && c.get("expires").is_some_and(|e| e.as_str() > now.as_str())
        });
    // The instance reports one second less than the lifespan: 1799 for 1800. Stored expiry
    // has whole seconds, so a reused token's remaining time rounds down the same way.
    let (token, expires_in) = match existing {
        Some(c) => {
            let left = seconds_left(c.get("expires").map(String::as_str).unwrap_or(""));
            (c.get("token").cloned().unwrap_or_default(), left)
        }
        None => {
            let seconds = lifespan(entity, "access_token_lifespan", DEFAULT_ACCESS_SECONDS);
            (
                record_token(
                    instance,
                    entity,
                    user_id,
                    scope,
                    "access_token",
                    seconds,
                    parent,
                ),
                seconds - 1,
            )
        }
    };
    let mut body = Map::new();
    body.insert("scope".into(), json!(scope));
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("expires_in".into(), json!(expires_in.max(0)));
    body.insert("access_token".into(), json!(token));
    body
}

fn issue(
    instance: &mut Instance,
    entity: &Record,
    user_id: &str,
    scope: &str,
    with_refresh: bool,
) -> Result<Value, Denied> {
    if !with_refresh {
        return Ok(Value::Object(access_token(
            instance, entity, user_id, scope, None,
        )));
    }
    let seconds = lifespan(entity, "refresh_token_lifespan", DEFAULT_REFRESH_SECONDS);
    let refresh = record_token(
        instance,
        entity,
        user_id,
        scope,
        "refresh_token",
        seconds,
        None,
    );
    let parent = instance
        .find_by("oauth_credential", "token", &refresh)
        .and_then(|r| r.get("sys_id").cloned());
    let mut body = access_token(instance, entity, user_id, scope, parent.as_deref());
    body.insert("refresh_token".into(), json!(refresh));
    Ok(Value::Object(body))
}

async fn revoke_by_query(State(app): State<Arc<App>>, RawQuery(raw): RawQuery) -> Response {
    let params = params(raw.as_deref());
    revoke(&app, param(&params, "token").unwrap_or(""))
}

async fn revoke_by_form(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let mut params = params(raw.as_deref());
    params.extend(url::form_urlencoded::parse(&body).into_owned());
    revoke(&app, param(&params, "token").unwrap_or(""))
}

/// Revokes a token; revoking a refresh token also revokes the access tokens issued from it.
/// The body is undocumented; an unknown token is not an error (RFC 7009 §2.2).
fn revoke(app: &App, token: &str) -> Response {
    let mut instance = app.lock();
    if let Some(credential) = instance
        .find_by("oauth_credential", "token", token)
        .filter(|_| !token.is_empty())
    {
        let id = credential.get("sys_id").cloned().unwrap_or_default();
        for child in instance.query("oauth_credential", &format!("parent={id}")) {
            let _ = instance.delete(
                "oauth_credential",
                child.get("sys_id").map(String::as_str).unwrap_or(""),
            );
        }
        let _ = instance.delete("oauth_credential", &id);
    }
    StatusCode::OK.into_response()
}

/// Scopes as stored and echoed: space-separated, `useraccount` when none were asked for.
pub fn normal_scope(requested: &str) -> String {
    let scopes: Vec<&str> = requested.split_whitespace().collect();
    if scopes.is_empty() {
        "useraccount".to_owned()
    } else {
        scopes.join(" ")
    }
}

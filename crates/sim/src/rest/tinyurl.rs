//! Tiny URLs (servicenow.md 2.15): `POST /api/now/tinyurl` `{"url"}` answers
//! `{"result": "<page>?sysparm_tiny=<id>"}` for any signed-in caller, and a page asked with
//! `sysparm_tiny` goes to the long URL it stands for ([`expand`]). Only addresses of this
//! instance are shortened, so a tiny URL never sends anyone elsewhere. URLs shorter than
//! `glide.tiny_url_min_length`, when set, come back unchanged.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::app::App;
use crate::db::store::Record;
use crate::platform::instance::random_hex;
use crate::rest::errors::ApiError;
use crate::rest::params::{param, params};

const TABLE: &str = "sys_tiny_url";
const MIN_LENGTH: &str = "glide.tiny_url_min_length";

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/now/tinyurl", post(shorten))
        .route("/api/now/{version}/tinyurl", post(shorten))
}

async fn shorten(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(err) = crate::rest::auth::caller(&app, &headers, "Tiny URL API") {
        return err.into_response();
    }
    let given = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("url").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    let mut instance = app.lock();
    let Some(local) = local_path(&given, &instance.base_url) else {
        return ApiError::BadRequest {
            message: "Invalid url".into(),
            detail: "Give an address of this instance in \"url\"".into(),
        }
        .into_response();
    };
    let shortest = instance
        .property(MIN_LENGTH)
        .and_then(|n| n.trim().parse::<usize>().ok());
    if shortest.is_some_and(|n| local.len() < n) {
        return axum::Json(json!({ "result": local })).into_response();
    }
    let id = random_hex(16);
    let record = Record::from([
        ("tiny_url".into(), id.clone()),
        ("data".into(), local.clone()),
    ]);
    if instance.insert(TABLE, record, "system").is_err() {
        return ApiError::BadRequest {
            message: "The tiny URL could not be saved".into(),
            detail: String::new(),
        }
        .into_response();
    }
    let page = local
        .split('?')
        .next()
        .unwrap_or_default()
        .trim_start_matches('/');
    axum::Json(json!({ "result": format!("{page}?sysparm_tiny={id}") })).into_response()
}

/// `url` as a path of this instance (relative, or absolute on `base_url`), if it is one.
fn local_path(url: &str, base_url: &str) -> Option<String> {
    let url = url.trim();
    let path = match url.strip_prefix(base_url.trim_end_matches('/')) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        Some(_) => return None,
        None if url.contains("://") || url.starts_with("//") => return None,
        None => url,
    };
    let path = path.trim_start_matches('/');
    (!path.is_empty() && !path.contains('\\') && !path.chars().any(char::is_control))
        .then(|| format!("/{path}"))
}

/// The long URL a page asked with `sysparm_tiny` stands for, if the id is known.
pub fn expand(app: &App, uri: &Uri) -> Option<String> {
    let query = params(uri.query());
    let id = param(&query, "sysparm_tiny")?;
    let instance = app.lock();
    instance
        .find_by(TABLE, "tiny_url", id)
        .and_then(|record| record.get("data").cloned())
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_addresses_of_this_instance_are_shortened() {
        let base = "http://127.0.0.1:9000";
        assert_eq!(
            local_path("incident_list.do?sysparm_query=a", base).as_deref(),
            Some("/incident_list.do?sysparm_query=a")
        );
        assert_eq!(
            local_path("http://127.0.0.1:9000/x.do?a=1", base).as_deref(),
            Some("/x.do?a=1")
        );
        for elsewhere in [
            "https://evil.example/x",
            "//evil.example/x",
            "http://127.0.0.1:90001/x",
            "",
            "/\\evil",
        ] {
            assert_eq!(local_path(elsewhere, base), None, "{elsewhere}");
        }
    }
}

//! The faults that are on, applied to every request: hibernation, latency, the refusing faults
//! (a full queue, a rate-limit rule, a flaky API ACL), quota cancellation and slow bodies.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::Value;

use crate::app::App;
use crate::faults::{QuotaShape, Refusal, RequestFaults};
use crate::rest::errors::ApiError;

/// Middleware applying hibernation, latency, the refusing faults, quota cancellation and slow
/// bodies, in that order.
pub async fn apply(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_api = path.starts_with("/api/");
    let watched = quota_watched(request.method(), path);
    let RequestFaults {
        hibernate,
        latency,
        slow_body: slow,
        refusal,
        cancel,
    } = app.faults().for_request(is_api, watched);
    if let Some(delay) = latency {
        tokio::time::sleep(delay).await;
    }
    let response = if hibernate {
        hibernating_page()
    } else if let Some(refusal) = refusal {
        refused(refusal)
    } else if let Some(shape) = cancel {
        cancelled_partway(next.run(request).await, shape).await
    } else {
        next.run(request).await
    };
    match slow {
        Some(pause) => trickle(response, pause).await,
        None => response,
    }
}

fn hibernating_page() -> Response {
    let page = "<!DOCTYPE html><html><head><title>Instance Hibernating page</title></head><body>\
                <h1>Your instance is hibernating</h1><p>Sign in to the developer portal to wake it up.</p>\
                </body></html>";
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html;charset=UTF-8")],
        page,
    )
        .into_response()
}

fn refused(refusal: Refusal) -> Response {
    match refusal {
        // No rule is involved, so nothing tells the client when to come back (item 15).
        Refusal::QueueFull => ApiError::QueueFull.into_response(),
        Refusal::RateLimited {
            retry_after,
            limit,
            rule_id,
        } => rate_limited(retry_after, limit, &rule_id),
        // Item 17: the same body as a lasting API ACL refusal; only a retry tells them apart.
        Refusal::FlakyAcl => ApiError::ApiAclFailed.into_response(),
    }
}

/// A rate-limit rule's 429 with the headers that name the rule and its window (item 15).
fn rate_limited(retry_after: u64, limit: u32, rule_id: &str) -> Response {
    let reset = crate::app::epoch_seconds() + i64::try_from(retry_after).unwrap_or(60);
    let mut response = ApiError::RateLimitExceeded.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("retry-after", retry_after.to_string()),
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-reset", reset.to_string()),
        ("x-ratelimit-rule", rule_id.to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// Whether quota rules watch this request: item 14 names Table API and Aggregate API reads of a
/// whole table (`/api/now[/vN]/table|stats/{table}`), not single-record reads.
fn quota_watched(method: &Method, path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    let api = match segments.as_slice() {
        ["", "api", "now", api, _table] => *api,
        ["", "api", "now", version, api, _table] if version.starts_with('v') => *api,
        _ => return false,
    };
    method == Method::GET && matches!(api, "table" | "stats")
}

/// What a quota rule cancelling the transaction after the first rows went out looks like (items
/// 14 and 38, KB1297438): still HTTP 200 `application/json`, the partial result, then the error
/// envelope, or all of it as one document. Errors the instance answered anyway pass unchanged.
async fn cancelled_partway(response: Response, shape: QuotaShape) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if response.status() != StatusCode::OK || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = whole(body).await;
    let Ok(complete) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    let text = match shape {
        QuotaShape::Appended => format!(
            "{}{}",
            written_before_cancel(&complete),
            ApiError::TransactionCancelled.envelope()
        ),
        QuotaShape::Document => {
            let mut document = ApiError::TransactionCancelled.envelope();
            document["result"] = match complete.get("result") {
                Some(Value::Array(rows)) => Value::Array(rows.iter().take(1).cloned().collect()),
                Some(other) => other.clone(),
                None => Value::Null,
            };
            document.to_string()
        }
    };
    Response::from_parts(parts, Body::from(text))
}

/// The part of a result already written when the transaction was cancelled: the envelope's
/// opening and, for a list, its first row and the comma after it (the instance streams rows as
/// it reads them); for an object such as the Aggregate API's, all but its closing brace.
fn written_before_cancel(complete: &Value) -> String {
    let result = match complete.get("result") {
        Some(Value::Array(rows)) => rows
            .first()
            .map_or_else(|| "[".to_owned(), |row| format!("[{row},")),
        Some(object) => {
            let text = object.to_string();
            text.strip_suffix('}').unwrap_or(&text).to_owned()
        }
        None => String::new(),
    };
    format!("{{\"result\":{result}")
}

/// A whole response body; a body that fails midway is cut where it failed.
async fn whole(body: Body) -> Bytes {
    axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default()
}

/// Re-sends the body in 64-byte chunks with `pause` between them.
async fn trickle(response: Response, pause: Duration) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = whole(body).await;
    parts.headers.remove(header::CONTENT_LENGTH);
    let chunks: Vec<Bytes> = bytes.chunks(64).map(Bytes::copy_from_slice).collect();
    let stream = futures::stream::iter(chunks).then(move |chunk| async move {
        tokio::time::sleep(pause).await;
        Ok::<_, std::convert::Infallible>(chunk)
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_rules_watch_table_lists_and_aggregates_only() {
        for path in [
            "/api/now/table/incident",
            "/api/now/v2/table/incident",
            "/api/now/stats/incident",
            "/api/now/v1/stats/incident",
        ] {
            assert!(quota_watched(&Method::GET, path), "{path}");
        }
        assert!(!quota_watched(&Method::POST, "/api/now/table/incident"));
        assert!(!quota_watched(&Method::GET, "/api/now/table/incident/abc"));
        assert!(!quota_watched(&Method::GET, "/api/x_acme/ops/ping"));
        assert!(!quota_watched(&Method::GET, "/oauth_token.do"));
    }

    #[test]
    fn a_cancelled_read_keeps_one_row_and_is_not_json() {
        let list = serde_json::json!({ "result": [{ "n": "1" }, { "n": "2" }] });
        assert_eq!(written_before_cancel(&list), r#"{"result":[{"n":"1"},"#);
        let stats = serde_json::json!({ "result": { "stats": { "count": "2" } } });
        assert_eq!(
            written_before_cancel(&stats),
            r#"{"result":{"stats":{"count":"2"}"#
        );
    }
}

//! The Batch API (servicenow.md 2.14): `POST /api/now/v1/batch` answers several API calls in one.
//! Each item is sent through the instance's own router as a request of its own, with the
//! batch's credentials (its `Authorization`, or its session cookie and `X-UserToken`) in place of
//! any an item names, so every rule a single call meets — the REST API ACLs, table ACLs,
//! elevation, the Basic auth restriction, secrets that never read back, the faults — meets each
//! item too: a batch is no way around them.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, Method, Request, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::app::App;
use crate::rest::errors::ApiError;

/// Items answered per batch; later ones are listed as unserviced (a simulator limit).
const MAX_ITEMS: usize = 100;
/// Largest item body, as `glide.rest.batch.max.inputSize` defaults to.
const MAX_ITEM_BYTES: usize = 5 * 1024 * 1024;
/// Largest item answer, as `glide.rest.batch.max.outputSize` defaults to.
const MAX_ANSWER_BYTES: usize = 10 * 1024 * 1024;
const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/api/now/v1/batch", post(batch))
}

#[derive(Deserialize)]
struct BatchRequest {
    #[serde(default)]
    batch_request_id: Value,
    rest_requests: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    id: Value,
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<NamedValue>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    exclude_response_headers: bool,
}

#[derive(Deserialize)]
struct NamedValue {
    name: String,
    value: String,
}

/// The headers that say who is calling (lower case, as `HeaderName` keeps them): an item's own
/// are dropped, the batch's are used.
const CREDENTIALS: [&str; 3] = ["authorization", "cookie", "x-usertoken"];

async fn batch(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(err) = crate::rest::auth::caller(&app, &headers, "Batch API") {
        return err.into_response();
    }
    let request: BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(_) => {
            return ApiError::BadRequest {
                message: "Invalid batch request".into(),
                detail: "The body must be JSON with rest_requests, each with id, method and url"
                    .into(),
            }
            .into_response();
        }
    };
    let router = super::router(Arc::clone(&app));
    let mut serviced = Vec::new();
    let mut unserviced = Vec::new();
    for (at, item) in request.rest_requests.into_iter().enumerate() {
        if at >= MAX_ITEMS {
            unserviced.push(item.id);
            continue;
        }
        serviced.push(answer(&router, &headers, item).await);
    }
    axum::Json(json!({
        "batch_request_id": request.batch_request_id,
        "serviced_requests": serviced,
        "unserviced_requests": unserviced,
    }))
    .into_response()
}

/// One item, sent through `router` with the batch's credentials.
async fn answer(router: &Router, batch_headers: &HeaderMap, item: Item) -> Value {
    let started = Instant::now();
    let response = match request_of(batch_headers, &item) {
        Ok(request) => match router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        Err(refusal) => refusal.into_response(),
    };
    let status = response.status();
    let headers: Vec<Value> = response
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            let value = value.to_str().ok()?;
            Some(json!({ "name": name.as_str(), "value": value }))
        })
        .collect();
    let (body, error) = match axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES).await {
        Ok(bytes) => (BASE64.encode(&bytes), None),
        Err(_) => (
            String::new(),
            Some("The response is larger than the batch item output limit."),
        ),
    };
    let mut out = json!({
        "id": item.id,
        "status_code": status.as_u16(),
        "status_text": status.canonical_reason().unwrap_or_default(),
        "body": body,
        "headers": if item.exclude_response_headers { Vec::new() } else { headers },
        "execution_time": u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    });
    if let Some(error) = error {
        out["error_message"] = json!(error);
    }
    out
}

/// The request an item stands for, or why it cannot be sent.
fn request_of(batch_headers: &HeaderMap, item: &Item) -> Result<Request<Body>, ApiError> {
    let bad = |message: &str| ApiError::BadRequest {
        message: message.into(),
        detail: String::new(),
    };
    let method = Method::from_bytes(item.method.trim().to_ascii_uppercase().as_bytes())
        .map_err(|_| bad("Invalid method in batch item"))?;
    // A path of this instance only, and never another batch.
    if !item.url.starts_with('/') || item.url.starts_with("//") || item.url.contains('\\') {
        return Err(bad("The batch item's url must be a path of this instance"));
    }
    let path = item.url.split('?').next().unwrap_or_default();
    if path.trim_end_matches('/').ends_with("/batch") && path.starts_with("/api/now") {
        return Err(bad("A batch item cannot be a batch request"));
    }
    let body = match &item.body {
        Some(encoded) if !encoded.is_empty() => {
            let compact: String = encoded.split_whitespace().collect();
            let bytes = BASE64
                .decode(compact)
                .map_err(|_| bad("The batch item's body is not Base64"))?;
            if bytes.len() > MAX_ITEM_BYTES {
                return Err(bad("The batch item is larger than the input limit"));
            }
            bytes
        }
        _ => Vec::new(),
    };
    let mut request = Request::builder()
        .method(method)
        .uri(&item.url)
        .body(Body::from(body))
        .map_err(|_| bad("Invalid url in batch item"))?;
    let headers = request.headers_mut();
    for named in &item.headers {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(named.name.as_bytes()),
            named.value.parse(),
        ) else {
            continue;
        };
        let credential = CREDENTIALS.contains(&name.as_str());
        if !credential && name != header::HOST && name != header::CONTENT_LENGTH {
            headers.append(name, value);
        }
    }
    for name in CREDENTIALS {
        for value in batch_headers.get_all(name) {
            headers.append(HeaderName::from_static(name), value.clone());
        }
    }
    if !headers.contains_key(header::ACCEPT) {
        headers.insert(
            header::ACCEPT,
            "application/json".parse().expect("a valid header"),
        );
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_items_own_credentials_are_replaced_by_the_batchs() {
        let mut batch = HeaderMap::new();
        batch.insert(header::AUTHORIZATION, "Basic YmV0aDpwdw==".parse().unwrap());
        let item = Item {
            id: json!("1"),
            method: "get".into(),
            url: "/api/now/table/incident?sysparm_limit=1".into(),
            headers: vec![
                NamedValue {
                    name: "Authorization".into(),
                    value: "Basic YWRtaW46YWRtaW4=".into(),
                },
                NamedValue {
                    name: "X-UserToken".into(),
                    value: "stolen".into(),
                },
                NamedValue {
                    name: "Accept".into(),
                    value: "application/xml".into(),
                },
            ],
            body: None,
            exclude_response_headers: false,
        };
        let request = request_of(&batch, &item).unwrap();
        let auth: Vec<_> = request
            .headers()
            .get_all(header::AUTHORIZATION)
            .iter()
            .collect();
        assert_eq!(auth, vec!["Basic YmV0aDpwdw=="]);
        assert!(request.headers().get("x-usertoken").is_none());
        assert_eq!(request.headers()[header::ACCEPT], "application/xml");
        assert_eq!(request.method(), Method::GET);
    }

    #[test]
    fn an_item_that_leaves_the_instance_or_nests_a_batch_is_refused() {
        let item = |url: &str| Item {
            id: json!(1),
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
            exclude_response_headers: true,
        };
        for url in [
            "https://elsewhere.example/x",
            "//elsewhere.example/x",
            "/api/now/v1/batch",
        ] {
            assert!(request_of(&HeaderMap::new(), &item(url)).is_err(), "{url}");
        }
    }
}

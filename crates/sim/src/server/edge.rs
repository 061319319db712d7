//! What the instance's front does before any API sees a request: a request line and headers
//! larger than the web server takes get its HTML 400 page, not the APIs' JSON (servicenow.md
//! 3.8), and a page asked with `sysparm_tiny` goes to the long URL the id stands for (2.15).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::App;

/// The web server's limit on the request line and headers together (Tomcat's default
/// `maxHttpHeaderSize`; the instance's own value is *unverified*).
pub const MAX_HEAD_BYTES: usize = 8 * 1024;

/// Refuses a request whose head is larger than [`MAX_HEAD_BYTES`] with the web server's page.
pub async fn header_limit(request: Request, next: Next) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map_or(1, |p| p.as_str().len());
    let line = request.method().as_str().len() + target + "HTTP/1.1".len() + 4;
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if line + headers <= MAX_HEAD_BYTES {
        return next.run(request).await;
    }
    let page = "<!doctype html><html lang=\"en\"><head><title>HTTP Status 400 – Bad Request</title>\
                </head><body><h1>HTTP Status 400 – Bad Request</h1><hr class=\"line\" /><p><b>Type\
                </b> Exception Report</p><p><b>Message</b> Request header is too large</p></body>\
                </html>";
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
        page,
    )
        .into_response()
}

/// A page asked with `sysparm_tiny` goes to the long URL the id stands for; anything else goes
/// on.
pub async fn tiny_urls(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let page = request.method() == Method::GET && !request.uri().path().starts_with("/api/");
    match page.then(|| crate::rest::tinyurl::expand(&app, request.uri())) {
        Some(Some(long)) => crate::html::found(&long),
        _ => next.run(request).await,
    }
}

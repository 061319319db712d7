//! Fault injection: the conditions users hit on real instances (servicenow.md, "What users hit
//! when connecting") reproduced on demand, from the command line (`--fault`) or from tests at
//! run time. TLS with an untrusted certificate is a listener choice (see `server`), the rest
//! are applied here to every request or connection.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::json;

use crate::app::App;

/// One injectable fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A hibernating developer instance: HTTP 200 `text/html` on every path.
    Hibernate,
    /// Added latency before every response.
    Latency(Duration),
    /// At most `limit` API requests per `window`, then 429 with `Retry-After`.
    RateLimit { limit: u32, window: Duration },
    /// Connections are accepted and closed at once, before any response.
    DropConnections,
    /// Response bodies trickle out in small chunks with this pause between them.
    SlowBody(Duration),
}

/// The spellings `--fault` accepts.
pub const FAULT_SYNTAX: &str = "hibernate | latency=MS | ratelimit[=N] | drop | slow=MS";

impl FromStr for Fault {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, value) = text
            .split_once('=')
            .map_or((text, None), |(n, v)| (n, Some(v)));
        let millis = |v: Option<&str>| -> Result<Duration, String> {
            let v = v.ok_or_else(|| {
                format!("`{name}` needs a value in milliseconds, e.g. {name}=500")
            })?;
            v.parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| format!("`{v}` is not a number of milliseconds"))
        };
        match name {
            "hibernate" => Ok(Fault::Hibernate),
            "latency" => Ok(Fault::Latency(millis(value)?)),
            "slow" => Ok(Fault::SlowBody(millis(value)?)),
            "drop" => Ok(Fault::DropConnections),
            "ratelimit" => {
                let limit = match value {
                    Some(v) => v
                        .parse()
                        .map_err(|_| format!("`{v}` is not a request count"))?,
                    None => 0,
                };
                Ok(Fault::RateLimit {
                    limit,
                    window: Duration::from_secs(60),
                })
            }
            other => Err(format!("unknown fault `{other}`; expected {FAULT_SYNTAX}")),
        }
    }
}

/// The set of active faults.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    pub hibernate: bool,
    pub latency: Option<Duration>,
    pub rate_limit: Option<(u32, Duration)>,
    pub drop_connections: bool,
    pub slow_body: Option<Duration>,
    window_start: Option<Instant>,
    window_count: u32,
}

impl Faults {
    pub fn set(&mut self, fault: Fault) {
        match fault {
            Fault::Hibernate => self.hibernate = true,
            Fault::Latency(delay) => self.latency = Some(delay),
            Fault::RateLimit { limit, window } => {
                self.rate_limit = Some((limit, window));
                self.window_start = None;
            }
            Fault::DropConnections => self.drop_connections = true,
            Fault::SlowBody(pause) => self.slow_body = Some(pause),
        }
    }

    /// Counts one API request; `Some(seconds until the window resets)` when over the limit.
    fn over_limit(&mut self) -> Option<u64> {
        let (limit, window) = self.rate_limit?;
        let now = Instant::now();
        let start = *self.window_start.get_or_insert(now);
        if now.duration_since(start) >= window {
            self.window_start = Some(now);
            self.window_count = 0;
        }
        self.window_count += 1;
        let remaining = window.saturating_sub(now.duration_since(self.window_start.unwrap_or(now)));
        (self.window_count > limit).then(|| remaining.as_secs().max(1))
    }
}

/// Middleware applying hibernation, latency, rate limiting and slow bodies.
pub async fn apply(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let (hibernate, latency, slow, limited, limit) = {
        let mut faults = app.faults();
        let limited = if is_api { faults.over_limit() } else { None };
        let limit = faults.rate_limit.map_or(0, |(l, _)| l);
        (
            faults.hibernate,
            faults.latency,
            faults.slow_body,
            limited,
            limit,
        )
    };
    if let Some(delay) = latency {
        tokio::time::sleep(delay).await;
    }
    let response = if hibernate {
        hibernating_page()
    } else if let Some(retry_after) = limited {
        rate_limited(retry_after, limit)
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

fn rate_limited(retry_after: u64, limit: u32) -> Response {
    let body = json!({
        "error": { "message": "Rate limit exceeded", "detail": "Too many requests; retry later" },
        "status": "failure"
    });
    let reset = crate::app::epoch_seconds() + i64::try_from(retry_after).unwrap_or(60);
    let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("retry-after", retry_after.to_string()),
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-reset", reset.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// Re-sends the body in 64-byte chunks with `pause` between them.
async fn trickle(response: Response, pause: Duration) -> Response {
    let (mut parts, body) = response.into_parts();
    // A body that fails midway is cut where it failed.
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    let chunks: Vec<bytes::Bytes> = bytes
        .chunks(64)
        .map(bytes::Bytes::copy_from_slice)
        .collect();
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
    fn fault_spellings_parse() {
        assert_eq!("hibernate".parse(), Ok(Fault::Hibernate));
        assert_eq!(
            "latency=250".parse(),
            Ok(Fault::Latency(Duration::from_millis(250)))
        );
        assert_eq!(
            "ratelimit=5".parse(),
            Ok(Fault::RateLimit {
                limit: 5,
                window: Duration::from_secs(60)
            })
        );
        assert!("latency".parse::<Fault>().is_err());
        assert!("meteor".parse::<Fault>().is_err());
    }
}

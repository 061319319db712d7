//! Fault injection: the conditions users hit on real instances (servicenow.md, "What users hit
//! when connecting" and "More failure modes") reproduced on demand, from the command line
//! (`--fault`) or from tests at run time. TLS with an untrusted certificate is a listener choice
//! (see `server` and `tls`), the rest are applied here to every request or connection.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::Value;

use crate::app::App;
use crate::errors::ApiError;
use crate::instance::{Instance, random_hex};
use crate::store::Record;

/// One injectable fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A hibernating developer instance: HTTP 200 `text/html` on every path (item 1).
    Hibernate,
    /// Added latency before every response.
    Latency(Duration),
    /// A rate-limit rule (item 15): at most `limit` API requests per `window`, then 429 with
    /// `Retry-After`, `X-RateLimit-Limit`, `X-RateLimit-Reset` and `X-RateLimit-Rule` (the sys_id
    /// of a `sys_rate_limit_rules` record the simulator keeps active while the fault is on).
    RateLimit { limit: u32, window: Duration },
    /// A full API semaphore queue (item 15, KB0635398): every API request gets 429 with the
    /// error envelope and neither `Retry-After` nor any `X-RateLimit-*` header.
    QueueFull,
    /// Quota rules cancel slow reads (item 14): Table API list GETs and Aggregate API GETs
    /// answer 200 `application/json` with a partial result followed by the "Transaction
    /// cancelled" error envelope, so the body as a whole is not JSON.
    QuotaCancelled,
    /// The next `n` API requests get the API-level 403 "Failed API level ACL Validation", later
    /// ones pass: the transient refusal seen after a node switch (item 17).
    FlakyAcl(u32),
    /// Connections are accepted and closed at once, before any response.
    DropConnections,
    /// Response bodies trickle out in small chunks with this pause between them.
    SlowBody(Duration),
}

/// The spellings `--fault` accepts.
pub const FAULT_SYNTAX: &str =
    "hibernate | latency=MS | ratelimit[=N] | queue-full | quota | flaky-acl=N | drop | slow=MS";

impl FromStr for Fault {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, value) = text
            .split_once('=')
            .map_or((text, None), |(n, v)| (n, Some(v)));
        match name {
            "hibernate" => Ok(Fault::Hibernate),
            "latency" => Ok(Fault::Latency(millis(name, value)?)),
            "slow" => Ok(Fault::SlowBody(millis(name, value)?)),
            "drop" => Ok(Fault::DropConnections),
            "ratelimit" => Ok(Fault::RateLimit {
                limit: value.map_or(Ok(0), count)?,
                window: Duration::from_secs(60),
            }),
            "queue-full" => Ok(Fault::QueueFull),
            "quota" => Ok(Fault::QuotaCancelled),
            "flaky-acl" => {
                let value = value
                    .ok_or_else(|| format!("`{name}` needs a request count, e.g. {name}=2"))?;
                Ok(Fault::FlakyAcl(count(value)?))
            }
            other => Err(format!("unknown fault `{other}`; expected {FAULT_SYNTAX}")),
        }
    }
}

/// The duration of `name=MS`.
fn millis(name: &str, value: Option<&str>) -> Result<Duration, String> {
    let value =
        value.ok_or_else(|| format!("`{name}` needs a value in milliseconds, e.g. {name}=500"))?;
    value
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("`{value}` is not a number of milliseconds"))
}

/// The number of `name=N`.
fn count(value: &str) -> Result<u32, String> {
    value
        .parse()
        .map_err(|_| format!("`{value}` is not a request count"))
}

/// The set of active faults.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    hibernate: bool,
    latency: Option<Duration>,
    rate_limit: Option<RateLimitRule>,
    queue_full: bool,
    quota_cancelled: bool,
    /// API requests still to refuse with the API-level 403.
    flaky_acl_left: u32,
    pub drop_connections: bool,
    slow_body: Option<Duration>,
}

/// An active rate-limit rule: the record it answers for and the window it counts in.
#[derive(Debug, Clone)]
struct RateLimitRule {
    limit: u32,
    window: Duration,
    /// sys_id of its `sys_rate_limit_rules` record, sent as `X-RateLimit-Rule`.
    rule_id: String,
    window_start: Option<Instant>,
    window_count: u32,
}

impl RateLimitRule {
    /// Counts one API request; `Some(seconds until the window resets)` when over the limit.
    fn count(&mut self) -> Option<u64> {
        let now = Instant::now();
        let start = *self.window_start.get_or_insert(now);
        if now.duration_since(start) >= self.window {
            self.window_start = Some(now);
            self.window_count = 0;
        }
        self.window_count += 1;
        let elapsed = now.duration_since(self.window_start.unwrap_or(now));
        let remaining = self.window.saturating_sub(elapsed);
        (self.window_count > self.limit).then(|| remaining.as_secs().max(1))
    }
}

/// Why the fault layer answers an API request itself instead of the instance.
enum Refusal {
    QueueFull,
    RateLimited {
        retry_after: u64,
        limit: u32,
        rule_id: String,
    },
    FlakyAcl,
}

impl Faults {
    /// Counts one API request against the faults that refuse requests outright; the first that
    /// applies answers. A flaky 403 is used up only by a request it actually refused.
    fn refusal(&mut self) -> Option<Refusal> {
        if self.queue_full {
            return Some(Refusal::QueueFull);
        }
        if let Some(rule) = &mut self.rate_limit
            && let Some(retry_after) = rule.count()
        {
            return Some(Refusal::RateLimited {
                retry_after,
                limit: rule.limit,
                rule_id: rule.rule_id.clone(),
            });
        }
        if self.flaky_acl_left > 0 {
            self.flaky_acl_left -= 1;
            return Some(Refusal::FlakyAcl);
        }
        None
    }
}

/// Name of the `sys_rate_limit_rules` record the rate-limit fault answers for.
const RATE_LIMIT_RULE: &str = "Snowlink simulator rate limit";

/// Turns `fault` on. On a real instance a rate limit is a rule record, so the rule is written
/// first (before the faults lock is taken: the two locks are never held together).
pub fn switch_on(app: &App, fault: Fault) {
    let rule_id = matches!(fault, Fault::RateLimit { .. })
        .then(|| write_rate_limit_rule(&mut app.lock(), true));
    let mut faults = app.faults();
    match fault {
        Fault::Hibernate => faults.hibernate = true,
        Fault::Latency(delay) => faults.latency = Some(delay),
        Fault::RateLimit { limit, window } => {
            faults.rate_limit = Some(RateLimitRule {
                limit,
                window,
                rule_id: rule_id.unwrap_or_default(),
                window_start: None,
                window_count: 0,
            });
        }
        Fault::QueueFull => faults.queue_full = true,
        Fault::QuotaCancelled => faults.quota_cancelled = true,
        Fault::FlakyAcl(requests) => faults.flaky_acl_left = requests,
        Fault::DropConnections => faults.drop_connections = true,
        Fault::SlowBody(pause) => faults.slow_body = Some(pause),
    }
}

/// Turns every fault off; the rate-limit rule record, if any, stays but is made inactive so
/// that what the instance's tables say matches how it answers.
pub fn switch_off_all(app: &App) {
    let had_rule = std::mem::take(&mut *app.faults()).rate_limit.is_some();
    if had_rule {
        write_rate_limit_rule(&mut app.lock(), false);
    }
}

/// Creates or updates the simulator's rate-limit rule with `active`, and returns its sys_id.
fn write_rate_limit_rule(instance: &mut Instance, active: bool) -> String {
    const TABLE: &str = "sys_rate_limit_rules";
    let fields = Record::from([
        ("name".into(), RATE_LIMIT_RULE.into()),
        ("active".into(), active.to_string()),
    ]);
    let existing = instance
        .find_by(TABLE, "name", RATE_LIMIT_RULE)
        .and_then(|rule| rule.get("sys_id").cloned());
    let written = match existing {
        Some(sys_id) => instance.update(TABLE, &sys_id, fields, "system"),
        None => instance.insert(TABLE, fields, "system"),
    };
    // The table is built in; were the write to fail anyway, a well-formed sys_id still lets
    // clients read the header as they would on a real instance.
    written
        .ok()
        .and_then(|rule| rule.get("sys_id").cloned())
        .unwrap_or_else(|| random_hex(16))
}

/// Middleware applying hibernation, latency, the refusing faults, quota cancellation and slow
/// bodies, in that order.
pub async fn apply(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_api = path.starts_with("/api/");
    let watched = quota_watched(request.method(), path);
    let (hibernate, latency, slow, refusal, cancel) = {
        let mut faults = app.faults();
        // A hibernating instance answers before any API logic, so it uses up no counter.
        let refusal = if is_api && !faults.hibernate {
            faults.refusal()
        } else {
            None
        };
        (
            faults.hibernate,
            faults.latency,
            faults.slow_body,
            refusal,
            faults.quota_cancelled && watched,
        )
    };
    if let Some(delay) = latency {
        tokio::time::sleep(delay).await;
    }
    let response = if hibernate {
        hibernating_page()
    } else if let Some(refusal) = refusal {
        refused(refusal)
    } else if cancel {
        cancelled_partway(next.run(request).await).await
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

/// What a quota rule cancelling the transaction after the first rows went out looks like (item
/// 14, KB1297438): still HTTP 200 `application/json`, the partial result, then the error
/// envelope. Errors the instance answered anyway pass unchanged.
async fn cancelled_partway(response: Response) -> Response {
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
    let text = format!(
        "{}{}",
        written_before_cancel(&complete),
        ApiError::TransactionCancelled.envelope()
    );
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
        assert_eq!(
            "ratelimit".parse(),
            Ok(Fault::RateLimit {
                limit: 0,
                window: Duration::from_secs(60)
            })
        );
        assert_eq!("queue-full".parse(), Ok(Fault::QueueFull));
        assert_eq!("quota".parse(), Ok(Fault::QuotaCancelled));
        assert_eq!("flaky-acl=3".parse(), Ok(Fault::FlakyAcl(3)));
        assert_eq!("drop".parse(), Ok(Fault::DropConnections));
        assert_eq!(
            "slow=20".parse(),
            Ok(Fault::SlowBody(Duration::from_millis(20)))
        );
        assert!("latency".parse::<Fault>().is_err());
        assert!("flaky-acl".parse::<Fault>().is_err());
        assert!("flaky-acl=many".parse::<Fault>().is_err());
        assert!("meteor".parse::<Fault>().is_err());
    }

    #[test]
    fn every_spelling_in_the_syntax_parses() {
        for spelling in FAULT_SYNTAX.split(" | ") {
            let example = spelling
                .replace("[=N]", "")
                .replace("=MS", "=1")
                .replace("=N", "=1");
            assert!(example.parse::<Fault>().is_ok(), "{spelling}");
        }
    }

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

//! `SnowClient`: the one way Snowlink talks to an instance's REST APIs (Table, Aggregate,
//! Service Catalog, scripted REST). Every call has a timeout, carries the `snowlink/<version>`
//! user agent, never follows a redirect (credentials are always attached, and a redirect from
//! an API usually means an SSO page), checks the content type before parsing, and honours
//! `Retry-After` on 429 a bounded number of times. TLS uses rustls with the operating system's
//! trust store, so a corporate proxy whose CA the user installed works.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LINK, LOCATION, RETRY_AFTER};
use serde_json::{Map, Value};

use super::error::ApiError;
use super::query::EncodedQuery;
use super::response::{Answer, Subject, classify};
use crate::http::ClientOptions;
use crate::instance::InstanceUrl;
use crate::secrets::{AccessToken, Password};

/// Default time a whole request may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How many times a rate-limited request is sent again before giving up.
const RATE_LIMIT_RETRIES: u32 = 3;
/// Wait before retrying a 429 that carries no usable `Retry-After`.
const DEFAULT_RETRY_WAIT: Duration = Duration::from_secs(1);
/// Longest `Retry-After` waited for automatically; a longer one is reported to the user at
/// once rather than freezing the screen or the terminal.
const MAX_AUTO_RETRY_WAIT: Duration = Duration::from_secs(5);
/// Largest response body read; a hostile server cannot exhaust memory.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// A record as the Table API returns it: field name → string, or `{link, value}` for
/// references.
pub type Record = Map<String, Value>;

/// The text of a field, whether it is a plain string or a reference's `value`.
pub fn field<'a>(record: &'a Record, name: &str) -> Option<&'a str> {
    match record.get(name)? {
        Value::String(text) => Some(text),
        Value::Object(reference) => reference.get("value")?.as_str(),
        _ => None,
    }
}

/// How requests authenticate.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Basic auth: a user's password, or an API key used as one.
    Basic {
        username: String,
        password: Password,
    },
    /// An OAuth access token.
    Bearer(AccessToken),
}

/// One Table API query.
#[derive(Debug, Clone, Default)]
pub struct TableQuery {
    /// An encoded query (`active=true^priority=1`), built so no value can add a condition.
    pub query: Option<EncodedQuery>,
    /// Only these fields (`sysparm_fields`).
    pub fields: Vec<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// Display values instead of stored ones (`sysparm_display_value=true`).
    pub display_value: bool,
}

/// One page of Table API results.
#[derive(Debug, Clone)]
pub struct Page {
    pub records: Vec<Record>,
    /// `X-Total-Count`: rows matching before ACLs hid any.
    pub total: Option<u64>,
    /// The `Link: rel="next"` URL, when there are more pages.
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SnowClient {
    http: reqwest::Client,
    instance: InstanceUrl,
    auth: Auth,
    timeout: Duration,
    log: Option<crate::http::HttpLog>,
}

impl SnowClient {
    pub fn new(instance: InstanceUrl, auth: Auth) -> Result<Self, ApiError> {
        Self::with_timeout(instance, auth, DEFAULT_TIMEOUT)
    }

    pub fn with_timeout(
        instance: InstanceUrl,
        auth: Auth,
        timeout: Duration,
    ) -> Result<Self, ApiError> {
        Self::with_options(instance, auth, &ClientOptions::new(timeout))
    }

    /// A client with its own HTTP options (timeout, extra CA certificates).
    pub fn with_options(
        instance: InstanceUrl,
        auth: Auth,
        options: &ClientOptions,
    ) -> Result<Self, ApiError> {
        let http = crate::http::client_with(options)?;
        Ok(Self::with_http(instance, auth, http, options))
    }

    /// A client over an HTTP client already built with `options` (several API clients of one
    /// run share one: building it loads the trust store).
    pub fn with_http(
        instance: InstanceUrl,
        auth: Auth,
        http: reqwest::Client,
        options: &ClientOptions,
    ) -> Self {
        Self {
            http,
            instance,
            auth,
            timeout: options.timeout,
            log: options.log.clone(),
        }
    }

    pub fn instance(&self) -> &InstanceUrl {
        &self.instance
    }

    /// Table API GET of a collection. Uses `/api/now/v2/`, where an empty result is `[]`
    /// (v1 answers 404 for it).
    pub async fn query(&self, table: &str, query: &TableQuery) -> Result<Page, ApiError> {
        let mut params: Vec<(&str, String)> =
            vec![("sysparm_exclude_reference_link", "true".into())];
        if let Some(q) = &query.query {
            params.push(("sysparm_query", q.as_str().to_owned()));
        }
        if !query.fields.is_empty() {
            params.push(("sysparm_fields", query.fields.join(",")));
        }
        if let Some(limit) = query.limit {
            params.push(("sysparm_limit", limit.to_string()));
        }
        if let Some(offset) = query.offset {
            params.push(("sysparm_offset", offset.to_string()));
        }
        if query.display_value {
            params.push(("sysparm_display_value", "true".into()));
        }
        let url = self.url(&table_path(table, None)?)?;
        let (value, headers) = self
            .send(Method::GET, url, &params, None, Some(table))
            .await?;
        self.page(value, &headers)
    }

    /// The page after `page`, or `None` at the end. Only follows links to this instance.
    pub async fn next_page(&self, page: &Page, table: &str) -> Result<Option<Page>, ApiError> {
        let Some(next) = &page.next else {
            return Ok(None);
        };
        let Ok(url) = url::Url::parse(next) else {
            return Ok(None);
        };
        if url.origin().ascii_serialization() != self.instance.as_str() {
            return Err(ApiError::Redirected {
                location: url.origin().ascii_serialization(),
            });
        }
        let (value, headers) = self.send(Method::GET, url, &[], None, Some(table)).await?;
        self.page(value, &headers).map(Some)
    }

    pub async fn get(&self, table: &str, sys_id: &str) -> Result<Record, ApiError> {
        let url = self.url(&table_path(table, Some(sys_id))?)?;
        let (value, _) = self.send(Method::GET, url, &[], None, Some(table)).await?;
        result_record(value)
    }

    pub async fn create(&self, table: &str, fields: &Value) -> Result<Record, ApiError> {
        let url = self.url(&table_path(table, None)?)?;
        let (value, _) = self
            .send(Method::POST, url, &[], Some(fields), Some(table))
            .await?;
        result_record(value)
    }

    pub async fn update(
        &self,
        table: &str,
        sys_id: &str,
        fields: &Value,
    ) -> Result<Record, ApiError> {
        let url = self.url(&table_path(table, Some(sys_id))?)?;
        let (value, _) = self
            .send(Method::PATCH, url, &[], Some(fields), Some(table))
            .await?;
        result_record(value)
    }

    /// Writes secret fields of a record (a user's password, a client secret): with
    /// `sysparm_input_display_value=true`, without which the instance stores a password
    /// unhashed and drops an encrypted field (servicenow.md items 31 and 32). Only the given
    /// fields are sent, so no other value is read as a display value.
    pub async fn update_secret_fields(
        &self,
        table: &str,
        sys_id: &str,
        fields: &Value,
    ) -> Result<Record, ApiError> {
        let url = self.url(&table_path(table, Some(sys_id))?)?;
        let params = [("sysparm_input_display_value", "true".to_owned())];
        let (value, _) = self
            .send(Method::PATCH, url, &params, Some(fields), Some(table))
            .await?;
        result_record(value)
    }

    /// Deletes a record.
    pub async fn delete(&self, table: &str, sys_id: &str) -> Result<(), ApiError> {
        let url = self.url(&table_path(table, Some(sys_id))?)?;
        self.send(Method::DELETE, url, &[], None, Some(table))
            .await
            .map(|_| ())
    }

    /// GET of any REST path on the instance (a scripted REST API such as
    /// `/api/snc/oauth_userinfo`), returning its JSON.
    pub async fn get_path(&self, path: &str) -> Result<Value, ApiError> {
        if !path.starts_with("/api/") {
            return Err(malformed("REST paths start with /api/"));
        }
        let url = self.url(path)?;
        Ok(self.send(Method::GET, url, &[], None, None).await?.0)
    }

    /// POST to any REST path on the instance (the CI/CD API), returning its JSON.
    pub async fn post_path(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.send_path(Method::POST, path, body).await
    }

    /// PUT to any REST path on the instance (the update set picker), returning its JSON.
    pub async fn put_path(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.send_path(Method::PUT, path, body).await
    }

    async fn send_path(&self, method: Method, path: &str, body: &Value) -> Result<Value, ApiError> {
        if !path.starts_with("/api/") {
            return Err(malformed("REST paths start with /api/"));
        }
        let url = self.url(path)?;
        Ok(self.send(method, url, &[], Some(body), None).await?.0)
    }

    pub(super) fn url(&self, path: &str) -> Result<url::Url, ApiError> {
        self.instance
            .endpoint(path)
            .map_err(|err| ApiError::BadRequest {
                message: format!("invalid path: {err}"),
            })
    }

    fn page(&self, value: Value, headers: &HeaderMap) -> Result<Page, ApiError> {
        let records = match value.get("result") {
            Some(Value::Array(rows)) => rows
                .iter()
                .filter_map(|row| row.as_object().cloned())
                .collect(),
            _ => return Err(malformed("the Table API answer has no result list")),
        };
        let total = header(headers, "x-total-count").and_then(|v| v.trim().parse().ok());
        let next = header(headers, LINK.as_str()).and_then(next_link);
        Ok(Page {
            records,
            total,
            next,
        })
    }

    pub(super) async fn send(
        &self,
        method: Method,
        url: url::Url,
        params: &[(&str, String)],
        body: Option<&Value>,
        table: Option<&str>,
    ) -> Result<(Value, HeaderMap), ApiError> {
        let path = url.path().to_owned();
        let subject = Subject { table, path: &path };
        let mut attempt = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .query(params)
                .header(reqwest::header::ACCEPT, "application/json");
            request = match &self.auth {
                Auth::Basic { username, password } => {
                    request.basic_auth(username, Some(password.expose()))
                }
                Auth::Bearer(token) => request.bearer_auth(token.expose()),
            };
            if let Some(body) = body {
                request = request.json(body);
            }
            let started = std::time::Instant::now();
            let sent = request.send().await;
            let response = match sent {
                Ok(response) => response,
                Err(err) => {
                    let failure = self.transport_error(&err);
                    if let (Some(log), ApiError::Transport(cause)) = (&self.log, &failure) {
                        log.record(method.as_str(), &url, Err(cause), started.elapsed());
                    }
                    return Err(failure);
                }
            };
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            if let Some(log) = &self.log {
                let content_type = header(&headers, CONTENT_TYPE.as_str());
                log.record(
                    method.as_str(),
                    &url,
                    Ok((status, content_type)),
                    started.elapsed(),
                );
            }
            // A body over the cap is cut: what remains is enough to classify the answer.
            let (bytes, _) = crate::http::read_capped(response, MAX_BODY)
                .await
                .map_err(|err| self.transport_error(&err))?;
            let answer = Answer {
                status,
                content_type: header(&headers, CONTENT_TYPE.as_str()),
                mfa_token: header(&headers, "x-mfa_token"),
                retry_after: header(&headers, RETRY_AFTER.as_str()),
                rate_limit: header(&headers, "x-ratelimit-limit"),
                rate_limit_rule: header(&headers, "x-ratelimit-rule"),
                location: header(&headers, LOCATION.as_str()),
                body: &bytes,
            };
            match classify(&answer, subject) {
                Err(ApiError::RateLimited { retry_after, .. })
                    if attempt < RATE_LIMIT_RETRIES
                        && retry_after.is_none_or(|wait| wait <= MAX_AUTO_RETRY_WAIT) =>
                {
                    attempt += 1;
                    tokio::time::sleep(retry_after.unwrap_or(DEFAULT_RETRY_WAIT)).await;
                }
                Err(ApiError::QueueFull) if attempt < RATE_LIMIT_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(DEFAULT_RETRY_WAIT).await;
                }
                result => return result.map(|value| (value, headers)),
            }
        }
    }

    fn transport_error(&self, err: &reqwest::Error) -> ApiError {
        ApiError::Transport(crate::http::classify(
            err,
            self.instance.host(),
            self.timeout,
        ))
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The `rel="next"` target of a `Link` header (RFC 8288).
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

fn result_record(value: Value) -> Result<Record, ApiError> {
    match value {
        Value::Object(mut envelope) => match envelope.remove("result") {
            Some(Value::Object(record)) => Ok(record),
            _ => Err(malformed("the answer has no result record")),
        },
        _ => Err(malformed("the answer is not a JSON object")),
    }
}

pub(super) fn malformed(detail: &str) -> ApiError {
    ApiError::Malformed {
        detail: detail.to_owned(),
    }
}

/// A table name or sys_id as one path segment: letters, digits, `_` only, so nothing a caller
/// passes can change the path.
pub(super) fn segment(text: &str) -> Result<&str, ApiError> {
    if !text.is_empty()
        && text.len() <= 80
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Ok(text)
    } else {
        Err(ApiError::BadRequest {
            message: format!(
                "{:?} is not a valid table name or sys_id",
                text.chars().take(80).collect::<String>()
            ),
        })
    }
}

fn table_path(table: &str, sys_id: Option<&str>) -> Result<String, ApiError> {
    let table = segment(table)?;
    Ok(match sys_id {
        Some(id) => format!("/api/now/v2/table/{table}/{}", segment(id)?),
        None => format!("/api/now/v2/table/{table}"),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn next_link_is_found_among_the_relations() {
        let link = "<https://acme.service-now.com/api/now/table/incident?sysparm_offset=0>;rel=\"first\",\
                    <https://acme.service-now.com/api/now/table/incident?sysparm_offset=100>;rel=\"next\",\
                    <https://acme.service-now.com/api/now/table/incident?sysparm_offset=900>;rel=\"last\"";
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://acme.service-now.com/api/now/table/incident?sysparm_offset=100")
        );
        assert_eq!(next_link("<https://x/a>;rel=\"last\""), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn fields_read_strings_and_references() {
        let record: Record = serde_json::from_value(json!({
            "number": "INC0010001",
            "caller_id": {"link": "https://acme.service-now.com/api/now/table/sys_user/abc", "value": "abc"},
            "odd": 4
        }))
        .unwrap();
        assert_eq!(field(&record, "number"), Some("INC0010001"));
        assert_eq!(field(&record, "caller_id"), Some("abc"));
        assert_eq!(field(&record, "odd"), None);
        assert_eq!(field(&record, "missing"), None);
    }

    #[test]
    fn path_segments_cannot_escape() {
        assert!(table_path("incident", Some("0123456789abcdef0123456789abcdef")).is_ok());
        for bad in [
            "",
            "../sys_user",
            "incident?sysparm_query=x",
            "a/b",
            "inc%2F",
            "é",
        ] {
            assert!(table_path(bad, None).is_err(), "{bad}");
        }
    }
}

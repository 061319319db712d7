//! The REST error envelope `{"error":{"message","detail"},"status":"failure"}` with the exact
//! messages a real instance uses, so client error mapping is tested against the real strings.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An API failure as the instance reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The single 401 for every authentication failure; MFA users also get `X-MFA_TOKEN`.
    NotAuthenticated {
        mfa: bool,
    },
    /// The REST API ACL refused the caller.
    ApiAclFailed,
    ReadDenied,
    InsertDenied,
    UpdateDenied,
    DeleteDenied,
    NotFound,
    InvalidTable(String),
    UnknownResource,
    /// An API access policy requires a scope the bearer token lacks.
    MissingScope,
    BadRequest {
        message: String,
        detail: String,
    },
    /// A rate-limit rule refused the call (servicenow.md item 15); the fault layer adds the
    /// `Retry-After` and `X-RateLimit-*` headers that name the rule.
    RateLimitExceeded,
    /// The API semaphore queue is full (item 15, KB0635398): no rule is involved, so no
    /// rate-limit headers either.
    QueueFull,
    /// A quota rule cancelled a slow transaction (item 14, KB1297438). Its envelope is appended
    /// to a partial 200 body when the rows had started to flow, the 500 is for a call that
    /// was still queued.
    TransactionCancelled,
}

/// Text of a full API semaphore queue's 429. *Unverified*: KB0635398 shows only the status line
/// ("429 Too Many Requests"); clients must key on the missing rate-limit headers, not on this.
pub const QUEUE_FULL_MESSAGE: &str = "Maximum number of concurrent API requests exceeded";

/// The message of a quota-cancelled transaction, as KB1297438 quotes it.
pub const TRANSACTION_CANCELLED_MESSAGE: &str =
    "Transaction cancelled: maximum execution time exceeded";

impl ApiError {
    fn parts(&self) -> (StatusCode, String, serde_json::Value) {
        use ApiError::*;
        let text = |s: &str| json!(s);
        match self {
            NotAuthenticated { .. } => (
                StatusCode::UNAUTHORIZED,
                "User Not Authenticated".into(),
                text("Required to provide Auth information"),
            ),
            ApiAclFailed => (
                StatusCode::FORBIDDEN,
                "User Not Authorized".into(),
                text("Failed API level ACL Validation"),
            ),
            ReadDenied => (
                StatusCode::FORBIDDEN,
                "Insufficient rights to query records".into(),
                text("Field(s) present in the query do not have permission to be read"),
            ),
            InsertDenied => (
                StatusCode::FORBIDDEN,
                "Operation Failed".into(),
                text("ACL Exception Insert Failed due to security constraints"),
            ),
            UpdateDenied => (
                StatusCode::FORBIDDEN,
                "Operation Failed".into(),
                text("ACL Exception Update Failed due to security constraints"),
            ),
            DeleteDenied => (
                StatusCode::FORBIDDEN,
                "Operation Failed".into(),
                text("ACL Exception Delete Failed due to security constraints"),
            ),
            NotFound => (
                StatusCode::NOT_FOUND,
                "No Record found".into(),
                text("Record doesn't exist or ACL restricts the record retrieval"),
            ),
            InvalidTable(table) => (
                StatusCode::BAD_REQUEST,
                format!("Invalid table {table}"),
                serde_json::Value::Null,
            ),
            UnknownResource => (
                StatusCode::BAD_REQUEST,
                "Requested URI does not represent any resource".into(),
                serde_json::Value::Null,
            ),
            MissingScope => (
                StatusCode::FORBIDDEN,
                "Missing required api access scope".into(),
                serde_json::Value::Null,
            ),
            BadRequest { message, detail } => {
                (StatusCode::BAD_REQUEST, message.clone(), text(detail))
            }
            RateLimitExceeded => (
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit exceeded".into(),
                text("Too many requests; retry later"),
            ),
            QueueFull => (
                StatusCode::TOO_MANY_REQUESTS,
                QUEUE_FULL_MESSAGE.into(),
                text("The API request queue of this node is full; retry later"),
            ),
            // The detail repeats the message with the instance's usual REST debugging hint
            // (wording *unverified*; the message is the part KB1297438 quotes).
            TransactionCancelled => (
                StatusCode::INTERNAL_SERVER_ERROR,
                TRANSACTION_CANCELLED_MESSAGE.into(),
                text(&format!(
                    "{TRANSACTION_CANCELLED_MESSAGE} Check logs for error trace or enable \
                     glide.rest.debug property to verify REST request processing"
                )),
            ),
        }
    }

    /// The error envelope alone, for a body that carries it after other content.
    pub fn envelope(&self) -> serde_json::Value {
        let (_, message, detail) = self.parts();
        json!({ "error": { "message": message, "detail": detail }, "status": "failure" })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _, _) = self.parts();
        let mut response = (status, axum::Json(self.envelope())).into_response();
        if let ApiError::NotAuthenticated { mfa } = self {
            let headers = response.headers_mut();
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("BASIC realm=\"Service-now\""),
            );
            if mfa {
                headers.insert("X-MFA_TOKEN", HeaderValue::from_static("invalid"));
            }
        }
        response
    }
}

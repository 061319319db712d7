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
}

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
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message, detail) = self.parts();
        let body =
            json!({ "error": { "message": message, "detail": detail }, "status": "failure" });
        let mut response = (status, axum::Json(body)).into_response();
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

//! What can go wrong talking to an instance, told apart as far as ServiceNow's answers allow.
//! ServiceNow answers many different mistakes with the same status, so each variant is chosen
//! from the status, the headers and the real error bodies in `docs/servicenow.md`, and carries a
//! hint that names the fix. No variant holds a response body or a credential.

use std::time::Duration;

use thiserror::Error;

use super::query::QueryError;
use crate::http::TransportError;

/// Why a request was refused with 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// The user has multi-factor authentication: Basic auth needs the one-time code appended
    /// to the password (`X-MFA_TOKEN: invalid`).
    MfaRequired,
    /// Wrong user name or password, an expired or revoked token, a locked-out or SSO-only
    /// user, or a user not allowed to use Basic auth: ServiceNow answers all of them with the
    /// same "User Not Authenticated" / "Required to provide Auth information".
    Rejected,
}

/// Why a request was refused with 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// The REST API ACL refused the user ("Failed API level ACL Validation"): usually a
    /// missing role such as `snc_platform_rest_api_access`.
    ApiAcl,
    /// A record ACL refused the operation on the table.
    RecordAcl,
    /// The OAuth token lacks a scope an API access policy requires.
    MissingScope,
    /// Some other 403.
    Other,
}

#[derive(Debug, Error)]
pub enum ApiError {
    #[error("ServiceNow did not accept the credentials ({})", auth_failure_text(*.0))]
    NotAuthenticated(AuthFailure),
    #[error("ServiceNow refused access to {what} ({})", forbidden_text(*.kind))]
    Forbidden { kind: Forbidden, what: String },
    #[error("{what} was not found, or an ACL hides it")]
    NotFound { what: String },
    #[error("the table {table} does not exist on this instance")]
    InvalidTable { table: String },
    #[error("the REST path {path} does not exist on this instance")]
    PathNotFound { path: String },
    #[error("ServiceNow rejected the request: {message}")]
    BadRequest { message: String },
    #[error("the instance is hibernating")]
    Hibernating,
    #[error(
        "the instance answered with a web page instead of data (HTTP {status}, {content_type})"
    )]
    NotAnApiResponse { status: u16, content_type: String },
    #[error("the instance answered with data Snowlink cannot read ({detail})")]
    Malformed { detail: String },
    /// A rate-limit rule refused the request (`X-RateLimit-*` headers, servicenow.md §2.8).
    #[error("a rate-limit rule on the instance refused the request{}", retry_text(*.retry_after))]
    RateLimited {
        retry_after: Option<Duration>,
        /// The rule's sys_id (`X-RateLimit-Rule`), when the instance names it.
        rule: Option<String>,
    },
    /// 429 without rate-limit headers: the instance's API request queue is full.
    #[error("the instance's API request queue is full")]
    QueueFull,
    /// A quota rule cancelled the transaction: HTTP 200 with an error after a partial body.
    #[error("the instance cancelled the request: it ran past the maximum execution time")]
    QuotaCancelled,
    /// HTTP 200 whose body says `"status":"failure"` (servicenow.md item 38): the request
    /// failed whatever the status line says.
    #[error("the instance reported a failure: {message}")]
    ReportedFailure { message: String },
    #[error("the instance redirected the request to {location}")]
    Redirected { location: String },
    #[error("the instance answered HTTP {status}")]
    Server { status: u16 },
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Query(#[from] QueryError),
}

fn auth_failure_text(failure: AuthFailure) -> &'static str {
    match failure {
        AuthFailure::MfaRequired => "the user has multi-factor authentication",
        AuthFailure::Rejected => "wrong user name or password, or an expired token",
    }
}

fn forbidden_text(kind: Forbidden) -> &'static str {
    match kind {
        Forbidden::ApiAcl => "the REST API access control refused the user",
        Forbidden::RecordAcl => "an access control on the table refused the operation",
        Forbidden::MissingScope => "the token lacks a required API access scope",
        Forbidden::Other => "insufficient rights",
    }
}

fn retry_text(retry_after: Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |wait| {
        format!("; retry after {}", seconds_text(wait))
    })
}

fn seconds_text(duration: Duration) -> String {
    format!("{} s", duration.as_secs().max(1))
}

impl ApiError {
    /// What the user can do about it, in one or two sentences.
    pub fn hint(&self) -> String {
        match self {
            Self::NotAuthenticated(AuthFailure::MfaRequired) => {
                "Use an integration user without MFA, or OAuth; with Basic auth the one-time \
                 code must be appended to the password."
                    .into()
            }
            Self::NotAuthenticated(AuthFailure::Rejected) => {
                "Check the user name and password, and in ServiceNow that the user is active, \
                 not locked out, has no password reset pending and may sign in with a local \
                 password (not SSO-only); with OAuth, sign in again."
                    .into()
            }
            Self::Forbidden {
                kind: Forbidden::ApiAcl,
                ..
            } => "Give the user the role the REST API access control requires \
                 (for example snc_platform_rest_api_access)."
                .into(),
            Self::Forbidden {
                kind: Forbidden::RecordAcl,
                ..
            } => "Give the user a role that an ACL on this table grants, or add the ACL the \
                 integration's update set defines."
                .into(),
            Self::Forbidden {
                kind: Forbidden::MissingScope,
                ..
            } => "Add the required scope to the OAuth application, then sign in again.".into(),
            Self::Forbidden {
                kind: Forbidden::Other,
                ..
            } => "Ask a ServiceNow admin which role grants this access.".into(),
            Self::NotFound { .. } => {
                "Check the record still exists and that the user's roles let it be read.".into()
            }
            Self::InvalidTable { .. } | Self::PathNotFound { .. } => {
                "Import and commit the integration's update set (System Update Sets > \
                 Retrieved Update Sets), then check again."
                    .into()
            }
            Self::BadRequest { .. } => {
                "This is likely a Snowlink bug: export a support bundle.".into()
            }
            Self::Hibernating => {
                "Wake the instance: sign in at developer.servicenow.com and start it, then \
                 retry in a few minutes."
                    .into()
            }
            Self::NotAnApiResponse { .. } => {
                "Check the instance address; a proxy or a sign-in portal may be answering \
                 instead of ServiceNow."
                    .into()
            }
            Self::Malformed { .. } => {
                "Retry; if it keeps happening, export a support bundle.".into()
            }
            Self::QueueFull => "Retry in a minute; the instance is handling too many API \
                                requests at once (a full request queue, not a rate-limit rule)."
                .into(),
            Self::QuotaCancelled => "Narrow the query (fewer rows, an indexed condition): a \
                                     quota rule cancels API requests that run too long."
                .into(),
            Self::RateLimited { .. } => {
                "Wait a moment and retry; ServiceNow limits how many requests a user may make."
                    .into()
            }
            Self::Redirected { .. } => {
                "Use the instance's final address (the one your browser shows after signing \
                 in)."
                    .into()
            }
            Self::Server { .. } => "Retry later; the instance reported an internal problem.".into(),
            Self::ReportedFailure { .. } => {
                "Retry; if it keeps failing, a ServiceNow admin can find the reason in the \
                 instance's system log."
                    .into()
            }
            Self::Transport(err) => err.hint(),
            Self::Query(err) => err.hint(),
        }
    }

    /// Whether trying the same request again later may succeed without any change.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(err) => err.is_retryable(),
            Self::Hibernating
            | Self::RateLimited { .. }
            | Self::QueueFull
            | Self::Server { .. } => true,
            _ => false,
        }
    }
}

//! What every check builds its result from: [`Outcome`] (status, findings, the two remedies,
//! links), deep links into the instance, and the explanation of an API failure that no check
//! has a better word for.

use crate::api::{ApiError, Forbidden};
use crate::errors::NextStep;
use crate::http::TransportError;
use crate::instance::InstanceUrl;

use super::{CheckStatus, Link};

/// A check's result before the runner adds its id, title and timing; boxed, as it travels in
/// the error side of every check's `Result`.
#[derive(Debug, Clone)]
pub struct Outcome(Box<Parts>);

/// What an [`Outcome`] holds.
#[derive(Debug, Clone)]
pub struct Parts {
    pub status: CheckStatus,
    pub summary: String,
    pub detail: Option<String>,
    pub remedy_user: Option<String>,
    pub remedy_admin: Option<String>,
    pub links: Vec<Link>,
    pub next: Option<NextStep>,
    pub skipped_because: Option<String>,
}

impl std::ops::Deref for Outcome {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

impl Outcome {
    fn new(status: CheckStatus, summary: impl Into<String>) -> Self {
        Self(Box::new(Parts {
            status,
            summary: summary.into(),
            detail: None,
            remedy_user: None,
            remedy_admin: None,
            links: Vec::new(),
            next: None,
            skipped_because: None,
        }))
    }

    /// The parts, for the runner.
    pub fn into_parts(self) -> Parts {
        *self.0
    }

    /// Says the check was skipped because `reason`.
    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.0.skipped_because = Some(reason.into());
        self
    }

    pub fn pass(summary: impl Into<String>) -> Self {
        Self::new(CheckStatus::Pass, summary)
    }

    pub fn warn(summary: impl Into<String>) -> Self {
        Self::new(CheckStatus::Warn, summary)
    }

    pub fn fail(summary: impl Into<String>) -> Self {
        Self::new(CheckStatus::Fail, summary)
    }

    /// Not run because it does not apply, or needs something that was not given; the checks
    /// after it still run.
    pub fn skip(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::new(CheckStatus::Skip, reason.clone()).because(reason)
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    pub fn user(mut self, remedy: impl Into<String>) -> Self {
        self.0.remedy_user = Some(remedy.into());
        self
    }

    pub fn admin(mut self, remedy: impl Into<String>) -> Self {
        self.0.remedy_admin = Some(remedy.into());
        self
    }

    /// The same fix for both readers.
    pub fn fix(self, remedy: impl Into<String>) -> Self {
        let remedy = remedy.into();
        self.user(remedy.clone()).admin(remedy)
    }

    pub fn link(mut self, label: impl Into<String>, url: String) -> Self {
        self.0.links.push(Link {
            label: label.into(),
            url,
        });
        self
    }

    pub fn next(mut self, next: NextStep) -> Self {
        self.0.next = Some(next);
        self
    }
}

/// The end user's usual fix: someone with admin rights has to change the instance.
pub fn ask_admin(what: &str) -> String {
    format!("Ask your ServiceNow admin to {what}.")
}

/// A form of one record, as the classic UI opens it from a link.
pub fn record_link(instance: &InstanceUrl, table: &str, sys_id: &str) -> String {
    instance.ui_link(&format!("{table}.do?sys_id={sys_id}"))
}

/// A list of records matching `query`.
pub fn list_link(instance: &InstanceUrl, table: &str, query: &str) -> String {
    instance.ui_link(&format!("{table}_list.do?sysparm_query={query}"))
}

/// A failure below HTTP, said as a sentence with its fix.
pub fn transport_failure(cause: &TransportError) -> Outcome {
    let text = cause.to_string();
    let mut chars = text.chars();
    let sentence: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    Outcome::fail(format!("{sentence}.")).fix(cause.hint())
}

/// An API failure explained for a check that has no closer reading of it. `what` names what
/// was asked ("the user's roles").
pub fn api_failure(err: &ApiError, what: &str) -> Outcome {
    let message = format!("Reading {what} failed: {err}.");
    match err {
        ApiError::Transport(TransportError::Timeout(_)) => Outcome::fail(message).fix(
            "The instance answers slowly: check the network or VPN, or try when the \
                  instance is less busy.",
        ),
        ApiError::RateLimited { rule, .. } => {
            let mut outcome = Outcome::fail(message)
                .user("Wait for the rate-limit window to pass, then run the check again.")
                .admin(
                    "A rate-limit rule refused the request (System Web Services > Rate Limit \
                     Rules): raise its limit for this user, or exclude the integration user.",
                );
            if let Some(rule) = rule {
                outcome = outcome.detail(format!("rule sys_id {rule}"));
            }
            outcome.next(NextStep::Retry)
        }
        ApiError::QueueFull => Outcome::fail(message)
            .fix(
                "The instance's API queue is full (no rate-limit rule named): run the check \
                  again in a minute.",
            )
            .next(NextStep::Retry),
        ApiError::QuotaCancelled => Outcome::fail(message).fix(
            "A quota rule cancelled the request after its maximum execution time: narrow the \
             query (fewer rows, an indexed condition) or ask the admin to review the \
             transaction quota rules.",
        ),
        ApiError::Forbidden {
            kind: Forbidden::MissingScope,
            ..
        } => Outcome::fail(message)
            .detail(
                "A scope problem, not a role problem: the OAuth application allows only the \
                 APIs of selected scopes (\"Allow access only to APIs in selected scope\"), or \
                 an API access policy requires a scope the token lacks.",
            )
            .user(ask_admin(
                "add the required API access scope to the OAuth application",
            ))
            .admin(
                "On the Application Registry record, add the useraccount auth scope (or the \
                 scope the REST API access policy requires), or clear \"Allow access only to \
                 APIs in selected scope\"; then sign in again.",
            ),
        ApiError::Forbidden { .. } => Outcome::fail(message)
            .user(ask_admin("give the integration user the role this needs"))
            .admin(err.hint()),
        other => Outcome::fail(message).fix(other.hint()),
    }
}

//! Errors as the UI receives them: `{ code, message, hint, retryable }`. Codes are a closed set
//! the UI acts on; messages are for people and never carry secrets or raw server bodies.

use serde::Serialize;
use snowlink_core::connections::ConnectionsError;
use snowlink_core::engine::EngineError;
use snowlink_core::oauth::{ListenerError, OAuthError};
use snowlink_core::{BrowserUrlError, InstanceUrlError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Something the user typed is wrong; the message names the field and the fix.
    InvalidInput,
    /// The system browser could not be started.
    BrowserUnavailable,
    /// The OS keyring is missing, locked or not answering.
    KeyringUnavailable,
    /// A browser sign-in or token request did not succeed (denied, timed out, refused).
    SignInFailed,
    /// The sign-in was cancelled by the user.
    Cancelled,
    /// The saved sign-in stopped working: only linking again helps.
    RelinkNeeded,
    /// The instance could not be reached or refused the request.
    InstanceError,
    /// The connection does not exist (any more).
    NotFound,
    /// The connections file could not be read or written.
    ConfigError,
    /// A bug or an unexpected state; the message says what to report.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct UiError {
    pub code: ErrorCode,
    pub message: String,
    pub hint: String,
    pub retryable: bool,
}

impl From<InstanceUrlError> for UiError {
    fn from(err: InstanceUrlError) -> Self {
        Self {
            code: ErrorCode::InvalidInput,
            hint: err.hint(),
            message: err.to_string(),
            retryable: false,
        }
    }
}

impl From<BrowserUrlError> for UiError {
    fn from(err: BrowserUrlError) -> Self {
        Self {
            code: ErrorCode::InvalidInput,
            message: err.to_string(),
            hint: "Copy the address into your browser yourself if you trust it.".into(),
            retryable: false,
        }
    }
}

impl From<EngineError> for UiError {
    fn from(err: EngineError) -> Self {
        let code = match &err {
            EngineError::MissingInput { .. } | EngineError::AmbiguousConnection => {
                ErrorCode::InvalidInput
            }
            EngineError::UnknownConnection(_)
            | EngineError::NoConnections
            | EngineError::NotLinkable { .. } => ErrorCode::NotFound,
            EngineError::Connections(_) => ErrorCode::ConfigError,
            EngineError::Secrets(_) | EngineError::OAuth(OAuthError::Secrets(_)) => {
                ErrorCode::KeyringUnavailable
            }
            EngineError::OAuth(OAuthError::RelinkNeeded) => ErrorCode::RelinkNeeded,
            EngineError::OAuth(OAuthError::Callback(ListenerError::Cancelled)) => {
                ErrorCode::Cancelled
            }
            EngineError::OAuth(_) => ErrorCode::SignInFailed,
            EngineError::Api(_) => ErrorCode::InstanceError,
        };
        Self {
            code,
            hint: err.hint(),
            retryable: err.is_retryable(),
            message: err.to_string(),
        }
    }
}

impl From<ConnectionsError> for UiError {
    fn from(err: ConnectionsError) -> Self {
        EngineError::from(err).into()
    }
}

impl UiError {
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: format!("Snowlink hit an unexpected problem: {detail}."),
            hint: "Try again; if it keeps happening, report it with a support bundle.".into(),
            retryable: true,
        }
    }

    pub fn browser_unavailable(detail: impl std::fmt::Display) -> Self {
        Self {
            code: ErrorCode::BrowserUnavailable,
            message: format!("The system browser could not be opened ({detail})."),
            hint: "Copy the address and open it in your browser yourself.".into(),
            retryable: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_the_ui_expects() {
        let err = UiError::from(InstanceUrlError::Credentials);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["code"], "invalid_input");
        assert_eq!(json["retryable"], false);
        assert!(
            json["message"]
                .as_str()
                .unwrap()
                .contains("user name or password")
        );
        assert!(json["hint"].as_str().unwrap().contains("keyring"));
        let browser = serde_json::to_value(UiError::browser_unavailable("no handler")).unwrap();
        assert_eq!(browser["code"], "browser_unavailable");
        assert_eq!(browser["retryable"], true);
    }
}

//! Errors as the UI receives them: the core's [`ErrorView`] (`{ code, message, hint,
//! retryable, field, next }`), whose codes are the closed set the CLI's JSON uses too. Only the
//! shell's own failures (the browser opener, a task that stopped) are made here.

use snowlink_core::BrowserUrlError;
use snowlink_core::engine::EngineError;
use snowlink_core::views::{ErrorCode, ErrorView};

/// What a command returns on failure.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct UiError(pub ErrorView);

impl<E: Into<EngineError>> From<E> for UiError {
    fn from(err: E) -> Self {
        Self(err.into().view())
    }
}

impl UiError {
    pub fn from_browser_url(err: BrowserUrlError) -> Self {
        Self(ErrorView::new(
            ErrorCode::InvalidInput,
            err.to_string(),
            "Copy the address into your browser yourself if you trust it.",
        ))
    }

    pub fn browser_unavailable(detail: impl std::fmt::Display) -> Self {
        Self(
            ErrorView::new(
                ErrorCode::BrowserUnavailable,
                format!("The system browser could not be opened ({detail})."),
                "Copy the address and open it in your browser yourself.",
            )
            .retryable(true),
        )
    }
}

#[cfg(test)]
mod tests {
    use snowlink_core::InstanceUrlError;

    use super::*;

    #[test]
    fn serializes_as_the_ui_expects() {
        let err = UiError::from(InstanceUrlError::Credentials);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["code"], "invalid_input");
        assert_eq!(json["retryable"], false);
        assert_eq!(json["field"], "instance");
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

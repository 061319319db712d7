//! Errors as the UI receives them: the core's [`ErrorView`] (`{ code, message, hint,
//! retryable, field, next }`), whose codes are the closed set the CLI's JSON uses too.

use snowlink_core::errors::ErrorView;
use snowlink_core::flows::FlowError;

/// What a command returns on failure.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct UiError(pub ErrorView);

impl<E: Into<FlowError>> From<E> for UiError {
    fn from(err: E) -> Self {
        Self(err.into().view())
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
    }
}

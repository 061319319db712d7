//! Why a connection flow failed, and the [`ErrorView`] each failure becomes: the one place
//! that maps every error of the core to the closed set of codes the front ends share.

use crate::api::ApiError;
use crate::connections::ConnectionsError;
use crate::errors::InputField;
use crate::errors::{ErrorCode, ErrorView, NextStep};
use crate::http::TransportError;
use crate::instance::InstanceUrlError;
use crate::oauth::{ListenerError, OAuthError};
use crate::secrets::SecretError;
use crate::text::{SysIdError, capitalized};

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("{} is required for the {grant} sign-in.", capitalized(field.label()))]
    MissingInput {
        field: InputField,
        grant: &'static str,
    },
    #[error("{} is not valid: {reason}", capitalized(field.label()))]
    InvalidInput { field: InputField, reason: String },
    #[error("There is no connection named \"{0}\".")]
    UnknownConnection(String),
    #[error("There are several connections; say which one.")]
    AmbiguousConnection,
    #[error("There are no connections yet.")]
    NoConnections,
    #[error(
        "Connection \"{name}\" signs in with {grant}; only browser sign-in (auth-code) links a personal account."
    )]
    NotLinkable { name: String, grant: &'static str },
    #[error("{} of connection \"{connection}\" is not in the OS keyring.", capitalized(field.label()))]
    MissingSecret {
        field: InputField,
        connection: String,
    },
    /// A sign-in without a client secret was refused at the token exchange: the application is
    /// not a public client, or the instance is older than Zurich and has none (item 1.4).
    #[error(
        "The instance refused to sign you in through \"{client_id}\" without its client \
         secret: it is not a public client there (instances older than Zurich have none)."
    )]
    PublicClientRefused { client_id: String },
    #[error("No admin sign-in is remembered for {0}.")]
    NoRememberedAdmin(String),
    #[error(transparent)]
    AdminMemory(#[from] super::admin_memory::MemoryError),
    #[error("The instance reported an identity Snowlink cannot use: {0}")]
    BadIdentity(#[from] SysIdError),
    #[error(transparent)]
    Instance(#[from] InstanceUrlError),
    #[error(transparent)]
    Connections(#[from] ConnectionsError),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    #[error("{0}")]
    Api(#[from] ApiError),
}

impl FlowError {
    /// What to do about it, in words; no front end's flag or button.
    pub fn hint(&self) -> String {
        match self {
            Self::MissingInput { field, .. } => {
                format!("Enter {}: it comes from {}.", field.label(), field.source())
            }
            Self::InvalidInput { field, .. } => {
                format!("Check {}: it comes from {}.", field.label(), field.source())
            }
            Self::UnknownConnection(_) => "Pick one of the saved connections.".into(),
            Self::AmbiguousConnection => "Name the connection to use.".into(),
            Self::NoConnections => {
                "Create a connection, or ask your admin for the connection details.".into()
            }
            Self::NotLinkable { .. } => {
                "Ask the admin for a connection that uses browser sign-in.".into()
            }
            Self::MissingSecret { field, .. } => format!(
                "Enter {} again: set the connection up again, and Snowlink keeps it in the OS \
                 keyring.",
                field.label()
            ),
            Self::PublicClientRefused { .. } => {
                "Paste the application's Client Secret (System OAuth > Application Registry > \
                 the application's record) with its Client ID, and sign in again."
                    .into()
            }
            Self::NoRememberedAdmin(_) => {
                "See the remembered admin sign-ins on the Connections screen (or with snowlink \
                 admin list)."
                    .into()
            }
            Self::AdminMemory(err) => err.hint(),
            Self::BadIdentity(_) => {
                "Check the instance address: a real ServiceNow instance names users by a \
                 32-digit sys_id."
                    .into()
            }
            Self::Instance(err) => err.hint(),
            Self::Connections(err) => err.hint(),
            Self::Secrets(err) => err.hint(),
            Self::OAuth(err) => err.hint(),
            Self::Api(err) => err.hint(),
        }
    }

    pub fn is_retryable(&self) -> bool {
        match self {
            Self::OAuth(err) => err.is_retryable(),
            Self::Api(err) => err.is_retryable(),
            Self::Secrets(err) => err.is_retryable(),
            Self::Connections(ConnectionsError::Busy { .. }) => true,
            _ => false,
        }
    }

    /// The code of the closed set the front ends share.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::MissingInput { .. }
            | Self::InvalidInput { .. }
            | Self::AmbiguousConnection
            | Self::NotLinkable { .. }
            | Self::Instance(_) => ErrorCode::InvalidInput,
            Self::UnknownConnection(_) | Self::NoConnections | Self::NoRememberedAdmin(_) => {
                ErrorCode::NotFound
            }
            Self::AdminMemory(_) => ErrorCode::ConfigError,
            Self::MissingSecret { .. } | Self::OAuth(OAuthError::MissingSecret(..)) => {
                ErrorCode::SecretMissing
            }
            Self::Connections(ConnectionsError::InvalidId(_)) => ErrorCode::InvalidInput,
            Self::Connections(_) => ErrorCode::ConfigError,
            Self::Secrets(err) | Self::OAuth(OAuthError::Secrets(err)) => err.code(),
            Self::OAuth(OAuthError::RelinkNeeded) => ErrorCode::RelinkNeeded,
            Self::OAuth(OAuthError::Callback(ListenerError::Cancelled)) => ErrorCode::Cancelled,
            Self::OAuth(OAuthError::Transport { .. }) | Self::Api(ApiError::Transport(_)) => {
                ErrorCode::InstanceUnreachable
            }
            Self::OAuth(OAuthError::HttpClient(_)) => ErrorCode::Internal,
            Self::OAuth(_) | Self::PublicClientRefused { .. } => ErrorCode::SignInFailed,
            Self::BadIdentity(_) | Self::Api(_) => ErrorCode::InstanceError,
        }
    }

    /// The input at fault, when there is one.
    pub fn field(&self) -> Option<InputField> {
        match self {
            Self::MissingInput { field, .. } | Self::InvalidInput { field, .. } => Some(*field),
            Self::Instance(_) => Some(InputField::Instance),
            Self::PublicClientRefused { .. } => Some(InputField::ClientSecret),
            Self::UnknownConnection(_) | Self::AmbiguousConnection => Some(InputField::Connection),
            _ => None,
        }
    }

    /// The next step, when one follows from the error itself.
    fn next(&self) -> Option<NextStep> {
        match self {
            Self::AmbiguousConnection | Self::UnknownConnection(_) => {
                Some(NextStep::ChooseConnection)
            }
            Self::NoConnections => Some(NextStep::CreateConnection),
            Self::OAuth(OAuthError::RelinkNeeded) => Some(NextStep::Relink),
            _ => None,
        }
    }

    pub fn view(&self) -> ErrorView {
        let mut view = ErrorView::new(self.code(), self.to_string(), self.hint())
            .retryable(self.is_retryable());
        if let Some(field) = self.field() {
            view = view.field(field);
        }
        if let Some(next) = self.next() {
            view = view.next(next);
        }
        view
    }
}

impl From<TransportError> for FlowError {
    fn from(err: TransportError) -> Self {
        Self::Api(ApiError::Transport(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_failure_has_its_code() {
        let cases: Vec<(FlowError, ErrorCode)> = vec![
            (
                FlowError::MissingInput {
                    field: InputField::ClientId,
                    grant: "password",
                },
                ErrorCode::InvalidInput,
            ),
            (FlowError::NoConnections, ErrorCode::NotFound),
            (SecretError::Locked.into(), ErrorCode::KeyringLocked),
            (
                SecretError::Unavailable { detail: "x".into() }.into(),
                ErrorCode::KeyringUnavailable,
            ),
            (OAuthError::RelinkNeeded.into(), ErrorCode::RelinkNeeded),
            (
                OAuthError::Callback(ListenerError::Cancelled).into(),
                ErrorCode::Cancelled,
            ),
            (
                TransportError::Dns { host: "x".into() }.into(),
                ErrorCode::InstanceUnreachable,
            ),
            (ApiError::Hibernating.into(), ErrorCode::InstanceError),
            (
                FlowError::MissingSecret {
                    field: InputField::Password,
                    connection: "svc".into(),
                },
                ErrorCode::SecretMissing,
            ),
        ];
        for (err, code) in cases {
            assert_eq!(err.code(), code, "{err:?}");
            assert_eq!(err.view().code, code);
        }
    }

    #[test]
    fn missing_inputs_name_the_field_and_no_flag() {
        let err = FlowError::MissingInput {
            field: InputField::ClientSecret,
            grant: "client-credentials",
        };
        assert_eq!(
            err.to_string(),
            "The client secret is required for the client-credentials sign-in."
        );
        let view = err.view();
        assert_eq!(view.field, Some(InputField::ClientSecret));
        assert!(view.hint.contains("Application Registry"), "{}", view.hint);
        assert!(
            !view.hint.contains("--"),
            "no CLI flag in the core: {}",
            view.hint
        );
        assert!(!view.hint.contains("SNOWLINK_"), "{}", view.hint);
    }
}

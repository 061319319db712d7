//! The closed vocabulary of failures the front ends share: one [`ErrorCode`] of a fixed set, the
//! message, the hint (what to do, in words), whether a retry may help, the [`InputField`] at
//! fault and the [`NextStep`], which each front end phrases its own way (the CLI as a flag or a
//! command, the app as a button). Every error of the core has a `view()` that builds one; the
//! front ends only show it. Nothing here depends on another module of the core.

use serde::{Deserialize, Serialize};

/// Something a person types to set up or reach a connection. Each front end names it its own
/// way (a flag, a form label); messages from the core use [`label`](Self::label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename_all = "kebab-case")]
pub enum InputField {
    Instance,
    ConnectionName,
    Connection,
    Grant,
    ClientId,
    ClientSecret,
    Username,
    Password,
    ApiKey,
}

impl InputField {
    /// The field's name in a sentence.
    pub fn label(self) -> &'static str {
        match self {
            Self::Instance => "the instance address",
            Self::ConnectionName => "the connection name",
            Self::Connection => "the connection",
            Self::Grant => "the sign-in method",
            Self::ClientId => "the client ID",
            Self::ClientSecret => "the client secret",
            Self::Username => "the user name",
            Self::Password => "the password",
            Self::ApiKey => "the API key",
        }
    }

    /// Where the value comes from in ServiceNow, for the fix of a missing one.
    pub fn source(self) -> &'static str {
        match self {
            Self::ClientId | Self::ClientSecret => {
                "the OAuth application's record (System OAuth > Application Registry)"
            }
            Self::Username | Self::Password => "the ServiceNow user the connection acts as",
            Self::ApiKey => "the API key issued for the integration user",
            Self::Instance => "your browser's address bar while signed in to ServiceNow",
            Self::ConnectionName | Self::Connection | Self::Grant => "your admin",
        }
    }
}

/// The closed set of error codes the UI and the CLI's JSON share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Something the person typed is wrong or missing; `field` names it.
    InvalidInput,
    /// The connection (or whatever was named) does not exist.
    NotFound,
    /// The connections file could not be read or written.
    ConfigError,
    /// The OS keyring is missing or not answering.
    KeyringUnavailable,
    /// The OS keyring is locked.
    KeyringLocked,
    /// A secret the connection needs is not in the keyring.
    SecretMissing,
    /// The system browser could not be started.
    BrowserUnavailable,
    /// A sign-in or token request did not succeed (denied, timed out, refused).
    SignInFailed,
    /// The person cancelled.
    Cancelled,
    /// The saved sign-in stopped working: only linking again helps.
    RelinkNeeded,
    /// The instance could not be reached (DNS, refused, TLS, timeout).
    InstanceUnreachable,
    /// The instance answered, but refused or did not understand the request.
    InstanceError,
    /// A bug or an unexpected state; the message says what to report.
    Internal,
}

/// What the person should do next, for each front end to phrase: the CLI names a flag or a
/// command, the app a button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[ts(tag = "kind", rename_all = "kebab-case")]
pub enum NextStep {
    /// Give (or correct) this input.
    Provide { field: InputField },
    /// Say which connection is meant.
    ChooseConnection,
    /// Create a connection first.
    CreateConnection,
    /// Sign in again through the browser.
    Relink,
    /// The same request later may work.
    Retry,
    /// Give admin credentials, so the diagnosis can read the records that name the cause.
    GiveAdminCredentials,
    /// Trust a CA certificate (a TLS-inspecting proxy's) for this instance.
    TrustCa,
    /// Confirm the change that was shown (a terminal's prompt, the CLI's `--yes`).
    Confirm,
}

/// An error as the front ends show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ErrorView {
    pub code: ErrorCode,
    pub message: String,
    pub hint: String,
    pub retryable: bool,
    pub field: Option<InputField>,
    pub next: Option<NextStep>,
}

impl ErrorView {
    pub fn new(code: ErrorCode, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: hint.into(),
            retryable: false,
            field: None,
            next: None,
        }
    }

    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        if retryable && self.next.is_none() {
            self.next = Some(NextStep::Retry);
        }
        self
    }

    pub fn field(mut self, field: InputField) -> Self {
        self.field = Some(field);
        self.next = Some(NextStep::Provide { field });
        self
    }

    pub fn next(mut self, next: NextStep) -> Self {
        self.next = Some(next);
        self
    }

    /// A bug or an unexpected state.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorCode::Internal,
            format!("Snowlink hit an unexpected problem: {detail}."),
            "Try again; if it keeps happening, report it with a support bundle.",
        )
        .retryable(true)
    }
}

/// What goes wrong in a front end's own plumbing rather than in a flow of the core: a terminal
/// that cannot be read, a confirmation nobody could give, the app and its engine out of step,
/// the simulated instance that would not start. Named here so the CLI and the app say them
/// alike.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrontEndError {
    #[error("Could not start the async runtime: {0}")]
    Runtime(String),
    #[error("Could not read {label} from the terminal: {detail}")]
    TerminalRead {
        label: String,
        variable: String,
        detail: String,
    },
    #[error("No new value for {label} was given.")]
    NoNewValue { label: String, variable: String },
    #[error("{label} is needed on \"{step}\".")]
    InputNeeded {
        label: String,
        step: String,
        variable: String,
    },
    #[error("This needs a confirmation and there is no terminal to ask on.")]
    NoTerminal,
    #[error("Nothing was changed.")]
    Declined,
    #[error("\"{0}\" is not ID=VALUE.")]
    NotAPair(String),
    #[error("The app sent a request this engine cannot read ({0}).")]
    BadRequest(String),
    #[error("The engine could not encode its answer: {0}")]
    Unencodable(String),
    #[error("Snowlink's engine is not answering ({0}).")]
    EngineStopped(String),
    #[error("The simulated instance could not start ({0}).")]
    Simulator(String),
    #[error("The simulated instance's state could not be saved ({0}).")]
    SimulatorState(String),
    #[error("The setup did not finish.")]
    Unfinished,
    #[error("No setup is open.")]
    NoSetupOpen,
    #[error("There is no diagnosis yet.")]
    NoDiagnosis,
    #[error("Choose a connection or type an instance to diagnose.")]
    NothingToDiagnose,
    #[error("No sign-in is waiting for an address.")]
    NoSignInWaiting,
    #[error("The sign-in ended before the address was read.")]
    SignInOver,
}

impl FrontEndError {
    pub fn view(&self) -> ErrorView {
        let reinstall = "Reinstall Snowlink: the app and its engine come from different versions.";
        let (code, hint) = match self {
            Self::Runtime(_) => (ErrorCode::Internal, "Check the process limits of this machine.".to_owned()),
            Self::TerminalRead { variable, .. } => {
                (ErrorCode::InvalidInput, format!("Set {variable} instead."))
            }
            Self::NoNewValue { variable, .. } => (
                ErrorCode::InvalidInput,
                format!("Type it when asked in a terminal, or set {variable}."),
            ),
            Self::InputNeeded { variable, .. } => (
                ErrorCode::InvalidInput,
                format!("Set {variable}, or type it when asked in a terminal."),
            ),
            Self::NoTerminal => (ErrorCode::InvalidInput, "Confirm it to go ahead.".to_owned()),
            Self::Declined => (
                ErrorCode::InvalidInput,
                "Do the step by hand, or confirm the changes.".to_owned(),
            ),
            Self::NotAPair(_) => (
                ErrorCode::InvalidInput,
                "Write it as the input's id, an equals sign and the value: service_user=integration.bot."
                    .to_owned(),
            ),
            Self::BadRequest(_) | Self::Unencodable(_) => (ErrorCode::Internal, reinstall.to_owned()),
            Self::EngineStopped(_) => (
                ErrorCode::Internal,
                "Try again: it is started again. If it keeps happening, reinstall Snowlink."
                    .to_owned(),
            ),
            Self::Simulator(_) => (
                ErrorCode::ConfigError,
                "Choose another port or state file, or start `snowlink sim` yourself and type its \
                 address."
                    .to_owned(),
            ),
            Self::SimulatorState(_) => (
                ErrorCode::ConfigError,
                "Check that the state file's folder exists and may be written.".to_owned(),
            ),
            Self::NoSetupOpen => (
                ErrorCode::InvalidInput,
                "Choose an integration and start its setup.".to_owned(),
            ),
            Self::NoDiagnosis => (ErrorCode::InvalidInput, "Run a diagnosis first.".to_owned()),
            Self::NothingToDiagnose => (
                ErrorCode::InvalidInput,
                "Pick a saved connection, or type the instance's address.".to_owned(),
            ),
            Self::NoSignInWaiting | Self::SignInOver => (
                ErrorCode::InvalidInput,
                "Start linking the account (again), then paste the address the browser ends on."
                    .to_owned(),
            ),
            Self::Unfinished => (
                ErrorCode::Internal,
                "Run it again and resume it: it goes on from the step it stopped at.".to_owned(),
            ),
        };
        let view = ErrorView::new(code, self.to_string(), hint);
        match self {
            Self::NoTerminal => view.next(NextStep::Confirm),
            Self::NothingToDiagnose => view.field(InputField::Instance),
            Self::EngineStopped(_) | Self::Simulator(_) => view.retryable(true),
            _ => view,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_views_serialize_for_the_ui() {
        let view = ErrorView::new(
            ErrorCode::InvalidInput,
            "The client ID is missing.",
            "Enter it.",
        )
        .field(InputField::ClientId);
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["code"], "invalid_input");
        assert_eq!(json["field"], "client-id");
        assert_eq!(json["next"]["kind"], "provide");
        assert_eq!(json["next"]["field"], "client-id");
        let retry = serde_json::to_value(ErrorView::internal("x")).unwrap();
        assert_eq!(retry["retryable"], true);
        assert_eq!(retry["next"]["kind"], "retry");
    }
}

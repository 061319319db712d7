//! Why a sign-in, refresh or revocation failed, and what to do about it.

use super::{ListenerError, TokenGrant};
use crate::grants::GrantKind;
use crate::http::TransportError;
use crate::secrets::SecretError;

/// Why a sign-in, refresh or revocation failed. `Display` is the message, [`hint`] the fix;
/// neither carries a secret or a server's response body.
///
/// [`hint`]: OAuthError::hint
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("The OAuth address {0} is not valid.")]
    InvalidEndpoint(String),
    #[error("The HTTP client could not be set up: {0}")]
    HttpClient(TransportError),
    #[error(transparent)]
    Callback(#[from] ListenerError),
    #[error("The callback came from issuer {found}, not {expected}.")]
    IssuerMismatch { expected: String, found: String },
    /// ServiceNow's single answer to every token failure (HTTP 401, `access_denied`).
    #[error("The instance refused the {grant} request (access_denied).")]
    AccessDenied { grant: TokenGrant },
    /// The saved refresh token no longer works: only signing in again helps.
    #[error("The saved sign-in has expired or was revoked.")]
    RelinkNeeded,
    #[error("The token endpoint rejected the {grant} request: {code}.")]
    Rejected { grant: TokenGrant, code: String },
    #[error(
        "The token endpoint's answer to the {grant} request is not an OAuth response{}.",
        status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
    )]
    UnexpectedResponse {
        grant: TokenGrant,
        status: Option<u16>,
    },
    #[error("Connection {connection} signs in with {grant}, which uses no OAuth tokens.")]
    NotOAuth {
        connection: String,
        grant: GrantKind,
    },
    #[error("The {0} of connection {1} is missing from the OS keyring.")]
    MissingSecret(&'static str, String),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    /// Below OAuth: timeout, DNS, refused connection, untrusted TLS (shared with the API client).
    #[error("The {grant} request failed: {cause}.")]
    Transport {
        grant: TokenGrant,
        cause: TransportError,
    },
}

impl OAuthError {
    /// What the person should do about it, in one sentence.
    pub fn hint(&self) -> String {
        match self {
            Self::InvalidEndpoint(_) => "Check the instance address.".into(),
            Self::HttpClient(err) => err.hint(),
            Self::Callback(err) => err.hint(),
            Self::IssuerMismatch { .. } => "Another sign-in page answered; start the sign-in \
                                            again from Snowlink and use only the page it opens."
                .into(),
            Self::AccessDenied { grant } => access_denied_hint(*grant).into(),
            Self::RelinkNeeded => "Sign in again to link the account.".into(),
            Self::NotOAuth { .. } => "Use the connection's user name and password or API key \
                                      directly."
                .into(),
            Self::MissingSecret(..) => "Set the connection up again to enter it.".into(),
            Self::Secrets(err) => err.hint(),
            Self::Rejected { code, .. } => match code.as_str() {
                "invalid_client" | "unauthorized_client" => {
                    "Check the client id and secret of the OAuth application.".into()
                }
                "invalid_grant" => "Sign in again; the code or token was not accepted.".into(),
                "invalid_scope" => {
                    "Ask the admin which scopes the OAuth application allows.".into()
                }
                "unsupported_grant_type" => {
                    "Enable this grant type for the OAuth application on the instance.".into()
                }
                _ => "Check the OAuth application's settings on the instance.".into(),
            },
            Self::UnexpectedResponse { .. } => "The instance may be hibernating or behind a \
                                                proxy login page: open it in a browser, wake it, \
                                                and try again."
                .into(),
            Self::Transport { cause, .. } => cause.hint(),
        }
    }

    /// Whether waiting and trying again may help.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { cause, .. } => cause.is_retryable(),
            Self::UnexpectedResponse { .. } => true,
            _ => false,
        }
    }
}

/// ServiceNow gives one answer for every token failure, so the fix lists the causes that fit
/// the grant, and only those: a client-credentials grant has no user and no password.
fn access_denied_hint(grant: TokenGrant) -> &'static str {
    match grant {
        TokenGrant::ClientCredentials => {
            "Check the client ID and secret, that the OAuth application is active and has an \
             OAuth Application User, and that the instance allows the client credentials grant \
             (glide.oauth.inbound.client.credential.grant_type.enabled); ServiceNow gives the \
             same answer for each."
        }
        TokenGrant::Password => {
            "Check the client ID and secret, the user name and password, that the user is \
             active and not locked out, and that the password grant is not disabled on the \
             instance; ServiceNow gives the same answer for each."
        }
        TokenGrant::AuthorizationCode => {
            "Check the client ID and secret and that the OAuth application is active, then \
             sign in again; ServiceNow gives the same answer for each."
        }
        TokenGrant::Refresh | TokenGrant::Revoke => "Sign in again to link the account.",
    }
}

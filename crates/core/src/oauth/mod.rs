//! Signing in to ServiceNow with OAuth 2.0, through the `oauth2` crate: the authorization-code
//! grant with PKCE S256 and a random, compared `state` in the system browser (RFC 8252,
//! RFC 7636, RFC 9700), the password grant, client credentials, refresh and revocation.
//! Endpoints default to ServiceNow's paths ([`OAuthEndpoints::service_now`]) and can be set to
//! any other server's. Token-endpoint failures become typed errors that never carry the
//! response body; ServiceNow answers every failure with the same 401 `access_denied`, which is
//! kept as one case rather than guessed apart.

mod auth_code;
mod client;
mod error;
pub mod listener;
#[cfg(test)]
mod tests;
mod tokens;

use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use crate::instance::InstanceUrl;
use crate::secrets::{AccessToken, RefreshToken};

pub use crate::browser::{Browser, BrowserError, SystemBrowser};
pub use auth_code::AuthCodeSession;
pub use client::OAuthClient;
pub use error::OAuthError;
pub use listener::{
    CALLBACK_PORTS, ListenerError, LoopbackListener, PasteBack, Pasted, judge_pasted,
};
pub use tokens::access_token_for;

/// ServiceNow's authorize, token and revoke paths.
pub const SERVICE_NOW_AUTHORIZE_PATH: &str = "/oauth_auth.do";
pub const SERVICE_NOW_TOKEN_PATH: &str = "/oauth_token.do";
pub const SERVICE_NOW_REVOKE_PATH: &str = "/oauth_revoke_token.do";
/// How long the browser sign-in may take by default: enough to log in with MFA.
pub const DEFAULT_SIGN_IN_WAIT: Duration = Duration::from_secs(300);
/// Timeout of one token-endpoint call.
pub const TOKEN_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Refresh this long before the access token expires, so a request never races the expiry.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(120);
/// The scope a browser sign-in asks for: full access as the user.
pub const USER_SCOPE: &str = "useraccount";

/// ServiceNow's default refresh token lifespan, in seconds (100 days).
pub const DEFAULT_REFRESH_LIFESPAN: i64 = 8_640_000;

/// When a refresh token first issued at `issued` stops working: ServiceNow never extends it.
pub fn refresh_token_end(issued: DateTime<Utc>) -> DateTime<Utc> {
    issued + chrono::Duration::seconds(DEFAULT_REFRESH_LIFESPAN)
}

/// Snowlink's callback URLs, each of which the registry record should list.
pub fn callback_urls() -> Vec<String> {
    CALLBACK_PORTS
        .iter()
        .map(|port| format!("http://127.0.0.1:{port}/callback"))
        .collect()
}

/// Where the OAuth server's endpoints are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthEndpoints {
    pub authorize: Url,
    pub token: Url,
    pub revoke: Url,
    /// The issuer the server names in callbacks (RFC 9207), when known; a callback naming
    /// another issuer is refused. ServiceNow sends none.
    pub issuer: Option<String>,
}

impl OAuthEndpoints {
    /// ServiceNow's endpoints on `instance`.
    pub fn service_now(instance: &InstanceUrl) -> Result<Self, OAuthError> {
        let at = |path: &str| {
            instance
                .endpoint(path)
                .map_err(|_| OAuthError::InvalidEndpoint(format!("{instance}{path}")))
        };
        Ok(Self {
            authorize: at(SERVICE_NOW_AUTHORIZE_PATH)?,
            token: at(SERVICE_NOW_TOKEN_PATH)?,
            revoke: at(SERVICE_NOW_REVOKE_PATH)?,
            issuer: None,
        })
    }
}

/// Which token request failed, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenGrant {
    AuthorizationCode,
    Password,
    ClientCredentials,
    Refresh,
    Revoke,
}

impl std::fmt::Display for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::AuthorizationCode => "authorization code",
            Self::Password => "password",
            Self::ClientCredentials => "client credentials",
            Self::Refresh => "refresh",
            Self::Revoke => "revocation",
        })
    }
}

/// The tokens a grant produced.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: AccessToken,
    /// Absent for client credentials and ServiceNow public clients; a refresh answer without
    /// one means the old refresh token stays valid.
    pub refresh_token: Option<RefreshToken>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
}

/// Whether a token expiring at `expires_at` should be refreshed at `now` ([`REFRESH_MARGIN`]).
pub fn refresh_due(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    let margin = chrono::Duration::from_std(REFRESH_MARGIN).unwrap_or_default();
    expires_at.is_some_and(|at| at - margin <= now)
}

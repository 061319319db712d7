//! The admin signs in through the browser (servicenow.md items 35 and 36): the authorization
//! code flow with PKCE through an OAuth application of Snowlink's own, on the instance's own
//! login page, where SSO and MFA work and Basic auth restrictions do not apply. The token is
//! the session's only: kept in memory, never stored.

use std::future::Future;

use super::FlowError;
use super::connect::{BrowserSignIn, browser_tokens};
use crate::checks::AdminCredentials;
use crate::instance::InstanceUrl;
use crate::oauth::{OAuthClient, OAuthEndpoints};
use crate::secrets::ClientSecret;

/// Signs the admin in to `instance` through the browser with Snowlink's OAuth application
/// `client_id`: a public client with PKCE, or one with `client_secret` where the instance's
/// release does not take public clients.
pub async fn admin_sign_in(
    instance: &InstanceUrl,
    client_id: &str,
    client_secret: Option<ClientSecret>,
    browser: &BrowserSignIn,
    cancel: impl Future<Output = ()> + Send,
) -> Result<AdminCredentials, FlowError> {
    let client_id = client_id.trim();
    if client_id.is_empty() {
        return Err(FlowError::InvalidInput {
            field: crate::errors::InputField::ClientId,
            reason: "The Client ID of Snowlink's OAuth application is required to sign in \
                     through the browser."
                .into(),
        });
    }
    let endpoints = OAuthEndpoints::service_now(instance)?;
    let client = OAuthClient::new(endpoints, client_id, client_secret)?;
    let tokens = browser_tokens(client, browser, cancel).await?;
    Ok(AdminCredentials::Browser {
        access_token: tokens.access_token,
        expires_at: tokens.expires_at,
    })
}

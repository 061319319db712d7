//! Keeping a connection's tokens usable: storing what a grant returned in the secret store, and
//! handing out an access token that is valid for a while yet, refreshing it (or running the
//! connection's grant again) shortly before it expires. A refresh token the server no longer
//! accepts moves the connection to "re-link needed" once, with no retry loop.

use chrono::{DateTime, Utc};

use super::{OAuthClient, OAuthError, TokenSet, refresh_due};
use crate::connections::{Connection, ConnectionState};
use crate::grants::GrantKind;
use crate::ids::ConnectionId;
use crate::secrets::{AccessToken, Password, RefreshToken, SecretStore, SecretStoreExt};

impl TokenSet {
    /// Whether these tokens carry a new refresh token, one that starts a new lifespan:
    /// ServiceNow hands back the same refresh token on refresh, with its first end.
    pub fn renews(&self, previous: Option<&RefreshToken>) -> bool {
        match (&self.refresh_token, previous) {
            (Some(new), Some(old)) => new.expose() != old.expose(),
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Stores the tokens for `connection`. A refresh answer without a refresh token leaves the
    /// stored one in place, since the old one stays valid then.
    pub async fn save(
        &self,
        store: &dyn SecretStore,
        connection: &ConnectionId,
    ) -> Result<(), OAuthError> {
        // Each keyring write opens its own encrypted Secret Service session; writing both
        // tokens at once halves the wait after a sign-in.
        let refresh = async {
            match &self.refresh_token {
                Some(refresh) => store.save(connection, refresh).await,
                None => Ok(()),
            }
        };
        let (access, refresh) = tokio::join!(store.save(connection, &self.access_token), refresh);
        access?;
        refresh?;
        Ok(())
    }
}

/// An access token for `connection` valid beyond the refresh margin: the stored one while it
/// is, otherwise a new one from the refresh token or, for the password and client-credentials
/// grants, from the grant itself. New tokens are stored and `connection.status` records their
/// expiry; a dead refresh token of an authorization-code connection sets its state to
/// [`ConnectionState::RelinkNeeded`] and returns [`OAuthError::RelinkNeeded`]. The caller saves
/// `connection` afterwards.
pub async fn access_token_for(
    client: &OAuthClient,
    store: &dyn SecretStore,
    connection: &mut Connection,
    scopes: &[String],
    now: DateTime<Utc>,
) -> Result<AccessToken, OAuthError> {
    let id = connection.id.clone();
    if matches!(connection.grant, GrantKind::Basic | GrantKind::ApiKey) {
        return Err(OAuthError::NotOAuth {
            connection: id.to_string(),
            grant: connection.grant,
        });
    }
    let expires_at = connection.status.token_expires_at;
    // An unknown expiry counts as expired: renewing costs one request, a stale token a failure.
    if expires_at.is_some()
        && !refresh_due(expires_at, now)
        && let Some(token) = store.load::<AccessToken>(&id).await?
    {
        return Ok(token);
    }

    let previous = store.load::<RefreshToken>(&id).await?;
    let refreshed = match &previous {
        Some(refresh) => match client.refresh(refresh).await {
            Err(OAuthError::RelinkNeeded) => None,
            other => Some(other?),
        },
        None => None,
    };
    let tokens = match (refreshed, connection.grant) {
        (Some(tokens), _) => tokens,
        // Without a working refresh token, the grants that hold their own credentials simply
        // run again; only a browser sign-in needs the person.
        (None, GrantKind::ClientCredentials) => client.client_credentials(scopes).await?,
        (None, GrantKind::Password) => {
            let username = connection.username.clone().unwrap_or_default();
            let password = store
                .load::<Password>(&id)
                .await?
                .ok_or_else(|| OAuthError::MissingSecret("password", id.to_string()))?;
            client.password_grant(&username, &password, scopes).await?
        }
        (None, _) => {
            connection.status.state = ConnectionState::RelinkNeeded;
            connection.status.reason = Some("The saved sign-in has expired or was revoked.".into());
            connection.status.last_checked = Some(now);
            return Err(OAuthError::RelinkNeeded);
        }
    };
    tokens.save(store, &id).await?;
    connection.status.token_expires_at = tokens.expires_at;
    if tokens.renews(previous.as_ref()) {
        connection.status.refresh_issued_at = Some(now);
    }
    Ok(tokens.access_token)
}

//! The connection flows the CLI and the app share: connect (create or update a connection and
//! sign in with its grant), register a connection for end users to link later, link and unlink
//! an end user's own account, remove a connection, and check one (refreshing its token first).
//! Every flow reads the connections file before it signs in or stores anything, probes the
//! keyring before it asks the instance for tokens, stores secrets before it writes the file,
//! and never writes a secret anywhere else (see [`steps`] for the single steps).

mod admin;
mod admin_memory;
mod connect;
mod edit;
mod error;
mod progress;

use std::future::Future;
use std::sync::Arc;

use chrono::Utc;

use crate::api::{ApiError, Auth, SnowClient};
use crate::checks::count_linked;
use crate::connections::{Connection, ConnectionState, ConnectionStatus, ConnectionStore};
use crate::errors::InputField;
use crate::grants::GrantKind;
use crate::oauth::{OAuthError, access_token_for};
use crate::profiles::LinkSpec;
use crate::secrets::{
    ApiKey, ClientSecret, Password, RefreshToken, SecretKind, SecretStore, SecretStoreExt,
};
use crate::views::ConnectionView;

pub use admin::{AdminApp, AdminSession, Forgotten, RememberedAdminView, Remembering};
pub use connect::{BrowserSignIn, ConnectRequest, Draft, ShowUrl, SignedIn, identify};
pub use edit::{Changes, EditField, EditView};
pub use error::FlowError;
pub use progress::{Progress, TestEvent, TestStatus, TestStep};

/// Secrets typed or read from the environment for this sign-in.
#[derive(Debug, Clone, Default)]
pub struct ProvidedSecrets {
    pub client_secret: Option<ClientSecret>,
    pub password: Option<Password>,
    pub api_key: Option<ApiKey>,
}

impl ProvidedSecrets {
    /// Sets the secret `field` names; other fields are not secrets and are ignored.
    pub fn set(&mut self, field: InputField, value: String) {
        match field {
            InputField::ClientSecret => self.client_secret = Some(ClientSecret::new(value)),
            InputField::Password => self.password = Some(Password::new(value)),
            InputField::ApiKey => self.api_key = Some(ApiKey::new(value)),
            _ => {}
        }
    }

    pub fn has(&self, field: InputField) -> bool {
        match field {
            InputField::ClientSecret => self.client_secret.is_some(),
            InputField::Password => self.password.is_some(),
            InputField::ApiKey => self.api_key.is_some(),
            _ => false,
        }
    }
}

/// The flows, over a connections file and a secret store.
#[derive(Clone)]
pub struct Flows {
    connections: ConnectionStore,
    secrets: Arc<dyn SecretStore>,
}

impl Flows {
    pub fn new(connections: ConnectionStore, secrets: Arc<dyn SecretStore>) -> Self {
        Self {
            connections,
            secrets,
        }
    }

    /// All connections, as last saved.
    pub fn list(&self) -> Result<Vec<Connection>, FlowError> {
        Ok(self.connections.load()?)
    }

    /// All connections as the front ends show them.
    pub fn views(&self) -> Result<Vec<ConnectionView>, FlowError> {
        Ok(self.list()?.iter().map(ConnectionView::of).collect())
    }

    /// The connection called `name` (or with that id), or the only one when `name` is `None`.
    pub fn find(&self, name: Option<&str>) -> Result<Connection, FlowError> {
        find_in(&self.connections.load()?, name)
    }

    /// Creates or updates the connection `request.name`, signs in with its grant, identifies
    /// the user, then stores the secrets and the connection.
    pub async fn connect(
        &self,
        request: ConnectRequest,
        provided: ProvidedSecrets,
        browser: &BrowserSignIn,
        cancel: impl Future<Output = ()> + Send,
    ) -> Result<Connection, FlowError> {
        let draft = self.draft(&request, &provided)?;
        let signed_in = self
            .sign_in(&draft.connection, &provided, browser, cancel)
            .await?;
        let identity = identify(&draft.connection.instance, &signed_in.auth).await?;
        self.save(draft, &provided, signed_in, identity).await
    }

    /// Saves a browser sign-in (auth-code) connection without signing in, for end users to
    /// link their own accounts later ("Link your ServiceNow account").
    pub async fn register(
        &self,
        request: ConnectRequest,
        provided: ProvidedSecrets,
    ) -> Result<Connection, FlowError> {
        if request.grant != GrantKind::AuthCode {
            return Err(FlowError::NotLinkable {
                name: request.name,
                grant: request.grant.as_str(),
            });
        }
        let Draft { mut connection, .. } = self.draft(&request, &provided)?;
        self.secrets.probe().await?;
        self.store_secrets(&connection.id, &provided, None).await?;
        connection.status.state = ConnectionState::NotLinked;
        self.connections.upsert(connection.clone())?;
        Ok(connection)
    }

    /// Links the end user's own account to an auth-code connection: browser sign-in as that
    /// user, identity, tokens in the keyring.
    pub async fn link(
        &self,
        name: Option<&str>,
        browser: &BrowserSignIn,
        cancel: impl Future<Output = ()> + Send,
    ) -> Result<Connection, FlowError> {
        let connection = self.find(name)?;
        if connection.grant != GrantKind::AuthCode {
            return Err(FlowError::NotLinkable {
                name: connection.display_name,
                grant: connection.grant.as_str(),
            });
        }
        let stored = ProvidedSecrets {
            client_secret: self.secrets.load::<ClientSecret>(&connection.id).await?,
            ..ProvidedSecrets::default()
        };
        let signed_in = self.sign_in(&connection, &stored, browser, cancel).await?;
        let identity = identify(&connection.instance, &signed_in.auth).await?;
        let draft = Draft {
            connection,
            replaces: true,
        };
        self.save(draft, &stored, signed_in, identity).await
    }

    /// Unlinks: revokes the refresh token on the instance (best effort: an unreachable
    /// instance must not keep the tokens on this machine), deletes the tokens from the keyring
    /// and forgets the identity. Returns the revocation failure, if any, for the user to see.
    pub async fn unlink(
        &self,
        name: Option<&str>,
    ) -> Result<(Connection, Option<OAuthError>), FlowError> {
        let mut connection = self.find(name)?;
        let revoke_error = self.revoke_tokens(&connection).await?;
        self.secrets
            .delete(&connection.id, SecretKind::RefreshToken)
            .await?;
        self.secrets
            .delete(&connection.id, SecretKind::AccessToken)
            .await?;
        connection.linked_identity = None;
        connection.status = ConnectionStatus {
            state: if connection.grant == GrantKind::AuthCode {
                ConnectionState::NotLinked
            } else {
                ConnectionState::Disconnected
            },
            last_checked: Some(Utc::now()),
            reason: Some("Unlinked.".into()),
            ..ConnectionStatus::default()
        };
        self.connections.upsert(connection.clone())?;
        Ok((connection, revoke_error))
    }

    /// Removes a connection: revokes its tokens (best effort), deletes every secret it had,
    /// then its entry in the file.
    pub async fn remove(&self, name: &str) -> Result<(Connection, Option<OAuthError>), FlowError> {
        let connection = self.find(Some(name))?;
        let revoke_error = self.revoke_tokens(&connection).await?;
        self.secrets.delete_all(&connection.id).await?;
        self.connections.remove(&connection.id)?;
        Ok((connection, revoke_error))
    }

    /// Revokes the connection's refresh token, if it has one; the failure is returned, not
    /// raised, so the local clean-up goes on.
    async fn revoke_tokens(
        &self,
        connection: &Connection,
    ) -> Result<Option<OAuthError>, FlowError> {
        let Some(refresh) = self.secrets.load::<RefreshToken>(&connection.id).await? else {
            return Ok(None);
        };
        let secret = self.secrets.load::<ClientSecret>(&connection.id).await?;
        let client = connect::oauth_client(connection, secret)?;
        Ok(client.revoke(&refresh).await.err())
    }

    /// Checks a connection live: refreshes its token when due, asks the instance who the
    /// connection is, and saves the resulting status.
    pub async fn check(&self, connection: &Connection) -> Result<Connection, FlowError> {
        let mut connection = connection.clone();
        if connection.awaits_link() {
            // Nothing to check until someone links an account; not a failure.
            connection.status = ConnectionStatus {
                state: ConnectionState::NotLinked,
                last_checked: Some(Utc::now()),
                ..ConnectionStatus::default()
            };
            self.connections.upsert(connection.clone())?;
            return Ok(connection);
        }
        let mut outcome = self.identify_now(&mut connection).await;
        if matches!(outcome, Err(FlowError::Api(ApiError::NotAuthenticated(_))))
            && connection.grant.is_oauth()
        {
            // The instance no longer takes the stored access token (revoked, or the user's
            // password changed): forget its expiry so the next attempt refreshes it, once.
            connection.status.token_expires_at = None;
            outcome = self.identify_now(&mut connection).await;
        }
        connection.status.last_checked = Some(Utc::now());
        match outcome {
            Ok((identity, auth)) => match link_spec(self.connections.path(), &connection) {
                Ok(spec) => {
                    // The counts are extra: an instance that refuses them leaves the connection
                    // connected, with no counts shown.
                    connection.status.linked =
                        match SnowClient::new(connection.instance.clone(), auth) {
                            Ok(client) => {
                                count_linked(&client, &spec, &identity.user_name).await.ok()
                            }
                            Err(_) => None,
                        };
                    connection.linked_identity = Some(identity);
                    connection.status.state = ConnectionState::Connected;
                    connection.status.reason = None;
                }
                Err(problem) => {
                    // It signs in, but what the integration needs cannot be checked.
                    connection.status.reason = Some(format!(
                        "Signed in as {}, but what the integration needs was not checked: {problem} {}",
                        identity.user_name,
                        problem.hint()
                    ));
                    connection.status.linked = None;
                    connection.linked_identity = Some(identity);
                    connection.status.state = ConnectionState::Degraded;
                }
            },
            Err(err) => {
                connection.status.state = state_for(&err, connection.grant);
                connection.status.reason = Some(format!("{err} {}", err.hint()));
                if connection.status.state == ConnectionState::RelinkNeeded {
                    connection.status.token_expires_at = None;
                }
            }
        }
        self.connections.upsert(connection.clone())?;
        Ok(connection)
    }

    /// A saved connection as a diagnosis target, expecting what its profile set up.
    pub async fn diagnosis_target(
        &self,
        connection: &Connection,
    ) -> Result<crate::checks::Target, crate::checks::TargetError> {
        Ok(
            crate::checks::Target::of_connection(connection, self.secrets.clone())
                .await?
                .expect_profile(
                    &crate::profiles::Catalog::beside(self.connections.path()),
                    &connection.profile_id,
                ),
        )
    }

    /// Where the connections are kept (the config folder's file).
    pub fn config_file(&self) -> &std::path::Path {
        self.connections.path()
    }

    /// Who the connection is now, with a fresh token (and that token); keeps the new token's
    /// expiry in `connection`.
    async fn identify_now(
        &self,
        connection: &mut Connection,
    ) -> Result<(crate::api::LinkedIdentity, Auth), FlowError> {
        let auth = self.authorized(connection).await?;
        Ok((identify(&connection.instance, &auth).await?, auth))
    }

    /// Credentials to call the API with, refreshing or re-requesting the token when due.
    async fn authorized(&self, connection: &mut Connection) -> Result<Auth, FlowError> {
        let id = connection.id.clone();
        match connection.grant {
            GrantKind::Basic | GrantKind::ApiKey => {
                let (field, password) = match connection.grant {
                    GrantKind::ApiKey => (
                        InputField::ApiKey,
                        self.secrets
                            .load::<ApiKey>(&id)
                            .await?
                            .map(|k| Password::new(k.expose())),
                    ),
                    _ => (
                        InputField::Password,
                        self.secrets.load::<Password>(&id).await?,
                    ),
                };
                let password = password.ok_or_else(|| FlowError::MissingSecret {
                    field,
                    connection: connection.display_name.clone(),
                })?;
                let username = connection.username.clone().unwrap_or_default();
                Ok(Auth::Basic { username, password })
            }
            GrantKind::AuthCode | GrantKind::Password | GrantKind::ClientCredentials => {
                let secret = self.secrets.load::<ClientSecret>(&id).await?;
                let client = connect::oauth_client(connection, secret)?;
                let token =
                    access_token_for(&client, self.secrets.as_ref(), connection, &[], Utc::now())
                        .await?;
                Ok(Auth::Bearer(token))
            }
        }
    }
}

/// [`Flows::find`] among connections already read.
fn find_in(all: &[Connection], name: Option<&str>) -> Result<Connection, FlowError> {
    match (name, all) {
        (Some(name), _) => all
            .iter()
            .find(|c| c.display_name == name || c.id.as_str() == name)
            .cloned()
            .ok_or_else(|| FlowError::UnknownConnection(crate::text::untrusted(name, 100))),
        (None, []) => Err(FlowError::NoConnections),
        (None, [only]) => Ok(only.clone()),
        (None, _) => Err(FlowError::AmbiguousConnection),
    }
}

/// What counts as linked for a connection: its profile's definition, or the records its user
/// made (a connection set up by hand); why not, when its profile cannot be read.
pub fn link_spec(
    config_file: &std::path::Path,
    connection: &Connection,
) -> Result<LinkSpec, crate::profiles::LookupError> {
    Ok(crate::profiles::Catalog::beside(config_file)
        .check_params(&connection.profile_id)?
        .links
        .unwrap_or_else(LinkSpec::created_by_connection))
}

/// The state a failed check leaves a connection in.
fn state_for(err: &FlowError, grant: GrantKind) -> ConnectionState {
    match err {
        FlowError::OAuth(OAuthError::RelinkNeeded) => ConnectionState::RelinkNeeded,
        // A browser sign-in's token refused after a refresh: only the person can sign in again.
        FlowError::Api(ApiError::NotAuthenticated(_)) if grant == GrantKind::AuthCode => {
            ConnectionState::RelinkNeeded
        }
        FlowError::Api(
            ApiError::Forbidden { .. }
            | ApiError::InvalidTable { .. }
            | ApiError::PathNotFound { .. }
            | ApiError::NotFound { .. },
        ) => ConnectionState::Degraded,
        _ => ConnectionState::Disconnected,
    }
}

//! The connection flows the CLI and the app share: connect (create or update a connection and
//! sign in with its grant), link and unlink an end user's own account, and check a connection
//! (refreshing its token first). Each flow signs in before it stores anything, stores secrets in
//! the keyring before it writes the connections file, and never writes a secret anywhere else.
//! A refresh token that stopped working moves the connection to "re-link needed" instead of
//! failing over and over.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::api::{ApiError, Auth, SnowClient, TableQuery, field};
use crate::browser::BrowserUrl;
use crate::connections::{
    Connection, ConnectionId, ConnectionState, ConnectionStatus, ConnectionStore, ConnectionsError,
    GrantKind, LinkedIdentity,
};
use crate::instance::InstanceUrl;
use crate::oauth::{
    Browser, BrowserError, LoopbackListener, OAuthClient, OAuthEndpoints, OAuthError, TokenSet,
    access_token_for,
};
use crate::secrets::{
    ApiKey, ClientSecret, Password, RefreshToken, SecretError, SecretStore, SecretStoreExt,
};

/// The scripted REST endpoint the integration's update set installs to say who a token is.
pub const USERINFO_PATH: &str = "/api/snc/oauth_userinfo";

/// What to connect: everything but the secrets.
#[derive(Debug, Clone)]
pub struct ConnectRequest {
    /// The connection's display name; connecting again with the same name updates it.
    pub name: String,
    pub instance: InstanceUrl,
    pub grant: GrantKind,
    pub client_id: Option<String>,
    pub username: Option<String>,
    pub profile_id: String,
}

/// Secrets typed or read from the environment for this sign-in.
#[derive(Debug, Clone, Default)]
pub struct ProvidedSecrets {
    pub client_secret: Option<ClientSecret>,
    pub password: Option<Password>,
    pub api_key: Option<ApiKey>,
}

/// How a browser sign-in is run: the loopback ports the admin registered, the browser (none
/// for `--no-browser`), how long to wait, and where to show the URL for manual copy.
pub struct BrowserSignIn<'a> {
    pub ports: &'a [u16],
    pub browser: Option<&'a dyn Browser>,
    pub wait: Duration,
    /// Called once with the authorize URL, and the browser's failure if it could not open.
    pub show_url: &'a (dyn Fn(&BrowserUrl, Option<&BrowserError>) + Sync),
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{field} is required for the {grant} sign-in.")]
    MissingInput {
        field: &'static str,
        grant: &'static str,
        fix: &'static str,
    },
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
    #[error(transparent)]
    Connections(#[from] ConnectionsError),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    #[error("{0}")]
    Api(#[from] ApiError),
}

impl EngineError {
    pub fn hint(&self) -> String {
        match self {
            Self::MissingInput { fix, .. } => (*fix).to_owned(),
            Self::UnknownConnection(_) => "Run `snowlink status` to list the connections.".into(),
            Self::AmbiguousConnection => "Pass --connection NAME (see `snowlink status`).".into(),
            Self::NoConnections => {
                "Create one with `snowlink connect`, or ask your admin for the connection details."
                    .into()
            }
            Self::NotLinkable { .. } => {
                "Ask the admin for a connection that uses browser sign-in.".into()
            }
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
            Self::Secrets(SecretError::Timeout(_) | SecretError::Locked) => true,
            _ => false,
        }
    }
}

pub fn grant_name(grant: GrantKind) -> &'static str {
    match grant {
        GrantKind::AuthCode => "auth-code",
        GrantKind::Password => "password",
        GrantKind::ClientCredentials => "client-credentials",
        GrantKind::Basic => "basic",
        GrantKind::ApiKey => "api-key",
    }
}

/// What a sign-in produced: how to call the API, and the token's expiry if any.
struct SignedIn {
    auth: Auth,
    tokens: Option<TokenSet>,
}

/// The flows, over a connections file and a secret store.
#[derive(Clone)]
pub struct Engine {
    connections: ConnectionStore,
    secrets: Arc<dyn SecretStore>,
}

impl Engine {
    pub fn new(connections: ConnectionStore, secrets: Arc<dyn SecretStore>) -> Self {
        Self {
            connections,
            secrets,
        }
    }

    /// All connections, as last saved.
    pub fn list(&self) -> Result<Vec<Connection>, EngineError> {
        Ok(self.connections.load()?)
    }

    /// The connection called `name`, or the only one when `name` is `None`.
    pub fn find(&self, name: Option<&str>) -> Result<Connection, EngineError> {
        let all = self.connections.load()?;
        match name {
            Some(name) => all
                .into_iter()
                .find(|c| c.display_name == name || c.id.as_str() == name)
                .ok_or_else(|| EngineError::UnknownConnection(name.to_owned())),
            None if all.len() == 1 => Ok(all
                .into_iter()
                .next()
                .ok_or(EngineError::AmbiguousConnection)?),
            None if all.is_empty() => Err(EngineError::NoConnections),
            None => Err(EngineError::AmbiguousConnection),
        }
    }

    /// Creates or updates the connection `request.name`, signs in with its grant, identifies
    /// the user, then stores the secrets and the connection.
    pub async fn connect(
        &self,
        request: ConnectRequest,
        provided: ProvidedSecrets,
        browser: &BrowserSignIn<'_>,
        cancel: impl Future<Output = ()>,
    ) -> Result<Connection, EngineError> {
        let (connection, existing) = self.draft(&request, &provided)?;
        // Connecting again replaces the old secrets; the ones just typed are kept.
        self.sign_in_and_save(connection, &provided, &provided, existing, browser, cancel)
            .await
    }

    /// Saves a browser sign-in (auth-code) connection without signing in, for end users to
    /// link their own accounts later ("Link your ServiceNow account").
    pub async fn register(
        &self,
        request: ConnectRequest,
        provided: ProvidedSecrets,
    ) -> Result<Connection, EngineError> {
        if request.grant != GrantKind::AuthCode {
            return Err(EngineError::NotLinkable {
                name: request.name,
                grant: grant_name(request.grant),
            });
        }
        let (connection, existing) = self.draft(&request, &provided)?;
        if existing {
            self.secrets.delete_all(&connection.id).await?;
        }
        self.store_secrets(&connection.id, &provided, None).await?;
        self.connections.upsert(connection.clone())?;
        Ok(connection)
    }

    /// The connection `request` describes, keeping the id of an existing one of that name.
    fn draft(
        &self,
        request: &ConnectRequest,
        provided: &ProvidedSecrets,
    ) -> Result<(Connection, bool), EngineError> {
        require_inputs(request, provided)?;
        let existing = self.find(Some(&request.name)).ok();
        let id = match &existing {
            Some(connection) => connection.id.clone(),
            None => ConnectionId::new_random()?,
        };
        let connection = Connection {
            id,
            display_name: request.name.clone(),
            instance: request.instance.clone(),
            profile_id: request.profile_id.clone(),
            grant: request.grant,
            client_id: request.client_id.clone(),
            username: request.username.clone(),
            linked_identity: None,
            status: ConnectionStatus::default(),
        };
        Ok((connection, existing.is_some()))
    }

    /// Links the end user's own account to an auth-code connection: browser sign-in as that
    /// user, identity, tokens in the keyring.
    pub async fn link(
        &self,
        name: Option<&str>,
        browser: &BrowserSignIn<'_>,
        cancel: impl Future<Output = ()>,
    ) -> Result<Connection, EngineError> {
        let connection = self.find(name)?;
        if connection.grant != GrantKind::AuthCode {
            return Err(EngineError::NotLinkable {
                name: connection.display_name,
                grant: grant_name(connection.grant),
            });
        }
        let stored = ProvidedSecrets {
            client_secret: self.secrets.load::<ClientSecret>(&connection.id).await?,
            ..ProvidedSecrets::default()
        };
        // Only the new tokens are stored: the client secret is already in the keyring.
        self.sign_in_and_save(
            connection,
            &stored,
            &ProvidedSecrets::default(),
            false,
            browser,
            cancel,
        )
        .await
    }

    /// Signs in with `sign_in_with`, identifies the user, then stores `to_store` and the tokens
    /// (after deleting the old secrets when `replace_secrets`), and finally the connection:
    /// if the keyring refuses, no connection that cannot work is saved.
    async fn sign_in_and_save(
        &self,
        mut connection: Connection,
        sign_in_with: &ProvidedSecrets,
        to_store: &ProvidedSecrets,
        replace_secrets: bool,
        browser: &BrowserSignIn<'_>,
        cancel: impl Future<Output = ()>,
    ) -> Result<Connection, EngineError> {
        let signed_in = self
            .sign_in(&connection, sign_in_with, browser, cancel)
            .await?;
        let identity = identify(&connection, &signed_in.auth).await?;
        if replace_secrets {
            self.secrets.delete_all(&connection.id).await?;
        }
        self.store_secrets(&connection.id, to_store, signed_in.tokens.as_ref())
            .await?;
        connection.linked_identity = Some(identity);
        connection.status = connected(signed_in.tokens.as_ref());
        self.connections.upsert(connection.clone())?;
        Ok(connection)
    }

    /// Unlinks: revokes the refresh token on the instance (best effort: an unreachable
    /// instance must not keep the tokens on this machine), deletes the tokens from the keyring
    /// and forgets the identity. Returns the revocation failure, if any, for the user to see.
    pub async fn unlink(
        &self,
        name: Option<&str>,
    ) -> Result<(Connection, Option<OAuthError>), EngineError> {
        let mut connection = self.find(name)?;
        let mut revoke_error = None;
        if let Some(refresh) = self.secrets.load::<RefreshToken>(&connection.id).await? {
            let client = self.oauth_client(&connection).await?;
            revoke_error = client.revoke(&refresh).await.err();
        }
        self.secrets
            .delete(&connection.id, crate::secrets::SecretKind::RefreshToken)
            .await?;
        self.secrets
            .delete(&connection.id, crate::secrets::SecretKind::AccessToken)
            .await?;
        connection.linked_identity = None;
        connection.status = ConnectionStatus {
            state: ConnectionState::Disconnected,
            last_checked: Some(Utc::now()),
            token_expires_at: None,
            reason: Some("Unlinked.".into()),
        };
        self.connections.upsert(connection.clone())?;
        Ok((connection, revoke_error))
    }

    /// Removes a connection and every secret it had.
    pub async fn remove(&self, name: &str) -> Result<Connection, EngineError> {
        let connection = self.find(Some(name))?;
        self.secrets.delete_all(&connection.id).await?;
        self.connections.remove(&connection.id)?;
        Ok(connection)
    }

    /// Checks a connection live: refreshes its token when due, asks the instance who the
    /// connection is, and saves the resulting status.
    pub async fn check(&self, connection: &Connection) -> Result<Connection, EngineError> {
        let mut connection = connection.clone();
        if connection.grant == GrantKind::AuthCode && connection.linked_identity.is_none() {
            // Nothing to check until someone links an account; not a failure.
            connection.status = ConnectionStatus {
                state: ConnectionState::Disconnected,
                last_checked: Some(Utc::now()),
                token_expires_at: None,
                reason: Some("No account is linked yet.".into()),
            };
            self.connections.upsert(connection.clone())?;
            return Ok(connection);
        }
        let mut outcome = self.identify_now(&connection).await;
        if matches!(
            outcome,
            Err(EngineError::Api(ApiError::NotAuthenticated(_)))
        ) && connection.grant.is_oauth()
        {
            // The instance no longer takes the stored access token (revoked, or the user's
            // password changed): forget its expiry so the next attempt refreshes it, once.
            connection.status.token_expires_at = None;
            outcome = self.identify_now(&connection).await;
        }
        let outcome = outcome.map(|(identity, expires)| {
            if connection.grant != GrantKind::AuthCode || connection.linked_identity.is_some() {
                connection.linked_identity = Some(identity);
            }
            expires
        });
        connection.status = match outcome {
            Ok(expires) => ConnectionStatus {
                state: ConnectionState::Connected,
                last_checked: Some(Utc::now()),
                token_expires_at: expires,
                reason: None,
            },
            Err(err) => ConnectionStatus {
                state: state_for(&err),
                last_checked: Some(Utc::now()),
                token_expires_at: None,
                reason: Some(format!("{err} {}", err.hint())),
            },
        };
        self.connections.upsert(connection.clone())?;
        Ok(connection)
    }

    async fn identify_now(
        &self,
        connection: &Connection,
    ) -> Result<(LinkedIdentity, Option<chrono::DateTime<Utc>>), EngineError> {
        let (auth, expires) = self.authorized(connection).await?;
        Ok((identify(connection, &auth).await?, expires))
    }

    /// A client for the connection's API calls, with a fresh token.
    pub async fn client(&self, connection: &Connection) -> Result<SnowClient, EngineError> {
        let (auth, _) = self.authorized(connection).await?;
        Ok(SnowClient::new(connection.instance.clone(), auth)?)
    }

    /// Credentials to call the API with, refreshing or re-requesting the token when due.
    async fn authorized(
        &self,
        connection: &Connection,
    ) -> Result<(Auth, Option<chrono::DateTime<Utc>>), EngineError> {
        let id = &connection.id;
        match connection.grant {
            GrantKind::Basic | GrantKind::ApiKey => {
                let password = match connection.grant {
                    GrantKind::ApiKey => self
                        .secrets
                        .load::<ApiKey>(id)
                        .await?
                        .map(|k| Password::new(k.expose())),
                    _ => self.secrets.load::<Password>(id).await?,
                };
                let password = password.ok_or(OAuthError::RelinkNeeded)?;
                let username = connection.username.clone().unwrap_or_default();
                Ok((Auth::Basic { username, password }, None))
            }
            GrantKind::AuthCode | GrantKind::Password | GrantKind::ClientCredentials => {
                let client = self.oauth_client(connection).await?;
                let mut updated = connection.clone();
                let token = access_token_for(
                    &client,
                    self.secrets.as_ref(),
                    &mut updated,
                    &[],
                    Utc::now(),
                )
                .await;
                if updated.status != connection.status {
                    self.connections.upsert(updated.clone())?;
                }
                Ok((Auth::Bearer(token?), updated.status.token_expires_at))
            }
        }
    }

    /// The connection's OAuth client, with the client secret from the keyring.
    async fn oauth_client(&self, connection: &Connection) -> Result<OAuthClient, EngineError> {
        let secret = self.secrets.load::<ClientSecret>(&connection.id).await?;
        oauth_client(connection, secret)
    }

    async fn sign_in(
        &self,
        connection: &Connection,
        provided: &ProvidedSecrets,
        browser: &BrowserSignIn<'_>,
        cancel: impl Future<Output = ()>,
    ) -> Result<SignedIn, EngineError> {
        let username = connection.username.clone().unwrap_or_default();
        let oauth = || oauth_client(connection, provided.client_secret.clone());
        let tokens = match connection.grant {
            GrantKind::Basic | GrantKind::ApiKey => {
                // An API key travels exactly like a password (Harness-style connections).
                let secret = match connection.grant {
                    GrantKind::ApiKey => provided.api_key.as_ref().map(|k| k.expose()),
                    _ => provided.password.as_ref().map(|p| p.expose()),
                };
                let password = Password::new(secret.unwrap_or_default());
                return Ok(SignedIn {
                    auth: Auth::Basic { username, password },
                    tokens: None,
                });
            }
            GrantKind::Password => {
                let password = provided
                    .password
                    .clone()
                    .unwrap_or_else(|| Password::new(""));
                oauth()?.password_grant(&username, &password, &[]).await?
            }
            GrantKind::ClientCredentials => oauth()?.client_credentials(&[]).await?,
            GrantKind::AuthCode => {
                let listener = LoopbackListener::bind(browser.ports)
                    .await
                    .map_err(OAuthError::from)?;
                let session = oauth()?.begin_auth_code(listener, &["useraccount".to_owned()])?;
                let opened = browser.browser.map(|b| session.open_in(b));
                (browser.show_url)(
                    session.authorize_url(),
                    opened.as_ref().and_then(|r| r.as_ref().err()),
                );
                session.finish(browser.wait, cancel).await?
            }
        };
        Ok(SignedIn {
            auth: Auth::Bearer(tokens.access_token.clone()),
            tokens: Some(tokens),
        })
    }

    async fn store_secrets(
        &self,
        id: &ConnectionId,
        provided: &ProvidedSecrets,
        tokens: Option<&TokenSet>,
    ) -> Result<(), EngineError> {
        if let Some(secret) = &provided.client_secret {
            self.secrets.save(id, secret).await?;
        }
        if let Some(key) = &provided.api_key {
            self.secrets.save(id, key).await?;
        }
        if let Some(password) = &provided.password {
            // Basic auth sends it on every call; the password grant runs again with it when
            // its refresh token is gone, so an unattended integration keeps working.
            self.secrets.save(id, password).await?;
        }
        if let Some(tokens) = tokens {
            tokens.save(self.secrets.as_ref(), id).await?;
        }
        Ok(())
    }
}

fn oauth_client(
    connection: &Connection,
    secret: Option<ClientSecret>,
) -> Result<OAuthClient, EngineError> {
    let endpoints = OAuthEndpoints::service_now(&connection.instance)?;
    let client_id = connection.client_id.clone().unwrap_or_default();
    Ok(OAuthClient::new(endpoints, client_id, secret)?)
}

/// Checks that the inputs the grant needs are there, naming the missing one and its fix.
fn require_inputs(request: &ConnectRequest, provided: &ProvidedSecrets) -> Result<(), EngineError> {
    let grant = grant_name(request.grant);
    let missing = |field, fix| Err(EngineError::MissingInput { field, grant, fix });
    let needs_client = matches!(
        request.grant,
        GrantKind::AuthCode | GrantKind::Password | GrantKind::ClientCredentials
    );
    let needs_secret = matches!(
        request.grant,
        GrantKind::Password | GrantKind::ClientCredentials
    );
    let needs_user = matches!(
        request.grant,
        GrantKind::Password | GrantKind::Basic | GrantKind::ApiKey
    );
    if needs_client && request.client_id.as_deref().is_none_or(str::is_empty) {
        return missing(
            "The client ID",
            "Pass --client-id with the Client ID from the Application Registry record.",
        );
    }
    if needs_secret && provided.client_secret.is_none() {
        return missing(
            "The client secret",
            "Type it when asked, or set SNOWLINK_CLIENT_SECRET.",
        );
    }
    if needs_user && request.username.as_deref().is_none_or(str::is_empty) {
        return missing(
            "The user name",
            "Pass --username with the ServiceNow user's user_name.",
        );
    }
    if matches!(request.grant, GrantKind::Password | GrantKind::Basic)
        && provided.password.is_none()
    {
        return missing(
            "The password",
            "Type it when asked, or set SNOWLINK_PASSWORD.",
        );
    }
    if request.grant == GrantKind::ApiKey && provided.api_key.is_none() {
        return missing(
            "The API key",
            "Type it when asked, or set SNOWLINK_API_KEY.",
        );
    }
    Ok(())
}

/// Who the credentials act as: the update set's userinfo endpoint when installed, else the
/// Table API's `sys_user` record of the caller.
async fn identify(connection: &Connection, auth: &Auth) -> Result<LinkedIdentity, EngineError> {
    let client = SnowClient::new(connection.instance.clone(), auth.clone())?;
    match client.get_path(USERINFO_PATH).await {
        Ok(info) => {
            let text = |key: &str| {
                info["result"][key]
                    .as_str()
                    .or_else(|| info[key].as_str())
                    .map(str::to_owned)
            };
            if let (Some(user_name), Some(sys_id)) = (text("user_name"), text("sys_id")) {
                return Ok(LinkedIdentity { user_name, sys_id });
            }
        }
        Err(ApiError::PathNotFound { .. } | ApiError::NotFound { .. }) => {}
        Err(err) => return Err(err.into()),
    }
    // ServiceNow evaluates javascript:gs.getUserID() in encoded queries as the caller's sys_id.
    let query = match (&connection.grant, &connection.username) {
        (GrantKind::Basic | GrantKind::ApiKey | GrantKind::Password, Some(user)) => {
            format!("user_name={user}")
        }
        _ => "sys_id=javascript:gs.getUserID()".to_owned(),
    };
    let query = TableQuery {
        query: Some(query),
        fields: vec!["user_name".into(), "sys_id".into()],
        limit: Some(1),
        ..TableQuery::default()
    };
    let page = client.query("sys_user", &query).await?;
    let record = page.records.first().ok_or(ApiError::NotFound {
        what: "the signed-in user".into(),
    })?;
    match (field(record, "user_name"), field(record, "sys_id")) {
        (Some(user_name), Some(sys_id)) => Ok(LinkedIdentity {
            user_name: user_name.into(),
            sys_id: sys_id.into(),
        }),
        _ => Err(ApiError::Malformed {
            detail: "the user record has no user_name or sys_id".into(),
        }
        .into()),
    }
}

fn connected(tokens: Option<&TokenSet>) -> ConnectionStatus {
    ConnectionStatus {
        state: ConnectionState::Connected,
        last_checked: Some(Utc::now()),
        token_expires_at: tokens.and_then(|t| t.expires_at),
        reason: None,
    }
}

/// The state a failed check leaves a connection in.
fn state_for(err: &EngineError) -> ConnectionState {
    match err {
        EngineError::OAuth(OAuthError::RelinkNeeded) => ConnectionState::RelinkNeeded,
        EngineError::Api(ApiError::NotAuthenticated(_)) => ConnectionState::RelinkNeeded,
        EngineError::Api(
            ApiError::Forbidden { .. }
            | ApiError::InvalidTable { .. }
            | ApiError::PathNotFound { .. }
            | ApiError::NotFound { .. },
        ) => ConnectionState::Degraded,
        _ => ConnectionState::Disconnected,
    }
}

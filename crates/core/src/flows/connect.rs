//! The steps a connection is made of, which the wizard can also take one at a time: draft it
//! from what was typed ([`Flows::draft`]), sign in without storing anything
//! ([`Flows::sign_in`]), ask the instance who that is ([`identify`]), and keep it
//! ([`Flows::save`]): secrets to the keyring, then the connection to the file. If keeping
//! fails after a sign-in, the fresh tokens are revoked, so none stays valid unseen.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::{FlowError, Flows, ProvidedSecrets};
use crate::api::LinkedIdentity;
use crate::api::{Auth, SnowClient};
use crate::browser::BrowserUrl;
use crate::connections::{Connection, ConnectionState, ConnectionStatus};
use crate::grants::GrantKind;
use crate::ids::ConnectionId;
use crate::instance::InstanceUrl;
use crate::oauth::{
    Browser, BrowserError, LoopbackListener, OAuthClient, OAuthEndpoints, OAuthError, TokenSet,
    USER_SCOPE,
};
use crate::secrets::{ClientSecret, Password, SecretKind, SecretStoreExt};

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

/// Shows the authorize URL for manual copy, with the browser's failure if it could not open.
pub type ShowUrl = Arc<dyn Fn(&BrowserUrl, Option<&BrowserError>) + Send + Sync>;

/// How a browser sign-in is run: the loopback ports the admin registered, the browser (none
/// for `--no-browser`), how long to wait, and where to show the URL for manual copy.
#[derive(Clone)]
pub struct BrowserSignIn {
    pub ports: Vec<u16>,
    pub browser: Option<Arc<dyn Browser>>,
    pub wait: Duration,
    /// Called once with the authorize URL, and the browser's failure if it could not open.
    pub show_url: ShowUrl,
    /// Addresses the person pastes when their browser cannot reach the loopback port.
    pub paste: Option<crate::oauth::PasteBack>,
}

/// A connection made from a request, checked and ready to sign in; not saved yet.
#[derive(Debug, Clone)]
pub struct Draft {
    pub connection: Connection,
    /// Whether it replaces a saved connection of the same name (whose id it keeps).
    pub replaces: bool,
}

/// What a sign-in produced: how to call the API, and the tokens if the grant has any.
#[derive(Debug)]
pub struct SignedIn {
    pub auth: Auth,
    pub tokens: Option<TokenSet>,
    /// When the refresh token among `tokens` was first issued: now for a new one, earlier for
    /// one a refresh handed back (ServiceNow never extends a refresh token's life).
    pub refresh_since: Option<chrono::DateTime<Utc>>,
}

impl SignedIn {
    /// A sign-in that produced `tokens` just now.
    pub fn with_new(tokens: TokenSet) -> Self {
        Self {
            auth: Auth::Bearer(tokens.access_token.clone()),
            refresh_since: tokens.refresh_token.is_some().then(Utc::now),
            tokens: Some(tokens),
        }
    }
}

impl Flows {
    /// Checks the request has what its grant needs and reads the connections file, so a file
    /// that cannot be read stops the flow before anything is signed in or stored.
    pub fn draft(
        &self,
        request: &ConnectRequest,
        provided: &ProvidedSecrets,
    ) -> Result<Draft, FlowError> {
        require_inputs(request, provided)?;
        let saved = self.connections.load()?;
        let existing = saved.iter().find(|c| c.display_name == request.name);
        let id = match existing {
            Some(connection) => connection.id.clone(),
            None => {
                ConnectionId::new_random().map_err(crate::connections::ConnectionsError::from)?
            }
        };
        Ok(Draft {
            connection: Connection {
                id,
                display_name: request.name.clone(),
                instance: request.instance.clone(),
                profile_id: request.profile_id.clone(),
                grant: request.grant,
                client_id: request.client_id.clone(),
                username: request.username.clone(),
                linked_identity: None,
                status: ConnectionStatus::default(),
            },
            replaces: existing.is_some(),
        })
    }

    /// Signs in to `connection` with `secrets`, storing nothing. The keyring is probed first:
    /// tokens that could not be kept are never requested.
    pub async fn sign_in(
        &self,
        connection: &Connection,
        secrets: &ProvidedSecrets,
        browser: &BrowserSignIn,
        cancel: impl Future<Output = ()> + Send,
    ) -> Result<SignedIn, FlowError> {
        self.secrets.probe().await?;
        if connection.grant != GrantKind::AuthCode {
            return sign_in_unattended(connection, secrets).await;
        }
        let client = oauth_client(connection, secrets.client_secret.clone())?;
        let tokens = browser_tokens(client, browser, cancel).await?;
        Ok(SignedIn::with_new(tokens))
    }

    /// Keeps a signed-in connection: `to_store` and the tokens go to the keyring (replacing
    /// what an earlier connection of that id kept), then the connection to the file. When
    /// either refuses, the fresh tokens are revoked and the secrets just written removed.
    pub async fn save(
        &self,
        draft: Draft,
        to_store: &ProvidedSecrets,
        signed_in: SignedIn,
        identity: LinkedIdentity,
    ) -> Result<Connection, FlowError> {
        let Draft {
            mut connection,
            replaces,
        } = draft;
        let tokens = signed_in.tokens.as_ref();
        connection.linked_identity = Some(identity);
        connection.status = ConnectionStatus {
            state: ConnectionState::Connected,
            last_checked: Some(Utc::now()),
            token_expires_at: tokens.and_then(|t| t.expires_at),
            refresh_issued_at: signed_in.refresh_since,
            reason: None,
            linked: None,
        };
        let kept = async {
            self.store_secrets(&connection.id, to_store, tokens).await?;
            self.connections.upsert(connection.clone())?;
            Ok::<_, FlowError>(())
        };
        match kept.await {
            Ok(()) => Ok(connection),
            Err(err) => {
                if let Some(tokens) = tokens {
                    self.revoke_fresh(&connection, to_store, tokens).await;
                }
                if !replaces {
                    // Nothing refers to a new connection's secrets if its file entry failed.
                    let _ = self.secrets.delete_all(&connection.id).await;
                }
                Err(err)
            }
        }
    }

    /// Writes the given secrets and tokens, then deletes the kinds that were not given (an
    /// earlier grant's leftovers).
    pub(super) async fn store_secrets(
        &self,
        id: &ConnectionId,
        provided: &ProvidedSecrets,
        tokens: Option<&TokenSet>,
    ) -> Result<(), FlowError> {
        let mut written = Vec::new();
        if let Some(secret) = &provided.client_secret {
            self.secrets.save(id, secret).await?;
            written.push(SecretKind::ClientSecret);
        }
        if let Some(key) = &provided.api_key {
            self.secrets.save(id, key).await?;
            written.push(SecretKind::ApiKey);
        }
        if let Some(password) = &provided.password {
            // Basic auth sends it on every call; the password grant runs again with it when
            // its refresh token is gone, so an unattended integration keeps working.
            self.secrets.save(id, password).await?;
            written.push(SecretKind::Password);
        }
        if let Some(tokens) = tokens {
            tokens.save(self.secrets.as_ref(), id).await?;
            written.push(SecretKind::AccessToken);
            if tokens.refresh_token.is_some() {
                written.push(SecretKind::RefreshToken);
            }
        }
        for kind in SecretKind::ALL {
            if !written.contains(&kind) {
                self.secrets.delete(id, kind).await?;
            }
        }
        Ok(())
    }

    /// Best effort: the instance may be gone too; the failure that stopped the save is what
    /// the person needs to hear.
    async fn revoke_fresh(
        &self,
        connection: &Connection,
        secrets: &ProvidedSecrets,
        tokens: &TokenSet,
    ) {
        if let Ok(client) = oauth_client(connection, secrets.client_secret.clone()) {
            let _ = match &tokens.refresh_token {
                Some(refresh) => client.revoke(refresh).await,
                None => client.revoke_access(&tokens.access_token).await,
            };
        }
    }
}

/// Signs in with a grant that needs no person (everything but the browser sign-in), storing
/// nothing.
pub(super) async fn sign_in_unattended(
    connection: &Connection,
    secrets: &ProvidedSecrets,
) -> Result<SignedIn, FlowError> {
    let username = connection.username.clone().unwrap_or_default();
    let oauth = || oauth_client(connection, secrets.client_secret.clone());
    let tokens = match connection.grant {
        GrantKind::Basic | GrantKind::ApiKey => {
            // An API key travels exactly like a password (Harness-style connections).
            let secret = match connection.grant {
                GrantKind::ApiKey => secrets.api_key.as_ref().map(|k| k.expose()),
                _ => secrets.password.as_ref().map(|p| p.expose()),
            };
            let password = Password::new(secret.unwrap_or_default());
            return Ok(SignedIn {
                auth: Auth::Basic { username, password },
                tokens: None,
                refresh_since: None,
            });
        }
        GrantKind::Password => {
            let password = secrets
                .password
                .clone()
                .unwrap_or_else(|| Password::new(""));
            oauth()?.password_grant(&username, &password, &[]).await?
        }
        GrantKind::ClientCredentials => oauth()?.client_credentials(&[]).await?,
        GrantKind::AuthCode => {
            return Err(FlowError::OAuth(OAuthError::RelinkNeeded));
        }
    };
    Ok(SignedIn::with_new(tokens))
}

/// The authorization code flow of `client` in the system browser, with the loopback callback
/// `browser` names: the tokens the instance gave.
pub(super) async fn browser_tokens(
    client: OAuthClient,
    browser: &BrowserSignIn,
    cancel: impl Future<Output = ()> + Send,
) -> Result<crate::oauth::TokenSet, FlowError> {
    let listener = LoopbackListener::bind(&browser.ports)
        .await
        .map_err(OAuthError::from)?;
    let session = client.begin_auth_code(listener, &[USER_SCOPE.to_owned()])?;
    let opened = browser
        .browser
        .as_ref()
        .map(|b| session.open_in(b.as_ref()));
    (browser.show_url)(
        session.authorize_url(),
        opened.as_ref().and_then(|r| r.as_ref().err()),
    );
    Ok(session
        .finish(browser.wait, cancel, browser.paste.as_ref())
        .await?)
}

pub(super) fn oauth_client(
    connection: &Connection,
    secret: Option<ClientSecret>,
) -> Result<OAuthClient, FlowError> {
    let endpoints = OAuthEndpoints::service_now(&connection.instance)?;
    let client_id = connection.client_id.clone().unwrap_or_default();
    Ok(OAuthClient::new(endpoints, client_id, secret)?)
}

/// Checks that the inputs the grant needs are there, naming the missing one.
pub(super) fn require_inputs(
    request: &ConnectRequest,
    provided: &ProvidedSecrets,
) -> Result<(), FlowError> {
    if request.name.trim().is_empty() {
        return Err(FlowError::InvalidInput {
            field: crate::errors::InputField::ConnectionName,
            reason: "it is empty".into(),
        });
    }
    for input in request.grant.inputs().iter().filter(|i| i.required) {
        use crate::errors::InputField as F;
        let present = match input.field {
            F::ClientId => request.client_id.as_deref().is_some_and(|v| !v.is_empty()),
            F::Username => request.username.as_deref().is_some_and(|v| !v.is_empty()),
            secret => provided.has(secret),
        };
        if !present {
            return Err(FlowError::MissingInput {
                field: input.field,
                grant: request.grant.as_str(),
            });
        }
    }
    Ok(())
}

/// Who the credentials act as: the update set's userinfo endpoint when installed, else the
/// caller's own `sys_user` record (ServiceNow evaluates `javascript:gs.getUserID()` in an
/// encoded query as the caller's sys_id, so no typed name goes into the query). Both values
/// are checked and made safe before anything keeps them.
pub async fn identify(instance: &InstanceUrl, auth: &Auth) -> Result<LinkedIdentity, FlowError> {
    let client = SnowClient::new(instance.clone(), auth.clone())?;
    Ok(crate::api::identify_with(&client).await?)
}

impl From<crate::api::IdentifyError> for FlowError {
    fn from(err: crate::api::IdentifyError) -> Self {
        match err {
            crate::api::IdentifyError::Api(err) => Self::Api(err),
            crate::api::IdentifyError::BadIdentity(err) => Self::BadIdentity(err),
        }
    }
}

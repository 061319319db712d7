//! The admin signs in through the browser (servicenow.md items 35 and 36): the authorization
//! code flow with PKCE through an OAuth application of Snowlink's own, on the instance's own
//! login page, where SSO and MFA work and Basic auth restrictions do not apply. The access
//! token is the session's only, kept in memory. An application with a client secret gets a
//! refresh token too, which is kept in the OS keyring only when the admin asks Snowlink to
//! remember the sign-in ([`super::admin_memory`]); the next sign-in on that instance then needs
//! no browser, until the admin forgets it or the instance no longer takes it.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::admin_memory::{AdminMemory, RememberedAdmin};
use super::connect::{BrowserSignIn, browser_tokens};
use super::{FlowError, Flows};
use crate::checks::AdminCredentials;
use crate::instance::InstanceUrl;
use crate::oauth::{OAuthClient, OAuthEndpoints, OAuthError, TokenGrant, TokenSet};
use crate::secrets::{ClientSecret, RefreshToken, SecretStoreExt};

/// Snowlink's own OAuth application on the instance, as the admin gave it.
#[derive(Debug, Clone, Default)]
pub struct AdminApp {
    /// May be empty when a sign-in is remembered for the instance.
    pub client_id: String,
    /// `None` for a public client (PKCE only).
    pub client_secret: Option<ClientSecret>,
}

/// What became of "remember this sign-in".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remembering {
    /// Not asked, and nothing was remembered.
    No,
    /// The remembered sign-in was used: no browser opened.
    Reused { since: DateTime<Utc> },
    /// Kept in the OS keyring for the next time.
    Kept,
    /// Asked, but a public client gets no refresh token: nothing to keep.
    PublicClient,
    /// Asked, but the keyring or the list refused it; the sign-in itself worked.
    NotKept { reason: String },
    /// The remembered sign-in no longer worked (expired or revoked) and was forgotten; the admin
    /// signed in through the browser instead.
    Expired,
}

/// An admin signed in: the credentials for this session, and what was remembered.
#[derive(Debug)]
pub struct AdminSession {
    pub credentials: AdminCredentials,
    pub remembering: Remembering,
}

impl AdminSession {
    /// What to tell the admin about remembering, if anything.
    pub fn notice(&self) -> Option<String> {
        match &self.remembering {
            Remembering::No => None,
            Remembering::Reused { since } => Some(format!(
                "Signed in with the admin sign-in remembered on {}; forget it on the \
                 Connections screen (or with snowlink admin forget).",
                since.format("%Y-%m-%d")
            )),
            Remembering::Kept => Some(
                "This admin sign-in is remembered in the OS keyring for the next time; forget it \
                 on the Connections screen (or with snowlink admin forget)."
                    .into(),
            ),
            Remembering::PublicClient => Some(
                "Nothing was remembered: a public client gets no refresh token. Give the \
                 application's Client Secret to be remembered."
                    .into(),
            ),
            Remembering::NotKept { reason } => Some(format!(
                "Signed in, but the sign-in could not be remembered: {reason}"
            )),
            Remembering::Expired => Some(
                "The remembered admin sign-in no longer works (it expired or was revoked), so it \
                 was forgotten and you signed in through the browser."
                    .into(),
            ),
        }
    }
}

/// A remembered admin sign-in as the front ends list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct RememberedAdminView {
    pub instance: String,
    pub client_id: String,
    pub remembered_at: String,
    /// One line: whose, where, since when.
    pub summary: String,
}

impl RememberedAdminView {
    fn of(entry: &RememberedAdmin) -> Self {
        Self {
            instance: entry.instance.clone(),
            client_id: entry.client_id.clone(),
            remembered_at: entry.remembered_at.to_rfc3339(),
            summary: format!(
                "Admin sign-in to {} through Snowlink's application {}, remembered on {}",
                entry.instance,
                entry.client_id,
                entry.remembered_at.format("%Y-%m-%d")
            ),
        }
    }
}

/// What forgetting a remembered sign-in did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Forgotten {
    pub instance: String,
    /// Whether the instance revoked the refresh token; it is forgotten here either way.
    pub revoked: bool,
    pub message: String,
}

impl Flows {
    fn admin_memory(&self) -> AdminMemory {
        AdminMemory::beside(self.connections.path())
    }

    /// The admin sign-ins remembered on this computer.
    pub fn remembered_admins(&self) -> Result<Vec<RememberedAdminView>, FlowError> {
        Ok(self
            .admin_memory()
            .list()?
            .iter()
            .map(RememberedAdminView::of)
            .collect())
    }

    /// Whether an admin sign-in is remembered for `instance` (a list that cannot be read
    /// remembers none).
    pub fn remembers_admin(&self, instance: &InstanceUrl) -> bool {
        self.admin_memory()
            .find(instance)
            .is_ok_and(|k| k.is_some())
    }

    /// Signs the admin in to `instance`: with the sign-in remembered there when there is one for
    /// `app` (no browser), else through the browser with `app` — a public client with PKCE, or
    /// one with its secret where the instance does not take public clients. With `remember`,
    /// an application with a secret has its refresh token kept for the next time.
    pub async fn admin_sign_in(
        &self,
        instance: &InstanceUrl,
        app: AdminApp,
        remember: bool,
        browser: &BrowserSignIn,
        cancel: impl Future<Output = ()> + Send,
    ) -> Result<AdminSession, FlowError> {
        let memory = self.admin_memory();
        let client_id = app.client_id.trim();
        let mut expired = false;
        if let Some(known) = memory.find(instance)?
            && (client_id.is_empty() || client_id == known.client_id)
        {
            match self.refresh_remembered(&known).await {
                Ok(tokens) => {
                    return Ok(AdminSession {
                        credentials: credentials(tokens),
                        remembering: Remembering::Reused {
                            since: known.remembered_at,
                        },
                    });
                }
                Err(FlowError::OAuth(OAuthError::RelinkNeeded)) => {
                    self.drop_remembered(&known).await?;
                    expired = true;
                }
                Err(other) => return Err(other),
            }
        }
        let tokens = browser_sign_in(
            instance,
            client_id,
            app.client_secret.clone(),
            browser,
            cancel,
        )
        .await?;
        let remembering = match (remember, &app.client_secret, &tokens.refresh_token) {
            (true, Some(secret), Some(refresh)) => {
                match self.remember(instance, client_id, secret, refresh).await {
                    Ok(()) => Remembering::Kept,
                    Err(err) => Remembering::NotKept {
                        reason: format!("{err} {}", err.hint()),
                    },
                }
            }
            (true, ..) => Remembering::PublicClient,
            (false, ..) if expired => Remembering::Expired,
            (false, ..) => Remembering::No,
        };
        Ok(AdminSession {
            credentials: credentials(tokens),
            remembering,
        })
    }

    /// Forgets the sign-in remembered for `instance` (as typed or as listed): the instance is
    /// asked to revoke its refresh token, then the keyring entries and the list entry go.
    pub async fn forget_admin(&self, instance: &str) -> Result<Forgotten, FlowError> {
        let memory = self.admin_memory();
        let listed = memory.list()?;
        let typed = InstanceUrl::parse(instance).ok();
        let known = listed
            .iter()
            .find(|r| {
                r.instance == instance || typed.as_ref().is_some_and(|t| t.as_str() == r.instance)
            })
            .ok_or_else(|| FlowError::NoRememberedAdmin(crate::text::untrusted(instance, 200)))?;
        let revoked = self.revoke_remembered(known).await;
        self.drop_remembered(known).await?;
        let message = if revoked {
            format!(
                "Forgot the admin sign-in to {}; the instance revoked its token.",
                known.instance
            )
        } else {
            format!(
                "Forgot the admin sign-in to {}. The instance could not be asked to revoke its \
                 token; it ends when it expires, or an admin revokes it in System OAuth > \
                 Manage Tokens.",
                known.instance
            )
        };
        Ok(Forgotten {
            instance: known.instance.clone(),
            revoked,
            message,
        })
    }

    async fn remember(
        &self,
        instance: &InstanceUrl,
        client_id: &str,
        secret: &ClientSecret,
        refresh: &RefreshToken,
    ) -> Result<(), FlowError> {
        let memory = self.admin_memory();
        let entry = memory.entry(instance, client_id)?;
        self.secrets.save(&entry.key, secret).await?;
        self.secrets.save(&entry.key, refresh).await?;
        memory.put(entry)?;
        Ok(())
    }

    async fn remembered_client(
        &self,
        known: &RememberedAdmin,
    ) -> Result<(OAuthClient, RefreshToken), FlowError> {
        let secret = self.secrets.load::<ClientSecret>(&known.key).await?;
        let refresh = self.secrets.load::<RefreshToken>(&known.key).await?;
        let (Some(secret), Some(refresh)) = (secret, refresh) else {
            return Err(OAuthError::RelinkNeeded.into());
        };
        let instance = InstanceUrl::parse(&known.instance)?;
        let endpoints = OAuthEndpoints::service_now(&instance)?;
        Ok((
            OAuthClient::new(endpoints, &known.client_id, Some(secret))?,
            refresh,
        ))
    }

    async fn refresh_remembered(&self, known: &RememberedAdmin) -> Result<TokenSet, FlowError> {
        let (client, refresh) = self.remembered_client(known).await?;
        let tokens = client.refresh(&refresh).await?;
        if let Some(newer) = &tokens.refresh_token
            && newer.expose() != refresh.expose()
        {
            self.secrets.save(&known.key, newer).await?;
        }
        Ok(tokens)
    }

    async fn revoke_remembered(&self, known: &RememberedAdmin) -> bool {
        match self.remembered_client(known).await {
            Ok((client, refresh)) => client.revoke(&refresh).await.is_ok(),
            Err(_) => false,
        }
    }

    async fn drop_remembered(&self, known: &RememberedAdmin) -> Result<(), FlowError> {
        self.secrets.delete_all(&known.key).await?;
        self.admin_memory().remove(&known.instance)?;
        Ok(())
    }
}

fn credentials(tokens: TokenSet) -> AdminCredentials {
    AdminCredentials::Browser {
        access_token: tokens.access_token,
        expires_at: tokens.expires_at,
    }
}

/// The browser sign-in itself: the public client first, as "Let Snowlink in" says; the
/// instance's refusal, not a guess at its release, is what asks for the secret.
async fn browser_sign_in(
    instance: &InstanceUrl,
    client_id: &str,
    client_secret: Option<ClientSecret>,
    browser: &BrowserSignIn,
    cancel: impl Future<Output = ()> + Send,
) -> Result<TokenSet, FlowError> {
    if client_id.is_empty() {
        return Err(FlowError::InvalidInput {
            field: crate::errors::InputField::ClientId,
            reason: "The Client ID of Snowlink's OAuth application is required to sign in \
                     through the browser."
                .into(),
        });
    }
    let endpoints = OAuthEndpoints::service_now(instance)?;
    let public = client_secret.is_none();
    let client = OAuthClient::new(endpoints, client_id, client_secret)?;
    match browser_tokens(client, browser, cancel).await {
        Err(FlowError::OAuth(OAuthError::AccessDenied {
            grant: TokenGrant::AuthorizationCode,
        })) if public => Err(FlowError::PublicClientRefused {
            client_id: client_id.to_owned(),
        }),
        other => other,
    }
}

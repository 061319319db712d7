//! `auth.credentials`: signs in the way the connection does and, when ServiceNow gives its one
//! answer to every failure (401 `access_denied`, servicenow.md §1.7), probes further to name the
//! cause: Basic auth with the same user name and password tells a wrong password from a wrong
//! client secret; the `X-MFA_TOKEN` header tells an MFA user; with admin credentials, the
//! user's record (active, locked out, password reset, SSO only), the OAuth application's
//! record (missing, duplicated, inactive, no application user) and the grant properties name
//! the exact field.

use chrono::Utc;

use super::causes::{api_acl_refused, app_refused, mfa, password_grant_refused, user_refused};
use super::outcome::{Outcome, api_failure};
use super::runner::{Ctx, Session};
use super::target::Credentials;
use crate::api::{ApiError, Auth, AuthFailure, SnowClient};
use crate::errors::NextStep;
use crate::grants::GrantKind;
use crate::oauth::{OAuthClient, OAuthEndpoints, OAuthError, TokenSet, refresh_due};
use crate::secrets::{ClientSecret, Password};

pub async fn auth_credentials(ctx: &Ctx) -> Result<Outcome, Outcome> {
    match &ctx.target.credentials {
        Credentials::None => Ok(Outcome::skip(
            "no credentials were given: diagnose a saved connection, or give the sign-in in the \
             environment",
        )),
        Credentials::Basic { username, password } => {
            basic(ctx, username, password, GrantKind::Basic).await
        }
        Credentials::ApiKey { username, key } => {
            basic(
                ctx,
                username,
                &Password::new(key.expose()),
                GrantKind::ApiKey,
            )
            .await
        }
        Credentials::PasswordGrant {
            client_id,
            client_secret,
            username,
            password,
        } => {
            let oauth = oauth_client(ctx, client_id, client_secret.clone())?;
            match oauth.password_grant(username, password, &[]).await {
                Ok(tokens) => signed_in(ctx, tokens, GrantKind::Password).await,
                Err(OAuthError::AccessDenied { .. }) => {
                    Err(password_grant_refused(ctx, client_id, username, password).await)
                }
                Err(err) => Err(token_failure(&err)),
            }
        }
        Credentials::ClientCredentials {
            client_id,
            client_secret,
        } => {
            let oauth = oauth_client(ctx, client_id, client_secret.clone())?;
            match oauth.client_credentials(&[]).await {
                Ok(tokens) => signed_in(ctx, tokens, GrantKind::ClientCredentials).await,
                Err(OAuthError::AccessDenied { .. }) => {
                    Err(app_refused(ctx, client_id, GrantKind::ClientCredentials).await)
                }
                Err(err) => Err(token_failure(&err)),
            }
        }
        Credentials::AuthCode { .. } => saved_browser_sign_in(ctx).await,
    }
}

fn oauth_client(
    ctx: &Ctx,
    client_id: &str,
    secret: Option<ClientSecret>,
) -> Result<OAuthClient, Outcome> {
    let endpoints = OAuthEndpoints::service_now(ctx.instance()?)
        .map_err(|err| Outcome::fail(err.to_string()))?;
    let client = OAuthClient::with_http(endpoints, client_id, secret, ctx.http()?);
    Ok(match &ctx.options.log {
        Some(log) => client.with_log(log.clone()),
        None => client,
    })
}

/// Keeps the session for the later checks and says who signed in.
async fn open(
    ctx: &Ctx,
    client: SnowClient,
    expires_at: Option<chrono::DateTime<Utc>>,
    scopes: Vec<String>,
) -> Result<Session, ApiError> {
    let identity = identify_retrying_a_node_switch(&client).await?;
    let session = Session {
        client,
        identity,
        expires_at,
        scopes,
    };
    let _ = ctx.session.set(session.clone());
    Ok(session)
}

/// Who `client` signs in as. An API-level 403 right after sign-in is tried once more: after a
/// node switch the same call can pass (servicenow.md, KB2466644), and a real refusal repeats.
async fn identify_retrying_a_node_switch(
    client: &SnowClient,
) -> Result<crate::api::LinkedIdentity, ApiError> {
    let once = || async {
        crate::api::identify_with(client)
            .await
            .map_err(|err| match err {
                crate::api::IdentifyError::Api(err) => err,
                crate::api::IdentifyError::BadIdentity(err) => ApiError::Malformed {
                    detail: err.to_string(),
                },
            })
    };
    match once().await {
        Err(ApiError::Forbidden {
            kind: crate::api::Forbidden::ApiAcl,
            ..
        }) => once().await,
        other => other,
    }
}

async fn basic(
    ctx: &Ctx,
    username: &str,
    password: &Password,
    grant: GrantKind,
) -> Result<Outcome, Outcome> {
    let client = ctx.client(Auth::Basic {
        username: username.to_owned(),
        password: password.clone(),
    })?;
    match open(ctx, client, None, Vec::new()).await {
        Ok(session) => Ok(Outcome::warn(format!(
            "Signed in as {} with {}.",
            session.identity.user_name,
            grant.label().to_lowercase()
        ))
        .detail(
            "Advisory: Basic auth sends the password with every call; an OAuth grant (password \
             grant or client credentials) keeps it off the wire after sign-in.",
        )
        .admin("Consider an OAuth application for this integration (System OAuth > Application Registry).")),
        Err(ApiError::NotAuthenticated(AuthFailure::MfaRequired)) => Err(mfa(username)),
        Err(ApiError::NotAuthenticated(AuthFailure::Rejected)) => {
            Err(user_refused(ctx, username, true).await)
        }
        Err(
            err @ ApiError::Forbidden {
                kind: crate::api::Forbidden::ApiAcl,
                ..
            },
        ) => Err(api_acl_refused(ctx, username, &err).await),
        Err(err) => Err(api_failure(&err, "who the user is")),
    }
}

async fn signed_in(ctx: &Ctx, tokens: TokenSet, grant: GrantKind) -> Result<Outcome, Outcome> {
    let client = ctx.client(Auth::Bearer(tokens.access_token.clone()))?;
    match open(ctx, client, tokens.expires_at, tokens.scopes.clone()).await {
        Ok(session) => Ok(Outcome::pass(format!(
            "Signed in as {} with the {}.",
            session.identity.user_name,
            grant.label().to_lowercase()
        ))),
        Err(err) => Err(api_failure(&err, "who the token belongs to")),
    }
}

fn token_failure(err: &OAuthError) -> Outcome {
    match err {
        OAuthError::Transport { cause, .. } => {
            Outcome::fail(format!("The token request failed: {cause}.")).fix(cause.hint())
        }
        OAuthError::UnexpectedResponse { .. } => Outcome::fail(err.to_string())
            .fix("A web page answered the token endpoint: the instance may be hibernating or behind a sign-in portal."),
        other => Outcome::fail(other.to_string()).fix(other.hint()),
    }
}

/// A linked browser sign-in: the saved access token while it lasts, else a refresh. A dead
/// refresh token is told apart by age: past its lifespan it expired (ServiceNow never extends
/// it, servicenow.md §1.9); before, it was revoked or the password changed.
async fn saved_browser_sign_in(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let Credentials::AuthCode {
        client_id,
        client_secret,
        access_token,
        refresh_token,
        expires_at,
        refresh_issued_at,
    } = &ctx.target.credentials
    else {
        return Err(Outcome::skip("not a browser sign-in"));
    };
    let now = Utc::now();
    if let Some(token) = access_token
        .as_ref()
        .filter(|_| expires_at.is_some() && !refresh_due(*expires_at, now))
    {
        let client = ctx.client(Auth::Bearer(token.clone()))?;
        if let Ok(session) = open(ctx, client, *expires_at, Vec::new()).await {
            return Ok(Outcome::pass(format!(
                "Signed in as {} with the saved browser sign-in.",
                session.identity.user_name
            )));
        }
    }
    let Some(refresh) = refresh_token else {
        return Ok(Outcome::skip("no account is linked to this connection yet"));
    };
    let oauth = oauth_client(ctx, client_id, client_secret.clone())?;
    match oauth.refresh(refresh).await {
        Ok(tokens) => {
            if let Some(keep) = &ctx.target.keep {
                let _ = tokens.save(keep.store.as_ref(), &keep.connection).await;
            }
            signed_in(ctx, tokens, GrantKind::AuthCode).await
        }
        Err(OAuthError::RelinkNeeded) => {
            let expired = refresh_issued_at
                .is_some_and(|issued| crate::oauth::refresh_token_end(issued) <= now);
            Err(if expired {
                Outcome::fail("The saved sign-in expired: its refresh token reached the end of its lifespan.")
                    .detail("ServiceNow does not extend a refresh token when it is used; only signing in again starts a new one.")
                    .fix("Link the account again.")
                    .next(NextStep::Relink)
            } else {
                Outcome::fail("The instance no longer accepts the saved sign-in: it was revoked, or the user's password changed.")
                    .fix("Link the account again.")
                    .next(NextStep::Relink)
            })
        }
        Err(err) => Err(token_failure(&err)),
    }
}

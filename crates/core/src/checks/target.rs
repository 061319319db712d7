//! What a diagnosis runs against: the instance as typed, the credentials to try (a saved
//! connection's, from the keyring, or given through the environment for scripts and support
//! sessions), optional admin credentials that let the checks read the user, role, ACL, OAuth
//! app, property and update-set records to name a cause, and what the integration expects.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::connections::Connection;
use crate::env;
use crate::errors::InputField;
use crate::errors::{ErrorCode, ErrorView};
use crate::grants::GrantKind;
use crate::ids::ConnectionId;
use crate::profiles::CheckParams;
use crate::secrets::{
    AccessToken, ApiKey, ClientSecret, Password, RefreshToken, SecretError, SecretStore,
    SecretStoreExt,
};

/// How the checks sign in.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Nothing to sign in with: the checks stop at `instance.awake`.
    None,
    Basic {
        username: String,
        password: Password,
    },
    ApiKey {
        username: String,
        key: ApiKey,
    },
    PasswordGrant {
        client_id: String,
        client_secret: Option<ClientSecret>,
        username: String,
        password: Password,
    },
    ClientCredentials {
        client_id: String,
        client_secret: Option<ClientSecret>,
    },
    /// A linked browser sign-in: its saved tokens, and when they end.
    AuthCode {
        client_id: String,
        client_secret: Option<ClientSecret>,
        access_token: Option<AccessToken>,
        refresh_token: Option<RefreshToken>,
        expires_at: Option<DateTime<Utc>>,
        refresh_issued_at: Option<DateTime<Utc>>,
    },
}

impl Credentials {
    pub fn grant(&self) -> Option<GrantKind> {
        Some(match self {
            Self::None => return None,
            Self::Basic { .. } => GrantKind::Basic,
            Self::ApiKey { .. } => GrantKind::ApiKey,
            Self::PasswordGrant { .. } => GrantKind::Password,
            Self::ClientCredentials { .. } => GrantKind::ClientCredentials,
            Self::AuthCode { .. } => GrantKind::AuthCode,
        })
    }

    pub fn client_id(&self) -> Option<&str> {
        match self {
            Self::PasswordGrant { client_id, .. }
            | Self::ClientCredentials { client_id, .. }
            | Self::AuthCode { client_id, .. } => Some(client_id),
            _ => None,
        }
    }

    /// The user name the credentials name, when they name one.
    pub fn username(&self) -> Option<&str> {
        match self {
            Self::Basic { username, .. }
            | Self::ApiKey { username, .. }
            | Self::PasswordGrant { username, .. } => Some(username),
            _ => None,
        }
    }
}

/// An admin account the checks and the setup act as, to read configuration records and to
/// change them.
#[derive(Debug, Clone)]
pub enum AdminCredentials {
    /// Basic auth with a local password (and, for an MFA account, the one-time code appended
    /// to it): refused by instances that restrict Basic auth, impossible for SSO-only admins.
    Basic {
        username: String,
        password: Password,
    },
    /// Signed in through the browser with the authorization code flow of Snowlink's own OAuth
    /// application (the instance's login page, so SSO and MFA work): its access token, kept in
    /// memory for the session only.
    Browser {
        access_token: AccessToken,
        expires_at: Option<DateTime<Utc>>,
    },
}

impl AdminCredentials {
    /// A Basic auth account, when both a user name and a password are given (blank is not
    /// given).
    pub fn given(username: &str, password: String) -> Option<Self> {
        let username = username.trim();
        (!username.is_empty() && !password.is_empty()).then(|| Self::Basic {
            username: username.to_owned(),
            password: Password::new(password),
        })
    }

    /// [`Self::given`] with an MFA one-time code, which ServiceNow takes appended to the
    /// password (servicenow.md item 22); a blank code is none.
    pub fn with_code(username: &str, password: String, code: &str) -> Option<Self> {
        let code = code.trim();
        let password = if code.is_empty() {
            password
        } else {
            format!("{password}{code}")
        };
        Self::given(username, password)
    }

    /// How API calls authenticate as this admin.
    pub fn auth(&self) -> crate::api::Auth {
        match self {
            Self::Basic { username, password } => crate::api::Auth::Basic {
                username: username.clone(),
                password: password.clone(),
            },
            Self::Browser { access_token, .. } => crate::api::Auth::Bearer(access_token.clone()),
        }
    }

    /// The same account as credentials to sign in with.
    fn credentials(&self) -> Credentials {
        match self {
            Self::Basic { username, password } => Credentials::Basic {
                username: username.clone(),
                password: password.clone(),
            },
            Self::Browser {
                access_token,
                expires_at,
            } => Credentials::AuthCode {
                client_id: String::new(),
                client_secret: None,
                access_token: Some(access_token.clone()),
                refresh_token: None,
                expires_at: *expires_at,
                refresh_issued_at: None,
            },
        }
    }
}

/// How the admin is to sign in, as the environment and a front end's choice say.
#[derive(Debug, Clone)]
pub enum AdminSignIn {
    /// Nothing given: a front end may ask.
    None,
    Basic(AdminCredentials),
    /// Through the browser with Snowlink's own OAuth application.
    Browser {
        client_id: String,
        client_secret: Option<ClientSecret>,
    },
}

impl AdminSignIn {
    /// From `SNOWLINK_ADMIN_GRANT` (or `chosen`, a front end's `--admin`), with
    /// `SNOWLINK_ADMIN_CLIENT_ID` / `SNOWLINK_ADMIN_CLIENT_SECRET` for the browser and
    /// `SNOWLINK_ADMIN_USERNAME` / `SNOWLINK_ADMIN_PASSWORD` for Basic auth.
    pub fn from_env(
        vars: &dyn Fn(&str) -> Option<String>,
        chosen: Option<GrantKind>,
    ) -> Result<Self, TargetError> {
        let named = vars(env::ADMIN_GRANT).filter(|g| !g.trim().is_empty());
        let grant = match (chosen, named) {
            (Some(grant), _) => Some(grant),
            (None, Some(text)) => Some(match GrantKind::parse(text.trim()) {
                Some(grant @ (GrantKind::AuthCode | GrantKind::Basic)) => grant,
                _ => return Err(TargetError::UnknownAdminGrant(text)),
            }),
            (None, None) => None,
        };
        let basic = vars(env::ADMIN_USERNAME)
            .zip(vars(env::ADMIN_PASSWORD))
            .and_then(|(username, password)| AdminCredentials::given(&username, password));
        match grant {
            Some(GrantKind::AuthCode) => {
                let client_id = vars(env::ADMIN_CLIENT_ID)
                    .filter(|id| !id.trim().is_empty())
                    .ok_or(TargetError::MissingVariable {
                        field: InputField::ClientId,
                        grant: "admin's browser",
                        variable: env::ADMIN_CLIENT_ID,
                    })?;
                Ok(Self::Browser {
                    client_id: client_id.trim().to_owned(),
                    client_secret: vars(env::ADMIN_CLIENT_SECRET)
                        .filter(|s| !s.is_empty())
                        .map(ClientSecret::new),
                })
            }
            Some(_) | None => Ok(basic.map_or(Self::None, Self::Basic)),
        }
    }
}

/// Why a target could not be put together.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{} is required for the {grant} sign-in ({variable}).", crate::text::capitalized(field.label()))]
    MissingVariable {
        field: InputField,
        grant: &'static str,
        variable: &'static str,
    },
    #[error("{} is \"{}\", which is not a sign-in method.", env::GRANT, .0)]
    UnknownGrant(String),
    #[error("{} is \"{}\"; the admin signs in with auth-code (the browser) or basic.", env::ADMIN_GRANT, .0)]
    UnknownAdminGrant(String),
    #[error(transparent)]
    Secrets(#[from] SecretError),
}

impl TargetError {
    pub fn view(&self) -> ErrorView {
        match self {
            Self::MissingVariable {
                field, variable, ..
            } => ErrorView::new(
                ErrorCode::InvalidInput,
                self.to_string(),
                format!(
                    "Set {variable} to {}: it comes from {}.",
                    field.label(),
                    field.source()
                ),
            )
            .field(*field),
            Self::UnknownGrant(_) => ErrorView::new(
                ErrorCode::InvalidInput,
                self.to_string(),
                format!(
                    "Set {} to one of: {}.",
                    env::GRANT,
                    GrantKind::ALL.map(GrantKind::as_str).join(", ")
                ),
            )
            .field(InputField::Grant),
            Self::UnknownAdminGrant(_) => ErrorView::new(
                ErrorCode::InvalidInput,
                self.to_string(),
                format!(
                    "Set {} to auth-code (sign in through the browser) or basic.",
                    env::ADMIN_GRANT
                ),
            )
            .field(InputField::Grant),
            Self::Secrets(err) => err.view(),
        }
    }
}

/// Where a saved connection's tokens go when a check has to refresh them, so the diagnosis
/// never leaves the keyring with a token the instance replaced.
#[derive(Clone)]
pub struct KeepTokens {
    pub store: Arc<dyn SecretStore>,
    pub connection: ConnectionId,
}

impl std::fmt::Debug for KeepTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeepTokens({})", self.connection)
    }
}

/// What to diagnose.
#[derive(Debug, Clone)]
pub struct Target {
    /// The address as typed (checked by `url.parse`).
    pub typed: String,
    pub credentials: Credentials,
    pub admin: Option<AdminCredentials>,
    /// The saved connection, when the target is one.
    pub connection: Option<Connection>,
    pub profile: String,
    pub params: CheckParams,
    /// Why the profile's expectations are missing from `params`, when its file could not be
    /// read: the checks that would have used them say so instead of finding nothing to check.
    pub profile_problem: Option<String>,
    pub keep: Option<KeepTokens>,
}

impl Target {
    /// A saved connection with its secrets from `secrets`.
    pub async fn of_connection(
        connection: &Connection,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Self, TargetError> {
        let keep = KeepTokens {
            store: secrets.clone(),
            connection: connection.id.clone(),
        };
        let secrets = secrets.as_ref();
        let id = &connection.id;
        let client_id = connection.client_id.clone().unwrap_or_default();
        let username = connection.username.clone().unwrap_or_default();
        let client_secret = secrets.load::<ClientSecret>(id).await?;
        let password = || async { secrets.load::<Password>(id).await };
        let credentials = match connection.grant {
            GrantKind::Basic => Credentials::Basic {
                username,
                password: password().await?.unwrap_or_else(|| Password::new("")),
            },
            GrantKind::ApiKey => Credentials::ApiKey {
                username,
                key: secrets
                    .load::<ApiKey>(id)
                    .await?
                    .unwrap_or_else(|| ApiKey::new("")),
            },
            GrantKind::Password => Credentials::PasswordGrant {
                client_id,
                client_secret,
                username,
                password: password().await?.unwrap_or_else(|| Password::new("")),
            },
            GrantKind::ClientCredentials => Credentials::ClientCredentials {
                client_id,
                client_secret,
            },
            GrantKind::AuthCode => Credentials::AuthCode {
                client_id,
                client_secret,
                access_token: secrets.load::<AccessToken>(id).await?,
                refresh_token: secrets.load::<RefreshToken>(id).await?,
                expires_at: connection.status.token_expires_at,
                refresh_issued_at: connection.status.refresh_issued_at,
            },
        };
        Ok(Self {
            typed: connection.instance.to_string(),
            credentials,
            admin: None,
            connection: Some(connection.clone()),
            profile: connection.profile_id.clone(),
            params: CheckParams::default(),
            profile_problem: None,
            keep: Some(keep),
        })
    }

    /// An instance as typed, with credentials from the environment `vars` reads
    /// (`SNOWLINK_GRANT`, `SNOWLINK_CLIENT_ID`, `SNOWLINK_CLIENT_SECRET`, `SNOWLINK_USERNAME`,
    /// `SNOWLINK_PASSWORD`, `SNOWLINK_API_KEY`); without `SNOWLINK_GRANT`, none.
    pub fn of_instance(
        typed: &str,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, TargetError> {
        let var = |name: &str| vars(name).filter(|v| !v.is_empty());
        let credentials = match var(env::GRANT) {
            None => Credentials::None,
            Some(name) => {
                let grant = GrantKind::parse(&name)
                    .ok_or_else(|| TargetError::UnknownGrant(crate::text::untrusted(&name, 40)))?;
                credentials_from(grant, &var)?
            }
        };
        Ok(Self {
            typed: typed.to_owned(),
            credentials,
            admin: None,
            connection: None,
            profile: "custom".into(),
            params: CheckParams::default(),
            profile_problem: None,
            keep: None,
        })
    }

    /// An instance as typed, signed in to as `admin` when one is given (who then also reads
    /// the configuration records); with no admin, the checks stop at `instance.awake`.
    pub fn of_instance_as_admin(typed: &str, admin: Option<AdminCredentials>) -> Self {
        let credentials = admin
            .as_ref()
            .map_or(Credentials::None, AdminCredentials::credentials);
        Self {
            typed: typed.to_owned(),
            credentials,
            admin,
            connection: None,
            profile: "custom".into(),
            params: CheckParams::default(),
            profile_problem: None,
            keep: None,
        }
    }

    /// Expects what integration profile `id` (among `catalog`) sets up; when that profile
    /// cannot be read, the checks that need it say why.
    pub fn expect_profile(mut self, catalog: &crate::profiles::Catalog, id: &str) -> Self {
        self.profile = id.to_owned();
        match catalog.check_params(id) {
            Ok(params) => self.params = params,
            Err(err) => self.profile_problem = Some(err.to_string()),
        }
        self
    }

    /// Adds the admin account `SNOWLINK_ADMIN_USERNAME` / `SNOWLINK_ADMIN_PASSWORD` names.
    pub fn with_admin_from(mut self, vars: &dyn Fn(&str) -> Option<String>) -> Self {
        let given = vars(env::ADMIN_USERNAME)
            .zip(vars(env::ADMIN_PASSWORD))
            .and_then(|(username, password)| AdminCredentials::given(&username, password));
        if given.is_some() {
            self.admin = given;
        }
        self
    }
}

/// The grant's inputs (the core's table) from the environment.
fn credentials_from(
    grant: GrantKind,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Credentials, TargetError> {
    let mut values = std::collections::HashMap::new();
    for input in grant.inputs() {
        let variable = match input.field {
            InputField::ClientId => env::CLIENT_ID,
            InputField::Username => env::USERNAME,
            other => other.env_var().unwrap_or_default(),
        };
        match var(variable) {
            Some(value) => {
                values.insert(input.field, value);
            }
            None if input.required => {
                return Err(TargetError::MissingVariable {
                    field: input.field,
                    grant: grant.as_str(),
                    variable,
                });
            }
            None => {}
        }
    }
    let take = |field| values.get(&field).cloned().unwrap_or_default();
    let secret = values
        .get(&InputField::ClientSecret)
        .cloned()
        .map(ClientSecret::new);
    Ok(match grant {
        GrantKind::Basic => Credentials::Basic {
            username: take(InputField::Username),
            password: Password::new(take(InputField::Password)),
        },
        GrantKind::ApiKey => Credentials::ApiKey {
            username: take(InputField::Username),
            key: ApiKey::new(take(InputField::ApiKey)),
        },
        GrantKind::Password => Credentials::PasswordGrant {
            client_id: take(InputField::ClientId),
            client_secret: secret,
            username: take(InputField::Username),
            password: Password::new(take(InputField::Password)),
        },
        GrantKind::ClientCredentials => Credentials::ClientCredentials {
            client_id: take(InputField::ClientId),
            client_secret: secret,
        },
        GrantKind::AuthCode => Credentials::AuthCode {
            client_id: take(InputField::ClientId),
            client_secret: secret,
            access_token: None,
            refresh_token: None,
            expires_at: None,
            refresh_issued_at: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn an_admin_account_needs_both_a_name_and_a_password() {
        let given = AdminCredentials::given("  admin ", "pw".into()).unwrap();
        assert!(matches!(&given, AdminCredentials::Basic { username, .. } if username == "admin"));
        assert!(AdminCredentials::given(" ", "pw".into()).is_none());
        assert!(AdminCredentials::given("admin", String::new()).is_none());
    }

    #[test]
    fn the_admin_signs_in_the_way_the_environment_or_the_flag_says() {
        let browser = vars(&[
            ("SNOWLINK_ADMIN_GRANT", "auth-code"),
            ("SNOWLINK_ADMIN_CLIENT_ID", " cid "),
            ("SNOWLINK_ADMIN_USERNAME", "admin"),
            ("SNOWLINK_ADMIN_PASSWORD", "pw"),
        ]);
        assert!(matches!(
            AdminSignIn::from_env(&browser, None).unwrap(),
            AdminSignIn::Browser { client_id, client_secret: None } if client_id == "cid"
        ));
        assert!(matches!(
            AdminSignIn::from_env(&browser, Some(GrantKind::Basic)).unwrap(),
            AdminSignIn::Basic(_)
        ));
        let no_client = vars(&[("SNOWLINK_ADMIN_USERNAME", "admin")]);
        let missing = AdminSignIn::from_env(&no_client, Some(GrantKind::AuthCode)).unwrap_err();
        assert!(
            missing.to_string().contains("SNOWLINK_ADMIN_CLIENT_ID"),
            "{missing}"
        );
        assert!(matches!(
            AdminSignIn::from_env(&no_client, None).unwrap(),
            AdminSignIn::None
        ));
        let wrong = vars(&[("SNOWLINK_ADMIN_GRANT", "password")]);
        let err = AdminSignIn::from_env(&wrong, None).unwrap_err();
        assert_eq!(err.view().field, Some(InputField::Grant));
    }

    #[test]
    fn an_mfa_code_is_appended_to_the_password() {
        let with_code = AdminCredentials::with_code("admin", "pw".into(), " 123456 ").unwrap();
        assert!(matches!(
            &with_code,
            AdminCredentials::Basic { password, .. } if password.expose() == "pw123456"
        ));
        let without = AdminCredentials::with_code("admin", "pw".into(), "").unwrap();
        assert!(matches!(
            &without,
            AdminCredentials::Basic { password, .. } if password.expose() == "pw"
        ));
    }

    #[test]
    fn credentials_come_from_the_environment_by_the_grant_table() {
        let env = vars(&[
            ("SNOWLINK_GRANT", "password"),
            ("SNOWLINK_CLIENT_ID", "cid"),
            ("SNOWLINK_CLIENT_SECRET", "cs"),
            ("SNOWLINK_USERNAME", "svc"),
            ("SNOWLINK_PASSWORD", "pw"),
            ("SNOWLINK_ADMIN_USERNAME", "admin"),
            ("SNOWLINK_ADMIN_PASSWORD", "apw"),
        ]);
        let target = Target::of_instance("acme", &env)
            .unwrap()
            .with_admin_from(&env);
        assert!(matches!(
            &target.credentials,
            Credentials::PasswordGrant { client_id, username, .. } if client_id == "cid" && username == "svc"
        ));
        assert!(matches!(
            target.admin.unwrap(),
            AdminCredentials::Basic { username, .. } if username == "admin"
        ));
        let missing =
            Target::of_instance("acme", &vars(&[("SNOWLINK_GRANT", "basic")])).unwrap_err();
        assert!(
            missing.to_string().contains("SNOWLINK_USERNAME"),
            "{missing}"
        );
        assert!(Target::of_instance("acme", &vars(&[("SNOWLINK_GRANT", "magic")])).is_err());
        let none = Target::of_instance("acme", &vars(&[])).unwrap();
        assert!(matches!(none.credentials, Credentials::None));
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let env = vars(&[
            ("SNOWLINK_GRANT", "password"),
            ("SNOWLINK_CLIENT_ID", "cid"),
            ("SNOWLINK_CLIENT_SECRET", "cs-SECRET"),
            ("SNOWLINK_USERNAME", "svc"),
            ("SNOWLINK_PASSWORD", "pw-SECRET"),
        ]);
        let target = Target::of_instance("acme", &env).unwrap();
        assert!(!format!("{target:?}").contains("SECRET"));
    }
}

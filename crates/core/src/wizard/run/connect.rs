//! The connect step: sign in the way the finished connection will, save it (never over a
//! different connection of the same name), and run the integration's own checks; when the
//! instance refuses, the admin's account names the cause.

use super::{Setup, SetupError};
use crate::checks::{CheckId, Credentials, Progress, Target};
use crate::errors::InputField;
use crate::flows::{BrowserSignIn, ConnectRequest, FlowError, ProvidedSecrets};
use crate::grants::GrantKind;
use crate::ids::ConnectionId;
use crate::profiles::CheckParams;
use crate::secrets::SecretStoreExt;
use crate::wizard::{Event, Verification, apply};

impl Setup {
    /// Signs in as the connection will, saves it, and runs the integration's own checks.
    pub(super) async fn connect(
        &mut self,
        browser: &BrowserSignIn,
        progress: Option<Progress>,
    ) -> Result<Verification, SetupError> {
        let instance =
            crate::instance::InstanceUrl::parse(&self.state.instance).map_err(FlowError::from)?;
        let name = &self.state.connection_name;
        if let Some(other) = self.flows.list()?.into_iter().find(|c| {
            &c.display_name == name && (c.instance != instance || c.profile_id != self.profile.id)
        }) {
            return Err(SetupError::NameTaken {
                name: name.clone(),
                instance: other.instance.to_string(),
                profile: other.profile_id,
            });
        }
        let request = ConnectRequest {
            name: self.state.connection_name.clone(),
            instance,
            grant: self.profile.grant,
            client_id: self
                .input_for(InputField::ClientId)
                .and_then(|i| self.typed(&i.id)),
            username: self
                .input_for(InputField::Username)
                .and_then(|i| self.typed(&i.id)),
            profile_id: self.profile.id.clone(),
        };
        let mut provided = ProvidedSecrets::default();
        for field in [
            InputField::ClientSecret,
            InputField::Password,
            InputField::ApiKey,
        ] {
            if let Some(input) = self.input_for(field)
                && let Some(value) = self.secret(&input.id.clone()).await?
            {
                provided.set(field, value);
            }
        }
        let typed = typed_credentials(&request, &provided);
        let connection = match self
            .flows
            .connect(request, provided, browser, std::future::pending())
            .await
        {
            Ok(connection) => connection,
            Err(err) => {
                // ServiceNow answers most mistakes with the same refusal: with the admin
                // account, the doctor's credentials check names the one made.
                if let Some(credentials) = typed
                    && self.admin.is_some()
                {
                    let mut target =
                        Target::of_instance_as_admin(&self.state.instance, self.admin.clone());
                    target.credentials = credentials;
                    let checks = self
                        .run(
                            target,
                            CheckParams::default(),
                            vec![CheckId::AuthCredentials],
                            progress.clone(),
                        )
                        .await;
                    let verification = Verification::from_checks(checks, "");
                    if !verification.passed {
                        return Ok(verification);
                    }
                }
                return Err(err.into());
            }
        };
        let mut target = Target::of_connection(&connection, self.secrets.clone())
            .await
            .map_err(|err| match err {
                crate::checks::TargetError::Secrets(err) => SetupError::Secrets(err),
                other => SetupError::Flows(FlowError::InvalidInput {
                    field: InputField::Connection,
                    reason: other.to_string(),
                }),
            })?;
        target.admin = self.admin.clone();
        let only = vec![
            CheckId::AuthCredentials,
            CheckId::RestScripted,
            CheckId::RoundtripOutbound,
            CheckId::LinksCount,
        ];
        let checks = self
            .run(target, self.profile.check_params(), only, progress)
            .await;
        let checked = self.flows.check(&connection).await?;
        let linked = checked
            .status
            .linked
            .as_ref()
            .map(|l| format!(" {} {}.", l.total, l.label))
            .unwrap_or_default();
        let verification = Verification::from_checks(
            checks,
            &format!(
                "Connected as {}.{linked}",
                checked
                    .linked_identity
                    .as_ref()
                    .map(|i| i.user_name.as_str())
                    .unwrap_or("the integration")
            ),
        );
        if verification.passed {
            self.state = apply(
                &self.profile,
                &self.state,
                Event::Finished {
                    connection: connection.id.clone(),
                },
            )?;
            let _ = self
                .secrets
                .delete_all(&ConnectionId::of_setup(&self.state.draft))
                .await;
            self.store.forget_update_set(&self.state.draft);
        }
        Ok(verification)
    }
}

/// The credentials a connect request signs in with, for the checks (browser sign-in has
/// none to check before the browser).
fn typed_credentials(request: &ConnectRequest, provided: &ProvidedSecrets) -> Option<Credentials> {
    let username = request.username.clone().unwrap_or_default();
    let client_id = request.client_id.clone().unwrap_or_default();
    let password = provided.password.clone();
    Some(match request.grant {
        GrantKind::Basic => Credentials::Basic {
            username,
            password: password?,
        },
        GrantKind::ApiKey => Credentials::ApiKey {
            username,
            key: provided.api_key.clone()?,
        },
        GrantKind::Password => Credentials::PasswordGrant {
            client_id,
            client_secret: provided.client_secret.clone(),
            username,
            password: password?,
        },
        GrantKind::ClientCredentials => Credentials::ClientCredentials {
            client_id,
            client_secret: provided.client_secret.clone(),
        },
        GrantKind::AuthCode => return None,
    })
}

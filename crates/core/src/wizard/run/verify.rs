//! Verifying a step: the diagnostics' checks each step kind is verified by, run as the admin
//! (or as the service user the step is about), and the result recorded on the step.

use super::{Setup, SetupError};
use crate::checks::{
    AdminCredentials, CheckId, CheckStatus, Credentials, Progress, RunOptions, Target,
};
use crate::errors::InputField;
use crate::flows::BrowserSignIn;
use crate::grants::GrantKind;
use crate::profiles::{CheckParams, Step, StepKind};
use crate::secrets::Password;
use crate::wizard::{Event, Verification, WizardError, WizardView};

impl Setup {
    /// The service user's name and password, from the service-user step.
    pub(super) async fn service_account(&self) -> Result<Option<(String, Password)>, SetupError> {
        let Some(step) = self
            .profile
            .steps
            .iter()
            .find(|s| s.kind == StepKind::ServiceUser)
        else {
            return Ok(None);
        };
        let (user, password) = crate::wizard::automate::service_inputs(step);
        let user = user.and_then(|i| self.typed(&i.id));
        let password = match password {
            Some(input) => self.secret(&input.id).await?,
            None => None,
        };
        Ok(user.zip(password).map(|(u, p)| (u, Password::new(p))))
    }

    pub(super) fn admin_target(&self, step: &Step) -> Result<Target, SetupError> {
        if self.admin.is_none() {
            return Err(SetupError::NeedsAdmin(format!(
                "Checking \"{}\"",
                step.title
            )));
        }
        Ok(Target::of_instance_as_admin(
            &self.state.instance,
            self.admin.clone(),
        ))
    }

    /// Runs the checks that verify the current step and records the result.
    pub async fn verify(
        &mut self,
        browser: &BrowserSignIn,
        progress: Option<Progress>,
    ) -> Result<WizardView, SetupError> {
        let step = self.current().clone();
        self.commit(Event::VerifyStarted)?;
        let outcome = self.verification(&step, browser, progress).await;
        match outcome {
            Ok(verification) => {
                let view = self.commit(Event::VerifyFinished { verification })?;
                Ok(view)
            }
            Err(err) => {
                let verification = Verification::refused(format!("{} {}", err, err.view().hint));
                self.commit(Event::VerifyFinished { verification })?;
                Err(err)
            }
        }
    }

    pub(super) async fn run(
        &self,
        mut target: Target,
        params: CheckParams,
        only: Vec<CheckId>,
        progress: Option<Progress>,
    ) -> Vec<crate::checks::Check> {
        target.params = params;
        target.profile = self.profile.id.clone();
        let options = RunOptions {
            only: only.clone(),
            progress,
            log: crate::http::HttpLog::default(),
            ..self.options.clone()
        };
        let report = crate::checks::run(target, options).await;
        report
            .checks
            .into_iter()
            .filter(|c| only.contains(&c.id) || c.status == crate::checks::CheckStatus::Fail)
            .collect()
    }

    async fn verification(
        &mut self,
        step: &Step,
        browser: &BrowserSignIn,
        progress: Option<Progress>,
    ) -> Result<Verification, SetupError> {
        let params = step.verify.clone();
        let done = format!("{} is done.", step.title);
        let checks = match step.kind {
            StepKind::Info => return Ok(Verification::from_checks(Vec::new(), &done)),
            StepKind::Instance => {
                let target = Target::of_instance_as_admin(&self.state.instance, None);
                let mut verification = Verification::from_checks(
                    self.run(target, params, vec![CheckId::InstanceAwake], progress)
                        .await,
                    &done,
                );
                if verification.passed
                    && let Some(idp) = super::idp::identity_provider(&self.state.instance).await
                {
                    verification.message = format!(
                        "{done} People sign in to this instance through {idp}: they link their \
                         accounts with browser sign-in, which takes them there."
                    );
                }
                return Ok(verification);
            }
            StepKind::Prerequisites => {
                let target = self.admin_target(step)?;
                self.run(target, params, vec![CheckId::UserRoles], progress)
                    .await
            }
            StepKind::AdminAccess => {
                let target = self.admin_target(step)?;
                let checks = self
                    .run(target, params, vec![CheckId::UserRoles], progress)
                    .await;
                let mut verification = Verification::from_checks(checks, &done);
                let refused = verification
                    .checks
                    .iter()
                    .any(|c| c.id == CheckId::AuthCredentials && c.status == CheckStatus::Fail);
                if refused && matches!(self.admin, Some(AdminCredentials::Basic { .. })) {
                    verification.message.push_str(
                        " If the password is right, the instance may restrict Basic auth (new \
                         instances do): sign in through the browser instead.",
                    );
                }
                return Ok(verification);
            }
            StepKind::OauthApp => {
                let mut target = self.admin_target(step)?;
                let client_id = self
                    .input_for(InputField::ClientId)
                    .and_then(|i| self.typed(&i.id))
                    .unwrap_or_default();
                // The check reads the application the way the grant will use it: browser
                // sign-in needs its redirect URLs, the other grants only an active app.
                target.credentials = if self.profile.grant == GrantKind::AuthCode {
                    Credentials::AuthCode {
                        client_id,
                        client_secret: None,
                        access_token: None,
                        refresh_token: None,
                        expires_at: None,
                        refresh_issued_at: None,
                    }
                } else {
                    Credentials::ClientCredentials {
                        client_id,
                        client_secret: None,
                    }
                };
                self.run(target, params, vec![CheckId::OauthRedirect], progress)
                    .await
            }
            StepKind::UpdateSet => {
                let target = self.admin_target(step)?;
                let mut params = params;
                params.update_set = self.profile.update_set.as_ref().map(|s| s.name.clone());
                let mut only = vec![CheckId::UpdatesetCommitted];
                if params.endpoint.is_some() {
                    only.push(CheckId::RestScripted);
                }
                self.run(target, params, only, progress).await
            }
            StepKind::ServiceUser | StepKind::Roles | StepKind::Acls => {
                let mut target = self.admin_target(step)?;
                let (user, password) = self.service_account().await?.ok_or_else(|| {
                    WizardError::MissingInput("The service user's name and password".into())
                })?;
                target.credentials = Credentials::Basic {
                    username: user,
                    password,
                };
                let only = match step.kind {
                    StepKind::ServiceUser => vec![CheckId::UserAccount],
                    StepKind::Roles => vec![CheckId::UserRoles],
                    _ => vec![CheckId::AclTable],
                };
                self.run(target, params, only, progress).await
            }
            StepKind::Connect => return self.connect(browser, progress).await,
        };
        Ok(Verification::from_checks(checks, &done))
    }
}

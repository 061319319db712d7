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
use crate::wizard::automate::{self, AclVerdict};
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
                // The check reads the application the way it will be used: browser sign-in
                // (the grant's, or people linking their accounts through it) needs its
                // redirect URLs, the other grants only an active app.
                let browser = self.profile.grant == GrantKind::AuthCode
                    || step.values.iter().any(|v| v.label == "Redirect URL");
                target.credentials = if browser {
                    Credentials::AuthCode {
                        client_id: client_id.clone(),
                        client_secret: None,
                        access_token: None,
                        refresh_token: None,
                        expires_at: None,
                        refresh_issued_at: None,
                    }
                } else {
                    Credentials::ClientCredentials {
                        client_id: client_id.clone(),
                        client_secret: None,
                    }
                };
                let checks = self
                    .run(target, params, vec![CheckId::OauthRedirect], progress)
                    .await;
                let verification = Verification::from_checks(checks, &done);
                if !verification.passed || client_id.is_empty() {
                    return Ok(verification);
                }
                let lacks = self
                    .checking(step, async |context| {
                        automate::oauth_app_lacks(context, step, &client_id).await
                    })
                    .await?;
                if lacks.is_empty() {
                    return Ok(verification);
                }
                return Ok(not_yet(
                    verification,
                    format!(
                        "The OAuth application is not as the page sets it: {}.",
                        lacks.join("; ")
                    ),
                ));
            }
            StepKind::UpdateSet => return self.the_update_set(step, params, progress, &done).await,
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
                let checks = self.run(target, params, only, progress).await;
                if step.kind == StepKind::Acls && step.acl_role.is_some() {
                    return self.the_pages_acls(step, checks, &done).await;
                }
                checks
            }
            StepKind::Connect => return self.connect(browser, progress).await,
        };
        Ok(Verification::from_checks(checks, &done))
    }

    /// An ACL step is done when the ACLs its page asks for are there (table, operation and
    /// the role they require), not when some stock ACL happens to let the user in; or when
    /// the user holds a role the page says makes them unneeded.
    async fn the_pages_acls(
        &self,
        step: &Step,
        checks: Vec<crate::checks::Check>,
        done: &str,
    ) -> Result<Verification, SetupError> {
        let verdict = self
            .checking(step, async |context| {
                automate::acl_verdict(context, step).await
            })
            .await?;
        let verification = Verification::from_checks(checks, done);
        Ok(match verdict {
            AclVerdict::Covered(user, role) => Verification {
                message: format!(
                    "{done} {user} has {role}, which the ACLs let through: the page says to \
                     skip them then."
                ),
                ..verification
            },
            AclVerdict::Missing(missing) if !missing.is_empty() => {
                let named: Vec<String> = missing
                    .iter()
                    .map(|m| format!("{} / {} requiring {}", m.table, m.operation, m.role))
                    .collect();
                not_yet(
                    verification,
                    format!(
                        "Not there yet: the ACL{} {}. Other ACLs may let the user in today, but \
                         the integration's page asks for these.",
                        if named.len() == 1 { "" } else { "s" },
                        named.join(", ")
                    ),
                )
            }
            AclVerdict::Missing(_) => verification,
        })
    }

    /// The update set step is done when the set is committed (the vendor's, or Snowlink's
    /// stand-in for it, said so), its endpoint answers, and the records it installs are there.
    async fn the_update_set(
        &self,
        step: &Step,
        params: CheckParams,
        progress: Option<Progress>,
        done: &str,
    ) -> Result<Verification, SetupError> {
        let Some(spec) = self.profile.update_set.clone() else {
            return Ok(Verification::from_checks(Vec::new(), done));
        };
        let mut only = vec![CheckId::UpdatesetCommitted];
        if params.endpoint.is_some() {
            only.push(CheckId::RestScripted);
        }
        let stand_in = spec.stand_in();
        let params = CheckParams {
            update_set: Some(spec.name.clone()),
            update_set_stand_in: stand_in.clone(),
            ..params
        };
        let target = self.admin_target(step)?;
        let checks = self.run(target, params, only, progress).await;
        let mut verification = Verification::from_checks(checks, done);
        // The stand-in committed: the check's words say so, and so does the step.
        if let Some(committed) = verification.checks.iter().find(|c| {
            c.id == CheckId::UpdatesetCommitted
                && c.status == CheckStatus::Pass
                && stand_in.as_ref().is_some_and(|s| c.summary.contains(s))
        }) {
            verification.message = format!("{done} {}", committed.summary);
        }
        if !verification.passed {
            return Ok(verification);
        }
        let lacks = self
            .checking(step, async |context| {
                automate::update_set_lacks(context).await
            })
            .await?;
        if lacks.is_empty() {
            return Ok(verification);
        }
        Ok(not_yet(
            verification,
            format!(
                "The update set is committed, but the instance lacks {}: it is not the set the \
                 page describes.",
                lacks.join(", ")
            ),
        ))
    }

    /// Reads the instance as the admin for the verification of `step`.
    async fn checking<T>(
        &self,
        step: &Step,
        work: impl AsyncFnOnce(&automate::Context<'_>) -> Result<T, automate::AutomateError>,
    ) -> Result<T, SetupError> {
        self.as_admin(
            &format!("Checking \"{}\"", step.title),
            &Default::default(),
            work,
        )
        .await
    }
}

/// `verification`, its checks kept, failed for what the page asks that is not there.
fn not_yet(verification: Verification, message: String) -> Verification {
    Verification {
        passed: false,
        message,
        ..verification
    }
}

//! "Do it for me" on the current step: the plan read from the instance as it is, and applying
//! it with the admin's rights, then verifying the step.

use super::{Setup, SetupError};
use crate::checks::Progress;
use crate::flows::{BrowserSignIn, FlowError};
use crate::profiles::StepKind;
use crate::wizard::automate::{self, AutomateError, Plan};
use crate::wizard::{Event, WizardView};

impl Setup {
    /// What "Do it for me" would change for the current step.
    pub async fn plan(&self) -> Result<Plan, SetupError> {
        Ok(self.automation(false, &Default::default()).await?.0)
    }

    /// Does the current step for the admin, then verifies it. What stopped it is recorded on
    /// the step, as a failed verification is; an update set the admin must upload first is
    /// kept beside the setup, and the message says where.
    pub async fn do_it(
        &mut self,
        browser: &BrowserSignIn,
        progress: Option<Progress>,
    ) -> Result<(Plan, WizardView), SetupError> {
        let journal = std::sync::Mutex::new(Vec::new());
        let done = self.automation(true, &journal).await;
        let changes = journal.into_inner().unwrap_or_default();
        if !changes.is_empty() {
            self.commit(Event::Changed { changes })?;
        }
        let (plan, learned) = match done {
            Ok(done) => done,
            Err(err) => {
                let mut message = format!("{err} {}", err.view().hint);
                if let SetupError::Automate(AutomateError::UploadFirst { .. }) = &err {
                    message.push_str(&self.keep_update_set().await);
                }
                self.commit(Event::VerifyStarted)?;
                self.commit(Event::VerifyFinished {
                    verification: crate::wizard::Verification::refused(message),
                })?;
                return Err(err);
            }
        };
        for (id, value) in learned.inputs {
            self.commit(Event::SetInput { id, value })?;
        }
        for (id, value) in learned.secrets {
            self.give_secret(&id, value).await?;
        }
        let view = self.verify(browser, progress).await?;
        Ok((plan, view))
    }

    /// "Do the rest for me": one plan for the current step and each automatable step after it,
    /// in order, up to the first that needs the admin's hand. A later step is planned against
    /// the instance as it is now; one that cannot be planned yet is where the rest stops, and
    /// the plan says why.
    pub async fn plan_rest(&self) -> Result<Plan, SetupError> {
        let mut rest = self.plan().await?;
        for step in crate::wizard::view::rest_to_do(&self.profile, &self.state) {
            if step.id == self.current().id {
                continue;
            }
            if rest.hand.is_some() {
                break;
            }
            let doing = format!("Planning \"{}\"", step.title);
            let planned = self
                .as_admin(&doing, &Default::default(), async |context| {
                    automate::work(context, step, false).await
                })
                .await;
            match planned {
                Ok((plan, _)) => rest.append(plan),
                Err(err) => {
                    rest.hand = Some(format!("{}: {err} {}", step.title, err.view().hint));
                }
            }
        }
        Ok(rest)
    }

    /// Applies "Do the rest for me": each step as "Do it for me" does (done, then verified), in
    /// order, stopping at the first that fails (recorded on the step, as a failed verification
    /// is) or needs the admin's hand; the view then shows that step's instructions.
    pub async fn do_rest(
        &mut self,
        browser: &BrowserSignIn,
        progress: Option<Progress>,
    ) -> Result<WizardView, SetupError> {
        loop {
            let id = self.current().id.clone();
            let rest = crate::wizard::view::rest_to_do(&self.profile, &self.state);
            if !rest.iter().any(|s| s.id == id) {
                return Ok(self.view());
            }
            let (_, view) = self.do_it(browser, progress.clone()).await?;
            if view.current.id == id {
                return Ok(view);
            }
        }
    }

    /// The current step's plan, or (`apply_it`) its execution, noting each write in `journal`.
    async fn automation(
        &self,
        apply_it: bool,
        journal: &Journal,
    ) -> Result<(Plan, automate::Learned), SetupError> {
        let step = self.current();
        if !step.automation {
            return Err(AutomateError::NotAutomated.into());
        }
        let doing = format!("Doing \"{}\" for you", step.title);
        self.as_admin(&doing, journal, async |context| {
            automate::work(context, step, apply_it).await
        })
        .await
    }

    /// Runs `work` with the automation's context, acting as the admin, for `doing`.
    pub(super) async fn as_admin<T>(
        &self,
        doing: &str,
        journal: &Journal,
        work: impl AsyncFnOnce(&automate::Context<'_>) -> Result<T, AutomateError>,
    ) -> Result<T, SetupError> {
        let client = self.admin_client(doing)?;
        let inputs = self.automation_inputs().await?;
        let templates = self
            .state
            .template_context(&self.profile, &crate::oauth::callback_urls());
        let context = inputs.context(
            &client,
            (&self.profile, &templates),
            &self.state.connection_name,
            (journal, &self.watch),
        );
        Ok(work(&context).await?)
    }

    /// Writes the current step's update set beside the setup; where, in words to append to a
    /// message (nothing when it could not be written: the Download action still offers it).
    async fn keep_update_set(&self) -> String {
        let path = self.store.update_set_path(&self.state.draft);
        match self.update_set_xml().await {
            Ok(xml) if crate::files::atomic_write(&path, xml.as_bytes()).is_ok() => {
                format!(" Snowlink wrote it to {}.", path.display())
            }
            _ => String::new(),
        }
    }

    /// The update set holding the current ACL step's missing ACLs, read as the admin.
    pub(super) async fn acl_update_set(
        &self,
    ) -> Result<Option<crate::updateset::Records>, SetupError> {
        let step = self.current();
        let doing = format!("Writing the update set of \"{}\"", step.title);
        self.as_admin(&doing, &Default::default(), async |context| {
            automate::acl_update_set(context, step).await
        })
        .await
    }

    /// A client acting as the admin, for `doing` (named when no admin signed in).
    pub(super) fn admin_client(&self, doing: &str) -> Result<crate::api::SnowClient, SetupError> {
        let admin = self
            .admin
            .clone()
            .ok_or_else(|| SetupError::NeedsAdmin(doing.to_owned()))?;
        let instance =
            crate::instance::InstanceUrl::parse(&self.state.instance).map_err(FlowError::from)?;
        Ok(crate::api::SnowClient::new(instance, admin.auth()).map_err(FlowError::from)?)
    }

    /// What the automation needs from the setup's other steps.
    async fn automation_inputs(&self) -> Result<AutomationInputs, SetupError> {
        let service = self
            .profile
            .steps
            .iter()
            .find(|s| s.kind == StepKind::ServiceUser);
        let (user_input, password_input) = service
            .map(automate::service_inputs)
            .unwrap_or((None, None));
        let service_password = match password_input {
            Some(input) => self.secret(&input.id).await?,
            None => None,
        };
        let client_secret_known = match self.input_for(crate::errors::InputField::ClientSecret) {
            Some(input) => self.secret(&input.id).await?.is_some(),
            None => false,
        };
        Ok(AutomationInputs {
            service_user: user_input.and_then(|i| self.typed(&i.id)),
            service_password,
            client_secret_known,
        })
    }
}

/// The values of other steps the automation uses.
struct AutomationInputs {
    service_user: Option<String>,
    service_password: Option<String>,
    client_secret_known: bool,
}

impl AutomationInputs {
    fn context<'a>(
        self,
        admin: &'a crate::api::SnowClient,
        (profile, templates): (
            &'a crate::profiles::Profile,
            &'a crate::profiles::TemplateContext,
        ),
        connection_name: &'a str,
        (journal, watch): (&'a Journal, &'a crate::wizard::Watch),
    ) -> automate::Context<'a> {
        automate::Context {
            admin,
            profile,
            templates,
            connection_name,
            service_user: self.service_user,
            service_password: self.service_password,
            client_secret_known: self.client_secret_known,
            journal,
            watch,
        }
    }
}

/// Where the automation notes each record it writes.
type Journal = std::sync::Mutex<Vec<crate::wizard::Change>>;

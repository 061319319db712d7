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
        Ok(self.automation(false).await?.0)
    }

    /// Does the current step for the admin, then verifies it.
    pub async fn do_it(
        &mut self,
        browser: &BrowserSignIn,
        progress: Option<Progress>,
    ) -> Result<(Plan, WizardView), SetupError> {
        let (plan, learned) = self.automation(true).await?;
        for (id, value) in learned.inputs {
            self.commit(Event::SetInput { id, value })?;
        }
        for (id, value) in learned.secrets {
            self.give_secret(&id, value).await?;
        }
        let view = self.verify(browser, progress).await?;
        Ok((plan, view))
    }

    async fn automation(&self, apply_it: bool) -> Result<(Plan, automate::Learned), SetupError> {
        let step = self.current();
        if !step.automation {
            return Err(AutomateError::NotAutomated.into());
        }
        let admin = self
            .admin
            .clone()
            .ok_or_else(|| SetupError::NeedsAdmin(format!("Doing \"{}\" for you", step.title)))?;
        let instance =
            crate::instance::InstanceUrl::parse(&self.state.instance).map_err(FlowError::from)?;
        let client = crate::api::SnowClient::new(
            instance,
            crate::api::Auth::Basic {
                username: admin.username,
                password: admin.password,
            },
        )
        .map_err(FlowError::from)?;
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
        let templates = self.state.template_context(&crate::oauth::callback_urls());
        let context = automate::Context {
            admin: &client,
            profile: &self.profile,
            templates: &templates,
            connection_name: &self.state.connection_name,
            service_user: user_input.and_then(|i| self.typed(&i.id)),
            service_password,
        };
        Ok(automate::work(&context, step, apply_it).await?)
    }
}

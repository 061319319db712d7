//! A setup being run: the profile, the wizard's state (saved after every event), the secrets
//! typed on the way (in the keyring under the setup's draft id when they belong to the
//! connection, in memory otherwise), the admin account for this session, and the work each
//! step's actions do against the instance — verification through the diagnostics' checks,
//! "Do it for me" through [`super::automate`], and the final connect through the engine.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::automate::{self, AutomateError, Plan};
use super::{
    Event, PersonEvent, SetupStore, StoreError, Verification, WizardError, WizardState, WizardView,
    apply, view,
};
use crate::checks::{AdminCredentials, CheckId, Credentials, Progress, RunOptions, Target};
use crate::errors::InputField;
use crate::errors::{ErrorCode, ErrorView, NextStep};
use crate::flows::{BrowserSignIn, ConnectRequest, FlowError, Flows, ProvidedSecrets};
use crate::grants::GrantKind;
use crate::ids::ConnectionId;
use crate::profiles::CheckParams;
use crate::profiles::{LookupError, Profile, Step, StepKind};
use crate::secrets::{
    ApiKey, ClientSecret, Password, SecretError, SecretKind, SecretStore, SecretStoreExt,
};

/// Why a setup action failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Wizard(#[from] WizardError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error(transparent)]
    Profile(#[from] LookupError),
    #[error("{0}")]
    Automate(#[from] AutomateError),
    #[error(transparent)]
    Flows(#[from] FlowError),
    #[error("{0} needs your admin account.")]
    NeedsAdmin(String),
    #[error(transparent)]
    Write(crate::files::WriteFailure),
    #[error(
        "A connection called \"{name}\" already exists, for {instance} ({profile}); this setup \
         would replace it."
    )]
    NameTaken {
        name: String,
        instance: String,
        profile: String,
    },
}

impl SetupError {
    pub fn view(&self) -> ErrorView {
        match self {
            Self::Flows(err) => err.view(),
            Self::Secrets(err) => err.view(),
            Self::Wizard(err) => err.view(),
            Self::Store(err) => err.view(),
            Self::Profile(err) => err.view(),
            Self::Automate(err) => ErrorView::new(ErrorCode::InstanceError, err.to_string(), err.hint()),
            Self::NeedsAdmin(_) => ErrorView::new(
                ErrorCode::InvalidInput,
                self.to_string(),
                "Type the user name and password of a ServiceNow admin; they are used for this setup only and never stored.",
            )
            .next(NextStep::GiveAdminCredentials),
            Self::Write(failure) => failure.view(),
            Self::NameTaken { .. } => ErrorView::new(
                ErrorCode::InvalidInput,
                self.to_string(),
                "Give this connection another name, or remove the other connection first.",
            )
            .field(InputField::ConnectionName),
        }
    }
}

/// A setup being run.
pub struct Setup {
    pub profile: Profile,
    state: WizardState,
    store: SetupStore,
    flows: Flows,
    secrets: Arc<dyn SecretStore>,
    /// Secret inputs that are not the connection's (a service user's password for a browser
    /// sign-in integration): kept for this session only.
    memory: BTreeMap<String, String>,
    admin: Option<AdminCredentials>,
    options: RunOptions,
    /// Something the person should know about how the setup was opened (a saved setup that
    /// held a secret, which was dropped).
    notice: Option<String>,
}

impl Setup {
    /// A new setup of `profile` on `instance`.
    pub fn start(
        profile: Profile,
        instance: &str,
        store: SetupStore,
        flows: Flows,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Self, SetupError> {
        let instance = crate::instance::InstanceUrl::parse(instance).map_err(FlowError::from)?;
        let draft = ConnectionId::random_with_prefix("c")
            .map_err(crate::connections::ConnectionsError::from)
            .map_err(FlowError::from)?;
        let state = WizardState::new(&profile, &instance, draft);
        store.save(&state)?;
        Ok(Self::over(profile, state, store, flows, secrets))
    }

    /// The latest unfinished setup of `profile`. Secrets that were only in memory are gone:
    /// their steps ask for them again. A secret found among the saved inputs (a hand-edited
    /// file) is refused: dropped from the file, and said.
    pub async fn resume(
        profile: Profile,
        store: SetupStore,
        flows: Flows,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Self, SetupError> {
        let mut state = store.latest(&profile.id)?;
        let mut kept = std::collections::BTreeSet::new();
        let owner = ConnectionId::of_setup(&state.draft);
        for id in &state.secrets {
            let Some(input) = profile.input(id) else {
                continue;
            };
            if let Some(kind) = input.field.and_then(InputField::secret_kind)
                && load_secret(secrets.as_ref(), &owner, kind).await?.is_some()
            {
                kept.insert(id.clone());
            }
        }
        state.secrets = kept;
        let refused: Vec<String> = state
            .inputs
            .keys()
            .filter(|id| profile.input(id).is_some_and(|i| i.secret))
            .cloned()
            .collect();
        let notice = (!refused.is_empty()).then(|| {
            for id in &refused {
                state.inputs.remove(id);
            }
            let labels: Vec<String> = refused
                .iter()
                .filter_map(|id| profile.input(id).map(|i| i.label.clone()))
                .collect();
            format!(
                "The saved setup held {} as typed text; secrets belong in the keyring only, so it \
                 was not used and is removed from the file. Type it again on its step.",
                labels.join(", ")
            )
        });
        if notice.is_some() {
            store.save(&state)?;
        }
        let mut setup = Self::over(profile, state, store, flows, secrets);
        setup.notice = notice;
        Ok(setup)
    }

    /// A run over `state`, with nothing in memory yet and default options.
    fn over(
        profile: Profile,
        state: WizardState,
        store: SetupStore,
        flows: Flows,
        secrets: Arc<dyn SecretStore>,
    ) -> Self {
        Self {
            profile,
            state,
            store,
            flows,
            secrets,
            memory: BTreeMap::new(),
            admin: None,
            options: RunOptions::default(),
            notice: None,
        }
    }

    pub fn state(&self) -> &WizardState {
        &self.state
    }

    pub fn view(&self) -> WizardView {
        let mut view = view(&self.profile, &self.state);
        view.current.asks_admin = self.current().kind.reads_as_admin() && self.admin.is_none();
        view.notice = self.notice.clone();
        view
    }

    /// The diagnosis options: CA roots, timeouts.
    pub fn set_options(&mut self, options: RunOptions) {
        self.options = options;
    }

    /// The admin account of this session (never saved).
    pub fn set_admin(&mut self, admin: Option<AdminCredentials>) {
        self.admin = admin;
    }

    fn current(&self) -> &Step {
        self.profile
            .step(&self.state.current)
            .unwrap_or(&self.profile.steps[0])
    }

    fn commit(&mut self, event: Event) -> Result<WizardView, SetupError> {
        self.state = apply(&self.profile, &self.state, event)?;
        self.store.save(&self.state)?;
        Ok(self.view())
    }

    /// What a person did in a front end.
    pub fn event(&mut self, event: PersonEvent) -> Result<WizardView, SetupError> {
        self.commit(event.into())
    }

    /// What was typed on the current step, by input id: a value that changed becomes an event,
    /// a secret goes to the keyring (or memory); an empty secret keeps the one given before.
    /// Sent in one go, so a front end decides nothing about which is which.
    pub async fn give(
        &mut self,
        typed: BTreeMap<String, String>,
    ) -> Result<WizardView, SetupError> {
        for (id, value) in typed {
            let input = self
                .profile
                .input(&id)
                .ok_or_else(|| WizardError::UnknownInput(id.clone()))?;
            if input.secret {
                if !value.is_empty() {
                    self.give_secret(&id, value).await?;
                }
            } else if self
                .state
                .inputs
                .get(&id)
                .map_or(!value.is_empty(), |v| *v != value)
            {
                self.commit(Event::SetInput { id, value })?;
            }
        }
        Ok(self.view())
    }

    /// A secret input typed: to the keyring under the draft id when it is the connection's,
    /// in memory otherwise; the state only learns it was given.
    pub async fn give_secret(&mut self, id: &str, value: String) -> Result<WizardView, SetupError> {
        let input = self
            .profile
            .input(id)
            .ok_or_else(|| WizardError::UnknownInput(id.to_owned()))?;
        match input.field.and_then(InputField::secret_kind) {
            Some(kind) => {
                self.secrets.probe().await?;
                let owner = ConnectionId::of_setup(&self.state.draft);
                save_secret(self.secrets.as_ref(), &owner, kind, value).await?;
            }
            None => {
                self.memory.insert(id.to_owned(), value);
            }
        }
        self.commit(Event::SecretGiven { id: id.to_owned() })
    }

    async fn secret(&self, id: &str) -> Result<Option<String>, SetupError> {
        if let Some(value) = self.memory.get(id) {
            return Ok(Some(value.clone()));
        }
        let Some(kind) = self
            .profile
            .input(id)
            .and_then(|i| i.field)
            .and_then(InputField::secret_kind)
        else {
            return Ok(None);
        };
        // Once the connection is saved, its secrets are the connection's.
        let owner = match &self.state.finished {
            Some(connection) => connection.clone(),
            None => ConnectionId::of_setup(&self.state.draft),
        };
        Ok(load_secret(self.secrets.as_ref(), &owner, kind).await?)
    }

    /// The input filling `field` anywhere in the profile, and its value.
    fn input_for(&self, field: InputField) -> Option<&crate::profiles::Input> {
        self.profile
            .steps
            .iter()
            .flat_map(|s| &s.inputs)
            .find(|i| i.field == Some(field))
    }

    fn typed(&self, id: &str) -> Option<String> {
        self.state.inputs.get(id).cloned().filter(|v| !v.is_empty())
    }

    /// The service user's name and password, from the service-user step.
    async fn service_account(&self) -> Result<Option<(String, Password)>, SetupError> {
        let Some(step) = self
            .profile
            .steps
            .iter()
            .find(|s| s.kind == StepKind::ServiceUser)
        else {
            return Ok(None);
        };
        let (user, password) = automate::service_inputs(step);
        let user = user.and_then(|i| self.typed(&i.id));
        let password = match password {
            Some(input) => self.secret(&input.id).await?,
            None => None,
        };
        Ok(user.zip(password).map(|(u, p)| (u, Password::new(p))))
    }

    fn admin_target(&self, step: &Step) -> Result<Target, SetupError> {
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

    async fn run(
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
                    && let Some(idp) = identity_provider(&self.state.instance).await
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

    /// Signs in as the connection will, saves it, and runs the integration's own checks.
    async fn connect(
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
        }
        Ok(verification)
    }

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

    /// The update set, as the file an admin imports.
    pub fn update_set_xml(&self) -> Result<String, SetupError> {
        update_set_xml(&self.profile, &self.state)
    }

    /// The current step as a request for another admin.
    pub fn handoff(&self) -> Option<String> {
        super::handoff_text(&self.profile, &self.state, &self.state.current)
    }
}

/// How a setup is opened: a new one of `profile` on `instance`, or (`instance` none) the latest
/// unfinished one of `profile`, with the connection's name and inputs given up front.
#[derive(Debug, Clone, Default)]
pub struct Opening {
    pub profile: String,
    pub instance: Option<String>,
    pub name: Option<String>,
    /// Non-secret inputs, as `ID=VALUE` pairs already split.
    pub inputs: Vec<(String, String)>,
}

/// An input given as `ID=VALUE` (a command line's), split.
pub fn input_pair(text: &str) -> Result<(String, String), crate::errors::FrontEndError> {
    text.split_once('=')
        .map(|(id, value)| (id.trim().to_owned(), value.to_owned()))
        .ok_or_else(|| crate::errors::FrontEndError::NotAPair(crate::text::untrusted(text, 80)))
}

impl Setup {
    /// Opens the setup `opening` names, its profile found among `catalog`.
    pub async fn open(
        catalog: &crate::profiles::Catalog,
        opening: Opening,
        store: SetupStore,
        flows: Flows,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Self, SetupError> {
        let profile = catalog.get(&opening.profile)?.clone();
        let mut setup = match &opening.instance {
            Some(instance) => Self::start(profile, instance, store, flows, secrets)?,
            None => Self::resume(profile, store, flows, secrets).await?,
        };
        if let Some(name) = opening.name {
            setup.commit(Event::SetConnectionName { value: name })?;
        }
        for (id, value) in opening.inputs {
            setup.commit(Event::SetInput { id, value })?;
        }
        Ok(setup)
    }

    /// Writes the update set to `path`; what to tell the admin about importing it.
    pub fn save_update_set(&self, path: &std::path::Path) -> Result<String, SetupError> {
        write_update_set(&self.profile, &self.state, path)
    }
}

/// Writes the update set of profile `id` (among `catalog`) for `instance`, its templates filled
/// from `inputs`, to `path`, without a setup; what to tell the admin.
pub fn export_update_set(
    catalog: &crate::profiles::Catalog,
    id: &str,
    instance: &str,
    inputs: Vec<(String, String)>,
    path: &std::path::Path,
) -> Result<String, SetupError> {
    let profile = catalog.get(id)?;
    let instance = crate::instance::InstanceUrl::parse(instance).map_err(FlowError::from)?;
    let draft = ConnectionId::random_with_prefix("c")
        .map_err(crate::connections::ConnectionsError::from)
        .map_err(FlowError::from)?;
    let mut state = WizardState::new(profile, &instance, draft);
    for (id, value) in inputs {
        state = apply(profile, &state, Event::SetInput { id, value })?;
    }
    write_update_set(profile, &state, path)
}

/// Writes `profile`'s update set with `state`'s values to `path`; what to tell the admin.
pub fn write_update_set(
    profile: &Profile,
    state: &WizardState,
    path: &std::path::Path,
) -> Result<String, SetupError> {
    let xml = update_set_xml(profile, state)?;
    crate::files::atomic_write(path, xml.as_bytes()).map_err(SetupError::Write)?;
    Ok(format!(
        "Wrote the update set \"{}\" to {}: import it in System Update Sets > Retrieved Update \
         Sets > Import Update Set from XML, then preview and commit it, and verify the step.",
        profile.update_set.as_ref().map_or("", |s| s.name.as_str()),
        path.display()
    ))
}

/// The update set of `profile` with `state`'s values, dated now: the file an admin imports.
pub fn update_set_xml(profile: &Profile, state: &WizardState) -> Result<String, SetupError> {
    let templates = state.template_context(&crate::oauth::callback_urls());
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
    crate::updateset::generate(profile, &templates, &date)
        .map_err(|err| AutomateError::UpdateSet(err).into())
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

async fn save_secret(
    store: &dyn SecretStore,
    id: &ConnectionId,
    kind: SecretKind,
    value: String,
) -> Result<(), SecretError> {
    match kind {
        SecretKind::ClientSecret => store.save(id, &ClientSecret::new(value)).await,
        SecretKind::ApiKey => store.save(id, &ApiKey::new(value)).await,
        _ => store.save(id, &Password::new(value)).await,
    }
}

async fn load_secret(
    store: &dyn SecretStore,
    id: &ConnectionId,
    kind: SecretKind,
) -> Result<Option<String>, SecretError> {
    Ok(match kind {
        SecretKind::ClientSecret => store
            .load::<ClientSecret>(id)
            .await?
            .map(|s| s.expose().to_owned()),
        SecretKind::ApiKey => store
            .load::<ApiKey>(id)
            .await?
            .map(|s| s.expose().to_owned()),
        _ => store
            .load::<Password>(id)
            .await?
            .map(|s| s.expose().to_owned()),
    })
}

/// Whether the instance's sign-in page sends people to another host: an identity provider.
async fn identity_provider(instance: &str) -> Option<String> {
    let instance = crate::instance::InstanceUrl::parse(instance).ok()?;
    let url = instance.endpoint("/login.do").ok()?;
    let http = crate::http::client(std::time::Duration::from_secs(10)).ok()?;
    let answer = http.get(url).send().await.ok()?;
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    idp_host(location, instance.host())
}

/// The host a sign-in redirect goes to, when it is not the instance.
fn idp_host(location: &str, instance_host: &str) -> Option<String> {
    let target = url::Url::parse(location).ok()?;
    let host = target.host_str()?;
    (host != instance_host).then(|| crate::text::untrusted(host, 100))
}

#[cfg(test)]
mod tests {
    use super::idp_host;

    #[test]
    fn a_redirect_to_another_host_is_an_identity_provider() {
        assert_eq!(
            idp_host(
                "https://login.microsoftonline.com/x/saml2?SAMLRequest=1",
                "acme.service-now.com"
            )
            .as_deref(),
            Some("login.microsoftonline.com")
        );
        assert_eq!(
            idp_host(
                "https://acme.service-now.com/navpage.do",
                "acme.service-now.com"
            ),
            None
        );
        assert_eq!(idp_host("/navpage.do", "acme.service-now.com"), None);
    }
}

//! A setup being run: the profile, the wizard's state (saved after every event), the secrets
//! typed on the way (in the keyring under the setup's draft id when they belong to the
//! connection, in memory otherwise), the admin account for this session, and the work each
//! step's actions do against the instance — verification through the diagnostics' checks,
//! "Do it for me" through [`super::automate`], and the final connect through the engine.

mod automation;
mod connect;
mod idp;
mod secrets;
mod undo;
mod update_set;
mod verify;

use std::collections::BTreeMap;
use std::sync::Arc;

use super::automate::AutomateError;
use super::{
    Event, PersonEvent, SetupStore, StoreError, WizardError, WizardState, WizardView, apply, view,
};
use crate::checks::{AdminCredentials, RunOptions};
use crate::errors::{ErrorCode, ErrorView, InputField, NextStep};
use crate::flows::{FlowError, Flows};
use crate::ids::ConnectionId;
use crate::profiles::{LookupError, Profile, Step};
use crate::secrets::{SecretError, SecretStore, SecretStoreExt};

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
    /// Who watches "Do it for me" wait on the instance, and can stop the wait.
    watch: crate::wizard::Watch,
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
                && secrets::load_secret(secrets.as_ref(), &owner, kind)
                    .await?
                    .is_some()
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
            watch: crate::wizard::Watch::default(),
            notice: None,
        }
    }

    pub fn state(&self) -> &WizardState {
        &self.state
    }

    pub fn view(&self) -> WizardView {
        let mut view = view(&self.profile, &self.state);
        view.current.asks_admin = self.current().kind.reads_as_admin() && self.admin.is_none();
        view.current.admin_remembered = view.current.asks_admin && self.remembers_admin();
        view.notice = self.notice.clone();
        view
    }

    /// The diagnosis options: CA roots, timeouts.
    pub fn set_options(&mut self, options: RunOptions) {
        self.options = options;
    }

    /// Signs the admin in with Snowlink's own OAuth application (the Client ID, and the secret
    /// if any, typed on "Let Snowlink in"): with the sign-in remembered for the instance when
    /// there is one, else through the browser, remembering it when `remember` says so and the
    /// application has a secret. The token is kept in memory; what was remembered is the
    /// view's notice. The step is verified after, as any other.
    pub async fn sign_in_admin(
        &mut self,
        browser: &crate::flows::BrowserSignIn,
        remember: bool,
    ) -> Result<(), SetupError> {
        use crate::profiles::admin_access::{CLIENT_ID_INPUT, CLIENT_SECRET_INPUT};
        let app = crate::flows::AdminApp {
            client_id: self.typed(CLIENT_ID_INPUT).unwrap_or_default(),
            client_secret: self
                .secret(CLIENT_SECRET_INPUT)
                .await?
                .map(crate::secrets::ClientSecret::new),
        };
        let instance =
            crate::instance::InstanceUrl::parse(&self.state.instance).map_err(FlowError::from)?;
        let session = self
            .flows
            .admin_sign_in(&instance, app, remember, browser, std::future::pending())
            .await?;
        self.notice = session.notice();
        self.admin = Some(session.credentials);
        Ok(())
    }

    /// Whether the admin can be signed in through the browser without asking: the Client ID
    /// of Snowlink's application was given on "Let Snowlink in", or a sign-in is remembered
    /// for the instance.
    pub fn knows_admin_app(&self) -> bool {
        self.typed(crate::profiles::admin_access::CLIENT_ID_INPUT)
            .is_some()
            || self.remembers_admin()
    }

    /// Whether an admin sign-in is remembered for this setup's instance.
    pub fn remembers_admin(&self) -> bool {
        crate::instance::InstanceUrl::parse(&self.state.instance)
            .is_ok_and(|instance| self.flows.remembers_admin(&instance))
    }

    /// Who is told what "Do it for me" waits for, and can stop the wait.
    pub fn set_watch(&mut self, watch: crate::wizard::Watch) {
        self.watch = watch;
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
                secrets::save_secret(self.secrets.as_ref(), &owner, kind, value).await?;
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
        Ok(secrets::load_secret(self.secrets.as_ref(), &owner, kind).await?)
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

    /// The update set the current step asks the admin to upload, as the file an admin
    /// imports: the missing ACLs on an ACL step (read from the instance as the admin), the
    /// profile's own set otherwise.
    pub async fn update_set_xml(&self) -> Result<String, SetupError> {
        if self.current().kind == crate::profiles::StepKind::Acls {
            let records = self.acl_update_set().await?.ok_or_else(|| {
                SetupError::Automate(AutomateError::NothingToUpload(self.current().title.clone()))
            })?;
            let date = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
            return crate::updateset::unload(&records, &date)
                .map_err(|err| AutomateError::UpdateSet(err).into());
        }
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

    /// Writes the current step's update set to `path`; what to tell the admin about
    /// importing it.
    pub async fn save_update_set(&self, path: &std::path::Path) -> Result<String, SetupError> {
        let xml = self.update_set_xml().await?;
        update_set::write_xml(path, &xml, &self.current().title)
    }
}

pub use update_set::{export_update_set, update_set_xml, write_update_set};

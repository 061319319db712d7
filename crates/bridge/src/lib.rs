//! The desktop app's engine side. The app's window asks for things with a [`Request`]
//! (`list_connections`, `verify_step`, …, one typed enum shared with the UI); [`Bridge::call`]
//! answers each with the core's views, streaming progress as named events, and every failure as
//! the core's `ErrorView`. The shell
//! holds no engine: it starts `snowlink serve` beside itself and relays the window's requests
//! to it over JSON lines ([`serve`]), so the app's own binary stays a thin Tauri window.

mod accounts;
mod bindings;
mod demo;
mod diagnose;
pub mod error;
mod request;
mod serve;
mod setup;

use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use snowlink_core::errors::{ErrorView, FrontEndError};
use snowlink_core::oauth::{Browser, SystemBrowser};
use snowlink_core::{BrowserUrl, InstanceUrlView};

pub use accounts::{Edited, Linked, NewSecrets, Removed, Unlinked};
pub use demo::DemoInstance;
pub use diagnose::{DiagnoseRequest, DiagnosisEvent};
pub use error::UiError;
pub use request::Request;
pub use serve::serve;

/// Where a request's events go: `(channel, data)`, for the window to hand to its listener.
pub type Events = Arc<dyn Fn(&str, Value) + Send + Sync>;

/// One named stream of a request's events (a sign-in URL, each check, each step).
pub struct Channel<T> {
    name: &'static str,
    events: Events,
    kind: PhantomData<fn(T)>,
}

impl<T: Serialize> Channel<T> {
    pub fn new(name: &'static str, events: &Events) -> Self {
        Self {
            name,
            events: events.clone(),
            kind: PhantomData,
        }
    }

    /// Sends one event; one that cannot be encoded is dropped (it never happens for the
    /// core's views).
    pub fn send(&self, value: T) -> Result<(), serde_json::Error> {
        let data = serde_json::to_value(value)?;
        (self.events)(self.name, data);
        Ok(())
    }
}

/// Everything the window's requests share: the connection engine, the last diagnosis, the
/// open setup and the simulated instance.
pub struct Bridge {
    accounts: accounts::Accounts,
    diagnoses: diagnose::Diagnoses,
    setups: setup::Setups,
    demo: demo::Demo,
}

impl Bridge {
    /// Over the platform config directory (`SNOWLINK_CONFIG_DIR` overrides it) and the OS
    /// keyring.
    pub fn from_environment() -> Self {
        Self::with(accounts::Accounts::from_environment())
    }

    /// Over the connections file `store` and the OS keyring.
    pub fn over(store: snowlink_core::connections::ConnectionStore) -> Self {
        Self::with(accounts::Accounts::over(store))
    }

    fn with(accounts: accounts::Accounts) -> Self {
        Self {
            accounts,
            diagnoses: diagnose::Diagnoses::default(),
            setups: setup::Setups::default(),
            demo: demo::Demo::default(),
        }
    }

    /// Answers `request`; its events go to `events`.
    pub async fn call(&self, request: Request, events: Events) -> Result<Value, ErrorView> {
        let a = &self.accounts;
        let answer = match request {
            Request::ParseInstance { text } => {
                to_json(InstanceUrlView::parse(&text).map_err(UiError::from))
            }
            Request::OpenInBrowser { url } => to_json(open_in_browser(&url)),
            Request::ListConnections {} => to_json(accounts::list_connections(a).await),
            Request::CheckConnection { id } => to_json(accounts::check_connection(a, id).await),
            Request::LinkAccount { id } => {
                to_json(accounts::link_account(a, id, Channel::new("url", &events)).await)
            }
            Request::PasteSignIn { address } => to_json(accounts::paste_sign_in(a, address).await),
            Request::CancelSignIn {} => {
                accounts::cancel_sign_in(a);
                Ok(Value::Null)
            }
            Request::StopWaiting {} => {
                setup::stop_waiting(&self.setups);
                Ok(Value::Null)
            }
            Request::UnlinkAccount { id } => to_json(accounts::unlink_account(a, id).await),
            Request::RemoveConnection { id } => to_json(accounts::remove_connection(a, id).await),
            Request::ListAdminSignIns {} => {
                to_json(a.flows().and_then(|f| Ok(f.remembered_admins()?)))
            }
            Request::ForgetAdminSignIn { instance } => {
                to_json(accounts::forget_admin(a, instance).await)
            }
            Request::EditForm { id } => to_json(accounts::edit_form(a, id).await),
            Request::EditConnection {
                id,
                changes,
                secrets,
            } => to_json(
                accounts::edit_connection(
                    a,
                    id,
                    changes,
                    secrets,
                    Channel::new("progress", &events),
                )
                .await,
            ),
            Request::RunDiagnosis { request } => to_json(
                diagnose::run_diagnosis(
                    a,
                    &self.diagnoses,
                    request,
                    Channel::new("events", &events),
                    Channel::new("url", &events),
                )
                .await,
            ),
            Request::DiagnosisText {} => to_json(diagnose::diagnosis_text(&self.diagnoses)),
            Request::ExportBundle { path } => {
                to_json(diagnose::export_bundle(&self.diagnoses, path))
            }
            Request::StartDemoInstance {} => to_json(demo::start_demo_instance(&self.demo).await),
            Request::ListProfiles {} => to_json(setup::list_profiles(a)),
            Request::ProfileRecipe { profile, instance } => {
                to_json(setup::profile_recipe(a, &profile, instance.as_deref()))
            }
            Request::ListSavedSetups {} => to_json(setup::list_saved_setups(a)),
            Request::StartSetup {
                profile,
                instance,
                resume,
            } => to_json(setup::start_setup(a, &self.setups, profile, instance, resume).await),
            Request::SetupView {} => to_json(setup::setup_view(&self.setups).await),
            Request::CloseSetup {} => to_json(setup::close_setup(&self.setups).await),
            Request::SetupEvent { event } => to_json(setup::setup_event(&self.setups, event).await),
            Request::SetupInputs { values } => {
                to_json(setup::setup_inputs(&self.setups, values).await)
            }
            Request::SetupAdmin {
                username,
                password,
                code,
            } => to_json(setup::setup_admin(&self.setups, username, password, code).await),
            Request::SetupAdminBrowser { remember } => to_json(
                setup::setup_admin_browser(
                    &self.setups,
                    remember,
                    Channel::new("events", &events),
                    Channel::new("url", &events),
                )
                .await,
            ),
            Request::VerifyStep {} => to_json(
                setup::verify_step(
                    &self.setups,
                    Channel::new("events", &events),
                    Channel::new("url", &events),
                )
                .await,
            ),
            Request::PlanStep {} => to_json(setup::plan_step(&self.setups).await),
            Request::PlanRest {} => to_json(setup::plan_rest(&self.setups).await),
            Request::PlanUndo {} => to_json(setup::plan_undo(&self.setups).await),
            Request::Undo {} => to_json(setup::undo(&self.setups).await),
            Request::DoRest {} => to_json(
                setup::do_rest(
                    &self.setups,
                    (
                        Channel::new("events", &events),
                        Channel::new("url", &events),
                    ),
                    Channel::new("activity", &events),
                )
                .await,
            ),
            Request::DoStep {} => to_json(
                setup::do_step(
                    &self.setups,
                    (
                        Channel::new("events", &events),
                        Channel::new("url", &events),
                    ),
                    Channel::new("activity", &events),
                )
                .await,
            ),
            Request::SaveUpdateSet { path } => {
                to_json(setup::save_update_set(&self.setups, path).await)
            }
            Request::HandoffText {} => to_json(setup::handoff_text(&self.setups).await),
        };
        answer.map_err(|err| err.0)
    }
}

/// Opens an http(s) page in the system browser (never in the app's own webview), as a sign-in
/// does: `$BROWSER` first, then the desktop's opener.
fn open_in_browser(url: &str) -> Result<(), UiError> {
    let url = BrowserUrl::parse(url).map_err(|err| UiError(err.view()))?;
    SystemBrowser::from_env()
        .open(&url)
        .map_err(|err| UiError(err.view()))
}

fn to_json<T: Serialize>(answer: Result<T, UiError>) -> Result<Value, UiError> {
    serde_json::to_value(answer?)
        .map_err(|err| UiError(FrontEndError::Unencodable(err.to_string()).view()))
}

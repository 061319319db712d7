//! The desktop app's engine side. The app's window asks for things by name (`list_connections`,
//! `verify_step`, …) with JSON parameters; [`Bridge::call`] answers each with the core's views,
//! streaming progress as named events, and every failure as the core's `ErrorView`. The shell
//! holds no engine: it starts `snowlink serve` beside itself and relays the window's requests
//! to it over JSON lines ([`serve`]), so the app's own binary stays a thin Tauri window.

mod accounts;
mod bindings;
mod demo;
mod diagnose;
pub mod error;
mod serve;
mod setup;

use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use snowlink_core::oauth::{Browser, SystemBrowser};
use snowlink_core::views::{ErrorCode, ErrorView};
use snowlink_core::{BrowserUrl, InstanceUrlView};

pub use accounts::{Edited, NewSecrets, Removed, Unlinked};
pub use demo::DemoInstance;
pub use diagnose::{DiagnoseRequest, DiagnosisEvent};
pub use error::UiError;
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

    /// Answers the request `method` with `params` (a JSON object of named parameters).
    pub async fn call(
        &self,
        method: &str,
        params: Value,
        events: Events,
    ) -> Result<Value, ErrorView> {
        let p = Params(params);
        let a = &self.accounts;
        let answer = match method {
            "parse_instance" => {
                to_json(InstanceUrlView::parse(&p.get::<String>("text")?).map_err(UiError::from))
            }
            "open_in_browser" => to_json(open_in_browser(&p.get::<String>("url")?)),
            "list_connections" => to_json(accounts::list_connections(a).await),
            "check_connection" => to_json(accounts::check_connection(a, p.get("id")?).await),
            "link_account" => {
                to_json(accounts::link_account(a, p.get("id")?, Channel::new("url", &events)).await)
            }
            "paste_sign_in" => to_json(accounts::paste_sign_in(a, p.get("address")?).await),
            "cancel_sign_in" => {
                accounts::cancel_sign_in(a);
                Ok(Value::Null)
            }
            "unlink_account" => to_json(accounts::unlink_account(a, p.get("id")?).await),
            "remove_connection" => to_json(accounts::remove_connection(a, p.get("id")?).await),
            "edit_form" => to_json(accounts::edit_form(a, p.get("id")?).await),
            "edit_connection" => to_json(
                accounts::edit_connection(
                    a,
                    p.get("id")?,
                    p.get("changes")?,
                    p.get("secrets")?,
                    Channel::new("progress", &events),
                )
                .await,
            ),
            "run_diagnosis" => to_json(
                diagnose::run_diagnosis(
                    a,
                    &self.diagnoses,
                    p.get("request")?,
                    Channel::new("events", &events),
                )
                .await,
            ),
            "diagnosis_text" => to_json(diagnose::diagnosis_text(&self.diagnoses)),
            "export_bundle" => to_json(diagnose::export_bundle(&self.diagnoses, p.get("path")?)),
            "start_demo_instance" => to_json(demo::start_demo_instance(&self.demo).await),
            "list_profiles" => to_json(setup::list_profiles(a)),
            "list_saved_setups" => to_json(setup::list_saved_setups(a)),
            "start_setup" => to_json(
                setup::start_setup(
                    a,
                    &self.setups,
                    p.get("profile")?,
                    p.get("instance")?,
                    p.get("resume")?,
                )
                .await,
            ),
            "setup_view" => to_json(setup::setup_view(&self.setups).await),
            "close_setup" => to_json(setup::close_setup(&self.setups).await),
            "setup_event" => to_json(setup::setup_event(&self.setups, p.get("event")?).await),
            "setup_secret" => {
                to_json(setup::setup_secret(&self.setups, p.get("id")?, p.get("value")?).await)
            }
            "setup_admin" => to_json(
                setup::setup_admin(&self.setups, p.get("username")?, p.get("password")?).await,
            ),
            "verify_step" => to_json(
                setup::verify_step(
                    &self.setups,
                    Channel::new("events", &events),
                    Channel::new("url", &events),
                )
                .await,
            ),
            "plan_step" => to_json(setup::plan_step(&self.setups).await),
            "do_step" => to_json(
                setup::do_step(
                    &self.setups,
                    Channel::new("events", &events),
                    Channel::new("url", &events),
                )
                .await,
            ),
            "save_update_set" => {
                to_json(setup::save_update_set(&self.setups, p.get("path")?).await)
            }
            "handoff_text" => to_json(setup::handoff_text(&self.setups).await),
            other => Err(UiError(ErrorView::new(
                ErrorCode::Internal,
                format!(
                    "The app asked for \"{}\", which this engine does not know.",
                    snowlink_core::text::untrusted(other, 60)
                ),
                "Reinstall Snowlink: the app and its engine come from different versions.",
            ))),
        };
        answer.map_err(|err| err.0)
    }
}

/// Opens an http(s) page in the system browser (never in the app's own webview), as a sign-in
/// does: `$BROWSER` first, then the desktop's opener.
fn open_in_browser(url: &str) -> Result<(), UiError> {
    let url = BrowserUrl::parse(url).map_err(|err| {
        UiError(ErrorView::new(
            ErrorCode::InvalidInput,
            err.to_string(),
            "Copy the address into your browser yourself if you trust it.",
        ))
    })?;
    SystemBrowser::from_env().open(&url).map_err(|err| {
        UiError(
            ErrorView::new(
                ErrorCode::BrowserUnavailable,
                format!("The system browser could not be opened: {err}"),
                "Copy the address and open it in your browser yourself, or set $BROWSER to your \
                 browser's command.",
            )
            .retryable(true),
        )
    })
}

/// A request's named parameters.
struct Params(Value);

impl Params {
    /// The parameter `name` (a missing one reads as `null`, which an `Option` accepts).
    fn get<T: DeserializeOwned>(&self, name: &str) -> Result<T, ErrorView> {
        let value = self.0.get(name).cloned().unwrap_or(Value::Null);
        // serde's message may quote the value, which can be a secret: only the name is said.
        serde_json::from_value(value).map_err(|_| {
            ErrorView::new(
                ErrorCode::Internal,
                format!(
                    "The app sent a request Snowlink cannot read (its {name} is missing or of the \
                     wrong kind)."
                ),
                "Reinstall Snowlink: the app and its engine come from different versions.",
            )
        })
    }
}

fn to_json<T: Serialize>(answer: Result<T, UiError>) -> Result<Value, UiError> {
    serde_json::to_value(answer?).map_err(|err| {
        UiError(ErrorView::new(
            ErrorCode::Internal,
            format!("The engine could not encode its answer: {err}"),
            "Try again; if it keeps happening, export a support bundle and send it to us.",
        ))
    })
}

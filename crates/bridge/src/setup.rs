//! The setup wizard's commands: list the integration profiles and the unfinished setups, start
//! or resume one, and for its current step take what the person typed (secrets straight to the
//! keyring), verify it on the instance with each check streamed as it runs, show and apply
//! "Do it for me", save the update set where the save dialog said, and give the hand-off text.
//! Every rule is the core's `wizard`; these are a few lines each over `Setup`.

use std::sync::Arc;

use crate::Channel;
use snowlink_core::BrowserUrl;
use snowlink_core::checks::AdminCredentials;
use snowlink_core::engine::BrowserSignIn;
use snowlink_core::oauth::{Browser, BrowserError, CALLBACK_PORTS, SystemBrowser};
use snowlink_core::profiles::{self, Profile, ProfileSummary};
use snowlink_core::secrets::{KeyringStore, SecretStore};
use snowlink_core::views::{ErrorCode, ErrorView};
use snowlink_core::wizard::run::{Setup, SetupError};
use snowlink_core::wizard::{PersonEvent, Plan, SavedSetup, SetupStore, WizardView, saved_setups};
use tokio::sync::Mutex;

use crate::accounts::{Accounts, SIGN_IN_WAIT};
use crate::diagnose::{DiagnosisEvent, progress_to};
use crate::error::UiError;

/// The setup open in the window, if any.
#[derive(Default)]
pub struct Setups(Mutex<Option<Setup>>);

fn ui(err: SetupError) -> UiError {
    UiError(err.view())
}

fn no_setup() -> UiError {
    UiError(ErrorView::new(
        ErrorCode::InvalidInput,
        "No setup is open.",
        "Choose an integration and start its setup.",
    ))
}

fn all_profiles(accounts: &Accounts) -> Result<Vec<profiles::Loaded>, UiError> {
    let engine = accounts.engine()?;
    profiles::load_all(Some(&profiles::folder(engine.config_file()))).map_err(|err| {
        UiError(ErrorView::new(
            ErrorCode::ConfigError,
            err.to_string(),
            err.hint(),
        ))
    })
}

fn store(accounts: &Accounts) -> Result<SetupStore, UiError> {
    Ok(SetupStore::beside(accounts.engine()?.config_file()))
}

/// The browser sign-in of a connect step: the system browser, its URL sent over `url`.
fn browser(url: Channel<String>) -> BrowserSignIn {
    BrowserSignIn {
        ports: CALLBACK_PORTS.to_vec(),
        browser: Some(Arc::new(SystemBrowser::from_env()) as Arc<dyn Browser>),
        wait: SIGN_IN_WAIT,
        show_url: Arc::new(move |authorize: &BrowserUrl, _: Option<&BrowserError>| {
            let _ = url.send(authorize.as_str().to_owned());
        }),
        paste: None,
    }
}

pub fn list_profiles(accounts: &Accounts) -> Result<Vec<ProfileSummary>, UiError> {
    Ok(all_profiles(accounts)?
        .iter()
        .map(ProfileSummary::of)
        .collect())
}

pub fn list_saved_setups(accounts: &Accounts) -> Result<Vec<SavedSetup>, UiError> {
    let profiles: Vec<Profile> = all_profiles(accounts)?
        .into_iter()
        .map(|l| l.profile)
        .collect();
    Ok(saved_setups(&store(accounts)?, &profiles))
}

/// Starts a setup of `profile` on `instance`, or with `resume` goes on with its latest one.
pub async fn start_setup(
    accounts: &Accounts,
    setups: &Setups,
    profile: String,
    instance: Option<String>,
    resume: bool,
) -> Result<WizardView, UiError> {
    let chosen = all_profiles(accounts)?
        .into_iter()
        .map(|l| l.profile)
        .find(|p| p.id == profile)
        .ok_or_else(|| ui(SetupError::UnknownProfile(profile.clone())))?;
    let engine = accounts.engine()?;
    let secrets: Arc<dyn SecretStore> = Arc::new(KeyringStore::new());
    let store = store(accounts)?;
    let setup = if resume {
        Setup::resume(chosen, store, engine, secrets).await
    } else {
        let instance = instance.unwrap_or_default();
        Setup::start(chosen, &instance, store, engine, secrets)
    }
    .map_err(ui)?;
    let view = setup.view();
    *setups.0.lock().await = Some(setup);
    Ok(view)
}

/// The open setup's view (`null` when none is open).
pub async fn setup_view(setups: &Setups) -> Result<Option<WizardView>, UiError> {
    Ok(setups.0.lock().await.as_ref().map(Setup::view))
}

pub async fn close_setup(setups: &Setups) -> Result<(), UiError> {
    *setups.0.lock().await = None;
    Ok(())
}

/// Something the person did: typed a value, moved between steps, skipped or acknowledged one.
pub async fn setup_event(setups: &Setups, event: PersonEvent) -> Result<WizardView, UiError> {
    let mut open = setups.0.lock().await;
    let setup = open.as_mut().ok_or_else(no_setup)?;
    setup.event(event).map_err(ui)
}

/// A secret typed on the current step: to the keyring, never into the saved setup.
pub async fn setup_secret(
    setups: &Setups,
    id: String,
    value: String,
) -> Result<WizardView, UiError> {
    let mut open = setups.0.lock().await;
    let setup = open.as_mut().ok_or_else(no_setup)?;
    setup.give_secret(&id, value).await.map_err(ui)
}

/// The admin account for this session (kept in memory, never saved).
pub async fn setup_admin(
    setups: &Setups,
    username: String,
    password: String,
) -> Result<WizardView, UiError> {
    let mut open = setups.0.lock().await;
    let setup = open.as_mut().ok_or_else(no_setup)?;
    setup.set_admin(AdminCredentials::given(&username, password));
    Ok(setup.view())
}

/// Verifies the current step; each check is streamed over `events`, a browser sign-in's URL
/// over `url`. A failed verification is in the returned view, not an error.
pub async fn verify_step(
    setups: &Setups,
    events: Channel<DiagnosisEvent>,
    url: Channel<String>,
) -> Result<WizardView, UiError> {
    let mut open = setups.0.lock().await;
    let setup = open.as_mut().ok_or_else(no_setup)?;
    match setup.verify(&browser(url), Some(progress_to(events))).await {
        Ok(view) => Ok(view),
        // Refused before it ran (an input missing, a step locked), or not saved.
        Err(err @ (SetupError::Wizard(_) | SetupError::Store(_))) => Err(ui(err)),
        // Recorded on the step: the view shows why.
        Err(_) => Ok(setup.view()),
    }
}

/// What "Do it for me" would change for the current step.
pub async fn plan_step(setups: &Setups) -> Result<Plan, UiError> {
    let open = setups.0.lock().await;
    open.as_ref().ok_or_else(no_setup)?.plan().await.map_err(ui)
}

/// Does the current step for the admin (the plan was shown and accepted), then verifies it.
pub async fn do_step(
    setups: &Setups,
    events: Channel<DiagnosisEvent>,
    url: Channel<String>,
) -> Result<WizardView, UiError> {
    let mut open = setups.0.lock().await;
    let setup = open.as_mut().ok_or_else(no_setup)?;
    let (_, view) = setup
        .do_it(&browser(url), Some(progress_to(events)))
        .await
        .map_err(ui)?;
    Ok(view)
}

/// Writes the integration's update set to `path` (chosen in the save dialog).
pub async fn save_update_set(setups: &Setups, path: String) -> Result<(), UiError> {
    let open = setups.0.lock().await;
    let xml = open
        .as_ref()
        .ok_or_else(no_setup)?
        .update_set_xml()
        .map_err(ui)?;
    snowlink_core::files::atomic_write(std::path::Path::new(&path), xml.as_bytes()).map_err(|f| {
        UiError(ErrorView::new(
            ErrorCode::ConfigError,
            format!("Could not {} {}: {}", f.action, f.path.display(), f.error),
            "Choose a folder you may write to.",
        ))
    })
}

/// The current step as a request for another admin (nothing secret in it).
pub async fn handoff_text(setups: &Setups) -> Result<String, UiError> {
    let open = setups.0.lock().await;
    open.as_ref()
        .ok_or_else(no_setup)?
        .handoff()
        .ok_or_else(no_setup)
}

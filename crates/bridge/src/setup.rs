//! The setup wizard's commands: list the integration profiles and the unfinished setups, start
//! or resume one, and for its current step take what the person typed (secrets straight to the
//! keyring), verify it on the instance with each check streamed as it runs, show and apply
//! "Do it for me", save the update set where the save dialog said, and give the hand-off text.
//! Every rule is the core's `wizard`; these are a few lines each over `Setup`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::Channel;
use snowlink_core::BrowserUrl;
use snowlink_core::checks::AdminCredentials;
use snowlink_core::errors::FrontEndError;
use snowlink_core::flows::BrowserSignIn;
use snowlink_core::instance::InstanceUrl;
use snowlink_core::oauth::{Browser, BrowserError, CALLBACK_PORTS, SystemBrowser};
use snowlink_core::profiles::{Catalog, ProfileList};
use snowlink_core::secrets::{KeyringStore, SecretStore};
use snowlink_core::wizard::run::{Opening, Setup, SetupError};
use snowlink_core::wizard::{
    PersonEvent, Plan, SavedSetups, SetupStore, Watch, WizardView, recipe, saved_setups,
};
use tokio::sync::Mutex;

use crate::accounts::{Accounts, SIGN_IN_WAIT};
use crate::diagnose::{DiagnosisEvent, progress_to};
use crate::error::UiError;

/// The setup open in the window, if any, and the switch that stops "Do it for me" waiting on
/// the instance (outside the lock the waiting work holds).
#[derive(Default)]
pub struct Setups {
    open: Mutex<Option<Setup>>,
    stop: Arc<AtomicBool>,
}

/// Watches the work about to start: what it waits for goes over `activity`, and
/// [`stop_waiting`] stops the wait.
fn watch(setups: &Setups, setup: &mut Setup, activity: Channel<String>) {
    setups.stop.store(false, Ordering::SeqCst);
    setup.set_watch(Watch {
        activity: Some(Arc::new(move |text: &str| {
            let _ = activity.send(text.to_owned());
        })),
        stop: setups.stop.clone(),
    });
}

/// Stops "Do it for me" waiting on the instance (the instance goes on with what it started).
pub fn stop_waiting(setups: &Setups) {
    setups.stop.store(true, Ordering::SeqCst);
}

fn ui(err: SetupError) -> UiError {
    UiError(err.view())
}

fn no_setup() -> UiError {
    UiError(FrontEndError::NoSetupOpen.view())
}

fn catalog(accounts: &Accounts) -> Result<Catalog, UiError> {
    Ok(Catalog::beside(accounts.flows()?.config_file()))
}

fn store(accounts: &Accounts) -> Result<SetupStore, UiError> {
    Ok(SetupStore::beside(accounts.flows()?.config_file()))
}

/// The browser sign-in of a connect step: the system browser, its URL sent over `url`.
pub fn browser(url: Channel<String>) -> BrowserSignIn {
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

/// The integrations, and the profile files that could not be read (shown on the picker).
pub fn list_profiles(accounts: &Accounts) -> Result<ProfileList, UiError> {
    Ok(catalog(accounts)?.list())
}

/// Every step of `profile`, rendered for `instance` when one was typed (a bad one is left
/// out: the links then wait for it), as the Markdown of a change request.
pub fn profile_recipe(
    accounts: &Accounts,
    profile: &str,
    instance: Option<&str>,
) -> Result<String, UiError> {
    let catalog = catalog(accounts)?;
    let profile = catalog.get(profile).map_err(|err| UiError(err.view()))?;
    let instance = instance.and_then(|text| InstanceUrl::parse(text).ok());
    Ok(recipe(profile, instance.as_ref(), &Default::default()).markdown())
}

pub fn list_saved_setups(accounts: &Accounts) -> Result<SavedSetups, UiError> {
    let catalog = catalog(accounts)?;
    Ok(saved_setups(&store(accounts)?, &catalog))
}

/// Starts a setup of `profile` on `instance`, or with `resume` goes on with its latest one.
pub async fn start_setup(
    accounts: &Accounts,
    setups: &Setups,
    profile: String,
    instance: Option<String>,
    resume: bool,
) -> Result<WizardView, UiError> {
    let flows = accounts.flows()?;
    let secrets: Arc<dyn SecretStore> = Arc::new(KeyringStore::new());
    let opening = Opening {
        profile,
        instance: if resume {
            None
        } else {
            Some(instance.unwrap_or_default())
        },
        ..Opening::default()
    };
    let setup = Setup::open(
        &catalog(accounts)?,
        opening,
        store(accounts)?,
        flows,
        secrets,
    )
    .await
    .map_err(ui)?;
    let view = setup.view();
    *setups.open.lock().await = Some(setup);
    Ok(view)
}

/// The open setup's view (`null` when none is open).
pub async fn setup_view(setups: &Setups) -> Result<Option<WizardView>, UiError> {
    Ok(setups.open.lock().await.as_ref().map(Setup::view))
}

pub async fn close_setup(setups: &Setups) -> Result<(), UiError> {
    *setups.open.lock().await = None;
    Ok(())
}

/// Something the person did: typed a value, moved between steps, skipped or acknowledged one.
pub async fn setup_event(setups: &Setups, event: PersonEvent) -> Result<WizardView, UiError> {
    let mut open = setups.open.lock().await;
    let setup = open.as_mut().ok_or_else(no_setup)?;
    setup.event(event).map_err(ui)
}

/// What was typed on the current step: values into the setup, secrets to the keyring.
pub async fn setup_inputs(
    setups: &Setups,
    values: std::collections::BTreeMap<String, String>,
) -> Result<WizardView, UiError> {
    let mut open = setups.open.lock().await;
    let setup = open.as_mut().ok_or_else(no_setup)?;
    setup.give(values).await.map_err(ui)
}

/// The admin account for this session (kept in memory, never saved), with its MFA code.
pub async fn setup_admin(
    setups: &Setups,
    username: String,
    password: String,
    code: String,
) -> Result<WizardView, UiError> {
    let mut open = setups.open.lock().await;
    let setup = open.as_mut().ok_or_else(no_setup)?;
    setup.set_admin(AdminCredentials::with_code(&username, password, &code));
    Ok(setup.view())
}

/// Signs the admin in through the browser (the sign-in URL over `url`), then verifies the step
/// as [`verify_step`] does; a refused sign-in is an error.
pub async fn setup_admin_browser(
    setups: &Setups,
    remember: bool,
    events: Channel<DiagnosisEvent>,
    url: Channel<String>,
) -> Result<WizardView, UiError> {
    let mut open = setups.open.lock().await;
    let setup = open.as_mut().ok_or_else(no_setup)?;
    let browser = browser(url);
    setup.sign_in_admin(&browser, remember).await.map_err(ui)?;
    verified(setup, &browser, events).await
}

/// Verifies the current step; each check is streamed over `events`, a browser sign-in's URL
/// over `url`. A failed verification is in the returned view, not an error.
pub async fn verify_step(
    setups: &Setups,
    events: Channel<DiagnosisEvent>,
    url: Channel<String>,
) -> Result<WizardView, UiError> {
    let mut open = setups.open.lock().await;
    let setup = open.as_mut().ok_or_else(no_setup)?;
    verified(setup, &browser(url), events).await
}

async fn verified(
    setup: &mut Setup,
    browser: &BrowserSignIn,
    events: Channel<DiagnosisEvent>,
) -> Result<WizardView, UiError> {
    let done = setup.verify(browser, Some(progress_to(events))).await;
    recorded(setup, done)
}

/// The view after `done`: a failure the setup recorded on its step is shown there, not as an
/// error.
fn recorded(setup: &Setup, done: Result<WizardView, SetupError>) -> Result<WizardView, UiError> {
    match done {
        Ok(view) => Ok(view),
        // Refused before it ran (an input missing, a step locked), or not saved.
        Err(err @ (SetupError::Wizard(_) | SetupError::Store(_))) => Err(ui(err)),
        // Recorded on the step: the view shows why.
        Err(_) => Ok(setup.view()),
    }
}

/// What "Do it for me" would change for the current step.
pub async fn plan_step(setups: &Setups) -> Result<Plan, UiError> {
    let open = setups.open.lock().await;
    open.as_ref().ok_or_else(no_setup)?.plan().await.map_err(ui)
}

/// What "Undo what Snowlink did" would delete and put back on the instance.
pub async fn plan_undo(setups: &Setups) -> Result<Plan, UiError> {
    let open = setups.open.lock().await;
    open.as_ref()
        .ok_or_else(no_setup)?
        .plan_undo()
        .await
        .map_err(ui)
}

/// Takes back what Snowlink did (the plan was shown and accepted); the steps to do again.
pub async fn undo(setups: &Setups) -> Result<WizardView, UiError> {
    let mut open = setups.open.lock().await;
    let setup = open.as_mut().ok_or_else(no_setup)?;
    setup.undo().await.map_err(ui)?;
    Ok(setup.view())
}

/// One plan for the current step and the automatable steps after it ("Do the rest for me").
pub async fn plan_rest(setups: &Setups) -> Result<Plan, UiError> {
    let open = setups.open.lock().await;
    open.as_ref()
        .ok_or_else(no_setup)?
        .plan_rest()
        .await
        .map_err(ui)
}

/// Does the rest for the admin (the plan was shown and accepted); where it stopped, and why,
/// is on the step the view shows.
pub async fn do_rest(
    setups: &Setups,
    (events, url): (Channel<DiagnosisEvent>, Channel<String>),
    activity: Channel<String>,
) -> Result<WizardView, UiError> {
    let mut open = setups.open.lock().await;
    let setup = open.as_mut().ok_or_else(no_setup)?;
    watch(setups, setup, activity);
    let done = setup
        .do_rest(&browser(url), Some(progress_to(events)))
        .await;
    recorded(setup, done)
}

/// Does the current step for the admin (the plan was shown and accepted), then verifies it.
pub async fn do_step(
    setups: &Setups,
    (events, url): (Channel<DiagnosisEvent>, Channel<String>),
    activity: Channel<String>,
) -> Result<WizardView, UiError> {
    let mut open = setups.open.lock().await;
    let setup = open.as_mut().ok_or_else(no_setup)?;
    watch(setups, setup, activity);
    let (_, view) = setup
        .do_it(&browser(url), Some(progress_to(events)))
        .await
        .map_err(ui)?;
    Ok(view)
}

/// Writes the integration's update set to `path` (chosen in the save dialog); what to tell the
/// admin about importing it.
pub async fn save_update_set(setups: &Setups, path: String) -> Result<String, UiError> {
    let open = setups.open.lock().await;
    open.as_ref()
        .ok_or_else(no_setup)?
        .save_update_set(std::path::Path::new(&path))
        .await
        .map_err(ui)
}

/// The current step as a request for another admin (nothing secret in it).
pub async fn handoff_text(setups: &Setups) -> Result<String, UiError> {
    let open = setups.open.lock().await;
    open.as_ref()
        .ok_or_else(no_setup)?
        .handoff()
        .ok_or_else(no_setup)
}

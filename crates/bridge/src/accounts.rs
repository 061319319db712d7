//! Commands over the connection engine: list and check connections, link and unlink the
//! user's own account. Each is a few lines over `snowlink_core::flows` and returns the core's
//! views; the browser sign-in happens in the system browser (RFC 8252), its URL is streamed to
//! the UI for manual copy, and the UI can cancel the wait.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::Channel;
use serde::Serialize;
use snowlink_core::BrowserUrl;
use snowlink_core::connections::ConnectionStore;
use snowlink_core::errors::FrontEndError;
use snowlink_core::errors::InputField;
use snowlink_core::flows::{BrowserSignIn, Changes, EditView, Flows, ProvidedSecrets, TestEvent};
use snowlink_core::oauth::{Browser, BrowserError, CALLBACK_PORTS, Pasted, SystemBrowser};
use snowlink_core::secrets::KeyringStore;
use snowlink_core::views::ConnectionView;
use snowlink_core::views::{
    edited_message, removed_message, signed_in_message, unlinked_message, unrevoked_warning,
};
use tokio::sync::oneshot;

use crate::error::UiError;

/// How long a browser sign-in may take before the app gives up waiting.
pub const SIGN_IN_WAIT: Duration = Duration::from_secs(300);

/// What the connection commands share: the engine (or why it could not start) and the
/// cancellation of the browser sign-in in progress.
pub struct Accounts {
    flows: Result<Flows, UiError>,
    cancel_sign_in: Mutex<Option<oneshot::Sender<()>>>,
    /// Where an address pasted during the sign-in in progress goes.
    paste: Mutex<Option<tokio::sync::mpsc::Sender<Pasted>>>,
}

impl Accounts {
    /// The engine over the platform config directory (`SNOWLINK_CONFIG_DIR` overrides it) and
    /// the OS keyring.
    pub fn from_environment() -> Self {
        Self::starting(ConnectionStore::in_config_dir().map_err(UiError::from))
    }

    /// The engine over `store` and the OS keyring.
    pub fn over(store: ConnectionStore) -> Self {
        Self::starting(Ok(store))
    }

    fn starting(store: Result<ConnectionStore, UiError>) -> Self {
        Self {
            flows: store.map(|store| Flows::new(store, Arc::new(KeyringStore::new()))),
            cancel_sign_in: Mutex::new(None),
            paste: Mutex::new(None),
        }
    }

    pub fn flows(&self) -> Result<Flows, UiError> {
        self.flows.clone()
    }
}

/// The answer to a link: the connection, and what to say.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Linked {
    pub connection: ConnectionView,
    pub message: String,
}

/// The answer to an unlink: the connection, what to say, and a warning when the instance could
/// not confirm the revocation (the tokens are deleted from this computer either way).
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Unlinked {
    pub connection: ConnectionView,
    pub message: String,
    pub warning: Option<String>,
}

pub async fn list_connections(accounts: &Accounts) -> Result<Vec<ConnectionView>, UiError> {
    Ok(accounts.flows()?.views()?)
}

pub async fn check_connection(accounts: &Accounts, id: String) -> Result<ConnectionView, UiError> {
    let flows = accounts.flows()?;
    let connection = flows.find(Some(&id))?;
    Ok(ConnectionView::of(&flows.check(&connection).await?))
}

/// Links the user's own account: opens the system browser on the instance's sign-in page and
/// sends the sign-in URL over `url` so the UI can offer it for copying.
pub async fn link_account(
    accounts: &Accounts,
    id: String,
    url: Channel<String>,
) -> Result<Linked, UiError> {
    let flows = accounts.flows()?;
    let (cancel, cancelled) = oneshot::channel();
    if let Ok(mut slot) = accounts.cancel_sign_in.lock() {
        *slot = Some(cancel);
    }
    let (paste, pasted) = tokio::sync::mpsc::channel(1);
    if let Ok(mut slot) = accounts.paste.lock() {
        *slot = Some(paste);
    }
    let sign_in = BrowserSignIn {
        ports: CALLBACK_PORTS.to_vec(),
        browser: Some(Arc::new(SystemBrowser::from_env()) as Arc<dyn Browser>),
        wait: SIGN_IN_WAIT,
        show_url: Arc::new(move |authorize: &BrowserUrl, _: Option<&BrowserError>| {
            let _ = url.send(authorize.as_str().to_owned());
        }),
        paste: Some(Arc::new(tokio::sync::Mutex::new(pasted))),
    };
    // A dropped sender (a newer sign-in replaced this one) cancels too.
    let cancelled = async {
        let _ = cancelled.await;
    };
    let linked = flows.link(Some(&id), &sign_in, cancelled).await?;
    Ok(Linked {
        connection: ConnectionView::of(&linked),
        message: signed_in_message(&linked, true),
    })
}

/// The address the browser ended on, pasted by a person whose browser cannot reach this
/// computer's loopback port. Answers once the sign-in has judged it: an error says why it
/// cannot finish the sign-in (the wait goes on), success that it did.
pub async fn paste_sign_in(accounts: &Accounts, address: String) -> Result<(), UiError> {
    let sender = accounts.paste.lock().ok().and_then(|slot| slot.clone());
    let Some(sender) = sender else {
        return Err(UiError(FrontEndError::NoSignInWaiting.view()));
    };
    let (verdict, heard) = oneshot::channel();
    let pasted = Pasted {
        text: address,
        verdict,
    };
    if sender.send(pasted).await.is_err() {
        return Err(UiError(FrontEndError::SignInOver.view()));
    }
    match heard.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(UiError(err.paste_view())),
        Err(_) => Err(UiError(FrontEndError::SignInOver.view())),
    }
}

/// Stops waiting for the browser sign-in in progress, if any.
pub fn cancel_sign_in(accounts: &Accounts) {
    if let Ok(mut slot) = accounts.cancel_sign_in.lock()
        && let Some(cancel) = slot.take()
    {
        let _ = cancel.send(());
    }
}

/// Unlinks the user's account (the UI has asked for confirmation).
pub async fn unlink_account(accounts: &Accounts, id: String) -> Result<Unlinked, UiError> {
    let (connection, revoke_error) = accounts.flows()?.unlink(Some(&id)).await?;
    Ok(Unlinked {
        connection: ConnectionView::of(&connection),
        message: unlinked_message(&connection),
        warning: revoke_error.as_ref().map(unrevoked_warning),
    })
}

/// The answer to a removal: which connection went, what to say, and a warning when the
/// instance could not confirm the revocation.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Removed {
    pub id: String,
    pub message: String,
    pub warning: Option<String>,
}

/// Removes a connection: revokes its tokens on the instance, deletes every secret it has from
/// the keyring, then forgets it.
pub async fn remove_connection(accounts: &Accounts, id: String) -> Result<Removed, UiError> {
    let (connection, revoke_error) = accounts.flows()?.remove(&id).await?;
    Ok(Removed {
        id: connection.id.as_str().to_owned(),
        message: removed_message(&connection),
        warning: revoke_error.as_ref().map(unrevoked_warning),
    })
}

/// Forgets the admin sign-in remembered for `instance`: the instance is asked to revoke its
/// token, then the keyring entries and the listing go.
pub async fn forget_admin(
    accounts: &Accounts,
    instance: String,
) -> Result<snowlink_core::flows::Forgotten, UiError> {
    Ok(accounts.flows()?.forget_admin(&instance).await?)
}

/// The edit form of a connection: saved values, which secrets the keyring holds, the steps.
pub async fn edit_form(accounts: &Accounts, id: String) -> Result<EditView, UiError> {
    Ok(accounts.flows()?.edit_form(&id).await?)
}

/// New secrets typed in the edit form; an absent or empty one keeps the stored secret. No
/// `Debug`: nothing may print them.
#[derive(Default, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct NewSecrets {
    pub client_secret: Option<String>,
    pub password: Option<String>,
    pub api_key: Option<String>,
}

impl NewSecrets {
    fn provided(self) -> ProvidedSecrets {
        let mut provided = ProvidedSecrets::default();
        for (field, value) in [
            (InputField::ClientSecret, self.client_secret),
            (InputField::Password, self.password),
            (InputField::ApiKey, self.api_key),
        ] {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                provided.set(field, value);
            }
        }
        provided
    }
}

/// The answer to "Save and test": the connection as it is now and what to say.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Edited {
    pub connection: ConnectionView,
    pub message: String,
}

/// Changes a connection and tests it live, streaming each step over `progress`; nothing is
/// kept unless the new settings sign in.
pub async fn edit_connection(
    accounts: &Accounts,
    id: String,
    changes: Changes,
    secrets: NewSecrets,
    progress: Channel<TestEvent>,
) -> Result<Edited, UiError> {
    let report = move |event: TestEvent| {
        let _ = progress.send(event);
    };
    let connection = accounts
        .flows()?
        .edit(&id, changes, secrets.provided(), &report)
        .await?;
    Ok(Edited {
        connection: ConnectionView::of(&connection),
        message: edited_message(&connection),
    })
}

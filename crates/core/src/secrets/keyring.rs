//! [`KeyringStore`]: the OS keyring through `keyring-core`, with the platform's store chosen
//! explicitly (Secret Service over D-Bus on Linux, the Keychain on macOS, Credential Manager on
//! Windows). There is no mock and no file fallback: where no store is built, or it does not
//! answer, every call fails with the reason and the fix.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use keyring_core::{CredentialStore, Entry, Error as KeyringError};

use super::{KEYRING_TIMEOUT, SERVICE_NAME, SecretError, SecretKind, SecretStore, SecretValue};
use crate::ids::ConnectionId;

/// The OS keyring. Each entry is service [`SERVICE_NAME`] (or the one given to
/// [`with_service`](Self::with_service)), user `<connection id>/<kind>`.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
    timeout: Duration,
}

impl Default for KeyringStore {
    fn default() -> Self {
        Self::new()
    }
}

/// The platform store, opened on first use and kept for the process; a failure to open it is
/// not kept, so a keyring started later is found.
static PLATFORM_STORE: Mutex<Option<Arc<CredentialStore>>> = Mutex::new(None);

#[cfg(target_os = "linux")]
fn open_platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(zbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn open_platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(target_os = "windows")]
fn open_platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn open_platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(KeyringError::NotSupportedByStore(
        "no keyring store is built for this operating system".into(),
    ))
}

fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    let mut slot = PLATFORM_STORE
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(store) = slot.as_ref() {
        return Ok(store.clone());
    }
    let store = open_platform_store()?;
    *slot = Some(store.clone());
    Ok(store)
}

impl KeyringStore {
    /// The store of this build ([`SERVICE_NAME`]).
    pub fn new() -> Self {
        Self::with_service(SERVICE_NAME)
    }

    /// A store under another service name, so tests never touch a real build's entries.
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            timeout: KEYRING_TIMEOUT,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// Runs one blocking keyring call on its own thread under the timeout: the platform
    /// clients are synchronous and may wait on an unlock prompt forever. Not
    /// `spawn_blocking`: tokio waits for blocking-pool tasks when the runtime shuts down, so a
    /// hung call would hang the CLI at exit even after the timeout; a detached thread ends with
    /// the process.
    async fn call<T: Send + 'static>(
        &self,
        connection: &ConnectionId,
        kind: SecretKind,
        op: impl FnOnce(&Entry) -> keyring_core::Result<T> + Send + 'static,
    ) -> Result<T, SecretError> {
        let service = self.service.clone();
        let user = format!("{connection}/{}", kind.as_str());
        let (done, result) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("snowlink-keyring".into())
            .spawn(move || {
                let outcome = platform_store()
                    .and_then(|store| Entry::new_in_store(&store, &service, &user))
                    .and_then(|entry| op(&entry));
                let _ = done.send(outcome);
            })
            .map_err(|err| SecretError::Unavailable {
                detail: format!("no thread for the keyring call ({err})"),
            })?;
        match tokio::time::timeout(self.timeout, result).await {
            Err(_) => Err(SecretError::Timeout(self.timeout)),
            Ok(Err(_)) => Err(SecretError::Unavailable {
                detail: "the keyring call stopped unexpectedly".into(),
            }),
            Ok(Ok(result)) => result.map_err(|err| map_keyring_error(err, connection, kind)),
        }
    }
}

/// The keyring's error without any payload: `BadEncoding` and `BadDataFormat` carry the
/// stored bytes, which must never reach a message.
fn map_keyring_error(
    err: KeyringError,
    connection: &ConnectionId,
    kind: SecretKind,
) -> SecretError {
    let detail = |text: String| crate::text::untrusted(&text, crate::text::MAX_MESSAGE_CHARS);
    match err {
        KeyringError::NoStorageAccess(_) => SecretError::Locked,
        KeyringError::PlatformFailure(source) => SecretError::Unavailable {
            detail: detail(source.to_string()),
        },
        KeyringError::NotSupportedByStore(reason) | KeyringError::BadStoreFormat(reason) => {
            SecretError::Unavailable {
                detail: detail(reason),
            }
        }
        KeyringError::NoDefaultStore => SecretError::Unavailable {
            detail: "no keyring store is set up".into(),
        },
        KeyringError::Ambiguous(_) => SecretError::Ambiguous {
            connection: connection.to_string(),
            kind: kind.as_str(),
        },
        KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => SecretError::Corrupt {
            connection: connection.to_string(),
            kind: kind.as_str(),
        },
        // These name an attribute and a limit, never a value.
        KeyringError::TooLong(attribute, limit) => SecretError::Rejected {
            detail: format!("{attribute} is longer than {limit}"),
        },
        KeyringError::Invalid(attribute, reason) => SecretError::Rejected {
            detail: detail(format!("{attribute}: {reason}")),
        },
        KeyringError::NoEntry => SecretError::Rejected {
            detail: "the entry vanished during the call".into(),
        },
        // `keyring_core::Error` is non-exhaustive.
        _ => SecretError::Rejected {
            detail: "the keyring reported an unknown failure".into(),
        },
    }
}

#[async_trait]
impl SecretStore for KeyringStore {
    async fn get(
        &self,
        connection: &ConnectionId,
        kind: SecretKind,
    ) -> Result<Option<SecretValue>, SecretError> {
        self.call(connection, kind, |entry| match entry.get_password() {
            Ok(value) => Ok(Some(SecretValue(value))),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(err) => Err(err),
        })
        .await
    }

    async fn set(
        &self,
        connection: &ConnectionId,
        kind: SecretKind,
        value: &SecretValue,
    ) -> Result<(), SecretError> {
        let value = value.0.clone();
        self.call(connection, kind, move |entry| entry.set_password(&value))
            .await
    }

    async fn delete(&self, connection: &ConnectionId, kind: SecretKind) -> Result<(), SecretError> {
        self.call(connection, kind, |entry| match entry.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(err) => Err(err),
        })
        .await
    }
}

//! Secrets and where they live. Every credential Snowlink handles has its own type whose `Debug`
//! prints `[redacted]`, which cannot be serialized, and whose value is read only through an
//! explicit `expose()`, so a secret cannot reach a log line, an error message or a config file by
//! accident. Secrets are kept only in the OS keyring ([`KeyringStore`]: Secret Service on Linux,
//! Keychain on macOS, Credential Manager on Windows), keyed by connection id and secret kind;
//! when the keyring is unavailable the store says how to fix it and never falls back to a file.

mod keyring;
#[cfg(any(test, feature = "test-support"))]
mod memory;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::ids::ConnectionId;

pub use keyring::KeyringStore;
#[cfg(any(test, feature = "test-support"))]
pub use memory::{FailingStore, MemoryStore};

/// The keyring service name of this build: release and debug builds keep separate entries, so
/// a developer's test runs never touch (or delete) the secrets of the installed app.
pub const SERVICE_NAME: &str = crate::APP_ID;

/// What the marker entries [`SecretStoreExt::probe`] writes and deletes are called; each probe
/// has its own, so probes of several processes at once never touch each other's.
const PROBE_PREFIX: &str = "snowlink-keyring-probe";

/// How long one keyring call may take. An unlock prompt nobody answers, or a Secret Service
/// daemon that hangs, must not freeze the app or the CLI.
pub const KEYRING_TIMEOUT: Duration = Duration::from_secs(10);

/// Declares a secret newtype: redacted `Debug`, no `Display`, no `Serialize`, `expose()` to
/// read it. The pattern follows oauth2-rs's `new_secret_type!`.
macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret itself. Call it only where the value leaves for the keyring or the
            /// wire, never to log or display it.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl Secret for $name {
            const KIND: SecretKind = $kind;

            fn from_stored(value: SecretValue) -> Self {
                Self(value.0)
            }

            fn to_stored(&self) -> SecretValue {
                SecretValue(self.0.clone())
            }
        }
    };
}

secret_type!(
    /// An OAuth client secret from ServiceNow's Application Registry.
    ClientSecret,
    SecretKind::ClientSecret
);
secret_type!(
    /// A ServiceNow user's password (password grant and Basic auth).
    Password,
    SecretKind::Password
);
secret_type!(
    /// An API key used in place of a password (API-key style connections).
    ApiKey,
    SecretKind::ApiKey
);
secret_type!(
    /// An OAuth access token.
    AccessToken,
    SecretKind::AccessToken
);
secret_type!(
    /// An OAuth refresh token.
    RefreshToken,
    SecretKind::RefreshToken
);

/// Which secret of a connection an entry holds; part of the keyring key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    ClientSecret,
    Password,
    ApiKey,
    AccessToken,
    RefreshToken,
}

impl SecretKind {
    pub const ALL: [SecretKind; 5] = [
        Self::ClientSecret,
        Self::Password,
        Self::ApiKey,
        Self::AccessToken,
        Self::RefreshToken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecret => "client-secret",
            Self::Password => "password",
            Self::ApiKey => "api-key",
            Self::AccessToken => "access-token",
            Self::RefreshToken => "refresh-token",
        }
    }
}

/// A secret's raw value on its way into or out of a [`SecretStore`]; as redacted as the typed
/// secrets. Code outside this module uses the typed secrets through [`SecretStoreExt`].
#[derive(Clone)]
pub struct SecretValue(String);

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue([redacted])")
    }
}

/// One of the secret types above; ties each type to its [`SecretKind`].
pub trait Secret: Sized {
    const KIND: SecretKind;
    fn from_stored(value: SecretValue) -> Self;
    fn to_stored(&self) -> SecretValue;
}

/// Why a secret could not be stored, read or deleted. `Display` is the message, [`hint`] the fix;
/// neither ever contains a secret.
///
/// [`hint`]: SecretError::hint
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("The OS keyring is not available: {detail}")]
    Unavailable { detail: String },
    #[error("The OS keyring is locked.")]
    Locked,
    #[error("The OS keyring did not answer within {} seconds.", .0.as_secs())]
    Timeout(Duration),
    #[error("The OS keyring holds several entries for the {kind} of connection {connection}.")]
    Ambiguous {
        connection: String,
        kind: &'static str,
    },
    #[error("The {kind} stored for connection {connection} is not valid text.")]
    Corrupt {
        connection: String,
        kind: &'static str,
    },
    #[error("The OS keyring refused the entry: {detail}")]
    Rejected { detail: String },
}

impl SecretError {
    /// The code of the closed set: a locked keyring is told apart from a missing one.
    pub fn code(&self) -> crate::errors::ErrorCode {
        match self {
            Self::Locked => crate::errors::ErrorCode::KeyringLocked,
            _ => crate::errors::ErrorCode::KeyringUnavailable,
        }
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::Locked)
    }

    pub fn view(&self) -> crate::errors::ErrorView {
        crate::errors::ErrorView::new(self.code(), self.to_string(), self.hint())
            .retryable(self.is_retryable())
    }

    /// What the person should do about it, in one sentence.
    pub fn hint(&self) -> String {
        match self {
            Self::Unavailable { .. } => unavailable_hint().into(),
            Self::Locked => "Unlock your keyring (log in to the desktop session, or unlock the \
                             \"Login\" keyring in your keyring app), then try again."
                .into(),
            Self::Timeout(_) => "An unlock prompt may be waiting for you; answer it, or restart \
                                 the keyring service, then try again."
                .into(),
            Self::Ambiguous { .. } => format!(
                "Remove the duplicate entries of service \"{SERVICE_NAME}\" in your keyring app \
                 and sign in again."
            ),
            Self::Corrupt { .. } => "Sign in to the connection again to replace the entry.".into(),
            Self::Rejected { .. } => "Report this to Snowlink's maintainers.".into(),
        }
    }
}

fn unavailable_hint() -> &'static str {
    if cfg!(target_os = "linux") {
        "No Secret Service answered on the D-Bus session bus: install and unlock gnome-keyring \
         (or KeePassXC with its Secret Service integration) and log in to a desktop session. \
         Snowlink never stores secrets in a plain file instead."
    } else if cfg!(target_os = "macos") {
        "Open Keychain Access and make sure the login keychain exists and is unlocked."
    } else if cfg!(target_os = "windows") {
        "Make sure the Credential Manager service is running."
    } else {
        "This operating system has no keyring Snowlink supports; Snowlink never stores secrets \
         in a plain file instead."
    }
}

/// Where a connection's secrets are kept, keyed by connection id and [`SecretKind`].
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The stored value, or `None` when there is none.
    async fn get(
        &self,
        connection: &ConnectionId,
        kind: SecretKind,
    ) -> Result<Option<SecretValue>, SecretError>;
    async fn set(
        &self,
        connection: &ConnectionId,
        kind: SecretKind,
        value: &SecretValue,
    ) -> Result<(), SecretError>;
    /// Removes the entry; removing one that does not exist succeeds.
    async fn delete(&self, connection: &ConnectionId, kind: SecretKind) -> Result<(), SecretError>;
}

/// Typed access on top of any [`SecretStore`]: `store.load::<RefreshToken>(&id)`.
#[async_trait]
pub trait SecretStoreExt: SecretStore {
    async fn load<S: Secret>(&self, connection: &ConnectionId) -> Result<Option<S>, SecretError> {
        Ok(self.get(connection, S::KIND).await?.map(S::from_stored))
    }

    async fn save<S: Secret + Sync>(
        &self,
        connection: &ConnectionId,
        secret: &S,
    ) -> Result<(), SecretError> {
        self.set(connection, S::KIND, &secret.to_stored()).await
    }

    /// Deletes every kind of secret of a connection (unlink, removal). Tries every kind even
    /// when one fails, then reports the first failure.
    async fn delete_all(&self, connection: &ConnectionId) -> Result<(), SecretError> {
        let mut first_error = None;
        for kind in SecretKind::ALL {
            if let Err(err) = self.delete(connection, kind).await {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Writes and deletes a marker entry, under the store's timeout: a missing, locked or
    /// hanging keyring fails here, before a browser opens or a grant is sent, so no tokens are
    /// issued that could not be kept.
    async fn probe(&self) -> Result<(), SecretError> {
        let marker = ConnectionId::random_with_prefix(PROBE_PREFIX).map_err(|err| {
            SecretError::Rejected {
                detail: err.to_string(),
            }
        })?;
        self.set(
            &marker,
            SecretKind::AccessToken,
            &SecretValue("probe".into()),
        )
        .await?;
        self.delete(&marker, SecretKind::AccessToken).await
    }
}

impl<T: SecretStore + ?Sized> SecretStoreExt for T {}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn id(text: &str) -> ConnectionId {
        ConnectionId::parse(text).unwrap()
    }

    /// The stored value of one kind, as plain text for assertions.
    pub(super) async fn stored(
        store: &dyn SecretStore,
        connection: &str,
        kind: SecretKind,
    ) -> Option<String> {
        let connection = ConnectionId::parse(connection).unwrap();
        store.get(&connection, kind).await.unwrap().map(|v| v.0)
    }

    #[test]
    fn debug_output_never_shows_the_value() {
        let shown = format!(
            "{:?} {:?} {:?} {:?} {:?} {:?}",
            ClientSecret::new("cs-VALUE"),
            Password::new("pw-VALUE"),
            ApiKey::new("key-VALUE"),
            AccessToken::new("at-VALUE"),
            RefreshToken::new("rt-VALUE"),
            SecretValue("raw-VALUE".into()),
        );
        assert!(!shown.contains("VALUE"), "{shown}");
        assert_eq!(format!("{:?}", Password::new("x")), "Password([redacted])");
        assert_eq!(
            format!("{:?}", Some(AccessToken::new("x"))),
            "Some(AccessToken([redacted]))"
        );
    }

    #[test]
    fn expose_returns_the_value() {
        assert_eq!(ApiKey::new("k-1").expose(), "k-1");
    }

    #[test]
    fn service_name_differs_between_debug_and_release() {
        assert_eq!(SERVICE_NAME, "snowlink-dev", "tests run in debug builds");
        assert_eq!(KeyringStore::new().service(), SERVICE_NAME);
    }

    #[tokio::test]
    async fn the_probe_leaves_nothing_behind_and_reports_a_refusing_store() {
        let store = MemoryStore::default();
        store.probe().await.unwrap();
        assert!(store.is_empty());
        let failing = FailingStore::new(SecretError::Locked);
        assert_eq!(failing.probe().await.unwrap_err(), SecretError::Locked);
        assert!(SecretError::Locked.hint().contains("Unlock your keyring"));
        assert!(!SecretError::Locked.hint().contains("install"));
    }

    #[test]
    fn errors_say_how_to_fix_and_hold_no_secret() {
        let err = SecretError::Unavailable {
            detail: "org.freedesktop.DBus.Error.ServiceUnknown".into(),
        };
        #[cfg(target_os = "linux")]
        assert!(
            err.hint().contains("install and unlock gnome-keyring"),
            "{}",
            err.hint()
        );
        assert!(err.hint().contains("never stores secrets in a plain file"));
        assert!(
            SecretError::Timeout(Duration::from_secs(10))
                .to_string()
                .contains("10 seconds")
        );
    }

    #[tokio::test]
    async fn memory_store_round_trips_typed_secrets() {
        let store = MemoryStore::default();
        let conn = id("acme-prod");
        assert!(store.load::<RefreshToken>(&conn).await.unwrap().is_none());
        store.save(&conn, &RefreshToken::new("rt-1")).await.unwrap();
        store.save(&conn, &ClientSecret::new("cs-1")).await.unwrap();
        store
            .save(&id("other"), &ClientSecret::new("cs-2"))
            .await
            .unwrap();
        let back = store.load::<RefreshToken>(&conn).await.unwrap().unwrap();
        assert_eq!(back.expose(), "rt-1");
        assert!(store.load::<AccessToken>(&conn).await.unwrap().is_none());
        store.delete_all(&conn).await.unwrap();
        assert!(store.load::<ClientSecret>(&conn).await.unwrap().is_none());
        assert_eq!(store.len(), 1, "other connections keep their secrets");
    }

    #[tokio::test]
    async fn the_store_works_behind_a_trait_object() {
        let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
        let conn = id("c1");
        store.save(&conn, &Password::new("pw")).await.unwrap();
        assert_eq!(
            stored(store.as_ref(), "c1", SecretKind::Password)
                .await
                .as_deref(),
            Some("pw")
        );
        store.delete(&conn, SecretKind::Password).await.unwrap();
        store.delete(&conn, SecretKind::Password).await.unwrap();
    }
}

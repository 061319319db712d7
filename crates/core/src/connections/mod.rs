//! The connections a person has set up. A [`Connection`] holds everything needed to reach an
//! instance again (instance, grant, client id, user names, the linked identity and the last
//! known status) and no secret: secrets live in the OS keyring (see [`crate::secrets`]). The
//! file that keeps them is [`ConnectionStore`].

mod file;
mod migrate;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::LinkedIdentity;
use crate::grants::GrantKind;
use crate::ids::{ConnectionId, ConnectionIdError};
use crate::instance::InstanceUrl;
pub use file::{ConnectionStore, FILE_NAME, MAX_FILE_BYTES};
pub use migrate::FILE_VERSION;

/// The linked records of a connection, by state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct LinkedRecords {
    pub label: String,
    pub table: String,
    #[ts(type = "number")]
    pub total: u64,
    pub by_state: Vec<StateCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct StateCount {
    /// The state as the instance names it ("In Progress").
    pub state: String,
    #[ts(type = "number")]
    pub count: u64,
}

/// The state shown next to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename_all = "kebab-case")]
pub enum ConnectionState {
    Connected,
    /// Reachable, but a check failed (a missing role, an update set not committed…).
    Degraded,
    /// Never checked, or the instance could not be reached.
    #[default]
    Disconnected,
    /// The refresh token died (revoked, expired, password changed): only signing in again helps.
    RelinkNeeded,
    /// A browser sign-in connection nobody has linked an account to yet: nothing is wrong.
    NotLinked,
}

/// What was last learnt about a connection.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(rename_all = "camelCase")]
pub struct ConnectionStatus {
    pub state: ConnectionState,
    pub last_checked: Option<DateTime<Utc>>,
    pub token_expires_at: Option<DateTime<Utc>>,
    /// When the refresh token in use was first issued. ServiceNow does not extend a refresh
    /// token when it is used, so its end is this plus the lifespan, whatever the refreshes.
    #[serde(default)]
    pub refresh_issued_at: Option<DateTime<Utc>>,
    /// One sentence on why the state is what it is; never holds a secret or a response body.
    pub reason: Option<String>,
    /// The records linked to the integration at the last check (the Aggregate API's counts).
    #[serde(default)]
    pub linked: Option<LinkedRecords>,
}

/// A configured connection. Holds no secret by construction: none of its fields can carry one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(rename_all = "camelCase")]
pub struct Connection {
    #[ts(type = "string")]
    pub id: ConnectionId,
    pub display_name: String,
    pub instance: InstanceUrl,
    /// The integration profile this connection was set up with (`custom` when none).
    pub profile_id: String,
    pub grant: GrantKind,
    pub client_id: Option<String>,
    /// The user name for the password, Basic and API-key grants.
    pub username: Option<String>,
    pub linked_identity: Option<LinkedIdentity>,
    #[serde(default)]
    pub status: ConnectionStatus,
}

impl Connection {
    /// A browser sign-in connection with no account linked yet.
    pub fn awaits_link(&self) -> bool {
        self.grant == GrantKind::AuthCode && self.linked_identity.is_none()
    }
}

/// Why the connections file could not be used. `Display` is the message, [`hint`] the fix.
///
/// [`hint`]: ConnectionsError::hint
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionsError {
    #[error(transparent)]
    InvalidId(#[from] ConnectionIdError),
    #[error("This system has no configuration directory for Snowlink.")]
    NoConfigDir,
    #[error("Could not {action} {}: {detail}", path.display())]
    Io {
        action: &'static str,
        path: std::path::PathBuf,
        detail: String,
    },
    #[error(
        "The connections file {} could not be read ({detail}); it was moved to {}.",
        path.display(),
        moved_to.display()
    )]
    Corrupt {
        path: std::path::PathBuf,
        moved_to: std::path::PathBuf,
        detail: String,
    },
    #[error(
        "The connections file {} is a link to {}, which is not a Snowlink connections file \
         ({detail}). Snowlink left {} exactly as it is.",
        path.display(),
        target.display(),
        target.display()
    )]
    NotOurs {
        path: std::path::PathBuf,
        target: std::path::PathBuf,
        detail: String,
    },
    #[error(
        "The connections file {} has format version {found}, newer than this Snowlink reads ({FILE_VERSION}).",
        path.display()
    )]
    UnsupportedVersion {
        path: std::path::PathBuf,
        found: u64,
    },
    #[error("Another Snowlink has been changing {} for over {} seconds.", path.display(), .waited.as_secs())]
    Busy {
        path: std::path::PathBuf,
        waited: std::time::Duration,
    },
}

impl ConnectionsError {
    /// What the person should do about it, in one sentence.
    pub fn hint(&self) -> String {
        match self {
            Self::InvalidId(_) => {
                "Use lowercase letters, digits and hyphens, like acme-prod.".into()
            }
            Self::NoConfigDir => format!(
                "Set the HOME environment variable, or {} to a directory for \
                 Snowlink's settings.",
                crate::env::CONFIG_DIR
            ),
            Self::Io { path, .. } => format!(
                "Check that {} exists and that you may read and write it.",
                path.parent().unwrap_or(path).display()
            ),
            Self::Corrupt { moved_to, path, .. } => format!(
                "Nothing was deleted: repair {} and move it back to {}, or set the connections \
                 up again.",
                moved_to.display(),
                path.display()
            ),
            Self::NotOurs { path, .. } => format!(
                "Point the link {} at your Snowlink connections file (ln -sf FILE {}), or remove \
                 the link to start with no connections.",
                path.display(),
                path.display()
            ),
            Self::UnsupportedVersion { .. } => {
                "Update Snowlink; this version leaves the file untouched.".into()
            }
            Self::Busy { .. } => {
                "Wait for the other Snowlink window or command to finish, then try again.".into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_defaults_to_disconnected_when_absent() {
        let json = serde_json::json!({
            "id": "acme", "displayName": "Acme", "instance": "acme",
            "profileId": "custom", "grant": "basic", "clientId": null,
            "username": "svc", "linkedIdentity": null
        });
        let connection: Connection = serde_json::from_value(json).unwrap();
        assert_eq!(connection.status.state, ConnectionState::Disconnected);
        assert_eq!(
            serde_json::to_value(ConnectionState::RelinkNeeded).unwrap(),
            "relink-needed"
        );
        assert_eq!(
            serde_json::to_value(ConnectionState::NotLinked).unwrap(),
            "not-linked"
        );
    }

    #[test]
    fn typescript_view_types_render() {
        use ts_rs::TS;
        let cfg = ts_rs::Config::new();
        let ts = Connection::decl(&cfg);
        assert!(ts.contains("displayName: string"), "{ts}");
        assert!(ts.contains("instance: string"), "{ts}");
        let state = ConnectionState::decl(&cfg);
        assert!(state.contains("\"relink-needed\""), "{state}");
        let identity = LinkedIdentity::decl(&cfg);
        assert!(identity.contains("sysId: string"), "{identity}");
    }
}

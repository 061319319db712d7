//! The connections a person has set up. A [`Connection`] holds everything needed to reach an
//! instance again (instance, grant, client id, user names, the linked identity and the last
//! known status) and no secret: secrets live in the OS keyring (see [`crate::secrets`]). The
//! file that keeps them is [`ConnectionStore`].

mod file;
mod migrate;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

pub use crate::grants::{GrantKind, InputField};
pub use crate::ids::{ConnectionId, ConnectionIdError};
use crate::instance::InstanceUrl;
use crate::text::{MAX_NAME_CHARS, SysId, SysIdError, untrusted};
pub use file::{CONFIG_DIR_ENV, ConnectionStore, FILE_NAME, FILE_VERSION, MAX_FILE_BYTES};

/// The ServiceNow user a connection acts as, once identified. Both values come from the
/// instance: the name is bounded with its control characters made visible, the sys_id checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct LinkedIdentity {
    pub user_name: String,
    pub sys_id: SysId,
}

impl LinkedIdentity {
    /// The identity an instance reported; refuses a sys_id that is not one.
    pub fn from_instance(user_name: &str, sys_id: &str) -> Result<Self, SysIdError> {
        Ok(Self {
            user_name: untrusted(user_name, MAX_NAME_CHARS),
            sys_id: SysId::parse(sys_id)?,
        })
    }
}

impl<'de> Deserialize<'de> for LinkedIdentity {
    /// A file is as untrusted as the instance it was written from.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Raw {
            user_name: String,
            sys_id: String,
        }
        let raw = Raw::deserialize(deserializer)?;
        Self::from_instance(&raw.user_name, &raw.sys_id).map_err(serde::de::Error::custom)
    }
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
    pub linked: Option<crate::checks::LinkedRecords>,
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
                "Set the HOME environment variable, or {CONFIG_DIR_ENV} to a directory for \
                 Snowlink's settings."
            ),
            Self::Io { path, .. } => format!(
                "Check that {} exists and that you may read and write it.",
                path.parent().unwrap_or(path).display()
            ),
            Self::Corrupt { moved_to, path, .. } => format!(
                "Nothing was changed or deleted: repair {} and move it back to {}, or set the \
                 connections up again.",
                moved_to.display(),
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
    fn identities_from_a_hostile_instance_are_made_safe() {
        let id = LinkedIdentity::from_instance(
            "evil\u{1b}[2J\rerror: forged",
            "62826bf03710200044e0bfc8bcbe5df1",
        )
        .unwrap();
        assert_eq!(id.user_name, "evil\\u{1b}[2J\\u{d}error: forged");
        let huge = "u".repeat(4 * 1024 * 1024);
        let id = LinkedIdentity::from_instance(&huge, "62826bf03710200044e0bfc8bcbe5df1").unwrap();
        assert!(id.user_name.chars().count() <= MAX_NAME_CHARS + 1);
        assert!(LinkedIdentity::from_instance("bob", "../../etc").is_err());
        let tampered = serde_json::json!({"userName": "x\u{7}", "sysId": "not-a-sys-id"});
        assert!(serde_json::from_value::<LinkedIdentity>(tampered).is_err());
    }

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

//! The connections a person has set up, and the file that keeps them. A [`Connection`] holds
//! everything needed to reach an instance again (instance, grant, client id, user names, the
//! linked identity and the last known status) and no secret: secrets live in the OS keyring
//! (see [`crate::secrets`]). The file is versioned, written atomically (temp file, fsync,
//! rename) so a crash never leaves half a file, and a file that cannot be read is moved aside
//! and reported instead of being overwritten.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::instance::InstanceUrl;

/// The file's name inside the config directory.
pub const FILE_NAME: &str = "connections.json";
/// The format version this build reads and writes.
pub const FILE_VERSION: u64 = 1;
/// Overrides the config directory (tests, portable setups).
pub const CONFIG_DIR_ENV: &str = "SNOWLINK_CONFIG_DIR";
const MAX_ID_LEN: usize = 64;

/// A connection's stable id: lowercase letters, digits and hyphens. It keys the keyring
/// entries, so it never changes when the connection is renamed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(String);

impl ConnectionId {
    pub fn parse(text: &str) -> Result<Self, ConnectionsError> {
        let invalid = |reason: &'static str| ConnectionsError::InvalidId {
            id: text.chars().take(MAX_ID_LEN + 8).collect(),
            reason,
        };
        if text.is_empty() {
            return Err(invalid("it is empty"));
        }
        if text.len() > MAX_ID_LEN {
            return Err(invalid("it is longer than 64 characters"));
        }
        if !text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid(
                "only lowercase letters, digits and hyphens are allowed",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// A fresh random id (`c-` and 16 hex digits).
    pub fn new_random() -> Result<Self, ConnectionsError> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|err| ConnectionsError::Random(err.to_string()))?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self(format!("c-{hex}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectionId({})", self.0)
    }
}

impl Serialize for ConnectionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ConnectionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// How a connection signs in to ServiceNow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename_all = "kebab-case")]
pub enum GrantKind {
    /// OAuth authorization code + PKCE in the system browser.
    AuthCode,
    /// OAuth resource owner password grant.
    Password,
    /// OAuth client credentials (ServiceNow Washington DC and later).
    ClientCredentials,
    /// HTTP Basic with user name and password.
    Basic,
    /// User name and an API key sent like a password.
    ApiKey,
}

impl GrantKind {
    /// Whether the grant signs in with OAuth tokens (rather than sending credentials each time).
    pub fn is_oauth(self) -> bool {
        matches!(
            self,
            Self::AuthCode | Self::Password | Self::ClientCredentials
        )
    }
}

/// The ServiceNow user a connection acts as, once identified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct LinkedIdentity {
    pub user_name: String,
    pub sys_id: String,
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
}

/// What was last learnt about a connection.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ConnectionStatus {
    pub state: ConnectionState,
    pub last_checked: Option<DateTime<Utc>>,
    pub token_expires_at: Option<DateTime<Utc>>,
    /// One sentence on why the state is what it is; never holds a secret or a response body.
    pub reason: Option<String>,
}

/// A configured connection. Holds no secret by construction: none of its fields can carry one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
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

/// Why the connections file could not be used. `Display` is the message, [`hint`] the fix.
///
/// [`hint`]: ConnectionsError::hint
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionsError {
    #[error("\"{id}\" is not a valid connection id: {reason}.")]
    InvalidId { id: String, reason: &'static str },
    #[error("No random numbers are available to make a connection id: {0}")]
    Random(String),
    #[error("This system has no configuration directory for Snowlink.")]
    NoConfigDir,
    #[error("Could not {action} {}: {detail}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        detail: String,
    },
    #[error(
        "The connections file {} could not be read ({detail}); it was moved to {}.",
        path.display(),
        moved_to.display()
    )]
    Corrupt {
        path: PathBuf,
        moved_to: PathBuf,
        detail: String,
    },
    #[error(
        "The connections file {} has format version {found}, newer than this Snowlink reads ({FILE_VERSION}).",
        path.display()
    )]
    UnsupportedVersion { path: PathBuf, found: u64 },
}

impl ConnectionsError {
    /// What the person should do about it, in one sentence.
    pub fn hint(&self) -> String {
        match self {
            Self::InvalidId { .. } => {
                "Use lowercase letters, digits and hyphens, like acme-prod.".into()
            }
            Self::Random(_) => "Try again; if it persists, report it.".into(),
            Self::NoConfigDir => format!(
                "Set the HOME environment variable, or {CONFIG_DIR_ENV} to a directory for \
                 Snowlink's settings."
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
            Self::UnsupportedVersion { .. } => "Update Snowlink; this version leaves the file \
                                                untouched."
                .into(),
        }
    }
}

#[derive(Serialize)]
struct FileOut<'a> {
    version: u64,
    connections: &'a [Connection],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIn {
    version: u64,
    connections: Vec<Connection>,
}

/// The connections file.
#[derive(Debug, Clone)]
pub struct ConnectionStore {
    path: PathBuf,
}

impl ConnectionStore {
    /// The file in the platform config directory (`~/.config/snowlink/` on Linux; debug builds
    /// use `snowlink-dev`, matching their keyring service), or in `$SNOWLINK_CONFIG_DIR`.
    pub fn in_config_dir() -> Result<Self, ConnectionsError> {
        if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
            return Ok(Self::at(PathBuf::from(dir).join(FILE_NAME)));
        }
        let dirs = directories::ProjectDirs::from("dev", "snowlink", crate::secrets::SERVICE_NAME)
            .ok_or(ConnectionsError::NoConfigDir)?;
        Ok(Self::at(dirs.config_dir().join(FILE_NAME)))
    }

    /// The file at `path`.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All connections; none when the file does not exist yet. A file that cannot be parsed is
    /// moved aside to `connections.json.corrupt-<timestamp>` and reported as
    /// [`ConnectionsError::Corrupt`]; the next load starts empty.
    pub fn load(&self) -> Result<Vec<Connection>, ConnectionsError> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(self.io("read", &self.path, &err)),
        };
        // A newer Snowlink's file is not corrupt: leave it where it is and refuse to touch it.
        if let Some(found) = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|value| value.get("version").and_then(serde_json::Value::as_u64))
            .filter(|&found| found > FILE_VERSION)
        {
            return Err(ConnectionsError::UnsupportedVersion {
                path: self.path.clone(),
                found,
            });
        }
        let problem = match serde_json::from_slice::<FileIn>(&bytes) {
            Ok(file) if file.version != FILE_VERSION => {
                format!("unknown format version {}", file.version)
            }
            Ok(file) => match first_duplicate(&file.connections) {
                Some(id) => format!("connection id {id} appears twice"),
                None => return Ok(file.connections),
            },
            // Only the position: serde's message may quote the file's content.
            Err(err) => format!(
                "{} at line {}, column {}",
                match err.classify() {
                    serde_json::error::Category::Eof => "it ends too early",
                    serde_json::error::Category::Syntax => "it is not valid JSON",
                    _ => "an entry is not a valid connection",
                },
                err.line(),
                err.column()
            ),
        };
        Err(self.move_aside(problem))
    }

    /// Replaces the file's content with `connections`, atomically.
    pub fn save(&self, connections: &[Connection]) -> Result<(), ConnectionsError> {
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        fs::create_dir_all(dir).map_err(|err| self.io("create", dir, &err))?;
        let mut json = serde_json::to_vec_pretty(&FileOut {
            version: FILE_VERSION,
            connections,
        })
        .map_err(|err| ConnectionsError::Io {
            action: "encode",
            path: self.path.clone(),
            detail: err.to_string(),
        })?;
        json.push(b'\n');
        // Same directory as the target so the rename cannot cross file systems; fsync before
        // the rename so a crash leaves either the old or the new file, never a torn one.
        let mut temp = tempfile::NamedTempFile::new_in(dir)
            .map_err(|err| self.io("create a file in", dir, &err))?;
        temp.write_all(&json)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|err| self.io("write", temp.path(), &err))?;
        temp.persist(&self.path)
            .map_err(|err| self.io("replace", &self.path, &err.error))?;
        sync_dir(dir).map_err(|err| self.io("flush", dir, &err))
    }

    /// Adds the connection, or replaces the one with the same id.
    pub fn upsert(&self, connection: Connection) -> Result<(), ConnectionsError> {
        let mut all = self.load()?;
        match all.iter_mut().find(|c| c.id == connection.id) {
            Some(existing) => *existing = connection,
            None => all.push(connection),
        }
        self.save(&all)
    }

    /// Removes the connection with `id`, returning it; `None` when there was none.
    pub fn remove(&self, id: &ConnectionId) -> Result<Option<Connection>, ConnectionsError> {
        let mut all = self.load()?;
        let Some(index) = all.iter().position(|c| &c.id == id) else {
            return Ok(None);
        };
        let removed = all.remove(index);
        self.save(&all)?;
        Ok(Some(removed))
    }

    fn move_aside(&self, detail: String) -> ConnectionsError {
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".corrupt-{stamp}"));
        let moved_to = self.path.with_file_name(name);
        match fs::rename(&self.path, &moved_to) {
            Ok(()) => ConnectionsError::Corrupt {
                path: self.path.clone(),
                moved_to,
                detail,
            },
            Err(err) => self.io("move aside", &self.path, &err),
        }
    }

    fn io(&self, action: &'static str, path: &Path, err: &std::io::Error) -> ConnectionsError {
        ConnectionsError::Io {
            action,
            path: path.to_owned(),
            detail: err.to_string(),
        }
    }
}

fn first_duplicate(connections: &[Connection]) -> Option<&ConnectionId> {
    let mut seen = std::collections::HashSet::new();
    connections
        .iter()
        .map(|c| &c.id)
        .find(|id| !seen.insert(*id))
}

/// Makes the rename itself durable (POSIX keeps directory entries in the directory's data).
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Windows has no directory fsync; `MoveFileEx`, which `persist` uses, is durable enough.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(id: &str) -> Connection {
        Connection {
            id: ConnectionId::parse(id).unwrap(),
            display_name: "Acme production".into(),
            instance: InstanceUrl::parse("acme").unwrap(),
            profile_id: "incident-sync".into(),
            grant: GrantKind::AuthCode,
            client_id: Some("0123abcd".into()),
            username: None,
            linked_identity: Some(LinkedIdentity {
                user_name: "abel.tuter".into(),
                sys_id: "62826bf03710200044e0bfc8bcbe5df1".into(),
            }),
            status: ConnectionStatus {
                state: ConnectionState::Connected,
                last_checked: Some(Utc::now()),
                token_expires_at: None,
                reason: None,
            },
        }
    }

    fn store() -> (tempfile::TempDir, ConnectionStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = ConnectionStore::at(dir.path().join("nested").join(FILE_NAME));
        (dir, store)
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn ids_are_validated() {
        assert!(ConnectionId::parse("acme-prod-2").is_ok());
        for bad in ["", "Acme", "a b", "a/b", "ä", &"x".repeat(65)] {
            assert!(ConnectionId::parse(bad).is_err(), "{bad:?}");
        }
        let random = ConnectionId::new_random().unwrap();
        assert!(ConnectionId::parse(random.as_str()).is_ok());
        assert_ne!(random, ConnectionId::new_random().unwrap());
    }

    #[test]
    fn a_missing_file_is_an_empty_list() {
        let (_dir, store) = store();
        assert!(store.load().unwrap().is_empty());
    }

    #[test]
    fn saves_and_loads_a_versioned_file() {
        let (_dir, store) = store();
        let mut second = sample("acme-dev");
        second.grant = GrantKind::ClientCredentials;
        second.linked_identity = None;
        store.upsert(sample("acme-prod")).unwrap();
        store.upsert(second.clone()).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(loaded, vec![sample_with_time(&loaded[0]), second]);

        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(store.path()).unwrap()).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["connections"][0]["grant"], "auth-code");
        assert_eq!(
            json["connections"][0]["instance"],
            "https://acme.service-now.com"
        );
        assert_eq!(
            json["connections"][0]["linkedIdentity"]["userName"],
            "abel.tuter"
        );
        assert_eq!(json["connections"][1]["status"]["state"], "connected");
        // Only the file itself remains: no temp file left behind.
        assert_eq!(files_in(store.path().parent().unwrap()), vec![FILE_NAME]);
    }

    fn sample_with_time(loaded: &Connection) -> Connection {
        let mut expected = sample("acme-prod");
        expected.status.last_checked = loaded.status.last_checked;
        expected
    }

    #[test]
    fn upsert_replaces_by_id_and_remove_deletes() {
        let (_dir, store) = store();
        store.upsert(sample("acme-prod")).unwrap();
        let mut renamed = sample("acme-prod");
        renamed.display_name = "Acme (prod)".into();
        renamed.status.state = ConnectionState::RelinkNeeded;
        store.upsert(renamed).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].display_name, "Acme (prod)");
        assert_eq!(loaded[0].status.state, ConnectionState::RelinkNeeded);

        let id = ConnectionId::parse("acme-prod").unwrap();
        assert!(store.remove(&id).unwrap().is_some());
        assert!(store.remove(&id).unwrap().is_none());
        assert!(store.load().unwrap().is_empty());
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_and_reported() {
        let (_dir, store) = store();
        store.upsert(sample("acme-prod")).unwrap();
        let original =
            "{\"version\":1,\"connections\":[{\"id\":\"acme\", \"secret-looking\":\"hunter2\"";
        fs::write(store.path(), original).unwrap();

        let err = store.load().unwrap_err();
        let ConnectionsError::Corrupt {
            moved_to, detail, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert!(detail.contains("line 1"), "{detail}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.hint().contains("Nothing was deleted"));
        let name = moved_to.file_name().unwrap().to_string_lossy();
        assert!(name.starts_with("connections.json.corrupt-"), "{name}");
        assert_eq!(
            fs::read_to_string(moved_to).unwrap(),
            original,
            "kept byte for byte"
        );

        // The next load starts afresh, and saving does not touch the kept file.
        assert!(store.load().unwrap().is_empty());
        store.upsert(sample("acme-dev")).unwrap();
        assert_eq!(fs::read_to_string(moved_to).unwrap(), original);
    }

    #[test]
    fn wrong_shapes_and_duplicates_count_as_corrupt() {
        let (_dir, store) = store();
        for content in [
            "[]",
            "{\"version\":1}",
            "{\"version\":0,\"connections\":[]}",
            "{\"version\":1,\"connections\":[{\"id\":\"NOT VALID\"}]}",
        ] {
            fs::create_dir_all(store.path().parent().unwrap()).unwrap();
            fs::write(store.path(), content).unwrap();
            assert!(
                matches!(store.load(), Err(ConnectionsError::Corrupt { .. })),
                "{content}"
            );
        }
        store
            .save(&[sample("acme-prod"), sample("acme-prod")])
            .unwrap();
        let err = store.load().unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
    }

    #[test]
    fn a_newer_format_is_left_untouched() {
        let (_dir, store) = store();
        fs::create_dir_all(store.path().parent().unwrap()).unwrap();
        fs::write(
            store.path(),
            "{\"version\":2,\"connections\":[],\"more\":true}",
        )
        .unwrap();
        assert!(matches!(
            store.load(),
            Err(ConnectionsError::UnsupportedVersion { found: 2, .. })
        ));
        assert!(store.upsert(sample("acme-prod")).is_err());
        assert_eq!(files_in(store.path().parent().unwrap()), vec![FILE_NAME]);
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
    }
}

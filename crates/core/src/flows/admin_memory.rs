//! Admin sign-ins the admin asked Snowlink to remember: only for an OAuth application of
//! Snowlink's own that has a client secret (a public client gets no refresh token). What is
//! listed — the instance, the Client ID, when — is in `admin-sign-ins.json` beside the
//! connections file; the client secret and the refresh token are in the OS keyring, under a key
//! no connection uses. Nothing else is kept: the access token stays in memory.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::files::{atomic_write, read_capped};
use crate::ids::ConnectionId;
use crate::instance::InstanceUrl;

/// Largest file read: a few hundred entries.
const MAX_FILE_BYTES: u64 = 256 * 1024;
const FILE_NAME: &str = "admin-sign-ins.json";
const VERSION: u32 = 1;
/// Keyring keys of remembered sign-ins start with it.
const KEY_PREFIX: &str = "admin";

/// One remembered admin sign-in; its secrets are in the keyring under `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RememberedAdmin {
    /// The instance's address, as Snowlink writes it.
    pub instance: String,
    /// The Client ID of Snowlink's application on it.
    pub client_id: String,
    pub remembered_at: DateTime<Utc>,
    pub key: ConnectionId,
}

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    sign_ins: Vec<RememberedAdmin>,
}

/// Why the list of remembered sign-ins could not be read or written. The file is never
/// overwritten when it could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("Could not read {path}: {detail}")]
    Unreadable { path: String, detail: String },
    #[error(transparent)]
    Write(#[from] crate::files::WriteFailure),
    #[error(transparent)]
    Id(#[from] crate::ids::ConnectionIdError),
}

impl MemoryError {
    pub fn hint(&self) -> String {
        match self {
            Self::Unreadable { path, .. } => format!(
                "Move {path} aside (Snowlink then remembers no admin sign-in) or mend it; \
                 Snowlink does not overwrite it."
            ),
            Self::Write(failure) => failure.view().hint,
            Self::Id(_) => "Try again.".into(),
        }
    }
}

/// The remembered sign-ins' list, beside the connections file at `connections`.
#[derive(Debug, Clone)]
pub struct AdminMemory {
    path: PathBuf,
}

impl AdminMemory {
    pub fn beside(connections: &Path) -> Self {
        Self {
            path: crate::files::parent_dir(connections).join(FILE_NAME),
        }
    }

    pub fn list(&self) -> Result<Vec<RememberedAdmin>, MemoryError> {
        let unreadable = |detail: String| MemoryError::Unreadable {
            path: self.path.display().to_string(),
            detail,
        };
        let Some(bytes) =
            read_capped(&self.path, MAX_FILE_BYTES).map_err(|err| unreadable(err.to_string()))?
        else {
            return Ok(Vec::new());
        };
        let file: File =
            serde_json::from_slice(&bytes).map_err(|err| unreadable(err.to_string()))?;
        if file.version != VERSION {
            return Err(unreadable(format!(
                "it is version {}, this Snowlink reads {VERSION}",
                file.version
            )));
        }
        Ok(file.sign_ins)
    }

    /// The sign-in remembered for `instance`, if any.
    pub fn find(&self, instance: &InstanceUrl) -> Result<Option<RememberedAdmin>, MemoryError> {
        Ok(self
            .list()?
            .into_iter()
            .find(|r| r.instance == instance.as_str()))
    }

    /// Lists `client_id` on `instance` (replacing what was there); the caller stores the
    /// secrets under the returned entry's key first.
    pub fn entry(
        &self,
        instance: &InstanceUrl,
        client_id: &str,
    ) -> Result<RememberedAdmin, MemoryError> {
        Ok(RememberedAdmin {
            instance: instance.as_str().to_owned(),
            client_id: client_id.to_owned(),
            remembered_at: Utc::now(),
            key: match self.find(instance)? {
                Some(known) => known.key,
                None => ConnectionId::random_with_prefix(KEY_PREFIX)?,
            },
        })
    }

    pub fn put(&self, entry: RememberedAdmin) -> Result<(), MemoryError> {
        let mut sign_ins = self.list()?;
        sign_ins.retain(|r| r.instance != entry.instance);
        sign_ins.push(entry);
        self.write(sign_ins)
    }

    /// Drops `instance`'s entry; the one dropped, if any.
    pub fn remove(&self, instance: &str) -> Result<Option<RememberedAdmin>, MemoryError> {
        let mut sign_ins = self.list()?;
        let Some(at) = sign_ins.iter().position(|r| r.instance == instance) else {
            return Ok(None);
        };
        let removed = sign_ins.remove(at);
        self.write(sign_ins)?;
        Ok(Some(removed))
    }

    fn write(&self, sign_ins: Vec<RememberedAdmin>) -> Result<(), MemoryError> {
        let file = File {
            version: VERSION,
            sign_ins,
        };
        let text = serde_json::to_vec_pretty(&file).unwrap_or_default();
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        Ok(atomic_write(&self.path, &text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(name: &str) -> InstanceUrl {
        InstanceUrl::parse(name).unwrap()
    }

    #[test]
    fn an_entry_per_instance_is_kept_replaced_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let memory = AdminMemory::beside(&dir.path().join("connections.json"));
        assert!(memory.list().unwrap().is_empty());
        let first = memory.entry(&instance("acme"), "one").unwrap();
        memory.put(first.clone()).unwrap();
        let again = memory.entry(&instance("acme"), "two").unwrap();
        assert_eq!(
            again.key, first.key,
            "the same instance keeps its keyring key"
        );
        memory.put(again).unwrap();
        memory
            .put(memory.entry(&instance("globex"), "three").unwrap())
            .unwrap();
        let listed = memory.list().unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(
            memory.find(&instance("acme")).unwrap().unwrap().client_id,
            "two"
        );
        let removed = memory.remove(instance("acme").as_str()).unwrap().unwrap();
        assert_eq!(removed.key, first.key);
        assert!(memory.find(&instance("acme")).unwrap().is_none());
        assert!(memory.remove(instance("acme").as_str()).unwrap().is_none());
    }

    #[test]
    fn a_file_that_cannot_be_read_is_reported_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, b"{ not json").unwrap();
        let memory = AdminMemory::beside(&dir.path().join("connections.json"));
        let err = memory.list().unwrap_err();
        assert!(err.to_string().contains(FILE_NAME), "{err}");
        assert!(err.hint().contains("does not overwrite"), "{}", err.hint());
        let entry = RememberedAdmin {
            instance: instance("acme").as_str().into(),
            client_id: "x".into(),
            remembered_at: Utc::now(),
            key: ConnectionId::parse("admin-1").unwrap(),
        };
        assert!(memory.put(entry).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"{ not json");
    }
}

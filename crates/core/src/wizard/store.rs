//! The saved setups: one file per setup in the config folder's `setups/`, written atomically
//! after every event, holding no secret. A file that cannot be read is set aside and reported,
//! never overwritten.

use std::path::{Path, PathBuf};

use super::{STATE_VERSION, WizardState};
use crate::connections::ConnectionId;

/// Largest state file read.
const MAX_STATE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("Could not {action} {path}: {detail}")]
    Io {
        action: &'static str,
        path: String,
        detail: String,
    },
    #[error("The saved setup {path} could not be read ({detail}); it was moved to {moved_to}.")]
    Unreadable {
        path: String,
        moved_to: String,
        detail: String,
    },
    #[error("There is no saved setup of {0} to resume.")]
    NothingToResume(String),
}

impl StoreError {
    pub fn hint(&self) -> String {
        match self {
            Self::Io { .. } => {
                "Check that the config folder exists and that you may write it.".into()
            }
            Self::Unreadable { .. } => "Start the setup again; nothing else was changed.".into(),
            Self::NothingToResume(_) => "Start the setup without resuming.".into(),
        }
    }
}

/// The folder of saved setups.
#[derive(Debug, Clone)]
pub struct SetupStore {
    dir: PathBuf,
}

impl SetupStore {
    /// `setups/` beside the connections file.
    pub fn beside(connections_file: &Path) -> Self {
        Self {
            dir: crate::files::parent_dir(connections_file).join("setups"),
        }
    }

    fn path(&self, draft: &ConnectionId) -> PathBuf {
        self.dir.join(format!("{draft}.json"))
    }

    pub fn save(&self, state: &WizardState) -> Result<(), StoreError> {
        let io = |action, path: &Path, err: &dyn std::fmt::Display| StoreError::Io {
            action,
            path: path.display().to_string(),
            detail: err.to_string(),
        };
        std::fs::create_dir_all(&self.dir).map_err(|err| io("create", &self.dir, &err))?;
        let mut json =
            serde_json::to_vec_pretty(state).map_err(|err| io("encode", &self.dir, &err))?;
        json.push(b'\n');
        let path = self.path(&state.draft);
        crate::files::atomic_write(&path, &json).map_err(|f| io(f.action, &f.path, &f.error))
    }

    pub fn load(&self, draft: &ConnectionId) -> Result<WizardState, StoreError> {
        read(&self.path(draft))
    }

    /// Every unfinished setup, the most recent first. A file that cannot be read is set
    /// aside (see [`read`]) and left out.
    pub fn unfinished(&self) -> Vec<WizardState> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut found: Vec<WizardState> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter_map(|p| read(&p).ok())
            .filter(|s| s.finished.is_none())
            .collect();
        found.sort_by_key(|s| std::cmp::Reverse(s.updated_at));
        found
    }

    /// The most recent unfinished setup of `profile`.
    pub fn latest(&self, profile: &str) -> Result<WizardState, StoreError> {
        self.unfinished()
            .into_iter()
            .find(|s| s.profile == profile)
            .ok_or_else(|| StoreError::NothingToResume(profile.to_owned()))
    }

    /// Forgets a finished setup.
    pub fn remove(&self, draft: &ConnectionId) {
        let _ = std::fs::remove_file(self.path(draft));
    }
}

fn read(path: &Path) -> Result<WizardState, StoreError> {
    let shown = path.display().to_string();
    let size = std::fs::metadata(path)
        .map_err(|err| StoreError::Io {
            action: "read",
            path: shown.clone(),
            detail: err.to_string(),
        })?
        .len();
    let parsed = if size > MAX_STATE_BYTES {
        Err("it is larger than 1 MiB".to_owned())
    } else {
        std::fs::read(path)
            .map_err(|err| err.to_string())
            .and_then(|bytes| {
                serde_json::from_slice::<WizardState>(&bytes).map_err(|err| {
                    format!(
                        "not a saved setup at line {}, column {}",
                        err.line(),
                        err.column()
                    )
                })
            })
            .and_then(|state| {
                if state.version == STATE_VERSION {
                    Ok(state)
                } else {
                    Err(format!(
                        "format version {} is not {STATE_VERSION}",
                        state.version
                    ))
                }
            })
    };
    parsed.map_err(|detail| {
        let moved_to = path.with_extension(format!(
            "json.unreadable-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S")
        ));
        let _ = std::fs::rename(path, &moved_to);
        StoreError::Unreadable {
            path: shown,
            moved_to: moved_to.display().to_string(),
            detail,
        }
    })
}

//! The saved setups: one file per setup in the config folder's `setups/`, written atomically
//! after every event, holding no secret. A file that cannot be read is set aside (in the same
//! folder) and reported with where it went, never overwritten.

use std::path::{Path, PathBuf};

use super::{STATE_VERSION, WizardState};
use crate::ids::ConnectionId;

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
    #[error(
        "No saved setup of {profile} could be resumed: {} saved setup(s) could not be read ({}); \
         {} kept aside as {}.",
        unreadable.len(),
        unreadable.iter().map(|u| u.detail.as_str()).collect::<Vec<_>>().join("; "),
        if unreadable.len() == 1 { "it is" } else { "they are" },
        unreadable.iter().map(|u| u.moved_to.as_str()).collect::<Vec<_>>().join(", ")
    )]
    ResumeUnreadable {
        profile: String,
        unreadable: Vec<Unreadable>,
    },
}

/// A saved setup that could not be read, and where it was set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub path: String,
    pub moved_to: String,
    pub detail: String,
}

impl StoreError {
    pub fn view(&self) -> crate::errors::ErrorView {
        let code = match self {
            Self::NothingToResume(_) => crate::errors::ErrorCode::NotFound,
            _ => crate::errors::ErrorCode::ConfigError,
        };
        crate::errors::ErrorView::new(code, self.to_string(), self.hint())
    }

    pub fn hint(&self) -> String {
        match self {
            Self::Io { .. } => {
                "Check that the config folder exists and that you may write it.".into()
            }
            Self::Unreadable { .. } => "Start the setup again; nothing else was changed.".into(),
            Self::NothingToResume(_) => "Start the setup without resuming.".into(),
            Self::ResumeUnreadable { .. } => {
                "Start the setup again; nothing else was changed, and the kept copy can be \
                 deleted once you no longer need it."
                    .into()
            }
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

    /// Every unfinished setup, the most recent first, and the files that could not be read
    /// (each set aside by [`read`]).
    pub fn unfinished(&self) -> (Vec<WizardState>, Vec<Unreadable>) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return (Vec::new(), Vec::new());
        };
        let mut found = Vec::new();
        let mut unreadable = Vec::new();
        for path in entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
        {
            match read(&path) {
                Ok(state) if state.finished.is_none() => found.push(state),
                Ok(_) => {}
                Err(StoreError::Unreadable {
                    path,
                    moved_to,
                    detail,
                }) => unreadable.push(Unreadable {
                    path,
                    moved_to,
                    detail,
                }),
                Err(_) => {}
            }
        }
        found.sort_by_key(|s| std::cmp::Reverse(s.updated_at));
        (found, unreadable)
    }

    /// The most recent unfinished setup of `profile`. When there is none, but some saved setup
    /// could not be read, that is said, with where the copy is kept.
    pub fn latest(&self, profile: &str) -> Result<WizardState, StoreError> {
        let (found, unreadable) = self.unfinished();
        if let Some(state) = found.into_iter().find(|s| s.profile == profile) {
            return Ok(state);
        }
        if unreadable.is_empty() {
            Err(StoreError::NothingToResume(profile.to_owned()))
        } else {
            Err(StoreError::ResumeUnreadable {
                profile: profile.to_owned(),
                unreadable,
            })
        }
    }

    /// Where the setup `draft` keeps the update set it asks the admin to upload.
    pub fn update_set_path(&self, draft: &ConnectionId) -> PathBuf {
        self.dir.join(format!("{draft}.update-set.xml"))
    }

    /// Forgets the update set a finished setup kept (a setup's own file stays, finished).
    pub fn forget_update_set(&self, draft: &ConnectionId) {
        let _ = std::fs::remove_file(self.update_set_path(draft));
    }
}

fn read(path: &Path) -> Result<WizardState, StoreError> {
    let shown = path.display().to_string();
    let parsed = match crate::files::read_capped(path, MAX_STATE_BYTES) {
        Err(crate::files::ReadFailure::Io(err)) => {
            return Err(StoreError::Io {
                action: "read",
                path: shown,
                detail: err.to_string(),
            });
        }
        Ok(None) => {
            return Err(StoreError::Io {
                action: "read",
                path: shown,
                detail: "it was removed while being read".into(),
            });
        }
        Err(unusable) => Err(unusable.to_string()),
        Ok(Some(bytes)) => Ok(bytes),
    };
    let parsed = parsed
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
            if state.version != STATE_VERSION {
                Err(format!(
                    "format version {} is not {STATE_VERSION}",
                    state.version
                ))
            } else if crate::instance::InstanceUrl::parse(&state.instance).is_err() {
                // Said without the address: it may carry a password.
                Err("its instance address is not one Snowlink can use".into())
            } else {
                Ok(state)
            }
        });
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

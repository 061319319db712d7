//! The connections file, `connections.json`. It is versioned and migrated from every earlier
//! version ([`super::migrate`]), capped in size, written atomically (temp file, fsync, rename)
//! so a crash never leaves half a file, and changed only under an advisory lock in the config
//! folder so the CLI and the app never lose each other's writes. A symlinked file keeps its
//! link: a valid connections file behind it is written through. A file in the config folder
//! that cannot be read is moved aside and reported, never overwritten; a link's target that is
//! not a connections file is left exactly as it is, because it is not Snowlink's.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;

use super::migrate::{self, FILE_VERSION, Loaded};
use super::{Connection, ConnectionId, ConnectionsError};
use crate::files::{ReadFailure, parent_dir};

/// The file's name inside the config directory.
pub const FILE_NAME: &str = "connections.json";
/// Largest file read: a few hundred connections take a few hundred KiB.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// How long a change waits for another process's change to finish.
const LOCK_WAIT: Duration = Duration::from_secs(10);
/// Symbolic links followed to the real file, at most (as the kernel's ELOOP limit).
const MAX_LINKS: usize = 40;

#[derive(Serialize)]
struct FileOut<'a> {
    version: u64,
    connections: &'a [Connection],
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
        if let Some(dir) = std::env::var_os(crate::env::CONFIG_DIR).filter(|d| !d.is_empty()) {
            return Ok(Self::at(PathBuf::from(dir).join(FILE_NAME)));
        }
        let dirs = directories::ProjectDirs::from("dev", "snowlink", crate::APP_ID)
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

    /// A short name for this file's location, the same in every process that uses it: the
    /// desktop app runs once per connections file, so two profiles (say, two
    /// `SNOWLINK_CONFIG_DIR`s) can be open side by side while a second launch on the same one
    /// hands over to the first.
    pub fn profile_key(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.path.as_os_str().as_encoded_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// All connections; none when the file does not exist yet (or a link's target does not: the
    /// first change creates it there, as a dotfiles setup expects). A
    /// file in the config folder that cannot be used is moved aside to
    /// `connections.json.corrupt-<timestamp>` and reported as [`ConnectionsError::Corrupt`]; a
    /// link's target that cannot be used is reported as [`ConnectionsError::NotOurs`] and left
    /// as it is; a newer version's file is left where it is.
    pub fn load(&self) -> Result<Vec<Connection>, ConnectionsError> {
        let target = self.target()?;
        match self.read(&target)? {
            Found::Missing => Ok(Vec::new()),
            Found::Loaded(loaded) => Ok(loaded.connections),
            Found::Unusable(problem) => {
                // Moving aside changes the directory: do it under the lock, and only if the
                // file is still the one that was read.
                let _lock = self.lock()?;
                match self.read(&target)? {
                    Found::Unusable(_) => Err(self.set_aside(&target, problem)),
                    Found::Missing => Ok(Vec::new()),
                    Found::Loaded(loaded) => Ok(loaded.connections),
                }
            }
        }
    }

    /// Loads, lets `change` edit the list, and saves it, all under the file's lock, so two
    /// processes changing connections at once both keep their change. Nothing is written when
    /// `change` fails, or when the file could not be read.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut Vec<Connection>) -> Result<T, ConnectionsError>,
    ) -> Result<T, ConnectionsError> {
        let target = self.target()?;
        let _lock = self.lock()?;
        let loaded = match self.read(&target)? {
            Found::Missing => Loaded::current(Vec::new()),
            Found::Loaded(loaded) => loaded,
            Found::Unusable(problem) => return Err(self.set_aside(&target, problem)),
        };
        let mut connections = loaded.connections;
        let out = change(&mut connections)?;
        if let Some(version) = loaded.migrated_from {
            // The older file is kept for an older Snowlink, which cannot read the new one: in
            // the config folder, even when the file itself is a link to elsewhere.
            let mut name = self.path.file_name().unwrap_or_default().to_os_string();
            name.push(format!(".v{version}"));
            fs::copy(&target, self.path.with_file_name(name))
                .map_err(|err| io("keep a copy of", &target, &err))?;
        }
        self.write(&target, &connections)?;
        Ok(out)
    }

    /// Adds the connection, or replaces the one with the same id.
    pub fn upsert(&self, connection: Connection) -> Result<(), ConnectionsError> {
        self.update(|all| {
            match all.iter_mut().find(|c| c.id == connection.id) {
                Some(existing) => *existing = connection,
                None => all.push(connection),
            }
            Ok(())
        })
    }

    /// Removes the connection with `id`, returning it; `None` when there was none.
    pub fn remove(&self, id: &ConnectionId) -> Result<Option<Connection>, ConnectionsError> {
        self.update(|all| {
            Ok(all
                .iter()
                .position(|c| &c.id == id)
                .map(|index| all.remove(index)))
        })
    }

    /// The real file behind the path: symbolic links are followed, so writing keeps them.
    fn target(&self) -> Result<PathBuf, ConnectionsError> {
        let mut path = self.path.clone();
        for _ in 0..MAX_LINKS {
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    let link = fs::read_link(&path).map_err(|err| io("follow", &path, &err))?;
                    path = match path.parent() {
                        Some(dir) => dir.join(link),
                        None => link,
                    };
                }
                _ => return Ok(path),
            }
        }
        Err(ConnectionsError::Io {
            action: "follow",
            path: self.path.clone(),
            detail: "too many levels of symbolic links".into(),
        })
    }

    fn read(&self, target: &Path) -> Result<Found, ConnectionsError> {
        let bytes = match crate::files::read_capped(target, MAX_FILE_BYTES) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(Found::Missing),
            Err(ReadFailure::Io(err)) => return Err(io("read", &self.path, &err)),
            Err(unusable) => return Ok(Found::Unusable(unusable.to_string())),
        };
        match migrate::parse(&bytes) {
            Ok(loaded) => Ok(Found::Loaded(loaded)),
            Err(migrate::Problem::Newer(found)) => Err(ConnectionsError::UnsupportedVersion {
                path: self.path.clone(),
                found,
            }),
            Err(migrate::Problem::Unusable(problem)) => Ok(Found::Unusable(problem)),
        }
    }

    fn write(&self, target: &Path, connections: &[Connection]) -> Result<(), ConnectionsError> {
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
        crate::files::atomic_write(target, &json).map_err(|failure| ConnectionsError::Io {
            action: failure.action,
            path: failure.path,
            detail: failure.error.to_string(),
        })
    }

    /// The advisory lock (`connections.json.lock`) in the config folder, never beside a link's
    /// target elsewhere, held until dropped. Waits for another process's change, but not
    /// forever.
    fn lock(&self) -> Result<fs::File, ConnectionsError> {
        let dir = parent_dir(&self.path);
        fs::create_dir_all(dir).map_err(|err| io("create", dir, &err))?;
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        let path = self.path.with_file_name(name);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|err| io("open", &path, &err))?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(fs::TryLockError::WouldBlock) if started.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(ConnectionsError::Busy {
                        path: self.path.clone(),
                        waited: LOCK_WAIT,
                    });
                }
                Err(fs::TryLockError::Error(err)) => return Err(io("lock", &path, &err)),
            }
        }
    }

    /// A file in the config folder is moved aside, so the next change starts afresh without
    /// losing it; a link's target is somebody else's file and is left exactly as it is.
    fn set_aside(&self, target: &Path, detail: String) -> ConnectionsError {
        if target != self.path {
            return ConnectionsError::NotOurs {
                path: self.path.clone(),
                target: target.to_owned(),
                detail,
            };
        }
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let mut name = target.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".corrupt-{stamp}"));
        let moved_to = target.with_file_name(name);
        match fs::rename(target, &moved_to) {
            Ok(()) => ConnectionsError::Corrupt {
                path: self.path.clone(),
                moved_to,
                detail,
            },
            Err(err) => io("move aside", target, &err),
        }
    }
}

enum Found {
    Missing,
    Loaded(Loaded),
    Unusable(String),
}

fn io(action: &'static str, path: &Path, err: &std::io::Error) -> ConnectionsError {
    ConnectionsError::Io {
        action,
        path: path.to_owned(),
        detail: err.to_string(),
    }
}

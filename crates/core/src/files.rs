//! Writing a file so a crash never leaves half of it: a temporary file in the same directory
//! (the rename then cannot cross file systems), flushed to disk, renamed over the target, and
//! the directory flushed too (POSIX keeps the entry there).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What failed, where.
#[derive(Debug)]
pub struct WriteFailure {
    pub action: &'static str,
    pub path: PathBuf,
    pub error: std::io::Error,
}

/// The directory a file is in (`.` for a bare name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Replaces `target` with `bytes`, atomically.
pub fn atomic_write(target: &Path, bytes: &[u8]) -> Result<(), WriteFailure> {
    let dir = parent_dir(target);
    let failed = |action, path: &Path, error| WriteFailure {
        action,
        path: path.to_owned(),
        error,
    };
    let mut temp =
        tempfile::NamedTempFile::new_in(dir).map_err(|err| failed("create a file in", dir, err))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|err| failed("write", temp.path(), err))?;
    temp.persist(target)
        .map_err(|err| failed("replace", target, err.error))?;
    sync_dir(dir).map_err(|err| failed("flush", dir, err))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Windows has no directory fsync; `MoveFileEx`, which `persist` uses, is durable enough.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

//! Files Snowlink keeps. Writing one so a crash never leaves half of it: a temporary file in the
//! same directory (the rename then cannot cross file systems), flushed to disk, renamed over the
//! target, and the directory flushed too (POSIX keeps the entry there). Reading one only when it
//! is a regular file, and never more than a cap ([`read_capped`]).

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What failed, where.
#[derive(Debug, thiserror::Error)]
#[error("Could not {action} {}: {error}", path.display())]
pub struct WriteFailure {
    pub action: &'static str,
    pub path: PathBuf,
    pub error: std::io::Error,
}

impl WriteFailure {
    pub fn view(&self) -> crate::errors::ErrorView {
        crate::errors::ErrorView::new(
            crate::errors::ErrorCode::ConfigError,
            self.to_string(),
            "Choose a folder you may write to, with some free space.",
        )
    }
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

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadFailure {
    /// Something other than a regular file is there (a named pipe, a device, a folder):
    /// reading it could block forever or never end.
    NotAFile(&'static str),
    /// The file is larger than the reader takes.
    TooLarge {
        max_bytes: u64,
    },
    Io(std::io::Error),
}

impl std::fmt::Display for ReadFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAFile(kind) => write!(f, "it is {kind}, not a file"),
            Self::TooLarge { max_bytes } => write!(f, "it is larger than {}", size(*max_bytes)),
            Self::Io(err) => write!(f, "{err}"),
        }
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 && b % (1024 * 1024) == 0 => format!("{} MiB", b / 1024 / 1024),
        b if b >= 1024 && b % 1024 == 0 => format!("{} KiB", b / 1024),
        b => format!("{b} bytes"),
    }
}

/// The bytes of the regular file at `path`, at most `max_bytes` of them; `None` when nothing is
/// there. Symbolic links are followed. A named pipe is opened without waiting for a writer and
/// refused, as is a device or a folder, so no file Snowlink reads can hang it or fill its memory.
pub fn read_capped(path: &Path, max_bytes: u64) -> Result<Option<Vec<u8>>, ReadFailure> {
    let file = match open_without_waiting(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(ReadFailure::Io(err)),
    };
    let meta = file.metadata().map_err(ReadFailure::Io)?;
    if !meta.is_file() {
        return Err(ReadFailure::NotAFile(kind_of(&meta.file_type())));
    }
    if meta.len() > max_bytes {
        return Err(ReadFailure::TooLarge { max_bytes });
    }
    let mut bytes = Vec::new();
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadFailure::Io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadFailure::TooLarge { max_bytes });
    }
    Ok(Some(bytes))
}

/// Opens for reading; a named pipe with no writer does not block the open (`O_NONBLOCK`,
/// which changes nothing for a regular file).
#[cfg(unix)]
fn open_without_waiting(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_without_waiting(path: &Path) -> std::io::Result<fs::File> {
    fs::File::open(path)
}

/// What a file system entry that is not a regular file is, in words.
fn kind_of(file_type: &fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, b"12345").unwrap();
        assert_eq!(read_capped(&path, 5).unwrap().unwrap(), b"12345");
        assert!(matches!(
            read_capped(&path, 4),
            Err(ReadFailure::TooLarge { max_bytes: 4 })
        ));
        assert!(
            read_capped(&dir.path().join("missing"), 5)
                .unwrap()
                .is_none()
        );
        let folder = read_capped(dir.path(), 5).unwrap_err();
        assert_eq!(folder.to_string(), "it is a folder, not a file");
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_or_a_device_is_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // No writer ever opens it: a blocking open would hang this test.
        let err = read_capped(&fifo, 1024).unwrap_err();
        assert_eq!(err.to_string(), "it is a named pipe, not a file");
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let err = read_capped(&link, 1024).unwrap_err();
        assert_eq!(err.to_string(), "it is a device, not a file");
    }
}

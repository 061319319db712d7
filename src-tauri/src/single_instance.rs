//! One app per connections file, on Unix without a D-Bus stack (on Linux,
//! `tauri-plugin-single-instance` brings zbus and its own async runtime, a tenth of the binary,
//! to hold one bus name). The first launch holds an exclusive lock on `app.lock` beside the
//! connections file for as long as it runs, and listens on the socket `app.sock` beside it. A
//! second launch finds the lock taken, knocks on the socket, which brings the first window
//! forward, and exits. The system drops the lock when the first process ends, however it ends,
//! so a crash never keeps the app from starting; a socket left behind is replaced. Another
//! profile (`SNOWLINK_CONFIG_DIR`) has its own directory, so its own window.

use std::fs::{File, OpenOptions, Permissions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

const LOCK_FILE: &str = "app.lock";
const SOCKET_FILE: &str = "app.sock";
/// How long a second launch keeps knocking while the first is still opening its socket.
const KNOCK_TRIES: u32 = 20;
const KNOCK_PAUSE: Duration = Duration::from_millis(100);

/// What this launch is.
pub enum Launch {
    /// The only app on this directory; it keeps the guard while it runs.
    First(Guard),
    /// Another app already runs on this directory.
    Second,
}

/// The lock and the socket of the running app.
pub struct Guard {
    lock: File,
    listener: Option<UnixListener>,
}

/// Takes the directory `dir` for this process, or finds it taken.
pub fn claim(dir: &Path) -> io::Result<Launch> {
    std::fs::create_dir_all(dir)?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(Launch::Second),
        Err(TryLockError::Error(err)) => return Err(err),
    }
    // Holding the lock, any socket here was left by an app that has ended.
    let socket = socket_path(dir);
    match std::fs::remove_file(&socket) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    // Without its socket the app still runs alone; a second launch just cannot raise it.
    let listener = UnixListener::bind(&socket)
        .and_then(|listener| {
            std::fs::set_permissions(&socket, Permissions::from_mode(0o600))?;
            Ok(listener)
        })
        .map_err(|err| {
            eprintln!("Snowlink: a second launch cannot bring this window forward ({err}).")
        })
        .ok();
    Ok(Launch::First(Guard { lock, listener }))
}

impl Guard {
    /// Calls `raise` for each later launch, on a thread of its own, for as long as the process
    /// runs. What a knock says is not read: anyone who may open the socket may only raise the
    /// window.
    pub fn serve(self, raise: impl Fn() + Send + 'static) {
        let Guard { lock, listener } = self;
        let Some(listener) = listener else {
            // Held until the process ends, socket or not.
            std::mem::forget(lock);
            return;
        };
        std::thread::spawn(move || {
            let _lock = lock;
            for knock in listener.incoming() {
                if knock.is_ok() {
                    raise();
                }
            }
        });
    }
}

/// Asks the app that holds `dir` to bring its window forward.
pub fn knock(dir: &Path) -> io::Result<()> {
    let socket = socket_path(dir);
    let mut last = None;
    for _ in 0..KNOCK_TRIES {
        match UnixStream::connect(&socket).and_then(|mut stream| stream.write_all(b"raise\n")) {
            Ok(()) => return Ok(()),
            Err(err) => last = Some(err),
        }
        std::thread::sleep(KNOCK_PAUSE);
    }
    Err(last.unwrap_or_else(|| io::Error::other("no answer")))
}

fn socket_path(dir: &Path) -> PathBuf {
    dir.join(SOCKET_FILE)
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    fn first(dir: &Path) -> Guard {
        match claim(dir).unwrap() {
            Launch::First(guard) => guard,
            Launch::Second => panic!("the directory was free"),
        }
    }

    #[test]
    fn a_second_launch_finds_the_first_and_raises_its_window() {
        let dir = tempfile::tempdir().unwrap();
        let (raised, seen) = mpsc::channel();
        first(dir.path()).serve(move || raised.send(()).unwrap());
        assert!(matches!(claim(dir.path()).unwrap(), Launch::Second));
        knock(dir.path()).unwrap();
        seen.recv_timeout(Duration::from_secs(5))
            .expect("the first app was raised");
        let mode = std::fs::metadata(socket_path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the user may knock");
    }

    #[test]
    fn an_ended_app_leaves_nothing_that_blocks_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let guard = first(dir.path());
        assert!(socket_path(dir.path()).exists());
        // Ended without cleaning up, as after a crash: the lock goes, the socket stays.
        drop(guard);
        assert!(socket_path(dir.path()).exists());
        let (raised, seen) = mpsc::channel();
        first(dir.path()).serve(move || raised.send(()).unwrap());
        knock(dir.path()).unwrap();
        seen.recv_timeout(Duration::from_secs(5))
            .expect("the new socket answers");
    }

    #[test]
    fn another_directory_is_another_app_and_nobody_answers_for_an_empty_one() {
        let one = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let _one = first(one.path());
        let _other = first(&other.path().join("not yet made"));
        assert!(knock(&tempfile::tempdir().unwrap().path().join("nobody")).is_err());
    }
}

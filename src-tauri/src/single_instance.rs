//! One app per connections file, on Unix without a D-Bus stack (on Linux,
//! `tauri-plugin-single-instance` brings zbus and its own async runtime, a tenth of the binary,
//! to hold one bus name). The first launch holds an exclusive lock on `app.lock` beside the
//! connections file for as long as it runs, and listens on the socket `app.sock` beside it. A
//! second launch finds the lock taken, knocks on the socket, which brings the first window
//! forward, and exits. An app that is closing answers the knock so: the second launch then
//! waits for it to end and starts itself, instead of handing over to a window that is going
//! away. The system drops the lock when the first process ends, however it ends, so a crash
//! never keeps the app from starting; a socket left behind is replaced. Another profile
//! (`SNOWLINK_CONFIG_DIR`) has its own directory, so its own window.

use std::fs::{File, OpenOptions, Permissions, TryLockError};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

const LOCK_FILE: &str = "app.lock";
const SOCKET_FILE: &str = "app.sock";
/// How long a second launch keeps knocking while the first is still opening its socket.
const KNOCK_TRIES: u32 = 20;
const KNOCK_PAUSE: Duration = Duration::from_millis(100);
/// How long a knock waits for the answer.
const ANSWER_WAIT: Duration = Duration::from_secs(5);
/// How long a launch waits for a closing app to end.
const END_WAIT: Duration = Duration::from_secs(30);
const END_POLL: Duration = Duration::from_millis(20);
const RAISED: &[u8] = b"raised\n";
const CLOSING: &[u8] = b"closing\n";

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

/// What the app holding a directory answered a knock.
#[derive(Debug, PartialEq, Eq)]
pub enum Knock {
    /// Its window came forward.
    Raised,
    /// It is closing: it will not show a window again.
    Closing,
}

/// Takes `dir` for this launch, or has the app that holds it bring its window forward. When
/// that app is closing, waits for it to end and takes `dir` then. When nobody answers, the
/// holder may be ending (its socket goes before its lock), so this waits for the lock the same
/// way, and only then gives up with what the knock met.
pub fn launch(dir: &Path) -> io::Result<Launch> {
    match claim(dir)? {
        Launch::First(guard) => Ok(Launch::First(guard)),
        Launch::Second => match knock(dir) {
            Ok(Knock::Raised) => Ok(Launch::Second),
            Ok(Knock::Closing) => wait_for_end(dir),
            Err(err) => wait_for_end(dir).map_err(|_| err),
        },
    }
}

/// Claims `dir` as soon as the app holding it has ended (its lock goes with its process).
fn wait_for_end(dir: &Path) -> io::Result<Launch> {
    let deadline = std::time::Instant::now() + END_WAIT;
    loop {
        if let Launch::First(guard) = claim(dir)? {
            return Ok(Launch::First(guard));
        }
        if std::time::Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the running Snowlink was closing, but did not end within {} s",
                    END_WAIT.as_secs()
                ),
            ));
        }
        std::thread::sleep(END_POLL);
    }
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
    /// runs, and answers whether the window came forward (`raise` returns `false` once the app
    /// is closing). What a knock says is not read: anyone who may open the socket may only
    /// raise the window.
    pub fn serve(self, raise: impl Fn() -> bool + Send + 'static) {
        let Guard { lock, listener } = self;
        let Some(listener) = listener else {
            // Held until the process ends, socket or not.
            std::mem::forget(lock);
            return;
        };
        std::thread::spawn(move || {
            let _lock = lock;
            for mut stream in listener.incoming().flatten() {
                let answer = if raise() { RAISED } else { CLOSING };
                let _ = stream.write_all(answer);
            }
        });
    }
}

/// Asks the app that holds `dir` to bring its window forward, and reads what it answered.
pub fn knock(dir: &Path) -> io::Result<Knock> {
    let socket = socket_path(dir);
    let mut last = None;
    for _ in 0..KNOCK_TRIES {
        match ask_to_raise(&socket) {
            Ok(answer) => return Ok(answer),
            Err(err) => last = Some(err),
        }
        std::thread::sleep(KNOCK_PAUSE);
    }
    Err(last.unwrap_or_else(|| io::Error::other("no answer")))
}

fn ask_to_raise(socket: &Path) -> io::Result<Knock> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(ANSWER_WAIT))?;
    stream.write_all(b"raise\n")?;
    let mut answer = Vec::new();
    BufReader::new(stream).read_until(b'\n', &mut answer)?;
    match answer.as_slice() {
        RAISED => Ok(Knock::Raised),
        // An app whose process is ending may close the socket without a word.
        CLOSING | b"" => Ok(Knock::Closing),
        _ => Err(io::Error::other("an unexpected answer")),
    }
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
        first(dir.path()).serve(move || raised.send(()).is_ok());
        assert!(matches!(claim(dir.path()).unwrap(), Launch::Second));
        assert_eq!(knock(dir.path()).unwrap(), Knock::Raised);
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
        first(dir.path()).serve(move || raised.send(()).is_ok());
        assert_eq!(knock(dir.path()).unwrap(), Knock::Raised);
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

    #[test]
    fn a_launch_nobody_answers_takes_the_directory_once_the_holder_ends() {
        let dir = tempfile::tempdir().unwrap();
        // An app ending: its socket is gone (the file stays, nobody listens), its lock not yet.
        let Guard { lock, listener } = first(dir.path());
        drop(listener);
        let ender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            drop(lock);
        });
        assert!(matches!(launch(dir.path()).unwrap(), Launch::First(_)));
        ender.join().unwrap();
    }

    /// Set in the child process of the test below: the directory its closing app holds.
    const CLOSING_APP_DIR: &str = "SNOWLINK_TEST_CLOSING_APP_DIR";

    #[test]
    fn a_launch_that_knocks_on_a_closing_app_waits_for_it_to_end_and_starts() {
        if let Some(dir) = std::env::var_os(CLOSING_APP_DIR) {
            // The first app, closing slowly: it still holds the directory and answers knocks,
            // but its window is gone.
            first(Path::new(&dir)).serve(|| false);
            // On its own line: the test harness prints the test's name before it.
            println!("\nclosing-app-ready");
            io::stdout().flush().unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut closing = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "single_instance::tests::a_launch_that_knocks_on_a_closing_app_waits_for_it_to_end_and_starts",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CLOSING_APP_DIR, dir.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(closing.stdout.take().unwrap());
        let mut line = String::new();
        while line.trim() != "closing-app-ready" {
            line.clear();
            assert_ne!(
                out.read_line(&mut line).unwrap(),
                0,
                "the closing app ended early"
            );
        }
        match launch(dir.path()).unwrap() {
            Launch::First(_) => {}
            Launch::Second => panic!("handed over to an app that was closing"),
        }
        assert!(closing.wait().unwrap().success());
    }
}

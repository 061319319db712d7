//! The desktop app against a bare Tauri 2 window built the same way (`bench/bare-window`):
//! release binary size, time from process start to the first screen with data (each front end
//! reports it, `snowlink_core::startup`), and memory after start including WebKit's processes,
//! each as a ratio to the bare window measured in the same run, rounds alternating between the
//! two. Each binary keeps its own HOME across its starts, as a person's does, after one start
//! that is not counted: WebKit's shader and font caches are warm, as on every day but the first
//! (a cold first start on Xvfb's software renderer spends most of its time compiling shaders).
//! Exits 1 when a target is missed. The size target counts the app's own binary, the window;
//! the engine it starts beside itself (`snowlink serve`) is reported with it as the installed
//! size, and its memory is counted with the app's.
//!
//! Build both the same way first; `scripts/bench-desktop` does, then runs this.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::Utc;
use snowlink_core::InstanceUrl;
use snowlink_core::connections::{Connection, ConnectionStatus, ConnectionStore, FILE_NAME};
use snowlink_core::env::REPORT_FIRST_VIEW;
use snowlink_core::grants::GrantKind;
use snowlink_core::ids::ConnectionId;
use snowlink_core::startup::FIRST_VIEW_LINE;
use snowlink_e2e::desktop::{Guard, display, in_own_group};
use snowlink_e2e::paths;

const ROUNDS: usize = 5;
/// WebKit keeps starting its helper processes after the first paint: memory is read this long
/// after the first view, when it has settled.
const SETTLE: Duration = Duration::from_secs(3);
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What one start of one binary measured.
struct Start {
    first_view: Duration,
    /// Resident set of the process and every process it started, in KiB.
    rss_kib: u64,
    /// The same pages counted once across those processes (proportional set size), in KiB.
    pss_kib: u64,
}

fn main() {
    let release = paths::target_dir().join("release");
    let app = release.join("snowlink-app");
    let bare = release.join("snowlink-bare-window");
    let engine = release.join("snowlink");
    for binary in [&app, &bare, &engine] {
        if !binary.exists() {
            eprintln!(
                "{} is missing: run scripts/bench-desktop, which builds both release binaries the same way",
                binary.display()
            );
            std::process::exit(2);
        }
    }
    let (display, _xvfb) = display();
    let config = demo_config();

    let homes = [&app, &bare].map(|_| tempfile::tempdir().expect("a temporary HOME"));
    for (binary, home) in [&app, &bare].into_iter().zip(&homes) {
        start(binary, &display, config.path(), home.path());
    }
    let (mut app_starts, mut bare_starts) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        eprintln!("round {} of {ROUNDS}", round + 1);
        app_starts.push(start(&app, &display, config.path(), homes[0].path()));
        bare_starts.push(start(&bare, &display, config.path(), homes[1].path()));
    }

    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let rows = [
        Row::new(
            "release binary (bytes)",
            size(&app) as f64,
            size(&bare) as f64,
            1.5,
        ),
        Row::new(
            "start to first view (ms, median)",
            median(&app_starts, |s| s.first_view.as_secs_f64() * 1000.0),
            median(&bare_starts, |s| s.first_view.as_secs_f64() * 1000.0),
            1.3,
        ),
        Row::new(
            "resident memory with WebKit (KiB, median)",
            median(&app_starts, |s| s.rss_kib as f64),
            median(&bare_starts, |s| s.rss_kib as f64),
            1.2,
        ),
        // What is installed: the window and the engine beside it, against the bare window.
        Row::informative(
            "installed: window + engine (bytes)",
            (size(&app) + size(&engine)) as f64,
            size(&bare) as f64,
        ),
        Row::informative(
            "proportional memory with WebKit (KiB, median)",
            median(&app_starts, |s| s.pss_kib as f64),
            median(&bare_starts, |s| s.pss_kib as f64),
        ),
    ];
    println!(
        "{:<46} {:>12} {:>12} {:>7} {:>8}",
        "desktop, Snowlink vs a bare Tauri window", "snowlink", "bare", "ratio", "target"
    );
    let mut missed = false;
    for row in &rows {
        let ratio = row.app / row.bare;
        let verdict = match row.target {
            Some(target) if ratio <= target => format!("≤ {target} ok"),
            Some(target) => {
                missed = true;
                format!("≤ {target} MISSED")
            }
            None => "-".to_owned(),
        };
        println!(
            "{:<46} {:>12.0} {:>12.0} {:>6.2}× {verdict}",
            row.name, row.app, row.bare, ratio
        );
    }
    if missed {
        std::process::exit(1);
    }
}

struct Row {
    name: &'static str,
    app: f64,
    bare: f64,
    target: Option<f64>,
}

impl Row {
    fn new(name: &'static str, app: f64, bare: f64, target: f64) -> Self {
        Self {
            name,
            app,
            bare,
            target: Some(target),
        }
    }

    fn informative(name: &'static str, app: f64, bare: f64) -> Self {
        Self {
            name,
            app,
            bare,
            target: None,
        }
    }
}

fn median(starts: &[Start], of: impl Fn(&Start) -> f64) -> f64 {
    let mut values: Vec<f64> = starts.iter().map(of).collect();
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A config folder with three saved connections, so the app opens on its Connections screen
/// as a person using it every day sees it (reading the file, no network).
fn demo_config() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary config folder");
    let store = ConnectionStore::at(dir.path().join(FILE_NAME));
    for (id, grant) in [
        ("acme-itsm", GrantKind::AuthCode),
        ("incident-sync", GrantKind::Password),
        ("audit", GrantKind::ClientCredentials),
    ] {
        store
            .upsert(Connection {
                id: ConnectionId::parse(id).expect("a valid id"),
                display_name: format!("Acme {id}"),
                instance: InstanceUrl::parse("acme").expect("a valid instance"),
                profile_id: "incident-sync".into(),
                grant,
                client_id: Some("0123abcd".into()),
                username: None,
                linked_identity: None,
                status: ConnectionStatus {
                    last_checked: Some(Utc::now()),
                    ..ConnectionStatus::default()
                },
            })
            .expect("the connections file is written");
    }
    dir
}

/// Starts `binary` in `home`, waits for its first view, lets it settle, measures it and stops
/// it with everything it started.
fn start(binary: &Path, display: &str, config: &Path, home: &Path) -> Start {
    let started = Instant::now();
    let mut child = in_own_group(&mut Command::new(binary))
        .env("DISPLAY", display)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("SNOWLINK_CONFIG_DIR", config)
        .env(REPORT_FIRST_VIEW, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("{} starts: {err}", binary.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let guard = Guard::new(child);
    let (said, heard) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line == FIRST_VIEW_LINE {
                let _ = said.send(());
            }
        }
    });
    heard.recv_timeout(START_TIMEOUT).unwrap_or_else(|_| {
        panic!(
            "{} never reported its first view within {START_TIMEOUT:?}",
            binary.display()
        )
    });
    let first_view = started.elapsed();
    std::thread::sleep(SETTLE);
    let family = family_of(guard.id());
    let (rss_kib, pss_kib) = family.iter().fold((0, 0), |(rss, pss), pid| {
        (
            rss + kib(pid, "status", "VmRSS:"),
            pss + kib(pid, "smaps_rollup", "Pss:"),
        )
    });
    drop(guard);
    Start {
        first_view,
        rss_kib,
        pss_kib,
    }
}

/// `root` and every process descended from it.
fn family_of(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // The command name is in parentheses and may hold spaces: fields follow its end.
            let after = stat.rsplit_once(')')?.1;
            let ppid = after.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut family = vec![root];
    let mut i = 0;
    while i < family.len() {
        let parent = family[i];
        family.extend(
            parents
                .iter()
                .filter(|(_, ppid)| *ppid == parent)
                .map(|(pid, _)| *pid),
        );
        i += 1;
    }
    family
}

/// A `kB` field of a `/proc/<pid>/` file; 0 when the process is gone.
fn kib(pid: &u32, file: &str, field: &str) -> u64 {
    let path = PathBuf::from(format!("/proc/{pid}/{file}"));
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

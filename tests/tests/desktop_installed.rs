//! The app as people install it: the `.deb` that `./dev bundle` builds is installed with dpkg,
//! and the installed program starts under Xvfb on its first screen, with the simulator it
//! ships for "Try it on a simulated instance" working.

use std::path::PathBuf;
use std::process::Command;

use snowlink_e2e::desktop::App;
use snowlink_e2e::paths;

fn deb() -> PathBuf {
    let dir = paths::target_dir().join("release/bundle/deb");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}; build it with ./dev bundle", dir.display()))
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .unwrap_or_else(|| panic!("no .deb in {}: build it with ./dev bundle", dir.display()))
}

/// Runs a command as root (directly when we are root).
fn as_root(args: &[&str]) -> std::process::Output {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let mut command = if root {
        let mut c = Command::new(args[0]);
        c.args(&args[1..]);
        c
    } else {
        let mut c = Command::new("sudo");
        c.arg("-n").args(args);
        c
    };
    command.output().expect("the command runs")
}

/// An installed package, removed again when the test ends, whether it passed or not.
struct Installed(String);

impl Installed {
    fn install(deb: &std::path::Path, package: String) -> Self {
        let installed = as_root(&["dpkg", "-i", deb.to_str().unwrap()]);
        assert!(
            installed.status.success(),
            "dpkg -i: {}",
            String::from_utf8_lossy(&installed.stderr)
        );
        Installed(package)
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let removed = as_root(&["dpkg", "-r", &self.0]);
        if !removed.status.success() && !std::thread::panicking() {
            panic!("dpkg -r: {}", String::from_utf8_lossy(&removed.stderr));
        }
    }
}

#[test]
#[ignore = "needs ./dev bundle's .deb, root (or sudo), tauri-driver, WebKitWebDriver and Xvfb: ./dev test runs it"]
fn the_installed_deb_starts_on_its_first_screen() {
    let deb = deb();
    let field = |name: &str| {
        let out = Command::new("dpkg-deb")
            .args(["-f", deb.to_str().unwrap(), name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let installed = Installed::install(&deb, field("Package"));
    let files = Command::new("dpkg")
        .args(["-L", &installed.0])
        .output()
        .unwrap();
    let files = String::from_utf8_lossy(&files.stdout).into_owned();
    let binary = files
        .lines()
        .map(PathBuf::from)
        .find(|p| {
            p.parent() == Some(std::path::Path::new("/usr/bin"))
                && p.file_name().is_some_and(|n| n != "snowlink")
        })
        .unwrap_or_else(|| panic!("no program in /usr/bin: {files}"));
    assert!(
        files.lines().any(|l| l == "/usr/bin/snowlink"),
        "the simulator is not shipped: {files}"
    );
    let entry = files
        .lines()
        .find(|l| l.starts_with("/usr/share/applications/") && l.ends_with(".desktop"))
        .unwrap_or_else(|| panic!("no desktop entry: {files}"));
    let entry = std::fs::read_to_string(entry).unwrap();
    let program = binary.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        entry.lines().any(|l| l
            .strip_prefix("Exec=")
            .is_some_and(|e| e.starts_with(&program))),
        "the menu entry does not start {program}: {entry}"
    );

    let config = tempfile::tempdir().unwrap();
    let envs = vec![(
        "SNOWLINK_CONFIG_DIR".to_owned(),
        config.path().display().to_string(),
    )];
    {
        let app = App::launch_binary(&binary, "installed", &envs);
        app.element("nav-setup");
        app.click("profile-incident-sync");
        app.click("try-demo");
        app.wait_for_text("wizard-progress", |t| t.starts_with("0 of 9"));
        app.screenshot("first-screen");
    }
}

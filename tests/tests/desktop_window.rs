//! The app behaves like a desktop program: its window comes back where and as large as it was
//! left, and a second launch brings the first window forward instead of opening another.

use std::time::{Duration, Instant};

use snowlink_e2e::desktop::App;
use snowlink_e2e::paths;

#[test]
#[ignore = "needs the built app, tauri-driver, WebKitWebDriver and Xvfb: ./dev test runs it"]
fn the_window_is_restored_and_a_second_launch_exits_into_the_first() {
    let state = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let envs = vec![
        (
            "XDG_CONFIG_HOME".to_owned(),
            state.path().display().to_string(),
        ),
        (
            "SNOWLINK_CONFIG_DIR".to_owned(),
            config.path().display().to_string(),
        ),
    ];
    {
        let first = App::launch_with("window-first", &envs);
        first.element("nav-connections");
        first.set_window_rect(40, 30, 900, 620);
        let (_, _, width, height) = first.window_rect();
        assert_eq!((width, height), (900, 620));
        // Give the plugin's save after the resize a moment to reach the disk.
        std::thread::sleep(Duration::from_millis(500));
    }
    let again = App::launch_with("window-restored", &envs);
    again.element("nav-connections");
    let (_, _, width, height) = again.window_rect();
    assert_eq!((width, height), (900, 620), "size restored after a restart");
    again.screenshot("restored");

    // A second launch, as a person double-clicking the icon again: it hands over and exits.
    let started = Instant::now();
    let mut second = std::process::Command::new(paths::app_binary())
        .env("DISPLAY", again.display())
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = second.kill();
            panic!("the second launch kept running: a second window was opened");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    // The first is still there and answering.
    again.click("nav-diagnose");
    again.element("diagnose-run");
}

#[test]
#[ignore = "needs the built app, tauri-driver, WebKitWebDriver and Xvfb: ./dev test runs it"]
fn the_app_follows_a_dark_desktop_theme() {
    let config = tempfile::tempdir().unwrap();
    let background = |theme: &str, label: &str| {
        let envs = vec![
            ("GTK_THEME".to_owned(), theme.to_owned()),
            (
                "SNOWLINK_CONFIG_DIR".to_owned(),
                config.path().display().to_string(),
            ),
        ];
        let app = App::launch_with(label, &envs);
        app.element("nav-connections");
        app.screenshot("theme");
        app.eval("return getComputedStyle(document.documentElement).backgroundColor;")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let light = background("Adwaita", "light");
    let dark = background("Adwaita:dark", "dark");
    assert_eq!(light, "rgb(246, 247, 249)");
    assert_eq!(dark, "rgb(20, 24, 31)");
}

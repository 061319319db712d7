//! Drives the real desktop app over WebDriver: a virtual display (Xvfb, unless `DISPLAY` is
//! already set), `tauri-driver` in front of WebKitWebDriver, and a small W3C WebDriver client.
//! A test asks for an [`App`], finds elements by `data-testid`, types, waits for text and saves
//! screenshots under `target/e2e-artifacts/`. Everything started is stopped on drop.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::paths;

/// The W3C WebDriver web element identifier (§12.1), the key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long a test waits for the UI to show something before failing.
pub const UI_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a browser sign-in may take: a headless Chromium starting on a busy machine and
/// walking the instance's login and consent pages.
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(60);

/// A child process killed when dropped, so a failing test leaves nothing behind.
/// A child started in its own process group ([`in_own_group`]); dropping it stops the whole
/// group, so nothing it started (tauri-driver's WebKitWebDriver, the app) outlives the test.
pub struct Guard(Child);

impl Guard {
    /// Watches a child started [`in_own_group`].
    pub fn new(child: Child) -> Self {
        Self(child)
    }

    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command`'s process in a process group of its own, for a [`Guard`].
pub fn in_own_group(command: &mut Command) -> &mut Command {
    std::os::unix::process::CommandExt::process_group(command, 0)
}

/// A running Snowlink window under WebDriver control.
pub struct App {
    http: reqwest::blocking::Client,
    session: String,
    base: String,
    name: String,
    display: String,
    // Dropped after the session is deleted (field order), driver before display.
    _driver: Guard,
    _display: Option<Guard>,
    _home: tempfile::TempDir,
}

impl App {
    /// Builds nothing: starts the already built debug app binary (`cargo build -p snowlink-app`
    /// after `npm run build` in `ui/`). `name` labels the screenshots of this test.
    pub fn launch(name: &str) -> App {
        Self::launch_with(name, &[])
    }

    /// Like [`App::launch`], with extra environment for the app (a config directory, a
    /// scripted `$BROWSER`…).
    pub fn launch_with(name: &str, envs: &[(String, String)]) -> App {
        Self::launch_binary(&paths::app_binary(), name, envs)
    }

    /// Like [`App::launch_with`], for the app binary at `binary` (an installed one).
    pub fn launch_binary(binary: &std::path::Path, name: &str, envs: &[(String, String)]) -> App {
        let binary = binary.to_path_buf();
        assert!(
            binary.exists(),
            "{} is missing: build the app first (./dev test does: npm run build in ui/, then \
             cargo build -p snowlink-app)",
            binary.display()
        );
        let home = tempfile::tempdir().expect("temporary HOME");
        for dir in [".config", ".local/share", ".cache"] {
            std::fs::create_dir_all(home.path().join(dir)).expect("HOME's folders");
        }
        let (display, display_guard) = display();
        let port = crate::free_port();
        let native_port = crate::free_port();
        let driver = in_own_group(&mut Command::new(paths::tauri_driver()))
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .env("DISPLAY", &display)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .env("XDG_CACHE_HOME", home.path().join(".cache"))
            .envs(envs.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tauri-driver starts (cargo install tauri-driver --locked)");
        let driver = Guard(driver);
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("HTTP client");
        let base = format!("http://127.0.0.1:{port}");
        wait_until(Duration::from_secs(20), "tauri-driver to listen", || {
            http.get(format!("{base}/status")).send().is_ok()
        });
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "wry",
            "tauri:options": { "application": binary },
        }}});
        let created = send(http.post(format!("{base}/session")).json(&caps));
        let session = created["sessionId"]
            .as_str()
            .expect("WebDriver answers with a session id")
            .to_owned();
        App {
            http,
            session,
            base,
            name: name.to_owned(),
            display,
            _driver: driver,
            _display: display_guard,
            _home: home,
        }
    }

    /// Runs `script` (a function body) in the page and returns what it returns.
    pub fn eval(&self, script: &str) -> Value {
        send(
            self.http
                .post(self.url("/execute/sync"))
                .json(&json!({ "script": script, "args": [] })),
        )
    }

    /// The window's position and size: `(x, y, width, height)`.
    pub fn window_rect(&self) -> (i64, i64, i64, i64) {
        let rect = send(self.http.get(self.url("/window/rect")));
        let get = |k: &str| rect[k].as_f64().map_or(0, |v| v.round() as i64);
        (get("x"), get("y"), get("width"), get("height"))
    }

    /// Moves and resizes the window as a person dragging it would.
    pub fn set_window_rect(&self, x: i64, y: i64, width: i64, height: i64) {
        send(
            self.http
                .post(self.url("/window/rect"))
                .json(&json!({ "x": x, "y": y, "width": width, "height": height })),
        );
    }

    /// The X display the window is on, for driving native dialogs with `xdotool`.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Answers the native save dialog titled `title` with `path`, as a person typing the file
    /// name and pressing Enter (the dialog is GTK's, outside WebDriver's reach).
    pub fn save_dialog_answers(&self, title: &str, path: &std::path::Path) {
        let xdotool = |args: &[&str]| {
            Command::new("xdotool")
                .args(args)
                .env("DISPLAY", &self.display)
                .output()
                .expect("xdotool runs (apt-get install xdotool)")
        };
        let window = wait_until_some(Duration::from_secs(15), "the save dialog", || {
            let found = xdotool(&["search", "--onlyvisible", "--name", title]);
            String::from_utf8_lossy(&found.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        });
        xdotool(&["windowfocus", "--sync", &window]);
        xdotool(&["key", "--window", &window, "ctrl+a"]);
        xdotool(&[
            "type",
            "--window",
            &window,
            "--delay",
            "20",
            &path.display().to_string(),
        ]);
        xdotool(&["key", "--window", &window, "Return"]);
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    fn find(&self, test_id: &str) -> Option<String> {
        let body =
            json!({ "using": "css selector", "value": format!("[data-testid='{test_id}']") });
        let response = self
            .http
            .post(self.url("/element"))
            .json(&body)
            .send()
            .ok()?;
        let value: Value = response.json().ok()?;
        value["value"][ELEMENT_KEY].as_str().map(str::to_owned)
    }

    /// Waits for an element with this `data-testid` to exist and returns its reference.
    pub fn element(&self, test_id: &str) -> String {
        self.poll(UI_TIMEOUT, || self.find(test_id))
            .unwrap_or_else(|()| {
                self.fail(&format!(
                    "[data-testid='{test_id}'] never appeared; page source: {}",
                    self.source()
                ))
            })
    }

    /// Calls `probe` until it answers or `timeout` passes.
    fn poll<T>(&self, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Result<T, ()> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(found) = probe() {
                return Ok(found);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(())
    }

    /// Fails the test with `why` and a screenshot of the window as it is.
    fn fail(&self, why: &str) -> ! {
        let shot = self.screenshot("timeout");
        panic!("{why}; screenshot: {}", shot.display());
    }

    /// The page's HTML, for failure messages.
    fn source(&self) -> String {
        let value = send(self.http.get(self.url("/source")));
        let source = value.as_str().unwrap_or_default();
        source.chars().take(2000).collect()
    }

    /// Replaces the content of an input with `text`, as a person typing it.
    pub fn type_into(&self, test_id: &str, text: &str) {
        let element = self.element(test_id);
        send(
            self.http
                .post(self.url(&format!("/element/{element}/clear")))
                .json(&json!({})),
        );
        send(
            self.http
                .post(self.url(&format!("/element/{element}/value")))
                .json(&json!({ "text": text })),
        );
    }

    /// Clicks the element with this `data-testid` once it exists.
    pub fn click(&self, test_id: &str) {
        let element = self.element(test_id);
        send(
            self.http
                .post(self.url(&format!("/element/{element}/click")))
                .json(&json!({})),
        );
    }

    /// The visible text of the element, or `None` while it does not exist.
    pub fn text(&self, test_id: &str) -> Option<String> {
        let element = self.find(test_id)?;
        let response = self
            .http
            .get(self.url(&format!("/element/{element}/text")))
            .send()
            .ok()?;
        let value: Value = response.json().ok()?;
        value["value"].as_str().map(str::to_owned)
    }

    /// Waits until the element's text satisfies `accept` and returns it; fails the test with
    /// the last text seen and a screenshot otherwise.
    pub fn wait_for_text(&self, test_id: &str, accept: impl Fn(&str) -> bool) -> String {
        self.wait_for_text_within(UI_TIMEOUT, test_id, accept)
    }

    /// [`App::wait_for_text`] for something slower than the UI itself, such as a
    /// [`SIGN_IN_TIMEOUT`]-long browser sign-in.
    pub fn wait_for_text_within(
        &self,
        timeout: Duration,
        test_id: &str,
        accept: impl Fn(&str) -> bool,
    ) -> String {
        let mut last = None;
        self.poll(timeout, || {
            last = self.text(test_id);
            last.clone().filter(|text| accept(text))
        })
        .unwrap_or_else(|()| {
            self.fail(&format!(
                "[data-testid='{test_id}'] never showed the expected text; last seen: {last:?}"
            ))
        })
    }

    /// Saves a PNG of the window as `target/e2e-artifacts/<test>-<label>.png`.
    pub fn screenshot(&self, label: &str) -> PathBuf {
        // WebKit's snapshot can show the frame before the last DOM change: let two animation
        // frames pass first so the picture matches what the test just asserted.
        let settle = "const done = arguments[arguments.length - 1]; \
                      requestAnimationFrame(() => requestAnimationFrame(() => done(true)));";
        send(
            self.http
                .post(self.url("/execute/async"))
                .json(&json!({ "script": settle, "args": [] })),
        );
        let value = send(self.http.get(self.url("/screenshot")));
        let png = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap_or_default())
            .expect("WebDriver screenshots are base64");
        let dir = paths::artifacts_dir();
        std::fs::create_dir_all(&dir).expect("artifacts directory");
        let path = dir.join(format!("{}-{label}.png", self.name));
        std::fs::write(&path, png).expect("screenshot written");
        path
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.http.delete(self.url("")).send();
    }
}

/// Sends a WebDriver command and returns its `value`, failing the test on a WebDriver error.
fn send(request: reqwest::blocking::RequestBuilder) -> Value {
    let response = request.send().expect("WebDriver request");
    let status = response.status();
    let body: Value = response.json().expect("WebDriver answers JSON");
    assert!(status.is_success(), "WebDriver error {status}: {body}");
    body["value"].clone()
}

fn wait_until(timeout: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    wait_until_some(timeout, what, || ready().then_some(()));
}

/// Polls `found` until it gives a value, failing the test after `timeout`.
pub fn wait_until_some<T>(
    timeout: Duration,
    what: &str,
    mut found: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = found() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts Xvfb on the first free display; it reports the display number on `-displayfd`.
/// `$DISPLAY` when there is one, else a virtual display of its own (and what stops it).
pub fn display() -> (String, Option<Guard>) {
    match std::env::var("DISPLAY") {
        Ok(display) if !display.is_empty() => (display, None),
        _ => {
            let (display, guard) = start_xvfb();
            (display, Some(guard))
        }
    }
}

fn start_xvfb() -> (String, Guard) {
    let mut child = in_own_group(&mut Command::new("Xvfb"))
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb starts (apt-get install xvfb, or run through ./dev test)");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("Xvfb stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("Xvfb reports its display");
    let number = line.trim();
    assert!(!number.is_empty(), "Xvfb did not report a display number");
    (format!(":{number}"), Guard(child))
}

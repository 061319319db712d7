//! The system browser. RFC 8252 §8.12: native apps use the user's own browser, never an
//! embedded webview, so the app cannot see the password and the user sees the real address
//! bar. Only `http` and `https` URLs are handed to it ([`BrowserUrl`]): a `file:`,
//! `javascript:` or custom-scheme URL from an instance or a profile could run local programs
//! through the desktop's URL handlers. The opener honours `$BROWSER` first, as `xdg-open` does
//! (a `:`-separated list of commands, `%s` standing for the URL), which is also how tests put a
//! scripted headless browser in the loop. The browser gets none of the secrets Snowlink reads
//! from its own environment, and the URL is always shown for manual copy as well.

use std::process::{Command, Stdio};

use url::Url;

/// A URL checked to be safe to open in the system browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserUrl(Url);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrowserUrlError {
    #[error("\"{0}\" is not a web address.")]
    Malformed(String),
    #[error("Only http:// and https:// addresses are opened in the browser, not {0}:.")]
    Scheme(String),
}

impl BrowserUrlError {
    pub fn view(&self) -> crate::errors::ErrorView {
        crate::errors::ErrorView::new(
            crate::errors::ErrorCode::InvalidInput,
            self.to_string(),
            "Copy the address into your browser yourself if you trust it.",
        )
    }
}

impl BrowserUrl {
    pub fn parse(text: &str) -> Result<Self, BrowserUrlError> {
        let url = Url::parse(text.trim())
            .map_err(|_| BrowserUrlError::Malformed(text.chars().take(80).collect::<String>()))?;
        match url.scheme() {
            "http" | "https" => Ok(Self(url)),
            other => Err(BrowserUrlError::Scheme(other.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Something that can show a URL to the user in a browser.
pub trait Browser: Send + Sync {
    fn open(&self, url: &BrowserUrl) -> Result<(), BrowserError>;
}

/// Why the browser could not be started; the sign-in can still go on with the copied URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrowserError {
    #[error("No browser could be started (tried: {}).", tried.join(", "))]
    NotStarted { tried: Vec<String> },
}

impl BrowserError {
    pub fn hint(&self) -> String {
        "Open the sign-in address shown above in your browser yourself, or set $BROWSER to \
         your browser's command."
            .into()
    }

    /// The failure to open a page (not a sign-in) in the system browser.
    pub fn view(&self) -> crate::errors::ErrorView {
        crate::errors::ErrorView::new(
            crate::errors::ErrorCode::BrowserUnavailable,
            format!("The system browser could not be opened: {self}"),
            "Copy the address and open it in your browser yourself, or set $BROWSER to your \
             browser's command.",
        )
        .retryable(true)
    }
}

/// The desktop's browser: `$BROWSER` when set, else `xdg-open` / `open` / the Windows URL
/// handler.
#[derive(Debug, Clone)]
pub struct SystemBrowser {
    browser_var: Option<String>,
}

impl SystemBrowser {
    /// Reads `$BROWSER` now.
    pub fn from_env() -> Self {
        Self::with_browser_var(std::env::var("BROWSER").ok())
    }

    /// As if `$BROWSER` held `value` (tests, or a setting in the app).
    pub fn with_browser_var(value: Option<String>) -> Self {
        Self {
            browser_var: value.filter(|v| !v.trim().is_empty()),
        }
    }

    /// The commands to try, in order, each as program and arguments.
    fn candidates(&self, url: &str) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = self
            .browser_var
            .iter()
            .flat_map(|var| var.split(':'))
            .filter(|entry| !entry.trim().is_empty())
            .map(|entry| browser_command(entry, url))
            .collect();
        out.push(platform_opener(url));
        out
    }
}

/// One `$BROWSER` entry as a command: split on white space (no shell, so nothing in the URL is
/// interpreted), `%s` replaced by the URL and `%%` by `%`; without `%s` the URL is appended.
fn browser_command(entry: &str, url: &str) -> Vec<String> {
    let mut has_placeholder = false;
    let mut words: Vec<String> = entry
        .split_whitespace()
        .map(|word| {
            has_placeholder |= word.contains("%s");
            word.replace("%s", url).replace("%%", "%")
        })
        .collect();
    if !has_placeholder {
        words.push(url.to_owned());
    }
    words
}

fn platform_opener(url: &str) -> Vec<String> {
    let words: &[&str] = if cfg!(target_os = "macos") {
        &["open"]
    } else if cfg!(target_os = "windows") {
        // Not `cmd /c start`: cmd would treat the `&` between query parameters as a command
        // separator. The URL protocol handler takes the URL as one argument.
        &["rundll32.exe", "url.dll,FileProtocolHandler"]
    } else {
        &["xdg-open"]
    };
    words
        .iter()
        .map(|w| (*w).to_owned())
        .chain([url.to_owned()])
        .collect()
}

/// The browser's process: no secret from Snowlink's own environment (the browser and
/// everything it starts would inherit it), no terminal.
fn browser_process(program: &str, args: &[String]) -> Command {
    let mut command = Command::new(program);
    for name in crate::env::secrets_to_withhold() {
        command.env_remove(name);
    }
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

impl Browser for SystemBrowser {
    fn open(&self, url: &BrowserUrl) -> Result<(), BrowserError> {
        let mut tried = Vec::new();
        for words in self.candidates(url.as_str()) {
            let Some((program, args)) = words.split_first() else {
                continue;
            };
            let spawned = browser_process(program, args).spawn();
            match spawned {
                Ok(mut child) => {
                    // The browser may outlive the sign-in; reap it whenever it exits so it
                    // never lingers as a zombie.
                    std::thread::spawn(move || child.wait());
                    return Ok(());
                }
                Err(_) => tried.push(program.clone()),
            }
        }
        Err(BrowserError::NotStarted { tried })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_schemes_pass() {
        assert!(BrowserUrl::parse("https://acme.service-now.com/oauth_auth.do?x=1").is_ok());
        assert!(BrowserUrl::parse("http://127.0.0.1:8080/").is_ok());
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "ms-settings:",
            "ssh://host",
        ] {
            assert!(
                matches!(BrowserUrl::parse(bad), Err(BrowserUrlError::Scheme(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            BrowserUrl::parse("not a url"),
            Err(BrowserUrlError::Malformed(_))
        ));
    }

    const URL: &str = "https://acme.service-now.com/oauth_auth.do?a=1&state=x%20y";

    #[test]
    fn the_browser_process_loses_every_secret_variable() {
        let command = browser_process("firefox", &[URL.to_owned()]);
        let removed: Vec<String> = command
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        for name in crate::env::SECRET_VARS {
            assert!(removed.iter().any(|r| r == name), "{name} is inherited");
        }
        assert!(removed.iter().any(|r| r == "SNOWLINK_CLIENT_SECRET"));
    }

    #[test]
    fn browser_var_entries_come_first_with_the_url_in_place() {
        let browser = SystemBrowser::with_browser_var(Some(
            "my-browser --new-window %s --x=100%%:firefox".into(),
        ));
        let commands = browser.candidates(URL);
        assert_eq!(
            commands[0],
            vec!["my-browser", "--new-window", URL, "--x=100%"]
        );
        assert_eq!(commands[1], vec!["firefox", URL]);
        assert_eq!(commands.len(), 3, "then the platform opener");
        assert_eq!(commands[2].last().map(String::as_str), Some(URL));
    }

    #[test]
    fn without_browser_var_the_platform_opener_is_used() {
        let commands = SystemBrowser::with_browser_var(Some("  ".into())).candidates(URL);
        assert_eq!(commands.len(), 1);
        #[cfg(target_os = "linux")]
        assert_eq!(commands[0], vec!["xdg-open", URL]);
    }

    #[test]
    #[cfg(unix)]
    fn the_browser_script_receives_the_url_as_one_argument() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("seen");
        let script = dir.path().join("browser.sh");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", out.display()),
        )
        .unwrap();
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&script)
            .status()
            .unwrap();
        let browser = SystemBrowser::with_browser_var(Some(format!(
            "/nonexistent/browser:{}",
            script.display()
        )));
        browser.open(&BrowserUrl::parse(URL).unwrap()).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !out.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), URL);
    }
}

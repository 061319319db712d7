//! A person at the system browser, for the tests that sign in for real: `$BROWSER` set to the
//! headless Chromium script `tests/js/sign-in.mjs`, which signs in and presses Allow or Deny.

use std::path::PathBuf;

/// The Node package the scripts live in.
pub fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// `$BROWSER` for the real headless Chromium pressing `action` (`allow` or `deny`), signing
/// in as `user` when given (the script's default user otherwise); fails the test, saying what
/// to install, when it cannot run.
pub fn chromium_browser_var(action: &str, user: Option<(&str, &str)>) -> String {
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "no /usr/bin/chromium: apt-get install chromium"
    );
    assert!(
        node_dir().join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `npm ci --prefix tests/js`"
    );
    let script = node_dir().join("sign-in.mjs");
    // A throwaway simulator account's password: harmless on the command line.
    let who = user
        .map(|(name, password)| {
            format!("SNOWLINK_BROWSER_USER={name} SNOWLINK_BROWSER_PASSWORD={password} ")
        })
        .unwrap_or_default();
    format!(
        "env {who}SNOWLINK_BROWSER_ACTION={action} node {}",
        script.display()
    )
}

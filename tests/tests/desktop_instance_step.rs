//! The real desktop window, driven over WebDriver: the first wizard screen normalizes what a
//! person types into the instance URL through the core, and names the problem when it cannot.

use snowlink_e2e::desktop::App;

#[test]
#[ignore = "needs the built app, tauri-driver, WebKitWebDriver and Xvfb: ./dev test runs it"]
fn instance_step_normalizes_a_bare_name_and_refuses_credentials() {
    let app = App::launch("instance-step");

    app.type_into("instance-input", "acme");
    let url = app.wait_for_text("instance-url", |text| !text.is_empty());
    assert_eq!(url, "https://acme.service-now.com");
    app.screenshot("normalized");

    app.type_into("instance-input", "https://user:pw@acme.service-now.com");
    let message = app.wait_for_text("instance-error-message", |text| !text.is_empty());
    assert!(
        message.contains("user name or password"),
        "the error names the problem: {message}"
    );
    assert!(
        app.text("instance-url").is_none(),
        "no URL is shown next to an error"
    );
    app.screenshot("credentials-refused");
}

#[test]
#[ignore = "needs the built app, tauri-driver, WebKitWebDriver and Xvfb: ./dev test runs it"]
fn open_in_browser_hands_the_instance_to_the_system_browser() {
    use std::os::unix::fs::PermissionsExt;

    // The system browser, as `$BROWSER` names it: here a script that notes what it was given.
    let dir = tempfile::tempdir().unwrap();
    let opened = dir.path().join("opened");
    let browser = dir.path().join("browser");
    std::fs::write(
        &browser,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\n",
            opened.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let app = App::launch_with(
        "instance-open",
        &[("BROWSER".to_owned(), browser.display().to_string())],
    );

    app.type_into("instance-input", "acme");
    app.wait_for_text("instance-url", |text| !text.is_empty());
    app.click("instance-open");
    let handed = snowlink_e2e::desktop::wait_until_some(
        std::time::Duration::from_secs(20),
        "the system browser to be handed the page",
        || {
            std::fs::read_to_string(&opened)
                .ok()
                .filter(|seen| !seen.is_empty())
        },
    );
    assert_eq!(handed, "https://acme.service-now.com/\n");
    assert!(
        app.text("instance-open-error").is_none(),
        "no error once the browser took the page"
    );
    app.screenshot("opened");
}

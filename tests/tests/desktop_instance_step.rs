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

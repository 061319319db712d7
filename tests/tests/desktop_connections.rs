//! The Connections screen of the real desktop app, over WebDriver: an end user links their own
//! ServiceNow account through the system browser (a headless Chromium as `$BROWSER`), sees the
//! identity, and unlinks it after confirming, which revokes the tokens on the instance.

use snowlink_core::oauth::CALLBACK_PORTS;
use snowlink_e2e::cli::{Snowlink, scripted_browser};
use snowlink_e2e::desktop::App;
use snowlink_sim::{OAuthAppSpec, Seed, Sim, UserSpec};

#[test]
#[ignore = "needs the built app, tauri-driver, WebKitWebDriver and Xvfb: ./dev test runs it"]
fn an_end_user_links_and_unlinks_their_account_in_the_app() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = runtime
        .block_on(Sim::builder().seed(Seed::Demo).start())
        .unwrap();
    let mut user = UserSpec::new("end.user", "User-Pass-1");
    user.roles = vec!["itil".into()];
    let user_id = sim.state().create_user(user).unwrap().sys_id;
    let app = sim
        .state()
        .create_oauth_app(OAuthAppSpec {
            name: "Snowlink".into(),
            redirect_urls: CALLBACK_PORTS
                .iter()
                .map(|port| format!("http://127.0.0.1:{port}/callback"))
                .collect(),
            ..OAuthAppSpec::default()
        })
        .unwrap();
    // The admin has saved the connection; the user links in the app.
    let cli = Snowlink::new().env("SNOWLINK_CLIENT_SECRET", &app.client_secret);
    let registered = runtime.block_on(cli.run(&[
        "connect",
        "--instance",
        sim.url(),
        "--name",
        "Acme ITSM",
        "--grant",
        "auth-code",
        "--client-id",
        &app.client_id,
        "--link-later",
    ]));
    assert_eq!(registered.code, 0, "{registered:#?}");

    let mut envs = scripted_browser("end.user", "User-Pass-1", "allow");
    envs.push((
        "SNOWLINK_CONFIG_DIR".into(),
        cli.config_dir().display().to_string(),
    ));
    let desktop = App::launch_with("connections", &envs);
    desktop.click("nav-connections");
    desktop.wait_for_text("connection-identity", |text| {
        text.contains("No account linked")
    });
    desktop.click("link-button");
    let identity = desktop.wait_for_text("connection-identity", |text| text.contains("end.user"));
    assert!(identity.contains(&user_id), "{identity}");
    desktop.wait_for_text("connection-state", |text| text == "Connected");
    desktop.screenshot("linked");
    let tokens = || {
        sim.state()
            .query("oauth_credential", &format!("user={user_id}"))
            .len()
    };
    assert!(tokens() > 0);

    desktop.click("unlink-button");
    let question = desktop.wait_for_text("unlink-dialog", |text| text.contains("end.user"));
    assert!(question.contains("Acme ITSM"), "{question}");
    desktop.screenshot("confirm-unlink");
    assert!(tokens() > 0, "nothing is revoked before the user confirms");
    desktop.click("confirm-unlink");
    desktop.wait_for_text("connection-identity", |text| {
        text.contains("No account linked")
    });
    assert_eq!(tokens(), 0, "unlinking revoked the tokens on the instance");
    desktop.screenshot("unlinked");
}

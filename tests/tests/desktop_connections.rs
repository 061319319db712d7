//! The Connections screen of the real desktop app, over WebDriver: an end user links their own
//! ServiceNow account through the system browser (a headless Chromium as `$BROWSER`), sees the
//! identity, and unlinks it after confirming, which revokes the tokens on the instance; and an
//! end user whose browser cannot reach this computer links by pasting the address it ended on,
//! with a hostile user name shown literally, unlinks, and removes the connection, which
//! leaves none of its secrets in the keyring.

use snowlink_core::connections::ConnectionStore;
use snowlink_core::oauth::CALLBACK_PORTS;
use snowlink_core::secrets::{
    AccessToken, ClientSecret, KeyringStore, RefreshToken, SecretStoreExt,
};
use snowlink_e2e::cli::{Snowlink, scripted_browser};
use snowlink_e2e::desktop::{App, SIGN_IN_TIMEOUT};
use snowlink_sim::{OAuthAppSpec, RunningSim, Seed, Sim, UserSpec};

/// A demo instance with `user`, an OAuth app for Snowlink's callbacks, and a link-later
/// connection "Acme ITSM" saved by the admin; returns the user's sys_id.
fn instance_with_connection(
    runtime: &tokio::runtime::Runtime,
    user: &str,
) -> (RunningSim, Snowlink, String) {
    let sim = runtime
        .block_on(Sim::builder().seed(Seed::Demo).start())
        .unwrap();
    let mut spec = UserSpec::new(user, "User-Pass-1");
    spec.roles = vec!["itil".into()];
    let user_id = sim.state().create_user(spec).unwrap().sys_id;
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
    let cli = Snowlink::new().env("SNOWLINK_CLIENT_SECRET", &app.client_secret);
    let registered =
        runtime.block_on(cli.save_link_later(sim.url(), "Acme ITSM", &app.client_id, &[]));
    assert_eq!(registered.code, 0, "{registered:#?}");
    (sim, cli, user_id)
}

#[test]
#[ignore = "needs the built app, tauri-driver, WebKitWebDriver and Xvfb: ./dev test runs it"]
fn an_end_user_links_and_unlinks_their_account_in_the_app() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The admin has saved the connection; the user links in the app.
    let (sim, cli, user_id) = instance_with_connection(&runtime, "end.user");

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
    let identity = desktop.wait_for_text_within(SIGN_IN_TIMEOUT, "connection-identity", |text| {
        text.contains("end.user")
    });
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

#[test]
#[ignore = "needs the built app, tauri-driver, WebKitWebDriver, Chromium and Xvfb: ./dev test runs it"]
fn a_browser_that_cannot_reach_this_computer_links_by_pasting_and_a_hostile_name_shows_as_text() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let hostile = "<img src=x onerror=alert(1)>";
    let (sim, cli, user_id) = instance_with_connection(&runtime, hostile);
    let address_file = cli.config_dir().join("callback-address.txt");
    let mut envs = scripted_browser(hostile, "User-Pass-1", "allow");
    envs.push((
        "SNOWLINK_CONFIG_DIR".into(),
        cli.config_dir().display().to_string(),
    ));
    envs.push((
        "SNOWLINK_BROWSER_UNREACHABLE".into(),
        address_file.display().to_string(),
    ));
    let desktop = App::launch_with("paste-back", &envs);
    desktop.click("nav-connections");
    desktop.click("link-button");
    let deadline = std::time::Instant::now() + SIGN_IN_TIMEOUT;
    let address = loop {
        if let Ok(text) = std::fs::read_to_string(&address_file)
            && !text.is_empty()
        {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the browser never got to the callback"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    // Another sign-in's address is refused, and the sign-in goes on waiting.
    desktop.type_into(
        "paste-address",
        "http://127.0.0.1:8765/callback?code=old&state=old",
    );
    desktop.click("paste-submit");
    desktop.wait_for_text("paste-error", |t| t.contains("belongs to another sign-in"));
    desktop.screenshot("refused-paste");
    desktop.type_into("paste-address", &address);
    desktop.click("paste-submit");
    let identity = desktop.wait_for_text("connection-identity", |t| t.contains(&user_id));
    assert!(
        identity.contains(hostile),
        "the name is shown literally: {identity}"
    );
    desktop.wait_for_text("connection-state", |t| t == "Connected");
    desktop.screenshot("linked-by-paste");

    desktop.click("unlink-button");
    desktop.click("confirm-unlink");
    desktop.wait_for_text("connection-identity", |t| t.contains("No account linked"));
    desktop.screenshot("unlinked");
    assert_eq!(
        sim.state()
            .query("oauth_credential", &format!("user={user_id}"))
            .len(),
        0
    );
    // No token of the connection is left in the keyring.
    let store = ConnectionStore::at(cli.config_dir().join("connections.json"));
    let id = store.load().unwrap()[0].id.clone();
    let keyring = KeyringStore::new();
    runtime.block_on(async {
        assert!(keyring.load::<AccessToken>(&id).await.unwrap().is_none());
        assert!(keyring.load::<RefreshToken>(&id).await.unwrap().is_none());
        assert!(keyring.load::<ClientSecret>(&id).await.unwrap().is_some());
    });

    // Removing the connection, after a confirmation, deletes its client secret too.
    desktop.click("remove-button");
    desktop.wait_for_text("remove-dialog", |t| t.contains("Acme ITSM"));
    desktop.click("confirm-remove");
    desktop.wait_for_text("connections-empty", |t| t.contains("No connections yet"));
    desktop.screenshot("removed");
    assert!(store.load().unwrap().is_empty());
    runtime.block_on(async {
        assert!(keyring.load::<ClientSecret>(&id).await.unwrap().is_none());
    });
}

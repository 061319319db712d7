//! Editing a connection in the real desktop app, over WebDriver: the admin rotated the OAuth
//! app's client secret on the instance; a mistyped new secret fails at the sign-in step, shown
//! as it happens, and changes nothing; the right one signs in, is identified and kept in the
//! real keyring, replacing the old one.

use snowlink_core::connections::ConnectionStore;
use snowlink_core::secrets::{ClientSecret, KeyringStore, SecretStoreExt};
use snowlink_e2e::cli::Snowlink;
use snowlink_e2e::desktop::App;
use snowlink_e2e::rotate_client_secret;
use snowlink_sim::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Seed, Sim};

#[test]
#[ignore = "needs the built app and CLI, a Secret Service, tauri-driver, WebKitWebDriver and Xvfb: ./dev test runs it"]
fn a_rotated_client_secret_is_tested_live_before_it_is_kept() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = runtime
        .block_on(Sim::builder().seed(Seed::Demo).start())
        .unwrap();
    let cli = Snowlink::new().demo_secrets();
    let connect = runtime.block_on(cli.connect_demo_service(sim.url(), "Incident sync"));
    assert_eq!(connect.code, 0, "{connect:#?}");
    let rotated = "Rotated-Secret-42";
    rotate_client_secret(&sim, &format!("client_id={DEMO_CLIENT_ID}"), rotated);
    let store = ConnectionStore::at(cli.config_dir().join("connections.json"));
    let before = store.load().unwrap();

    let envs = vec![(
        "SNOWLINK_CONFIG_DIR".to_owned(),
        cli.config_dir().display().to_string(),
    )];
    let desktop = App::launch_with("edit", &envs);
    desktop.wait_for_text("connections-list", |t| t.contains("Incident sync"));
    desktop.click("edit-button");
    let panel = desktop.wait_for_text("edit-panel", |t| t.contains("Save and test"));
    assert!(panel.contains("Client secret"), "{panel}");
    let placeholder = desktop
        .eval("return document.querySelector('[data-testid=edit-client-secret]').placeholder;");
    assert!(
        placeholder
            .as_str()
            .unwrap_or_default()
            .contains("Kept in the keyring"),
        "{placeholder}"
    );

    desktop.type_into("edit-client-secret", "mistyped");
    desktop.click("edit-save");
    let status = |step: &str| {
        desktop.eval(&format!(
            "return document.querySelector('[data-testid=edit-step-{step}]').dataset.status;"
        ))
    };
    // A failed step carries its reason.
    desktop.wait_for_text("edit-step-sign-in", |t| t.contains("refused"));
    assert_eq!(status("keyring"), "done");
    assert_eq!(status("sign-in"), "failed");
    assert_eq!(status("save"), "pending");
    desktop.screenshot("refused");
    assert_eq!(store.load().unwrap(), before, "nothing changed");
    let id = before[0].id.clone();
    let keyring = KeyringStore::new();
    let stored = || {
        runtime
            .block_on(keyring.load::<ClientSecret>(&id))
            .unwrap()
            .map(|s| s.expose().to_owned())
    };
    assert_eq!(stored().as_deref(), Some(DEMO_CLIENT_SECRET));

    desktop.type_into("edit-client-secret", rotated);
    desktop.click("edit-save");
    let notice = desktop.wait_for_text("connections-notice", |t| t.contains("Saved"));
    assert!(
        notice.contains("Saved Incident sync: the new settings signed in as svc.snowlink."),
        "{notice}"
    );
    assert_eq!(stored().as_deref(), Some(rotated));
    let saved = store.load().unwrap();
    assert!(saved[0].status.linked.is_some(), "{saved:?}");
    let ends = desktop.wait_for_text("connection-refresh-ends", |t| t.contains("in 100 days"));
    assert!(ends.contains("renewed with the stored password"), "{ends}");
    desktop.screenshot("saved");
}

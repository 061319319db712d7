//! The Diagnose screen of the real desktop app, over WebDriver: a support engineer finds the
//! connection disconnected, presses Diagnose on its card, sees `instance.awake` failed because
//! the instance hibernates, with both remedies, and exports the support bundle through the
//! native save dialog.

use std::io::Read;

use snowlink_e2e::cli::Snowlink;
use snowlink_e2e::desktop::App;
use snowlink_sim::{Fault, Seed, Sim};

#[test]
#[ignore = "needs the built app, tauri-driver, WebKitWebDriver, xdotool and Xvfb: ./dev test runs it"]
fn a_support_engineer_diagnoses_a_hibernating_instance_and_exports_the_bundle() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = runtime
        .block_on(Sim::builder().seed(Seed::Demo).start())
        .unwrap();
    let (admin, password) = sim.admin();
    let cli = Snowlink::new().env("SNOWLINK_PASSWORD", &password);
    let saved = runtime.block_on(cli.run(&[
        "connect",
        "--instance",
        sim.url(),
        "--name",
        "Dev instance",
        "--grant",
        "basic",
        "--username",
        &admin,
    ]));
    assert_eq!(saved.code, 0, "{saved:#?}");
    sim.set_fault(Fault::Hibernate);

    let envs = vec![(
        "SNOWLINK_CONFIG_DIR".to_owned(),
        cli.config_dir().display().to_string(),
    )];
    let desktop = App::launch_with("diagnose", &envs);
    desktop.click("nav-connections");
    desktop.click("check-button");
    desktop.wait_for_text("connection-state", |text| text == "Disconnected");
    desktop.click("diagnose-button");

    let awake = desktop.wait_for_text("check-instance.awake", |text| text.contains("hibernating"));
    assert!(
        awake.contains("For you:") && awake.contains("wake"),
        "{awake}"
    );
    assert!(awake.contains("developer.servicenow.com"), "{awake}");
    desktop.wait_for_text("diagnose-summary", |text| text.contains("problem found"));
    let skipped = desktop.wait_for_text("check-auth.credentials", |text| !text.is_empty());
    assert!(skipped.contains("Skipped"), "{skipped}");
    desktop.screenshot("hibernating");

    let bundle = cli.config_dir().join("support-bundle.zip");
    desktop.click("export-bundle");
    desktop.save_dialog_answers("Export support bundle", &bundle);
    desktop.wait_for_text("diagnose-notice", |text| {
        text.contains("support-bundle.zip")
    });
    desktop.screenshot("exported");

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&bundle).unwrap()).unwrap();
    let mut doctor = String::new();
    zip.by_name("doctor.json")
        .unwrap()
        .read_to_string(&mut doctor)
        .unwrap();
    let report: serde_json::Value = serde_json::from_str(&doctor).unwrap();
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "instance.awake")
        .unwrap();
    assert_eq!(check["status"], "fail");
    let mut everything = doctor.clone();
    for name in ["http-log.json", "connection.json", "README.txt"] {
        zip.by_name(name)
            .unwrap()
            .read_to_string(&mut everything)
            .unwrap();
    }
    assert!(
        !everything.contains(&password),
        "the admin password is not in the bundle"
    );
}

/// On an instance that restricts Basic auth, a support engineer diagnosing a user's refused
/// connection signs in as the admin through the browser from the Diagnose screen (Snowlink's
/// own application, with its secret, "Remember" ticked); the admin's reads name the restriction.
/// The sign-in is then listed on the Connections screen, and Forget has the instance revoke it.
#[test]
#[ignore = "needs the built app, tauri-driver, WebKitWebDriver, Chromium, a Secret Service and Xvfb: ./dev test runs it"]
fn the_admin_signs_in_through_the_browser_from_the_diagnose_screen_and_forgets_it_after() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = runtime
        .block_on(Sim::builder().seed(Seed::Demo).start())
        .unwrap();
    let cli = Snowlink::new().env("SNOWLINK_PASSWORD", snowlink_sim::DEMO_PASSWORD);
    let saved = runtime.block_on(cli.run(&[
        "connect",
        "--instance",
        sim.url(),
        "--name",
        "Beth",
        "--grant",
        "basic",
        "--username",
        "beth.anglin",
    ]));
    assert_eq!(saved.code, 0, "{saved:#?}");
    sim.set_fault(Fault::BasicRestricted);
    let app = sim
        .state()
        .create_oauth_app(snowlink_sim::OAuthAppSpec {
            name: snowlink_core::profiles::admin_access::ADMIN_APP_NAME.into(),
            redirect_urls: snowlink_core::oauth::callback_urls(),
            ..snowlink_sim::OAuthAppSpec::default()
        })
        .unwrap();
    let (admin, password) = sim.admin();
    let envs: Vec<(String, String)> = [
        (
            "SNOWLINK_CONFIG_DIR",
            cli.config_dir().display().to_string(),
        ),
        (
            "BROWSER",
            snowlink_e2e::browser::chromium_browser_var("allow", None),
        ),
        ("SNOWLINK_BROWSER_ADMIN_CLIENT", app.client_id.clone()),
        ("SNOWLINK_BROWSER_ADMIN_USER", admin),
        ("SNOWLINK_BROWSER_ADMIN_PASSWORD", password),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let desktop = App::launch_with("diagnose-admin", &envs);
    desktop.click("nav-diagnose");
    desktop.type_into("diagnose-admin-client-id", &app.client_id);
    desktop.type_into("diagnose-admin-client-secret", &app.client_secret);
    desktop.click("diagnose-remember-admin");
    desktop.screenshot("form");
    desktop.click("diagnose-run");
    desktop.wait_for_text("diagnose-summary", |text| text.contains("found"));
    let credentials = desktop.wait_for_text("check-auth.credentials", |text| !text.is_empty());
    assert!(
        credentials.contains("restricts Basic auth"),
        "{credentials}"
    );
    let notice = desktop.wait_for_text("diagnose-notice", |text| !text.is_empty());
    assert!(notice.contains("remembered in the OS keyring"), "{notice}");
    desktop.screenshot("signed-in");

    desktop.click("nav-connections");
    let row = desktop.wait_for_text("remembered-admin", |text| !text.is_empty());
    assert!(row.contains(&app.client_id), "{row}");
    assert!(!row.contains(&app.client_secret), "{row}");
    desktop.screenshot("remembered");
    desktop.click("forget-admin");
    desktop.click("confirm-forget-admin");
    let forgotten = desktop.wait_for_text("remembered-notice", |text| !text.is_empty());
    assert!(forgotten.contains("revoked"), "{forgotten}");
    let listed = runtime.block_on(cli.run(&["admin", "list", "--json"]));
    assert_eq!(listed.json()["admin_sign_ins"], serde_json::json!([]));
}

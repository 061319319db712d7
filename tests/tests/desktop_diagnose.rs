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

//! The overview a person opens every day, over WebDriver: connections made the way the README's
//! demo makes them (an integration set up with `snowlink setup --auto --yes`, a browser sign-in
//! connection waiting for its users), each with its badge, and the set-up one with its linked
//! records counted and charted by state name. Its screenshot is the README's (`scripts/readme-screenshot`).

use snowlink_e2e::cli::Snowlink;
use snowlink_e2e::desktop::App;
use snowlink_sim::{Seed, Sim};

#[test]
#[ignore = "needs the built app and CLI, a Secret Service, tauri-driver, WebKitWebDriver and Xvfb: ./dev test runs it"]
fn the_overview_shows_each_connection_with_its_count_and_chart() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = runtime
        .block_on(Sim::builder().seed(Seed::Demo).start())
        .unwrap();
    let cli = Snowlink::new()
        .as_admin_of(&sim)
        .env("SNOWLINK_CLIENT_SECRET", snowlink_sim::DEMO_CLIENT_SECRET);
    let setup = runtime.block_on(cli.auto_setup_with_uploads(&sim, "incident-sync", &[]));
    assert_eq!(setup.code, 0, "{setup:#?}");
    let link_later = runtime.block_on(cli.save_link_later(
        sim.url(),
        "Your ServiceNow account",
        snowlink_sim::DEMO_CLIENT_ID,
        &[],
    ));
    assert_eq!(link_later.code, 0, "{link_later:#?}");

    let envs = vec![(
        "SNOWLINK_CONFIG_DIR".to_owned(),
        cli.config_dir().display().to_string(),
    )];
    let desktop = App::launch_with("overview", &envs);
    // With connections saved, the app opens on them.
    let states = desktop.wait_for_text("connections-list", |t| t.contains("Not linked"));
    assert!(states.contains("Connected"), "{states}");
    let expected = sim.state().count("incident", "correlation_idISNOTEMPTY");
    let linked = desktop.wait_for_text("connection-linked", |t| t.contains("incidents linked"));
    assert!(linked.contains(&expected.to_string()), "{linked}");
    let chart = desktop.eval(
        "const c = document.querySelector('[data-testid=linked-chart]'); \
         return c ? [c.getAttribute('aria-label'), c.querySelectorAll('rect').length] : null;",
    );
    let label = chart[0].as_str().unwrap_or_default();
    assert!(
        label.starts_with(&format!("{expected} incidents linked")),
        "{chart}"
    );
    assert!(chart[1].as_u64().unwrap_or(0) >= 2, "{chart}");
    // States are named as the instance names them, not by their stored numbers.
    let new = sim
        .state()
        .count("incident", "correlation_idISNOTEMPTY^state=1");
    assert!(new > 0);
    assert!(label.contains(&format!("New {new}")), "{chart}");
    desktop.screenshot("readme");
}

//! `snowlink connect`, `link`, `unlink` and `status` as a person runs them, against the
//! simulator, with the real keyring and, for browser sign-ins, a real headless Chromium as
//! `$BROWSER`. Run through `scripts/with-keyring` (as `./dev test` does).

use snowlink_e2e::cli::{Run, Snowlink};
use snowlink_e2e::rotate_client_secret;
use snowlink_e2e::{demo, free_port};
use snowlink_sim::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, OAuthApp, OAuthAppSpec, RunningSim, UserSpec,
};

/// An Application Registry record whose one redirect URL is a free loopback port, as the
/// admin registers for Snowlink; returns the port (as typed on the command line) and the app.
fn browser_app(sim: &RunningSim) -> (String, OAuthApp) {
    let port = free_port();
    let app = sim
        .state()
        .create_oauth_app(OAuthAppSpec {
            name: "Snowlink".into(),
            redirect_urls: vec![format!("http://127.0.0.1:{port}/callback")],
            ..OAuthAppSpec::default()
        })
        .unwrap();
    (port.to_string(), app)
}

/// The admin connects `acme` with a browser sign-in and presses `action` (allow or deny).
async fn admin_connects_in_browser(sim: &RunningSim, action: &str) -> (Snowlink, Run) {
    let (admin, admin_password) = sim.admin();
    let (port, app) = browser_app(sim);
    let cli = Snowlink::new()
        .env("SNOWLINK_CLIENT_SECRET", &app.client_secret)
        .browser_signs_in_as(&admin, &admin_password, action);
    let run = cli
        .run(&[
            "connect",
            "--instance",
            sim.url(),
            "--name",
            "acme",
            "--grant",
            "auth-code",
            "--client-id",
            &app.client_id,
            "--port",
            &port,
            "--wait",
            "60",
        ])
        .await;
    (cli, run)
}

/// Every token the simulator issued, to prove none of them leaked.
fn issued_tokens(sim: &RunningSim) -> Vec<String> {
    sim.state()
        .query("oauth_credential", "")
        .into_iter()
        .filter_map(|record| record.get("token").cloned())
        .collect()
}

fn assert_no_secret_in(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "a secret leaked into: {text}");
    }
}

fn config_text(snowlink: &Snowlink) -> String {
    std::fs::read_to_string(snowlink.config_dir().join("connections.json")).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service (and Chromium for browser sign-ins): ./dev test runs it"]
async fn basic_auth_connects_and_keeps_the_password_only_in_the_keyring() {
    let sim = demo().await;
    let (admin, password) = sim.admin();
    let snowlink = Snowlink::new().env("SNOWLINK_PASSWORD", &password);
    let run = snowlink
        .run(&[
            "connect",
            "--instance",
            sim.url(),
            "--name",
            "demo",
            "--grant",
            "basic",
            "--username",
            &admin,
            "--json",
        ])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.json()["identity"]["userName"], admin.as_str());

    let status = snowlink.run(&["status", "--json"]).await;
    assert_eq!(status.code, 0, "{status:#?}");
    let connection = &status.json()["connections"][0];
    assert_eq!(connection["state"], "connected", "{status:#?}");
    assert_eq!(connection["grant"], "basic");

    let config = config_text(&snowlink);
    assert!(config.contains("demo"), "the connection is saved: {config}");
    assert_no_secret_in(
        &format!("{config}{}{}{}", run.stdout, run.stderr, status.stdout),
        &[&password],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_input_names_the_field_and_exits_2() {
    let sim = demo().await;
    let snowlink = Snowlink::new()
        .env("SNOWLINK_CLIENT_SECRET", "s")
        .env("SNOWLINK_PASSWORD", "p");
    let run = snowlink
        .run(&[
            "connect",
            "--instance",
            sim.url(),
            "--name",
            "x",
            "--grant",
            "password",
            "--username",
            "admin",
        ])
        .await;
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("client ID") && run.stderr.contains("--client-id"),
        "{run:#?}"
    );

    let run = Snowlink::new()
        .run(&[
            "connect",
            "--instance",
            "https://user:pw@acme.service-now.com",
            "--name",
            "x",
            "--grant",
            "basic",
        ])
        .await;
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("--instance"), "{run:#?}");
    assert!(
        config_text(&snowlink).is_empty(),
        "nothing is saved after a refused connect"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service (and Chromium for browser sign-ins): ./dev test runs it"]
async fn the_password_grant_connects_and_shows_the_token_expiry() {
    let sim = demo().await;
    let (admin, password) = sim.admin();
    let snowlink = Snowlink::new()
        .env("SNOWLINK_PASSWORD", &password)
        .env("SNOWLINK_CLIENT_SECRET", DEMO_CLIENT_SECRET);
    let run = snowlink
        .run(&[
            "connect",
            "--instance",
            sim.url(),
            "--name",
            "incident-sync",
            "--grant",
            "password",
            "--client-id",
            DEMO_CLIENT_ID,
            "--username",
            &admin,
            "--json",
        ])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    let status = snowlink.run(&["status", "--json"]).await;
    let connection = &status.json()["connections"][0];
    assert_eq!(connection["state"], "connected", "{status:#?}");
    let expires = connection["tokenExpiresAt"]
        .as_str()
        .expect("a token expiry");
    let expires = chrono_free_minutes_from_now(expires);
    assert!((25..=31).contains(&expires), "expires in {expires} minutes");

    let tokens = issued_tokens(&sim);
    assert!(!tokens.is_empty());
    let mut secrets: Vec<&str> = tokens.iter().map(String::as_str).collect();
    secrets.extend([password.as_str(), DEMO_CLIENT_SECRET]);
    assert_no_secret_in(
        &format!(
            "{}{}{}{}",
            config_text(&snowlink),
            run.stdout,
            run.stderr,
            status.stdout
        ),
        &secrets,
    );
}

/// Minutes between now and an RFC 3339 UTC time, without a date library in the test.
fn chrono_free_minutes_from_now(rfc3339: &str) -> i64 {
    let parsed = std::process::Command::new("date")
        .args(["-u", "-d", rfc3339, "+%s"])
        .output()
        .unwrap();
    let then: i64 = String::from_utf8_lossy(&parsed.stdout)
        .trim()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    (then - now) / 60
}

/// The admin saves a browser sign-in connection without signing in, the end user links their
/// own account in a real browser, then unlinks it, which revokes the tokens on the instance.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service (and Chromium for browser sign-ins): ./dev test runs it"]
async fn an_end_user_links_in_a_real_browser_and_unlinks() {
    let sim = demo().await;
    let mut user = UserSpec::new("end.user", "User-Pass-1");
    user.roles = vec!["itil".into()];
    sim.state().create_user(user).unwrap();
    let (port, app) = browser_app(&sim);

    // The admin saves the connection without signing in; no browser is involved.
    let admin_cli = Snowlink::new().env("SNOWLINK_CLIENT_SECRET", &app.client_secret);
    let run = admin_cli
        .save_link_later(sim.url(), "acme", &app.client_id, &["--json"])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.json()["identity"].is_null(), "{run:#?}");
    assert!(
        run.browser_log.is_empty(),
        "no browser was opened: {run:#?}"
    );
    let status = admin_cli.run(&["status", "--json"]).await;
    let unlinked = &status.json()["connections"][0];
    assert_eq!(unlinked["state"], "not-linked", "{status:#?}");
    assert_eq!(unlinked["badge"]["label"], "Not linked", "{status:#?}");
    assert_eq!(
        status.code, 0,
        "nothing is wrong with a connection nobody linked yet"
    );

    // The end user, on the same machine and connection, links their own account.
    let user_cli = Snowlink::new().browser_signs_in_as("end.user", "User-Pass-1", "allow");
    std::fs::copy(
        admin_cli.config_dir().join("connections.json"),
        user_cli.config_dir().join("connections.json"),
    )
    .unwrap();
    let run = user_cli
        .run(&[
            "link",
            "--connection",
            "acme",
            "--port",
            &port,
            "--wait",
            "60",
            "--json",
        ])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr.contains("/oauth_auth.do"),
        "the URL is shown for manual copy: {run:#?}"
    );
    let status = user_cli.run(&["status", "--json"]).await;
    let connection = &status.json()["connections"][0];
    assert_eq!(
        connection["identity"]["userName"], "end.user",
        "{status:#?}"
    );
    let user_id = sim.state().query("sys_user", "user_name=end.user")[0]["sys_id"].clone();
    assert_eq!(connection["identity"]["sysId"], user_id.as_str());
    let user_tokens = || {
        sim.state()
            .query("oauth_credential", &format!("user={user_id}"))
            .len()
    };
    assert!(user_tokens() > 0);

    let run = user_cli.run(&["unlink", "--connection", "acme"]).await;
    assert_eq!(
        run.code, 2,
        "no terminal to confirm on and no --yes: {run:#?}"
    );
    let run = user_cli
        .run(&["unlink", "--connection", "acme", "--yes"])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(user_tokens(), 0, "the instance revoked the user's tokens");
    let status = user_cli.run(&["status", "--json", "--offline"]).await;
    assert!(
        status.json()["connections"][0]["identity"].is_null(),
        "{status:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service (and Chromium for browser sign-ins): ./dev test runs it"]
async fn a_browser_that_cannot_reach_this_computer_links_by_pasting_the_address() {
    let sim = demo().await;
    let mut user = UserSpec::new("remote.user", "User-Pass-1");
    user.roles = vec!["itil".into()];
    sim.state().create_user(user).unwrap();
    let (port, app) = browser_app(&sim);
    let cli = Snowlink::new()
        .env("SNOWLINK_CLIENT_SECRET", &app.client_secret)
        .browser_signs_in_as("remote.user", "User-Pass-1", "allow");
    let saved = cli
        .save_link_later(sim.url(), "acme", &app.client_id, &[])
        .await;
    assert_eq!(saved.code, 0, "{saved:#?}");
    let address = cli.config_dir().join("callback-address.txt");
    // A stale address first (another sign-in's), then the right one.
    let run = cli
        .run_pasting(
            &[
                "link",
                "--connection",
                "acme",
                "--port",
                &port,
                "--paste",
                "--wait",
                "60",
            ],
            &address,
            &[
                "http://127.0.0.1:8765/callback?code=old&state=old",
                "{address}",
            ],
        )
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stderr.contains("paste it here"), "{}", run.stderr);
    assert!(
        run.stderr.contains("belongs to another sign-in"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("as remote.user"), "{}", run.stdout);
    assert!(
        run.browser_log.contains("callback blocked"),
        "{}",
        run.browser_log
    );

    let unlinked = cli.run(&["unlink", "--connection", "acme", "--yes"]).await;
    assert_eq!(unlinked.code, 0, "{unlinked:#?}");
    let user_id = sim.state().query("sys_user", "user_name=remote.user")[0]["sys_id"].clone();
    assert_eq!(
        sim.state()
            .query("oauth_credential", &format!("user={user_id}"))
            .len(),
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service (and Chromium for browser sign-ins): ./dev test runs it"]
async fn pressing_deny_is_reported_and_saves_nothing() {
    let sim = demo().await;
    let (cli, run) = admin_connects_in_browser(&sim, "deny").await;
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.to_lowercase().contains("deny"), "{run:#?}");
    assert!(config_text(&cli).is_empty());
}

/// A password-grant integration heals itself when its tokens are revoked: the grant runs again
/// with the password from the keyring.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service (and Chromium for browser sign-ins): ./dev test runs it"]
async fn revoked_tokens_of_a_password_grant_are_replaced_by_signing_in_again() {
    let sim = demo().await;
    let (admin, password) = sim.admin();
    let cli = Snowlink::new()
        .env("SNOWLINK_PASSWORD", &password)
        .env("SNOWLINK_CLIENT_SECRET", DEMO_CLIENT_SECRET);
    let run = cli
        .run(&[
            "connect",
            "--instance",
            sim.url(),
            "--name",
            "sync",
            "--grant",
            "password",
            "--client-id",
            DEMO_CLIENT_ID,
            "--username",
            &admin,
        ])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    let before = issued_tokens(&sim);
    assert!(sim.state().revoke_tokens(&admin) > 0);
    let status = cli.run(&["status", "--json"]).await;
    assert_eq!(
        status.json()["connections"][0]["state"],
        "connected",
        "{status:#?}"
    );
    let after = issued_tokens(&sim);
    assert!(
        !after.is_empty() && after.iter().all(|t| !before.contains(t)),
        "new tokens were issued"
    );
}

/// A browser sign-in whose tokens were revoked on the instance needs the person again: the
/// connection says "re-link needed", and `status` fails.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service (and Chromium for browser sign-ins): ./dev test runs it"]
async fn a_revoked_browser_sign_in_means_relink_needed() {
    let sim = demo().await;
    let (cli, run) = admin_connects_in_browser(&sim, "allow").await;
    let (admin, _) = sim.admin();
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(sim.state().revoke_tokens(&admin) > 0);
    let status = cli.run(&["status", "--json"]).await;
    assert_eq!(
        status.json()["connections"][0]["state"],
        "relink-needed",
        "{status:#?}"
    );
    let text = cli.run(&["status"]).await;
    assert_eq!(
        text.code, 1,
        "an unhealthy connection fails `status`: {text:#?}"
    );
    assert!(text.stdout.contains("Re-link needed"), "{text:#?}");
    assert_eq!(
        status.code, 1,
        "`status --json` fails for it too: {status:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service (and Chromium for browser sign-ins): ./dev test runs it"]
async fn client_credentials_act_as_the_oauth_application_user() {
    let sim = demo().await;
    sim.state().set_property(
        "glide.oauth.inbound.client.credential.grant_type.enabled",
        "true",
    );
    let mut machine = UserSpec::new("svc.integration", "unused-Pass-1");
    machine.roles = vec!["itil".into()];
    machine.identity_type = Some("Machine".into());
    sim.state().create_user(machine).unwrap();
    let app = sim
        .state()
        .create_oauth_app(OAuthAppSpec {
            name: "Pipeline connector".into(),
            application_user: Some("svc.integration".into()),
            ..OAuthAppSpec::default()
        })
        .unwrap();
    let cli = Snowlink::new().env("SNOWLINK_CLIENT_SECRET", &app.client_secret);
    let run = cli
        .run(&[
            "connect",
            "--instance",
            sim.url(),
            "--name",
            "pipeline",
            "--grant",
            "client-credentials",
            "--client-id",
            &app.client_id,
            "--json",
        ])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(
        run.json()["identity"]["userName"],
        "svc.integration",
        "{run:#?}"
    );
    let status = cli.run(&["status", "--json"]).await;
    assert_eq!(
        status.json()["connections"][0]["state"],
        "connected",
        "{status:#?}"
    );
    assert_no_secret_in(&config_text(&cli), &[&app.client_secret]);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service (and Chromium for browser sign-ins): ./dev test runs it"]
async fn an_api_key_connects_like_a_password_and_a_wrong_one_is_refused() {
    let sim = demo().await;
    let (admin, password) = sim.admin();
    let cli = Snowlink::new().env("SNOWLINK_API_KEY", &password);
    let args = [
        "connect",
        "--instance",
        sim.url(),
        "--name",
        "harness",
        "--grant",
        "api-key",
        "--username",
        &admin,
    ];
    let run = cli.run(&args).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.contains(&admin), "{run:#?}");

    let wrong = Snowlink::new()
        .env("SNOWLINK_API_KEY", "not-the-key")
        .run(&args)
        .await;
    assert_eq!(wrong.code, 1, "{wrong:#?}");
    assert!(
        wrong.stderr.contains("fix:"),
        "every failure says the fix: {wrong:#?}"
    );
    assert!(!wrong.stderr.contains("not-the-key"));
}

#[tokio::test(flavor = "multi_thread")]
async fn linking_with_no_connection_says_how_to_get_one() {
    let run = Snowlink::new().run(&["link"]).await;
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("no connections yet"), "{run:#?}");
    assert!(run.stderr.contains("snowlink connect"), "{run:#?}");
    let status = Snowlink::new().run(&["status", "--json"]).await;
    assert_eq!(status.code, 0, "{status:#?}");
    assert_eq!(status.json()["connections"], serde_json::json!([]));
}

/// The issue's own words: `snowlink link` against `snowlink sim --seed demo`, with a real
/// browser hand-off, then `snowlink status --json` shows the linked identity.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service (and Chromium for browser sign-ins): ./dev test runs it"]
async fn link_against_the_snowlink_sim_command_shows_the_identity_in_status() {
    use tokio::io::AsyncBufReadExt;
    let mut sim = tokio::process::Command::new(snowlink_e2e::paths::cli_binary())
        .args(["sim", "--seed", "demo", "--json"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut first = String::new();
    tokio::io::BufReader::new(sim.stdout.take().unwrap())
        .read_line(&mut first)
        .await
        .unwrap();
    let started: serde_json::Value = serde_json::from_str(&first).unwrap();
    let url = started["url"].as_str().unwrap();

    let cli = Snowlink::new()
        .env("SNOWLINK_CLIENT_SECRET", DEMO_CLIENT_SECRET)
        .browser_signs_in_as("beth.anglin", snowlink_sim::DEMO_PASSWORD, "allow");
    let saved = cli.save_link_later(url, "demo", DEMO_CLIENT_ID, &[]).await;
    assert_eq!(saved.code, 0, "{saved:#?}");
    // No --port: the demo registers Snowlink's callback ports, the first free one is used.
    let linked = cli.run(&["link", "--wait", "60"]).await;
    assert_eq!(linked.code, 0, "{linked:#?}");
    let status = cli.run(&["status", "--json"]).await;
    let connection = &status.json()["connections"][0];
    assert_eq!(
        connection["identity"]["userName"], "beth.anglin",
        "{status:#?}"
    );
    assert_eq!(connection["state"], "connected", "{status:#?}");
    sim.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service (and Chromium for browser sign-ins): ./dev test runs it"]
async fn a_rotated_client_secret_is_tested_before_it_is_kept_and_a_new_client_unlinks() {
    let sim = demo().await;
    let (cli, run) = admin_connects_in_browser(&sim, "allow").await;
    assert_eq!(run.code, 0, "{run:#?}");
    let rotated = "Rotated-Secret-7";
    rotate_client_secret(&sim, "name=Snowlink", rotated);
    let app = sim
        .state()
        .query("oauth_entity", "name=Snowlink")
        .pop()
        .unwrap();

    // The stored secret no longer works: the test fails and nothing changes.
    let before = config_text(&cli);
    let run = cli.run(&["edit", "--connection", "acme"]).await;
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains("✗ Refresh the linked account's token"),
        "{run:#?}"
    );
    assert_eq!(config_text(&cli), before);

    // The new one is typed (here: from the environment), tested, then kept.
    let cli = cli.env("SNOWLINK_CLIENT_SECRET", rotated);
    let run = cli
        .run(&["edit", "--connection", "acme", "--new-client-secret"])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    let (admin, _) = sim.admin();
    for line in [
        "✓ Open the OS keyring".to_owned(),
        "✓ Refresh the linked account's token".to_owned(),
        format!("✓ Ask the instance who this is: Signed in as {admin}"),
        "✓ Keep the settings and secrets".to_owned(),
    ] {
        assert!(run.stderr.contains(&line), "{line}: {run:#?}");
    }
    assert!(
        run.stdout.contains(&format!(
            "Saved acme: the new settings signed in as {admin}."
        )),
        "{run:#?}"
    );
    assert_no_secret_in(&format!("{}{}", run.stdout, run.stderr), &[rotated]);
    assert_no_secret_in(&config_text(&cli), &[rotated]);
    let status = cli.run(&["status", "--json"]).await;
    assert_eq!(
        status.json()["connections"][0]["state"],
        "connected",
        "{status:#?}"
    );
    assert!(
        status.json()["connections"][0]["refreshTokenEndsAt"].is_string(),
        "{status:#?}"
    );
    let status = cli.run(&["status", "--offline"]).await;
    assert!(
        status.stdout.contains("refresh token ends 20"),
        "{status:#?}"
    );

    // A new client: the old client's tokens are revoked and the account unlinked.
    let run = cli
        .run(&[
            "edit",
            "--connection",
            "acme",
            "--client-id",
            "another-client",
            "--json",
        ])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.json()["state"], "not-linked", "{run:#?}");
    assert!(run.json()["identity"].is_null(), "{run:#?}");
    assert_eq!(run.json()["clientId"], "another-client", "{run:#?}");
    let app_tokens = sim
        .state()
        .query("oauth_credential", &format!("peer={}", app["sys_id"]));
    assert!(app_tokens.is_empty(), "{app_tokens:?}");

    // Rotating with no new value says where to give it; a grant that takes no password
    // refuses one, naming it.
    let run = cli
        .run(&["edit", "--connection", "acme", "--new-password"])
        .await;
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("No new value for the password"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("SNOWLINK_PASSWORD"), "{run:#?}");
    let run = cli
        .env("SNOWLINK_PASSWORD", "Some-Password-1")
        .run(&["edit", "--connection", "acme", "--new-password"])
        .await;
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("The password is not valid"), "{run:#?}");
    assert!(run.stderr.contains("takes none"), "{run:#?}");
}

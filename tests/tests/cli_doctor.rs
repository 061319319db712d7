//! `snowlink doctor` as a support engineer runs it: the check list, one check by name, exit
//! codes, the JSON shape, the tree with its fixes, `--all`, and the support bundle — searched
//! file by file for every secret and token of the run.

use std::io::Read;

use snowlink_e2e::cli::Snowlink;
use snowlink_e2e::demo;
use snowlink_sim::{DEMO_CLIENT_SECRET, DEMO_PASSWORD, Fault, RunningSim};

#[tokio::test(flavor = "multi_thread")]
async fn the_checks_are_listed_with_their_stable_ids() {
    let run = Snowlink::new()
        .run(&["doctor", "--list-checks", "--json"])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    let ids: Vec<String> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 16);
    for id in [
        "url.parse",
        "instance.awake",
        "auth.credentials",
        "acl.table",
        "links.count",
    ] {
        assert!(ids.contains(&id.to_owned()), "{id}: {ids:?}");
    }
    let text = Snowlink::new().run(&["doctor", "--list-checks"]).await;
    assert!(
        text.stdout.contains("tls.handshake") && text.stdout.contains("(after tcp.connect)"),
        "{text:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_usage_exits_2_and_one_check_runs_with_what_it_needs() {
    let run = Snowlink::new()
        .run(&["doctor", "--instance", "acme", "--check", "dns"])
        .await;
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("dns.resolve"),
        "the known ids are listed: {run:#?}"
    );

    let sim = demo().await;
    let run = Snowlink::new()
        .run(&[
            "doctor",
            "--instance",
            sim.url(),
            "--check",
            "tcp.connect",
            "--json",
        ])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    let ids: Vec<String> = run.json()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["url.parse", "dns.resolve", "tcp.connect"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hibernating_instance_fails_with_exit_1_and_the_fix_under_it() {
    let sim = demo().await;
    sim.set_fault(Fault::Hibernate);
    let cli = Snowlink::new()
        .env("SNOWLINK_GRANT", "basic")
        .env("SNOWLINK_USERNAME", "admin")
        .env("SNOWLINK_PASSWORD", "whatever");
    let json = cli
        .run(&["doctor", "--instance", sim.url(), "--json"])
        .await;
    assert_eq!(json.code, 1, "{json:#?}");
    let report = json.json();
    assert_eq!(report["verdict"], "disconnected");
    assert_eq!(report["instance"], sim.url());
    let awake = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "instance.awake")
        .unwrap();
    assert_eq!(awake["status"], "fail");
    assert!(
        awake["remedyAdmin"].as_str().unwrap().contains("wake"),
        "{awake}"
    );

    let text = cli.run(&["doctor", "--instance", sim.url()]).await;
    assert_eq!(text.code, 1);
    let lines: Vec<&str> = text.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("✗ instance.awake"))
        .unwrap_or_else(|| panic!("{text:#?}"));
    assert!(
        lines[at + 1..]
            .iter()
            .take(4)
            .any(|l| l.trim_start().starts_with("fix:")),
        "{text:#?}"
    );
    assert!(text.stdout.contains("– auth.credentials"), "{text:#?}");
    assert!(
        lines.last().unwrap().contains("1 problem found in"),
        "{text:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_without_credentials_is_checked_up_to_awake() {
    let sim = demo().await;
    let run = Snowlink::new()
        .run(&["doctor", "--instance", sim.url(), "--json"])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    let checks = run.json()["checks"].clone();
    let status = |id: &str| {
        checks
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("instance.awake"), "pass");
    assert_eq!(status("auth.credentials"), "skip");
}

/// Everything the bundle must not hold: what was typed and what the instance issued.
fn secrets_of(sim: &RunningSim, typed: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = typed.iter().map(|s| (*s).to_owned()).collect();
    all.extend(
        sim.state()
            .query("oauth_credential", "")
            .into_iter()
            .filter_map(|record| record.get("token").cloned()),
    );
    all
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service: ./dev test runs it"]
async fn the_support_bundle_holds_everything_useful_and_no_secret() {
    let sim = demo().await;
    let (admin, admin_password) = sim.admin();
    let cli = Snowlink::new().demo_secrets();
    let connect = cli.connect_demo_service(sim.url(), "svc").await;
    assert_eq!(connect.code, 0, "{connect:#?}");
    let bundle = cli.config_dir().join("support.zip");
    let cli = cli
        .env("SNOWLINK_ADMIN_USERNAME", &admin)
        .env("SNOWLINK_ADMIN_PASSWORD", &admin_password);
    let run = cli
        .run(&[
            "doctor",
            "--connection",
            "svc",
            "--bundle",
            bundle.to_str().unwrap(),
        ])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.contains("Support bundle written to"), "{run:#?}");

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&bundle).unwrap()).unwrap();
    let mut names = Vec::new();
    let mut everything = String::new();
    for index in 0..zip.len() {
        let mut file = zip.by_index(index).unwrap();
        names.push(file.name().unwrap().into_owned());
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        everything.push_str(&text);
    }
    names.sort();
    assert_eq!(
        names,
        [
            "README.txt",
            "connection.json",
            "doctor.json",
            "http-log.json",
            "versions.json"
        ]
    );
    assert!(
        everything.contains("auth.credentials") && everything.contains("/oauth_token.do"),
        "useful: {everything}"
    );
    let secrets = secrets_of(&sim, &[DEMO_CLIENT_SECRET, DEMO_PASSWORD, &admin_password]);
    assert!(secrets.len() >= 5, "the run issued tokens: {secrets:?}");
    for secret in &secrets {
        assert!(
            !everything.contains(secret.as_str()),
            "a secret is in the bundle"
        );
        let escaped = serde_json::to_string(secret).unwrap();
        assert!(
            !everything.contains(escaped.trim_matches('"')),
            "a secret is in the bundle, escaped"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service: ./dev test runs it"]
async fn all_saved_connections_are_diagnosed_at_once() {
    let sim = demo().await;
    let (admin, password) = sim.admin();
    let cli = Snowlink::new().env("SNOWLINK_PASSWORD", &password);
    for name in ["one", "two"] {
        let run = cli
            .run(&[
                "connect",
                "--instance",
                sim.url(),
                "--name",
                name,
                "--grant",
                "basic",
                "--username",
                &admin,
            ])
            .await;
        assert_eq!(run.code, 0, "{run:#?}");
    }
    let run = cli.run(&["doctor", "--all", "--json"]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    let reports = run.json()["connections"].as_array().unwrap().clone();
    assert_eq!(reports.len(), 2);
    assert!(
        reports.iter().all(|r| r["verdict"] == "connected"),
        "{reports:#?}"
    );
}

/// `doctor --admin browser`: on an instance that restricts Basic auth, the admin signs in
/// through the browser (Snowlink's own OAuth application, a headless Chromium on the login
/// page), and with the admin's reads the doctor names the restriction behind a user's 401,
/// where a refused admin password could not have read why.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Chromium: ./dev test runs it"]
async fn an_admin_signed_in_through_the_browser_lets_the_doctor_name_the_basic_restriction() {
    let sim = demo().await;
    sim.set_fault(Fault::BasicRestricted);
    let app = snowlink_e2e::snowlink_admin_app(&sim);
    let user = |snowlink: Snowlink| {
        snowlink
            .env("SNOWLINK_GRANT", "basic")
            .env("SNOWLINK_USERNAME", "beth.anglin")
            .env("SNOWLINK_PASSWORD", DEMO_PASSWORD)
    };
    let summary = |run: &snowlink_e2e::cli::Run| {
        let checks = run.json()["checks"].clone();
        checks
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "auth.credentials")
            .map(|c| c["summary"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    let args = ["doctor", "--instance", sim.url(), "--json"];

    let browser = user(Snowlink::new().admin_through_the_browser(&sim, &app.client_id));
    let run = browser
        .run(&[&args[..], &["--admin", "browser"]].concat())
        .await;
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(summary(&run).contains("restricts Basic auth"), "{run:#?}");
}

/// On an instance older than Zurich (no public clients), the admin's browser sign-in without a
/// secret is refused by the instance and Snowlink asks for the Client Secret, naming it; with
/// it and `--remember-admin`, the sign-in is kept in the keyring, listed by `snowlink admin
/// list`, used by the next run without any browser, and `snowlink admin forget` has the
/// instance revoke it and lists nothing after.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service and Chromium: ./dev test runs it"]
async fn a_refused_public_client_asks_for_the_secret_and_a_remembered_sign_in_serves_until_forgotten()
 {
    let sim = demo().await;
    sim.set_fault(Fault::BeforeZurich);
    let app = snowlink_e2e::snowlink_admin_app(&sim);
    let args = ["doctor", "--instance", sim.url(), "--admin", "browser"];
    let snowlink = Snowlink::new().admin_through_the_browser(&sim, &app.client_id);

    let refused = snowlink.run(&args).await;
    assert_eq!(refused.code, 1, "{refused:#?}");
    assert!(
        refused.stderr.contains("without its client secret")
            && refused.stderr.contains("Zurich")
            && refused.stderr.contains("Client Secret"),
        "{refused:#?}"
    );

    let with_secret = snowlink.env("SNOWLINK_ADMIN_CLIENT_SECRET", &app.client_secret);
    let remember = [&args[..], &["--remember-admin"]].concat();
    let remembered = with_secret.run(&remember).await;
    assert!(
        remembered.stderr.contains("remembered in the OS keyring"),
        "{remembered:#?}"
    );
    let listed = with_secret.run(&["admin", "list", "--json"]).await;
    assert_eq!(listed.code, 0, "{listed:#?}");
    let known = listed.json()["admin_sign_ins"].clone();
    assert_eq!(known.as_array().unwrap().len(), 1, "{known}");
    assert_eq!(known[0]["clientId"], app.client_id.as_str());
    assert!(
        !listed.stdout.contains(&app.client_secret),
        "the list shows no secret"
    );

    // Revoked on the instance: the remembered sign-in is forgotten and the browser asked again.
    let (admin, _) = sim.admin();
    assert!(sim.state().revoke_tokens(&admin) > 0);
    let expired = with_secret.run(&args).await;
    assert!(expired.stderr.contains("no longer works"), "{expired:#?}");
    let listed = with_secret.run(&["admin", "list", "--json"]).await;
    assert_eq!(listed.json()["admin_sign_ins"], serde_json::json!([]));

    // Remembered again; then no browser at all: the remembered sign-in serves.
    let remembered = with_secret.run(&remember).await;
    assert!(remembered.stderr.contains("remembered"), "{remembered:#?}");
    let no_browser = with_secret.env("BROWSER", "/bin/false");
    let reused = no_browser.run(&args).await;
    assert!(
        reused
            .stderr
            .contains("Signed in with the admin sign-in remembered"),
        "{reused:#?}"
    );

    let refresh_tokens = || {
        let query = format!("type=refresh_token^client_id={}", app.client_id);
        sim.state().count("oauth_credential", &query)
    };
    let before = refresh_tokens();
    let forgotten = no_browser.run(&["admin", "forget", sim.url()]).await;
    assert_eq!(forgotten.code, 0, "{forgotten:#?}");
    assert!(forgotten.stdout.contains("revoked"), "{forgotten:#?}");
    assert_eq!(refresh_tokens(), before - 1, "the instance revoked it");
    let empty = no_browser.run(&["admin", "list", "--json"]).await;
    assert_eq!(empty.json()["admin_sign_ins"], serde_json::json!([]));
    let again = no_browser.run(&["admin", "forget", sim.url()]).await;
    assert_eq!(again.code, 1, "{again:#?}");
    assert!(
        again.stderr.contains("No admin sign-in is remembered"),
        "{again:#?}"
    );
}

/// An admin with multi-factor authentication (item 36): Basic with the password alone is
/// refused, and through the browser — the instance's own login page, where the one-time code
/// is typed — Snowlink signs in as that admin and the doctor reads as them.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Chromium: ./dev test runs it"]
async fn an_admin_with_mfa_signs_in_through_the_browser_with_the_one_time_code() {
    let sim = demo().await;
    sim.set_fault(Fault::BasicRestricted);
    let state = sim.state();
    state
        .create_user(snowlink_sim::UserSpec {
            mfa: true,
            roles: vec!["admin".into()],
            ..snowlink_sim::UserSpec::new("mfa.admin", "Mfa-Admin-Pw-1")
        })
        .unwrap();
    let app = snowlink_e2e::snowlink_admin_app(&sim);
    let args = ["doctor", "--instance", sim.url(), "--json"];
    let basic = Snowlink::new()
        .env("SNOWLINK_ADMIN_USERNAME", "mfa.admin")
        .env("SNOWLINK_ADMIN_PASSWORD", "Mfa-Admin-Pw-1")
        .env("SNOWLINK_GRANT", "basic")
        .env("SNOWLINK_USERNAME", "beth.anglin")
        .env("SNOWLINK_PASSWORD", DEMO_PASSWORD);
    let refused = basic.run(&args).await;
    assert!(
        !refused.stdout.contains("restricts Basic auth"),
        "a refused admin reads nothing: {refused:#?}"
    );

    // On the login page the code goes with the password, as the person types it.
    let code = state.otp("mfa.admin").unwrap();
    let browser = Snowlink::new()
        .admin_through_the_browser(&sim, &app.client_id)
        .env("SNOWLINK_BROWSER_ADMIN_USER", "mfa.admin")
        .env(
            "SNOWLINK_BROWSER_ADMIN_PASSWORD",
            &format!("Mfa-Admin-Pw-1{code}"),
        )
        .env("SNOWLINK_GRANT", "basic")
        .env("SNOWLINK_USERNAME", "beth.anglin")
        .env("SNOWLINK_PASSWORD", DEMO_PASSWORD);
    let run = browser
        .run(&[&args[..], &["--admin", "browser"]].concat())
        .await;
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stdout.contains("restricts Basic auth"), "{run:#?}");
}

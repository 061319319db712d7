//! The real `snowlink` binary against hostile input: a corrupt connections file, an instance
//! that sends terminal escape sequences, a browser that reads its environment, and addresses
//! carrying a password. Nothing may be lost, leaked or allowed to drive the terminal.

use snowlink_e2e::cli::Snowlink;
use snowlink_e2e::{demo, free_port};
use snowlink_sim::UserSpec;

/// A file a careless editor or a crash left behind, holding two connections' worth of text.
const TRUNCATED: &str = r#"{
  "version": 2,
  "connections": [
    { "id": "c-0000000000000001", "displayName": "Production", "instance": "https://acme.service-now.com",
      "profileId": "custom", "grant": "basic", "clientId": null, "username": "svc", "linkedIdentity": null },
    { "id": "c-0000000000000002", "displayName": "Test", "instance": "https://acme"#;

#[tokio::test(flavor = "multi_thread")]
async fn connect_on_a_corrupt_file_stops_and_keeps_every_other_connection() {
    let sim = demo().await;
    let (admin, password) = sim.admin();
    let snowlink = Snowlink::new().env("SNOWLINK_PASSWORD", &password);
    let file = snowlink.config_dir().join("connections.json");
    std::fs::write(&file, TRUNCATED).unwrap();
    let run = snowlink
        .run(&[
            "connect",
            "--instance",
            sim.url(),
            "--name",
            "new one",
            "--grant",
            "basic",
            "--username",
            &admin,
        ])
        .await;
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(!run.stdout.contains("Connected"), "{run:#?}");
    assert!(run.stderr.contains("could not be read"), "{run:#?}");
    assert!(run.stderr.contains("Nothing was deleted"), "{run:#?}");
    let kept: Vec<_> = std::fs::read_dir(snowlink.config_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".corrupt-"))
        .collect();
    assert_eq!(kept.len(), 1, "{run:#?}");
    assert!(
        run.stderr.contains(&kept[0].display().to_string()),
        "the copy is named: {run:#?}"
    );
    assert_eq!(std::fs::read_to_string(&kept[0]).unwrap(), TRUNCATED);
    assert!(
        !file.exists(),
        "no file holding only the new connection: {run:#?}"
    );
    assert_eq!(
        sim.state().count("oauth_credential", ""),
        0,
        "nothing was signed in"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_in_the_address_is_never_echoed() {
    for address in [
        "https://bob:hunter2@acme.service-now.com:99999",
        "https://bob:hunter2@bad_host!.example.com",
        "bob:hunter2@acme:70000",
    ] {
        let parse = Snowlink::new()
            .run(&["instance", "parse", address, "--json"])
            .await;
        assert_ne!(parse.code, 0, "{parse:#?}");
        assert_eq!(parse.json()["error"]["code"], "invalid_input", "{parse:#?}");
        let connect = Snowlink::new()
            .env("SNOWLINK_PASSWORD", "p")
            .run(&[
                "connect",
                "--instance",
                address,
                "--name",
                "x",
                "--grant",
                "basic",
                "--username",
                "u",
            ])
            .await;
        assert_eq!(connect.code, 2, "{connect:#?}");
        for run in [&parse, &connect] {
            let printed = format!("{}{}", run.stdout, run.stderr);
            assert!(!printed.contains("hunter2"), "{address}: {printed}");
            assert!(printed.contains("user name or password"), "{printed}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service: ./dev test runs it"]
async fn escape_sequences_from_the_instance_never_reach_the_terminal() {
    let sim = demo().await;
    // No colon: Basic auth (RFC 7617) cannot carry one in a user name.
    let hostile = "evil\u{1b}]0;pwned\u{7}\u{1b}[2J\r\u{1b}[31mERROR forged\u{9b}1m";
    sim.state()
        .create_user(UserSpec::new(hostile, "Hostile-1!"))
        .unwrap();
    let snowlink = Snowlink::new().env("SNOWLINK_PASSWORD", "Hostile-1!");
    let connect = snowlink
        .run(&[
            "connect",
            "--instance",
            sim.url(),
            "--name",
            "hostile",
            "--grant",
            "basic",
            "--username",
            hostile,
        ])
        .await;
    assert_eq!(connect.code, 0, "{connect:#?}");
    let status = snowlink.run(&["status"]).await;
    assert_eq!(status.code, 0, "{status:#?}");
    for run in [&connect, &status] {
        for text in [&run.stdout, &run.stderr] {
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "a control character was printed: {text:?}"
            );
        }
        assert!(
            run.stdout.contains("\\u{1b}"),
            "shown, made visible: {run:#?}"
        );
    }
    // What the instance said is stored made visible too (the typed user name stays as typed:
    // it is what signs in).
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(snowlink.config_dir().join("connections.json")).unwrap(),
    )
    .unwrap();
    let stored = saved["connections"][0]["linkedIdentity"]["userName"]
        .as_str()
        .unwrap();
    assert!(!stored.chars().any(char::is_control), "{stored:?}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service: ./dev test runs it"]
async fn the_browser_inherits_no_secret_from_snowlink_s_environment() {
    let sim = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("browser-env");
    // A shell already on disk, not a script written just now: executing a file this
    // multi-threaded test process has just written can fail with ETXTBSY.
    assert!(!dump.display().to_string().contains(' '));
    let browser = format!("sh -c env>{}", dump.display());
    let snowlink = Snowlink::new()
        .env("SNOWLINK_CLIENT_SECRET", "client-secret-canary")
        .env("SNOWLINK_PASSWORD", "password-canary")
        .env("SNOWLINK_API_KEY", "api-key-canary")
        .env("SNOWLINK_ADMIN_PASSWORD", "admin-password-canary")
        .env("BROWSER", &browser);
    let port = free_port().to_string();
    let run = snowlink
        .run(&[
            "connect",
            "--instance",
            sim.url(),
            "--name",
            "browser",
            "--grant",
            "auth-code",
            "--client-id",
            snowlink_sim::DEMO_CLIENT_ID,
            "--port",
            &port,
            "--wait",
            "3",
        ])
        .await;
    assert_ne!(run.code, 0, "nobody signed in: {run:#?}");
    let env = std::fs::read_to_string(&dump)
        .unwrap_or_else(|err| panic!("the browser was not started ({err}): {run:#?}"));
    assert!(env.contains("PATH="), "{env}");
    for leaked in [
        "canary",
        "SNOWLINK_CLIENT_SECRET",
        "SNOWLINK_PASSWORD",
        "SNOWLINK_API_KEY",
    ] {
        assert!(
            !env.contains(leaked),
            "{leaked} reached the browser:\n{env}"
        );
    }
}

/// Every entry of `dir` with its bytes, to compare before and after.
fn snapshot(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut entries: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    entries.sort();
    entries
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_linked_connections_file_that_is_not_ours_is_never_renamed_or_written() {
    let home = tempfile::tempdir().unwrap();
    let notes = home.path().join("notes.txt");
    std::fs::write(&notes, "Dentist on Tuesday.\n").unwrap();
    std::fs::write(home.path().join("todo.txt"), "Call Bob.\n").unwrap();
    let before = snapshot(home.path());
    let snowlink = Snowlink::new().env("SNOWLINK_PASSWORD", "pw");
    std::os::unix::fs::symlink(&notes, snowlink.config_dir().join("connections.json")).unwrap();

    let status = snowlink.run(&["status", "--offline"]).await;
    assert_eq!(status.code, 1, "{status:#?}");
    assert!(status.stderr.contains("notes.txt"), "{status:#?}");
    assert!(status.stderr.contains("left"), "{status:#?}");
    assert!(status.stderr.contains("ln -sf"), "{status:#?}");
    let connect = snowlink
        .connect_basic("https://acme.service-now.com", "Acme", "svc", &[])
        .await;
    assert_ne!(connect.code, 0, "{connect:#?}");
    assert!(connect.stderr.contains("notes.txt"), "{connect:#?}");
    assert_eq!(
        snapshot(home.path()),
        before,
        "the target's name, bytes and neighbours are unchanged"
    );
}

//! `KeyringStore` against the real Secret Service (gnome-keyring over D-Bus). The tests that
//! need one are `#[ignore]`d so a plain `cargo test` shows them as skipped instead of passing
//! silently; `./dev test` runs them with `--include-ignored` inside `scripts/with-keyring`,
//! where a missing Secret Service makes them fail. The missing-bus and locked-keyring cases make
//! their own sessions in child processes.
#![cfg(target_os = "linux")]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use snowlink_core::ids::ConnectionId;
use snowlink_core::secrets::{
    ClientSecret, KeyringStore, Password, RefreshToken, SecretError, SecretKind, SecretStore,
    SecretStoreExt,
};

/// A service name per test run, so parallel runs and the developer's own entries never collide.
fn test_store() -> KeyringStore {
    KeyringStore::with_service(format!("snowlink-test-{}", std::process::id()))
}

fn id(text: &str) -> ConnectionId {
    ConnectionId::parse(text).unwrap()
}

/// What libsecret's own client finds under our service and key.
fn secret_tool_lookup(service: &str, user: &str) -> String {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", service, "username", user])
        .output()
        .expect("secret-tool runs (apt-get install libsecret-tools)");
    assert!(out.status.success(), "secret-tool lookup failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-keyring cargo test -- --include-ignored"]
async fn stores_reads_back_and_deletes_in_the_secret_service() {
    let store = test_store();
    store.probe().await.expect("a usable Secret Service");
    let conn = id("keyring-roundtrip");
    store
        .save(&conn, &RefreshToken::new("rt-secret-service-1"))
        .await
        .unwrap();

    // A second store reads it back: the value lives in the daemon, not in this process.
    let again = KeyringStore::with_service(store.service());
    let back = again.load::<RefreshToken>(&conn).await.unwrap().unwrap();
    assert_eq!(back.expose(), "rt-secret-service-1");
    // And the Secret Service's own client sees the entry under our service and key.
    assert_eq!(
        secret_tool_lookup(store.service(), "keyring-roundtrip/refresh-token").trim_end(),
        "rt-secret-service-1"
    );

    store
        .save(&conn, &RefreshToken::new("rt-secret-service-2"))
        .await
        .unwrap();
    let replaced = again.load::<RefreshToken>(&conn).await.unwrap().unwrap();
    assert_eq!(replaced.expose(), "rt-secret-service-2", "set overwrites");

    store.delete_all(&conn).await.unwrap();
    assert!(again.load::<RefreshToken>(&conn).await.unwrap().is_none());
    store.delete(&conn, SecretKind::RefreshToken).await.unwrap();
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-keyring cargo test -- --include-ignored"]
async fn entries_are_separate_per_connection_and_kind() {
    let store = test_store();
    let (a, b) = (id("keyring-a"), id("keyring-b"));
    store.save(&a, &ClientSecret::new("cs-a")).await.unwrap();
    store.save(&a, &Password::new("pw-a")).await.unwrap();
    store.save(&b, &ClientSecret::new("cs-b")).await.unwrap();
    assert_eq!(client_secret(&a).await.as_deref(), Some("cs-a"));
    assert_eq!(client_secret(&b).await.as_deref(), Some("cs-b"));
    assert_eq!(
        store.load::<Password>(&a).await.unwrap().unwrap().expose(),
        "pw-a"
    );
    store.delete_all(&a).await.unwrap();
    store.delete_all(&b).await.unwrap();
    assert!(store.load::<Password>(&a).await.unwrap().is_none());
    assert!(client_secret(&b).await.is_none());
}

/// The client secret stored for `connection`, read through a fresh store.
async fn client_secret(connection: &ConnectionId) -> Option<String> {
    test_store()
        .load::<ClientSecret>(connection)
        .await
        .unwrap()
        .map(|s| s.expose().to_owned())
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-keyring cargo test -- --include-ignored"]
async fn the_probe_writes_and_removes_its_marker() {
    let store = test_store();
    store.probe().await.unwrap();
    let out = Command::new("secret-tool")
        .args(["search", "--all", "service", store.service()])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(!listed.contains("keyring-probe"), "{listed}");
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-keyring cargo test -- --include-ignored"]
async fn a_keyring_call_past_its_timeout_is_reported_as_such() {
    // A D-Bus round trip takes far longer than nothing: the timeout fires first, as it would
    // while an unlock prompt waits.
    let err = test_store()
        .with_timeout(Duration::ZERO)
        .get(&id("slow"), SecretKind::Password)
        .await
        .unwrap_err();
    assert_eq!(err, SecretError::Timeout(Duration::ZERO));
    assert!(err.hint().contains("unlock prompt"));
}

/// Runs this test binary's test `name` again in a child process, with `child_var` set, through
/// `wrapper` (none, or a fresh keyring session), and returns whether it passed and its output.
fn rerun(
    name: &str,
    child_var: &str,
    wrapper: Option<PathBuf>,
    bus: Option<&str>,
) -> (bool, String) {
    let exe = std::env::current_exe().unwrap();
    let mut command = match &wrapper {
        Some(script) => {
            let mut command = Command::new(script);
            command.arg(&exe);
            command
        }
        None => Command::new(&exe),
    };
    command
        .args(["--exact", name, "--include-ignored", "--nocapture"])
        .env(child_var, "1")
        .env_remove("SNOWLINK_IN_KEYRING_SESSION")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    if let Some(bus) = bus {
        command.env("DBUS_SESSION_BUS_ADDRESS", bus);
    }
    let out = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success() && text.contains("1 passed"), text)
}

#[tokio::test]
async fn a_missing_secret_service_is_reported_with_the_fix() {
    const CHILD: &str = "SNOWLINK_TEST_NO_BUS_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let err = test_store().probe().await.unwrap_err();
        assert!(matches!(err, SecretError::Unavailable { .. }), "{err:?}");
        assert!(err.hint().contains("install and unlock gnome-keyring"));
        assert!(err.hint().contains("never stores secrets in a plain file"));
        return;
    }
    // The environment cannot be changed safely inside this multi-threaded process.
    let (passed, output) = rerun(
        "a_missing_secret_service_is_reported_with_the_fix",
        CHILD,
        None,
        Some("unix:path=/nonexistent/snowlink-test-bus"),
    );
    assert!(passed, "{output}");
}

#[tokio::test]
#[ignore = "needs gnome-keyring and dbus-run-session: scripts/with-keyring cargo test -- --include-ignored"]
async fn a_locked_keyring_says_unlock_it() {
    const CHILD: &str = "SNOWLINK_TEST_LOCKED_CHILD";
    if std::env::var_os(CHILD).is_some() {
        // Inside a private keyring session: lock its login collection, as a screen lock does.
        let locked = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .status()
            .unwrap();
        assert!(locked.success());
        let err = test_store().probe().await.unwrap_err();
        assert_eq!(err, SecretError::Locked, "{err:?}");
        assert!(err.hint().contains("Unlock your keyring"), "{}", err.hint());
        assert!(!err.hint().contains("install"), "{}", err.hint());
        return;
    }
    let wrapper = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/with-keyring");
    let (passed, output) = rerun(
        "a_locked_keyring_says_unlock_it",
        CHILD,
        Some(wrapper),
        None,
    );
    assert!(passed, "{output}");
}

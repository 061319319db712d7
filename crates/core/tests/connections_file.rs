//! The connections file on a real file system: versioned round trips, migration of every older
//! version, unreadable files kept aside and never overwritten, the size cap, symbolic links
//! kept, and two processes changing it at once without losing a change.

use std::fs;
use std::path::Path;
use std::process::Command;

use chrono::Utc;
use snowlink_core::InstanceUrl;
use snowlink_core::api::LinkedIdentity;
use snowlink_core::connections::{
    Connection, ConnectionState, ConnectionStatus, ConnectionStore, ConnectionsError, FILE_NAME,
    FILE_VERSION, MAX_FILE_BYTES,
};
use snowlink_core::grants::GrantKind;
use snowlink_core::ids::ConnectionId;

fn sample(id: &str) -> Connection {
    Connection {
        id: ConnectionId::parse(id).unwrap(),
        display_name: format!("Acme {id}"),
        instance: InstanceUrl::parse("acme").unwrap(),
        profile_id: "incident-sync".into(),
        grant: GrantKind::AuthCode,
        client_id: Some("0123abcd".into()),
        username: None,
        linked_identity: Some(
            LinkedIdentity::from_instance("abel.tuter", "62826bf03710200044e0bfc8bcbe5df1")
                .unwrap(),
        ),
        status: ConnectionStatus {
            state: ConnectionState::Connected,
            last_checked: Some(Utc::now()),
            ..ConnectionStatus::default()
        },
    }
}

fn store() -> (tempfile::TempDir, ConnectionStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = ConnectionStore::at(dir.path().join("nested").join(FILE_NAME));
    (dir, store)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".lock"))
        .collect();
    names.sort();
    names
}

fn write(store: &ConnectionStore, content: &[u8]) {
    fs::create_dir_all(store.path().parent().unwrap()).unwrap();
    fs::write(store.path(), content).unwrap();
}

#[test]
fn a_missing_file_is_an_empty_list() {
    let (_dir, store) = store();
    assert!(store.load().unwrap().is_empty());
}

#[test]
fn saves_and_loads_a_versioned_file() {
    let (_dir, store) = store();
    let mut second = sample("acme-dev");
    second.grant = GrantKind::ClientCredentials;
    second.linked_identity = None;
    store.upsert(sample("acme-prod")).unwrap();
    store.upsert(second.clone()).unwrap();
    let loaded = store.load().unwrap();
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded[1], second);

    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(store.path()).unwrap()).unwrap();
    assert_eq!(json["version"], FILE_VERSION);
    assert_eq!(json["connections"][0]["grant"], "auth-code");
    assert_eq!(
        json["connections"][0]["linkedIdentity"]["userName"],
        "abel.tuter"
    );
    // Only the file itself remains: no temp file left behind.
    assert_eq!(files_in(store.path().parent().unwrap()), vec![FILE_NAME]);
}

#[test]
fn upsert_replaces_by_id_and_remove_deletes() {
    let (_dir, store) = store();
    store.upsert(sample("acme-prod")).unwrap();
    let mut renamed = sample("acme-prod");
    renamed.display_name = "Acme (prod)".into();
    store.upsert(renamed).unwrap();
    let loaded = store.load().unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].display_name, "Acme (prod)");
    let id = ConnectionId::parse("acme-prod").unwrap();
    assert!(store.remove(&id).unwrap().is_some());
    assert!(store.remove(&id).unwrap().is_none());
    assert!(store.load().unwrap().is_empty());
}

#[test]
fn a_corrupt_file_is_moved_aside_byte_for_byte_and_reported() {
    let (_dir, store) = store();
    store.upsert(sample("acme-prod")).unwrap();
    let original =
        "{\"version\":2,\"connections\":[{\"id\":\"acme\", \"secret-looking\":\"hunter2\"";
    write(&store, original.as_bytes());

    let err = store.upsert(sample("acme-dev")).unwrap_err();
    let ConnectionsError::Corrupt {
        moved_to, detail, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert!(detail.contains("line 1"), "{detail}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(err.to_string().contains(&moved_to.display().to_string()));
    assert!(err.hint().contains("Nothing was deleted"), "{}", err.hint());
    let name = moved_to.file_name().unwrap().to_string_lossy();
    assert!(name.starts_with("connections.json.corrupt-"), "{name}");
    assert_eq!(fs::read_to_string(moved_to).unwrap(), original);
    assert!(!store.path().exists(), "the failed change wrote nothing");

    // Starting afresh never touches the kept copy.
    store.upsert(sample("acme-dev")).unwrap();
    assert_eq!(fs::read_to_string(moved_to).unwrap(), original);
}

#[test]
fn wrong_shapes_and_duplicates_count_as_corrupt() {
    let (_dir, store) = store();
    for content in [
        "[]",
        "{\"version\":2}",
        "{\"version\":0,\"connections\":[]}",
        "{\"version\":2,\"connections\":[{\"id\":\"NOT VALID\"}]}",
    ] {
        write(&store, content.as_bytes());
        assert!(
            matches!(store.load(), Err(ConnectionsError::Corrupt { .. })),
            "{content}"
        );
    }
    let duplicate = serde_json::json!({
        "version": FILE_VERSION,
        "connections": [sample("acme-prod"), sample("acme-prod")],
    });
    write(&store, duplicate.to_string().as_bytes());
    let err = store.load().unwrap_err();
    assert!(err.to_string().contains("appears twice"), "{err}");
}

#[test]
fn a_newer_format_is_left_untouched() {
    let (_dir, store) = store();
    let newer = format!(
        "{{\"version\":{},\"connections\":[],\"more\":true}}",
        FILE_VERSION + 1
    );
    write(&store, newer.as_bytes());
    assert!(matches!(
        store.load(),
        Err(ConnectionsError::UnsupportedVersion { .. })
    ));
    assert!(store.upsert(sample("acme-prod")).is_err());
    assert_eq!(fs::read_to_string(store.path()).unwrap(), newer);
    assert_eq!(files_in(store.path().parent().unwrap()), vec![FILE_NAME]);
}

#[test]
fn a_file_over_the_cap_is_not_read_but_kept() {
    let (_dir, store) = store();
    let mut huge = b"{\"version\":2,\"connections\":[],\"pad\":\"".to_vec();
    huge.resize(MAX_FILE_BYTES as usize + 10, b'x');
    write(&store, &huge);
    let err = store.load().unwrap_err();
    let ConnectionsError::Corrupt {
        moved_to, detail, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert!(detail.contains("larger than 4 MiB"), "{detail}");
    assert_eq!(fs::metadata(moved_to).unwrap().len(), huge.len() as u64);
}

#[cfg(unix)]
#[test]
fn a_symlinked_file_keeps_its_link() {
    let dir = tempfile::tempdir().unwrap();
    let real_dir = dir.path().join("dotfiles");
    fs::create_dir_all(&real_dir).unwrap();
    let target = real_dir.join("snowlink-connections.json");
    let config = dir.path().join("config");
    fs::create_dir_all(&config).unwrap();
    let link = config.join(FILE_NAME);
    std::os::unix::fs::symlink("../dotfiles/snowlink-connections.json", &link).unwrap();

    let store = ConnectionStore::at(&link);
    store.upsert(sample("acme-prod")).unwrap();
    store.upsert(sample("acme-dev")).unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is still a link"
    );
    let written: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&target).unwrap()).unwrap();
    assert_eq!(written["connections"].as_array().unwrap().len(), 2);
    assert_eq!(store.load().unwrap().len(), 2);
}

/// Every entry of `dir` with its bytes (a folder's entries as `name/`), to compare before and
/// after.
#[cfg(unix)]
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut entries: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            match fs::read(e.path()) {
                Ok(bytes) => (name, bytes),
                Err(_) => (format!("{name}/"), Vec::new()),
            }
        })
        .collect();
    entries.sort();
    entries
}

#[cfg(unix)]
#[test]
fn a_link_to_a_file_that_is_not_ours_leaves_it_exactly_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let notes = home.join("notes.txt");
    fs::write(&notes, "groceries: milk, eggs\n").unwrap();
    fs::write(home.join("other.txt"), "keep me").unwrap();
    let config = dir.path().join("config");
    fs::create_dir_all(&config).unwrap();
    let link = config.join(FILE_NAME);
    std::os::unix::fs::symlink(&notes, &link).unwrap();
    let before = snapshot(&home);

    let store = ConnectionStore::at(&link);
    for attempt in [store.load().map(|_| ()), store.upsert(sample("acme-prod"))] {
        let err = attempt.unwrap_err();
        let ConnectionsError::NotOurs { target, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(target, &notes);
        assert!(err.to_string().contains("notes.txt"), "{err}");
        assert!(err.to_string().contains("left"), "{err}");
        assert!(err.hint().contains("ln -sf"), "{}", err.hint());
    }
    assert_eq!(
        snapshot(&home),
        before,
        "name, bytes and neighbours unchanged"
    );
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // The lock is the config folder's.
    assert!(config.join("connections.json.lock").exists());
}

#[cfg(unix)]
#[test]
fn a_named_pipe_in_place_of_the_file_is_not_waited_on() {
    let (_dir, store) = store();
    fs::create_dir_all(store.path().parent().unwrap()).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(store.path())
            .status()
            .unwrap()
            .success()
    );
    let err = store.load().unwrap_err();
    assert!(err.to_string().contains("named pipe"), "{err}");
}

/// A file as Snowlink 0.1 wrote it (format 1).
const VERSION_1: &str = r#"{
  "version": 1,
  "connections": [
    {
      "id": "c-3b2d1f0a9e8d7c6b",
      "displayName": "Demo instance (your account)",
      "instance": "https://acme.service-now.com",
      "profileId": "custom",
      "grant": "auth-code",
      "clientId": "42aa9e5e74fce79c9d934c0467d48a73",
      "username": null,
      "linkedIdentity": null,
      "status": {
        "state": "disconnected",
        "lastChecked": "2026-11-20T10:00:00Z",
        "tokenExpiresAt": null,
        "reason": "No account is linked yet."
      }
    },
    {
      "id": "c-0a1b2c3d4e5f6071",
      "displayName": "Demo instance (service account)",
      "instance": "https://acme.service-now.com",
      "profileId": "custom",
      "grant": "basic",
      "clientId": null,
      "username": "admin",
      "linkedIdentity": { "userName": "admin", "sysId": "6816f79cc0a8016401c5a33be04be441" },
      "status": {
        "state": "connected",
        "lastChecked": "2026-11-20T10:00:00Z",
        "tokenExpiresAt": null,
        "reason": null
      }
    },
    {
      "id": "c-ffffffffffffffff",
      "displayName": "Odd",
      "instance": "https://acme.service-now.com",
      "profileId": "custom",
      "grant": "password",
      "clientId": "x",
      "username": "svc",
      "linkedIdentity": { "userName": "svc", "sysId": "not-a-sys-id" },
      "status": { "state": "connected", "lastChecked": null, "tokenExpiresAt": null, "reason": null }
    }
  ]
}
"#;

#[test]
fn a_version_1_file_is_migrated_and_kept_for_older_snowlinks() {
    let (_dir, store) = store();
    write(&store, VERSION_1.as_bytes());
    let loaded = store.load().unwrap();
    assert_eq!(loaded.len(), 3, "nothing is set aside");
    assert_eq!(loaded[0].status.state, ConnectionState::NotLinked);
    assert_eq!(loaded[0].status.reason, None);
    assert_eq!(loaded[1].status.state, ConnectionState::Connected);
    assert_eq!(
        loaded[1].linked_identity.as_ref().unwrap().user_name,
        "admin"
    );
    assert_eq!(loaded[1].status.refresh_issued_at, None);
    assert!(
        loaded[2].linked_identity.is_none(),
        "an invalid identity is dropped"
    );
    assert_eq!(loaded[2].status.state, ConnectionState::Disconnected);
    assert_eq!(
        fs::read_to_string(store.path()).unwrap(),
        VERSION_1,
        "reading does not rewrite"
    );

    store.upsert(sample("acme-new")).unwrap();
    let written: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(store.path()).unwrap()).unwrap();
    assert_eq!(written["version"], FILE_VERSION);
    assert_eq!(written["connections"].as_array().unwrap().len(), 4);
    let kept = store.path().with_file_name("connections.json.v1");
    assert_eq!(fs::read_to_string(kept).unwrap(), VERSION_1);
}

/// Child mode of the race below: adds 50 connections, one change at a time.
const RACE_CHILD: &str = "SNOWLINK_TEST_RACE_FILE";

#[test]
fn two_processes_changing_the_file_at_once_lose_nothing() {
    if let Ok(path) = std::env::var(RACE_CHILD) {
        let prefix = std::env::var("SNOWLINK_TEST_RACE_PREFIX").unwrap();
        let store = ConnectionStore::at(path);
        for n in 0..50 {
            store.upsert(sample(&format!("{prefix}-{n}"))).unwrap();
        }
        return;
    }
    let (_dir, store) = store();
    let children: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|prefix| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "two_processes_changing_the_file_at_once_lose_nothing",
                    "--nocapture",
                ])
                .env(RACE_CHILD, store.path())
                .env("SNOWLINK_TEST_RACE_PREFIX", prefix)
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let loaded = store.load().unwrap();
    assert_eq!(loaded.len(), 100, "every change of both processes is kept");
    for prefix in ["a", "b"] {
        for n in 0..50 {
            let id = format!("{prefix}-{n}");
            assert!(
                loaded.iter().any(|c| c.id.as_str() == id),
                "{id} is missing"
            );
        }
    }
}

#[test]
fn the_profile_key_names_the_file_s_location_and_suits_a_bus_name() {
    let (dir, store) = store();
    let same = ConnectionStore::at(dir.path().join("nested").join(FILE_NAME));
    let other = ConnectionStore::at(dir.path().join("elsewhere").join(FILE_NAME));
    assert_eq!(store.profile_key(), same.profile_key());
    assert_ne!(store.profile_key(), other.profile_key());
    let key = store.profile_key();
    assert_eq!(key.len(), 16);
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
}

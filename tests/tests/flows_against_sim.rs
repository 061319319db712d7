//! The connection engine's flows and single steps against the simulator, with the in-memory
//! secret store and stores that fail: nothing is signed in when the connections file cannot be
//! read, no token is issued when the keyring refuses, fresh tokens are revoked when keeping
//! them fails, and what an instance reports about a user is made safe before it is kept.

use std::sync::Arc;

use snowlink_core::InstanceUrl;
use snowlink_core::connections::{ConnectionState, ConnectionStore, ConnectionsError, FILE_NAME};
use snowlink_core::errors::ErrorCode;
use snowlink_core::errors::InputField;
use snowlink_core::flows::{
    Changes, ConnectRequest, FlowError, Flows, ProvidedSecrets, TestEvent, TestStatus, TestStep,
};
use snowlink_core::grants::GrantKind;
use snowlink_core::secrets::{
    ClientSecret, FailingStore, MemoryStore, Password, SecretError, SecretKind, SecretStore,
    SecretStoreExt,
};
use snowlink_e2e::{demo, no_browser};
use snowlink_sim::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, RunningSim, UserSpec};

/// A connections file in a fresh directory, and the engine over it and `secrets`.
fn flows(secrets: Arc<dyn SecretStore>) -> (tempfile::TempDir, ConnectionStore, Flows) {
    let dir = tempfile::tempdir().unwrap();
    let store = ConnectionStore::at(dir.path().join(FILE_NAME));
    let flows = Flows::new(store.clone(), secrets);
    (dir, store, flows)
}

/// Connects with no browser and no cancellation (none of these grants needs either).
async fn connect(
    flows: &Flows,
    request: ConnectRequest,
    provided: ProvidedSecrets,
) -> Result<snowlink_core::connections::Connection, FlowError> {
    flows
        .connect(request, provided, &no_browser(), std::future::pending())
        .await
}

/// The demo's service account over the password grant of the demo OAuth app.
fn password_grant(sim: &RunningSim) -> (ConnectRequest, ProvidedSecrets) {
    let request = ConnectRequest {
        name: "svc".into(),
        instance: InstanceUrl::parse(sim.url()).unwrap(),
        grant: GrantKind::Password,
        client_id: Some(DEMO_CLIENT_ID.into()),
        username: Some("svc.snowlink".into()),
        profile_id: "custom".into(),
    };
    let secrets = ProvidedSecrets {
        client_secret: Some(ClientSecret::new(DEMO_CLIENT_SECRET)),
        password: Some(Password::new(DEMO_PASSWORD)),
        api_key: None,
    };
    (request, secrets)
}

fn basic(sim: &RunningSim, user: &str, password: &str) -> (ConnectRequest, ProvidedSecrets) {
    let request = ConnectRequest {
        name: user
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(20)
            .collect(),
        instance: InstanceUrl::parse(sim.url()).unwrap(),
        grant: GrantKind::Basic,
        client_id: None,
        username: Some(user.into()),
        profile_id: "custom".into(),
    };
    let secrets = ProvidedSecrets {
        password: Some(Password::new(password)),
        ..ProvidedSecrets::default()
    };
    (request, secrets)
}

/// Tokens the simulator holds as issued (a revoked one is deleted).
fn live_tokens(sim: &RunningSim) -> usize {
    sim.state().count("oauth_credential", "")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_grant_connect_keeps_the_secrets_and_the_connection() {
    let sim = demo().await;
    let secrets = Arc::new(MemoryStore::default());
    let (_dir, store, flows) = flows(secrets.clone());
    let (request, provided) = password_grant(&sim);
    let connection = connect(&flows, request, provided).await.unwrap();
    assert_eq!(connection.status.state, ConnectionState::Connected);
    assert_eq!(
        connection.linked_identity.as_ref().unwrap().user_name,
        "svc.snowlink"
    );
    assert!(connection.status.refresh_issued_at.is_some());
    assert_eq!(
        secrets.kinds(&connection.id),
        vec![
            SecretKind::AccessToken,
            SecretKind::ClientSecret,
            SecretKind::Password,
            SecretKind::RefreshToken
        ]
    );
    assert_eq!(store.load().unwrap(), vec![connection]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_connections_file_stops_connect_before_any_sign_in() {
    let sim = demo().await;
    for (content, newer) in [
        (
            b"{\"version\":2,\"connections\":[{\"id\":\"c-1\",".to_vec(),
            false,
        ),
        (b"{\"version\":99,\"connections\":[]}".to_vec(), true),
    ] {
        let secrets = Arc::new(MemoryStore::default());
        let (dir, store, flows) = flows(secrets.clone());
        std::fs::write(store.path(), &content).unwrap();
        let (request, provided) = password_grant(&sim);
        let err = connect(&flows, request, provided).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConfigError, "{err:?}");
        match &err {
            FlowError::Connections(ConnectionsError::Corrupt { moved_to, .. }) => {
                assert!(!newer);
                assert_eq!(std::fs::read(moved_to).unwrap(), content, "kept as it was");
                assert!(err.to_string().contains(&moved_to.display().to_string()));
            }
            FlowError::Connections(ConnectionsError::UnsupportedVersion { .. }) => {
                assert!(newer);
                assert_eq!(std::fs::read(store.path()).unwrap(), content, "untouched");
            }
            other => panic!("{other:?}"),
        }
        assert!(secrets.is_empty(), "no secret was stored");
        assert_eq!(live_tokens(&sim), 0, "no token was even requested");
        drop(dir);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_keyring_stops_connect_before_tokens_are_issued() {
    let sim = demo().await;
    let (_dir, store, flows) = flows(Arc::new(FailingStore::new(SecretError::Locked)));
    let (request, provided) = password_grant(&sim);
    let err = connect(&flows, request, provided).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::KeyringLocked);
    assert!(err.hint().contains("Unlock your keyring"), "{}", err.hint());
    assert_eq!(live_tokens(&sim), 0);
    assert!(store.load().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn fresh_tokens_are_revoked_when_the_keyring_fails_halfway() {
    let sim = demo().await;
    // The probe and two secrets get through; the tokens do not.
    let failing = Arc::new(FailingStore::after_writes(
        SecretError::Unavailable {
            detail: "the daemon went away".into(),
        },
        3,
    ));
    let (_dir, store, flows) = flows(failing.clone());
    let (request, provided) = password_grant(&sim);
    let err = connect(&flows, request, provided).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::KeyringUnavailable, "{err:?}");
    assert_eq!(live_tokens(&sim), 0, "the tokens issued were revoked");
    assert!(
        failing.stored().is_empty(),
        "the secrets written were removed"
    );
    assert!(store.load().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connections_file_that_refuses_the_write_leaves_no_orphan_secret() {
    let sim = demo().await;
    let secrets = Arc::new(MemoryStore::default());
    let (dir, store, flows) = flows(secrets.clone());
    // The lock beside the file cannot be opened: reading works, writing does not.
    std::fs::create_dir(dir.path().join("connections.json.lock")).unwrap();
    let (request, provided) = password_grant(&sim);
    let err = connect(&flows, request, provided).await.unwrap_err();
    assert!(
        matches!(err, FlowError::Connections(ConnectionsError::Io { .. })),
        "{err:?}"
    );
    assert!(secrets.is_empty(), "{:?}", secrets.values().len());
    assert_eq!(live_tokens(&sim), 0, "the tokens issued were revoked");
    assert!(store.load().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn what_an_instance_says_about_a_user_is_made_safe() {
    let sim = demo().await;
    // No colon: Basic auth (RFC 7617) cannot carry one in a user name.
    let hostile = "evil\u{1b}]0;pwned\u{7}\u{1b}[2J\rERROR forged";
    sim.state()
        .create_user(UserSpec::new(hostile, "Hostile-1!"))
        .unwrap();
    let (_dir, _store, flows) = flows(Arc::new(MemoryStore::default()));
    let (request, provided) = basic(&sim, hostile, "Hostile-1!");
    let connection = connect(&flows, request, provided).await.unwrap();
    let name = &connection.linked_identity.as_ref().unwrap().user_name;
    assert!(!name.chars().any(char::is_control), "{name:?}");
    assert!(name.contains("\\u{1b}"), "{name:?}");

    // A 4 MB user name is cut to a bounded one.
    let huge = "u".repeat(4 * 1024 * 1024);
    let svc = sim.state().query("sys_user", "user_name=svc.snowlink")[0]["sys_id"].clone();
    sim.state()
        .update(
            "sys_user",
            &svc,
            [("user_name".to_owned(), huge.clone())]
                .into_iter()
                .collect(),
        )
        .unwrap();
    let (mut request, provided) = password_grant(&sim);
    request.username = Some(huge);
    let connection = connect(&flows, request, provided).await.unwrap();
    let name = &connection.linked_identity.unwrap().user_name;
    assert!(
        name.chars().count() <= 101,
        "{} characters kept",
        name.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_name_that_looks_like_a_query_is_identified_as_itself() {
    let sim = demo().await;
    let tricky = "a^ORactive=true";
    let created = sim
        .state()
        .create_user(UserSpec::new(tricky, "Tricky-1!"))
        .unwrap();
    let (_dir, _store, flows) = flows(Arc::new(MemoryStore::default()));
    let (request, provided) = basic(&sim, tricky, "Tricky-1!");
    let connection = connect(&flows, request, provided).await.unwrap();
    let identity = connection.linked_identity.unwrap();
    assert_eq!(identity.sys_id.as_str(), created.sys_id);
    assert_eq!(identity.user_name, tricky);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_basic_connection_whose_password_is_gone_says_password_missing() {
    let sim = demo().await;
    let (admin, password) = sim.admin();
    let secrets = Arc::new(MemoryStore::default());
    let (_dir, _store, flows) = flows(secrets.clone());
    let (request, provided) = basic(&sim, &admin, &password);
    let connection = connect(&flows, request, provided).await.unwrap();
    secrets
        .delete(&connection.id, SecretKind::Password)
        .await
        .unwrap();
    let checked = flows.check(&connection).await.unwrap();
    assert_eq!(checked.status.state, ConnectionState::Disconnected);
    let reason = checked.status.reason.unwrap();
    assert!(reason.contains("The password"), "{reason}");
    assert!(reason.contains("not in the OS keyring"), "{reason}");
    assert!(!reason.contains("expired"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_client_credentials_grant_does_not_blame_a_password() {
    let sim = demo().await;
    let (_dir, _store, flows) = flows(Arc::new(MemoryStore::default()));
    let request = ConnectRequest {
        name: "pipeline".into(),
        instance: InstanceUrl::parse(sim.url()).unwrap(),
        grant: GrantKind::ClientCredentials,
        client_id: Some(DEMO_CLIENT_ID.into()),
        username: None,
        profile_id: "custom".into(),
    };
    let provided = ProvidedSecrets {
        client_secret: Some(ClientSecret::new("wrong")),
        ..ProvidedSecrets::default()
    };
    let err = connect(&flows, request, provided).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::SignInFailed);
    let told = format!("{err} {}", err.hint());
    assert!(!told.contains("password"), "{told}");
    assert!(!told.contains("user name"), "{told}");
    assert!(told.contains("OAuth Application User"), "{told}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_input_is_named_before_anything_happens() {
    let sim = demo().await;
    let (_dir, _store, flows) = flows(Arc::new(MemoryStore::default()));
    let (request, mut provided) = password_grant(&sim);
    provided.client_secret = None;
    let err = connect(&flows, request, provided).await.unwrap_err();
    let view = err.view();
    assert_eq!(view.code, ErrorCode::InvalidInput);
    assert_eq!(view.field, Some(InputField::ClientSecret));
    assert_eq!(live_tokens(&sim), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn register_saves_a_connection_to_link_later_and_it_is_not_a_problem() {
    let sim = demo().await;
    let secrets = Arc::new(MemoryStore::default());
    let (_dir, _store, flows) = flows(secrets.clone());
    let request = ConnectRequest {
        name: "your account".into(),
        instance: InstanceUrl::parse(sim.url()).unwrap(),
        grant: GrantKind::AuthCode,
        client_id: Some(DEMO_CLIENT_ID.into()),
        username: None,
        profile_id: "custom".into(),
    };
    let provided = ProvidedSecrets {
        client_secret: Some(ClientSecret::new(DEMO_CLIENT_SECRET)),
        ..ProvidedSecrets::default()
    };
    let connection = flows.register(request, provided).await.unwrap();
    assert_eq!(connection.status.state, ConnectionState::NotLinked);
    assert_eq!(
        secrets.kinds(&connection.id),
        vec![SecretKind::ClientSecret]
    );
    let checked = flows.check(&connection).await.unwrap();
    let view = snowlink_core::views::ConnectionView::of(&checked);
    assert!(!view.problem);
    assert_eq!(view.badge.label, "Not linked");
}

/// The flows are `Send`: a Tauri command (or any multi-threaded runtime task) can run them.
#[test]
fn the_flows_can_run_on_any_thread() {
    fn spawnable<F: std::future::Future + Send>(_: &F) {}
    let (_dir, _store, flows) = flows(Arc::new(MemoryStore::default()));
    let browser = no_browser();
    let instance = InstanceUrl::parse("acme").unwrap();
    let request = ConnectRequest {
        name: "x".into(),
        instance,
        grant: GrantKind::Basic,
        client_id: None,
        username: Some("u".into()),
        profile_id: "custom".into(),
    };
    spawnable(&flows.connect(
        request.clone(),
        ProvidedSecrets::default(),
        &browser,
        std::future::pending(),
    ));
    spawnable(&flows.link(None, &browser, std::future::pending()));
    spawnable(&flows.unlink(None));
    spawnable(&flows.remove("x"));
    spawnable(&flows.register(request, ProvidedSecrets::default()));
}

/// An edit of `id` that must be refused, with no new secret.
async fn refused_edit(flows: &Flows, id: &str, changes: Changes) -> FlowError {
    flows
        .edit(id, changes, ProvidedSecrets::default(), &|_| {})
        .await
        .unwrap_err()
}

/// An edit's progress, as (step, status) pairs.
#[derive(Default)]
struct Heard(std::sync::Mutex<Vec<(TestStep, TestStatus, Option<String>)>>);

impl Heard {
    fn hear(&self, event: TestEvent) {
        self.0
            .lock()
            .unwrap()
            .push((event.step, event.status, event.detail));
    }

    fn steps(&self) -> Vec<(TestStep, TestStatus)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(s, t, _)| (*s, *t))
            .collect()
    }
}

fn new_secret(secret: &str) -> ProvidedSecrets {
    ProvidedSecrets {
        client_secret: Some(ClientSecret::new(secret)),
        ..ProvidedSecrets::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_client_secret_is_tried_before_it_replaces_the_stored_one() {
    use TestStatus::*;
    use TestStep::*;
    let sim = demo().await;
    let secrets = Arc::new(MemoryStore::default());
    let (_dir, store, flows) = flows(secrets.clone());
    let (request, provided) = password_grant(&sim);
    let connection = connect(&flows, request, provided).await.unwrap();
    let demo_app = format!("client_id={DEMO_CLIENT_ID}");
    snowlink_e2e::rotate_client_secret(&sim, &demo_app, "rotated-secret-2");
    let before = (store.load().unwrap(), secrets.values());

    // A mistyped new secret: the sign-in step fails and nothing is kept.
    let heard = Heard::default();
    let err = flows
        .edit(
            connection.id.as_str(),
            Changes::default(),
            new_secret("mistyped"),
            &|event| heard.hear(event),
        )
        .await
        .unwrap_err();
    assert_eq!(err.view().code, ErrorCode::SignInFailed, "{err}");
    assert_eq!(
        heard.steps(),
        vec![
            (Keyring, Running),
            (Keyring, Done),
            (SignIn, Running),
            (SignIn, Failed)
        ]
    );
    assert_eq!((store.load().unwrap(), secrets.values()), before);

    // The right one: signed in, identified, kept, counted.
    let heard = Heard::default();
    let edited = flows
        .edit(
            connection.id.as_str(),
            Changes::default(),
            new_secret("rotated-secret-2"),
            &|event| heard.hear(event),
        )
        .await
        .unwrap();
    assert_eq!(edited.status.state, ConnectionState::Connected);
    let steps = heard.steps();
    assert_eq!(steps.len(), 10, "{steps:?}");
    for step in TestStep::ALL {
        assert!(steps.contains(&(step, Done)), "{step:?}: {steps:?}");
    }
    let said = heard.0.lock().unwrap().clone();
    assert!(said.contains(&(Identify, Done, Some("Signed in as svc.snowlink".into()))));
    let kept = secrets.load::<ClientSecret>(&connection.id).await.unwrap();
    assert_eq!(kept.unwrap().expose(), "rotated-secret-2");
    assert!(edited.status.linked.is_some());
    assert_eq!(store.load().unwrap(), vec![edited.clone()]);

    // The check afterwards renews with the new secret.
    let mut due = edited.clone();
    due.status.token_expires_at = None;
    let checked = flows.check(&due).await.unwrap();
    assert_eq!(
        checked.status.state,
        ConnectionState::Connected,
        "{:?}",
        checked.status
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_that_cannot_sign_in_changes_nothing_and_names_the_field() {
    let sim = demo().await;
    let (admin, password) = sim.admin();
    let secrets = Arc::new(MemoryStore::default());
    let (_dir, store, flows) = flows(secrets.clone());
    let (request, provided) = basic(&sim, &admin, &password);
    let first = connect(&flows, request, provided).await.unwrap();
    let (request, provided) = password_grant(&sim);
    connect(&flows, request, provided).await.unwrap();
    let before = (store.load().unwrap(), secrets.values());

    let renamed_to_taken = Changes {
        name: Some(" svc ".into()),
        ..Changes::default()
    };
    let err = refused_edit(&flows, first.id.as_str(), renamed_to_taken).await;
    let view = err.view();
    assert_eq!(view.field, Some(InputField::ConnectionName), "{view:?}");
    assert!(
        view.message.contains("already called \"svc\""),
        "{}",
        view.message
    );

    let other_user = Changes {
        name: Some("renamed".into()),
        username: Some("abel.tuter".into()),
        ..Changes::default()
    };
    let err = refused_edit(&flows, first.id.as_str(), other_user).await;
    assert!(
        err.to_string().contains("did not accept the credentials"),
        "{err}"
    );
    assert_eq!((store.load().unwrap(), secrets.values()), before);

    let emptied = Changes {
        username: Some("  ".into()),
        ..Changes::default()
    };
    let err = refused_edit(&flows, first.id.as_str(), emptied).await;
    assert_eq!(err.view().field, Some(InputField::Username), "{err}");
    assert_eq!((store.load().unwrap(), secrets.values()), before);

    // A rename alone keeps the id, the secrets and the other connection.
    let renamed = flows
        .edit(
            first.id.as_str(),
            Changes {
                name: Some("Admin (basic)".into()),
                ..Changes::default()
            },
            ProvidedSecrets::default(),
            &|_| {},
        )
        .await
        .unwrap();
    assert_eq!(renamed.id, first.id);
    let names: Vec<String> = store
        .load()
        .unwrap()
        .into_iter()
        .map(|c| c.display_name)
        .collect();
    assert_eq!(names, vec!["Admin (basic)".to_owned(), "svc".to_owned()]);
    assert_eq!(secrets.kinds(&first.id), vec![SecretKind::Password]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_edit_form_shows_saved_values_and_which_secrets_are_kept_but_never_a_secret() {
    let sim = demo().await;
    let secrets = Arc::new(MemoryStore::default());
    let (_dir, _store, flows) = flows(secrets.clone());
    let (request, provided) = password_grant(&sim);
    let connection = connect(&flows, request, provided).await.unwrap();
    secrets
        .delete(&connection.id, SecretKind::Password)
        .await
        .unwrap();
    let form = flows.edit_form(connection.id.as_str()).await.unwrap();
    let fields: Vec<(InputField, &str, bool)> = form
        .fields
        .iter()
        .map(|f| (f.field, f.value.as_str(), f.stored))
        .collect();
    assert_eq!(
        fields,
        vec![
            (InputField::ConnectionName, "svc", false),
            (InputField::ClientId, DEMO_CLIENT_ID, false),
            (InputField::ClientSecret, "", true),
            (InputField::Username, "svc.snowlink", false),
            (InputField::Password, "", false),
        ]
    );
    assert_eq!(form.fields[1].label, "Client ID");
    assert!(form.fields[4].placeholder.contains("Not in the keyring"));
    assert_eq!(form.steps.len(), TestStep::ALL.len());
    let json = serde_json::to_string(&form).unwrap();
    assert!(!json.contains(DEMO_CLIENT_SECRET), "{json}");
}

//! The setup wizard end to end against the simulator: every built-in integration profile is
//! taken to a connected, checked connection twice — once as an admin who does each step by
//! hand on the instance (the records an admin's clicks leave, and the instance's own pages for
//! what only a browser can do: elevating to create ACLs, uploading an update set) and once with
//! "Do it for me" wherever it is offered, the admin uploading in the browser what Snowlink asks
//! for — and each way a step is commonly got wrong is caught by that step's verification.

use std::sync::Arc;

use serde_json::json;
use snowlink_core::checks::{AdminCredentials, RunOptions};
use snowlink_core::connections::{ConnectionState, ConnectionStore, FILE_NAME};
use snowlink_core::errors::InputField;
use snowlink_core::flows::{BrowserSignIn, Flows};
use snowlink_core::grants::GrantKind;
use snowlink_core::profiles::{Catalog, Profile, StepKind};
use snowlink_core::secrets::{MemoryStore, SecretStore, SecretStoreExt};
use snowlink_core::wizard::run::{Setup, SetupError};
use snowlink_core::wizard::{
    AutomateError, PersonEvent, PlannedAction, SetupStore, StepStatus, WizardAction, WizardView,
};
use snowlink_e2e::no_browser;
use snowlink_sim::testing::{Browser, location};
use snowlink_sim::{Fault, OAuthAppSpec, RunningSim, Seed, Sim, UserSpec};

fn profile(id: &str) -> Profile {
    Catalog::load(None)
        .get(id)
        .unwrap_or_else(|err| panic!("{err}"))
        .clone()
}

/// A password the hand-made service accounts get.
const SERVICE_PASSWORD: &str = "Svc-Pa55word!";

struct Bench {
    sim: RunningSim,
    _dir: tempfile::TempDir,
    store: ConnectionStore,
    secrets: Arc<MemoryStore>,
    setup: Setup,
    browser: BrowserSignIn,
}

async fn bench(profile_id: &str, browser: BrowserSignIn) -> Bench {
    let sim = Sim::builder().seed(Seed::Demo).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = ConnectionStore::at(dir.path().join(FILE_NAME));
    let secrets = Arc::new(MemoryStore::default());
    let shared: Arc<dyn SecretStore> = secrets.clone();
    let flows = Flows::new(store.clone(), shared.clone());
    let mut setup = Setup::start(
        profile(profile_id),
        sim.url(),
        SetupStore::beside(store.path()),
        flows,
        shared,
    )
    .unwrap();
    let (username, password) = sim.admin();
    setup.set_admin(AdminCredentials::given(&username, password));
    Bench {
        sim,
        _dir: dir,
        store,
        secrets,
        setup,
        browser,
    }
}

#[tokio::test]
async fn the_steps_are_checked_through_a_proxy_whose_ca_is_given() {
    // The instance behind a TLS-inspecting proxy: a certificate no system trusts.
    let sim = Sim::builder()
        .seed(Seed::Demo)
        .tls_ca("Corp Inspection CA")
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = ConnectionStore::at(dir.path().join(FILE_NAME));
    let secrets: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    let start = || {
        let mut setup = Setup::start(
            profile("incident-sync"),
            sim.url(),
            SetupStore::beside(store.path()),
            Flows::new(store.clone(), secrets.clone()),
            secrets.clone(),
        )
        .unwrap();
        let (username, password) = sim.admin();
        setup.set_admin(AdminCredentials::given(&username, password));
        setup
    };
    let mut untrusting = start();
    untrusting.verify(&no_browser(), None).await.unwrap();
    let refused = untrusting.view().steps[0].status;
    assert_eq!(
        refused,
        StepStatus::Failed,
        "the proxy's certificate is refused"
    );

    let mut trusting = start();
    trusting.set_options(RunOptions {
        ca_pem: Some(sim.certificate_pem().unwrap().as_bytes().to_vec()),
        ..RunOptions::default()
    });
    let view = trusting.verify(&no_browser(), None).await.unwrap();
    assert_eq!(
        view.steps[0].status,
        StepStatus::Verified,
        "{:?}",
        view.current.last
    );
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Way {
    ByHand,
    ForMe,
}

/// The user name typed on the service-user step.
fn service_user(view: &WizardView) -> String {
    view.current
        .inputs
        .iter()
        .find(|i| !i.secret)
        .and_then(|i| i.value.clone())
        .unwrap()
}

fn rec(fields: serde_json::Value) -> snowlink_sim::Record {
    fields
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

/// What an admin does on the instance for the current step, by hand.
async fn by_hand(b: &mut Bench) {
    let view = b.setup.view();
    let step = b.setup.profile.step(&view.current.id).unwrap().clone();
    let state = b.sim.state();
    let grant = b.setup.profile.grant;
    match step.kind {
        StepKind::OauthApp => {
            // The form filled in with the values the step shows, as the vendor's page says.
            let value = |label: &str| {
                view.current
                    .values
                    .iter()
                    .find(|v| v.label == label)
                    .map(|v| v.value.clone())
            };
            let redirect_urls = match value("Redirect URL") {
                Some(urls) => urls.split(',').map(str::to_owned).collect(),
                None if grant == GrantKind::AuthCode => snowlink_core::oauth::callback_urls(),
                None => Vec::new(),
            };
            let app = state
                .create_oauth_app(OAuthAppSpec {
                    name: value("Name").unwrap_or_else(|| view.connection_name.clone()),
                    redirect_urls,
                    ..OAuthAppSpec::default()
                })
                .unwrap();
            if let Some(scope) = value("Auth scope") {
                state
                    .insert(
                        "oauth_entity_auth_scope_mapping",
                        rec(json!({"oauth_entity": app.sys_id, "auth_scope": scope})),
                    )
                    .unwrap();
            }
            let id = |field: InputField| {
                step.inputs
                    .iter()
                    .find(|i| i.field == Some(field))
                    .unwrap()
                    .id
                    .clone()
            };
            b.setup
                .event(PersonEvent::SetInput {
                    id: id(InputField::ClientId),
                    value: app.client_id,
                })
                .unwrap();
            b.setup
                .give_secret(&id(InputField::ClientSecret), app.client_secret)
                .await
                .unwrap();
        }
        StepKind::ServiceUser => {
            let user = service_user(&view);
            let mut spec = UserSpec::new(&user, SERVICE_PASSWORD);
            // An account that signs in in the browser stays a Human one (Machine implies web
            // services only).
            if grant != GrantKind::AuthCode {
                spec.web_service_access_only = true;
                spec.identity_type = Some("Machine".into());
            }
            state.create_user(spec).unwrap();
            let password = step.inputs.iter().find(|i| i.secret).unwrap().id.clone();
            b.setup
                .give_secret(&password, SERVICE_PASSWORD.into())
                .await
                .unwrap();
        }
        StepKind::Roles => {
            let user = service_account_name(&b.setup).unwrap();
            for role in &step.verify.roles {
                state.grant_role(&user, role).unwrap();
            }
        }
        StepKind::Acls => {
            // As the step says: elevate, then one Access Control form per ACL.
            let admin = admin_browser(&b.sim).await;
            admin.elevate().await;
            let role = step.acl_role.clone().unwrap();
            for table in &step.verify.tables {
                for operation in &table.operations {
                    let created = admin
                        .submit(
                            "/sys_security_acl.do?sys_id=-1",
                            "sys_security_acl",
                            &[
                                ("name", &table.table),
                                ("operation", operation),
                                ("roles", &role),
                            ],
                        )
                        .await;
                    assert_eq!(created.status(), 302, "ACL {} {operation}", table.table);
                }
            }
        }
        StepKind::UpdateSet => {
            let xml = vendors_update_set(b).await;
            let admin = admin_browser(&b.sim).await;
            let set_page = upload_in_browser(&admin, &xml).await;
            for button in ["preview", "commit"] {
                let pressed = admin.submit(&set_page, button, &[]).await;
                assert_eq!(pressed.status(), 302, "{button}");
            }
        }
        StepKind::Info
        | StepKind::Instance
        | StepKind::Prerequisites
        | StepKind::Connect
        | StepKind::AdminAccess => {}
    }
}

/// The update set the vendor's page has the admin import: for a set the vendor gives (Atlan
/// Update Set.xml), one named as theirs holding the records their page lists; otherwise the
/// one Snowlink writes.
async fn vendors_update_set(b: &Bench) -> String {
    let xml = b.setup.update_set_xml().await.unwrap();
    match &b.setup.profile.update_set {
        Some(spec) if spec.vendor_supplied => xml.replace(&spec.generated_name(), &spec.name),
        _ => xml,
    }
}

fn service_account_name(setup: &Setup) -> Option<String> {
    let step = setup
        .profile
        .steps
        .iter()
        .find(|s| s.kind == StepKind::ServiceUser)?;
    let input = step.inputs.iter().find(|i| !i.secret)?;
    setup.state().inputs.get(&input.id).cloned()
}

/// The admin, signed in to the instance's own pages in a browser.
async fn admin_browser(sim: &RunningSim) -> Browser {
    let (user, password) = sim.admin();
    Browser::login(sim.url(), &user, &password).await
}

/// Imports an update set's XML as "Import Update Set from XML" does; the loaded set's page.
async fn upload_in_browser(admin: &Browser, xml: &str) -> String {
    let uploaded = admin.upload_update_set(xml).await;
    assert_eq!(uploaded.status(), 302, "upload");
    location(&uploaded)
}

/// The sys_id of the set a set page shows.
fn set_id_of(page: &str) -> String {
    page.split("sys_id=").nth(1).unwrap().to_owned()
}

/// "Do it for me" on the current step; where Snowlink asks for the update set to be uploaded
/// in the browser first, the admin does, and presses it again.
async fn do_it_with_uploads(b: &mut Bench) -> WizardView {
    let current = b.setup.view().current.id.clone();
    match b.setup.do_it(&b.browser, None).await {
        Ok((_, view)) => view,
        Err(SetupError::Automate(AutomateError::UploadFirst { .. })) => {
            let xml = b.setup.update_set_xml().await.unwrap();
            upload_in_browser(&admin_browser(&b.sim).await, &xml).await;
            let (_, view) = b.setup.do_it(&b.browser, None).await.unwrap_or_else(|err| {
                panic!(
                    "do it {current} after the upload: {err} {}",
                    err.view().hint
                )
            });
            view
        }
        Err(err) => panic!("do it {current}: {err} {}", err.view().hint),
    }
}

/// Goes through every step the way `way` says until the setup is done; returns the last view.
async fn walk(b: &mut Bench, way: Way) -> WizardView {
    let mut actions = 0;
    for _ in 0..40 {
        let view = b.setup.view();
        if view.done == view.total {
            assert!(view.finished.is_some(), "every step done but no connection");
            return view;
        }
        let current = view.current.clone();
        assert_ne!(current.status, StepStatus::Locked, "{current:?}");
        actions += 1;
        let after = if current.kind == StepKind::Info {
            b.setup.event(PersonEvent::Acknowledge).unwrap()
        } else if way == Way::ForMe && current.actions.contains(&WizardAction::DoItForMe) {
            let plan = b
                .setup
                .plan()
                .await
                .unwrap_or_else(|err| panic!("plan {}: {err}", current.id));
            assert!(
                plan.changes.iter().any(|c| c.action != PlannedAction::Keep),
                "{}: nothing planned on a fresh instance",
                current.id
            );
            do_it_with_uploads(b).await
        } else {
            by_hand(b).await;
            b.setup
                .verify(&b.browser, None)
                .await
                .unwrap_or_else(|err| panic!("verify {}: {err} {}", current.id, err.view().hint))
        };
        let record = after.steps.iter().find(|s| s.id == current.id).unwrap();
        let last = b
            .setup
            .state()
            .steps
            .get(&current.id)
            .and_then(|r| r.last.clone());
        assert_eq!(
            record.status,
            StepStatus::Verified,
            "{} ({way:?}): {:?}",
            current.id,
            last.map(|l| (
                l.message,
                l.checks
                    .iter()
                    .map(|c| c.summary.clone())
                    .collect::<Vec<_>>()
            ))
        );
    }
    panic!("the setup did not finish within 40 actions ({actions} taken)");
}

async fn to_connected(profile_id: &str, way: Way) -> Bench {
    to_connected_with(profile_id, way, no_browser()).await
}

async fn to_connected_with(profile_id: &str, way: Way, browser: BrowserSignIn) -> Bench {
    finish(bench(profile_id, browser).await, profile_id, way).await
}

/// Takes a bench's setup to a saved, connected connection.
async fn finish(mut b: Bench, profile_id: &str, way: Way) -> Bench {
    if b.setup.profile.input("atlan_instance_name").is_some() {
        b.setup
            .event(PersonEvent::SetInput {
                id: "atlan_instance_name".into(),
                value: "acme.atlan.com".into(),
            })
            .unwrap();
    }
    if b.setup.profile.input("webhook_url").is_some() {
        let url = snowlink_e2e::receiver::webhook_receiver().await;
        b.setup
            .event(PersonEvent::SetInput {
                id: "webhook_url".into(),
                value: url,
            })
            .unwrap();
    }
    if way == Way::ForMe {
        // The admin types the service account's password rather than have one generated, so
        // that the (scripted) person at the browser knows it.
        let user_step = b
            .setup
            .profile
            .steps
            .iter()
            .find(|s| s.kind == StepKind::ServiceUser);
        if let Some(input) = user_step.and_then(|s| s.inputs.iter().find(|i| i.secret)) {
            let id = input.id.clone();
            b.setup
                .give_secret(&id, SERVICE_PASSWORD.into())
                .await
                .unwrap();
        }
    }
    let view = walk(&mut b, way).await;
    let id = view.finished.unwrap();
    let saved = b.store.load().unwrap();
    let connection = saved.iter().find(|c| c.id == id).unwrap();
    assert_eq!(
        connection.status.state,
        ConnectionState::Connected,
        "{connection:?}"
    );
    assert_eq!(connection.profile_id, profile_id);
    assert!(
        connection.status.linked.is_some(),
        "no linked-record count: {connection:?}"
    );
    // The draft's secrets became the connection's; none are left under the draft.
    assert!(b.secrets.kinds(&b.setup.state().draft).is_empty());
    assert!(!b.secrets.kinds(&id).is_empty());
    b
}

#[tokio::test(flavor = "multi_thread")]
async fn incident_sync_by_hand_ends_connected_with_its_incidents_counted() {
    let b = to_connected("incident-sync", Way::ByHand).await;
    let connection = &b.store.load().unwrap()[0];
    let linked = connection.status.linked.as_ref().unwrap();
    assert_eq!(linked.table, "incident");
    let expected = b.sim.state().count("incident", "correlation_idISNOTEMPTY");
    assert_eq!(linked.total as usize, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn incident_sync_done_for_the_admin_ends_connected_and_a_second_plan_changes_nothing() {
    let mut b = to_connected("incident-sync", Way::ForMe).await;
    for step in ["oauth-app", "service-user", "roles", "acls"] {
        b.setup
            .event(PersonEvent::Goto { step: step.into() })
            .unwrap();
        let plan = b.setup.plan().await.unwrap();
        assert!(plan.is_empty(), "{step}: {plan:?}");
    }
    // The generated password never reached the saved setup.
    let saved = std::fs::read_dir(b.store.path().parent().unwrap().join("setups")).unwrap();
    for file in saved {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        assert!(!text.contains("password\":\""), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pipeline_approvals_by_hand_and_for_the_admin() {
    to_connected("pipeline-approvals", Way::ByHand).await;
    to_connected("pipeline-approvals", Way::ForMe).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn security_audit_by_hand_and_for_the_admin_counts_sixty_days_of_audit() {
    for way in [Way::ByHand, Way::ForMe] {
        let b = to_connected("security-audit", way).await;
        let connection = &b.store.load().unwrap()[0];
        let linked = connection.status.linked.as_ref().unwrap();
        assert_eq!(linked.table, "sys_audit");
        assert!(linked.total > 0, "{linked:?}");
    }
}

/// The current step's verification message, after doing `step` by hand with `spoil` applied.
async fn verify_message(b: &mut Bench) -> String {
    let outcome = b.setup.verify(&b.browser, None).await.map(|_| ());
    let view = b.setup.view();
    assert_eq!(
        view.current.status,
        StepStatus::Failed,
        "{} {:?} {outcome:?} {:?}",
        view.current.id,
        view.current.last,
        b.setup.state()
    );
    view.current.last.unwrap().message
}

/// Walks by hand up to (not including) `step`.
async fn up_to(b: &mut Bench, step: &str) {
    for _ in 0..20 {
        let view = b.setup.view();
        if view.current.id == step {
            return;
        }
        if view.current.kind == StepKind::Info {
            b.setup.event(PersonEvent::Acknowledge).unwrap();
            continue;
        }
        by_hand(b).await;
        let view = b.setup.verify(&b.browser, None).await.unwrap();
        assert!(
            view.steps.iter().any(|s| s.status == StepStatus::Verified),
            "{view:?}"
        );
    }
    panic!("never reached {step}");
}

/// Walks up to the service-user step, makes the account by hand, then sets `fields` on it as
/// someone on the instance might; its user name and record as they were before the change.
async fn service_user_with(
    b: &mut Bench,
    fields: serde_json::Value,
) -> (String, snowlink_sim::Record) {
    up_to(b, "service-user").await;
    by_hand(b).await;
    let user = service_account_name(&b.setup).unwrap();
    let state = b.sim.state();
    let record = state.query("sys_user", &format!("user_name={user}"))[0].clone();
    state
        .update("sys_user", &record["sys_id"], rec(fields))
        .unwrap();
    (user, record)
}

#[tokio::test(flavor = "multi_thread")]
async fn each_mistake_is_caught_by_its_own_step_and_named() {
    let mut b = bench("incident-sync", no_browser()).await;
    // A locked-out account.
    let (user, record) = service_user_with(&mut b, json!({"locked_out": "true"})).await;
    let state = b.sim.state();
    let message = verify_message(&mut b).await;
    assert!(message.contains("locked_out = true"), "{message}");
    state
        .update(
            "sys_user",
            &record["sys_id"],
            rec(json!({"locked_out": "false"})),
        )
        .unwrap();
    b.setup.verify(&b.browser, None).await.unwrap();
    assert_eq!(b.setup.view().current.id, "roles");

    // A role forgotten.
    for role in ["x_incident_io.api_user", "cmdb_read", "sn_cmdb_user"] {
        state.grant_role(&user, role).unwrap();
    }
    let message = verify_message(&mut b).await;
    assert!(message.contains("incident_manager"), "{message}");
    state.grant_role(&user, "incident_manager").unwrap();
    b.setup.verify(&b.browser, None).await.unwrap();
    assert_eq!(b.setup.view().current.id, "acls");

    // No ACL made, on an instance whose out-of-box task ACLs were tightened (so the roles
    // alone give no write access).
    for acl in state.query("sys_security_acl", "name=task^operation=write^active=true") {
        state
            .update(
                "sys_security_acl",
                &acl["sys_id"],
                rec(json!({"active": "false"})),
            )
            .unwrap();
    }
    let message = verify_message(&mut b).await;
    assert!(message.contains("task"), "{message}");
    by_hand(&mut b).await;
    b.setup.verify(&b.browser, None).await.unwrap();

    // A wrong client secret pasted.
    b.setup
        .event(PersonEvent::Goto {
            step: "oauth-app".into(),
        })
        .unwrap();
    by_hand(&mut b).await;
    b.setup
        .give_secret("client_secret", "not-the-secret".into())
        .await
        .unwrap();
    b.setup.verify(&b.browser, None).await.unwrap();
    b.setup
        .event(PersonEvent::Goto {
            step: "connect".into(),
        })
        .unwrap();
    let message = verify_message(&mut b).await;
    assert!(
        message.to_lowercase().contains("client secret"),
        "{message}"
    );
    assert!(b.setup.view().finished.is_none());
    assert!(
        b.store.load().unwrap_or_default().is_empty(),
        "a failed connect saved a connection"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hibernating_instance_fails_the_instance_step_with_the_way_to_wake_it() {
    let mut b = bench("incident-sync", no_browser()).await;
    up_to(&mut b, "instance").await;
    b.sim.set_fault(Fault::Hibernate);
    let message = verify_message(&mut b).await;
    assert!(message.to_lowercase().contains("hibernat"), "{message}");
    b.sim.clear_faults();
    b.setup.verify(&b.browser, None).await.unwrap();
    assert_eq!(b.setup.view().current.id, "store-app");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_set_loaded_but_not_committed_and_a_missing_redirect_url_are_named() {
    let mut b = bench("data-access-governance", no_browser()).await;
    up_to(&mut b, "oauth-app").await;
    b.setup
        .event(PersonEvent::SetInput {
            id: "atlan_instance_name".into(),
            value: "acme.atlan.com".into(),
        })
        .unwrap();
    // The application registered with Atlan's redirect URL only, none of Snowlink's.
    let app = b
        .sim
        .state()
        .create_oauth_app(OAuthAppSpec {
            name: "Atlan OAuth App".into(),
            redirect_urls: vec!["https://acme.atlan.com/oauth-callback".into()],
            ..OAuthAppSpec::default()
        })
        .unwrap();
    b.setup
        .event(PersonEvent::SetInput {
            id: "client_id".into(),
            value: app.client_id,
        })
        .unwrap();
    b.setup
        .give_secret("client_secret", app.client_secret)
        .await
        .unwrap();
    let message = verify_message(&mut b).await;
    assert!(message.contains("callback URLs"), "{message}");
    // Fixed for the admin: the plan updates the record, not a second application.
    let plan = b.setup.plan().await.unwrap();
    let registry = plan.changes.iter().find(|c| c.table == "oauth_entity");
    assert_eq!(
        registry.map(|c| c.action),
        Some(PlannedAction::Update),
        "{plan:?}"
    );
    b.setup.do_it(&b.browser, None).await.unwrap();
    // Atlan's URL stays first, where a mismatched request falls back to.
    let registered =
        &b.sim.state().query("oauth_entity", "name=Atlan OAuth App")[0]["redirect_url"];
    assert!(
        registered.starts_with("https://acme.atlan.com/oauth-callback,http://127.0.0.1:"),
        "{registered}"
    );
    assert_eq!(b.setup.view().current.id, "atlan-connect");
    b.setup.event(PersonEvent::Acknowledge).unwrap();
    assert_eq!(b.setup.view().current.id, "update-set");
    // Its change went into Snowlink's own update set, which it made the admin's current one.
    let set = plan.changes.iter().find(|c| c.table == "sys_update_set");
    assert_eq!(
        set.map(|c| c.action),
        Some(PlannedAction::Create),
        "{plan:?}"
    );
    let state = b.sim.state();
    let set = &state.query("sys_update_set", "name=Snowlink: Data access governance")[0];
    let current = format!("name=sys_update_set^value={}", set["sys_id"]);
    assert_eq!(state.count("sys_user_preference", &current), 1);
    let landed = format!("update_set={}^table=oauth_entity", set["sys_id"]);
    assert_eq!(state.count("sys_update_xml", &landed), 1);

    // The stand-in cannot be made without the address its business rule posts to: the input
    // is named, not a placeholder.
    let unfilled = b.setup.plan().await.unwrap_err().view();
    assert!(
        unfilled
            .message
            .contains("\"Stand-in's business rule URL\", which is not typed yet")
            && !unfilled.message.contains('‹'),
        "{unfilled:?}"
    );
    // Snowlink's stand-in for Atlan's set imported, not committed.
    b.setup
        .event(PersonEvent::SetInput {
            id: "webhook_url".into(),
            value: snowlink_e2e::receiver::webhook_receiver().await,
        })
        .unwrap();
    let xml = b.setup.update_set_xml().await.unwrap();
    upload_in_browser(&admin_browser(&b.sim).await, &xml).await;
    let message = verify_message(&mut b).await;
    assert!(
        message.contains("not committed") || message.contains("loaded"),
        "{message}"
    );
    // "Do it for me" previews and commits the loaded one rather than loading another.
    let plan = b.setup.plan().await.unwrap();
    assert_eq!(plan.changes[0].action, PlannedAction::Update, "{plan:?}");
    b.setup.do_it(&b.browser, None).await.unwrap();
    assert_eq!(
        b.sim.state().count(
            "sys_remote_update_set",
            "name=Atlan Update Set (Snowlink stand-in)"
        ),
        1
    );
    let view = b.setup.view();
    let done = view.steps.iter().find(|s| s.id == "update-set").unwrap();
    assert_eq!(done.status, StepStatus::Verified);
    let message = b.setup.state().steps["update-set"]
        .last
        .clone()
        .unwrap()
        .message;
    assert!(message.contains("stand-in"), "{message}");
    assert_eq!(view.current.id, "service-user");
}

/// Atlan's page followed: Atlan's role and Atlan's update set imported by hand (or Snowlink's
/// stand-in for it), and Atlan's Connect and test — the password grant as atlan.service with
/// the Atlan OAuth App.
#[tokio::test(flavor = "multi_thread")]
async fn data_access_governance_by_hand_and_for_the_admin_with_atlans_password_grant() {
    for way in [Way::ByHand, Way::ForMe] {
        let b = bench("data-access-governance", no_browser()).await;
        // Two requests already ordered from the item, one in another state.
        for state in ["requested", "requested", "approved"] {
            b.sim
                .state()
                .insert(
                    "sc_request",
                    rec(
                        json!({"short_description": "Request data access", "request_state": state}),
                    ),
                )
                .unwrap();
        }
        let b = finish(b, "data-access-governance", way).await;
        let connection = &b.store.load().unwrap()[0];
        assert_eq!(connection.grant, GrantKind::Password);
        assert_eq!(
            connection
                .linked_identity
                .as_ref()
                .map(|i| i.user_name.as_str()),
            Some("atlan.service")
        );
        let linked = connection.status.linked.as_ref().unwrap();
        assert_eq!(linked.table, "sc_request");
        assert_eq!(linked.total, 3, "{linked:?}");
        let requested = linked
            .by_state
            .iter()
            .find(|s| s.state == "requested")
            .unwrap();
        assert_eq!(requested.count, 2);
        // The update set's business rule called the webhook for it.
        assert!(!b.sim.state().outbound_log().is_empty());
        // By hand the admin imported Atlan's set; Snowlink's own is named a stand-in.
        let committed = b
            .sim
            .state()
            .query("sys_remote_update_set", "state=committed")
            .into_iter()
            .map(|s| s["name"].clone())
            .collect::<Vec<_>>();
        let expected = match way {
            Way::ByHand => "Atlan Update Set",
            Way::ForMe => "Atlan Update Set (Snowlink stand-in)",
        };
        assert!(committed.iter().any(|n| n == expected), "{committed:?}");
        // The role is Atlan's, granted, not created by Snowlink's roles step.
        let user = &b.sim.state().query("sys_user", "user_name=atlan.service")[0];
        let role = &b
            .sim
            .state()
            .query("sys_user_role", "name=atlan_service_account_role")[0];
        assert_eq!(
            b.sim.state().count(
                "sys_user_has_role",
                &format!("user={}^role={}", user["sys_id"], role["sys_id"])
            ),
            1
        );
    }
}

/// The update set Snowlink writes is the one the instance loads: imported, previewed with no
/// problem and committed, it creates exactly the records the profile names — names that hold
/// XML and script syntax included — and the same profile always gives the same file.
#[tokio::test(flavor = "multi_thread")]
async fn the_update_set_round_trips_through_import_preview_and_commit() {
    let sim = Sim::builder().seed(Seed::Demo).start().await.unwrap();
    let mut profile = profile("data-access-governance");
    let hostile = r#"Atlan </payload>]]><sys_user action="DELETE"/> & "rule" 'x'"#;
    let spec = profile.update_set.as_mut().unwrap();
    spec.business_rules[0].name = hostile.into();
    spec.description = format!("{hostile} <![CDATA[ nested ]]>");
    let mut context = snowlink_core::profiles::TemplateContext::default();
    context.values.insert("instance".into(), sim.url().into());
    context.inputs.insert(
        "webhook_url".into(),
        "https://hooks.example.com/in?a=1&b=2".into(),
    );
    let date = "2026-12-01 10:00:00";
    let xml = snowlink_core::updateset::generate(&profile, &context, date).unwrap();
    assert_eq!(
        xml,
        snowlink_core::updateset::generate(&profile, &context, date).unwrap(),
        "two runs differ"
    );

    let admin = admin_browser(&sim).await;
    let set_page = upload_in_browser(&admin, &xml).await;
    let set = set_id_of(&set_page);
    let state = sim.state();
    let loaded = state.get("sys_remote_update_set", &set).unwrap();
    assert_eq!(loaded["state"], "loaded");
    assert!(loaded["description"].starts_with(hostile), "{loaded:?}");
    assert_eq!(admin.submit(&set_page, "preview", &[]).await.status(), 302);
    assert_eq!(
        state.count(
            "sys_update_preview_problem",
            &format!("remote_update_set={set}")
        ),
        0
    );
    assert_eq!(admin.submit(&set_page, "commit", &[]).await.status(), 302);
    assert_eq!(
        state.get("sys_remote_update_set", &set).unwrap()["state"],
        "committed"
    );

    // Exactly what the profile names, and nothing deleted.
    let spec = profile.update_set.as_ref().unwrap();
    let rule = state.query("sys_script", "collection=sc_request");
    assert!(rule.iter().any(|r| r["name"] == hostile), "{rule:?}");
    let script = &rule.iter().find(|r| r["name"] == hostile).unwrap()["script"];
    assert!(
        script.contains("https://hooks.example.com/in?a=1&b=2"),
        "{script}"
    );
    for role in &spec.roles {
        assert_eq!(
            state.count("sys_user_role", &format!("name={}", role.name)),
            1
        );
    }
    for acl in &spec.acls {
        let query = format!("name={}^operation={}", acl.name, acl.operation);
        assert!(state.count("sys_security_acl", &query) >= 1, "{query}");
    }
    assert!(state.count("sys_user", "") > 1, "a user was deleted");
    assert_eq!(
        state.count("sys_ws_definition", "service_id=oauth_userinfo"),
        1
    );
}

/// "Do the rest for me" from the OAuth application: one plan names the changes of every step it
/// covers, the ACL step's need for the admin's hand included, and changes nothing; applied, it
/// does the steps in order and stops on the ACL step, the reason recorded there.
#[tokio::test(flavor = "multi_thread")]
async fn doing_the_rest_plans_every_step_then_stops_where_the_admins_hand_is_needed() {
    let mut b = bench("incident-sync", no_browser()).await;
    up_to(&mut b, "oauth-app").await;
    assert!(
        b.setup
            .view()
            .current
            .actions
            .contains(&WizardAction::DoTheRest)
    );
    let plan = b.setup.plan_rest().await.unwrap();
    let tables: Vec<&str> = plan.changes.iter().map(|c| c.table.as_str()).collect();
    for table in [
        "oauth_entity",
        "sys_user",
        "sys_user_has_role",
        "sys_security_acl",
    ] {
        assert!(tables.contains(&table), "{table}: {plan:?}");
    }
    let hand = plan.hand.clone().unwrap_or_default();
    assert!(hand.contains("elevated in the browser"), "{plan:?}");
    assert_eq!(b.sim.state().count("oauth_entity", "name=incident.io"), 0);

    let stopped = b.setup.do_rest(&b.browser, None).await;
    assert!(
        matches!(
            stopped,
            Err(SetupError::Automate(AutomateError::UploadFirst { .. }))
        ),
        "{stopped:?}"
    );
    let view = b.setup.view();
    assert_eq!(view.current.id, "acls");
    assert_eq!(view.current.status, StepStatus::Failed);
    for done in ["oauth-app", "service-user", "roles"] {
        let step = view.steps.iter().find(|s| s.id == done).unwrap();
        assert_eq!(step.status, StepStatus::Verified, "{done}");
    }
    // On the ACL step there is nothing further to do in one go.
    assert!(!view.current.actions.contains(&WizardAction::DoTheRest));
}

/// "Undo what Snowlink did": after the OAuth application, the service user (an existing one,
/// changed) and its roles were done for the admin, the plan names each record; applying it
/// deletes what Snowlink created and puts back what it changed, read back to be sure, and the
/// steps that change the instance are to do again.
#[tokio::test(flavor = "multi_thread")]
async fn undo_deletes_what_snowlink_created_and_puts_back_what_it_changed() {
    let mut b = bench("incident-sync", no_browser()).await;
    let mut spec = UserSpec::new("incident.io", "Someone-else's-1");
    spec.web_service_access_only = false;
    b.sim.state().create_user(spec).unwrap();
    up_to(&mut b, "oauth-app").await;
    assert!(!b.setup.view().undoable);
    let _stopped_on_the_acls = b.setup.do_rest(&b.browser, None).await;
    assert!(b.setup.view().undoable);

    let plan = b.setup.plan_undo().await.unwrap();
    let says = |action: PlannedAction, what: &str| {
        plan.changes
            .iter()
            .any(|c| c.action == action && c.what.contains(what))
    };
    assert!(
        says(PlannedAction::Delete, "OAuth application incident.io"),
        "{plan:?}"
    );
    assert!(
        says(
            PlannedAction::Delete,
            "Role incident_manager for incident.io"
        ),
        "{plan:?}"
    );
    assert!(
        says(
            PlannedAction::Update,
            "User incident.io: web_service_access_only back to false"
        ),
        "{plan:?}"
    );
    assert!(!says(PlannedAction::Delete, "User incident.io"), "{plan:?}");
    // Planning changed nothing.
    assert_eq!(b.sim.state().count("oauth_entity", "name=incident.io"), 1);

    b.setup.undo().await.unwrap();
    let state = b.sim.state();
    assert_eq!(state.count("oauth_entity", "name=incident.io"), 0);
    let user = &state.query("sys_user", "user_name=incident.io")[0];
    assert_eq!(user["web_service_access_only"], "false");
    let granted = format!("user={}", user["sys_id"]);
    assert_eq!(state.count("sys_user_has_role", &granted), 0);
    let view = b.setup.view();
    assert_eq!(view.current.id, "oauth-app");
    assert!(!view.undoable);
    // Nothing left to take back: the plan changes nothing.
    assert!(b.setup.plan_undo().await.unwrap().is_empty());
}

/// A CI/CD operation the instance's queue holds up is shown as it goes (what Snowlink waits for,
/// in words) and the wait can be stopped; the step says so, and once the queue moves, "Do it
/// for me" picks up where the instance is.
#[tokio::test(flavor = "multi_thread")]
async fn a_busy_cicd_queue_is_shown_as_it_goes_and_the_wait_can_be_stopped() {
    let mut b = bench("incident-sync", no_browser()).await;
    up_to(&mut b, "acls").await;
    // The step's link opens the upload page, through the instance's nav_to.do.
    let upload = b.setup.view().current.links;
    let upload = upload
        .iter()
        .find(|l| l.label == "Import Update Set from XML")
        .expect("the upload page's link");
    let nav = upload.url.strip_prefix(b.sim.url()).unwrap().to_owned();
    let admin = admin_browser(&b.sim).await;
    let redirected = snowlink_sim::testing::client()
        .get(&upload.url)
        .send()
        .await
        .unwrap();
    let target = location(&redirected);
    assert!(target.starts_with("/upload.do?"), "{nav} -> {target}");
    let (status, page) = admin.page(&target).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Import Update Set from XML"), "{page}");
    let xml = b.setup.update_set_xml().await.unwrap();
    upload_in_browser(&admin, &xml).await;
    b.sim.set_fault(Fault::CicdBusy);
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (told, stopper) = (seen.clone(), stop.clone());
    b.setup.set_watch(snowlink_core::wizard::Watch {
        activity: Some(Arc::new(move |text: &str| {
            told.lock().unwrap().push(text.to_owned());
            if text.contains("Running") {
                stopper.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        })),
        stop: stop.clone(),
    });
    let stopped = b.setup.do_it(&b.browser, None).await;
    assert!(
        matches!(
            stopped,
            Err(SetupError::Automate(AutomateError::StoppedWaiting(_)))
        ),
        "{stopped:?}"
    );
    let told = seen.lock().unwrap().join("\n");
    assert!(
        told.contains("Waiting for the instance to preview the update set"),
        "{told}"
    );
    let view = b.setup.view();
    assert_eq!(view.current.id, "acls");
    let said = view.current.last.map(|l| l.message).unwrap_or_default();
    assert!(said.contains("stopped waiting"), "{said}");

    // Someone cancels the operation in the instance's queue (status 4): the admin is told to
    // commit it by hand, and nothing is called done.
    b.sim.clear_faults();
    b.sim.set_fault(Fault::CicdCanceled);
    b.setup.set_watch(snowlink_core::wizard::Watch::default());
    let canceled = b.setup.do_it(&b.browser, None).await.unwrap_err().view();
    assert!(
        canceled.message.contains("canceled") && canceled.hint.contains("by hand"),
        "{canceled:?}"
    );
    assert_eq!(b.setup.view().current.id, "acls");

    b.sim.clear_faults();
    b.setup.do_it(&b.browser, None).await.unwrap();
    assert_ne!(b.setup.view().current.id, "acls");
}

/// A real headless Chromium that signs in as `user` on the simulator's login page and allows
/// the access, through the loopback callback.
fn chromium_as(user: &str, password: &str) -> BrowserSignIn {
    let var = snowlink_e2e::browser::chromium_browser_var("allow", Some((user, password)));
    BrowserSignIn {
        ports: snowlink_core::oauth::CALLBACK_PORTS.to_vec(),
        browser: Some(Arc::new(
            snowlink_core::browser::SystemBrowser::with_browser_var(Some(var)),
        )),
        wait: std::time::Duration::from_secs(60),
        show_url: Arc::new(|_, _| {}),
        paste: None,
    }
}

/// What Atlan's "Link your ServiceNow account" has each user do — sign in and click Allow for
/// the Atlan OAuth App — works for an ordinary user: once the setup is done, someone with no
/// admin role links their own account through that same application (Snowlink's redirect URLs
/// registered after Atlan's), in a real browser.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs node, `npm ci --prefix tests/js` and Chromium: ./dev test runs it"]
async fn an_ordinary_user_gives_consent_through_the_atlan_oauth_app() {
    let b = to_connected("data-access-governance", Way::ByHand).await;
    let atlan = b.store.load().unwrap()[0].clone();
    let client_id = atlan.client_id.clone().unwrap();
    let secret = b
        .secrets
        .load::<snowlink_core::secrets::ClientSecret>(&atlan.id)
        .await
        .unwrap()
        .unwrap();
    let shared: Arc<dyn SecretStore> = b.secrets.clone();
    let flows = Flows::new(b.store.clone(), shared);
    let request = snowlink_core::flows::ConnectRequest {
        name: "beth on Atlan OAuth App".into(),
        instance: snowlink_core::instance::InstanceUrl::parse(b.sim.url()).unwrap(),
        grant: GrantKind::AuthCode,
        client_id: Some(client_id),
        username: None,
        profile_id: "custom".into(),
    };
    let provided = snowlink_core::flows::ProvidedSecrets {
        client_secret: Some(secret),
        ..Default::default()
    };
    flows.register(request, provided).await.unwrap();
    let linked = flows
        .link(
            Some("beth on Atlan OAuth App"),
            &chromium_as("beth.anglin", snowlink_sim::DEMO_PASSWORD),
            std::future::pending(),
        )
        .await
        .unwrap_or_else(|err| panic!("{err} {}", err.view().hint));
    assert_eq!(linked.status.state, ConnectionState::Connected);
    assert_eq!(
        linked.linked_identity.map(|i| i.user_name),
        Some("beth.anglin".to_owned())
    );
}

/// incident.io without its Store app: Snowlink never makes the app's role itself — "Do it for
/// me" on the roles step says to install the app or grant admin — and with admin granted, as the
/// page says, the roles step passes and the ACL step is done with nothing created.
#[tokio::test(flavor = "multi_thread")]
async fn incident_sync_without_the_store_app_takes_the_admin_path_and_creates_no_app_role() {
    let mut b = bench("incident-sync", no_browser()).await;
    let state = b.sim.state();
    for role in state.query("sys_user_role", "nameSTARTSWITHx_incident_io") {
        state.delete("sys_user_role", &role["sys_id"]).unwrap();
    }
    up_to(&mut b, "roles").await;
    let err = b.setup.plan().await.unwrap_err();
    assert!(err.to_string().contains("x_incident_io.api_user"), "{err}");
    assert!(err.view().hint.contains("store app"), "{}", err.view().hint);
    assert_eq!(
        state.count("sys_user_role", "nameSTARTSWITHx_incident_io"),
        0
    );

    // The page's other path: the admin role instead.
    let user = service_account_name(&b.setup).unwrap();
    state.grant_role(&user, "admin").unwrap();
    b.setup.verify(&b.browser, None).await.unwrap();
    assert_eq!(b.setup.view().current.id, "acls");
    let acls_before = state.count("sys_security_acl", "name=task");
    let plan = b.setup.plan().await.unwrap();
    assert!(plan.is_empty(), "{plan:?}");
    b.setup.verify(&b.browser, None).await.unwrap();
    let message = b.setup.state().steps["acls"].last.clone().unwrap().message;
    assert!(message.contains("has admin"), "{message}");
    assert_eq!(b.setup.view().current.id, "connect");
    assert_eq!(state.count("sys_security_acl", "name=task"), acls_before);
    assert_eq!(
        state.count("sys_user_role", "nameSTARTSWITHx_incident_io"),
        0
    );
}

/// The ACL step checks the ACLs the page asks for, not whether some stock ACL lets the user in:
/// with only the out-of-box task ACLs (which an itil user passes), it is not done.
#[tokio::test(flavor = "multi_thread")]
async fn the_acl_step_wants_the_pages_acls_not_any_acl_that_lets_the_user_in() {
    let mut b = bench("incident-sync", no_browser()).await;
    up_to(&mut b, "acls").await;
    let user = service_account_name(&b.setup).unwrap();
    // itil passes every stock task ACL.
    b.sim.state().grant_role(&user, "itil").unwrap();
    let message = verify_message(&mut b).await;
    assert!(
        message.contains("task / write requiring x_incident_io.api_user"),
        "{message}"
    );
    by_hand(&mut b).await;
    b.setup.verify(&b.browser, None).await.unwrap();
    assert_eq!(b.setup.view().current.id, "connect");
}

/// An account that exists with "password needs reset" ticked (item 31): "Do it for me" sets
/// the password with the flag and clears the tick in the same write, and the step's sign-in as
/// the user proves it.
#[tokio::test(flavor = "multi_thread")]
async fn do_it_for_me_clears_a_pending_password_reset_with_the_password() {
    let mut b = bench("incident-sync", no_browser()).await;
    let (_, record) = service_user_with(&mut b, json!({"password_needs_reset": "true"})).await;
    let state = b.sim.state();
    let message = verify_message(&mut b).await;
    assert!(message.contains("password_needs_reset"), "{message}");
    let plan = b.setup.plan().await.unwrap();
    assert!(
        plan.changes
            .iter()
            .any(|c| c.what.contains("password_needs_reset = false")),
        "{plan:?}"
    );
    b.setup.do_it(&b.browser, None).await.unwrap();
    assert_eq!(
        state.get("sys_user", &record["sys_id"]).unwrap()["password_needs_reset"],
        "false"
    );
    assert_eq!(b.setup.view().current.id, "roles", "verified by signing in");
}

//! Conformance: injected faults (hibernation, latency, rate limiting, untrusted TLS, dropped
//! connections, slow bodies), seeds, start-up time and saved state. The failure modes of
//! servicenow.md "More failure modes" have their own file, `failure_modes.rs`.

mod common;

use std::time::{Duration, Instant};

use common::{admin_get, client, json, start};
use snowlink_sim::{Fault, Record, Seed, Sim, StoreApp, UserSpec};

#[tokio::test]
async fn hibernating_instance_answers_200_text_html_on_every_path() {
    let sim = Sim::builder()
        .seed(Seed::Demo)
        .fault(Fault::Hibernate)
        .start()
        .await
        .unwrap();
    let http = client();
    let responses = vec![
        admin_get(&sim, "/api/now/table/incident")
            .send()
            .await
            .unwrap(),
        http.post(format!("{}/oauth_token.do", sim.url()))
            .form(&[("grant_type", "password")])
            .send()
            .await
            .unwrap(),
        http.get(format!("{}/no/such/page", sim.url()))
            .send()
            .await
            .unwrap(),
    ];
    for response in responses {
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("Your instance is hibernating")
        );
    }
}

#[tokio::test]
async fn faults_switch_on_and_off_at_run_time() {
    let sim = start(Seed::Demo).await;
    assert_eq!(
        admin_get(&sim, "/api/now/table/incident?sysparm_limit=1")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    sim.set_fault(Fault::Hibernate);
    let hibernating = admin_get(&sim, "/api/now/table/incident?sysparm_limit=1")
        .send()
        .await
        .unwrap();
    assert!(
        hibernating.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    sim.clear_faults();
    let awake = admin_get(&sim, "/api/now/table/incident?sysparm_limit=1")
        .send()
        .await
        .unwrap();
    assert!(
        awake.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

#[tokio::test]
async fn added_latency_delays_every_response() {
    let sim = Sim::builder()
        .fault(Fault::Latency(Duration::from_millis(300)))
        .start()
        .await
        .unwrap();
    let started = Instant::now();
    admin_get(&sim, "/api/now/table/sys_user")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn rate_limiting_answers_429_with_retry_after() {
    let sim = Sim::builder()
        .fault("ratelimit=2".parse().unwrap())
        .start()
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            admin_get(&sim, "/api/now/table/sys_user")
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let limited = admin_get(&sim, "/api/now/table/sys_user")
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(limited.headers()["x-ratelimit-limit"], "2");
    assert!(limited.headers().contains_key("x-ratelimit-reset"));
    assert!(limited.headers().contains_key("x-ratelimit-rule"));
    assert_eq!(
        json(limited).await["error"]["message"],
        "Rate limit exceeded"
    );
}

#[tokio::test]
async fn tls_uses_a_self_signed_certificate_clients_do_not_trust() {
    let sim = Sim::builder().tls(true).start().await.unwrap();
    assert!(sim.url().starts_with("https://"));
    let untrusted = client()
        .get(format!("{}/api/now/table/sys_user", sim.url()))
        .send()
        .await;
    assert!(
        untrusted.is_err(),
        "the certificate must not be trusted by default"
    );
    let certificate =
        reqwest::Certificate::from_pem(sim.certificate_pem().unwrap().as_bytes()).unwrap();
    let trusting = reqwest::Client::builder()
        .tls_certs_merge([certificate])
        .build()
        .unwrap();
    let (user, password) = sim.admin();
    let response = trusting
        .get(format!(
            "{}/api/now/table/sys_user?sysparm_limit=1",
            sim.url()
        ))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn dropped_connections_fail_before_any_response() {
    let sim = Sim::builder()
        .fault(Fault::DropConnections)
        .start()
        .await
        .unwrap();
    assert!(
        admin_get(&sim, "/api/now/table/sys_user")
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn slow_bodies_trickle_in_pieces() {
    let sim = Sim::builder()
        .fault(Fault::SlowBody(Duration::from_millis(40)))
        .start()
        .await
        .unwrap();
    let started = Instant::now();
    let response = admin_get(&sim, "/api/now/table/sys_user_role")
        .send()
        .await
        .unwrap();
    let body = response.text().await.unwrap();
    let chunks = body.len().div_ceil(64) as u32;
    assert!(chunks > 3);
    assert!(started.elapsed() >= Duration::from_millis(40) * chunks);
    assert!(
        serde_json::from_str::<serde_json::Value>(&body).is_ok(),
        "the body arrives whole"
    );
}

#[tokio::test]
async fn demo_seed_starts_well_under_a_second() {
    let started = Instant::now();
    let sim = Sim::builder().seed(Seed::Demo).start().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(if cfg!(debug_assertions) { 2000 } else { 500 })
    );
    let state = sim.state();
    assert!(state.count("incident", "") >= 100);
    assert!(state.count("incident", "correlation_idISNOTEMPTY") > 0);
    assert!(state.count("sc_catalog", "") >= 1);
    let admin = state.query("sys_user", "user_name=admin")[0]["sys_id"].clone();
    let roles = state.query(
        "sys_user_has_role",
        &format!("user={admin}^role.name=security_admin"),
    );
    assert_eq!(roles.len(), 1);
}

#[cfg(unix)]
#[tokio::test]
async fn a_state_file_that_is_not_a_file_is_refused_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("sim.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .unwrap();
    assert!(made.success());
    // No writer ever opens the pipe: a blocking read would hang here.
    let Err(err) = Sim::builder().state_file(&pipe).start().await else {
        panic!("a named pipe was taken as the state file");
    };
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

#[tokio::test]
async fn state_survives_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim.json");
    let first = Sim::builder()
        .seed(Seed::Demo)
        .state_file(&path)
        .start()
        .await
        .unwrap();
    let admin = first.admin();
    let created = first
        .state()
        .insert(
            "incident",
            Record::from([("short_description".into(), "kept".into())]),
        )
        .unwrap();
    first.shutdown().await.unwrap();
    let second = Sim::builder()
        .seed(Seed::Empty)
        .state_file(&path)
        .start()
        .await
        .unwrap();
    assert_eq!(second.admin(), admin);
    assert_eq!(
        second.state().get("incident", &created["sys_id"]).unwrap()["short_description"],
        "kept"
    );
    let next = second.state().insert("incident", Record::new()).unwrap();
    assert!(next["number"] > created["number"], "numbering continues");
    let body = json(
        admin_get(&second, "/api/now/table/incident?sysparm_limit=1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["result"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn base_seed_has_the_itsm_and_import_roles_integrations_ask_for() {
    let sim = start(Seed::Empty).await;
    let names = [
        "incident_manager",
        "cmdb_read",
        "sn_cmdb_user",
        "itil_admin",
        "import_admin",
        "import_transformer",
    ];
    let path = format!(
        "/api/now/table/sys_user_role?sysparm_query=nameIN{}&sysparm_fields=name,description,includes_roles",
        names.join(",")
    );
    let body = json(admin_get(&sim, &path).send().await.unwrap()).await;
    let rows = body["result"].as_array().unwrap();
    assert_eq!(rows.len(), names.len(), "{body}");
    for row in rows {
        assert!(
            !row["description"].as_str().unwrap_or("").is_empty(),
            "{row}"
        );
    }
    let includes = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .map(|r| r["includes_roles"].as_str().unwrap_or("").to_owned())
            .unwrap()
    };
    assert_eq!(includes("itil_admin"), "itil");
    assert_eq!(includes("import_admin"), "import_transformer");

    // Containment works as on the instance: itil_admin alone reads what itil reads.
    let state = sim.state();
    state
        .create_user(UserSpec {
            roles: vec!["itil_admin".into()],
            ..UserSpec::new("ops.lead", "Ops-1234!")
        })
        .unwrap();
    state
        .insert(
            "incident",
            Record::from([("short_description".into(), "disk full".into())]),
        )
        .unwrap();
    let response = client()
        .get(format!("{}/api/now/table/incident", sim.url()))
        .basic_auth("ops.lead", Some("Ops-1234!"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await["result"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_store_apps_role_exists_only_once_the_app_is_installed() {
    let role_path = "/api/now/table/sys_user_role?sysparm_query=name=x_incident_io.api_user";
    let app_path = "/api/now/table/sys_store_app?sysparm_query=scope=x_incident_io";
    let rows = |body: serde_json::Value| body["result"].as_array().cloned().unwrap_or_default();

    // A fresh instance has neither the app nor its role.
    let fresh = start(Seed::Empty).await;
    let body = json(admin_get(&fresh, role_path).send().await.unwrap()).await;
    assert!(
        rows(body).is_empty(),
        "a fresh instance has no x_incident_io role"
    );

    // Installed (as an admin does from the Store, or `--app incident-io`): scope and role.
    fresh.state().install_app(StoreApp::IncidentIo);
    let role = rows(json(admin_get(&fresh, role_path).send().await.unwrap()).await);
    assert_eq!(role.len(), 1, "{role:?}");
    let app = rows(json(admin_get(&fresh, app_path).send().await.unwrap()).await);
    assert_eq!(app.len(), 1, "{app:?}");
    assert_eq!(app[0]["name"], "incident.io");

    // Installing twice changes nothing; the builder's switch installs it at start.
    fresh.state().install_app(StoreApp::IncidentIo);
    assert_eq!(
        fresh
            .state()
            .count("sys_user_role", "name=x_incident_io.api_user"),
        1
    );
    let switched = Sim::builder()
        .app(StoreApp::IncidentIo)
        .start()
        .await
        .unwrap();
    assert_eq!(
        switched
            .state()
            .count("sys_store_app", "scope=x_incident_io"),
        1
    );
    assert_eq!("incident-io".parse::<StoreApp>(), Ok(StoreApp::IncidentIo));
    assert!("servicenow".parse::<StoreApp>().is_err());
}

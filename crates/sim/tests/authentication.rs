//! Conformance: authentication on the APIs (Basic, Bearer, MFA, SSO-only, API ACL), one test
//! per behaviour of servicenow.md.

mod common;

use common::{client, json, start};
use serde_json::json;
use snowlink_sim::{BASIC_AUTH_RESTRICTION, BASIC_AUTH_ROLE, Fault, Seed, UserSpec};

async fn get_as(sim: &snowlink_sim::RunningSim, user: &str, password: &str) -> reqwest::Response {
    client()
        .get(format!(
            "{}/api/now/table/sys_user?sysparm_limit=1",
            sim.url()
        ))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap()
}

fn single_401() -> serde_json::Value {
    json!({ "error": { "message": "User Not Authenticated", "detail": "Required to provide Auth information" },
            "status": "failure" })
}

#[tokio::test]
async fn every_auth_failure_is_the_single_401_with_www_authenticate() {
    let sim = start(Seed::Demo).await;
    let state = sim.state();
    state
        .create_user(UserSpec {
            locked_out: true,
            ..UserSpec::new("locked", "pw")
        })
        .unwrap();
    state
        .create_user(UserSpec {
            inactive: true,
            ..UserSpec::new("gone", "pw")
        })
        .unwrap();
    state
        .create_user(UserSpec {
            password_needs_reset: true,
            ..UserSpec::new("reset", "pw")
        })
        .unwrap();
    let no_auth = client()
        .get(format!("{}/api/now/table/incident", sim.url()))
        .send()
        .await
        .unwrap();
    let mut responses = vec![no_auth];
    for (user, password) in [
        ("admin", "wrong"),
        ("nobody", "pw"),
        ("locked", "pw"),
        ("gone", "pw"),
        ("reset", "pw"),
    ] {
        responses.push(get_as(&sim, user, password).await);
    }
    for response in responses {
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()["www-authenticate"],
            "BASIC realm=\"Service-now\""
        );
        assert!(response.headers().get("x-mfa_token").is_none());
        assert_eq!(json(response).await, single_401());
    }
}

#[tokio::test]
async fn hostile_authorization_headers_get_401_not_a_crash() {
    let sim = start(Seed::Empty).await;
    for value in [
        "Basic !!!",
        "Basic",
        "Bearer ",
        "Digest x",
        "Basic bm9jb2xvbg==",
        "basic \u{7f}",
    ] {
        let response = client()
            .get(format!("{}/api/now/table/incident", sim.url()))
            .header("authorization", value)
            .send()
            .await;
        if let Ok(response) = response {
            assert_eq!(response.status(), 401, "{value}");
        }
    }
}

#[tokio::test]
async fn mfa_user_needs_the_code_appended_else_401_with_x_mfa_token_invalid() {
    let sim = start(Seed::Empty).await;
    let state = sim.state();
    state
        .create_user(UserSpec {
            mfa: true,
            roles: vec!["itil".into()],
            ..UserSpec::new("mfa.user", "Secret-1")
        })
        .unwrap();
    let plain = get_as(&sim, "mfa.user", "Secret-1").await;
    assert_eq!(plain.status(), 401);
    assert_eq!(plain.headers()["x-mfa_token"], "invalid");
    assert_eq!(json(plain).await, single_401());
    let code = state.otp("mfa.user").unwrap();
    let with_code = get_as(&sim, "mfa.user", &format!("Secret-1{code}")).await;
    assert_eq!(with_code.status(), 200);
}

#[tokio::test]
async fn sso_only_user_is_refused_even_with_the_right_password() {
    let sim = start(Seed::Empty).await;
    sim.state()
        .create_user(UserSpec {
            sso_only: true,
            ..UserSpec::new("sso.person", "IdP-Password-1")
        })
        .unwrap();
    let response = get_as(&sim, "sso.person", "IdP-Password-1").await;
    assert_eq!(response.status(), 401);
    assert_eq!(json(response).await, single_401());
}

#[tokio::test]
async fn restricted_basic_auth_lets_only_web_service_users_role_holders_and_one_time_codes_in() {
    let sim = start(Seed::Demo).await;
    sim.set_fault(Fault::BasicRestricted);
    let state = sim.state();
    for name in BASIC_AUTH_RESTRICTION {
        assert_eq!(state.property(name).as_deref(), Some("true"), "{name}");
    }
    // The admin is no exception: it is an interactive user without the role.
    let (admin, admin_password) = sim.admin();
    let refused = get_as(&sim, &admin, &admin_password).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(json(refused).await, single_401());
    let human = get_as(&sim, "beth.anglin", snowlink_sim::DEMO_PASSWORD).await;
    assert_eq!(human.status(), 401);
    let machine = get_as(&sim, "svc.snowlink", snowlink_sim::DEMO_PASSWORD).await;
    assert_eq!(machine.status(), 200);
    state.grant_role("beth.anglin", BASIC_AUTH_ROLE).unwrap();
    let kept = get_as(&sim, "beth.anglin", snowlink_sim::DEMO_PASSWORD).await;
    assert_eq!(kept.status(), 200);
    state
        .create_user(UserSpec {
            mfa: true,
            ..UserSpec::new("mfa.admin", "Secret-1")
        })
        .unwrap();
    let code = state.otp("mfa.admin").unwrap();
    let with_code = get_as(&sim, "mfa.admin", &format!("Secret-1{code}")).await;
    assert_eq!(with_code.status(), 200);
}

#[tokio::test]
async fn machine_identity_implies_web_service_access_only() {
    let sim = start(Seed::Empty).await;
    let user = sim
        .state()
        .create_user(UserSpec {
            identity_type: Some("Machine".into()),
            ..UserSpec::new("bot", "pw")
        })
        .unwrap();
    assert_eq!(
        sim.state().get("sys_user", &user.sys_id).unwrap()["web_service_access_only"],
        "true"
    );
}

#[tokio::test]
async fn rest_api_acl_refuses_callers_without_its_role_with_403() {
    let sim = start(Seed::Demo).await;
    let state = sim.state();
    state.set_rest_api_acl(true);
    let refused = get_as(&sim, "beth.anglin", snowlink_sim::DEMO_PASSWORD).await;
    assert_eq!(refused.status(), 403);
    let body = json(refused).await;
    assert_eq!(
        body,
        json!({ "error": { "message": "User Not Authorized", "detail": "Failed API level ACL Validation" },
                "status": "failure" })
    );
    // The integration user holds snc_platform_rest_api_access.
    assert_eq!(
        get_as(&sim, "svc.snowlink", snowlink_sim::DEMO_PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_password_written_over_the_table_api_works_only_with_input_display_value() {
    let sim = start(Seed::Empty).await;
    let (admin, password) = sim.admin();
    let create = |user: &'static str, flag: &'static str| {
        client()
            .post(format!("{}/api/now/table/sys_user{flag}", sim.url()))
            .basic_auth(&admin, Some(&password))
            .json(&json!({ "user_name": user, "user_password": "Made-123" }))
            .send()
    };
    // Without the flag the text is stored as it is, and no sign-in matches it (item 31).
    let plain = create("plain.made", "").await.unwrap();
    assert_eq!(plain.status(), 201);
    assert!(json(plain).await["result"].get("user_password").is_none());
    sim.state().grant_role("plain.made", "itil").unwrap();
    assert_eq!(get_as(&sim, "plain.made", "Made-123").await.status(), 401);
    let hashed = create("hashed.made", "?sysparm_input_display_value=true")
        .await
        .unwrap();
    assert_eq!(hashed.status(), 201);
    sim.state().grant_role("hashed.made", "itil").unwrap();
    assert_eq!(get_as(&sim, "hashed.made", "Made-123").await.status(), 200);
    // Fixing it later with the flag works too.
    let id = sim.state().query("sys_user", "user_name=plain.made")[0]["sys_id"].clone();
    let fixed = client()
        .patch(format!(
            "{}/api/now/table/sys_user/{id}?sysparm_input_display_value=true",
            sim.url()
        ))
        .basic_auth(&admin, Some(&password))
        .json(&json!({ "user_password": "Made-456" }))
        .send()
        .await
        .unwrap();
    assert_eq!(fixed.status(), 200);
    assert_eq!(get_as(&sim, "plain.made", "Made-456").await.status(), 200);
}

#[tokio::test]
async fn a_client_secret_reads_back_encrypted_and_is_set_only_with_input_display_value() {
    let sim = start(Seed::Empty).await;
    let (admin, password) = sim.admin();
    let created = client()
        .post(format!("{}/api/now/table/oauth_entity", sim.url()))
        .basic_auth(&admin, Some(&password))
        .json(&json!({ "name": "Made", "client_secret": "ignored-secret", "no_such_field": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.status(),
        201,
        "unknown fields are dropped, not refused"
    );
    let record = json(created).await["result"].clone();
    let id = record["sys_id"].as_str().unwrap().to_owned();
    assert!(record.get("no_such_field").is_none());
    let stored = sim.state().get("oauth_entity", &id).unwrap();
    assert_ne!(
        stored["client_secret"], "ignored-secret",
        "not saved without the flag"
    );
    assert!(!stored["client_secret"].is_empty(), "one was generated");
    assert_ne!(
        record["client_secret"],
        stored["client_secret"].as_str(),
        "read back encrypted"
    );
    let set = client()
        .patch(format!(
            "{}/api/now/table/oauth_entity/{id}?sysparm_input_display_value=true",
            sim.url()
        ))
        .basic_auth(&admin, Some(&password))
        .json(&json!({ "client_secret": "chosen-secret" }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let read = json(set).await["result"]["client_secret"].clone();
    assert_ne!(read, "chosen-secret");
    assert_eq!(
        sim.state().get("oauth_entity", &id).unwrap()["client_secret"],
        "chosen-secret"
    );
}

//! Conformance: the APIs clients use beside the Table API that have no file of their own —
//! the Batch API (servicenow.md 2.14), tiny URLs (2.15) and the UI's own sign-in (2.16) — each
//! checked against the rules a single call meets: no elevation over REST, ACLs, the Basic auth
//! restriction, and secrets that never read back.

mod common;

use base64::Engine;
use common::{client, json, start};
use serde_json::{Value, json};
use snowlink_sim::{DEMO_CLIENT_SECRET, DEMO_PASSWORD, Fault, RunningSim, Seed, UserSpec};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn item(id: &str, method: &str, url: &str, body: Option<Value>) -> Value {
    let mut item = json!({ "id": id, "method": method, "url": url,
        "headers": [{ "name": "Content-Type", "value": "application/json" }] });
    if let Some(body) = body {
        item["body"] = json!(B64.encode(body.to_string()));
    }
    item
}

async fn batch_as(
    sim: &RunningSim,
    user: &str,
    password: &str,
    items: Vec<Value>,
) -> reqwest::Response {
    client()
        .post(format!("{}/api/now/v1/batch", sim.url()))
        .basic_auth(user, Some(password))
        .json(&json!({ "batch_request_id": "b1", "rest_requests": items }))
        .send()
        .await
        .unwrap()
}

/// The serviced item `id`: its status and its decoded body.
fn serviced(answer: &Value, id: &str) -> (u64, Value) {
    let item = answer["serviced_requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id}: {answer}"));
    let body = B64.decode(item["body"].as_str().unwrap()).unwrap();
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (item["status_code"].as_u64().unwrap(), body)
}

#[tokio::test]
async fn a_batch_answers_each_item_with_its_own_status_and_base64_body() {
    let sim = start(Seed::Demo).await;
    let items = vec![
        item("11", "GET", "/api/now/table/incident?sysparm_limit=2", None),
        item(
            "12",
            "POST",
            "/api/now/table/incident",
            Some(json!({ "short_description": "From a batch" })),
        ),
        item("13", "GET", "/api/now/table/no_such_table", None),
    ];
    let response = batch_as(&sim, "beth.anglin", DEMO_PASSWORD, items).await;
    assert_eq!(response.status(), 200);
    let answer = json(response).await;
    assert_eq!(answer["batch_request_id"], "b1");
    assert_eq!(answer["unserviced_requests"], json!([]));
    let (status, listed) = serviced(&answer, "11");
    assert_eq!(
        (status, listed["result"].as_array().unwrap().len()),
        (200, 2)
    );
    let (status, created) = serviced(&answer, "12");
    assert_eq!(status, 201);
    assert_eq!(created["result"]["short_description"], "From a batch");
    assert_eq!(
        sim.state()
            .count("incident", "short_description=From a batch"),
        1
    );
    let (status, _) = serviced(&answer, "13");
    assert_eq!(status, 400);
    let first = &answer["serviced_requests"][0];
    assert_eq!(first["status_text"], "OK");
    assert!(
        first["execution_time"].is_u64() && first["headers"].is_array(),
        "{first}"
    );

    // The version is required, as on an instance.
    let unversioned = client()
        .post(format!("{}/api/now/batch", sim.url()))
        .basic_auth("beth.anglin", Some(DEMO_PASSWORD))
        .json(&json!({ "rest_requests": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(unversioned.status(), 400);
}

#[tokio::test]
async fn a_batch_is_no_way_around_the_rules_of_a_single_call() {
    let sim = start(Seed::Demo).await;
    let (admin, password) = sim.admin();
    let acl = json!({ "name": "incident", "operation": "read" });
    let items = vec![
        item("acl", "POST", "/api/now/table/sys_security_acl", Some(acl)),
        item(
            "secret",
            "GET",
            "/api/now/table/oauth_entity?sysparm_fields=client_secret",
            None,
        ),
    ];
    let answer = json(batch_as(&sim, &admin, &password, items).await).await;
    let (status, _) = serviced(&answer, "acl");
    assert_eq!(
        status, 403,
        "ACL writes need security_admin elevated: {answer}"
    );
    let (status, registry) = serviced(&answer, "secret");
    assert_eq!(status, 200);
    assert!(
        !registry.to_string().contains(DEMO_CLIENT_SECRET),
        "{registry}"
    );

    // An item's own credentials are not used: beth's batch with the admin's header stays beth's.
    let mut as_admin = item(
        "users",
        "GET",
        "/api/now/table/sys_security_acl?sysparm_limit=1",
        None,
    );
    let admin_basic = format!("Basic {}", B64.encode(format!("{admin}:{password}")));
    as_admin["headers"] = json!([{ "name": "Authorization", "value": admin_basic }]);
    let answer = json(batch_as(&sim, "beth.anglin", DEMO_PASSWORD, vec![as_admin]).await).await;
    let (status, _) = serviced(&answer, "users");
    assert_ne!(status, 200, "{answer}");

    // The batch itself authenticates as any call does, under the Basic auth restriction too.
    let wrong = batch_as(&sim, "beth.anglin", "wrong", Vec::new()).await;
    assert_eq!(wrong.status(), 401);
    sim.set_fault(Fault::BasicRestricted);
    let restricted = batch_as(&sim, "beth.anglin", DEMO_PASSWORD, Vec::new()).await;
    assert_eq!(restricted.status(), 401);
}

#[tokio::test]
async fn a_long_url_is_shortened_to_a_tiny_one_that_leads_back_to_it() {
    let sim = start(Seed::Demo).await;
    let long = format!(
        "incident_list.do?sysparm_query=short_descriptionLIKE{}",
        "x".repeat(2100)
    );
    let post = |body: Value, user: &str, password: &str| {
        client()
            .post(format!("{}/api/now/tinyurl", sim.url()))
            .basic_auth(user, Some(password))
            .json(&body)
            .send()
    };
    let answer = post(json!({ "url": long }), "abel.tuter", DEMO_PASSWORD)
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "any signed-in user may shorten");
    let tiny = json(answer).await["result"].as_str().unwrap().to_owned();
    assert!(tiny.starts_with("incident_list.do?sysparm_tiny="), "{tiny}");
    assert!(tiny.len() < 100, "{tiny}");
    let opened = client()
        .get(format!("{}/{tiny}", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), 302);
    assert_eq!(snowlink_sim::testing::location(&opened), format!("/{long}"));

    // Never an address elsewhere, never without signing in; short ones pass with the property.
    let elsewhere = post(
        json!({ "url": "https://evil.example/x" }),
        "abel.tuter",
        DEMO_PASSWORD,
    );
    assert_eq!(elsewhere.await.unwrap().status(), 400);
    let anonymous = client()
        .post(format!("{}/api/now/tinyurl", sim.url()))
        .json(&json!({ "url": long }))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    sim.state()
        .set_property("glide.tiny_url_min_length", "1024");
    let short = post(
        json!({ "url": "incident_list.do" }),
        "abel.tuter",
        DEMO_PASSWORD,
    )
    .await
    .unwrap();
    assert_eq!(json(short).await["result"], "/incident_list.do");
}

/// The UI's sign-in: the JSON status, the session cookie, the token from `get_user`.
async fn ui_sign_in(
    sim: &RunningSim,
    user: &str,
    password: &str,
) -> (Value, Option<(String, String)>) {
    let form = [
        ("sysparm_type", "login"),
        ("ni.nolog.user_password", "true"),
        ("user_name", user),
        ("user_password", password),
    ];
    let login = client()
        .post(format!(
            "{}/angular.do?sysparm_type=view_form.login",
            sim.url()
        ))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = snowlink_sim::testing::session_cookie(&login);
    let status = json(login).await;
    let Some(cookie) = cookie else {
        return (status, None);
    };
    let user = client()
        .post(format!("{}/angular.do?sysparm_type=get_user", sim.url()))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    let token = user.headers()["X-UserToken-Response"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, Some((cookie, token)))
}

#[tokio::test]
async fn the_ui_sign_in_gives_a_session_whose_api_calls_carry_its_token() {
    let sim = start(Seed::Demo).await;
    let (status, session) = ui_sign_in(&sim, "beth.anglin", DEMO_PASSWORD).await;
    assert_eq!(status["status"], "success", "{status}");
    let (cookie, token) = session.unwrap();
    let get = |token: Option<&str>| {
        let mut request = client()
            .get(format!(
                "{}/api/now/table/incident?sysparm_limit=1",
                sim.url()
            ))
            .header("Cookie", &cookie);
        if let Some(token) = token {
            request = request.header("X-UserToken", token);
        }
        request.send()
    };
    assert_eq!(get(Some(&token)).await.unwrap().status(), 200);
    assert_eq!(
        get(None).await.unwrap().status(),
        401,
        "the cookie alone is not enough"
    );
    assert_eq!(get(Some("forged")).await.unwrap().status(), 401);

    let (wrong, none) = ui_sign_in(&sim, "beth.anglin", "wrong").await;
    assert_eq!(
        (wrong["status"].as_str(), none.is_none()),
        (Some("error"), true)
    );
    sim.state()
        .create_user(UserSpec {
            mfa: true,
            ..UserSpec::new("mfa.user", "pw-123456")
        })
        .unwrap();
    let (mfa, _) = ui_sign_in(&sim, "mfa.user", "pw-123456").await;
    assert_eq!(mfa["status"], "mfa_code_required");
    // Not Basic auth: the restriction leaves the UI sign-in alone.
    sim.set_fault(Fault::BasicRestricted);
    let (restricted, _) = ui_sign_in(&sim, "beth.anglin", DEMO_PASSWORD).await;
    assert_eq!(restricted["status"], "success");
}

#[tokio::test]
async fn a_ui_session_that_did_not_elevate_writes_no_acl_and_reads_no_secret() {
    let sim = start(Seed::Demo).await;
    let (admin, password) = sim.admin();
    let (_, session) = ui_sign_in(&sim, &admin, &password).await;
    let (cookie, token) = session.unwrap();
    let acl = client()
        .post(format!("{}/api/now/table/sys_security_acl", sim.url()))
        .header("Cookie", &cookie)
        .header("X-UserToken", &token)
        .json(&json!({ "name": "incident", "operation": "read" }))
        .send()
        .await
        .unwrap();
    assert_eq!(acl.status(), 403);
    let registry = client()
        .get(format!(
            "{}/api/now/table/oauth_entity?sysparm_fields=client_secret",
            sim.url()
        ))
        .header("Cookie", &cookie)
        .header("X-UserToken", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(registry.status(), 200);
    assert!(!registry.text().await.unwrap().contains(DEMO_CLIENT_SECRET));
}

/// Every other way to a secret is closed too: a query naming the secret finds nothing (so it
/// cannot be guessed), sorting by it is ignored, and the Aggregate API groups by what the Table
/// API shows of it.
#[tokio::test]
async fn no_api_reads_or_guesses_an_encrypted_field() {
    let sim = start(Seed::Demo).await;
    let (admin, password) = sim.admin();
    let get = |path: String| {
        client()
            .get(format!("{}{path}", sim.url()))
            .basic_auth(&admin, Some(&password))
            .send()
    };
    let guess = format!(
        "/api/now/table/oauth_entity?sysparm_fields=name&sysparm_query=client_secret%3D{DEMO_CLIENT_SECRET}"
    );
    assert_eq!(json(get(guess).await.unwrap()).await["result"], json!([]));
    let prefix = &DEMO_CLIENT_SECRET[..1];
    let starts = format!(
        "/api/now/table/oauth_entity?sysparm_fields=name&sysparm_query=client_secretSTARTSWITH{prefix}"
    );
    assert_eq!(json(get(starts).await.unwrap()).await["result"], json!([]));
    let set =
        "/api/now/table/oauth_entity?sysparm_fields=name&sysparm_query=client_secretISNOTEMPTY";
    assert!(
        !json(get(set.into()).await.unwrap()).await["result"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    for display in ["false", "true", "all"] {
        let grouped = format!(
            "/api/now/stats/oauth_entity?sysparm_count=true&sysparm_group_by=client_secret&sysparm_display_value={display}"
        );
        let answer = get(grouped).await.unwrap();
        assert_eq!(answer.status(), 200);
        let text = answer.text().await.unwrap();
        assert!(text.contains("client_secret"), "{text}");
        assert!(!text.contains(DEMO_CLIENT_SECRET), "{display}: {text}");
    }

    // Ordering by the secret is ignored: the order is the same as with no order at all, where
    // the secrets' own order would differ.
    for (name, secret) in [
        ("Third", "c-secret"),
        ("First", "a-secret"),
        ("Second", "b-secret"),
    ] {
        sim.state()
            .create_oauth_app(snowlink_sim::OAuthAppSpec {
                name: name.into(),
                client_secret: Some(secret.into()),
                ..snowlink_sim::OAuthAppSpec::default()
            })
            .unwrap();
    }
    let names = |order: &str| {
        get(format!(
            "/api/now/table/oauth_entity?sysparm_fields=name&sysparm_query={order}"
        ))
    };
    let plain = json(names("").await.unwrap()).await;
    let sorted = json(names("ORDERBYclient_secret").await.unwrap()).await;
    assert_eq!(plain, sorted);
}

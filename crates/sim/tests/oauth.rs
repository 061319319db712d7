//! Conformance: OAuth as servicenow.md documents it — the authorization-code flow completed by a
//! plain HTTP client through the real login and consent forms, PKCE, the silent redirect-URL
//! fallback, the token grants and their single failure body, lifetimes, reuse and revocation.

mod common;

use base64::Engine;
use common::{client, json, start};
use serde_json::json;
use sha2::{Digest, Sha256};
use snowlink_sim::testing::{form_inputs, location, session_cookie};
use snowlink_sim::{OAuthAppSpec, Record, RunningSim, Seed, UserSpec};

const REDIRECT: &str = "http://127.0.0.1:53682/callback";

/// A Table API read with a bearer token.
async fn users_with_token(sim: &RunningSim, token: &str) -> reqwest::Response {
    client()
        .get(format!("{}/api/now/table/sys_user", sim.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A password grant for the demo user with the demo app: the token response body.
async fn beth_tokens(sim: &RunningSim) -> serde_json::Value {
    let form = password_grant(
        "beth.anglin",
        snowlink_sim::DEMO_PASSWORD,
        snowlink_sim::DEMO_CLIENT_SECRET,
    );
    json(token(sim, &form).await).await
}

fn denied() -> serde_json::Value {
    json!({ "error_description": "access_denied", "error": "server_error" })
}

async fn token(sim: &RunningSim, form: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(format!("{}/oauth_token.do", sim.url()))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Exchanges `code` for tokens at the token endpoint, the client proving itself with `proof`
/// (`client_secret` or `code_verifier`).
async fn exchange(
    sim: &RunningSim,
    client_id: &str,
    code: &str,
    proof: (&str, &str),
) -> reqwest::Response {
    token(
        sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id),
            proof,
        ],
    )
    .await
}

fn app(sim: &RunningSim, public: bool) -> snowlink_sim::OAuthApp {
    sim.state()
        .create_oauth_app(OAuthAppSpec {
            name: "Tool".into(),
            redirect_urls: vec![REDIRECT.into(), "http://127.0.0.1:53683/callback".into()],
            public_client: public,
            ..OAuthAppSpec::default()
        })
        .unwrap()
}

fn authorize_url(sim: &RunningSim, client_id: &str, redirect: &str, extra: &str) -> String {
    format!(
        "{}/oauth_auth.do?response_type=code&client_id={client_id}&redirect_uri={}&scope=useraccount&state=st4te{extra}",
        sim.url(),
        url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
    )
}

/// Follows the login page and the consent page like a browser, pressing `action`; returns the
/// final redirect target.
async fn browse_consent(
    sim: &RunningSim,
    start_url: &str,
    user: &str,
    password: &str,
    action: &str,
) -> String {
    let http = client();
    let login_page = http.get(start_url).send().await.unwrap();
    assert_eq!(login_page.status(), 200);
    let html = login_page.text().await.unwrap();
    let mut fields = form_inputs(&html, "login");
    for (name, value) in &mut fields {
        match name.as_str() {
            "user_name" => *value = user.into(),
            "user_password" => *value = password.into(),
            _ => {}
        }
    }
    let logged_in = http
        .post(format!("{}/login.do", sim.url()))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(logged_in.status(), 302);
    let cookie = session_cookie(&logged_in).unwrap();
    let back = location(&logged_in);
    assert!(back.starts_with("/oauth_auth.do?"), "{back}");
    let consent = http
        .get(format!("{}{back}", sim.url()))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let html = consent.text().await.unwrap();
    assert!(html.contains("Allow") && html.contains("Deny"));
    let mut fields = form_inputs(&html, "consent");
    fields.push(("action".into(), action.into()));
    let decided = http
        .post(format!("{}/oauth_auth.do", sim.url()))
        .header("cookie", &cookie)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status(), 302);
    location(&decided)
}

/// The demo user signs in and presses Allow.
async fn beth_allows(sim: &RunningSim, start_url: &str) -> String {
    browse_consent(
        sim,
        start_url,
        "beth.anglin",
        snowlink_sim::DEMO_PASSWORD,
        "allow",
    )
    .await
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn authorization_code_flow_completes_through_login_and_consent_forms() {
    let sim = start(Seed::Demo).await;
    let app = app(&sim, false);
    let target = beth_allows(&sim, &authorize_url(&sim, &app.client_id, REDIRECT, "")).await;
    assert!(target.starts_with(REDIRECT), "{target}");
    assert_eq!(query_param(&target, "state").as_deref(), Some("st4te"));
    let code = query_param(&target, "code").unwrap();
    let response = exchange(
        &sim,
        &app.client_id,
        &code,
        ("client_secret", &app.client_secret),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert_eq!(body["scope"], "useraccount");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 1799);
    assert!(body["refresh_token"].is_string());
    let access = body["access_token"].as_str().unwrap();
    let table = client()
        .get(format!(
            "{}/api/now/table/sys_user?sysparm_query=user_name=beth.anglin",
            sim.url()
        ))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(table.status(), 200);
    // A code is good for one exchange only.
    let again = exchange(
        &sim,
        &app.client_id,
        &code,
        ("client_secret", &app.client_secret),
    )
    .await;
    assert_eq!(again.status(), 401);
}

#[tokio::test]
async fn missing_state_is_refused_with_missing_state_parameter_in_request() {
    let sim = start(Seed::Demo).await;
    let url = format!(
        "{}/oauth_auth.do?response_type=code&client_id={}&redirect_uri={REDIRECT}",
        sim.url(),
        snowlink_sim::DEMO_CLIENT_ID
    );
    let response = client().get(url).send().await.unwrap();
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Missing State parameter in request")
    );
}

#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let sim = start(Seed::Demo).await;
    let app = app(&sim, false);
    let target = browse_consent(
        &sim,
        &authorize_url(&sim, &app.client_id, REDIRECT, ""),
        "beth.anglin",
        snowlink_sim::DEMO_PASSWORD,
        "deny",
    )
    .await;
    assert_eq!(
        query_param(&target, "error").as_deref(),
        Some("access_denied")
    );
    assert!(query_param(&target, "code").is_none());
}

#[tokio::test]
async fn redirect_url_mismatch_silently_uses_the_first_registered_url() {
    let sim = start(Seed::Demo).await;
    let app = app(&sim, false);
    let second = "http://127.0.0.1:53683/callback";
    let target = beth_allows(&sim, &authorize_url(&sim, &app.client_id, second, "")).await;
    assert!(
        target.starts_with(second),
        "a registered URL is honoured: {target}"
    );
    let unregistered = "http://127.0.0.1:40999/callback";
    let target = beth_allows(&sim, &authorize_url(&sim, &app.client_id, unregistered, "")).await;
    assert!(
        target.starts_with(REDIRECT),
        "no error, the first registered URL: {target}"
    );
}

fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[tokio::test]
async fn pkce_public_client_exchanges_with_verifier_and_gets_no_refresh_token() {
    let sim = start(Seed::Demo).await;
    let app = app(&sim, true);
    let verifier = "a-verifier-of-sufficient-length-0123456789-abcdefghij";
    let extra = format!(
        "&code_challenge={}&code_challenge_method=S256",
        s256(verifier)
    );
    let target = beth_allows(&sim, &authorize_url(&sim, &app.client_id, REDIRECT, &extra)).await;
    let code = query_param(&target, "code").unwrap();
    let wrong = exchange(&sim, &app.client_id, &code, ("code_verifier", "wrong")).await;
    assert_eq!(wrong.status(), 401);
    let target = beth_allows(&sim, &authorize_url(&sim, &app.client_id, REDIRECT, &extra)).await;
    let code = query_param(&target, "code").unwrap();
    let response = exchange(&sim, &app.client_id, &code, ("code_verifier", verifier)).await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert!(body["access_token"].is_string());
    assert!(body.get("refresh_token").is_none());
}

#[tokio::test]
async fn without_pkce_support_the_client_secret_is_required() {
    let sim = start(Seed::Demo).await;
    sim.state().set_pkce_required(false);
    let app = app(&sim, false);
    let verifier = "another-verifier-of-sufficient-length-0123456789-abc";
    let extra = format!(
        "&code_challenge={}&code_challenge_method=S256",
        s256(verifier)
    );
    let target = beth_allows(&sim, &authorize_url(&sim, &app.client_id, REDIRECT, &extra)).await;
    let code = query_param(&target, "code").unwrap();
    let response = exchange(&sim, &app.client_id, &code, ("code_verifier", verifier)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(json(response).await, denied());
}

/// Only a public client proves itself by PKCE alone: a confidential client still sends its
/// secret with a verifier; before Zurich (`--fault before-zurich`) no client may, a public one
/// included.
#[tokio::test]
async fn only_a_public_client_on_zurich_signs_in_by_pkce_alone() {
    let sim = start(Seed::Demo).await;
    let verifier = "a-third-verifier-of-sufficient-length-0123456789-xyz";
    let extra = format!(
        "&code_challenge={}&code_challenge_method=S256",
        s256(verifier)
    );
    let pkce_alone = |client_id: String| {
        let (sim, extra) = (&sim, &extra);
        async move {
            let target = beth_allows(sim, &authorize_url(sim, &client_id, REDIRECT, extra)).await;
            let code = query_param(&target, "code").unwrap();
            exchange(sim, &client_id, &code, ("code_verifier", verifier))
                .await
                .status()
        }
    };
    let confidential = app(&sim, false);
    assert_eq!(pkce_alone(confidential.client_id.clone()).await, 401);
    let public = app(&sim, true);
    assert_eq!(pkce_alone(public.client_id.clone()).await, 200);

    sim.set_fault(snowlink_sim::Fault::BeforeZurich);
    assert_eq!(pkce_alone(public.client_id.clone()).await, 401);
    let target = beth_allows(
        &sim,
        &authorize_url(&sim, &public.client_id, REDIRECT, &extra),
    )
    .await;
    let code = query_param(&target, "code").unwrap();
    let with_secret = token(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &public.client_id),
            ("client_secret", &public.client_secret),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(with_secret.status(), 200);
}

#[tokio::test]
async fn token_endpoint_takes_form_encoded_bodies_only() {
    let sim = start(Seed::Demo).await;
    let response = client()
        .post(format!("{}/oauth_token.do", sim.url()))
        .json(
            &json!({ "grant_type": "password", "client_id": snowlink_sim::DEMO_CLIENT_ID,
            "client_secret": snowlink_sim::DEMO_CLIENT_SECRET, "username": "beth.anglin",
            "password": snowlink_sim::DEMO_PASSWORD }),
        )
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), 200);
}

fn password_grant<'a>(
    user: &'a str,
    password: &'a str,
    secret: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "password"),
        ("client_id", snowlink_sim::DEMO_CLIENT_ID),
        ("client_secret", secret),
        ("username", user),
        ("password", password),
    ]
}

#[tokio::test]
async fn every_token_failure_is_the_same_401_access_denied() {
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
            password_needs_reset: true,
            ..UserSpec::new("reset", "pw")
        })
        .unwrap();
    let good = snowlink_sim::DEMO_CLIENT_SECRET;
    let cases: Vec<Vec<(&str, &str)>> = vec![
        password_grant("beth.anglin", snowlink_sim::DEMO_PASSWORD, "wrong-secret"),
        password_grant("beth.anglin", "wrong-password", good),
        password_grant("locked", "pw", good),
        password_grant("reset", "pw", good),
        vec![
            ("grant_type", "refresh_token"),
            ("client_id", snowlink_sim::DEMO_CLIENT_ID),
            ("client_secret", good),
            ("refresh_token", "dead"),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", snowlink_sim::DEMO_CLIENT_ID),
            ("client_secret", good),
        ],
        vec![("grant_type", "made_up")],
    ];
    for form in cases {
        let response = token(&sim, &form).await;
        assert_eq!(response.status(), 401, "{form:?}");
        assert_eq!(json(response).await, denied(), "{form:?}");
    }
    state.set_property("glide.oauth.inbound.ropc.grant_type.disabled", "true");
    let disabled = token(
        &sim,
        &password_grant("beth.anglin", snowlink_sim::DEMO_PASSWORD, good),
    )
    .await;
    assert_eq!(disabled.status(), 401);
    assert_eq!(json(disabled).await, denied());
}

#[tokio::test]
async fn password_grant_returns_the_documented_body_and_records_tokens() {
    let sim = start(Seed::Demo).await;
    let response = token(
        &sim,
        &password_grant(
            "beth.anglin",
            snowlink_sim::DEMO_PASSWORD,
            snowlink_sim::DEMO_CLIENT_SECRET,
        ),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
    assert_eq!(body["expires_in"], 1799);
    let credentials = sim.state().query("oauth_credential", "");
    let types: Vec<&str> = credentials.iter().map(|c| c["type"].as_str()).collect();
    assert!(types.contains(&"access_token") && types.contains(&"refresh_token"));
}

#[tokio::test]
async fn lifetimes_default_to_1800_seconds_and_100_days() {
    let sim = start(Seed::Demo).await;
    token(
        &sim,
        &password_grant(
            "beth.anglin",
            snowlink_sim::DEMO_PASSWORD,
            snowlink_sim::DEMO_CLIENT_SECRET,
        ),
    )
    .await;
    let now = chrono::Utc::now();
    for (kind, seconds) in [("access_token", 1800i64), ("refresh_token", 8_640_000)] {
        let credential = &sim
            .state()
            .query("oauth_credential", &format!("type={kind}"))[0];
        let expires =
            chrono::NaiveDateTime::parse_from_str(&credential["expires"], "%Y-%m-%d %H:%M:%S")
                .unwrap()
                .and_utc();
        let left = (expires - now).num_seconds();
        assert!(
            (seconds - 5..=seconds + 1).contains(&left),
            "{kind}: {left}"
        );
    }
}

#[tokio::test]
async fn lifetimes_are_configurable_per_application() {
    let sim = start(Seed::Demo).await;
    let app = sim
        .state()
        .create_oauth_app(OAuthAppSpec {
            name: "Short".into(),
            access_token_lifespan: Some(60),
            ..OAuthAppSpec::default()
        })
        .unwrap();
    let response = token(
        &sim,
        &[
            ("grant_type", "password"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("username", "beth.anglin"),
            ("password", snowlink_sim::DEMO_PASSWORD),
        ],
    )
    .await;
    assert_eq!(json(response).await["expires_in"], 59);
}

#[tokio::test]
async fn the_same_access_token_is_returned_while_valid() {
    let sim = start(Seed::Demo).await;
    let form = password_grant(
        "beth.anglin",
        snowlink_sim::DEMO_PASSWORD,
        snowlink_sim::DEMO_CLIENT_SECRET,
    );
    let first = json(token(&sim, &form).await).await;
    let second = json(token(&sim, &form).await).await;
    assert_eq!(first["access_token"], second["access_token"]);
}

#[tokio::test]
async fn refresh_token_grant_issues_a_new_access_token() {
    let sim = start(Seed::Demo).await;
    let first = beth_tokens(&sim).await;
    let refresh = first["refresh_token"].as_str().unwrap();
    sim.state().revoke_tokens("nobody");
    let response = token(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", snowlink_sim::DEMO_CLIENT_ID),
            ("client_secret", snowlink_sim::DEMO_CLIENT_SECRET),
            ("refresh_token", refresh),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert_eq!(body["refresh_token"], refresh);
    assert!(body["access_token"].is_string());
}

#[tokio::test]
async fn client_credentials_needs_its_property_and_an_application_user() {
    let sim = start(Seed::Demo).await;
    let state = sim.state();
    state
        .create_user(UserSpec {
            web_service_access_only: true,
            roles: vec!["itil".into()],
            ..UserSpec::new("app.user", "x")
        })
        .unwrap();
    let app = state
        .create_oauth_app(OAuthAppSpec {
            name: "M2M".into(),
            application_user: Some("app.user".into()),
            ..OAuthAppSpec::default()
        })
        .unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.as_str()),
    ];
    assert_eq!(token(&sim, &form).await.status(), 401, "off by default");
    state.set_property(
        "glide.oauth.inbound.client.credential.grant_type.enabled",
        "true",
    );
    let response = token(&sim, &form).await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert!(body.get("refresh_token").is_none());
    let no_user = state
        .create_oauth_app(OAuthAppSpec {
            name: "No user".into(),
            ..OAuthAppSpec::default()
        })
        .unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", no_user.client_id.as_str()),
        ("client_secret", no_user.client_secret.as_str()),
    ];
    assert_eq!(token(&sim, &form).await.status(), 401);
}

#[tokio::test]
async fn revoking_the_refresh_token_kills_its_access_tokens() {
    let sim = start(Seed::Demo).await;
    let body = beth_tokens(&sim).await;
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    let revoked = client()
        .get(format!(
            "{}/oauth_revoke_token.do?token={refresh}",
            sim.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let table = users_with_token(&sim, access).await;
    assert_eq!(table.status(), 401);
    let again = token(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", snowlink_sim::DEMO_CLIENT_ID),
            ("client_secret", snowlink_sim::DEMO_CLIENT_SECRET),
            ("refresh_token", refresh),
        ],
    )
    .await;
    assert_eq!(json(again).await, denied());
}

#[tokio::test]
async fn expired_access_tokens_are_refused() {
    let sim = start(Seed::Demo).await;
    let body = beth_tokens(&sim).await;
    let state = sim.state();
    let credential = state.query("oauth_credential", "type=access_token")[0]["sys_id"].clone();
    state
        .update(
            "oauth_credential",
            &credential,
            Record::from([("expires".into(), "2000-01-01 00:00:00".into())]),
        )
        .unwrap();
    let table = users_with_token(&sim, body["access_token"].as_str().unwrap()).await;
    assert_eq!(table.status(), 401);
}

#[tokio::test]
async fn inserting_oauth_entity_generates_client_id_and_secret() {
    let sim = start(Seed::Empty).await;
    let (user, password) = sim.admin();
    let response = client()
        .post(format!("{}/api/now/table/oauth_entity", sim.url()))
        .basic_auth(user, Some(password))
        .json(&json!({ "name": "Via API", "redirect_url": REDIRECT, "client_id": "mine" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let record = json(response).await["result"].clone();
    let client_id = record["client_id"].as_str().unwrap().to_owned();
    assert_eq!(client_id.len(), 32, "generated, not the one given");
    assert!(!record["client_secret"].as_str().unwrap().is_empty());
    assert_eq!(record["access_token_lifespan"], "1800");
    assert_eq!(record["refresh_token_lifespan"], "8640000");
    // Read-only after: a change is dropped without an error.
    let sys_id = record["sys_id"].as_str().unwrap();
    let (user, password) = sim.admin();
    let changed = client()
        .patch(format!("{}/api/now/table/oauth_entity/{sys_id}", sim.url()))
        .basic_auth(user, Some(password))
        .json(&json!({ "client_id": "changed", "name": "Renamed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let changed = json(changed).await["result"].clone();
    assert_eq!(
        (changed["client_id"].as_str(), changed["name"].as_str()),
        (Some(client_id.as_str()), Some("Renamed"))
    );
    // A new application has no auth scope until one is set (item 37).
    let scopes = sim.state().count(
        "oauth_entity_auth_scope_mapping",
        &format!("oauth_entity={sys_id}"),
    );
    assert_eq!(scopes, 0);
}

#[tokio::test]
async fn token_missing_a_scope_an_api_access_policy_requires_gets_403() {
    let sim = start(Seed::Demo).await;
    sim.state()
        .insert(
            "sys_api_access_policy",
            Record::from([
                ("name".into(), "Table API needs snowlink.read".into()),
                ("api".into(), "Table API".into()),
                ("required_scope".into(), "snowlink.read".into()),
            ]),
        )
        .unwrap();
    let plain = beth_tokens(&sim).await;
    assert_eq!(plain["scope"], "useraccount");
    let refused = users_with_token(&sim, plain["access_token"].as_str().unwrap()).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        json(refused).await["error"]["message"],
        "Missing required api access scope"
    );
    let mut form = password_grant(
        "beth.anglin",
        snowlink_sim::DEMO_PASSWORD,
        snowlink_sim::DEMO_CLIENT_SECRET,
    );
    form.push(("scope", "useraccount snowlink.read"));
    let scoped = json(token(&sim, &form).await).await;
    assert_eq!(scoped["scope"], "useraccount snowlink.read");
    assert_ne!(scoped["access_token"], plain["access_token"]);
    let allowed = users_with_token(&sim, scoped["access_token"].as_str().unwrap()).await;
    assert_eq!(allowed.status(), 200);
    // Basic auth is not subject to scopes.
    let (user, password) = sim.admin();
    let basic = client()
        .get(format!("{}/api/now/table/sys_user", sim.url()))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
}

#[tokio::test]
async fn an_application_restricted_to_selected_scopes_gets_403_from_the_table_api() {
    let sim = start(Seed::Demo).await;
    let state = sim.state();
    let app = &state.query(
        "oauth_entity",
        &format!("client_id={}", snowlink_sim::DEMO_CLIENT_ID),
    )[0];
    let app_id = app["sys_id"].clone();
    state
        .update(
            "oauth_entity",
            &app_id,
            Record::from([("scope_restriction_status".into(), "restricted".into())]),
        )
        .unwrap();
    let tokens = beth_tokens(&sim).await;
    let refused = users_with_token(&sim, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        json(refused).await["error"]["message"],
        "Missing required api access scope"
    );
    state
        .insert(
            "oauth_entity_auth_scope_mapping",
            Record::from([
                ("oauth_entity".into(), app_id.clone()),
                ("auth_scope".into(), "useraccount".into()),
            ]),
        )
        .unwrap();
    let allowed = users_with_token(&sim, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(allowed.status(), 200, "scopes are read at run time");
}

#[tokio::test]
async fn client_credentials_need_the_property_created_and_the_application_user_field() {
    let sim = start(Seed::Empty).await;
    let state = sim.state();
    assert_eq!(
        state.property("glide.oauth.inbound.client.credential.grant_type.enabled"),
        None,
        "the property does not exist until someone creates it"
    );
    state
        .create_user(UserSpec::new("svc.cc", "Svc-Pw-1"))
        .unwrap();
    let created = state
        .create_oauth_app(OAuthAppSpec {
            name: "cc".into(),
            application_user: Some("svc.cc".into()),
            ..OAuthAppSpec::default()
        })
        .unwrap();
    let record = state.get("oauth_entity", &created.sys_id).unwrap();
    let user = state.query("sys_user", "user_name=svc.cc")[0]["sys_id"].clone();
    assert_eq!(
        record["user"], user,
        "the OAuth Application User is the `user` field"
    );
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", created.client_id.as_str()),
        ("client_secret", created.client_secret.as_str()),
    ];
    assert_eq!(token(&sim, &form).await.status(), 401);
    // Updating it finds nothing to update; inserting it (System Properties > New) works.
    let (admin, password) = sim.admin();
    let name = "glide.oauth.inbound.client.credential.grant_type.enabled";
    let found = client()
        .get(format!(
            "{}/api/now/table/sys_properties?name={name}",
            sim.url()
        ))
        .basic_auth(&admin, Some(&password))
        .send()
        .await
        .unwrap();
    assert_eq!(json(found).await["result"], json!([]));
    let inserted = client()
        .post(format!("{}/api/now/table/sys_properties", sim.url()))
        .basic_auth(&admin, Some(&password))
        .json(&json!({ "name": name, "value": "true", "type": "true|false" }))
        .send()
        .await
        .unwrap();
    assert_eq!(inserted.status(), 201);
    assert_eq!(token(&sim, &form).await.status(), 200);
}

#[tokio::test]
async fn only_s256_exists_and_public_clients_must_use_pkce() {
    let sim = start(Seed::Demo).await;
    let public = app(&sim, true);
    let plain = "&code_challenge=abc&code_challenge_method=plain";
    let target = beth_allows(
        &sim,
        &authorize_url(&sim, &public.client_id, REDIRECT, plain),
    )
    .await;
    assert_eq!(
        query_param(&target, "error").as_deref(),
        Some("invalid_request")
    );
    let target = beth_allows(&sim, &authorize_url(&sim, &public.client_id, REDIRECT, "")).await;
    assert_eq!(
        query_param(&target, "error").as_deref(),
        Some("invalid_request")
    );
    assert!(query_param(&target, "code").is_none());
}

#[tokio::test]
async fn revoke_needs_no_authentication_and_ignores_unknown_tokens() {
    let sim = start(Seed::Demo).await;
    let response = client()
        .post(format!("{}/oauth_revoke_token.do", sim.url()))
        .form(&[("token", "unknown")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn deep_links_people_paste_reach_the_instance() {
    let sim = start(Seed::Demo).await;
    let response = client()
        .get(format!("{}/now/nav/ui/home", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(location(&response), "/navpage.do");
}

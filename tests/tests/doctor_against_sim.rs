//! Each cause the diagnostics must name, produced by the simulator the way a real instance
//! answers it (docs/servicenow.md), with the failing check, its status and the key words of its
//! remedy asserted. The checks run through `snowlink_core::checks::run`, as `snowlink doctor`
//! and the app run them.

use std::collections::HashMap;
use std::time::Duration;

use snowlink_core::checks::{
    CheckId, CheckStatus, Credentials, Report, RunOptions, Target, Verdict,
};
use snowlink_core::profiles::{CheckParams, OutboundProbe, TableAccess};
use snowlink_core::secrets::{ClientSecret, Password};
use snowlink_e2e::{demo, free_port};
use snowlink_sim::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, Fault, OAuthAppSpec, Record, RunningSim,
    Seed, Sim, UserSpec,
};

/// A target on the simulator with `credentials` and, when `admin`, the demo admin.
fn target(sim: &RunningSim, credentials: Credentials, admin: bool) -> Target {
    let mut target = Target::of_instance(sim.url(), &|_| None).unwrap();
    target.credentials = credentials;
    if admin {
        let (user, password) = sim.admin();
        let vars: HashMap<&str, String> = HashMap::from([
            ("SNOWLINK_ADMIN_USERNAME", user),
            ("SNOWLINK_ADMIN_PASSWORD", password),
        ]);
        target = target.with_admin_from(&|name| vars.get(name).cloned());
    }
    target
}

fn basic(user: &str, password: &str) -> Credentials {
    Credentials::Basic {
        username: user.into(),
        password: Password::new(password),
    }
}

fn password_grant(user: &str, password: &str, secret: &str) -> Credentials {
    Credentials::PasswordGrant {
        client_id: DEMO_CLIENT_ID.into(),
        client_secret: Some(ClientSecret::new(secret)),
        username: user.into(),
        password: Password::new(password),
    }
}

async fn doctor(target: Target) -> Report {
    snowlink_core::checks::run(target, RunOptions::default()).await
}

/// Asserts check `id` has `status` and that its summary and remedies mention each of `words`.
fn expect(report: &Report, id: CheckId, status: CheckStatus, words: &[&str]) {
    let check = report
        .check(id)
        .unwrap_or_else(|| panic!("{id} did not run: {report:#?}"));
    assert_eq!(check.status, status, "{id}: {check:#?}");
    let told = format!(
        "{} {} {} {}",
        check.summary,
        check.detail.clone().unwrap_or_default(),
        check.remedy_user.clone().unwrap_or_default(),
        check.remedy_admin.clone().unwrap_or_default()
    );
    for word in words {
        assert!(told.contains(word), "{id} does not say {word:?}: {told}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_service_account_is_connected() {
    let sim = demo().await;
    let report = doctor(target(
        &sim,
        password_grant("svc.snowlink", DEMO_PASSWORD, DEMO_CLIENT_SECRET),
        true,
    ))
    .await;
    assert_eq!(report.verdict, Verdict::Connected, "{report:#?}");
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Pass,
        &["svc.snowlink"],
    );
    expect(
        &report,
        CheckId::UserAccount,
        CheckStatus::Pass,
        &["active"],
    );
    expect(
        &report,
        CheckId::LinksCount,
        CheckStatus::Pass,
        &["records"],
    );
    assert!(!report.has_failures());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_that_does_not_resolve_stops_at_dns() {
    let mut target = Target::of_instance("https://snowlink-doctor.invalid", &|_| None).unwrap();
    target.credentials = basic("a", "b");
    let report = doctor(target).await;
    expect(
        &report,
        CheckId::DnsResolve,
        CheckStatus::Fail,
        &["could not be resolved", "VPN"],
    );
    let later = report.check(CheckId::AuthCredentials).unwrap();
    assert_eq!(later.status, CheckStatus::Skip);
    assert!(
        later
            .skipped_because
            .as_deref()
            .unwrap()
            .contains("did not pass")
    );
    assert_eq!(report.verdict, Verdict::Disconnected);
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_listening_is_a_refused_connection() {
    let port = free_port();
    let mut target = Target::of_instance(&format!("http://127.0.0.1:{port}"), &|_| None).unwrap();
    target.credentials = basic("a", "b");
    let report = doctor(target).await;
    expect(
        &report,
        CheckId::TcpConnect,
        CheckStatus::Fail,
        &["Nothing accepts connections", "firewall"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hibernating_instance_is_named_with_the_way_to_wake_it() {
    let sim = demo().await;
    sim.set_fault(Fault::Hibernate);
    let report = doctor(target(&sim, basic("admin", "x"), false)).await;
    expect(
        &report,
        CheckId::InstanceAwake,
        CheckStatus::Fail,
        &["hibernating", "wake", "developer.servicenow.com"],
    );
    assert_eq!(report.verdict, Verdict::Disconnected);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_self_signed_certificate_and_a_proxy_s_are_told_apart() {
    let sim = Sim::builder()
        .seed(Seed::Demo)
        .tls(true)
        .start()
        .await
        .unwrap();
    let report = doctor(target(&sim, basic("admin", "x"), false)).await;
    expect(
        &report,
        CheckId::TlsHandshake,
        CheckStatus::Fail,
        &["self-signed"],
    );

    let proxied = Sim::builder()
        .seed(Seed::Demo)
        .tls_ca("Corp Inspection CA")
        .start()
        .await
        .unwrap();
    let (admin, password) = proxied.admin();
    let report = doctor(target(&proxied, basic(&admin, &password), false)).await;
    expect(
        &report,
        CheckId::TlsHandshake,
        CheckStatus::Fail,
        &["Corp Inspection CA", "TLS-inspecting proxy is likely", "CA"],
    );
    let told = report.check(CheckId::TlsHandshake).unwrap();
    assert_eq!(told.next, Some(snowlink_core::errors::NextStep::TrustCa));

    // Given the proxy's CA, as `--ca-file` does, the same instance works.
    let options = RunOptions {
        ca_pem: Some(proxied.certificate_pem().unwrap().as_bytes().to_vec()),
        ..RunOptions::default()
    };
    let report =
        snowlink_core::checks::run(target(&proxied, basic(&admin, &password), false), options)
            .await;
    expect(
        &report,
        CheckId::TlsHandshake,
        CheckStatus::Pass,
        &["Corp Inspection CA"],
    );
    assert_ne!(
        report.check(CheckId::AuthCredentials).unwrap().status,
        CheckStatus::Fail,
        "{report:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_refused_sign_in_is_named_from_the_records() {
    let sim = demo().await;
    let state = sim.state();
    for (name, spec) in [
        (
            "locked.user",
            UserSpec {
                locked_out: true,
                ..UserSpec::new("locked.user", DEMO_PASSWORD)
            },
        ),
        (
            "reset.user",
            UserSpec {
                password_needs_reset: true,
                ..UserSpec::new("reset.user", DEMO_PASSWORD)
            },
        ),
        (
            "gone.user",
            UserSpec {
                inactive: true,
                ..UserSpec::new("gone.user", DEMO_PASSWORD)
            },
        ),
        (
            "sso.user",
            UserSpec {
                sso_only: true,
                ..UserSpec::new("sso.user", DEMO_PASSWORD)
            },
        ),
        (
            "mfa.user",
            UserSpec {
                mfa: true,
                ..UserSpec::new("mfa.user", DEMO_PASSWORD)
            },
        ),
    ] {
        state.create_user(spec).unwrap();
        state
            .grant_role(name, "snc_platform_rest_api_access")
            .unwrap();
    }
    let cases: [(&str, &str, &[&str]); 7] = [
        (
            "locked.user",
            DEMO_PASSWORD,
            &["locked_out = true", "Locked out"],
        ),
        (
            "reset.user",
            DEMO_PASSWORD,
            &["password_needs_reset = true"],
        ),
        ("gone.user", DEMO_PASSWORD, &["active = false"]),
        (
            "sso.user",
            DEMO_PASSWORD,
            &["single sign-on", "browser sign-in"],
        ),
        ("mfa.user", DEMO_PASSWORD, &["multi-factor", "X-MFA_TOKEN"]),
        (
            "svc.snowlink",
            "not-the-password",
            &["password of svc.snowlink is wrong"],
        ),
        (
            "nobody.here",
            DEMO_PASSWORD,
            &["no user nobody.here", "reset or reclaimed"],
        ),
    ];
    for (user, password, words) in cases {
        let report = doctor(target(
            &sim,
            password_grant(user, password, DEMO_CLIENT_SECRET),
            true,
        ))
        .await;
        expect(&report, CheckId::AuthCredentials, CheckStatus::Fail, words);
        let basic_report = doctor(target(&sim, basic(user, password), true)).await;
        expect(
            &basic_report,
            CheckId::AuthCredentials,
            CheckStatus::Fail,
            words,
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_admin_credentials_the_causes_are_listed_and_admin_access_suggested() {
    let sim = demo().await;
    let report = doctor(target(&sim, basic("svc.snowlink", "wrong"), false)).await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &["wrong password", "locked-out", "SSO"],
    );
    let check = report.check(CheckId::AuthCredentials).unwrap();
    assert_eq!(
        check.next,
        Some(snowlink_core::errors::NextStep::GiveAdminCredentials)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_application_side_of_a_refused_grant_is_named() {
    let sim = demo().await;
    let report = doctor(target(
        &sim,
        password_grant("svc.snowlink", DEMO_PASSWORD, "wrong-secret"),
        true,
    ))
    .await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &["client secret for Snowlink Demo is wrong"],
    );

    sim.state()
        .set_property("glide.oauth.inbound.ropc.grant_type.disabled", "true");
    let report = doctor(target(
        &sim,
        password_grant("svc.snowlink", DEMO_PASSWORD, DEMO_CLIENT_SECRET),
        true,
    ))
    .await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &["password grant is disabled", "ropc"],
    );
    sim.state()
        .set_property("glide.oauth.inbound.ropc.grant_type.disabled", "false");

    let app = sim
        .state()
        .query("oauth_entity", &format!("client_id={DEMO_CLIENT_ID}"))[0]["sys_id"]
        .clone();
    sim.state()
        .update(
            "oauth_entity",
            &app,
            Record::from([("active".into(), "false".into())]),
        )
        .unwrap();
    let report = doctor(target(
        &sim,
        password_grant("svc.snowlink", DEMO_PASSWORD, DEMO_CLIENT_SECRET),
        true,
    ))
    .await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &["active = false", "Snowlink Demo"],
    );

    // A clone leaves two records with one client id; a reset instance has none.
    sim.state()
        .update(
            "oauth_entity",
            &app,
            Record::from([("active".into(), "true".into())]),
        )
        .unwrap();
    sim.state()
        .create_oauth_app(OAuthAppSpec {
            name: "Snowlink Demo (clone)".into(),
            client_id: Some(DEMO_CLIENT_ID.into()),
            ..OAuthAppSpec::default()
        })
        .unwrap();
    let report = doctor(target(
        &sim,
        password_grant("svc.snowlink", DEMO_PASSWORD, "wrong"),
        true,
    ))
    .await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &["share client ID", "cloned"],
    );
    let gone = Credentials::PasswordGrant {
        client_id: "0123456789abcdef0123456789abcdef".into(),
        client_secret: Some(ClientSecret::new("x")),
        username: "svc.snowlink".into(),
        password: Password::new(DEMO_PASSWORD),
    };
    let report = doctor(target(&sim, gone, true)).await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &["No OAuth application has client ID", "reset"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_need_the_property_and_an_application_user() {
    let sim = demo().await;
    let app = sim
        .state()
        .create_oauth_app(OAuthAppSpec {
            name: "Pipeline".into(),
            ..OAuthAppSpec::default()
        })
        .unwrap();
    let credentials = Credentials::ClientCredentials {
        client_id: app.client_id.clone(),
        client_secret: Some(ClientSecret::new(app.client_secret.clone())),
    };
    let report = doctor(target(&sim, credentials.clone(), true)).await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &[
            "client credentials grant is not enabled",
            "glide.oauth.inbound.client.credential.grant_type.enabled",
        ],
    );
    let told = report.check(CheckId::AuthCredentials).unwrap();
    assert!(!format!("{told:?}").contains("password"), "{told:#?}");
    sim.state().set_property(
        "glide.oauth.inbound.client.credential.grant_type.enabled",
        "true",
    );
    let report = doctor(target(&sim, credentials, true)).await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &["no OAuth Application User"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_roles_acls_and_writes_refused_name_the_record() {
    let sim = demo().await;
    let mut t = target(&sim, basic("abel.tuter", DEMO_PASSWORD), true);
    sim.state()
        .grant_role("abel.tuter", "snc_platform_rest_api_access")
        .unwrap();
    t.params = CheckParams {
        roles: vec!["itil".into()],
        roles_sufficient: vec!["admin".into()],
        tables: vec![TableAccess {
            table: "task".into(),
            operations: vec!["read".into()],
        }],
        ..CheckParams::default()
    };
    let report = doctor(t.clone()).await;
    expect(
        &report,
        CheckId::UserRoles,
        CheckStatus::Fail,
        &["abel.tuter lacks the role itil", "admin"],
    );
    assert!(!report.check(CheckId::UserRoles).unwrap().links.is_empty());

    // Without the role check, the read itself is refused by the ACL.
    t.params.roles.clear();
    let report = doctor(t.clone()).await;
    expect(
        &report,
        CheckId::AclTable,
        CheckStatus::Fail,
        &["ACL task / read refuses abel.tuter"],
    );

    // Reads allowed, writes refused (servicenow.md §2.7): a role that may read but not write.
    let state = sim.state();
    let reader = state
        .insert(
            "sys_user_role",
            Record::from([("name".into(), "x_acme.reader".into())]),
        )
        .unwrap();
    let acl = state
        .insert(
            "sys_security_acl",
            Record::from([
                ("name".into(), "task".into()),
                ("operation".into(), "read".into()),
            ]),
        )
        .unwrap();
    state
        .insert(
            "sys_security_acl_role",
            Record::from([
                ("sys_security_acl".into(), acl["sys_id"].clone()),
                ("sys_user_role".into(), reader["sys_id"].clone()),
            ]),
        )
        .unwrap();
    state.grant_role("abel.tuter", "x_acme.reader").unwrap();
    t.params.tables = vec![TableAccess {
        table: "task".into(),
        operations: vec!["read".into(), "write".into()],
    }];
    let report = doctor(t).await;
    expect(
        &report,
        CheckId::AclTable,
        CheckStatus::Fail,
        &["ACL task / write is missing", "security_admin"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_missing_a_required_scope_is_a_scope_problem() {
    let sim = demo().await;
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
    let report = doctor(target(
        &sim,
        password_grant("svc.snowlink", DEMO_PASSWORD, DEMO_CLIENT_SECRET),
        true,
    ))
    .await;
    let told = report.check(CheckId::AuthCredentials).unwrap();
    let scope = report.check(CheckId::OauthScope).unwrap();
    let says_scope = |c: &snowlink_core::checks::Check| format!("{c:?}").contains("scope");
    assert!(
        (told.status == CheckStatus::Fail && says_scope(told))
            || (scope.status == CheckStatus::Fail && says_scope(scope)),
        "{report:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_set_loaded_but_not_committed_and_its_endpoint_are_named() {
    let sim = demo().await;
    let state = sim.state();
    let set = state
        .insert(
            "sys_remote_update_set",
            Record::from([
                ("name".into(), "Atlan Update Set".into()),
                ("state".into(), "loaded".into()),
            ]),
        )
        .unwrap();
    let mut t = target(
        &sim,
        password_grant("svc.snowlink", DEMO_PASSWORD, DEMO_CLIENT_SECRET),
        true,
    );
    t.params.update_set = Some("Atlan Update Set".into());
    t.params.endpoint = Some("/api/x_acme/link/ping".into());
    let report = doctor(t.clone()).await;
    expect(
        &report,
        CheckId::UpdatesetCommitted,
        CheckStatus::Fail,
        &["Atlan Update Set is loaded, not committed", "Commit"],
    );
    expect(
        &report,
        CheckId::RestScripted,
        CheckStatus::Fail,
        &["/api/x_acme/link/ping answers 400", "not committed"],
    );

    state
        .update(
            "sys_remote_update_set",
            &set["sys_id"],
            Record::from([("state".into(), "committed".into())]),
        )
        .unwrap();
    state
        .insert(
            "sys_update_preview_problem",
            Record::from([
                ("remote_update_set".into(), set["sys_id"].clone()),
                ("status".into(), "skipped".into()),
                ("description".into(), "Could not find a record".into()),
            ]),
        )
        .unwrap();
    let report = doctor(t.clone()).await;
    expect(
        &report,
        CheckId::UpdatesetCommitted,
        CheckStatus::Warn,
        &["committed, with 1 preview problem(s) skipped"],
    );

    t.params.update_set = Some("Never Imported".into());
    let report = doctor(t).await;
    expect(
        &report,
        CheckId::UpdatesetCommitted,
        CheckStatus::Fail,
        &["never imported", "Import"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_urls_missing_from_the_registry_are_named() {
    let sim = demo().await;
    let app = sim
        .state()
        .create_oauth_app(OAuthAppSpec {
            name: "Elsewhere".into(),
            redirect_urls: vec!["https://elsewhere.example/callback".into()],
            ..OAuthAppSpec::default()
        })
        .unwrap();
    let credentials = Credentials::AuthCode {
        client_id: app.client_id,
        client_secret: Some(ClientSecret::new(app.client_secret)),
        access_token: None,
        refresh_token: None,
        expires_at: None,
        refresh_issued_at: None,
    };
    let report = doctor(target(&sim, credentials, true)).await;
    expect(
        &report,
        CheckId::OauthRedirect,
        CheckStatus::Fail,
        &[
            "registers none of Snowlink's callback URLs",
            "http://127.0.0.1:8765/callback",
            "elsewhere.example",
        ],
    );
    // The demo app registers all three.
    let demo_app = Credentials::AuthCode {
        client_id: DEMO_CLIENT_ID.into(),
        client_secret: Some(ClientSecret::new(DEMO_CLIENT_SECRET)),
        access_token: None,
        refresh_token: None,
        expires_at: None,
        refresh_issued_at: None,
    };
    let report = doctor(target(&sim, demo_app, true)).await;
    expect(
        &report,
        CheckId::OauthRedirect,
        CheckStatus::Pass,
        &["every callback URL"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_token_past_its_lifespan_means_relink() {
    let sim = demo().await;
    let app = sim
        .state()
        .create_oauth_app(OAuthAppSpec {
            name: "Short".into(),
            refresh_token_lifespan: Some(1),
            ..OAuthAppSpec::default()
        })
        .unwrap();
    let oauth = snowlink_core::oauth::OAuthClient::new(
        snowlink_core::oauth::OAuthEndpoints::service_now(
            &snowlink_core::InstanceUrl::parse(sim.url()).unwrap(),
        )
        .unwrap(),
        app.client_id.clone(),
        Some(ClientSecret::new(app.client_secret.clone())),
    )
    .unwrap();
    let tokens = oauth
        .password_grant("beth.anglin", &Password::new(DEMO_PASSWORD), &[])
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let credentials = Credentials::AuthCode {
        client_id: app.client_id,
        client_secret: Some(ClientSecret::new(app.client_secret)),
        access_token: None,
        refresh_token: tokens.refresh_token,
        expires_at: None,
        refresh_issued_at: Some(chrono::Utc::now() - chrono::Duration::days(101)),
    };
    let report = doctor(target(&sim, credentials, false)).await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &["expired", "lifespan", "Link the account again"],
    );
    let check = report.check(CheckId::AuthCredentials).unwrap();
    assert_eq!(check.next, Some(snowlink_core::errors::NextStep::Relink));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_outbound_call_is_followed_to_the_status_the_rule_got() {
    let sim = demo().await;
    let (receiver, status) = failing_receiver().await;
    sim.state()
        .insert(
            "sys_script",
            Record::from([
                ("name".into(), "Tell the tool".into()),
                ("collection".into(), "incident".into()),
                ("when".into(), "after".into()),
                ("active".into(), "true".into()),
                ("action_insert".into(), "true".into()),
                ("script".into(), format!("// snowlink:outbound={receiver}")),
            ]),
        )
        .unwrap();
    let mut t = target(
        &sim,
        password_grant("svc.snowlink", DEMO_PASSWORD, DEMO_CLIENT_SECRET),
        true,
    );
    t.params.outbound = Some(OutboundProbe {
        table: "incident".into(),
        fields: serde_json::from_value(
            serde_json::json!({"short_description": "Snowlink connection test"}),
        )
        .unwrap(),
        wait_seconds: 5,
    });
    let report = doctor(t.clone()).await;
    expect(
        &report,
        CheckId::RoundtripOutbound,
        CheckStatus::Fail,
        &["got HTTP 500"],
    );
    *status.lock().unwrap() = 200;
    let report = doctor(t).await;
    expect(
        &report,
        CheckId::RoundtripOutbound,
        CheckStatus::Pass,
        &["HTTP 200"],
    );
}

/// A receiver for business-rule calls that answers with a settable status.
async fn failing_receiver() -> (String, std::sync::Arc<std::sync::Mutex<u16>>) {
    let status = std::sync::Arc::new(std::sync::Mutex::new(500u16));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let answer = status.clone();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut stream, _)) = listener.accept().await {
            let code = *answer.lock().unwrap();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = stream.read(&mut buf).await;
                let reply =
                    format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, status)
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_rules_full_queues_and_quota_cancels_are_told_apart() {
    let sim = demo().await;
    let t = || target(&sim, basic("svc.snowlink", DEMO_PASSWORD), false);
    sim.set_fault(Fault::RateLimit {
        limit: 0,
        window: Duration::from_secs(60),
    });
    let report = doctor(t()).await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &["rate-limit rule", "Rate Limit Rules"],
    );
    sim.clear_faults();
    sim.set_fault(Fault::QueueFull);
    let report = doctor(t()).await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &["queue is full", "no rate-limit rule named"],
    );
    sim.clear_faults();
    sim.set_fault(Fault::QuotaCancelled);
    let report = doctor(t()).await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &["maximum execution time", "narrow the query"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_instance_cannot_hold_the_run_past_its_deadline() {
    let sim = demo().await;
    sim.set_fault(Fault::Latency(Duration::from_secs(30)));
    let options = RunOptions {
        check_timeout: Duration::from_secs(1),
        deadline: Duration::from_secs(3),
        ..RunOptions::default()
    };
    let started = std::time::Instant::now();
    let report =
        snowlink_core::checks::run(target(&sim, basic("admin", "x"), false), options).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the run took {:?}",
        started.elapsed()
    );
    expect(
        &report,
        CheckId::InstanceAwake,
        CheckStatus::Fail,
        // Whichever limit fires first (the check's or its request's), it says so.
        &["1 s"],
    );
    assert_eq!(
        report.checks.len(),
        CheckId::ALL.len(),
        "every check is reported"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_403_that_passes_on_retry_is_transient_and_one_that_repeats_is_not() {
    let sim = demo().await;
    // The anonymous `instance.awake` call takes the first 403 (as a refusal it passes); the
    // sign-in's two first calls (asked at once) the next; its retry then goes through.
    sim.set_fault(Fault::FlakyAcl(3));
    let report = doctor(target(&sim, basic("svc.snowlink", DEMO_PASSWORD), false)).await;
    assert_ne!(
        report.check(CheckId::AuthCredentials).unwrap().status,
        CheckStatus::Fail,
        "{report:#?}"
    );
    sim.clear_faults();
    sim.set_fault(Fault::FlakyAcl(5));
    let report = doctor(target(&sim, basic("svc.snowlink", DEMO_PASSWORD), false)).await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &["REST API access control"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_the_basic_auth_restriction_refuses_is_not_called_a_wrong_password() {
    let sim = demo().await;
    sim.set_fault(Fault::BasicRestricted);
    // An admin keeps Basic auth with the role ("Maintain current login"), so it can read why.
    sim.state()
        .grant_role("admin", "snc_basic_auth_api_access")
        .unwrap();
    let report = doctor(target(&sim, basic("beth.anglin", DEMO_PASSWORD), true)).await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &[
            "restricts Basic auth",
            "snc_basic_auth_api_access",
            "Web service access only",
        ],
    );
    let told = report.check(CheckId::AuthCredentials).unwrap();
    assert!(!told.summary.contains("wrong"), "{told:#?}");
    // A web-service-only user is exempt, so its refusal is a wrong password again.
    let report = doctor(target(
        &sim,
        basic("svc.snowlink", "not-the-password"),
        true,
    ))
    .await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &["password of svc.snowlink is wrong"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rest_api_acl_refusal_names_the_roles_the_user_lacks() {
    let sim = demo().await;
    let state = sim.state();
    state.set_rest_api_acl(true);
    let mut t = target(&sim, basic("beth.anglin", DEMO_PASSWORD), true);
    t.params.roles = vec!["x_acme.integration".into()];
    let report = doctor(t).await;
    expect(
        &report,
        CheckId::AuthCredentials,
        CheckStatus::Fail,
        &[
            "REST API access control refused beth.anglin",
            "snc_platform_rest_api_access",
            "x_acme.integration",
        ],
    );
}

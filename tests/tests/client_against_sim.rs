//! `SnowClient` against the simulator over real loopback HTTP: every typed error comes from an
//! answer the simulator gives the way a real instance does (docs/servicenow.md).

use std::time::Duration;

use serde_json::json;
use snowlink_core::InstanceUrl;
use snowlink_core::api::{
    ApiError, Auth, AuthFailure, EncodedQuery, Forbidden, SnowClient, TableQuery, field,
};
use snowlink_core::http::{CertificateProblem, TransportError};
use snowlink_core::secrets::Password;
use snowlink_e2e::{demo, free_port};
use snowlink_sim::{Fault, RunningSim, Seed, Sim, UserSpec};

fn client_as(sim: &RunningSim, user: &str, password: &str) -> SnowClient {
    let instance = InstanceUrl::parse(sim.url()).unwrap();
    let auth = Auth::Basic {
        username: user.into(),
        password: Password::new(password),
    };
    SnowClient::new(instance, auth).unwrap()
}

fn admin_client(sim: &RunningSim) -> SnowClient {
    let (user, password) = sim.admin();
    client_as(sim, &user, &password)
}

#[tokio::test]
async fn queries_page_through_link_headers_and_counts_use_the_aggregate_api() {
    let sim = demo().await;
    let client = admin_client(&sim);
    let expected = sim.state().count("incident", "active=true");
    assert!(expected > 5, "the demo seed has active incidents");

    let query = TableQuery {
        query: Some(EncodedQuery::raw("active=true")),
        limit: Some(5),
        ..Default::default()
    };
    let first = client.query("incident", &query).await.unwrap();
    assert_eq!(first.records.len(), 5);
    assert_eq!(first.total, Some(expected as u64));
    let second = client
        .next_page(&first, "incident")
        .await
        .unwrap()
        .expect("a second page");
    let first_ids: Vec<_> = first
        .records
        .iter()
        .filter_map(|r| field(r, "sys_id"))
        .collect();
    assert!(
        second
            .records
            .iter()
            .all(|r| !first_ids.contains(&field(r, "sys_id").unwrap()))
    );

    assert_eq!(
        client
            .count("incident", Some(&EncodedQuery::raw("active=true")))
            .await
            .unwrap(),
        expected as u64
    );
    let groups = client
        .count_by(
            "incident",
            Some(&EncodedQuery::raw("active=true")),
            "priority",
        )
        .await
        .unwrap();
    assert_eq!(groups.iter().map(|g| g.count).sum::<u64>(), expected as u64);
    assert!(groups.iter().all(|g| !g.value.is_empty()));
}

#[tokio::test]
async fn records_are_created_read_and_updated() {
    let sim = demo().await;
    let client = admin_client(&sim);
    let created = client
        .create(
            "incident",
            &json!({"short_description": "Snowlink test", "correlation_id": "ext-1"}),
        )
        .await
        .unwrap();
    let sys_id = field(&created, "sys_id").unwrap().to_owned();
    assert_eq!(sys_id.len(), 32);
    let updated = client
        .update("incident", &sys_id, &json!({"correlation_id": "ext-2"}))
        .await
        .unwrap();
    assert_eq!(field(&updated, "correlation_id"), Some("ext-2"));
    let read = client.get("incident", &sys_id).await.unwrap();
    assert_eq!(field(&read, "short_description"), Some("Snowlink test"));
    assert_eq!(
        sim.state().get("incident", &sys_id).unwrap()["correlation_id"],
        "ext-2"
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_mfa_user_are_told_apart() {
    let sim = demo().await;
    let (admin, _) = sim.admin();
    let err = client_as(&sim, &admin, "wrong")
        .count("incident", None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::NotAuthenticated(AuthFailure::Rejected)),
        "{err:?}"
    );

    let mut spec = UserSpec::new("mfa.user", "Secret-123");
    spec.mfa = true;
    spec.roles = vec!["itil".into()];
    sim.state().create_user(spec).unwrap();
    let err = client_as(&sim, "mfa.user", "Secret-123")
        .count("incident", None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::NotAuthenticated(AuthFailure::MfaRequired)),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?} {}", err.hint()).contains("Secret-123"));
}

#[tokio::test]
async fn a_user_without_roles_is_refused_by_record_acls() {
    let sim = demo().await;
    sim.state()
        .create_user(UserSpec::new("no.roles", "Secret-123"))
        .unwrap();
    let client = client_as(&sim, "no.roles", "Secret-123");
    match client
        .create("sys_user_role", &json!({"name": "x_escalate"}))
        .await
    {
        Err(ApiError::Forbidden {
            kind: Forbidden::RecordAcl,
            what,
        }) => {
            assert_eq!(what, "sys_user_role")
        }
        other => panic!("expected a 403 from the record ACL, got {other:?}"),
    }
    assert!(
        sim.state()
            .query("sys_user_role", "name=x_escalate")
            .is_empty()
    );
}

#[tokio::test]
async fn a_missing_table_and_a_missing_scripted_path_point_at_the_update_set() {
    let sim = demo().await;
    let client = admin_client(&sim);
    let err = client
        .query("x_snowlink_link", &TableQuery::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ApiError::InvalidTable { table } if table == "x_snowlink_link"),
        "{err:?}"
    );
    let err = client
        .get_path("/api/snc/oauth_userinfo")
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::PathNotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn a_hibernating_instance_is_recognised_despite_http_200() {
    let sim = demo().await;
    sim.set_fault(Fault::Hibernate);
    let err = admin_client(&sim)
        .count("incident", None)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Hibernating), "{err:?}");
    assert!(err.hint().contains("Wake"));
}

#[tokio::test]
async fn short_rate_limits_are_waited_out_and_a_429_storm_ends_with_an_error() {
    let sim = demo().await;
    let client = admin_client(&sim);
    sim.set_fault(Fault::RateLimit {
        limit: 1,
        window: Duration::from_secs(1),
    });
    // The first call uses the window's one request; the second waits for the next window.
    client.count("incident", None).await.unwrap();
    client.count("incident", None).await.unwrap();

    sim.clear_faults();
    sim.set_fault(Fault::RateLimit {
        limit: 0,
        window: Duration::from_secs(60),
    });
    let started = std::time::Instant::now();
    let err = client.count("incident", None).await.unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::RateLimited {
                retry_after: Some(_),
                rule: Some(_),
            }
        ),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a long Retry-After is not waited for"
    );
}

#[tokio::test]
async fn an_untrusted_certificate_is_named_as_such() {
    let sim = Sim::builder()
        .seed(Seed::Empty)
        .tls(true)
        .start()
        .await
        .unwrap();
    let err = admin_client(&sim)
        .count("incident", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Transport(TransportError::TlsUntrusted {
                problem: CertificateProblem::UnknownIssuer
            })
        ),
        "{err:?}"
    );
    assert!(err.hint().contains("proxy"));
}

#[tokio::test]
async fn slow_instances_time_out_and_dropped_connections_fail_cleanly() {
    let sim = demo().await;
    let (user, password) = sim.admin();
    let instance = InstanceUrl::parse(sim.url()).unwrap();
    let auth = Auth::Basic {
        username: user,
        password: Password::new(password),
    };
    let impatient = SnowClient::with_timeout(instance, auth, Duration::from_millis(300)).unwrap();
    sim.set_fault(Fault::Latency(Duration::from_secs(3)));
    let err = impatient.count("incident", None).await.unwrap_err();
    assert!(
        matches!(err, ApiError::Transport(TransportError::Timeout(_))),
        "{err:?}"
    );
    assert!(err.is_retryable());

    sim.clear_faults();
    sim.set_fault(Fault::DropConnections);
    let err = admin_client(&sim)
        .count("incident", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Transport(
                TransportError::Network { .. } | TransportError::ConnectRefused { .. }
            )
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn nothing_listening_is_connect_refused() {
    let port = free_port();
    let instance = InstanceUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let auth = Auth::Basic {
        username: "a".into(),
        password: Password::new("b"),
    };
    let err = SnowClient::new(instance, auth)
        .unwrap()
        .count("incident", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Transport(TransportError::ConnectRefused { .. })
        ),
        "{err:?}"
    );
}

/// A one-request server that is not ServiceNow: answers `response` verbatim and hands back the
/// request it received.
async fn answer_once(response: String) -> (u16, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buffer = [0u8; 8192];
        let read = socket.read(&mut buffer).await.unwrap_or(0);
        socket.write_all(response.as_bytes()).await.unwrap();
        String::from_utf8_lossy(&buffer[..read]).into_owned()
    });
    (port, served)
}

fn client_at(port: u16) -> SnowClient {
    let instance = InstanceUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let auth = Auth::Basic {
        username: "a".into(),
        password: Password::new("b"),
    };
    SnowClient::new(instance, auth).unwrap()
}

#[tokio::test]
async fn a_body_that_is_not_json_is_malformed_not_a_panic() {
    let body = "{\"result\": {\"stats\": ";
    let (port, _) = answer_once(format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ))
    .await;
    let err = client_at(port).count("incident", None).await.unwrap_err();
    assert!(matches!(err, ApiError::Malformed { .. }), "{err:?}");
}

/// Credentials are attached to every call, so a redirect (often an SSO page) is reported, never
/// followed: the credentials must not travel to another host.
#[tokio::test]
async fn a_redirect_is_reported_and_not_followed_with_the_credentials() {
    let (elsewhere, elsewhere_served) = answer_once(String::new()).await;
    let (port, served) = answer_once(format!(
        "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{elsewhere}/login?token=abc\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    ))
    .await;
    let err = client_at(port).count("incident", None).await.unwrap_err();
    assert!(
        matches!(&err, ApiError::Redirected { location } if location == &format!("http://127.0.0.1:{elsewhere}/login")),
        "{err:?}"
    );
    let request = served.await.unwrap().to_ascii_lowercase();
    assert!(request.contains("authorization: basic"), "{request}");
    assert!(request.contains("user-agent: snowlink/"), "{request}");
    assert!(
        !elsewhere_served.is_finished(),
        "nothing went to the redirect target"
    );
    elsewhere_served.abort();
}

#[tokio::test]
async fn the_rest_api_acl_and_a_missing_record_are_told_apart() {
    let sim = demo().await;
    let state = sim.state();
    state.set_rest_api_acl(true);
    let beth = client_as(&sim, "beth.anglin", snowlink_sim::DEMO_PASSWORD);
    // The ACL guards the Table API only; the Aggregate API still answers.
    assert!(beth.count("incident", None).await.is_ok());
    let err = beth
        .query("incident", &TableQuery::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Forbidden {
                kind: Forbidden::ApiAcl,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.hint().contains("snc_platform_rest_api_access"));

    let err = admin_client(&sim)
        .get("incident", "0123456789abcdef0123456789abcdef")
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn a_token_without_a_required_scope_is_told_apart_from_an_acl() {
    use snowlink_core::oauth::{OAuthClient, OAuthEndpoints};
    use snowlink_core::secrets::ClientSecret;
    let sim = demo().await;
    sim.state()
        .insert(
            "sys_api_access_policy",
            snowlink_sim::Record::from([
                ("name".into(), "Table API needs snowlink.read".into()),
                ("api".into(), "Table API".into()),
                ("required_scope".into(), "snowlink.read".into()),
            ]),
        )
        .unwrap();
    let instance = InstanceUrl::parse(sim.url()).unwrap();
    let oauth = OAuthClient::new(
        OAuthEndpoints::service_now(&instance).unwrap(),
        snowlink_sim::DEMO_CLIENT_ID,
        Some(ClientSecret::new(snowlink_sim::DEMO_CLIENT_SECRET)),
    )
    .unwrap();
    let tokens = oauth
        .password_grant(
            "beth.anglin",
            &Password::new(snowlink_sim::DEMO_PASSWORD),
            &[],
        )
        .await
        .unwrap();
    let client = SnowClient::new(instance, Auth::Bearer(tokens.access_token)).unwrap();
    let err = client
        .query("incident", &TableQuery::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Forbidden {
                kind: Forbidden::MissingScope,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.hint().contains("scope"));
}

/// RFC 6761 §6.4: `.invalid` names never resolve, on any network.
#[tokio::test]
async fn a_name_that_does_not_resolve_is_a_dns_error() {
    let instance = InstanceUrl::parse("https://snowlink-test.invalid").unwrap();
    let auth = Auth::Basic {
        username: "a".into(),
        password: Password::new("b"),
    };
    let client = SnowClient::with_timeout(instance, auth, Duration::from_secs(20)).unwrap();
    let err = client.count("incident", None).await.unwrap_err();
    assert!(
        matches!(&err, ApiError::Transport(TransportError::Dns { host }) if host == "snowlink-test.invalid"),
        "{err:?}"
    );
    assert!(err.hint().contains("address"));
}

//! Conformance: the failure modes of servicenow.md "More failure modes" the diagnostics must
//! tell apart — the two kinds of 429 (item 15), quota-cancelled reads (item 14), the transient
//! API-level 403 (item 17), a certificate issued by a TLS-inspecting proxy's private CA (item
//! 10) — and business-rule calls whose target fails, as `sys_outbound_http_log` records them.

mod common;

use std::time::Duration;

use common::{admin_get, client, json};
use snowlink_sim::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, Fault, Record, Seed, Sim};

/// The text of an error envelope's `error.message`.
fn message(body: &serde_json::Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

fn is_sys_id(text: &str) -> bool {
    text.len() == 32
        && text
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

#[tokio::test]
async fn a_rate_limit_rule_names_itself_in_x_ratelimit_rule() {
    let sim = Sim::builder()
        .fault("ratelimit=1".parse().unwrap())
        .start()
        .await
        .unwrap();
    assert_eq!(
        admin_get(&sim, "/api/now/table/sys_user")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let limited = admin_get(&sim, "/api/now/table/sys_user")
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    let headers = limited.headers().clone();
    for name in [
        "retry-after",
        "x-ratelimit-limit",
        "x-ratelimit-reset",
        "x-ratelimit-rule",
    ] {
        assert!(headers.contains_key(name), "{name} missing: {headers:?}");
    }
    let rule_id = headers["x-ratelimit-rule"].to_str().unwrap().to_owned();
    assert!(is_sys_id(&rule_id), "{rule_id}");
    let body = json(limited).await;
    assert_eq!(message(&body), "Rate limit exceeded");
    assert_eq!(body["status"], "failure");
    // The header names a real, active rule record, readable by an admin once the limit lifts.
    sim.clear_faults();
    let rule = json(
        admin_get(
            &sim,
            &format!("/api/now/table/sys_rate_limit_rules/{rule_id}"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert!(!rule["result"]["name"].as_str().unwrap().is_empty());
    assert_eq!(
        sim.state().get("sys_rate_limit_rules", &rule_id).unwrap()["active"],
        "false",
        "clearing the fault deactivates the rule"
    );
    sim.set_fault("ratelimit=0".parse().unwrap());
    let again = admin_get(&sim, "/api/now/table/sys_user")
        .send()
        .await
        .unwrap();
    assert_eq!(again.headers()["x-ratelimit-rule"], rule_id.as_str());
    assert_eq!(
        sim.state().get("sys_rate_limit_rules", &rule_id).unwrap()["active"],
        "true"
    );
}

#[tokio::test]
async fn a_full_api_queue_answers_429_without_rate_limit_headers() {
    let sim = Sim::builder()
        .seed(Seed::Demo)
        .fault(Fault::QueueFull)
        .start()
        .await
        .unwrap();
    for path in [
        "/api/now/table/incident?sysparm_limit=1",
        "/api/now/stats/incident?sysparm_count=true",
        "/api/x_acme/anything",
    ] {
        let response = admin_get(&sim, path).send().await.unwrap();
        assert_eq!(response.status(), 429, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        assert!(!response.headers().contains_key("retry-after"), "{path}");
        let rate_headers: Vec<_> = response
            .headers()
            .keys()
            .filter(|name| name.as_str().starts_with("x-ratelimit-"))
            .collect();
        assert!(rate_headers.is_empty(), "{path}: {rate_headers:?}");
        let body = json(response).await;
        assert_eq!(
            message(&body),
            "Maximum number of concurrent API requests exceeded"
        );
        assert_eq!(body["status"], "failure");
    }
    // Only the API semaphore is full: the login page still answers.
    let login = client()
        .get(format!("{}/login.do", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
}

/// Splits a quota-cancelled body into what was written before the cancel and the trailing error.
fn split_cancelled(body: &str) -> (&str, serde_json::Value) {
    let at = body.find(r#"{"error":"#).expect("a trailing error object");
    let trailing = serde_json::from_str(&body[at..]).expect("the trailing object is JSON");
    (&body[..at], trailing)
}

fn assert_transaction_cancelled(trailing: &serde_json::Value) {
    assert_eq!(
        message(trailing),
        "Transaction cancelled: maximum execution time exceeded"
    );
    assert!(
        !trailing["error"]["detail"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
    );
    assert_eq!(trailing["status"], "failure");
}

/// Five incidents read as the admin from a demo instance with `fault` on.
async fn incidents_with(fault: Fault) -> reqwest::Response {
    let sim = Sim::builder()
        .seed(Seed::Demo)
        .fault(fault)
        .start()
        .await
        .unwrap();
    admin_get(&sim, "/api/now/table/incident?sysparm_limit=5")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_quota_cancelled_table_read_is_200_json_with_a_trailing_error() {
    let response = incidents_with(Fault::QuotaCancelled).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body = response.text().await.unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&body).is_err(),
        "the body as a whole is not JSON: {body}"
    );
    let (written, trailing) = split_cancelled(&body);
    assert_transaction_cancelled(&trailing);
    let row = written
        .strip_prefix(r#"{"result":["#)
        .and_then(|rest| rest.strip_suffix(','))
        .expect("the partial result ends after its first row");
    let row: serde_json::Value = serde_json::from_str(row).unwrap();
    assert!(row["number"].as_str().unwrap().starts_with("INC"), "{row}");
}

#[tokio::test]
async fn a_quota_cancelled_read_can_also_be_one_json_document_that_says_failure() {
    let response = incidents_with(Fault::QuotaCancelledDocument).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("one JSON document");
    assert_eq!(body["status"], "failure");
    assert_transaction_cancelled(&body);
    let rows = body["result"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "the partial result: {body}");
}

#[tokio::test]
async fn a_quota_cancelled_aggregate_is_cut_short_the_same_way() {
    let sim = Sim::builder()
        .seed(Seed::Demo)
        .fault(Fault::QuotaCancelled)
        .start()
        .await
        .unwrap();
    let response = admin_get(&sim, "/api/now/stats/incident?sysparm_count=true")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body = response.text().await.unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&body).is_err());
    let (written, trailing) = split_cancelled(&body);
    assert!(written.starts_with(r#"{"result":{"stats":"#), "{written}");
    assert_transaction_cancelled(&trailing);
}

#[tokio::test]
async fn quota_rules_leave_oauth_single_records_and_scripted_rest_alone() {
    let sim = Sim::builder()
        .seed(Seed::Demo)
        .fault(Fault::QuotaCancelled)
        .start()
        .await
        .unwrap();
    let token = client()
        .post(format!("{}/oauth_token.do", sim.url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("username", "beth.anglin"),
            ("password", DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    assert!(json(token).await["access_token"].is_string());

    let incident = sim.state().query("incident", "")[0]["sys_id"].clone();
    let single = admin_get(&sim, &format!("/api/now/table/incident/{incident}"))
        .send()
        .await
        .unwrap();
    assert_eq!(json(single).await["result"]["sys_id"], incident.as_str());

    let state = sim.state();
    let definition = state
        .insert(
            "sys_ws_definition",
            Record::from([
                ("name".into(), "Ops".into()),
                ("base_uri".into(), "/api/x_acme/ops".into()),
            ]),
        )
        .unwrap();
    state
        .insert(
            "sys_ws_operation",
            Record::from([
                ("name".into(), "ping".into()),
                ("http_method".into(), "GET".into()),
                ("relative_path".into(), "/ping".into()),
                ("operation_script".into(), "// snowlink:behaviour=ok".into()),
                (
                    "web_service_definition".into(),
                    definition["sys_id"].clone(),
                ),
            ]),
        )
        .unwrap();
    let scripted = admin_get(&sim, "/api/x_acme/ops/ping")
        .send()
        .await
        .unwrap();
    assert_eq!(scripted.status(), 200);
    assert_eq!(json(scripted).await["result"]["status"], "ok");
}

#[tokio::test]
async fn a_flaky_api_acl_refuses_n_requests_then_lets_them_through() {
    let sim = Sim::builder()
        .seed(Seed::Demo)
        .fault("flaky-acl=2".parse().unwrap())
        .start()
        .await
        .unwrap();
    // OAuth is not an API request: it neither fails nor uses up a refusal.
    let token = client()
        .post(format!("{}/oauth_token.do", sim.url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("username", "beth.anglin"),
            ("password", DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    for attempt in 0..2 {
        let refused = admin_get(&sim, "/api/now/table/incident?sysparm_limit=1")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403, "attempt {attempt}");
        assert_eq!(
            json(refused).await,
            serde_json::json!({
                "error": {
                    "message": "User Not Authorized",
                    "detail": "Failed API level ACL Validation"
                },
                "status": "failure"
            })
        );
    }
    let retried = admin_get(&sim, "/api/now/table/incident?sysparm_limit=1")
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 200);
    assert_eq!(json(retried).await["result"].as_array().unwrap().len(), 1);
}

/// The `Display` of an error and of every error beneath it, for matching a root cause.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(" / ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// One DER element of `input`: its tag, its contents and what follows it.
fn der_element(input: &[u8]) -> (u8, &[u8], &[u8]) {
    let (length, header) = match input[1] {
        short if short < 0x80 => (usize::from(short), 2),
        long => {
            let bytes = usize::from(long & 0x7f);
            let length = input[2..2 + bytes]
                .iter()
                .fold(0, |sum, byte| sum << 8 | usize::from(*byte));
            (length, 2 + bytes)
        }
    };
    (
        input[0],
        &input[header..header + length],
        &input[header + length..],
    )
}

/// The elements of a DER SEQUENCE's or SET's contents.
fn der_children(mut contents: &[u8]) -> Vec<(u8, &[u8])> {
    let mut children = Vec::new();
    while !contents.is_empty() {
        let (tag, inner, rest) = der_element(contents);
        children.push((tag, inner));
        contents = rest;
    }
    children
}

/// Which name of a certificate to read.
#[derive(Clone, Copy)]
enum CertName {
    Issuer,
    Subject,
}

/// The common name (OID 2.5.4.3) of a DER certificate's issuer or subject.
fn common_name(certificate: &[u8], which: CertName) -> String {
    let (_, certificate, _) = der_element(certificate);
    let (_, tbs) = der_children(certificate)[0];
    let fields = der_children(tbs);
    // An explicit [0] version comes first in v3 certificates; then serial, signature, issuer,
    // validity, subject.
    let skip = usize::from(fields[0].0 == 0xa0);
    let index = match which {
        CertName::Issuer => 2,
        CertName::Subject => 4,
    };
    for (_, relative) in der_children(fields[skip + index].1) {
        for (_, attribute) in der_children(relative) {
            let parts = der_children(attribute);
            if parts[0].1 == [0x55, 0x04, 0x03] {
                return String::from_utf8(parts[1].1.to_vec()).unwrap();
            }
        }
    }
    panic!("no common name");
}

fn pem_der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[tokio::test]
async fn a_private_ca_certificate_fails_untrusting_clients_with_an_unknown_issuer() {
    let sim = Sim::builder()
        .tls_ca("Corp Inspection CA")
        .start()
        .await
        .unwrap();
    assert!(sim.url().starts_with("https://"));
    let err = client()
        .get(format!("{}/api/now/table/sys_user", sim.url()))
        .send()
        .await
        .expect_err("the private CA is not trusted by default");
    let chain = error_chain(&err);
    assert!(chain.contains("UnknownIssuer"), "{chain}");
}

#[tokio::test]
async fn trusting_the_private_ca_lets_clients_in_and_it_issued_the_leaf() {
    let name = "Corp Inspection CA";
    let sim = Sim::builder().tls_ca(name).start().await.unwrap();
    let ca_pem = sim.certificate_pem().unwrap();
    assert_eq!(
        common_name(&pem_der(ca_pem), CertName::Subject),
        name,
        "certificate_pem is the CA's"
    );
    let trusting = reqwest::Client::builder()
        .tls_certs_merge([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .tls_info(true)
        .build()
        .unwrap();
    let (user, password) = sim.admin();
    for host in ["127.0.0.1", "localhost"] {
        let url = sim.url().replace("127.0.0.1", host);
        let response = trusting
            .get(format!("{url}/api/now/table/sys_user?sysparm_limit=1"))
            .basic_auth(&user, Some(&password))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{host}");
        let leaf = response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|info| info.peer_certificate())
            .expect("the peer certificate")
            .to_vec();
        assert_eq!(common_name(&leaf, CertName::Issuer), name);
        assert_eq!(common_name(&leaf, CertName::Subject), "localhost");
    }
}

#[tokio::test]
async fn plain_tls_still_hands_out_the_self_signed_leaf() {
    let sim = Sim::builder().tls(true).start().await.unwrap();
    let pem = pem_der(sim.certificate_pem().unwrap());
    assert_eq!(
        common_name(&pem, CertName::Issuer),
        common_name(&pem, CertName::Subject)
    );
}

/// A target that answers every POST with 500.
async fn failing_target() -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async { axum::http::StatusCode::INTERNAL_SERVER_ERROR }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A loopback URL nothing listens on: the port was free a moment ago.
async fn refusing_target() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}/hook")
}

/// An active after-insert rule on incidents with `correlation_id=key`, calling `url`.
fn rule_calling(sim: &snowlink_sim::RunningSim, key: &str, url: &str) {
    sim.state()
        .insert(
            "sys_script",
            Record::from([
                ("name".into(), format!("Notify {key}")),
                ("collection".into(), "incident".into()),
                ("when".into(), "after".into()),
                ("active".into(), "true".into()),
                ("action_insert".into(), "true".into()),
                ("filter_condition".into(), format!("correlation_id={key}")),
                ("script".into(), format!("// snowlink:outbound={url}\n")),
            ]),
        )
        .unwrap();
}

/// Creates an incident over the Table API and returns the outbound log rows of it, read back
/// over the Table API as an admin, once the call has been made.
async fn logged_calls_of_new_incident(
    sim: &snowlink_sim::RunningSim,
    key: &str,
) -> Vec<serde_json::Value> {
    let (user, password) = sim.admin();
    let created = client()
        .post(format!("{}/api/now/table/incident", sim.url()))
        .basic_auth(&user, Some(&password))
        .json(&serde_json::json!({ "short_description": key, "correlation_id": key }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let sys_id = json(created).await["result"]["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/now/table/sys_outbound_http_log?sysparm_query=source_record={sys_id}");
    for _ in 0..250 {
        let response = admin_get(sim, &path).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let rows = json(response).await["result"].as_array().unwrap().clone();
        if !rows.is_empty() {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no outbound call logged for {sys_id}");
}

#[tokio::test]
async fn failed_outbound_calls_are_logged_and_readable_over_the_table_api() {
    let sim = Sim::builder().seed(Seed::Demo).start().await.unwrap();
    let refusing = refusing_target().await;
    let failing = failing_target().await;
    rule_calling(&sim, "REFUSED-1", &refusing);
    rule_calling(&sim, "FAILS-1", &failing);

    let refused = logged_calls_of_new_incident(&sim, "REFUSED-1").await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["url"], refusing.as_str());
    assert_eq!(refused[0]["method"], "POST");
    assert_eq!(refused[0]["response_status"], "0");
    assert!(
        !refused[0]["error"].as_str().unwrap().is_empty(),
        "{refused:?}"
    );
    assert_eq!(refused[0]["source_table"], "incident");

    let failed = logged_calls_of_new_incident(&sim, "FAILS-1").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["url"], failing.as_str());
    assert_eq!(failed[0]["response_status"], "500");
    assert_eq!(failed[0]["error"], "");
}

/// A URL too long for the web server gets its HTML 400 page, not the API's JSON (3.8); one
/// just under the limit is an ordinary API call.
#[tokio::test]
async fn a_url_too_long_for_the_web_server_gets_its_html_page() {
    let sim = common::start(Seed::Demo).await;
    let query = |n: usize| {
        format!(
            "/api/now/table/incident?sysparm_limit=1&sysparm_query=short_descriptionLIKE{}",
            "a".repeat(n)
        )
    };
    let long = admin_get(&sim, &query(9_000)).send().await.unwrap();
    assert_eq!(long.status(), 400);
    let kind = long.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(
        long.text()
            .await
            .unwrap()
            .contains("Request header is too large")
    );
    let short = admin_get(&sim, &query(2_000)).send().await.unwrap();
    assert_eq!(short.status(), 200);
    assert!(json(short).await["result"].is_array());
}

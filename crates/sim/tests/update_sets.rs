//! Conformance: update sets in the unload format (import → loaded, preview → problems,
//! commit → the instance behaves accordingly), scripted REST and business rules.

mod common;

use std::sync::{Arc, Mutex};

use common::{admin_get, client, json, start};
use snowlink_sim::testing::{Browser, location};
use snowlink_sim::{Fault, Record, RunningSim, Seed};

fn record_update(table: &str, fields: &[(&str, &str)]) -> String {
    let body: String = fields
        .iter()
        .map(|(k, v)| format!("<{k}>{}</{k}>", escape(v)))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><record_update table=\"{table}\">\
         <{table} action=\"INSERT_OR_UPDATE\">{body}</{table}></record_update>"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An update set document; every second payload is entity-escaped instead of CDATA.
fn unload(name: &str, payloads: &[(&str, String)]) -> String {
    let mut doc = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><unload unload_date=\"2022-11-29 12:14:37\">\
         <sys_remote_update_set action=\"INSERT_OR_UPDATE\"><application display_value=\"Global\">global</application>\
         <name>{name}</name><remote_sys_id>0123456789abcdef0123456789abcdef</remote_sys_id><state>loaded</state>\
         <sys_id>fedcba9876543210fedcba9876543210</sys_id></sys_remote_update_set>"
    );
    for (index, (kind, payload)) in payloads.iter().enumerate() {
        let payload = if index % 2 == 0 {
            format!("<![CDATA[{payload}]]>")
        } else {
            escape(payload)
        };
        doc.push_str(&format!(
            "<sys_update_xml action=\"INSERT_OR_UPDATE\"><action>INSERT_OR_UPDATE</action><category>customer</category>\
             <name>update_{index}</name><payload>{payload}</payload>\
             <remote_update_set display_value=\"{name}\">fedcba9876543210fedcba9876543210</remote_update_set>\
             <table/><target_name>t{index}</target_name><type>{kind}</type><update_guid>g{index}</update_guid></sys_update_xml>"
        ));
    }
    doc.push_str("</unload>");
    doc
}

const ROLE_ID: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01";
const ACL_ID: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa02";
const DEF_ID: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa03";

fn integration_set(hook: &str) -> String {
    unload(
        "Snowlink integration",
        &[
            (
                "Table",
                record_update(
                    "sys_db_object",
                    &[
                        ("sys_id", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa09"),
                        ("name", "u_sync_log"),
                        ("label", "Sync log"),
                    ],
                ),
            ),
            (
                "Dictionary",
                record_update(
                    "sys_dictionary",
                    &[("name", "u_sync_log"), ("element", "u_message")],
                ),
            ),
            (
                "Role",
                record_update(
                    "sys_user_role",
                    &[("sys_id", ROLE_ID), ("name", "x_snowlink.integration")],
                ),
            ),
            (
                "Access Control",
                record_update(
                    "sys_security_acl",
                    &[
                        ("sys_id", ACL_ID),
                        ("name", "u_sync_log"),
                        ("operation", "read"),
                        ("type", "record"),
                    ],
                ),
            ),
            (
                "Access Roles",
                record_update(
                    "sys_security_acl_role",
                    &[("sys_security_acl", ACL_ID), ("sys_user_role", ROLE_ID)],
                ),
            ),
            (
                "Business Rule",
                record_update(
                    "sys_script",
                    &[
                        ("name", "Notify Snowlink"),
                        ("collection", "incident"),
                        ("when", "after"),
                        ("active", "true"),
                        ("action_insert", "true"),
                        ("action_update", "true"),
                        ("filter_condition", "correlation_idISNOTEMPTY"),
                        (
                            "script",
                            &format!(
                                "(function(){{ var r = new sn_ws.RESTMessageV2(); r.setEndpoint('{hook}'); r.execute(); }})();"
                            ),
                        ),
                    ],
                ),
            ),
            (
                "Scripted REST API",
                record_update(
                    "sys_ws_definition",
                    &[
                        ("sys_id", DEF_ID),
                        ("name", "OAuth userinfo"),
                        ("namespace", "snc"),
                        ("base_uri", "/api/snc/oauth_userinfo"),
                        ("active", "true"),
                    ],
                ),
            ),
            (
                "Scripted REST Resource",
                record_update(
                    "sys_ws_operation",
                    &[
                        ("web_service_definition", DEF_ID),
                        ("name", "get"),
                        ("http_method", "GET"),
                        ("relative_path", "/"),
                        ("operation_uri", "/api/snc/oauth_userinfo"),
                        ("requires_authentication", "true"),
                        (
                            "operation_script",
                            "(function process(request, response) { return {user_name: gs.getUserName(), sys_id: gs.getUserID()}; })(request, response);",
                        ),
                    ],
                ),
            ),
            (
                "Catalog Item",
                record_update(
                    "sc_cat_item",
                    &[("name", "Snowlink seat"), ("short_description", "A seat")],
                ),
            ),
        ],
    )
}

/// Imports `xml` as an admin does, through Import Update Set from XML in a browser session;
/// the loaded set's sys_id.
async fn imported(sim: &RunningSim, xml: String) -> String {
    let (user, password) = sim.admin();
    let browser = Browser::login(sim.url(), &user, &password).await;
    let answer = browser.upload_update_set(&xml).await;
    assert_eq!(answer.status(), 302, "{}", answer.text().await.unwrap());
    let page = location(&answer);
    page.split("sys_id=").nth(1).unwrap().to_owned()
}

/// Runs the CI/CD API's `action` (preview or commit) on the set as the admin and reads its
/// progress until the operation ends; the last progress answer.
async fn step(sim: &RunningSim, id: &str, action: &str) -> serde_json::Value {
    let started = admin_post(sim, &format!("/api/sn_cicd/update_set/{action}/{id}")).await;
    assert_eq!(started.status(), 200);
    let started = json(started).await;
    assert_eq!(started["result"]["status"], "0", "{started}");
    let progress = started["result"]["links"]["progress"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..20 {
        let read = admin_get(sim, &format!("/api/sn_cicd/progress/{progress}"))
            .send()
            .await
            .unwrap();
        let body = json(read).await;
        if matches!(body["result"]["status"].as_str(), Some("2" | "3" | "4")) {
            return body;
        }
    }
    panic!("the CI/CD {action} of {id} never ended");
}

fn admin_post(sim: &RunningSim, path: &str) -> impl Future<Output = reqwest::Response> {
    let (user, password) = sim.admin();
    let request = client()
        .post(format!("{}{path}", sim.url()))
        .basic_auth(user, Some(password))
        .send();
    async move { request.await.unwrap() }
}

fn status(progress: &serde_json::Value) -> &str {
    progress["result"]["status"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn importing_creates_a_remote_update_set_in_state_loaded() {
    let sim = start(Seed::Demo).await;
    let id = imported(&sim, integration_set("http://127.0.0.1:9/hook")).await;
    let set = sim.state().get("sys_remote_update_set", &id).unwrap();
    assert_eq!(set["state"], "loaded");
    assert_eq!(set["name"], "Snowlink integration");
    assert_eq!(
        sim.state()
            .count("sys_update_xml", &format!("remote_update_set={id}")),
        9
    );
}

#[tokio::test]
async fn update_sets_arrive_only_through_the_upload_page_never_as_table_api_rows() {
    let sim = start(Seed::Demo).await;
    let beth = Browser::login(sim.url(), "beth.anglin", snowlink_sim::DEMO_PASSWORD).await;
    let refused = beth.page("/sys_remote_update_set_list.do").await;
    assert_eq!(refused.0, 403, "importing needs admin");
    for table in ["sys_remote_update_set", "sys_update_xml"] {
        let inserted = client()
            .post(format!("{}/api/now/table/{table}", sim.url()))
            .basic_auth(sim.admin().0, Some(sim.admin().1))
            .json(&serde_json::json!({ "name": "smuggled" }))
            .send()
            .await
            .unwrap();
        assert_eq!(inserted.status(), 403, "{table}");
        assert_eq!(
            json(inserted).await["error"]["detail"],
            "ACL Exception Insert Failed due to security constraints"
        );
        assert!(sim.state().query(table, "name=smuggled").is_empty());
    }
    let id = imported(&sim, integration_set("http://127.0.0.1:9/h")).await;
    let patched = client()
        .patch(format!(
            "{}/api/now/table/sys_remote_update_set/{id}",
            sim.url()
        ))
        .basic_auth(sim.admin().0, Some(sim.admin().1))
        .json(&serde_json::json!({ "state": "committed", "description": "kept" }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200, "state is read-only, silently");
    let set = sim.state().get("sys_remote_update_set", &id).unwrap();
    assert_eq!(set["state"], "loaded");
}

#[tokio::test]
async fn preview_records_a_problem_when_a_referenced_table_does_not_exist() {
    let sim = start(Seed::Demo).await;
    let xml = unload(
        "Broken",
        &[(
            "Business Rule",
            record_update(
                "sys_script",
                &[("name", "r"), ("collection", "u_missing_table")],
            ),
        )],
    );
    let id = imported(&sim, xml).await;
    let previewed = step(&sim, &id, "preview").await;
    assert_eq!(status(&previewed), "2", "{previewed}");
    let problems = sim.state().query(
        "sys_update_preview_problem",
        &format!("remote_update_set={id}"),
    );
    assert!(problems[0]["description"].contains("u_missing_table"));
    assert_eq!(
        sim.state().get("sys_remote_update_set", &id).unwrap()["state"],
        "previewed"
    );
    assert_eq!(
        sim.state().count(
            "sys_update_preview_problem",
            &format!("remote_update_set={id}")
        ),
        1
    );
    let refused = step(&sim, &id, "commit").await;
    assert_eq!(
        status(&refused),
        "3",
        "problems block the commit: {refused}"
    );
}

#[tokio::test]
async fn commit_before_preview_is_refused() {
    let sim = start(Seed::Demo).await;
    let id = imported(&sim, integration_set("http://127.0.0.1:9/h")).await;
    let refused = step(&sim, &id, "commit").await;
    assert_eq!(status(&refused), "3", "{refused}");
}

#[tokio::test]
async fn uncommitted_update_set_gives_invalid_table_and_unknown_resource() {
    let sim = start(Seed::Demo).await;
    imported(&sim, integration_set("http://127.0.0.1:9/h")).await;
    let table = admin_get(&sim, "/api/now/table/u_sync_log")
        .send()
        .await
        .unwrap();
    assert_eq!(table.status(), 400);
    assert_eq!(
        json(table).await["error"]["message"],
        "Invalid table u_sync_log"
    );
    let scripted = admin_get(&sim, "/api/snc/oauth_userinfo")
        .send()
        .await
        .unwrap();
    assert_eq!(scripted.status(), 400);
    assert_eq!(
        json(scripted).await["error"]["message"],
        "Requested URI does not represent any resource"
    );
}

#[tokio::test]
async fn commit_applies_roles_acls_tables_catalogs_and_scripted_rest() {
    let sim = start(Seed::Demo).await;
    let id = imported(&sim, integration_set("http://127.0.0.1:9/h")).await;
    let preview = step(&sim, &id, "preview").await;
    assert_eq!(status(&preview), "2", "{preview}");
    assert_eq!(
        sim.state().count(
            "sys_update_preview_problem",
            &format!("remote_update_set={id}")
        ),
        0
    );
    let committed = step(&sim, &id, "commit").await;
    assert_eq!(status(&committed), "2", "{committed}");
    let state = sim.state();
    let set = state.get("sys_remote_update_set", &id).unwrap();
    assert_eq!(set["state"], "committed");
    assert!(!set["commit_date"].is_empty());
    assert_eq!(
        state
            .query("sys_user_role", "name=x_snowlink.integration")
            .len(),
        1
    );
    assert_eq!(state.query("sc_cat_item", "name=Snowlink seat").len(), 1);
    assert_eq!(
        admin_get(&sim, "/api/now/table/u_sync_log")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let info = client()
        .get(format!("{}/api/snc/oauth_userinfo", sim.url()))
        .basic_auth("beth.anglin", Some(snowlink_sim::DEMO_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200);
    let body = json(info).await;
    assert_eq!(body["result"]["user_name"], "beth.anglin");
    let beth = state.query("sys_user", "user_name=beth.anglin")[0]["sys_id"].clone();
    assert_eq!(body["result"]["sys_id"], beth.as_str());
    let anonymous = client()
        .get(format!("{}/api/snc/oauth_userinfo", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // The committed ACL on the new table: only its role (admin overrides) may read.
    let denied = client()
        .get(format!("{}/api/now/table/u_sync_log", sim.url()))
        .basic_auth("beth.anglin", Some(snowlink_sim::DEMO_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
}

/// A loopback HTTP endpoint that records the JSON bodies posted to it.
async fn hook() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let seen: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let store = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let store = Arc::clone(&store);
            async move {
                store.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn business_rule_fires_on_insert_and_update_and_logs_the_outbound_call() {
    let sim = start(Seed::Demo).await;
    let (url, seen) = hook().await;
    let id = imported(&sim, integration_set(&url)).await;
    step(&sim, &id, "preview").await;
    assert_eq!(status(&step(&sim, &id, "commit").await), "2");
    let (user, password) = sim.admin();
    let created = client()
        .post(format!("{}/api/now/table/incident", sim.url()))
        .basic_auth(&user, Some(&password))
        .json(&serde_json::json!({ "short_description": "linked", "correlation_id": "OPS-1" }))
        .send()
        .await
        .unwrap();
    let sys_id = json(created).await["result"]["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Not linked: the rule's condition does not hold, no call.
    sim.state()
        .insert(
            "incident",
            Record::from([("short_description".into(), "plain".into())]),
        )
        .unwrap();
    sim.state()
        .update(
            "incident",
            &sys_id,
            Record::from([("state".into(), "2".into())]),
        )
        .unwrap();
    let mut log = Vec::new();
    for _ in 0..100 {
        log = sim.state().outbound_log();
        if log.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(
        log.iter()
            .all(|l| l["response_status"] == "200" && l["url"] == url && l["method"] == "POST")
    );
    let bodies = seen.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["operation"], "insert");
    assert_eq!(bodies[1]["operation"], "update");
    assert_eq!(bodies[0]["record"]["correlation_id"], "OPS-1");
}

/// A CI/CD operation someone canceled ends with status 4 "Canceled" and changes nothing
/// (servicenow.md item 34).
#[tokio::test]
async fn a_canceled_cicd_operation_ends_with_status_4_and_changes_nothing() {
    let sim = start(Seed::Demo).await;
    let id = imported(&sim, integration_set("http://127.0.0.1:9/h")).await;
    sim.set_fault(Fault::CicdCanceled);
    let ended = step(&sim, &id, "preview").await;
    assert_eq!(status(&ended), "4", "{ended}");
    assert_eq!(ended["result"]["status_label"], "Canceled");
    assert_eq!(status(&step(&sim, &id, "commit").await), "4");
    assert_eq!(
        sim.state().get("sys_remote_update_set", &id).unwrap()["state"],
        "loaded"
    );
}

#[tokio::test]
async fn cicd_api_runs_for_a_while_then_reports_the_outcome() {
    let sim = start(Seed::Demo).await;
    let id = imported(&sim, integration_set("http://127.0.0.1:9/h")).await;
    let started =
        json(admin_post(&sim, &format!("/api/sn_cicd/update_set/preview/{id}")).await).await;
    assert_eq!(started["result"]["status_label"], "Pending");
    let url = started["result"]["links"]["progress"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let (user, password) = sim.admin();
    let read = || async {
        json(
            client()
                .get(&url)
                .basic_auth(&user, Some(&password))
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let first = read().await;
    assert_eq!(first["result"]["status"], "1", "{first}");
    assert_eq!(first["result"]["status_label"], "Running");
    let mut last = first;
    for _ in 0..10 {
        if last["result"]["status"] != "1" {
            break;
        }
        last = read().await;
    }
    assert_eq!(last["result"]["status"], "2", "{last}");
    assert_eq!(last["result"]["percent_complete"], 100);
    assert_eq!(status(&step(&sim, &id, "commit").await), "2");
    assert_eq!(
        sim.state().get("sys_remote_update_set", &id).unwrap()["state"],
        "committed"
    );
}

#[tokio::test]
async fn cicd_api_needs_admin_or_its_own_role() {
    let sim = start(Seed::Demo).await;
    let id = imported(&sim, integration_set("http://127.0.0.1:9/h")).await;
    let as_beth = || {
        client()
            .post(format!("{}/api/sn_cicd/update_set/preview/{id}", sim.url()))
            .basic_auth("beth.anglin", Some(snowlink_sim::DEMO_PASSWORD))
            .send()
    };
    assert_eq!(as_beth().await.unwrap().status(), 403);
    sim.state()
        .grant_role("beth.anglin", "sn_cicd.sys_ci_automation")
        .unwrap();
    assert_eq!(as_beth().await.unwrap().status(), 200);
}

#[tokio::test]
async fn without_the_cicd_api_its_paths_are_no_resource() {
    let sim = start(Seed::Demo).await;
    sim.set_fault(snowlink_sim::Fault::NoCicd);
    let answer = admin_post(&sim, "/api/sn_cicd/update_set/preview/0123").await;
    assert_eq!(answer.status(), 400);
    assert_eq!(
        json(answer).await["error"]["message"],
        "Requested URI does not represent any resource"
    );
}

#[tokio::test]
async fn when_commits_need_elevation_only_an_elevated_browser_commits_a_set_with_acls() {
    let sim = start(Seed::Demo).await;
    sim.set_fault(snowlink_sim::Fault::CommitNeedsElevation);
    let id = imported(&sim, integration_set("http://127.0.0.1:9/h")).await;
    assert_eq!(status(&step(&sim, &id, "preview").await), "2");
    let refused = step(&sim, &id, "commit").await;
    assert_eq!(status(&refused), "3");
    assert!(
        refused["result"]["error"]
            .as_str()
            .unwrap()
            .contains("security_admin")
    );
    let (user, password) = sim.admin();
    let browser = Browser::login(sim.url(), &user, &password).await;
    let page = format!("/sys_remote_update_set.do?sys_id={id}");
    assert_eq!(browser.submit(&page, "commit", &[]).await.status(), 400);
    browser.elevate().await;
    assert_eq!(browser.submit(&page, "commit", &[]).await.status(), 302);
    assert_eq!(
        sim.state().get("sys_remote_update_set", &id).unwrap()["state"],
        "committed"
    );
}

#[tokio::test]
async fn dictionary_payloads_create_tables_that_extend_task() {
    let sim = start(Seed::Demo).await;
    let database = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><record_update><database>\
        <element name=\"u_link\" type=\"collection\" label=\"Link\" extends=\"task\">\
        <element name=\"u_who\" type=\"reference\" reference=\"sys_user\" max_length=\"32\"/>\
        </element></database></record_update>"
        .to_owned();
    let platform = record_update(
        "sysevent_register",
        &[("event_name", "x.changed"), ("table", "incident")],
    );
    let id = imported(
        &sim,
        unload(
            "Tables",
            &[("Dictionary", database), ("Event Registration", platform)],
        ),
    )
    .await;
    let preview = step(&sim, &id, "preview").await;
    assert_eq!(status(&preview), "2", "{preview}");
    assert_eq!(
        sim.state().count(
            "sys_update_preview_problem",
            &format!("remote_update_set={id}")
        ),
        0
    );
    let committed = step(&sim, &id, "commit").await;
    assert_eq!(status(&committed), "2", "{committed}");
    let (user, password) = sim.admin();
    let beth = sim.state().query("sys_user", "user_name=beth.anglin")[0]["sys_id"].clone();
    let created = client()
        .post(format!("{}/api/now/table/u_link", sim.url()))
        .basic_auth(&user, Some(&password))
        .json(&serde_json::json!({ "u_who": beth, "short_description": "linked" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let record = json(created).await["result"].clone();
    assert_eq!(record["u_who"]["value"], beth.as_str());
    assert_eq!(
        record["short_description"], "linked",
        "inherits task's fields"
    );
    assert_eq!(
        sim.state().count("task", "sys_class_name=u_link"),
        1,
        "task queries cover it"
    );
}

/// A REST call as the demo admin: `method` on `path` with a JSON `body`.
fn admin_send(
    sim: &RunningSim,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) -> impl Future<Output = reqwest::Response> {
    let (user, password) = sim.admin();
    let request = client()
        .request(method, format!("{}{path}", sim.url()))
        .basic_auth(user, Some(password))
        .json(&body)
        .send();
    async move { request.await.unwrap() }
}

#[tokio::test]
async fn changes_land_in_the_callers_current_update_set_which_the_picker_chooses() {
    let sim = start(Seed::Empty).await;
    let current = || async {
        let answer = json(
            admin_get(&sim, "/api/now/ui/concoursepicker/current")
                .send()
                .await
                .unwrap(),
        )
        .await;
        answer["result"]["currentUpdateSet"]["name"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        current().await,
        "Default",
        "a fresh instance's changes land in Default"
    );

    let created = admin_send(
        &sim,
        reqwest::Method::POST,
        "/api/now/table/sys_update_set",
        serde_json::json!({"name": "Snowlink: test", "state": "in progress"}),
    )
    .await;
    let set = json(created).await["result"]["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // An unknown set is refused and changes nothing.
    let refused = admin_send(
        &sim,
        reqwest::Method::PUT,
        "/api/now/ui/concoursepicker/updateset",
        serde_json::json!({"sysId": "0123456789abcdef0123456789abcdef"}),
    )
    .await;
    assert_eq!(refused.status(), 400);
    assert_eq!(current().await, "Default");
    let chosen = admin_send(
        &sim,
        reqwest::Method::PUT,
        "/api/now/ui/concoursepicker/updateset",
        serde_json::json!({"sysId": set, "name": "Snowlink: test"}),
    )
    .await;
    assert_eq!(chosen.status(), 200);
    assert_eq!(json(chosen).await["result"]["success"], true);
    assert_eq!(current().await, "Snowlink: test");

    // A registry entry is recorded in it, once however often it changes; a user is data.
    let app = json(
        admin_send(
            &sim,
            reqwest::Method::POST,
            "/api/now/table/oauth_entity",
            serde_json::json!({"name": "Captured", "type": "client"}),
        )
        .await,
    )
    .await["result"]["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    admin_send(
        &sim,
        reqwest::Method::PATCH,
        &format!("/api/now/table/oauth_entity/{app}"),
        serde_json::json!({"redirect_url": "https://example.org/cb"}),
    )
    .await;
    admin_send(
        &sim,
        reqwest::Method::POST,
        "/api/now/table/sys_user",
        serde_json::json!({"user_name": "not.captured"}),
    )
    .await;
    let state = sim.state();
    assert_eq!(
        state.count(
            "sys_update_xml",
            &format!("update_set={set}^name=oauth_entity_{app}")
        ),
        1
    );
    assert_eq!(state.count("sys_update_xml", "nameSTARTSWITHsys_user_"), 0);
    // Nothing else was recorded anywhere.
    assert_eq!(
        state.count("sys_update_xml", &format!("update_set!={set}")),
        0
    );
}

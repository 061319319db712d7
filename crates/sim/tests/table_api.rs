//! Conformance: the REST Table API, Aggregate API and Service Catalog order, one test per
//! behaviour of servicenow.md ("REST Table API"), over real loopback HTTP.

mod common;

use common::{admin_get, admin_result, client, demo_get, json, read_acl_needing_role, start};
use serde_json::json;
use snowlink_sim::{Record, Seed, UserSpec};

#[tokio::test]
async fn table_get_answers_200_with_result_envelope_and_string_values() {
    let sim = start(Seed::Demo).await;
    let response = admin_get(&sim, "/api/now/table/incident?sysparm_limit=3")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    let rows = body["result"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for (_, value) in rows[0].as_object().unwrap() {
        assert!(
            value.is_string() || value.is_object(),
            "every value is a string or a reference: {value}"
        );
    }
    assert_eq!(rows[0]["sys_id"].as_str().unwrap().len(), 32);
}

#[tokio::test]
async fn v1_and_v2_paths_are_served_too() {
    let sim = start(Seed::Demo).await;
    for path in [
        "/api/now/v1/table/incident?sysparm_limit=1",
        "/api/now/v2/table/incident?sysparm_limit=1",
    ] {
        assert_eq!(
            admin_get(&sim, path).send().await.unwrap().status(),
            200,
            "{path}"
        );
    }
}

#[tokio::test]
async fn empty_get_is_200_empty_array_on_v2_and_404_on_v1() {
    let sim = start(Seed::Demo).await;
    let v2 = admin_get(&sim, "/api/now/v2/table/incident?sysparm_query=number=NOPE")
        .send()
        .await
        .unwrap();
    assert_eq!(v2.status(), 200);
    assert_eq!(json(v2).await, json!({ "result": [] }));
    let v1 = admin_get(&sim, "/api/now/v1/table/incident?sysparm_query=number=NOPE")
        .send()
        .await
        .unwrap();
    assert_eq!(v1.status(), 404);
    assert_eq!(json(v1).await["error"]["message"], "No Record found");
}

#[tokio::test]
async fn post_201_put_patch_200_delete_204() {
    let sim = start(Seed::Empty).await;
    let (user, password) = sim.admin();
    let http = client();
    let url = format!("{}/api/now/table/incident", sim.url());
    let created = http
        .post(&url)
        .basic_auth(&user, Some(&password))
        .json(&json!({ "short_description": "disk full", "priority": 2, "bogus_field": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let record = json(created).await["result"].clone();
    assert_eq!(record["priority"], "2", "numbers are stored as strings");
    assert!(record["number"].as_str().unwrap().starts_with("INC"));
    assert!(
        record.get("bogus_field").is_none(),
        "unknown fields are ignored"
    );
    let sys_id = record["sys_id"].as_str().unwrap().to_owned();
    let item = format!("{url}/{sys_id}");
    let put = http
        .put(&item)
        .basic_auth(&user, Some(&password))
        .json(&json!({ "state": "2" }))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let patch = http
        .patch(&item)
        .basic_auth(&user, Some(&password))
        .json(&json!({ "state": "6" }))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 200);
    assert_eq!(json(patch).await["result"]["state"], "6");
    let delete = http
        .delete(&item)
        .basic_auth(&user, Some(&password))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 204);
    let gone = http
        .get(&item)
        .basic_auth(&user, Some(&password))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let body = json(gone).await;
    assert_eq!(
        body,
        json!({ "error": { "message": "No Record found",
            "detail": "Record doesn't exist or ACL restricts the record retrieval" }, "status": "failure" })
    );
}

#[tokio::test]
async fn invalid_table_is_400_with_its_name() {
    let sim = start(Seed::Empty).await;
    let response = admin_get(&sim, "/api/now/table/u_not_there")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body = json(response).await;
    assert_eq!(body["error"]["message"], "Invalid table u_not_there");
    assert_eq!(body["status"], "failure");
}

#[tokio::test]
async fn invalid_json_body_is_400() {
    let sim = start(Seed::Empty).await;
    let (user, password) = sim.admin();
    let response = client()
        .post(format!("{}/api/now/table/incident", sim.url()))
        .basic_auth(user, Some(password))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn encoded_query_operators_filter_as_documented() {
    let sim = start(Seed::Empty).await;
    let state = sim.state();
    for (desc, priority, corr) in [
        ("alpha disk", "1", "X-1"),
        ("beta net", "2", ""),
        ("gamma disk", "3", "X-3"),
    ] {
        let record = Record::from([
            ("short_description".into(), desc.into()),
            ("priority".into(), priority.into()),
            ("correlation_id".into(), corr.into()),
        ]);
        state.insert("incident", record).unwrap();
    }
    let cases = [
        ("priority=1", 1),
        ("priority!=1", 2),
        ("short_descriptionLIKEdisk", 2),
        ("short_descriptionNOT LIKEdisk", 1),
        ("short_descriptionSTARTSWITHbeta", 1),
        ("short_descriptionENDSWITHdisk", 2),
        ("priorityIN1,3", 2),
        ("priorityNOT IN1,3", 1),
        ("correlation_idISEMPTY", 1),
        ("correlation_idISNOTEMPTY", 2),
        ("priority=1^ORpriority=2", 2),
        ("priority=1^short_descriptionLIKEdisk", 1),
        ("priority=1^NQpriority=2", 2),
    ];
    for (query, expected) in cases {
        let rows = state.query("incident", query);
        assert_eq!(rows.len(), expected, "{query}");
        let path = format!("/api/now/table/incident?sysparm_query={}", urlencode(query));
        let body = json(admin_get(&sim, &path).send().await.unwrap()).await;
        assert_eq!(
            body["result"].as_array().unwrap().len(),
            expected,
            "over HTTP: {query}"
        );
    }
}

/// Text compares regardless of case, as on an instance ("GlideRecord queries are
/// case-insensitive"; "text searches in table columns are insensitive to case"), unless the
/// simulator's switch makes them exact, as `i18n_locale_text_match` does for a column; BETWEEN
/// and ON take their bounds (dates from `gs.dateGenerate`), and a term may dot-walk through
/// several references (servicenow.md 2.2).
#[tokio::test]
async fn text_folds_case_ranges_take_their_bounds_and_terms_walk_several_references() {
    let sim = start(Seed::Demo).await;
    let count = |query: &str| {
        let path = format!(
            "/api/now/table/incident?sysparm_fields=sys_id&sysparm_limit=1000&sysparm_query={}",
            urlencode(query)
        );
        let sim = &sim;
        async move {
            json(admin_get(sim, &path).send().await.unwrap()).await["result"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    let state = sim.state();
    for (desc, opened) in [
        ("Printer JAMMED", "2026-01-10 09:00:00"),
        ("printer jammed again", "2026-01-20 23:59:59"),
        ("Diskette full", "2026-02-01 00:00:00"),
    ] {
        let record = Record::from([
            ("short_description".into(), desc.into()),
            ("opened_at".into(), opened.into()),
        ]);
        state.insert("incident", record).unwrap();
    }
    assert_eq!(count("short_descriptionLIKEprinter jammed").await, 2);
    assert_eq!(count("short_description=PRINTER JAMMED").await, 1);
    assert_eq!(count("short_descriptionSTARTSWITHdiskette").await, 1);
    let january = "opened_atBETWEENjavascript:gs.dateGenerate('2026-01-01','00:00:00')@javascript:gs.dateGenerate('2026-01-31','23:59:59')";
    assert_eq!(count(january).await, 2);
    let on = "opened_atONJanuary 20@javascript:gs.dateGenerate('2026-01-20','start')@javascript:gs.dateGenerate('2026-01-20','end')";
    assert_eq!(count(on).await, 1);
    assert!(count("priorityBETWEEN1@2").await > 0);
    assert_eq!(
        count("priorityBETWEEN1@2").await,
        count("priority=1^ORpriority=2").await
    );

    // Two references deep: the caller's manager. beth.anglin reports to fred.luddy here.
    let beth = state.query("sys_user", "user_name=beth.anglin")[0]["sys_id"].clone();
    let fred = state.query("sys_user", "user_name=fred.luddy")[0]["sys_id"].clone();
    state
        .update("sys_user", &beth, Record::from([("manager".into(), fred)]))
        .unwrap();
    let by_beth = count("caller_id.user_name=beth.anglin").await;
    assert!(by_beth > 0);
    assert_eq!(
        count("caller_id.manager.user_name=fred.luddy").await,
        by_beth
    );
    assert_eq!(
        count("caller_id.manager.user_name=FRED.LUDDY").await,
        by_beth
    );

    state.set_property("snowlink.sim.case_sensitive_queries", "true");
    assert_eq!(count("short_descriptionLIKEprinter jammed").await, 1);
    assert_eq!(count("short_description=PRINTER JAMMED").await, 0);
}

/// `sysparm_fields` walks several references (`caller_id.manager.user_name`), and a walk
/// reads what the field's own rules allow: an encrypted field reached through a reference
/// reads back encrypted, never the secret.
#[tokio::test]
async fn dot_walked_fields_go_several_references_deep_and_never_read_a_secret() {
    let sim = start(Seed::Demo).await;
    let state = sim.state();
    let beth = state.query("sys_user", "user_name=beth.anglin")[0]["sys_id"].clone();
    let fred = state.query("sys_user", "user_name=fred.luddy")[0]["sys_id"].clone();
    state
        .update("sys_user", &beth, Record::from([("manager".into(), fred)]))
        .unwrap();
    let path = "/api/now/table/incident?sysparm_limit=1&sysparm_query=caller_id.user_name%3Dbeth.anglin\
                &sysparm_fields=number,caller_id.manager.user_name,caller_id.manager";
    let row = admin_result(&sim, path).await[0].clone();
    assert_eq!(row["caller_id.manager.user_name"], "fred.luddy", "{row}");
    assert!(
        row["caller_id.manager"]["link"].is_string(),
        "a reference stays one: {row}"
    );
    assert_eq!(row.as_object().unwrap().len(), 3, "{row}");

    let app = state.query(
        "oauth_entity",
        &format!("client_id={}", snowlink_sim::DEMO_CLIENT_ID),
    )[0]["sys_id"]
        .clone();
    state
        .insert(
            "oauth_entity_auth_scope_mapping",
            Record::from([
                ("oauth_entity".into(), app),
                ("auth_scope".into(), "useraccount".into()),
            ]),
        )
        .unwrap();
    let walked = admin_result(
        &sim,
        "/api/now/table/oauth_entity_auth_scope_mapping?sysparm_fields=oauth_entity.client_secret,oauth_entity.name",
    )
    .await
    .to_string();
    assert!(walked.contains("oauth_entity.client_secret"), "{walked}");
    assert!(
        !walked.contains(snowlink_sim::DEMO_CLIENT_SECRET),
        "{walked}"
    );
}

/// A date-time's value is UTC; its display value is in the caller's time zone and date and
/// time formats (their own, else the instance's, else US/Pacific), and one typed with
/// `sysparm_input_display_value=true` is read that way (servicenow.md 2.17).
#[tokio::test]
async fn display_values_of_dates_are_in_the_callers_zone_and_formats() {
    let sim = start(Seed::Demo).await;
    let state = sim.state();
    let beth = state.query("sys_user", "user_name=beth.anglin")[0]["sys_id"].clone();
    let settings = Record::from([
        ("time_zone".into(), "Europe/Berlin".into()),
        ("date_format".into(), "dd.MM.yyyy".into()),
    ]);
    state.update("sys_user", &beth, settings).unwrap();
    let created = client()
        .post(format!(
            "{}/api/now/table/incident?sysparm_input_display_value=true&sysparm_display_value=all",
            sim.url()
        ))
        .basic_auth("beth.anglin", Some(snowlink_sim::DEMO_PASSWORD))
        .json(&serde_json::json!({ "short_description": "Dated", "opened_at": "01.02.2026 00:30:00" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let opened = json(created).await["result"]["opened_at"].clone();
    assert_eq!(
        opened["value"], "2026-01-31 23:30:00",
        "stored in UTC: {opened}"
    );
    assert_eq!(opened["display_value"], "01.02.2026 00:30:00", "{opened}");

    // The admin has no settings: the instance's zone, US/Pacific unless its property says.
    let path = "/api/now/table/incident?sysparm_query=short_description%3DDated&sysparm_display_value=true&sysparm_fields=opened_at";
    let shown = json(demo_get(&sim, "beth.anglin", path).send().await.unwrap()).await;
    assert_eq!(shown["result"][0]["opened_at"], "01.02.2026 00:30:00");
    assert_eq!(
        admin_result(&sim, path).await[0]["opened_at"],
        "2026-01-31 15:30:00"
    );
    state.set_property("glide.sys.default.tz", "Asia/Tokyo");
    let admin = admin_result(&sim, path).await;
    assert_eq!(admin[0]["opened_at"], "2026-02-01 08:30:00", "{admin}");
}

/// A record's fields come in the order `sysparm_fields` names them (servicenow.md 2.2).
#[tokio::test]
async fn fields_come_in_the_order_sysparm_fields_names_them() {
    let sim = start(Seed::Demo).await;
    let path = "/api/now/table/incident?sysparm_limit=1&sysparm_fields=short_description,number,caller_id,active";
    let text = admin_get(&sim, path)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = |name: &str| {
        text.find(&format!("\"{name}\""))
            .unwrap_or_else(|| panic!("{name}: {text}"))
    };
    assert!(
        at("short_description") < at("number")
            && at("number") < at("caller_id")
            && at("caller_id") < at("active"),
        "{text}"
    );
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn orderby_and_orderbydesc_sort_results() {
    let sim = start(Seed::Demo).await;
    let body = json(
        admin_get(&sim, "/api/now/table/incident?sysparm_query=ORDERBYDESCnumber&sysparm_limit=5&sysparm_fields=number")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let numbers: Vec<&str> = body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap())
        .collect();
    let mut sorted = numbers.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(numbers, sorted);
    assert_eq!(numbers[0], "INC0010300");
}

#[tokio::test]
async fn unknown_query_field_is_silently_dropped() {
    let sim = start(Seed::Demo).await;
    let all = sim.state().count("incident", "");
    let response = admin_get(
        &sim,
        "/api/now/table/incident?sysparm_query=u_no_such_field=42&sysparm_fields=sys_id",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["x-total-count"],
        all.to_string().as_str()
    );
    assert_eq!(
        json(response).await["result"].as_array().unwrap().len(),
        all
    );
}

#[tokio::test]
async fn dot_walked_query_follows_one_reference() {
    let sim = start(Seed::Demo).await;
    let path = "/api/now/table/sys_user_has_role?sysparm_query=role.name=security_admin";
    let body = json(admin_get(&sim, path).send().await.unwrap()).await;
    let rows = body["result"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    let user_id = rows[0]["user"]["value"].as_str().unwrap();
    assert_eq!(
        sim.state().get("sys_user", user_id).unwrap()["user_name"],
        "admin"
    );
}

#[tokio::test]
async fn reference_fields_are_link_and_value() {
    let sim = start(Seed::Demo).await;
    let body = json(
        admin_get(&sim, "/api/now/table/sys_user_has_role?sysparm_limit=1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let role = &body["result"][0]["role"];
    let id = role["value"].as_str().unwrap();
    assert_eq!(
        role["link"],
        format!("{}/api/now/table/sys_user_role/{id}", sim.url())
    );
    let plain = json(
        admin_get(
            &sim,
            "/api/now/table/sys_user_has_role?sysparm_limit=1&sysparm_exclude_reference_link=true",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert!(plain["result"][0]["role"].is_string());
}

#[tokio::test]
async fn display_value_true_false_all() {
    let sim = start(Seed::Demo).await;
    let sim = &sim;
    let get = |mode: &'static str| {
        let path = format!(
            "/api/now/table/incident?sysparm_query=priority=1&sysparm_limit=1&sysparm_fields=priority&sysparm_display_value={mode}"
        );
        async move {
            json(admin_get(sim, &path).send().await.unwrap()).await["result"][0]["priority"].clone()
        }
    };
    assert_eq!(get("false").await, "1");
    assert_eq!(get("true").await, "1 - Critical");
    assert_eq!(
        get("all").await,
        json!({ "display_value": "1 - Critical", "value": "1" })
    );
}

#[tokio::test]
async fn sysparm_fields_limits_the_columns() {
    let sim = start(Seed::Demo).await;
    let body = json(
        admin_get(
            &sim,
            "/api/now/table/incident?sysparm_limit=1&sysparm_fields=number,caller_id.user_name",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let row = body["result"][0].as_object().unwrap();
    assert_eq!(row.len(), 2);
    assert!(row["caller_id.user_name"].is_string());
}

#[tokio::test]
async fn total_count_and_link_headers_page_the_results() {
    let sim = start(Seed::Demo).await;
    let response = admin_get(
        &sim,
        "/api/now/table/incident?sysparm_limit=100&sysparm_offset=100",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.headers()["x-total-count"], "300");
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    for rel in ["first", "prev", "next", "last"] {
        assert!(link.contains(&format!("rel=\"{rel}\"")), "{link}");
    }
    assert!(link.contains("sysparm_offset=200>;rel=\"next\""), "{link}");
    assert_eq!(
        json(response).await["result"].as_array().unwrap().len(),
        100
    );
}

#[tokio::test]
async fn task_queries_cover_incidents() {
    let sim = start(Seed::Demo).await;
    let body = json(
        admin_get(
            &sim,
            "/api/now/table/task?sysparm_query=sys_class_name=incident&sysparm_limit=1",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(body["result"][0]["sys_class_name"], "incident");
    assert_eq!(sim.state().count("task", "numberSTARTSWITHINC"), 300);
}

#[tokio::test]
async fn row_acls_return_fewer_rows_with_200() {
    let sim = start(Seed::Demo).await;
    let state = sim.state();
    let caller = state.query("sys_user", "user_name=abel.tuter")[0]["sys_id"].clone();
    let own = state.count("incident", &format!("caller_id={caller}"));
    assert!(own > 0);
    let response = demo_get(&sim, "abel.tuter", "/api/now/table/incident")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        json(response).await["result"].as_array().unwrap().len(),
        own
    );
}

#[tokio::test]
async fn sysparm_limit_is_applied_before_acl_filtering() {
    let sim = start(Seed::Demo).await;
    let response = demo_get(
        &sim,
        "abel.tuter",
        "/api/now/table/incident?sysparm_limit=10",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-total-count"], "300");
    let rows = json(response).await["result"].as_array().unwrap().len();
    assert!(
        rows < 10,
        "got {rows} of a page of 10: the rest hidden by row ACLs"
    );
}

#[tokio::test]
async fn field_acls_omit_denied_fields() {
    let sim = start(Seed::Demo).await;
    let state = sim.state();
    read_acl_needing_role(&state, "sys_user.email", "user_admin");
    let body = json(
        demo_get(
            &sim,
            "abel.tuter",
            "/api/now/table/sys_user?sysparm_limit=1",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let row = body["result"][0].as_object().unwrap();
    assert!(row.contains_key("user_name"));
    assert!(!row.contains_key("email"));
}

#[tokio::test]
async fn read_without_rights_is_403_insufficient_rights() {
    let sim = start(Seed::Demo).await;
    let response = demo_get(&sim, "abel.tuter", "/api/now/table/oauth_entity")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        json(response).await["error"]["message"],
        "Insufficient rights to query records"
    );
}

#[tokio::test]
async fn insert_without_rights_is_403_operation_failed() {
    let sim = start(Seed::Demo).await;
    let response = client()
        .post(format!("{}/api/now/table/sys_user_role", sim.url()))
        .basic_auth("abel.tuter", Some(snowlink_sim::DEMO_PASSWORD))
        .json(&json!({ "name": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body = json(response).await;
    assert_eq!(body["error"]["message"], "Operation Failed");
    assert_eq!(
        body["error"]["detail"],
        "ACL Exception Insert Failed due to security constraints"
    );
}

#[tokio::test]
async fn task_acls_cover_child_tables() {
    let sim = start(Seed::Demo).await;
    let state = sim.state();
    state
        .create_user(UserSpec {
            roles: vec!["itil".into()],
            ..UserSpec::new("fixer", "pw-123456")
        })
        .unwrap();
    // change_request has no ACL of its own: the task ACLs (itil) decide.
    state
        .insert(
            "change_request",
            Record::from([("short_description".into(), "patch".into())]),
        )
        .unwrap();
    let allowed = client()
        .get(format!("{}/api/now/table/change_request", sim.url()))
        .basic_auth("fixer", Some("pw-123456"))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        json(allowed).await["result"].as_array().unwrap().len(),
        state.count("change_request", ""),
        "every change, the demo's and this one"
    );
    let denied = demo_get(&sim, "abel.tuter", "/api/now/table/change_request")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
}

#[tokio::test]
async fn aggregate_count_is_a_string_in_stats() {
    let sim = start(Seed::Demo).await;
    let expected = sim.state().count("incident", "active=true^priority=1");
    let body = json(
        admin_get(
            &sim,
            "/api/now/stats/incident?sysparm_count=true&sysparm_query=active%3Dtrue%5Epriority%3D1",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        body,
        json!({ "result": { "stats": { "count": expected.to_string() } } })
    );
}

#[tokio::test]
async fn aggregate_group_by_returns_groupby_fields() {
    let sim = start(Seed::Demo).await;
    let body = json(
        admin_get(
            &sim,
            "/api/now/stats/incident?sysparm_count=true&sysparm_group_by=state",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let groups = body["result"].as_array().unwrap();
    assert!(groups.len() >= 3);
    let total: usize = groups
        .iter()
        .map(|g| {
            g["stats"]["count"]
                .as_str()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(total, 300);
    assert_eq!(groups[0]["groupby_fields"][0]["field"], "state");
    assert!(groups[0]["groupby_fields"][0]["value"].is_string());
}

#[tokio::test]
async fn aggregate_groups_carry_display_values_when_asked() {
    let sim = start(Seed::Demo).await;
    let groups = |display: &'static str| {
        let sim = &sim;
        async move {
            let body = json(
                admin_get(
                    sim,
                    &format!(
                        "/api/now/stats/incident?sysparm_count=true&sysparm_group_by=state\
                         &sysparm_display_value={display}"
                    ),
                )
                .send()
                .await
                .unwrap(),
            )
            .await;
            body["result"].as_array().unwrap().clone()
        }
    };
    let both = groups("all").await;
    let new = both
        .iter()
        .map(|g| &g["groupby_fields"][0])
        .find(|f| f["value"] == "1")
        .expect("a group of new incidents");
    assert_eq!(new["display_value"], "New");
    let labels: Vec<String> = groups("true")
        .await
        .iter()
        .map(|g| g["groupby_fields"][0]["value"].as_str().unwrap().to_owned())
        .collect();
    assert!(labels.contains(&"New".to_owned()), "{labels:?}");
    assert!(!labels.contains(&"1".to_owned()), "{labels:?}");
    let plain = groups("false").await;
    assert!(plain[0]["groupby_fields"][0].get("display_value").is_none());
}

#[tokio::test]
async fn catalog_order_now_creates_a_request() {
    let sim = start(Seed::Demo).await;
    let item = sim.state().query("sc_cat_item", "name=Standard Laptop")[0]["sys_id"].clone();
    let (user, password) = sim.admin();
    let response = client()
        .post(format!(
            "{}/api/sn_sc/servicecatalog/items/{item}/order_now",
            sim.url()
        ))
        .basic_auth(user, Some(password))
        .json(&json!({ "sysparm_quantity": "1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let result = json(response).await["result"].clone();
    assert_eq!(result["table"], "sc_request");
    assert!(result["number"].as_str().unwrap().starts_with("REQ"));
    assert_eq!(result["number"], result["request_number"]);
    assert_eq!(result["sys_id"], result["request_id"]);
    let request = sim
        .state()
        .get("sc_request", result["sys_id"].as_str().unwrap())
        .unwrap();
    assert_eq!(request["sys_class_name"], "sc_request");
}

#[tokio::test]
async fn hostile_requests_never_get_a_server_error() {
    let sim = start(Seed::Demo).await;
    let long = "x".repeat(5000);
    let paths = [
        "/api/now/table/%00".to_owned(),
        format!("/api/now/table/{long}"),
        "/api/now/table/incident?sysparm_limit=-1&sysparm_offset=99999999999999999999999".to_owned(),
        "/api/now/table/incident?sysparm_limit=18446744073709551615&sysparm_offset=18446744073709551615".to_owned(),
        "/api/now/table/incident?sysparm_query=%5E%5E%5EOR%5ENQ%5EORDERBY%5E%3D%3D%3D".to_owned(),
        "/api/now/table/incident?sysparm_query=caller_id.user_name.name%3Dx%5Ecaller_id.%3Dy".to_owned(),
        "/api/now/table/incident?sysparm_fields=.,..,caller_id.,.x&sysparm_display_value=all".to_owned(),
        "/api/now/table/incident/%FF%FE".to_owned(),
        "/api/now/v9/table/incident".to_owned(),
        "/api/now/stats/incident?sysparm_group_by=,,,caller_id.name&sysparm_count=true".to_owned(),
        "/api/snc/%2e%2e/%2e%2e/etc/passwd".to_owned(),
        "/oauth_auth.do?response_type=code&client_id=%00&state=%FF".to_owned(),
        "/sys_user.do?sys_id=%3Cscript%3E".to_owned(),
    ];
    for path in paths {
        let response = admin_get(&sim, &path).send().await.unwrap();
        assert!(
            response.status().as_u16() < 500,
            "{path}: {}",
            response.status()
        );
    }
    let (user, password) = sim.admin();
    for body in [
        "[]",
        "null",
        "\"x\"",
        "{\"a\":{\"b\":[1,2,{}]}}",
        "{\"sys_id\":\"\"}",
        "\u{0}",
    ] {
        let response = client()
            .post(format!("{}/api/now/table/incident", sim.url()))
            .basic_auth(&user, Some(&password))
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().as_u16() < 500,
            "{body}: {}",
            response.status()
        );
    }
}

#[tokio::test]
async fn sysparm_no_count_omits_x_total_count() {
    let sim = start(Seed::Demo).await;
    let response = admin_get(
        &sim,
        "/api/now/table/incident?sysparm_limit=1&sysparm_no_count=true",
    )
    .send()
    .await
    .unwrap();
    assert!(response.headers().get("x-total-count").is_none());
}

#[tokio::test]
async fn updates_of_tasks_are_recorded_in_sys_audit() {
    let sim = start(Seed::Demo).await;
    let (user, password) = sim.admin();
    let incident = sim.state().query("incident", "ORDERBYnumber")[0].clone();
    let response = client()
        .patch(format!(
            "{}/api/now/table/incident/{}",
            sim.url(),
            incident["sys_id"]
        ))
        .basic_auth(&user, Some(&password))
        .json(&json!({ "short_description": "changed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let audit = sim
        .state()
        .query("sys_audit", &format!("documentkey={}", incident["sys_id"]));
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["fieldname"], "short_description");
    assert_eq!(audit[0]["oldvalue"], incident["short_description"]);
    assert_eq!(audit[0]["newvalue"], "changed");
    assert_eq!(audit[0]["user"], user);
}

#[tokio::test]
async fn task_wildcard_field_acls_cover_incident_fields() {
    let sim = start(Seed::Demo).await;
    let state = sim.state();
    read_acl_needing_role(&state, "task.*", "catalog_admin");
    let read = |user: &'static str| {
        let url = format!("{}/api/now/table/incident?sysparm_limit=1", sim.url());
        async move {
            json(
                client()
                    .get(url)
                    .basic_auth(user, Some(snowlink_sim::DEMO_PASSWORD))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    // beth (itil) may read incidents but none of their fields; fred (catalog_admin) sees them.
    let beth = read("beth.anglin").await;
    assert!(
        beth["result"][0].get("short_description").is_none(),
        "{beth}"
    );
    assert!(
        beth["result"][0].get("caller_id").is_none(),
        "task.* covers the fields of child tables too"
    );
    let fred = read("fred.luddy").await;
    assert!(fred["result"][0].get("short_description").is_some());
}

#[tokio::test]
async fn days_ago_query_values_are_dates_on_the_table_and_aggregate_apis() {
    let sim = start(Seed::Demo).await;
    let state = sim.state();
    let query = urlencode("sys_created_on>=javascript:gs.daysAgoStart(60)");
    // Start of the day 60 days ago, as stored; taken before and after the requests in case
    // midnight passes between them.
    let boundary = || {
        (chrono::Utc::now() - chrono::TimeDelta::days(60))
            .format("%Y-%m-%d 00:00:00")
            .to_string()
    };
    let before = boundary();
    let table = admin_get(
        &sim,
        &format!(
            "/api/now/table/incident?sysparm_query={query}&sysparm_fields=sys_created_on&sysparm_limit=1000"
        ),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(table.status(), 200);
    let total: usize = table.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let rows = json(table).await["result"].as_array().unwrap().clone();
    let stats = json(
        admin_get(
            &sim,
            &format!(
                "/api/now/stats/sys_audit?sysparm_count=true&sysparm_group_by=tablename&sysparm_query={query}"
            ),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let after = boundary();
    let expected = |table: &str| {
        [&before, &after].map(|b| state.count(table, &format!("sys_created_on>={b}")))
    };

    assert!(expected("incident").contains(&total), "{total}");
    assert!(
        total > 0 && total < state.count("incident", ""),
        "the demo's incidents go back 150 days: {total} in the last 60"
    );
    assert_eq!(rows.len(), total);
    let oldest = before.clone().min(after.clone());
    for row in &rows {
        assert!(row["sys_created_on"].as_str().unwrap() >= oldest.as_str());
    }

    let groups = stats["result"].as_array().unwrap();
    let count = |g: &serde_json::Value| {
        g["stats"]["count"]
            .as_str()
            .unwrap()
            .parse::<usize>()
            .unwrap()
    };
    let audited: usize = groups.iter().map(count).sum();
    assert!(expected("sys_audit").contains(&audited), "{stats}");
    assert!(
        audited > 0 && audited < state.count("sys_audit", ""),
        "{stats}"
    );
    let tables: Vec<&str> = groups
        .iter()
        .map(|g| g["groupby_fields"][0]["value"].as_str().unwrap())
        .collect();
    assert_eq!(tables, ["incident", "sys_user"]);

    // gs.daysAgo is the moment N days ago: every demo incident is older than now and newer
    // than tomorrow.
    for (script, expected) in [
        ("sys_created_on>=javascript:gs.daysAgo(0)", 0),
        ("sys_created_on<javascript:gs.daysAgo(-1)", 300),
    ] {
        let body = json(
            admin_get(
                &sim,
                &format!(
                    "/api/now/stats/incident?sysparm_count=true&sysparm_query={}",
                    urlencode(script)
                ),
            )
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(
            body["result"]["stats"]["count"],
            expected.to_string(),
            "{script}"
        );
    }
}

#[tokio::test]
async fn no_rest_call_is_elevated_so_acl_writes_are_refused_even_for_the_admin() {
    let sim = start(Seed::Demo).await;
    let read = admin_get(&sim, "/api/now/table/sys_security_acl?sysparm_limit=1")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200, "admins read ACLs");
    assert_eq!(json(read).await["result"].as_array().unwrap().len(), 1);
    let (user, password) = sim.admin();
    let post = |table: &'static str, body: serde_json::Value| {
        client()
            .post(format!("{}/api/now/table/{table}", sim.url()))
            .basic_auth(&user, Some(&password))
            .json(&body)
            .send()
    };
    let acl = post(
        "sys_security_acl",
        serde_json::json!({ "name": "task", "operation": "read", "type": "record" }),
    )
    .await
    .unwrap();
    assert_eq!(acl.status(), 403);
    assert_eq!(
        json(acl).await["error"]["detail"],
        "ACL Exception Insert Failed due to security constraints"
    );
    let existing = sim
        .state()
        .query("sys_security_acl", "name=task^operation=read")[0]["sys_id"]
        .clone();
    let changed = client()
        .patch(format!(
            "{}/api/now/table/sys_security_acl/{existing}",
            sim.url()
        ))
        .basic_auth(&user, Some(&password))
        .json(&serde_json::json!({ "active": "false" }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 403);
    // The elevated role's own record is hidden and cannot be granted over REST.
    let roles = admin_get(
        &sim,
        "/api/now/table/sys_user_role?sysparm_query=name=security_admin",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(json(roles).await["result"], serde_json::json!([]));
    let role_id = sim.state().query("sys_user_role", "name=security_admin")[0]["sys_id"].clone();
    let beth = sim.state().query("sys_user", "user_name=beth.anglin")[0]["sys_id"].clone();
    let granted = post(
        "sys_user_has_role",
        serde_json::json!({ "user": beth, "role": role_id }),
    )
    .await
    .unwrap();
    assert_eq!(granted.status(), 403);
    let itil = sim.state().query("sys_user_role", "name=itil")[0]["sys_id"].clone();
    let ordinary = post(
        "sys_user_has_role",
        serde_json::json!({ "user": beth, "role": itil }),
    )
    .await
    .unwrap();
    assert_eq!(ordinary.status(), 201, "other roles are granted as usual");

    // Nor is a call with a bearer token, and an ACL's role rows are as closed as the ACL.
    let tokens = client()
        .post(format!("{}/oauth_token.do", sim.url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", snowlink_sim::DEMO_CLIENT_ID),
            ("client_secret", snowlink_sim::DEMO_CLIENT_SECRET),
            ("username", user.as_str()),
            ("password", password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let access = json(tokens).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let with_token = |table: &'static str, body: serde_json::Value| {
        client()
            .post(format!("{}/api/now/table/{table}", sim.url()))
            .bearer_auth(&access)
            .json(&body)
            .send()
    };
    let acl = serde_json::json!({ "name": "task", "operation": "write", "type": "record" });
    assert_eq!(
        with_token("sys_security_acl", acl).await.unwrap().status(),
        403
    );
    let acl_role = serde_json::json!({ "sys_security_acl": existing, "sys_user_role": itil });
    assert_eq!(
        post("sys_security_acl_role", acl_role.clone())
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        with_token("sys_security_acl_role", acl_role)
            .await
            .unwrap()
            .status(),
        403
    );
}

#[tokio::test]
async fn the_built_in_admin_has_the_sys_id_every_instance_gives_it() {
    let sim = start(Seed::Empty).await;
    let path = format!("/api/now/table/sys_user/{}", snowlink_sim::ADMIN_SYS_ID);
    let body = json(admin_get(&sim, &path).send().await.unwrap()).await;
    assert_eq!(body["result"]["user_name"], "admin", "{body}");
    assert_eq!(
        snowlink_sim::ADMIN_SYS_ID,
        "6816f79cc0a8016401c5a33be04be441"
    );
}

#[tokio::test]
async fn name_value_pairs_filter_the_list_with_sysparm_query_and_literally() {
    let sim = start(Seed::Demo).await;
    let names = |result: serde_json::Value| -> Vec<String> {
        result
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["user_name"].as_str().unwrap().to_owned())
            .collect()
    };
    let get = |path: &'static str| admin_result(&sim, path);
    let one = get("/api/now/table/sys_user?user_name=admin&sysparm_fields=user_name").await;
    assert_eq!(names(one), vec!["admin"]);
    // ANDed with sysparm_query: admin is not among the itil users asked for.
    let none = get(
        "/api/now/table/sys_user?user_name=admin&sysparm_query=user_nameSTARTSWITHbeth&sysparm_fields=user_name",
    )
    .await;
    assert!(names(none).is_empty());
    // A value is a value: `^` in it adds no condition.
    let literal = get(
        "/api/now/table/sys_user?user_name=nobody%5EORuser_name%3Dadmin&sysparm_fields=user_name",
    )
    .await;
    assert!(names(literal).is_empty());
}

#[tokio::test]
async fn boolean_parameters_are_read_in_any_case_and_the_link_header_can_be_suppressed() {
    let sim = start(Seed::Demo).await;
    let response = admin_get(
        &sim,
        "/api/now/table/incident?sysparm_limit=1&sysparm_no_count=True&sysparm_suppress_pagination_header=TRUE&sysparm_exclude_reference_link=True&sysparm_fields=caller_id",
    )
    .send()
    .await
    .unwrap();
    assert!(response.headers().get("x-total-count").is_none());
    assert!(response.headers().get("link").is_none());
    let body = json(response).await;
    let caller = &body["result"][0]["caller_id"];
    assert!(caller.is_string(), "no reference link: {caller}");

    let counted = json(
        admin_get(&sim, "/api/now/stats/incident?sysparm_count=True")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        counted["result"]["stats"]["count"].as_str().is_some(),
        "{counted}"
    );
    let shown = json(
        admin_get(&sim, "/api/now/table/incident?sysparm_limit=1&sysparm_display_value=ALL&sysparm_fields=state")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        shown["result"][0]["state"]["display_value"].is_string(),
        "{shown}"
    );
}

#[tokio::test]
async fn a_task_inserted_without_them_gets_the_callers_opened_by_state_and_priority() {
    let sim = start(Seed::Demo).await;
    let post = |body: serde_json::Value| {
        client()
            .post(format!("{}/api/now/table/incident", sim.url()))
            .basic_auth("beth.anglin", Some(snowlink_sim::DEMO_PASSWORD))
            .json(&body)
            .send()
    };
    let beth = sim.state().query("sys_user", "user_name=beth.anglin")[0]["sys_id"].clone();
    let created = json(post(json!({"short_description": "printer"})).await.unwrap()).await;
    let r = &created["result"];
    assert_eq!(r["opened_by"]["value"], beth.as_str(), "{r}");
    assert_eq!(r["sys_created_by"], "beth.anglin");
    assert!(r["number"].as_str().unwrap().starts_with("INC"), "{r}");
    assert_eq!(r["state"], "1");
    assert_eq!((&r["impact"], &r["urgency"]), (&json!("3"), &json!("3")));
    assert_eq!(r["priority"], "5");
    // Given values are kept; priority follows impact and urgency.
    let urgent = json(
        post(json!({"short_description": "down", "impact": "1", "urgency": "1", "state": "2"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(urgent["result"]["priority"], "1");
    assert_eq!(urgent["result"]["state"], "2");
}

#[tokio::test]
async fn the_dictionary_names_every_table_its_super_class_and_its_choice_lists() {
    let sim = start(Seed::Empty).await;
    let get = |path: &'static str| admin_result(&sim, path);
    let incident = get(
        "/api/now/table/sys_db_object?name=incident&sysparm_display_value=true&sysparm_fields=name,super_class,number_ref.prefix,number_ref.maximum_digits",
    )
    .await;
    assert_eq!(
        incident[0]["super_class"]["display_value"], "task",
        "{incident}"
    );
    assert_eq!(incident[0]["number_ref.prefix"], "INC", "{incident}");
    assert_eq!(incident[0]["number_ref.maximum_digits"], "7");
    assert!(
        incident[0].get("number_prefix").is_none(),
        "no such field on an instance"
    );
    let task = get("/api/now/table/sys_db_object?name=task&sysparm_fields=super_class").await;
    assert_eq!(task[0]["super_class"], "", "task extends nothing: {task}");
    // One row per table the simulator serves.
    let tables = get("/api/now/table/sys_db_object?sysparm_fields=name").await;
    for name in ["sys_user", "sys_security_acl", "sc_request", "sys_choice"] {
        assert!(
            tables.as_array().unwrap().iter().any(|t| t["name"] == name),
            "{name}"
        );
    }

    let states = get(
        "/api/now/table/sys_choice?sysparm_query=name=incident^element=state^ORDERBYsequence&sysparm_fields=value,label",
    )
    .await;
    let states: Vec<(String, String)> = states
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["value"].as_str().unwrap().into(),
                c["label"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(states[0], ("1".to_owned(), "New".to_owned()), "{states:?}");
    assert!(
        states.contains(&("6".to_owned(), "Resolved".to_owned())),
        "{states:?}"
    );
    let urgency =
        get("/api/now/table/sys_choice?name=incident&element=urgency&sysparm_fields=label").await;
    assert_eq!(urgency.as_array().unwrap().len(), 3, "{urgency}");
}

#[tokio::test]
async fn a_fresh_instance_has_the_itsm_group_and_cmdb_tables_and_the_demo_fills_them() {
    let empty = start(Seed::Empty).await;
    for table in [
        "problem",
        "problem_task",
        "change_task",
        "sc_task",
        "sys_user_group",
        "sys_user_grmember",
        "sys_metadata",
        "syslog",
        "std_change_producer_version",
        "cmdb_ci",
        "cmdb_ci_computer",
        "cmdb_ci_linux_server",
    ] {
        let path = format!("/api/now/table/{table}?sysparm_limit=1");
        let answer = admin_get(&empty, &path).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{table}");
    }

    let demo = start(Seed::Demo).await;
    let get = |path: &'static str| admin_result(&demo, path);
    // A query on a class reads the classes that extend it, each row naming its own class.
    let cis = get("/api/now/table/cmdb_ci?sysparm_fields=name,sys_class_name").await;
    let classes: Vec<&str> = cis
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sys_class_name"].as_str().unwrap())
        .collect();
    assert!(classes.contains(&"cmdb_ci_linux_server"), "{cis}");
    assert!(classes.contains(&"cmdb_ci_computer"), "{cis}");
    let servers = get("/api/now/table/cmdb_ci_computer?sysparm_query=nameSTARTSWITHlnux").await;
    assert_eq!(servers.as_array().unwrap().len(), 2);
    // Groups and their members, by reference.
    let members = get(
        "/api/now/table/sys_user_grmember?sysparm_query=group.name=Database&sysparm_fields=user.user_name",
    )
    .await;
    assert_eq!(members.as_array().unwrap().len(), 2, "{members}");
    // Numbered from their own prefixes.
    let problem = get("/api/now/table/problem?sysparm_fields=number").await;
    assert!(
        problem[0]["number"].as_str().unwrap().starts_with("PRB"),
        "{problem}"
    );
    let tasks = get("/api/now/table/change_task?sysparm_fields=number,change_request").await;
    assert_eq!(tasks.as_array().unwrap().len(), 2);
    assert!(
        tasks[0]["number"].as_str().unwrap().starts_with("CTASK"),
        "{tasks}"
    );
}

#[tokio::test]
async fn the_service_catalog_lists_catalogs_categories_and_items_to_order() {
    let sim = start(Seed::Demo).await;
    let sim = &sim;
    let get = |path: String| async move {
        json(demo_get(sim, "abel.tuter", &path).send().await.unwrap()).await["result"].clone()
    };
    let base = "/api/sn_sc/servicecatalog";
    let catalogs = get(format!("{base}/catalogs")).await;
    assert_eq!(catalogs[0]["title"], "Service Catalog", "{catalogs}");
    assert_eq!(catalogs[0]["has_categories"], true);
    assert_eq!(catalogs[0]["has_items"], true);
    let catalog = catalogs[0]["sys_id"].as_str().unwrap().to_owned();
    let categories = get(format!("{base}/catalogs/{catalog}/categories")).await;
    let hardware = categories
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"] == "Hardware")
        .unwrap_or_else(|| panic!("{categories}"))
        .clone();
    assert_eq!(hardware["count"], 2);
    let hardware_id = hardware["sys_id"].as_str().unwrap().to_owned();
    let in_hardware = get(format!("{base}/items?sysparm_category={hardware_id}")).await;
    assert_eq!(in_hardware.as_array().unwrap().len(), 2, "{in_hardware}");
    let laptops = get(format!("{base}/items?sysparm_text=LAPTOP")).await;
    assert_eq!(laptops.as_array().unwrap().len(), 1, "{laptops}");
    assert_eq!(laptops[0]["category"]["title"], "Hardware");
    assert_eq!(laptops[0]["catalogs"][0]["title"], "Service Catalog");
    let id = laptops[0]["sys_id"].as_str().unwrap().to_owned();
    let item = get(format!("{base}/items/{id}")).await;
    assert_eq!(item["name"], "Standard Laptop");
    assert!(item["variables"].is_array());
    let none = get(format!("{base}/items/00000000000000000000000000000000")).await;
    assert!(none.is_null(), "{none}");
}

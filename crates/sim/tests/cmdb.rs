//! Conformance: the CMDB Instance API (servicenow.md 2.13), over real loopback HTTP.

mod common;

use common::{admin_result, demo_get, start};
use snowlink_sim::Seed;

#[tokio::test]
async fn a_class_lists_its_cis_and_a_ci_reads_with_its_attributes_and_relations() {
    let sim = start(Seed::Demo).await;
    // A class lists its own CIs and its subclasses', each as sys_id and name.
    let servers = admin_result(&sim, "/api/now/cmdb/instance/cmdb_ci_linux_server").await;
    let names: Vec<&str> = servers
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"lnux100") && names.contains(&"db-prod-01"),
        "{servers}"
    );
    assert!(
        !names.contains(&"beth-laptop"),
        "a computer is not a Linux server"
    );
    let all = admin_result(&sim, "/api/now/cmdb/instance/cmdb_ci").await;
    assert_eq!(all.as_array().unwrap().len(), 5, "{all}");
    assert_eq!(
        all[0].as_object().unwrap().len(),
        2,
        "only sys_id and name: {all}"
    );
    let one = admin_result(
        &sim,
        "/api/now/cmdb/instance/cmdb_ci_linux_server?sysparm_query=name=lnux100",
    )
    .await;
    assert_eq!(one.as_array().unwrap().len(), 1);

    let id = one[0]["sys_id"].as_str().unwrap();
    let ci = admin_result(
        &sim,
        &format!("/api/now/cmdb/instance/cmdb_ci_linux_server/{id}"),
    )
    .await;
    assert_eq!(ci["attributes"]["name"], "lnux100");
    assert_eq!(ci["attributes"]["sys_class_name"], "cmdb_ci_linux_server");
    assert_eq!(ci["attributes"]["ip_address"], "10.0.0.100");
    let out = &ci["outbound_relations"][0];
    assert_eq!(out["type"]["display_value"], "Depends on::Used by", "{ci}");
    assert_eq!(out["target"]["display_value"], "db-prod-01", "{ci}");
    assert!(
        out["target"]["link"]
            .as_str()
            .unwrap()
            .contains("/api/now/cmdb/instance/cmdb_ci/")
    );
    assert!(ci["inbound_relations"].as_array().unwrap().is_empty());
    // The other end sees it inbound.
    let db = out["target"]["value"].as_str().unwrap();
    let other = admin_result(&sim, &format!("/api/now/cmdb/instance/cmdb_ci/{db}")).await;
    assert_eq!(
        other["inbound_relations"][0]["target"]["display_value"],
        "lnux100"
    );
}

#[tokio::test]
async fn the_api_asks_for_itil_and_knows_only_cmdb_classes() {
    let sim = start(Seed::Demo).await;
    let refused = demo_get(&sim, "abel.tuter", "/api/now/cmdb/instance/cmdb_ci")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let itil = demo_get(&sim, "beth.anglin", "/api/now/cmdb/instance/cmdb_ci")
        .send()
        .await
        .unwrap();
    assert_eq!(itil.status(), 200);
    let seen = itil.json::<serde_json::Value>().await.unwrap()["result"].clone();
    assert_eq!(
        seen.as_array().unwrap().len(),
        5,
        "an itil user reads the CIs: {seen}"
    );
    let not_a_class = admin_result(&sim, "/api/now/cmdb/instance/sys_user").await;
    assert!(not_a_class.is_null(), "{not_a_class}");
    let missing = demo_get(
        &sim,
        "beth.anglin",
        "/api/now/cmdb/instance/cmdb_ci/00000000000000000000000000000000",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(missing.status(), 404);
}

//! Conformance: a request's `request_state` moves on as a fresh instance's base business rules
//! move it (servicenow.md 4.12), whoever writes the records.

mod common;

use common::{client, json, start};
use serde_json::json;
use snowlink_sim::{DEMO_PASSWORD, RunningSim, Seed};

/// Orders the demo's Standard Laptop as beth.anglin: the request and its requested item.
async fn order(sim: &RunningSim) -> (String, String) {
    let item = sim.state().query("sc_cat_item", "name=Standard Laptop")[0]["sys_id"].clone();
    let ordered = client()
        .post(format!(
            "{}/api/sn_sc/servicecatalog/items/{item}/order_now",
            sim.url()
        ))
        .basic_auth("beth.anglin", Some(DEMO_PASSWORD))
        .json(&json!({ "sysparm_quantity": "1" }))
        .send()
        .await
        .unwrap();
    let request = json(ordered).await["result"]["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ritm = sim
        .state()
        .query("sc_req_item", &format!("request={request}"))[0]["sys_id"]
        .clone();
    (request, ritm)
}

async fn patch(sim: &RunningSim, table: &str, sys_id: &str, body: serde_json::Value) {
    let (admin, password) = sim.admin();
    let response = client()
        .patch(format!("{}/api/now/table/{table}/{sys_id}", sim.url()))
        .basic_auth(admin, Some(password))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn approving_a_request_puts_it_in_process_and_closing_its_items_closes_it() {
    let sim = start(Seed::Demo).await;
    let (request, ritm) = order(&sim).await;
    let state = |field: &str| sim.state().get("sc_request", &request).unwrap()[field].clone();
    assert_eq!(state("request_state"), "requested");
    patch(
        &sim,
        "sc_request",
        &request,
        json!({ "approval": "approved" }),
    )
    .await;
    assert_eq!(
        (state("request_state"), state("state")),
        ("in_process".into(), "2".into())
    );

    // A second item keeps the request open until it closes too.
    let second = sim
        .state()
        .insert(
            "sc_req_item",
            snowlink_sim::Record::from([("request".into(), request.clone())]),
        )
        .unwrap()["sys_id"]
        .clone();
    patch(&sim, "sc_req_item", &ritm, json!({ "state": "3" })).await;
    assert_eq!(state("request_state"), "in_process");
    patch(&sim, "sc_req_item", &second, json!({ "state": "7" })).await;
    assert_eq!(
        (state("request_state"), state("state")),
        ("closed_complete".into(), "3".into())
    );
}

#[tokio::test]
async fn an_incomplete_item_closes_the_request_incomplete_and_a_rejection_closes_it_rejected() {
    let sim = start(Seed::Demo).await;
    let (request, ritm) = order(&sim).await;
    patch(&sim, "sc_req_item", &ritm, json!({ "state": "4" })).await;
    let record = sim.state().get("sc_request", &request).unwrap();
    assert_eq!(
        (record["request_state"].as_str(), record["state"].as_str()),
        ("closed_incomplete", "4")
    );

    let (rejected, _) = order(&sim).await;
    patch(
        &sim,
        "sc_request",
        &rejected,
        json!({ "approval": "rejected" }),
    )
    .await;
    let record = sim.state().get("sc_request", &rejected).unwrap();
    assert_eq!(record["request_state"], "closed_rejected");
}

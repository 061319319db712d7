//! Shared helpers of the conformance suite: start an in-process simulator on a loopback port and
//! talk to it with a plain reqwest client, as any real client would.
#![allow(dead_code)]

pub use snowlink_sim::testing::client;
use snowlink_sim::{Record, RunningSim, Seed, Sim, StateHandle};

pub async fn start(seed: Seed) -> RunningSim {
    Sim::builder()
        .seed(seed)
        .start()
        .await
        .expect("simulator starts")
}

pub fn admin_get(sim: &RunningSim, path: &str) -> reqwest::RequestBuilder {
    let (user, password) = sim.admin();
    client()
        .get(format!("{}{path}", sim.url()))
        .basic_auth(user, Some(password))
}

/// A GET of `path` as the demo user `user`, with the demo password.
pub fn demo_get(sim: &RunningSim, user: &str, path: &str) -> reqwest::RequestBuilder {
    client()
        .get(format!("{}{path}", sim.url()))
        .basic_auth(user, Some(snowlink_sim::DEMO_PASSWORD))
}

/// Adds a read ACL on `name` (a table, `table.field` or `table.*`) that needs the role `role`.
pub fn read_acl_needing_role(state: &StateHandle, name: &str, role: &str) {
    let acl = state
        .insert(
            "sys_security_acl",
            Record::from([
                ("name".into(), name.into()),
                ("operation".into(), "read".into()),
            ]),
        )
        .unwrap();
    let role = state.query("sys_user_role", &format!("name={role}"))[0]["sys_id"].clone();
    state
        .insert(
            "sys_security_acl_role",
            Record::from([
                ("sys_security_acl".into(), acl["sys_id"].clone()),
                ("sys_user_role".into(), role),
            ]),
        )
        .unwrap();
}

pub async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.expect("JSON body")
}

/// The `result` of a GET of `path` as the admin.
pub async fn admin_result(sim: &RunningSim, path: &str) -> serde_json::Value {
    json(admin_get(sim, path).send().await.unwrap()).await["result"].clone()
}

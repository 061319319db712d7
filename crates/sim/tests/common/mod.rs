//! Shared helpers of the conformance suite: start an in-process simulator on a loopback port and
//! talk to it with a plain reqwest client, as any real client would.
#![allow(dead_code)]

use snowlink_sim::{RunningSim, Seed, Sim};

pub async fn start(seed: Seed) -> RunningSim {
    Sim::builder()
        .seed(seed)
        .start()
        .await
        .expect("simulator starts")
}

/// A client that follows no redirects, so tests see exactly what the instance answers.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn admin_get(sim: &RunningSim, path: &str) -> reqwest::RequestBuilder {
    let (user, password) = sim.admin();
    client()
        .get(format!("{}{path}", sim.url()))
        .basic_auth(user, Some(password))
}

pub async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.expect("JSON body")
}

//! "Try it on a simulated instance": starts the simulator that ships with the app, in this
//! engine process, and hands its address and admin account to the wizard. It stops with the
//! engine, which stops with the app.

use serde::Serialize;
use snowlink_core::errors::FrontEndError;
use snowlink_sim::{RunningSim, Seed, Sim};
use tokio::sync::Mutex;

use crate::error::UiError;

/// A running simulated instance, as the wizard needs it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct DemoInstance {
    pub url: String,
    pub admin_username: String,
    pub admin_password: String,
}

/// The simulator started for this app, if any.
#[derive(Default)]
pub struct Demo(Mutex<Option<(RunningSim, DemoInstance)>>);

/// The simulated instance, started on first use.
pub async fn start_demo_instance(demo: &Demo) -> Result<DemoInstance, UiError> {
    let mut running = demo.0.lock().await;
    if let Some((_, instance)) = running.as_ref() {
        return Ok(instance.clone());
    }
    let sim = Sim::builder()
        .seed(Seed::Demo)
        .start()
        .await
        .map_err(|err| UiError(FrontEndError::Simulator(err.to_string()).view()))?;
    let (admin_username, admin_password) = sim.admin();
    let instance = DemoInstance {
        url: sim.url().to_owned(),
        admin_username,
        admin_password,
    };
    *running = Some((sim, instance.clone()));
    Ok(instance)
}

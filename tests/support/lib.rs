//! Shared harness for the end-to-end tests: where the build's outputs are, and a driver for
//! the real desktop window.

pub mod browser;
pub mod cli;
pub mod desktop;
pub mod paths;
pub mod receiver;

/// Gives the OAuth application(s) matching `query` (an encoded query on `oauth_entity`) a new
/// client secret on the simulated instance, as an admin rotating it in the Application
/// Registry does.
pub fn rotate_client_secret(sim: &snowlink_sim::RunningSim, query: &str, new: &str) {
    let state = sim.state();
    for app in state.query("oauth_entity", query) {
        let fields = [("client_secret".to_owned(), new.to_owned())].into();
        state
            .update("oauth_entity", &app["sys_id"], fields)
            .unwrap();
    }
}

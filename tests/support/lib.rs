//! Shared harness for the end-to-end tests: where the build's outputs are, and a driver for
//! the real desktop window.

pub mod browser;
pub mod cli;
pub mod desktop;
pub mod paths;
pub mod receiver;

use std::sync::Arc;
use std::time::Duration;

use snowlink_core::flows::BrowserSignIn;
use snowlink_sim::{RunningSim, Seed, Sim};

/// A simulator holding the demo company.
pub async fn demo() -> RunningSim {
    Sim::builder().seed(Seed::Demo).start().await.unwrap()
}

/// A free loopback port, as an admin picks for a redirect URL.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Browser sign-in with no browser at all, for the flows that never open one.
pub fn no_browser() -> BrowserSignIn {
    BrowserSignIn {
        ports: vec![0],
        browser: None,
        wait: Duration::from_secs(5),
        show_url: Arc::new(|_, _| {}),
        paste: None,
    }
}

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

/// Snowlink's own OAuth application on `sim`, as an admin creates it in the browser on "Let
/// Snowlink in": a public client (PKCE, no secret) with Snowlink's loopback callbacks.
pub fn snowlink_admin_app(sim: &RunningSim) -> snowlink_sim::OAuthApp {
    sim.state()
        .create_oauth_app(snowlink_sim::OAuthAppSpec {
            name: snowlink_core::profiles::admin_access::ADMIN_APP_NAME.into(),
            redirect_urls: snowlink_core::oauth::callback_urls(),
            public_client: true,
            ..snowlink_sim::OAuthAppSpec::default()
        })
        .unwrap()
}

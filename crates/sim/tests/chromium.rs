//! The OAuth authorization-code flow completed by a real headless Chromium (Debian's
//! `/usr/bin/chromium` driven by `playwright-core` from `tests/js`): login form, consent page,
//! Allow, redirect with `code` and `state`, then the token exchange. Neither is a Rust
//! dependency, so the test is `#[ignore]`d (listed as such by a plain `cargo test`); `./dev
//! test` installs both and runs it with `--include-ignored`, where a missing one fails it.

mod common;

use std::path::PathBuf;

use common::{json, start};
use snowlink_sim::{OAuthAppSpec, Seed};

const REDIRECT: &str = "http://127.0.0.1:53682/callback";

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/js")
}

#[tokio::test]
#[ignore = "needs /usr/bin/chromium and `npm ci --prefix tests/js`: ./dev test runs it"]
async fn authorization_code_flow_completes_in_headless_chromium() {
    let chromium =
        std::env::var("SNOWLINK_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        PathBuf::from(&chromium).exists(),
        "{chromium} is missing: apt-get install chromium"
    );
    assert!(
        scripts().join("node_modules/playwright-core").exists(),
        "playwright-core is missing: npm ci --prefix tests/js"
    );
    let sim = start(Seed::Demo).await;
    let app = sim
        .state()
        .create_oauth_app(OAuthAppSpec {
            name: "Browser test".into(),
            redirect_urls: vec![REDIRECT.into()],
            ..OAuthAppSpec::default()
        })
        .unwrap();
    let authorize = format!(
        "{}/oauth_auth.do?response_type=code&client_id={}&redirect_uri={REDIRECT}&scope=useraccount&state=chromium-state",
        sim.url(),
        app.client_id
    );
    let output = tokio::process::Command::new("node")
        .arg(scripts().join("oauth-consent.mjs"))
        .args([
            &authorize,
            "beth.anglin",
            snowlink_sim::DEMO_PASSWORD,
            REDIRECT,
            "allow",
        ])
        .env("CHROMIUM", &chromium)
        .output()
        .await
        .expect("node runs");
    assert!(
        output.status.success(),
        "browser script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = String::from_utf8_lossy(&output.stdout);
    let printed: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
    let callback = url::Url::parse(printed["callback"].as_str().expect("callback URL")).unwrap();
    let param = |name: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("state").as_deref(), Some("chromium-state"));
    let code = param("code").expect("code in the callback");
    let response = common::client()
        .post(format!("{}/oauth_token.do", sim.url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(json(response).await["access_token"].is_string());
}

//! Browser sign-in latency, issue 4's bar: from the callback arriving at the loopback listener to
//! the tokens stored in the OS keyring, median under 50 ms on loopback against the simulator.
//! Each run plays the browser with a plain HTTP client (authorize URL, login form, consent form,
//! untimed), then times the callback request, the code exchange with the PKCE verifier and
//! `TokenSet::save` into the real Secret Service. Run it inside a keyring session:
//! `scripts/with-keyring cargo bench -p snowlink-bench --bench sign_in`. Without a usable
//! Secret Service it says why and exits non-zero: there is no plaintext or in-memory fallback.
//! Plain `Instant` timing; not a test.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use snowlink_core::InstanceUrl;
use snowlink_core::ids::ConnectionId;
use snowlink_core::oauth::{LoopbackListener, OAuthClient, OAuthEndpoints};
use snowlink_core::secrets::{
    AccessToken, ClientSecret, KeyringStore, RefreshToken, SecretKind, SecretStore, SecretStoreExt,
};
use snowlink_e2e::free_port;
use snowlink_sim::testing::{form_inputs, location};
use snowlink_sim::{OAuthAppSpec, RunningSim, Seed, Sim};

const WARM_UPS: usize = 3;
const SAMPLES: usize = 30;
const TARGET: Duration = Duration::from_millis(50);
/// The listener's own limit on the whole wait; a run never gets near it.
const CALLBACK_WAIT: Duration = Duration::from_secs(30);

/// What one run needs from the simulator.
struct Setup<'a> {
    sim: &'a RunningSim,
    endpoints: OAuthEndpoints,
    client_id: String,
    client_secret: String,
    port: u16,
    user: String,
    password: String,
}

/// Plays the browser from the authorize URL to the consent page's redirect: the login form
/// (hidden `return_to` included), then Allow with the form token. Returns the callback URL.
async fn browse_to_callback(setup: &Setup<'_>, authorize_url: &str) -> String {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser client");
    let login_page = browser.get(authorize_url).send().await.expect("authorize");
    assert_eq!(login_page.status(), 200, "authorize page");
    let html = login_page.text().await.expect("login page");
    let mut fields = form_inputs(&html, "login");
    for (name, value) in &mut fields {
        match name.as_str() {
            "user_name" => value.clone_from(&setup.user),
            "user_password" => value.clone_from(&setup.password),
            _ => {}
        }
    }
    let logged_in = browser
        .post(format!("{}/login.do", setup.sim.url()))
        .form(&fields)
        .send()
        .await
        .expect("login");
    assert_eq!(logged_in.status(), 302, "login of {}", setup.user);
    let back = location(&logged_in);
    assert!(back.starts_with("/oauth_auth.do?"), "after login: {back}");
    let consent = browser
        .get(format!("{}{back}", setup.sim.url()))
        .send()
        .await
        .expect("consent page");
    assert_eq!(consent.status(), 200, "consent page");
    let html = consent.text().await.expect("consent page");
    let mut fields = form_inputs(&html, "consent");
    fields.push(("action".into(), "allow".into()));
    let decided = browser
        .post(format!("{}/oauth_auth.do", setup.sim.url()))
        .form(&fields)
        .send()
        .await
        .expect("consent");
    assert_eq!(decided.status(), 302, "consent");
    location(&decided)
}

/// One sign-in's times, all from sending the callback.
struct Run {
    /// Until both tokens are stored in the keyring: the figure the target is about.
    total: Duration,
    /// Until the code exchange returned the tokens; the rest is the keyring.
    exchanged: Duration,
}

/// One sign-in, timed from sending the callback to both tokens stored in the keyring.
async fn sign_in_once(setup: &Setup<'_>, store: &KeyringStore, connection: &ConnectionId) -> Run {
    let listener = LoopbackListener::bind(&[setup.port])
        .await
        .expect("the registered callback port is free");
    let client = OAuthClient::new(
        setup.endpoints.clone(),
        setup.client_id.clone(),
        Some(ClientSecret::new(setup.client_secret.clone())),
    )
    .expect("OAuth client");
    let session = client
        .begin_auth_code(listener, &["useraccount".into()])
        .expect("authorize URL");
    let callback = browse_to_callback(setup, session.authorize_url().as_str()).await;
    assert!(
        callback.contains("code="),
        "the consent did not return a code: {callback}"
    );
    // The browser's redirect to the listener: a fresh client, as a browser tab would open a
    // fresh connection to a new origin.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser client");

    let started = Instant::now();
    let (page, tokens) = tokio::join!(
        browser.get(&callback).send(),
        session.finish(CALLBACK_WAIT, std::future::pending(), None),
    );
    let tokens = tokens.unwrap_or_else(|err| panic!("sign-in failed: {err} {}", err.hint()));
    let exchanged = started.elapsed();
    tokens
        .save(store, connection)
        .await
        .unwrap_or_else(|err| panic!("storing the tokens failed: {err} {}", err.hint()));
    let total = started.elapsed();

    let page = page.expect("callback request");
    assert!(
        page.status().is_success(),
        "callback page: {}",
        page.status()
    );
    assert!(
        tokens.refresh_token.is_some(),
        "a confidential client gets a refresh token"
    );
    // Both entries really are in the keyring.
    let stored = store
        .load::<AccessToken>(connection)
        .await
        .expect("read back the access token");
    assert_eq!(
        stored.as_ref().map(AccessToken::expose),
        Some(tokens.access_token.expose())
    );
    let stored = store
        .load::<RefreshToken>(connection)
        .await
        .expect("read back the refresh token");
    assert_eq!(
        stored.as_ref().map(RefreshToken::expose),
        tokens.refresh_token.as_ref().map(RefreshToken::expose)
    );
    store
        .delete_all(connection)
        .await
        .expect("delete the entries");
    Run { total, exchanged }
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

/// Min, median, p90 and max of `samples`.
fn summary(mut samples: Vec<Duration>) -> [Duration; 4] {
    samples.sort();
    let n = samples.len();
    [
        samples[0],
        samples[n / 2],
        samples[(n * 9).div_ceil(10) - 1],
        samples[n - 1],
    ]
}

#[tokio::main]
async fn main() -> ExitCode {
    let store = KeyringStore::with_service("snowlink-bench");
    let connection =
        ConnectionId::parse(&format!("bench-{}", std::process::id())).expect("connection id");
    // Fail early, and say why, when there is no usable Secret Service: no fallback store.
    if let Err(err) = store.get(&connection, SecretKind::AccessToken).await {
        eprintln!(
            "sign_in: the Secret Service is not usable: {err} {}",
            err.hint()
        );
        eprintln!("run it as: scripts/with-keyring cargo bench -p snowlink-bench --bench sign_in");
        return ExitCode::FAILURE;
    }

    let sim = Sim::builder()
        .seed(Seed::Demo)
        .start()
        .await
        .expect("simulator starts");
    let port = free_port();
    let app = sim
        .state()
        .create_oauth_app(OAuthAppSpec {
            name: "Snowlink bench".into(),
            redirect_urls: vec![format!("http://127.0.0.1:{port}/callback")],
            ..OAuthAppSpec::default()
        })
        .expect("OAuth app");
    let instance = InstanceUrl::parse(sim.url()).expect("simulator URL");
    let (user, password) = sim.admin();
    let setup = Setup {
        sim: &sim,
        endpoints: OAuthEndpoints::service_now(&instance).expect("endpoints"),
        client_id: app.client_id,
        client_secret: app.client_secret,
        port,
        user,
        password,
    };

    for _ in 0..WARM_UPS {
        sign_in_once(&setup, &store, &connection).await;
    }
    let mut runs = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        runs.push(sign_in_once(&setup, &store, &connection).await);
    }
    let [min, median, p90, max] = summary(runs.iter().map(|r| r.total).collect());
    println!(
        "callback -> tokens in keyring ({SAMPLES} runs after {WARM_UPS} warm-ups, Secret Service \"{}\"):",
        store.service()
    );
    println!(
        "  min {}  median {}  p90 {}  max {}",
        ms(min),
        ms(median),
        ms(p90),
        ms(max)
    );
    for (name, part) in [
        (
            "callback -> tokens (code exchange)",
            summary(runs.iter().map(|r| r.exchanged).collect()),
        ),
        (
            "tokens -> keyring (2 entries)",
            summary(runs.iter().map(|r| r.total - r.exchanged).collect()),
        ),
    ] {
        println!(
            "  of which {name}: min {}  median {}  p90 {}",
            ms(part[0]),
            ms(part[1]),
            ms(part[2])
        );
    }
    let verdict = if median < TARGET { "PASS" } else { "FAIL" };
    println!(
        "  {verdict}: median {} against the {} target",
        ms(median),
        ms(TARGET)
    );
    ExitCode::SUCCESS
}

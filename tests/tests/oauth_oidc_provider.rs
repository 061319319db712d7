//! Snowlink's authorization-code + PKCE sign-in against a real, independent OAuth server:
//! `oidc-provider` from npm (OpenID Certified), started on loopback by the test from
//! `tests/js/`. A scripted browser (plain HTTP with a cookie jar) fills in its login and
//! consent forms. The client stays ServiceNow-shaped; only the endpoint URLs are mapped from
//! the server's discovery document.
//!
//! One more test hands the sign-in to a real headless Chromium through `$BROWSER` semantics
//! (`tests/js/sign-in.mjs`, driven by playwright-core), so the listener also meets a real
//! browser's requests.
//!
//! Needs `node` and `npm ci --prefix tests/js` (and `/usr/bin/chromium` for the browser test),
//! and tokens are kept in the real Secret Service: the tests are `#[ignore]`d, so a plain
//! `cargo test` lists them as ignored; `./dev test` runs them with `--include-ignored` inside
//! `scripts/with-keyring`, where anything missing makes them fail.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use snowlink_core::BrowserUrl;
use snowlink_core::InstanceUrl;
use snowlink_core::connections::{Connection, ConnectionStatus, ConnectionStore};
use snowlink_core::grants::GrantKind;
use snowlink_core::ids::ConnectionId;
use snowlink_core::oauth::{
    Browser, BrowserError, ListenerError, LoopbackListener, OAuthClient, OAuthEndpoints,
    OAuthError, SystemBrowser, TokenSet,
};
use snowlink_core::secrets::{
    AccessToken, KeyringStore, RefreshToken, SecretStore, SecretStoreExt,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

const CLIENT_ID: &str = "snowlink-test";
const WAIT: Duration = Duration::from_secs(30);

/// The running oidc-provider; killed when dropped.
struct OidcProvider {
    _child: Child,
    issuer: String,
    endpoints: OAuthEndpoints,
}

use snowlink_e2e::browser::node_dir;

/// Starts the server; fails the test, saying what to install, when it cannot.
async fn start_provider() -> OidcProvider {
    assert!(
        node_dir().join("node_modules/oidc-provider").is_dir(),
        "oidc-provider is not installed: run `npm ci --prefix tests/js`"
    );
    let spawned = Command::new("node")
        .arg("oidc-server.mjs")
        .current_dir(node_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let mut child = spawned.expect("node starts (install Node.js 20 or newer)");
    let stdout = child.stdout.take().unwrap();
    let mut first_line = String::new();
    tokio::time::timeout(
        Duration::from_secs(30),
        BufReader::new(stdout).read_line(&mut first_line),
    )
    .await
    .expect("oidc-provider printed its issuer within 30 s")
    .unwrap();
    let announced: serde_json::Value = serde_json::from_str(&first_line).unwrap();
    let issuer = announced["issuer"].as_str().unwrap().to_owned();

    // Map ServiceNow's three endpoints to the provider's, from its discovery document.
    let discovery: serde_json::Value =
        reqwest::get(format!("{issuer}/.well-known/openid-configuration"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let url = |key: &str| Url::parse(discovery[key].as_str().unwrap()).unwrap();
    let endpoints = OAuthEndpoints {
        authorize: url("authorization_endpoint"),
        token: url("token_endpoint"),
        revoke: url("revocation_endpoint"),
        issuer: Some(issuer.clone()),
    };
    OidcProvider {
        _child: child,
        issuer,
        endpoints,
    }
}

/// What the scripted user does on the consent page.
#[derive(Clone, Copy)]
enum Choice {
    Allow,
    Deny,
}

/// A browser that signs in on oidc-provider's development forms: follows redirects with a
/// cookie jar, submits the login form with any user name and password, then allows or denies
/// on the consent page. Records the address where it ended up.
struct ScriptedBrowser {
    choice: Choice,
    landed_on: Arc<Mutex<Option<Url>>>,
}

impl ScriptedBrowser {
    fn new(choice: Choice) -> Self {
        Self {
            choice,
            landed_on: Arc::default(),
        }
    }
}

impl Browser for ScriptedBrowser {
    fn open(&self, url: &BrowserUrl) -> Result<(), BrowserError> {
        let url = Url::parse(url.as_str()).unwrap();
        let choice = self.choice;
        let landed_on = self.landed_on.clone();
        tokio::spawn(async move {
            let end = click_through(url, choice).await;
            *landed_on.lock().unwrap() = Some(end);
        });
        Ok(())
    }
}

async fn click_through(start: Url, choice: Choice) -> Url {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let mut response = http.get(start).send().await.unwrap();
    for _ in 0..6 {
        let here = response.url().clone();
        if here.path() == "/callback" {
            return here;
        }
        let page = response.text().await.unwrap();
        let form = first_form(&page).unwrap_or_else(|| panic!("no form at {here}: {page}"));
        let action = here.join(&form.action).unwrap();
        let consent = form
            .fields
            .iter()
            .any(|(k, v)| k == "prompt" && v == "consent");
        response = match (consent, choice) {
            (true, Choice::Deny) => {
                let abort = here.join(&format!("{}/abort", here.path())).unwrap();
                http.get(abort).send().await.unwrap()
            }
            _ => {
                let mut fields = form.fields;
                fields.push(("login".into(), "abel.tuter".into()));
                fields.push(("password".into(), "any-password".into()));
                http.post(action).form(&fields).send().await.unwrap()
            }
        };
    }
    panic!("the sign-in did not reach the callback");
}

struct Form {
    action: String,
    fields: Vec<(String, String)>,
}

/// The first `<form>`'s action and hidden inputs, from oidc-provider's simple markup.
fn first_form(page: &str) -> Option<Form> {
    let start = page.find("<form")?;
    let form = &page[start..start + page[start..].find("</form>")?];
    let attr = |tag: &str, name: &str| {
        let key = format!("{name}=\"");
        let at = tag.find(&key)? + key.len();
        Some(
            tag[at..at + tag[at..].find('"')?]
                .replace("&#x2F;", "/")
                .replace("&amp;", "&"),
        )
    };
    let action = attr(form, "action")?;
    let fields = form
        .split("<input")
        .skip(1)
        .filter(|tag| tag.contains("type=\"hidden\""))
        .filter_map(|tag| Some((attr(tag, "name")?, attr(tag, "value")?)))
        .collect();
    Some(Form { action, fields })
}

async fn sign_in(provider: &OidcProvider, browser: &dyn Browser) -> Result<TokenSet, OAuthError> {
    let client = OAuthClient::new(provider.endpoints.clone(), CLIENT_ID, None).unwrap();
    let listener = LoopbackListener::bind(&[0]).await.unwrap();
    let session = client
        .begin_auth_code(listener, &["openid".to_owned()])
        .unwrap();
    assert!(
        session
            .authorize_url()
            .as_str()
            .starts_with(&provider.issuer)
    );
    session.open_in(browser).unwrap();
    session.finish(WAIT, std::future::pending(), None).await
}

#[tokio::test]
#[ignore = "needs node, `npm ci --prefix tests/js` and a Secret Service: ./dev test runs it"]
async fn auth_code_with_pkce_refresh_and_revoke_against_oidc_provider() {
    let provider = start_provider().await;
    let browser = ScriptedBrowser::new(Choice::Allow);
    let tokens = sign_in(&provider, &browser).await.unwrap();
    // The browser still reads the success page when the listener has returned.
    let mut landed = None;
    for _ in 0..100 {
        landed = browser.landed_on.lock().unwrap().clone();
        if landed.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let landed = landed.expect("the browser reached the callback");
    assert_eq!(landed.host_str(), Some("127.0.0.1"));
    assert!(
        landed
            .query_pairs()
            .any(|(k, v)| k == "iss" && v == provider.issuer),
        "oidc-provider names itself in the callback (RFC 9207): {landed}"
    );
    assert!(!tokens.access_token.expose().is_empty());
    assert!(tokens.expires_at.is_some());
    let refresh = tokens.refresh_token.clone().expect("a refresh token");

    let client = OAuthClient::new(provider.endpoints.clone(), CLIENT_ID, None).unwrap();
    let renewed = client.refresh(&refresh).await.unwrap();
    assert_ne!(renewed.access_token.expose(), tokens.access_token.expose());
    // oidc-provider rotates refresh tokens for public clients: use the newest one.
    let refresh = renewed.refresh_token.clone().unwrap_or(refresh);

    client.revoke(&refresh).await.unwrap();
    let err = client.refresh(&refresh).await.unwrap_err();
    assert!(matches!(err, OAuthError::RelinkNeeded), "{err:?}");

    no_secret_leaks_after_connect(&provider, &renewed, &err).await;
}

/// After a full connect, the tokens are in the secret store (the real Secret Service under
/// `scripts/with-keyring`) and nowhere else: not in the connections file, not in Debug output,
/// not in error messages.
async fn no_secret_leaks_after_connect(
    provider: &OidcProvider,
    tokens: &TokenSet,
    err: &OAuthError,
) {
    let dir = tempfile::tempdir().unwrap();
    let file = ConnectionStore::at(dir.path().join("connections.json"));
    let id = ConnectionId::parse("oidc-test").unwrap();
    let connection = Connection {
        id: id.clone(),
        display_name: "oidc-provider".into(),
        instance: InstanceUrl::parse(&provider.issuer).unwrap(),
        profile_id: "custom".into(),
        grant: GrantKind::AuthCode,
        client_id: Some(CLIENT_ID.into()),
        username: None,
        linked_identity: None,
        status: ConnectionStatus {
            token_expires_at: tokens.expires_at,
            ..ConnectionStatus::default()
        },
    };
    file.upsert(connection.clone()).unwrap();
    let secrets = secret_store().await;
    tokens.save(secrets.as_ref(), &id).await.unwrap();

    let access = tokens.access_token.expose();
    let on_disk = std::fs::read_to_string(file.path()).unwrap();
    let shown = format!(
        "{tokens:?} {connection:?} {err} {err:?} {} {:?}",
        err.hint(),
        secrets.load::<AccessToken>(&id).await.unwrap()
    );
    for (place, text) in [("connections file", &on_disk), ("Debug and errors", &shown)] {
        assert!(!text.contains(access), "the access token is in the {place}");
        if let Some(refresh) = &tokens.refresh_token {
            assert!(
                !text.contains(refresh.expose()),
                "the refresh token is in the {place}"
            );
        }
    }
    let stored: AccessToken = secrets.load(&id).await.unwrap().unwrap();
    assert_eq!(stored.expose(), access);
    let refresh: Option<RefreshToken> = secrets.load(&id).await.unwrap();
    assert_eq!(
        refresh.as_ref().map(RefreshToken::expose),
        tokens.refresh_token.as_ref().map(RefreshToken::expose)
    );
    secrets.delete_all(&id).await.unwrap();
    assert!(secrets.load::<AccessToken>(&id).await.unwrap().is_none());
}

/// The real OS keyring, under a service name of this run.
async fn secret_store() -> Box<dyn SecretStore> {
    let keyring = KeyringStore::with_service(format!("snowlink-e2e-{}", std::process::id()));
    keyring
        .probe()
        .await
        .expect("a Secret Service answers (run under scripts/with-keyring)");
    Box::new(keyring)
}

#[tokio::test]
#[ignore = "needs node, `npm ci --prefix tests/js` and a Secret Service: ./dev test runs it"]
async fn pressing_deny_on_oidc_provider_is_reported_as_deny() {
    let provider = start_provider().await;
    let err = sign_in(&provider, &ScriptedBrowser::new(Choice::Deny))
        .await
        .unwrap_err();
    assert!(
        matches!(err, OAuthError::Callback(ListenerError::Denied)),
        "{err:?}"
    );
    assert!(err.to_string().contains("You pressed Deny"));
}

fn chromium_browser_var(choice: Choice) -> String {
    snowlink_e2e::browser::chromium_browser_var(
        match choice {
            Choice::Allow => "allow",
            Choice::Deny => "deny",
        },
        None,
    )
}

#[tokio::test]
#[ignore = "needs node, `npm ci --prefix tests/js` and a Secret Service: ./dev test runs it"]
async fn a_real_chromium_opened_through_browser_var_completes_the_sign_in() {
    let provider = start_provider().await;
    let browser_var = chromium_browser_var(Choice::Allow);
    let tokens = sign_in(
        &provider,
        &SystemBrowser::with_browser_var(Some(browser_var)),
    )
    .await
    .unwrap();
    assert!(!tokens.access_token.expose().is_empty());
    assert!(tokens.refresh_token.is_some());
}

#[tokio::test]
#[ignore = "needs node, `npm ci --prefix tests/js` and a Secret Service: ./dev test runs it"]
async fn deny_in_a_real_chromium_is_reported_as_deny() {
    let provider = start_provider().await;
    let browser_var = chromium_browser_var(Choice::Deny);
    let err = sign_in(
        &provider,
        &SystemBrowser::with_browser_var(Some(browser_var)),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, OAuthError::Callback(ListenerError::Denied)),
        "{err:?}"
    );
}

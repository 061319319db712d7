//! The OAuth client against a recording token endpoint (axum), and the authorization-code
//! flow end to end through the real loopback listener.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use sha2::Digest;

use chrono::{DateTime, Utc};
use url::Url;

use super::*;
use crate::browser::BrowserUrl;
use crate::connections::{Connection, ConnectionState, ConnectionStatus};
use crate::grants::GrantKind;
use crate::http::TransportError;
use crate::ids::ConnectionId;
use crate::instance::InstanceUrl;
use crate::secrets::{
    AccessToken, ClientSecret, MemoryStore, Password, RefreshToken, SecretStoreExt,
};

type Params = HashMap<String, String>;
type Answer = fn(&Params) -> (StatusCode, &'static str, String);

/// A token endpoint that records every request and answers with `answer`.
struct FakeServer {
    endpoints: OAuthEndpoints,
    seen: Arc<Mutex<Vec<(String, Params)>>>,
}

#[derive(Clone)]
struct FakeState {
    seen: Arc<Mutex<Vec<(String, Params)>>>,
    answer: Answer,
}

async fn endpoint(
    State(state): State<FakeState>,
    uri: Uri,
    Form(params): Form<Params>,
) -> Response {
    let (status, content_type, body) = (state.answer)(&params);
    state.seen.lock().unwrap().push((uri.to_string(), params));
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

impl FakeServer {
    async fn start(answer: Answer) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route(SERVICE_NOW_TOKEN_PATH, post(endpoint))
            .route(SERVICE_NOW_REVOKE_PATH, post(endpoint))
            .with_state(FakeState {
                seen: seen.clone(),
                answer,
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let instance = InstanceUrl::parse(&origin).unwrap();
        Self {
            endpoints: OAuthEndpoints::service_now(&instance).unwrap(),
            seen,
        }
    }

    fn client(&self, secret: Option<&str>) -> OAuthClient {
        OAuthClient::new(
            self.endpoints.clone(),
            "client-1",
            secret.map(ClientSecret::new),
        )
        .unwrap()
    }

    fn requests(&self) -> Vec<(String, Params)> {
        self.seen.lock().unwrap().clone()
    }
}

const JSON: &str = "application/json";
const TOKENS: &str = r#"{"scope":"useraccount","token_type":"Bearer","expires_in":1799,"refresh_token":"rt-1","access_token":"at-1"}"#;
/// ServiceNow's answer to every token failure.
const DENIED: &str = r#"{"error_description":"access_denied","error":"server_error"}"#;

fn scopes() -> Vec<String> {
    vec!["useraccount".into()]
}

/// The test's browser: follows the authorize URL's redirect_uri with a code and the state,
/// remembering the PKCE challenge for the token endpoint to check.
struct ApprovingBrowser {
    challenge: Arc<Mutex<Option<String>>>,
    state_override: Option<&'static str>,
    /// The page the loopback listener finally showed.
    page: Arc<Mutex<Option<String>>>,
}

impl Browser for ApprovingBrowser {
    fn open(&self, url: &BrowserUrl) -> Result<(), BrowserError> {
        let url = Url::parse(url.as_str()).unwrap();
        let q: Params = url.query_pairs().into_owned().collect();
        *self.challenge.lock().unwrap() = q.get("code_challenge").cloned();
        let state = self
            .state_override
            .map_or(q["state"].clone(), str::to_owned);
        let mut target = Url::parse(&q["redirect_uri"]).unwrap();
        target
            .query_pairs_mut()
            .append_pair("code", "code-1")
            .append_pair("state", &state)
            .append_pair("iss", "https://issuer.example");
        let page = self.page.clone();
        tokio::spawn(async move {
            if let Ok(answer) = reqwest::get(target).await {
                *page.lock().unwrap() = answer.text().await.ok();
            }
        });
        Ok(())
    }
}

#[test]
fn service_now_endpoints_use_its_paths() {
    let e = OAuthEndpoints::service_now(&InstanceUrl::parse("acme").unwrap()).unwrap();
    assert_eq!(
        e.authorize.as_str(),
        "https://acme.service-now.com/oauth_auth.do"
    );
    assert_eq!(
        e.token.as_str(),
        "https://acme.service-now.com/oauth_token.do"
    );
    assert_eq!(
        e.revoke.as_str(),
        "https://acme.service-now.com/oauth_revoke_token.do"
    );
}

#[tokio::test]
async fn the_authorize_url_carries_pkce_s256_state_and_the_loopback_redirect() {
    let server = FakeServer::start(|_| (StatusCode::OK, JSON, TOKENS.into())).await;
    let listener = LoopbackListener::bind(&[0]).await.unwrap();
    let redirect = listener.redirect_url().to_string();
    let session = server
        .client(None)
        .begin_auth_code(listener, &scopes())
        .unwrap();
    let url = Url::parse(session.authorize_url().as_str()).unwrap();
    assert_eq!(url.path(), SERVICE_NOW_AUTHORIZE_PATH);
    let q: Params = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "client-1");
    assert_eq!(q["redirect_uri"], redirect);
    assert_eq!(session.redirect_url().as_str(), redirect);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43, "base64url of a SHA-256");
    assert!(q["state"].len() >= 16, "a random state");
    assert_eq!(q["scope"], "useraccount");
    let other = server
        .client(None)
        .begin_auth_code(LoopbackListener::bind(&[0]).await.unwrap(), &[])
        .unwrap();
    let q2: Params = Url::parse(other.authorize_url().as_str())
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_ne!(q["state"], q2["state"]);
    assert_ne!(q["code_challenge"], q2["code_challenge"]);
}

#[tokio::test]
async fn auth_code_flow_exchanges_the_code_with_the_pkce_verifier() {
    let server = FakeServer::start(|_| (StatusCode::OK, JSON, TOKENS.into())).await;
    let session = server
        .client(Some("cs-1"))
        .begin_auth_code(LoopbackListener::bind(&[0]).await.unwrap(), &scopes())
        .unwrap();
    let redirect = session.redirect_url().to_string();
    let challenge = Arc::new(Mutex::new(None));
    session
        .open_in(&ApprovingBrowser {
            challenge: challenge.clone(),
            state_override: None,
            page: Arc::default(),
        })
        .unwrap();
    let tokens = session
        .finish(Duration::from_secs(10), std::future::pending(), None)
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-1");
    assert_eq!(tokens.refresh_token.unwrap().expose(), "rt-1");
    assert_eq!(tokens.scopes, vec!["useraccount"]);
    let left = tokens.expires_at.unwrap() - Utc::now();
    assert!((1790..=1799).contains(&left.num_seconds()), "{left}");

    let requests = server.requests();
    let (uri, form) = &requests[0];
    assert_eq!(uri, SERVICE_NOW_TOKEN_PATH);
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "code-1");
    assert_eq!(form["redirect_uri"], redirect);
    assert_eq!(form["client_id"], "client-1");
    assert_eq!(form["client_secret"], "cs-1");
    // RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == the challenge sent earlier.
    let digest = sha2::Sha256::digest(form["code_verifier"].as_bytes());
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    assert_eq!(Some(computed), *challenge.lock().unwrap());
}

#[tokio::test]
async fn a_callback_from_another_issuer_is_refused() {
    let server = FakeServer::start(|_| (StatusCode::OK, JSON, TOKENS.into())).await;
    let mut endpoints = server.endpoints.clone();
    endpoints.issuer = Some("https://the-right-one.example".into());
    let client = OAuthClient::new(endpoints, "client-1", None).unwrap();
    let session = client
        .begin_auth_code(LoopbackListener::bind(&[0]).await.unwrap(), &[])
        .unwrap();
    session
        .open_in(&ApprovingBrowser {
            challenge: Arc::default(),
            state_override: None,
            page: Arc::default(),
        })
        .unwrap();
    let err = session
        .finish(Duration::from_secs(10), std::future::pending(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::IssuerMismatch { .. }), "{err:?}");
    assert!(server.requests().is_empty(), "the code is never exchanged");
}

#[tokio::test]
async fn a_forged_state_never_reaches_the_token_endpoint() {
    let server = FakeServer::start(|_| (StatusCode::OK, JSON, TOKENS.into())).await;
    let session = server
        .client(None)
        .begin_auth_code(LoopbackListener::bind(&[0]).await.unwrap(), &[])
        .unwrap();
    session
        .open_in(&ApprovingBrowser {
            challenge: Arc::default(),
            state_override: Some("forged"),
            page: Arc::default(),
        })
        .unwrap();
    let err = session
        .finish(Duration::from_millis(500), std::future::pending(), None)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        OAuthError::Callback(ListenerError::TimedOut { .. })
    ));
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn password_grant_sends_a_form_and_maps_service_nows_denial() {
    let server = FakeServer::start(|p| match p["password"].as_str() {
        "right" => (StatusCode::OK, JSON, TOKENS.into()),
        _ => (StatusCode::UNAUTHORIZED, JSON, DENIED.into()),
    })
    .await;
    let client = server.client(Some("cs-1"));
    let tokens = client
        .password_grant("svc.user", &Password::new("right"), &scopes())
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-1");
    let err = client
        .password_grant("svc.user", &Password::new("wrong-pw"), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OAuthError::AccessDenied {
                grant: TokenGrant::Password
            }
        ),
        "{err:?}"
    );
    let shown = format!("{err} {} {err:?}", err.hint());
    assert!(
        !shown.contains("wrong-pw") && !shown.contains("cs-1"),
        "{shown}"
    );
    assert!(!err.is_retryable());

    let form = &server.requests()[0].1;
    assert_eq!(form["grant_type"], "password");
    assert_eq!(form["username"], "svc.user");
    assert_eq!(form["client_id"], "client-1");
    assert_eq!(form["client_secret"], "cs-1");
}

#[tokio::test]
async fn client_credentials_get_no_refresh_token() {
    let server = FakeServer::start(|_| {
        (
            StatusCode::OK,
            JSON,
            r#"{"scope":"useraccount","token_type":"Bearer","expires_in":1799,"access_token":"at-cc"}"#.into(),
        )
    })
    .await;
    let tokens = server
        .client(Some("cs-1"))
        .client_credentials(&[])
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-cc");
    assert!(tokens.refresh_token.is_none());
    assert_eq!(server.requests()[0].1["grant_type"], "client_credentials");
}

#[tokio::test]
async fn a_dead_refresh_token_means_relink_not_a_loop() {
    let server = FakeServer::start(|p| match p["refresh_token"].as_str() {
        "alive" => (StatusCode::OK, JSON, TOKENS.into()),
        "standard-dead" => (
            StatusCode::BAD_REQUEST,
            JSON,
            r#"{"error":"invalid_grant"}"#.into(),
        ),
        _ => (StatusCode::UNAUTHORIZED, JSON, DENIED.into()),
    })
    .await;
    let client = server.client(Some("cs-1"));
    let fresh = client.refresh(&RefreshToken::new("alive")).await.unwrap();
    assert_eq!(fresh.access_token.expose(), "at-1");
    for dead in ["revoked", "standard-dead"] {
        let err = client.refresh(&RefreshToken::new(dead)).await.unwrap_err();
        assert!(matches!(err, OAuthError::RelinkNeeded), "{err:?}");
    }
    assert_eq!(server.requests().len(), 3, "one request each, no retries");
    assert_eq!(server.requests()[0].1["grant_type"], "refresh_token");
}

#[tokio::test]
async fn standard_error_codes_are_kept_and_bodies_dropped() {
    let server = FakeServer::start(|_| {
        (
            StatusCode::BAD_REQUEST,
            JSON,
            r#"{"error":"invalid_client","error_description":"client secret sekrit-123 is wrong"}"#
                .into(),
        )
    })
    .await;
    let err = server
        .client(Some("sekrit-123"))
        .client_credentials(&[])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, OAuthError::Rejected { grant: TokenGrant::ClientCredentials, code }
            if code == "invalid_client"),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("sekrit"));
    assert!(err.hint().contains("client id and secret"));
}

#[tokio::test]
async fn an_html_page_instead_of_tokens_is_an_unexpected_response() {
    let server = FakeServer::start(|_| {
        (
            StatusCode::OK,
            "text/html",
            "<html><body>Your instance is hibernating</body></html>".into(),
        )
    })
    .await;
    let err = server
        .client(None)
        .password_grant("u", &Password::new("p"), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OAuthError::UnexpectedResponse {
                grant: TokenGrant::Password,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains("hibernating"));
    assert!(err.hint().contains("hibernating"));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_failure() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let instance = InstanceUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let client =
        OAuthClient::new(OAuthEndpoints::service_now(&instance).unwrap(), "c", None).unwrap();
    let err = client.client_credentials(&[]).await.unwrap_err();
    assert!(
        matches!(
            &err,
            OAuthError::Transport {
                grant: TokenGrant::ClientCredentials,
                cause: TransportError::ConnectRefused { host }
            } if host == "127.0.0.1"
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn revoke_sends_the_token_in_the_body_not_the_url() {
    let server = FakeServer::start(|_| (StatusCode::OK, JSON, String::new())).await;
    server
        .client(Some("cs-1"))
        .revoke(&RefreshToken::new("rt-to-revoke"))
        .await
        .unwrap();
    let (uri, form) = &server.requests()[0];
    assert_eq!(uri, SERVICE_NOW_REVOKE_PATH);
    assert_eq!(form["token"], "rt-to-revoke");
    assert_eq!(form["token_type_hint"], "refresh_token");
}

#[test]
fn refresh_is_due_shortly_before_expiry() {
    let now = Utc::now();
    assert!(!refresh_due(None, now));
    assert!(!refresh_due(Some(now + chrono::Duration::minutes(10)), now));
    assert!(refresh_due(Some(now + chrono::Duration::seconds(60)), now));
    assert!(refresh_due(Some(now - chrono::Duration::seconds(1)), now));
}

fn connection(grant: GrantKind, expires_at: Option<DateTime<Utc>>) -> Connection {
    Connection {
        id: ConnectionId::parse("acme").unwrap(),
        display_name: "Acme".into(),
        instance: InstanceUrl::parse("acme").unwrap(),
        profile_id: "custom".into(),
        grant,
        client_id: Some("client-1".into()),
        username: Some("svc.user".into()),
        linked_identity: None,
        status: ConnectionStatus {
            token_expires_at: expires_at,
            ..ConnectionStatus::default()
        },
    }
}

/// Answers refresh with tokens only for the refresh token "alive"; the other grants work.
async fn token_server() -> FakeServer {
    FakeServer::start(
        |p| match (p["grant_type"].as_str(), p.get("refresh_token")) {
            ("refresh_token", Some(rt)) if rt == "alive" => (StatusCode::OK, JSON, TOKENS.into()),
            ("refresh_token", _) => (StatusCode::UNAUTHORIZED, JSON, DENIED.into()),
            _ => (
                StatusCode::OK,
                JSON,
                r#"{"token_type":"Bearer","expires_in":1799,"access_token":"at-grant"}"#.into(),
            ),
        },
    )
    .await
}

#[tokio::test]
async fn a_valid_stored_access_token_is_used_as_is() {
    let server = token_server().await;
    let store = MemoryStore::default();
    let now = Utc::now();
    let mut conn = connection(
        GrantKind::AuthCode,
        Some(now + chrono::Duration::minutes(20)),
    );
    store
        .save(&conn.id, &AccessToken::new("at-stored"))
        .await
        .unwrap();
    let token = access_token_for(&server.client(None), &store, &mut conn, &[], now)
        .await
        .unwrap();
    assert_eq!(token.expose(), "at-stored");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn an_expiring_token_is_refreshed_and_stored() {
    let server = token_server().await;
    let store = MemoryStore::default();
    let now = Utc::now();
    let mut conn = connection(
        GrantKind::AuthCode,
        Some(now + chrono::Duration::seconds(30)),
    );
    store
        .save(&conn.id, &AccessToken::new("at-old"))
        .await
        .unwrap();
    store
        .save(&conn.id, &RefreshToken::new("alive"))
        .await
        .unwrap();
    let token = access_token_for(&server.client(None), &store, &mut conn, &[], now)
        .await
        .unwrap();
    assert_eq!(token.expose(), "at-1");
    let saved: AccessToken = store.load(&conn.id).await.unwrap().unwrap();
    assert_eq!(saved.expose(), "at-1");
    let refresh: RefreshToken = store.load(&conn.id).await.unwrap().unwrap();
    assert_eq!(
        refresh.expose(),
        "rt-1",
        "the rotated refresh token is kept"
    );
    assert!(conn.status.token_expires_at.unwrap() > now + chrono::Duration::minutes(29));
}

#[tokio::test]
async fn a_dead_refresh_token_moves_an_auth_code_connection_to_relink() {
    let server = token_server().await;
    let store = MemoryStore::default();
    let mut conn = connection(GrantKind::AuthCode, None);
    store
        .save(&conn.id, &RefreshToken::new("revoked"))
        .await
        .unwrap();
    let err = access_token_for(&server.client(None), &store, &mut conn, &[], Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::RelinkNeeded), "{err:?}");
    assert_eq!(conn.status.state, ConnectionState::RelinkNeeded);
    assert_eq!(server.requests().len(), 1, "one refresh attempt, no loop");
}

#[tokio::test]
async fn grants_with_their_own_credentials_just_run_again() {
    let server = token_server().await;
    let store = MemoryStore::default();
    let mut cc = connection(GrantKind::ClientCredentials, None);
    let token = access_token_for(&server.client(Some("cs")), &store, &mut cc, &[], Utc::now())
        .await
        .unwrap();
    assert_eq!(token.expose(), "at-grant");

    let mut pw = connection(GrantKind::Password, None);
    store
        .save(&pw.id, &RefreshToken::new("revoked"))
        .await
        .unwrap();
    store.save(&pw.id, &Password::new("pw")).await.unwrap();
    let token = access_token_for(&server.client(Some("cs")), &store, &mut pw, &[], Utc::now())
        .await
        .unwrap();
    assert_eq!(token.expose(), "at-grant");
    let grants: Vec<String> = server
        .requests()
        .iter()
        .map(|(_, form)| form["grant_type"].clone())
        .collect();
    assert_eq!(grants, ["client_credentials", "refresh_token", "password"]);
    assert_eq!(
        pw.status.state,
        ConnectionState::Disconnected,
        "not a relink"
    );
}

#[tokio::test]
async fn basic_and_api_key_connections_have_no_tokens() {
    let server = token_server().await;
    let store = MemoryStore::default();
    for grant in [GrantKind::Basic, GrantKind::ApiKey] {
        let mut conn = connection(grant, None);
        let err = access_token_for(&server.client(None), &store, &mut conn, &[], Utc::now())
            .await
            .unwrap_err();
        assert!(matches!(err, OAuthError::NotOAuth { .. }), "{err:?}");
    }
}

#[test]
fn the_token_set_debug_is_redacted() {
    let tokens = TokenSet {
        access_token: AccessToken::new("at-visible?"),
        refresh_token: Some(RefreshToken::new("rt-visible?")),
        expires_at: None,
        scopes: vec![],
    };
    let shown = format!("{tokens:?}");
    assert!(!shown.contains("visible"), "{shown}");
}

/// Waits for the browser's final page, as the browser would show it.
async fn final_page(page: &Arc<Mutex<Option<String>>>) -> String {
    for _ in 0..100 {
        if let Some(text) = page.lock().unwrap().clone() {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the browser never got its page");
}

#[tokio::test]
async fn the_browser_says_signed_in_only_when_the_exchange_succeeded() {
    for (answer, expected, refused) in [
        (TOKENS, "Signed in", false),
        (DENIED, "Sign-in failed", true),
    ] {
        let server = if refused {
            FakeServer::start(|_| (StatusCode::UNAUTHORIZED, JSON, DENIED.into())).await
        } else {
            FakeServer::start(|_| (StatusCode::OK, JSON, TOKENS.into())).await
        };
        let session = server
            .client(Some("cs-1"))
            .begin_auth_code(LoopbackListener::bind(&[0]).await.unwrap(), &scopes())
            .unwrap();
        let browser = ApprovingBrowser {
            challenge: Arc::default(),
            state_override: None,
            page: Arc::default(),
        };
        session.open_in(&browser).unwrap();
        let outcome = session
            .finish(Duration::from_secs(10), std::future::pending(), None)
            .await;
        assert_eq!(outcome.is_err(), refused, "{answer}");
        let page = final_page(&browser.page).await;
        assert!(page.contains(expected), "{page}");
        if refused {
            assert!(!page.contains("Signed in"), "{page}");
        }
    }
}

#[tokio::test]
async fn a_real_sign_in_completes_while_64_sockets_trickle() {
    let server = FakeServer::start(|_| (StatusCode::OK, JSON, TOKENS.into())).await;
    let listener = LoopbackListener::bind(&[0]).await.unwrap();
    let port = listener.redirect_url().port().unwrap();
    let session = server
        .client(Some("cs-1"))
        .begin_auth_code(listener, &scopes())
        .unwrap();
    let mut junk = Vec::new();
    for _ in 0..64 {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        junk.push(tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for byte in b"GET /callback?code=junk".iter().cycle() {
                if stream.write_all(&[*byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
    }
    let url = session.authorize_url().clone();
    let waiting =
        tokio::spawn(session.finish(Duration::from_secs(20), std::future::pending(), None));
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Every slot of the listener is held by junk when the browser comes back.
    let browser = ApprovingBrowser {
        challenge: Arc::default(),
        state_override: None,
        page: Arc::default(),
    };
    browser.open(&url).unwrap();
    let tokens = waiting.await.unwrap().unwrap();
    assert_eq!(tokens.access_token.expose(), "at-1");
    assert!(final_page(&browser.page).await.contains("Signed in"));
    for task in junk {
        task.abort();
    }
}

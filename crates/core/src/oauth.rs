//! Signing in to ServiceNow with OAuth 2.0, through the `oauth2` crate: the authorization-code
//! grant with PKCE S256 and a random, compared `state` in the system browser (RFC 8252,
//! RFC 7636, RFC 9700), the password grant, client credentials, refresh and revocation.
//! Endpoints default to ServiceNow's paths ([`OAuthEndpoints::service_now`]) and can be set to
//! any other server's. Token-endpoint failures become typed errors that never carry the
//! response body; ServiceNow answers every failure with the same 401 `access_denied`, which is
//! kept as one case rather than guessed apart.

pub mod browser;
pub mod listener;
mod tokens;

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, ClientId, CsrfToken, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, ResourceOwnerPassword,
    ResourceOwnerUsername, Scope, TokenResponse, TokenUrl,
};
use url::Url;

use crate::api::ApiError;
use crate::browser::BrowserUrl;
use crate::connections::GrantKind;
use crate::instance::InstanceUrl;
use crate::secrets::{AccessToken, ClientSecret, Password, RefreshToken, SecretError};

pub use browser::{Browser, BrowserError, SystemBrowser};
pub use listener::{CALLBACK_PORTS, ListenerError, LoopbackListener};
pub use tokens::access_token_for;

/// ServiceNow's authorize, token and revoke paths.
pub const SERVICE_NOW_AUTHORIZE_PATH: &str = "/oauth_auth.do";
pub const SERVICE_NOW_TOKEN_PATH: &str = "/oauth_token.do";
pub const SERVICE_NOW_REVOKE_PATH: &str = "/oauth_revoke_token.do";
/// How long the browser sign-in may take by default: enough to log in with MFA.
pub const DEFAULT_SIGN_IN_WAIT: Duration = Duration::from_secs(300);
/// Timeout of one token-endpoint call.
pub const TOKEN_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Refresh this long before the access token expires, so a request never races the expiry.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(120);
/// Largest token-endpoint answer read; a token response is a few hundred bytes.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Where the OAuth server's endpoints are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthEndpoints {
    pub authorize: Url,
    pub token: Url,
    pub revoke: Url,
    /// The issuer the server names in callbacks (RFC 9207), when known; a callback naming
    /// another issuer is refused. ServiceNow sends none.
    pub issuer: Option<String>,
}

impl OAuthEndpoints {
    /// ServiceNow's endpoints on `instance`.
    pub fn service_now(instance: &InstanceUrl) -> Result<Self, OAuthError> {
        let at = |path: &str| {
            instance
                .endpoint(path)
                .map_err(|_| OAuthError::InvalidEndpoint(format!("{instance}{path}")))
        };
        Ok(Self {
            authorize: at(SERVICE_NOW_AUTHORIZE_PATH)?,
            token: at(SERVICE_NOW_TOKEN_PATH)?,
            revoke: at(SERVICE_NOW_REVOKE_PATH)?,
            issuer: None,
        })
    }
}

/// Which token request failed, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenGrant {
    AuthorizationCode,
    Password,
    ClientCredentials,
    Refresh,
    Revoke,
}

impl std::fmt::Display for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::AuthorizationCode => "authorization code",
            Self::Password => "password",
            Self::ClientCredentials => "client credentials",
            Self::Refresh => "refresh",
            Self::Revoke => "revocation",
        })
    }
}

/// Why a sign-in, refresh or revocation failed. `Display` is the message, [`hint`] the fix;
/// neither carries a secret or a server's response body.
///
/// [`hint`]: OAuthError::hint
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("The OAuth address {0} is not valid.")]
    InvalidEndpoint(String),
    #[error("The HTTP client could not be set up: {0}")]
    HttpClient(String),
    #[error(transparent)]
    Callback(#[from] ListenerError),
    #[error("The callback came from issuer {found}, not {expected}.")]
    IssuerMismatch { expected: String, found: String },
    /// ServiceNow's single answer to every token failure (HTTP 401, `access_denied`).
    #[error("The instance refused the {grant} request (access_denied).")]
    AccessDenied { grant: TokenGrant },
    /// The saved refresh token no longer works: only signing in again helps.
    #[error("The saved sign-in has expired or was revoked.")]
    RelinkNeeded,
    #[error("The token endpoint rejected the {grant} request: {code}.")]
    Rejected { grant: TokenGrant, code: String },
    #[error(
        "The token endpoint's answer to the {grant} request is not an OAuth response{}.",
        status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
    )]
    UnexpectedResponse {
        grant: TokenGrant,
        status: Option<u16>,
    },
    #[error("Connection {connection} signs in with {grant:?}, which uses no OAuth tokens.")]
    NotOAuth {
        connection: String,
        grant: GrantKind,
    },
    #[error("The {0} of connection {1} is missing from the OS keyring.")]
    MissingSecret(&'static str, String),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    /// Below OAuth: timeout, DNS, refused connection, untrusted TLS (shared with the API client).
    #[error("The {grant} request failed: {cause}.")]
    Transport { grant: TokenGrant, cause: ApiError },
}

impl OAuthError {
    /// What the person should do about it, in one sentence.
    pub fn hint(&self) -> String {
        match self {
            Self::InvalidEndpoint(_) => "Check the instance address.".into(),
            Self::HttpClient(_) => "Report this to Snowlink's maintainers.".into(),
            Self::Callback(err) => err.hint(),
            Self::IssuerMismatch { .. } => "Another sign-in page answered; start the sign-in \
                                            again from Snowlink and use only the page it opens."
                .into(),
            Self::AccessDenied { .. } => "Check the client id and secret, the user name and \
                                          password, that the user is active and not locked out, \
                                          and that the grant is enabled on the instance; \
                                          ServiceNow gives the same answer for all of these."
                .into(),
            Self::RelinkNeeded => "Sign in again to link the account.".into(),
            Self::NotOAuth { .. } => "Use the connection's user name and password or API key \
                                      directly."
                .into(),
            Self::MissingSecret(..) => "Set the connection up again to enter it.".into(),
            Self::Secrets(err) => err.hint(),
            Self::Rejected { code, .. } => match code.as_str() {
                "invalid_client" | "unauthorized_client" => {
                    "Check the client id and secret of the OAuth application.".into()
                }
                "invalid_grant" => "Sign in again; the code or token was not accepted.".into(),
                "invalid_scope" => {
                    "Ask the admin which scopes the OAuth application allows.".into()
                }
                "unsupported_grant_type" => {
                    "Enable this grant type for the OAuth application on the instance.".into()
                }
                _ => "Check the OAuth application's settings on the instance.".into(),
            },
            Self::UnexpectedResponse { .. } => "The instance may be hibernating or behind a \
                                                proxy login page: open it in a browser, wake it, \
                                                and try again."
                .into(),
            Self::Transport { cause, .. } => cause.hint(),
        }
    }

    /// Whether waiting and trying again may help.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { cause, .. } => cause.is_retryable(),
            Self::UnexpectedResponse { .. } => true,
            _ => false,
        }
    }
}

/// The tokens a grant produced.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: AccessToken,
    /// Absent for client credentials and ServiceNow public clients; a refresh answer without
    /// one means the old refresh token stays valid.
    pub refresh_token: Option<RefreshToken>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
}

/// Whether a token expiring at `expires_at` should be refreshed at `now` ([`REFRESH_MARGIN`]).
pub fn refresh_due(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    let margin = chrono::Duration::from_std(REFRESH_MARGIN).unwrap_or_default();
    expires_at.is_some_and(|at| at - margin <= now)
}

/// Our reqwest client, for the `oauth2` crate. oauth2 5's own integration is built on reqwest
/// 0.12; this adapter keeps one HTTP stack, the API client's (rustls, OS trust store, no
/// redirects, a timeout, our user agent).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct HttpFailure(ApiError);

async fn send(http: &reqwest::Client, request: HttpRequest) -> Result<HttpResponse, HttpFailure> {
    let (parts, body) = request.into_parts();
    let host = parts.uri.host().unwrap_or_default().to_owned();
    let transport = |err: reqwest::Error| {
        HttpFailure(crate::api::transport_error(
            &err,
            &host,
            TOKEN_REQUEST_TIMEOUT,
        ))
    };
    let malformed = |detail: &str| {
        HttpFailure(ApiError::Malformed {
            detail: detail.to_owned(),
        })
    };
    let url = reqwest::Url::parse(&parts.uri.to_string()).map_err(|_| malformed("bad URL"))?;
    let mut response = http
        .request(parts.method, url)
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(transport)?;
    let mut builder = http::Response::builder().status(response.status());
    if let Some(headers) = builder.headers_mut() {
        *headers = std::mem::take(response.headers_mut());
    }
    let (bytes, too_large) = crate::api::read_capped(response, MAX_RESPONSE_BYTES)
        .await
        .map_err(transport)?;
    if too_large {
        return Err(malformed("the answer is larger than 256 KiB"));
    }
    builder
        .body(bytes)
        .map_err(|_| malformed("the answer's headers are invalid"))
}

type ConfiguredClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// An OAuth client of one application (client id, optional secret) on one server.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
    endpoints: OAuthEndpoints,
    client_id: String,
    client_secret: Option<ClientSecret>,
}

impl OAuthClient {
    /// `client_secret` is `None` for public clients (PKCE only, ServiceNow Zurich and later).
    pub fn new(
        endpoints: OAuthEndpoints,
        client_id: impl Into<String>,
        client_secret: Option<ClientSecret>,
    ) -> Result<Self, OAuthError> {
        // Credentials travel in these requests: the client never follows a redirect with them
        // (RFC 9700 §4.11); a redirect is reported as an unexpected response instead.
        let http = crate::api::http_client(TOKEN_REQUEST_TIMEOUT)
            .map_err(|err| OAuthError::HttpClient(err.to_string()))?;
        Ok(Self {
            http,
            endpoints,
            client_id: client_id.into(),
            client_secret,
        })
    }

    pub fn endpoints(&self) -> &OAuthEndpoints {
        &self.endpoints
    }

    fn oauth2(&self) -> ConfiguredClient {
        let mut client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(self.endpoints.authorize.clone()))
            .set_token_uri(TokenUrl::from_url(self.endpoints.token.clone()))
            // ServiceNow reads client_id and client_secret from the form body.
            .set_auth_type(AuthType::RequestBody);
        if let Some(secret) = &self.client_secret {
            client =
                client.set_client_secret(oauth2::ClientSecret::new(secret.expose().to_owned()));
        }
        client
    }

    /// Starts an authorization-code sign-in: a fresh PKCE verifier (S256, RFC 7636 §4.2) and
    /// `state`, and the authorize URL with `listener`'s redirect URL. Show
    /// [`AuthCodeSession::authorize_url`] to the user, open it, then [`AuthCodeSession::finish`].
    pub fn begin_auth_code(
        &self,
        listener: LoopbackListener,
        scopes: &[String],
    ) -> Result<AuthCodeSession, OAuthError> {
        let redirect_url = listener.redirect_url().clone();
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .oauth2()
            .set_redirect_uri(RedirectUrl::from_url(redirect_url.clone()))
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge)
            .url();
        let authorize_url = BrowserUrl::parse(url.as_str())
            .map_err(|_| OAuthError::InvalidEndpoint(self.endpoints.authorize.to_string()))?;
        Ok(AuthCodeSession {
            client: self.clone(),
            listener,
            verifier,
            state,
            authorize_url,
            redirect_url,
        })
    }

    /// The resource owner password grant (ServiceNow may disable it with
    /// `glide.oauth.inbound.ropc.grant_type.disabled`).
    pub async fn password_grant(
        &self,
        username: &str,
        password: &Password,
        scopes: &[String],
    ) -> Result<TokenSet, OAuthError> {
        let grant = TokenGrant::Password;
        let username = ResourceOwnerUsername::new(username.to_owned());
        let password = ResourceOwnerPassword::new(password.expose().to_owned());
        let response = self
            .oauth2()
            .exchange_password(&username, &password)
            .add_scopes(scopes.iter().cloned().map(Scope::new))
            .request_async(&|request| send(&self.http, request))
            .await;
        self.tokens(grant, response)
    }

    /// The client credentials grant (ServiceNow Washington DC and later, when enabled).
    pub async fn client_credentials(&self, scopes: &[String]) -> Result<TokenSet, OAuthError> {
        let response = self
            .oauth2()
            .exchange_client_credentials()
            .add_scopes(scopes.iter().cloned().map(Scope::new))
            .request_async(&|request| send(&self.http, request))
            .await;
        self.tokens(TokenGrant::ClientCredentials, response)
    }

    /// New tokens for a refresh token. A refresh token the server no longer accepts gives
    /// [`OAuthError::RelinkNeeded`], never a retry loop.
    pub async fn refresh(&self, refresh_token: &RefreshToken) -> Result<TokenSet, OAuthError> {
        let token = oauth2::RefreshToken::new(refresh_token.expose().to_owned());
        let response = self
            .oauth2()
            .exchange_refresh_token(&token)
            .request_async(&|request| send(&self.http, request))
            .await;
        self.tokens(TokenGrant::Refresh, response)
            .map_err(|err| match err {
                OAuthError::AccessDenied { .. } => OAuthError::RelinkNeeded,
                OAuthError::Rejected { code, .. } if code == "invalid_grant" => {
                    OAuthError::RelinkNeeded
                }
                other => other,
            })
    }

    /// Revokes a refresh token (and with it its access tokens) on unlink. Sent as a form body
    /// per RFC 7009 §2.1, never in the URL, where it would land in server logs. Written here
    /// rather than through `oauth2`, whose revocation refuses `http://` even on loopback, where
    /// the simulator and test servers listen.
    pub async fn revoke(&self, refresh_token: &RefreshToken) -> Result<(), OAuthError> {
        let grant = TokenGrant::Revoke;
        let url = &self.endpoints.revoke;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
        if url.scheme() != "https" && !loopback {
            return Err(OAuthError::InvalidEndpoint(url.to_string()));
        }
        let mut form = vec![
            ("token", refresh_token.expose()),
            ("token_type_hint", "refresh_token"),
            ("client_id", self.client_id.as_str()),
        ];
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret.expose()));
        }
        let response = self
            .http
            .post(url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|err| OAuthError::Transport {
                grant,
                cause: crate::api::transport_error(
                    &err,
                    url.host_str().unwrap_or_default(),
                    TOKEN_REQUEST_TIMEOUT,
                ),
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // RFC 7009 §2.2.1: errors use the token endpoint's error format.
        let code = response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|body| body.get("error")?.as_str().map(str::to_owned));
        Err(match code {
            Some(code) => rejection(grant, &code, None),
            None => OAuthError::UnexpectedResponse {
                grant,
                status: Some(status.as_u16()),
            },
        })
    }

    fn tokens(
        &self,
        grant: TokenGrant,
        response: Result<
            BasicTokenResponse,
            RequestTokenError<HttpFailure, oauth2::basic::BasicErrorResponse>,
        >,
    ) -> Result<TokenSet, OAuthError> {
        let response = response.map_err(|err| match err {
            RequestTokenError::ServerResponse(body) => rejection(
                grant,
                body.error().as_ref(),
                body.error_description().map(String::as_str),
            ),
            RequestTokenError::Request(HttpFailure(cause)) => {
                OAuthError::Transport { grant, cause }
            }
            RequestTokenError::Parse(..) | RequestTokenError::Other(_) => {
                OAuthError::UnexpectedResponse {
                    grant,
                    status: None,
                }
            }
        })?;
        let expires_at = response
            .expires_in()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| Utc::now() + d);
        Ok(TokenSet {
            access_token: AccessToken::new(response.access_token().secret().to_owned()),
            refresh_token: response
                .refresh_token()
                .map(|t| RefreshToken::new(t.secret().to_owned())),
            expires_at,
            scopes: response
                .scopes()
                .map(|s| s.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
        })
    }
}

/// Maps a token endpoint's error response to a typed error, keeping only the standard error
/// code (sanitized) and never the description or body.
fn rejection(grant: TokenGrant, code: &str, description: Option<&str>) -> OAuthError {
    // ServiceNow: `{"error":"server_error","error_description":"access_denied"}` for every
    // failure (wrong secret, wrong password, dead refresh token, grant disabled, locked user).
    if code == "access_denied" || (code == "server_error" && description == Some("access_denied")) {
        return OAuthError::AccessDenied { grant };
    }
    OAuthError::Rejected {
        grant,
        code: code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect(),
    }
}

/// One authorization-code sign-in in progress.
#[derive(Debug)]
pub struct AuthCodeSession {
    client: OAuthClient,
    listener: LoopbackListener,
    verifier: PkceCodeVerifier,
    state: CsrfToken,
    authorize_url: BrowserUrl,
    redirect_url: Url,
}

impl AuthCodeSession {
    /// The URL to open; always show it too, for copying by hand (`--no-browser`).
    pub fn authorize_url(&self) -> &BrowserUrl {
        &self.authorize_url
    }

    /// The redirect URL in use; the admin must have registered exactly this.
    pub fn redirect_url(&self) -> &Url {
        &self.redirect_url
    }

    /// Opens the authorize URL in `browser`. A failure leaves the session usable: the user can
    /// still open the URL by hand.
    pub fn open_in(&self, browser: &dyn Browser) -> Result<(), BrowserError> {
        browser.open(&self.authorize_url)
    }

    /// Waits for the callback (at most `wait`, or until `cancel` completes), checks `state`
    /// and the issuer, and exchanges the code with the PKCE verifier.
    pub async fn finish(
        self,
        wait: Duration,
        cancel: impl Future<Output = ()>,
    ) -> Result<TokenSet, OAuthError> {
        let Self {
            client,
            listener,
            verifier,
            state,
            redirect_url,
            ..
        } = self;
        let callback = listener
            .wait_for_callback(state.secret(), wait, cancel)
            .await?;
        // RFC 9207 §2.4: a callback naming another issuer is a mix-up attack.
        if let (Some(expected), Some(found)) = (&client.endpoints.issuer, &callback.iss)
            && expected != found
        {
            return Err(OAuthError::IssuerMismatch {
                expected: expected.clone(),
                found: found.chars().take(200).collect(),
            });
        }
        // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
        let response = client
            .oauth2()
            .set_redirect_uri(RedirectUrl::from_url(redirect_url))
            .exchange_code(callback.code)
            .set_pkce_verifier(verifier)
            .request_async(&|request| send(&client.http, request))
            .await;
        client.tokens(TokenGrant::AuthorizationCode, response)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::extract::{Form, State};
    use axum::http::{StatusCode, Uri, header};
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use base64::Engine;
    use sha2::Digest;

    use super::*;
    use crate::connections::{Connection, ConnectionId, ConnectionState, ConnectionStatus};
    use crate::secrets::{MemoryStore, SecretStoreExt};

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
            tokio::spawn(async move { reqwest::get(target).await });
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
            })
            .unwrap();
        let tokens = session
            .finish(Duration::from_secs(10), std::future::pending())
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
            })
            .unwrap();
        let err = session
            .finish(Duration::from_secs(10), std::future::pending())
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
            })
            .unwrap();
        let err = session
            .finish(Duration::from_millis(500), std::future::pending())
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
                    cause: ApiError::ConnectRefused { host }
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
                ("refresh_token", Some(rt)) if rt == "alive" => {
                    (StatusCode::OK, JSON, TOKENS.into())
                }
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
}

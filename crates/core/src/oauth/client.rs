//! [`OAuthClient`]: one OAuth application (client id, optional secret) on one server, and the
//! token requests it makes: password, client credentials, refresh, revocation. The
//! authorization-code grant starts here too and goes on in [`super::AuthCodeSession`].

use std::future::Future;
use std::pin::Pin;

use chrono::Utc;
use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, ClientId, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse,
    RequestTokenError, ResourceOwnerPassword, ResourceOwnerUsername, Scope, TokenResponse,
    TokenUrl,
};

use super::{OAuthEndpoints, OAuthError, TOKEN_REQUEST_TIMEOUT, TokenGrant, TokenSet};
use crate::http::{HttpLog, TransportError};
use crate::secrets::{AccessToken, ClientSecret, Password, RefreshToken};

/// Largest token-endpoint answer read; a token response is a few hundred bytes.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Our reqwest client, for the `oauth2` crate. oauth2 5's own integration is built on reqwest
/// 0.12; this adapter keeps one HTTP stack, the API client's (rustls, OS trust store, no
/// redirects, a timeout, our user agent).
#[derive(Debug, thiserror::Error)]
pub(super) enum HttpFailure {
    #[error(transparent)]
    Transport(TransportError),
    #[error("{0}")]
    Malformed(&'static str),
}

/// The adapter as a type rather than a closure: its future is a boxed `Send` one, which a
/// closure's borrowed future cannot be proven to be for every lifetime (so the flows that use
/// it stay `Send`, as Tauri commands need).
pub(super) struct OAuthHttp<'a>(pub(super) &'a OAuthClient);

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp<'_> {
    type Error = HttpFailure;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpFailure>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(&self.0.http, self.0.log.as_ref(), request))
    }
}

async fn send(
    http: &reqwest::Client,
    log: Option<&HttpLog>,
    request: HttpRequest,
) -> Result<HttpResponse, HttpFailure> {
    let (parts, body) = request.into_parts();
    let host = parts.uri.host().unwrap_or_default().to_owned();
    let transport = |err: reqwest::Error| {
        HttpFailure::Transport(crate::http::classify(&err, &host, TOKEN_REQUEST_TIMEOUT))
    };
    let url = reqwest::Url::parse(&parts.uri.to_string())
        .map_err(|_| HttpFailure::Malformed("bad URL"))?;
    let started = std::time::Instant::now();
    let sent = http
        .request(parts.method.clone(), url.clone())
        .headers(parts.headers)
        .body(body)
        .send()
        .await;
    let mut response = match sent {
        Ok(response) => response,
        Err(err) => {
            let failure = transport(err);
            if let (Some(log), HttpFailure::Transport(cause)) = (log, &failure) {
                log.record(parts.method.as_str(), &url, Err(cause), started.elapsed());
            }
            return Err(failure);
        }
    };
    if let Some(log) = log {
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let status = response.status().as_u16();
        log.record(
            parts.method.as_str(),
            &url,
            Ok((status, content_type)),
            started.elapsed(),
        );
    }
    let mut builder = http::Response::builder().status(response.status());
    if let Some(headers) = builder.headers_mut() {
        *headers = std::mem::take(response.headers_mut());
    }
    let (bytes, too_large) = crate::http::read_capped(response, MAX_RESPONSE_BYTES)
        .await
        .map_err(transport)?;
    if too_large {
        return Err(HttpFailure::Malformed("the answer is larger than 256 KiB"));
    }
    builder
        .body(bytes)
        .map_err(|_| HttpFailure::Malformed("the answer's headers are invalid"))
}

type ConfiguredClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// An OAuth client of one application (client id, optional secret) on one server.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub(super) http: reqwest::Client,
    pub(super) endpoints: OAuthEndpoints,
    client_id: String,
    client_secret: Option<ClientSecret>,
    log: Option<HttpLog>,
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
        let http = crate::http::client(TOKEN_REQUEST_TIMEOUT).map_err(OAuthError::HttpClient)?;
        Ok(Self::with_http(endpoints, client_id, client_secret, http))
    }

    /// A client over an HTTP client already built (it must not follow redirects: see
    /// [`crate::http::client`]).
    pub fn with_http(
        endpoints: OAuthEndpoints,
        client_id: impl Into<String>,
        client_secret: Option<ClientSecret>,
        http: reqwest::Client,
    ) -> Self {
        Self {
            http,
            endpoints,
            client_id: client_id.into(),
            client_secret,
            log: None,
        }
    }

    /// Records every request this client makes in `log` (a support bundle's HTTP log).
    pub fn with_log(mut self, log: HttpLog) -> Self {
        self.log = Some(log);
        self
    }

    pub(super) fn oauth2(&self) -> ConfiguredClient {
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
            .request_async(&OAuthHttp(self))
            .await;
        self.tokens(grant, response)
    }

    /// The client credentials grant (ServiceNow Washington DC and later, when enabled).
    pub async fn client_credentials(&self, scopes: &[String]) -> Result<TokenSet, OAuthError> {
        let response = self
            .oauth2()
            .exchange_client_credentials()
            .add_scopes(scopes.iter().cloned().map(Scope::new))
            .request_async(&OAuthHttp(self))
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
            .request_async(&OAuthHttp(self))
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

    /// Revokes a refresh token (and with it its access tokens) on unlink.
    pub async fn revoke(&self, refresh_token: &RefreshToken) -> Result<(), OAuthError> {
        self.revoke_token(refresh_token.expose(), "refresh_token")
            .await
    }

    /// Revokes an access token (a grant that issued no refresh token).
    pub async fn revoke_access(&self, access_token: &AccessToken) -> Result<(), OAuthError> {
        self.revoke_token(access_token.expose(), "access_token")
            .await
    }

    /// Sent as a form body per RFC 7009 §2.1, never in the URL, where it would land in server
    /// logs. Written here rather than through `oauth2`, whose revocation refuses `http://` even
    /// on loopback, where the simulator and test servers listen.
    async fn revoke_token(&self, token: &str, hint: &str) -> Result<(), OAuthError> {
        let grant = TokenGrant::Revoke;
        let url = &self.endpoints.revoke;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
        if url.scheme() != "https" && !loopback {
            return Err(OAuthError::InvalidEndpoint(url.to_string()));
        }
        let mut form = vec![
            ("token", token),
            ("token_type_hint", hint),
            ("client_id", self.client_id.as_str()),
        ];
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret.expose()));
        }
        let transport = |err: &reqwest::Error| OAuthError::Transport {
            grant,
            cause: crate::http::classify(
                err,
                url.host_str().unwrap_or_default(),
                TOKEN_REQUEST_TIMEOUT,
            ),
        };
        let started = std::time::Instant::now();
        let sent = self.http.post(url.clone()).form(&form).send().await;
        if let Some(log) = &self.log {
            let outcome = sent.as_ref().map(|r| {
                let content_type = r
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok());
                (r.status().as_u16(), content_type)
            });
            match outcome {
                Ok(answer) => log.record("POST", url, Ok(answer), started.elapsed()),
                Err(err) => {
                    let cause = crate::http::classify(
                        err,
                        url.host_str().unwrap_or_default(),
                        TOKEN_REQUEST_TIMEOUT,
                    );
                    log.record("POST", url, Err(&cause), started.elapsed());
                }
            }
        }
        let response = sent.map_err(|err| transport(&err))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // RFC 7009 §2.2.1: errors use the token endpoint's error format. Read capped: the
        // revoke endpoint is as hostile as any other.
        let (body, _) = crate::http::read_capped(response, MAX_RESPONSE_BYTES)
            .await
            .map_err(|err| transport(&err))?;
        let code = serde_json::from_slice::<serde_json::Value>(&body)
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

    pub(super) fn tokens(
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
            RequestTokenError::Request(HttpFailure::Transport(cause)) => {
                OAuthError::Transport { grant, cause }
            }
            RequestTokenError::Request(HttpFailure::Malformed(_)) => {
                OAuthError::UnexpectedResponse {
                    grant,
                    status: None,
                }
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

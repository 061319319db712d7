//! The authorization-code grant with PKCE (RFC 7636) in the system browser: the authorize URL,
//! the wait for the loopback callback, the code exchange, and the browser's final page.

use std::future::Future;
use std::time::Duration;

use oauth2::{CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope};
use url::Url;

use super::listener::PasteBack;
use super::{
    Browser, BrowserError, LoopbackListener, OAuthClient, OAuthError, TokenGrant, TokenSet,
};
use crate::browser::BrowserUrl;

impl OAuthClient {
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
    /// and the issuer, and exchanges the code with the PKCE verifier. The browser is told
    /// "Signed in" only once the exchange succeeded, and that it failed otherwise.
    pub async fn finish(
        self,
        wait: Duration,
        cancel: impl Future<Output = ()> + Send,
        paste: Option<&PasteBack>,
    ) -> Result<TokenSet, OAuthError> {
        let Self {
            client,
            listener,
            verifier,
            state,
            redirect_url,
            ..
        } = self;
        let (callback, reply) = listener
            .wait_for_callback(state.secret(), wait, cancel, paste)
            .await?;
        // RFC 9207 §2.4: a callback naming another issuer is a mix-up attack.
        if let (Some(expected), Some(found)) = (&client.endpoints.issuer, &callback.iss)
            && expected != found
        {
            reply.failed().await;
            return Err(OAuthError::IssuerMismatch {
                expected: expected.clone(),
                found: crate::text::untrusted(found, 200),
            });
        }
        // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
        let response = client
            .oauth2()
            .set_redirect_uri(RedirectUrl::from_url(redirect_url))
            .exchange_code(callback.code)
            .set_pkce_verifier(verifier)
            .request_async(&super::client::OAuthHttp(&client))
            .await;
        let tokens = client.tokens(TokenGrant::AuthorizationCode, response);
        match &tokens {
            Ok(_) => reply.signed_in().await,
            Err(_) => reply.failed().await,
        }
        tokens
    }
}

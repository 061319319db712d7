//! The loopback listener that catches the browser's redirect at the end of an authorization-code
//! sign-in (RFC 8252 §7.3). It binds `127.0.0.1` on the first free port of a short fixed list,
//! because ServiceNow matches redirect URLs exactly and silently falls back to the first
//! registered one: a random port would never be called back. It answers only `GET /callback`
//! with the `Host` it was bound to (RFC 8252 §8.3: no DNS-rebound page reaches it), caps each
//! request at 16 KiB, reads each request as its bytes arrive under a short deadline, and when
//! junk connections fill every slot it evicts the oldest one still idle, so a local process
//! holding sockets open cannot keep the browser's real callback out. A request whose `state`
//! does not match gets 400 and the wait goes on (RFC 6749 §10.12, RFC 9700 §4.7); the whole
//! wait has a deadline and can be cancelled. The browser's page is written only once the code
//! exchange has succeeded or failed ([`PendingReply`]).

use std::collections::VecDeque;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use oauth2::AuthorizationCode;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinSet};
use url::Url;

mod page;
mod paste;
mod request;

use page::{Page, respond};
use paste::next_paste;
pub use paste::{PasteBack, Pasted, judge_pasted};
use request::{HeadError, Judgement, judge, read_head};

/// The ports an admin registers as redirect URLs (`http://127.0.0.1:<port>/callback`), tried in
/// order. Three, so that two other programs holding a port still leave one.
pub const CALLBACK_PORTS: [u16; 3] = [8765, 8766, 8767];
/// The only path the listener answers.
pub const CALLBACK_PATH: &str = "/callback";
/// Largest request head accepted; a redirect with code and state is far below it.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// How long one connection may take to send its request head. A browser sends it at once; a
/// socket that trickles or idles past this is closed.
pub const READ_TIMEOUT: Duration = Duration::from_secs(3);
/// Connections served at once; past this, the oldest one still sending its head is closed.
const MAX_CONNECTIONS: usize = 32;

/// Why no authorization code came back. `Display` is the message, [`hint`] the fix.
///
/// [`hint`]: ListenerError::hint
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListenerError {
    #[error("None of the sign-in callback ports {ports:?} on 127.0.0.1 is free.")]
    NoFreePort { ports: Vec<u16> },
    #[error("No sign-in callback arrived at {redirect_url} within {} seconds.", .waited.as_secs())]
    TimedOut {
        redirect_url: String,
        waited: Duration,
    },
    #[error("The sign-in was cancelled.")]
    Cancelled,
    #[error("You pressed Deny on the consent page, so no access was granted.")]
    Denied,
    #[error("The authorization server ended the sign-in with the error \"{error}\".")]
    AuthorizationFailed { error: String },
    #[error("That address cannot finish this sign-in: {reason}.")]
    BadPaste { reason: &'static str },
}

impl ListenerError {
    /// The refusal of a pasted address (the sign-in goes on waiting).
    pub fn paste_view(&self) -> crate::errors::ErrorView {
        crate::errors::ErrorView::new(
            crate::errors::ErrorCode::InvalidInput,
            self.to_string(),
            self.hint(),
        )
    }

    /// What the person should do about it, in one sentence.
    pub fn hint(&self) -> String {
        match self {
            Self::NoFreePort { ports } => format!(
                "Close the program using port {} (see `ss -ltnp`), or register another port.",
                ports.first().copied().unwrap_or_default()
            ),
            // ServiceNow silently redirects to the first registered URL when ours is not
            // registered, so "no callback" almost always means the redirect URL.
            Self::TimedOut { redirect_url, .. } => format!(
                "If you approved access in the browser, the OAuth application's redirect URL most \
                 likely does not match: register exactly {redirect_url} in its Redirect URL field \
                 (System OAuth > Application Registry) and sign in again."
            ),
            Self::Cancelled => "Start the sign-in again when you are ready.".into(),
            Self::Denied => "Sign in again and press Allow to connect.".into(),
            Self::AuthorizationFailed { .. } => "Check the OAuth application's settings (active, \
                                                 redirect URL, scopes) and sign in again."
                .into(),
            Self::BadPaste { .. } => "After pressing Allow, copy the whole address from the \
                                      browser's address bar (it starts with \
                                      http://127.0.0.1:) and paste it again."
                .into(),
        }
    }
}

/// What the browser brought back on a successful sign-in.
#[derive(Debug)]
pub struct Callback {
    pub code: AuthorizationCode,
    /// The issuer the server named (RFC 9207), when it sends one.
    pub iss: Option<String>,
}

/// The browser's connection of the accepted callback, kept open until the code exchange is
/// decided: the page says "Signed in" only when it is true.
#[derive(Debug)]
pub struct PendingReply {
    /// `None` for a pasted address: no browser is waiting on this machine.
    stream: Option<TcpStream>,
}

impl PendingReply {
    pub async fn signed_in(self) {
        self.say(Page::Success).await;
    }

    pub async fn failed(self) {
        self.say(Page::ExchangeFailed).await;
    }

    async fn say(self, page: Page) {
        if let Some(mut stream) = self.stream {
            respond(&mut stream, 200, "OK", page).await;
        }
    }
}

/// A listener bound to one loopback port, waiting for one callback.
#[derive(Debug)]
pub struct LoopbackListener {
    listener: TcpListener,
    redirect_url: Url,
    /// `Host` header value a request must carry: `127.0.0.1:<port>`.
    host: String,
    read_timeout: Duration,
}

/// What one connection ended with: the callback and its open connection, or a failure.
type Outcome = Result<(Callback, TcpStream), ListenerError>;

/// A connection being served, for eviction.
struct Slot {
    handle: AbortHandle,
    head_read: Arc<AtomicBool>,
}

impl LoopbackListener {
    /// Binds `127.0.0.1` on the first free port of `ports` (usually [`CALLBACK_PORTS`]; tests
    /// may pass `0` for any free port). The IP literal, not `localhost`, per RFC 8252 §8.3.
    pub async fn bind(ports: &[u16]) -> Result<Self, ListenerError> {
        for &port in ports {
            if let Ok(listener) =
                TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
            {
                let Ok(addr) = listener.local_addr() else {
                    continue;
                };
                let host = format!("127.0.0.1:{}", addr.port());
                let Ok(redirect_url) = Url::parse(&format!("http://{host}{CALLBACK_PATH}")) else {
                    continue;
                };
                return Ok(Self {
                    listener,
                    redirect_url,
                    host,
                    read_timeout: READ_TIMEOUT,
                });
            }
        }
        Err(ListenerError::NoFreePort {
            ports: ports.to_vec(),
        })
    }

    pub fn with_read_timeout(mut self, read_timeout: Duration) -> Self {
        self.read_timeout = read_timeout;
        self
    }

    /// The exact URL to send as `redirect_uri` and to register in ServiceNow.
    pub fn redirect_url(&self) -> &Url {
        &self.redirect_url
    }

    /// Serves callbacks until one carries `expected_state`, the `wait` runs out, or `cancel`
    /// completes. Requests with another `state` get 400 and do not end the wait. The accepted
    /// callback's browser connection comes back unanswered, for [`PendingReply`].
    pub async fn wait_for_callback(
        self,
        expected_state: &str,
        wait: Duration,
        cancel: impl Future<Output = ()>,
        paste: Option<&PasteBack>,
    ) -> Result<(Callback, PendingReply), ListenerError> {
        let deadline = tokio::time::sleep(wait);
        tokio::pin!(deadline, cancel);
        let mut pasted = match paste {
            Some(paste) => Some(paste.lock().await),
            None => None,
        };
        let mut connections: JoinSet<Option<Outcome>> = JoinSet::new();
        let mut slots: VecDeque<Slot> = VecDeque::new();
        loop {
            tokio::select! {
                biased;
                () = &mut cancel => return Err(ListenerError::Cancelled),
                () = &mut deadline => {
                    return Err(ListenerError::TimedOut {
                        redirect_url: self.redirect_url.to_string(),
                        waited: wait,
                    });
                }
                Some(finished) = connections.join_next() => {
                    if let Ok(Some(outcome)) = finished {
                        return outcome.map(|(callback, stream)| {
                            (callback, PendingReply { stream: Some(stream) })
                        });
                    }
                }
                paste = next_paste(&mut pasted) => {
                    let Some(paste) = paste else {
                        // Nobody can paste any more: wait for the browser alone.
                        pasted = None;
                        continue;
                    };
                    match judge_pasted(&paste.text, expected_state) {
                        Ok(callback) => {
                            let _ = paste.verdict.send(Ok(()));
                            return Ok((callback, PendingReply { stream: None }));
                        }
                        Err(bad @ ListenerError::BadPaste { .. }) => {
                            let _ = paste.verdict.send(Err(bad));
                        }
                        Err(ended) => {
                            let _ = paste.verdict.send(Err(ended.clone()));
                            return Err(ended);
                        }
                    }
                }
                accepted = self.listener.accept() => {
                    // Accept errors (a reset connection, too many open files) concern one
                    // client; keep serving the others.
                    let Ok((stream, _)) = accepted else { continue };
                    slots.retain(|slot| !slot.handle.is_finished());
                    if slots.len() >= MAX_CONNECTIONS {
                        // The newest connection is the likeliest to be the browser, which
                        // sends its request at once: close the oldest one still idle instead.
                        match slots.iter().position(|slot| !slot.head_read.load(Ordering::Acquire)) {
                            Some(index) => {
                                if let Some(oldest) = slots.remove(index) {
                                    oldest.handle.abort();
                                }
                            }
                            None => continue,
                        }
                    }
                    let head_read = Arc::new(AtomicBool::new(false));
                    let request = Request {
                        state: expected_state.to_owned(),
                        host: self.host.clone(),
                        read_timeout: self.read_timeout,
                        head_read: head_read.clone(),
                    };
                    let handle = connections.spawn(serve(stream, request));
                    slots.push_back(Slot { handle, head_read });
                }
            }
        }
    }
}

/// What serving one connection needs to know.
struct Request {
    state: String,
    host: String,
    read_timeout: Duration,
    head_read: Arc<AtomicBool>,
}

/// Answers one connection; `Some` when it ended the sign-in one way or the other. A valid
/// callback is not answered here: its connection is handed back.
async fn serve(mut stream: TcpStream, request: Request) -> Option<Outcome> {
    let head = match tokio::time::timeout(request.read_timeout, read_head(&mut stream)).await {
        Ok(Ok(head)) => head,
        Ok(Err(HeadError::TooLarge)) => {
            respond(
                &mut stream,
                431,
                "Request Header Fields Too Large",
                Page::Rejected,
            )
            .await;
            drain(&mut stream).await;
            return None;
        }
        Ok(Err(HeadError::Closed)) => return None,
        Err(_) => {
            respond(&mut stream, 408, "Request Timeout", Page::Rejected).await;
            return None;
        }
    };
    request.head_read.store(true, Ordering::Release);
    match judge(&head, &request.state, &request.host) {
        Judgement::Answer(status, reason, page) => {
            respond(&mut stream, status, reason, page).await;
            None
        }
        Judgement::Ended(status, reason, page, failure) => {
            respond(&mut stream, status, reason, page).await;
            Some(Err(failure))
        }
        Judgement::Callback(callback) => Some(Ok((callback, stream))),
    }
}

/// Reads and drops what the client is still sending, for a bounded time and amount: closing a
/// socket with unread data makes the kernel send a reset, which can destroy the answer before
/// the client reads it.
async fn drain(stream: &mut TcpStream) {
    let mut sink = [0u8; 4096];
    let mut left: usize = 1024 * 1024;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use tokio::io::AsyncWriteExt;

    use super::*;

    const STATE: &str = "s-0123456789abcdef";

    #[test]
    fn a_pasted_address_is_judged_like_the_browser_s_request() {
        let good = format!("  http://127.0.0.1:8765/callback?code=abc&state={STATE}\n");
        assert_eq!(judge_pasted(&good, STATE).unwrap().code.secret(), "abc");
        for (pasted, reason) in [
            ("abc", "it is not a web address"),
            (
                "https://evil.example/callback?code=abc&state=s-0123456789abcdef",
                "it is not Snowlink's callback address",
            ),
            (
                "http://127.0.0.1:8765/other?code=abc&state=s-0123456789abcdef",
                "it is not Snowlink's callback address",
            ),
            (
                "http://127.0.0.1:8765/callback?code=abc&state=another",
                "it belongs to another sign-in",
            ),
            (
                "http://127.0.0.1:8765/callback?state=s-0123456789abcdef",
                "it carries no authorization code",
            ),
        ] {
            assert_eq!(
                judge_pasted(pasted, STATE).unwrap_err(),
                ListenerError::BadPaste { reason },
                "{pasted}"
            );
        }
        let denied = format!("http://127.0.0.1:8765/callback?error=access_denied&state={STATE}");
        assert_eq!(
            judge_pasted(&denied, STATE).unwrap_err(),
            ListenerError::Denied
        );
    }

    #[tokio::test]
    async fn a_wrong_paste_is_refused_and_the_right_one_ends_the_wait() {
        let (listener, _) = listener().await;
        let (sender, receiver) = tokio::sync::mpsc::channel(1);
        let paste: PasteBack = Arc::new(tokio::sync::Mutex::new(receiver));
        let waiting = tokio::spawn(async move {
            listener
                .wait_for_callback(
                    STATE,
                    Duration::from_secs(10),
                    std::future::pending(),
                    Some(&paste),
                )
                .await
        });
        let say = |text: String| {
            let sender = sender.clone();
            async move {
                let (verdict, heard) = tokio::sync::oneshot::channel();
                sender.send(Pasted { text, verdict }).await.unwrap();
                heard.await.unwrap()
            }
        };
        let stale = say("http://127.0.0.1:8765/callback?code=x&state=old".into()).await;
        assert!(
            matches!(stale, Err(ListenerError::BadPaste { .. })),
            "{stale:?}"
        );
        let right = say(format!(
            "http://127.0.0.1:8765/callback?code=good&state={STATE}"
        ))
        .await;
        assert_eq!(right, Ok(()));
        let (callback, _) = waiting.await.unwrap().unwrap();
        assert_eq!(callback.code.secret(), "good");
    }

    async fn listener() -> (LoopbackListener, SocketAddr) {
        let listener = LoopbackListener::bind(&[0]).await.unwrap();
        let addr = listener.listener.local_addr().unwrap();
        (listener, addr)
    }

    /// Sends raw bytes and returns the status code and the whole answer.
    async fn send(addr: SocketAddr, raw: &[u8]) -> (u16, String) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // A server that answers before reading everything may reset the connection; keep
        // whatever it said.
        let _ = stream.write_all(raw).await;
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    }

    async fn get(addr: SocketAddr, target: &str) -> (u16, String) {
        send(
            addr,
            format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
        )
        .await
    }

    /// Waits for the callback and, as a successful code exchange would, says "Signed in".
    fn wait(
        listener: LoopbackListener,
    ) -> tokio::task::JoinHandle<Result<Callback, ListenerError>> {
        tokio::spawn(async move {
            let (callback, reply) = listener
                .wait_for_callback(STATE, Duration::from_secs(10), std::future::pending(), None)
                .await?;
            reply.signed_in().await;
            Ok(callback)
        })
    }

    #[tokio::test]
    async fn binds_the_first_free_port_of_the_list() {
        let busy = LoopbackListener::bind(&[0]).await.unwrap();
        let busy_port = busy.redirect_url().port().unwrap();
        let free = LoopbackListener::bind(&[busy_port, 0]).await.unwrap();
        assert_ne!(free.redirect_url().port().unwrap(), busy_port);
        assert_eq!(free.redirect_url().host_str(), Some("127.0.0.1"));
        assert_eq!(free.redirect_url().path(), "/callback");
        let err = LoopbackListener::bind(&[busy_port]).await.unwrap_err();
        assert_eq!(
            err,
            ListenerError::NoFreePort {
                ports: vec![busy_port]
            }
        );
    }

    #[tokio::test]
    async fn the_real_callback_returns_the_code_and_accepts_extra_parameters() {
        let (listener, addr) = listener().await;
        let waiting = wait(listener);
        let (status, page) = get(
            addr,
            &format!("/callback?code=abc%2F1&state={STATE}&iss=https%3A%2F%2Fop.example"),
        )
        .await;
        assert_eq!(status, 200);
        assert!(page.contains("Signed in"), "{page}");
        assert!(page.contains("Referrer-Policy: no-referrer"), "{page}");
        let callback = waiting.await.unwrap().unwrap();
        assert_eq!(callback.code.secret(), "abc/1");
        assert_eq!(callback.iss.as_deref(), Some("https://op.example"));
    }

    #[tokio::test]
    async fn forged_callbacks_get_400_and_the_wait_goes_on() {
        let (listener, addr) = listener().await;
        let waiting = wait(listener);
        for target in [
            "/callback?code=stolen".to_owned(),
            "/callback?code=stolen&state=wrong".to_owned(),
            format!("/callback?code=stolen&state={STATE}x"),
            format!("/callback?code=a&state={STATE}&state=other"),
            "/callback?error=access_denied&state=wrong".to_owned(),
        ] {
            let (status, page) = get(addr, &target).await;
            assert_eq!(status, 400, "{target}");
            assert!(page.contains("Unexpected sign-in link"), "{page}");
        }
        // A request with the right state but no code is refused too.
        assert_eq!(get(addr, &format!("/callback?state={STATE}")).await.0, 400);
        assert!(!waiting.is_finished());
        get(addr, &format!("/callback?code=real&state={STATE}")).await;
        assert_eq!(waiting.await.unwrap().unwrap().code.secret(), "real");
    }

    #[tokio::test]
    async fn wrong_paths_and_methods_are_refused() {
        let (listener, addr) = listener().await;
        let waiting = wait(listener);
        assert_eq!(get(addr, "/").await.0, 404);
        assert_eq!(get(addr, "/favicon.ico").await.0, 404);
        assert_eq!(
            get(addr, &format!("/callbackx?code=a&state={STATE}"))
                .await
                .0,
            404
        );
        let (status, answer) = send(
            addr,
            format!(
                "POST /callback?code=a&state={STATE} HTTP/1.1\r\nHost: {addr}\r\n\
                 Content-Length: 0\r\n\r\n"
            )
            .as_bytes(),
        )
        .await;
        assert_eq!(status, 405);
        assert!(answer.contains("Allow: GET"));
        assert_eq!(
            send(addr, format!("garbage\r\nHost: {addr}\r\n\r\n").as_bytes())
                .await
                .0,
            404
        );
        assert!(!waiting.is_finished());
        get(addr, &format!("/callback?code=ok&state={STATE}")).await;
        assert!(waiting.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn a_huge_request_is_cut_off() {
        let (listener, addr) = listener().await;
        let waiting = wait(listener);
        let huge = format!(
            "GET /callback?code=a&state={STATE}&pad={} HTTP/1.1\r\n\r\n",
            "x".repeat(64 * 1024)
        );
        assert_eq!(send(addr, huge.as_bytes()).await.0, 431);
        let headers = format!(
            "GET /callback HTTP/1.1\r\n{}\r\n",
            "X-Filler: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n".repeat(1000)
        );
        assert_eq!(send(addr, headers.as_bytes()).await.0, 431);
        assert!(!waiting.is_finished());
        get(addr, &format!("/callback?code=ok&state={STATE}")).await;
        assert!(waiting.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn a_slow_client_cannot_hold_the_listener() {
        let (listener, addr) = listener().await;
        let listener = listener.with_read_timeout(Duration::from_millis(500));
        let waiting = wait(listener);
        // Two clients connect and never finish their request.
        let mut idle = TcpStream::connect(addr).await.unwrap();
        let mut trickle = TcpStream::connect(addr).await.unwrap();
        trickle.write_all(b"GET /callback?co").await.unwrap();

        let started = Instant::now();
        let (status, _) = get(addr, &format!("/callback?code=ok&state={STATE}")).await;
        assert_eq!(status, 200);
        assert!(
            started.elapsed() < Duration::from_millis(400),
            "served at once, not after the slow ones: {:?}",
            started.elapsed()
        );
        assert_eq!(waiting.await.unwrap().unwrap().code.secret(), "ok");
        // The slow ones are not kept forever either.
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), idle.read_to_end(&mut rest)).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), trickle.read_to_end(&mut rest)).await;
    }

    #[tokio::test]
    async fn slow_clients_are_timed_out_with_408() {
        let (listener, addr) = listener().await;
        let listener = listener.with_read_timeout(Duration::from_millis(200));
        let _waiting = wait(listener);
        let mut idle = TcpStream::connect(addr).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(3), idle.read_to_end(&mut answer))
            .await
            .unwrap()
            .unwrap();
        assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 408"));
    }

    #[tokio::test]
    async fn deny_is_reported_as_such() {
        let (listener, addr) = listener().await;
        let waiting = wait(listener);
        let (status, page) = get(
            addr,
            &format!("/callback?error=access_denied&error_description=User+denied&state={STATE}"),
        )
        .await;
        assert_eq!(status, 200);
        assert!(page.contains("Sign-in not completed"));
        let err = waiting.await.unwrap().unwrap_err();
        assert_eq!(err, ListenerError::Denied);
        assert!(err.to_string().contains("You pressed Deny"));
    }

    #[tokio::test]
    async fn other_authorization_errors_are_sanitized() {
        let (listener, addr) = listener().await;
        let waiting = wait(listener);
        get(
            addr,
            &format!("/callback?error=invalid_scope%3Cscript%3E&state={STATE}"),
        )
        .await;
        assert_eq!(
            waiting.await.unwrap().unwrap_err(),
            ListenerError::AuthorizationFailed {
                error: "invalid_scopescript".into()
            }
        );
    }

    #[tokio::test]
    async fn the_wait_times_out_naming_the_redirect_url_to_register() {
        let (listener, _) = listener().await;
        let url = listener.redirect_url().to_string();
        let err = listener
            .wait_for_callback(
                STATE,
                Duration::from_millis(100),
                std::future::pending(),
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ListenerError::TimedOut { .. }));
        assert!(err.to_string().contains(&url));
        assert!(
            err.hint()
                .contains("redirect URL most likely does not match")
        );
        assert!(err.hint().contains(&format!("register exactly {url}")));
    }

    #[tokio::test]
    async fn the_wait_can_be_cancelled() {
        let (listener, _) = listener().await;
        let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
        let waiting = tokio::spawn(async move {
            listener
                .wait_for_callback(
                    STATE,
                    Duration::from_secs(60),
                    async {
                        let _ = cancelled.await;
                    },
                    None,
                )
                .await
        });
        cancel.send(()).unwrap();
        assert_eq!(
            waiting.await.unwrap().unwrap_err(),
            ListenerError::Cancelled
        );
    }

    #[tokio::test]
    async fn only_the_bound_host_is_answered() {
        let (listener, addr) = listener().await;
        let waiting = wait(listener);
        let callback = format!("/callback?code=rebound&state={STATE}");
        for headers in [
            String::new(),
            "Host: attacker.example\r\n".to_owned(),
            format!("Host: localhost:{}\r\n", addr.port()),
            "Host: 127.0.0.1\r\n".to_owned(),
            format!("Host: {addr}\r\nHost: attacker.example\r\n"),
        ] {
            let raw = format!("GET {callback} HTTP/1.1\r\n{headers}\r\n");
            assert_eq!(send(addr, raw.as_bytes()).await.0, 400, "{headers:?}");
        }
        assert!(!waiting.is_finished());
        let raw =
            format!("GET /callback?code=real&state={STATE} HTTP/1.1\r\nhOsT:  {addr} \r\n\r\n");
        assert_eq!(send(addr, raw.as_bytes()).await.0, 200);
        assert_eq!(waiting.await.unwrap().unwrap().code.secret(), "real");
    }

    #[tokio::test]
    async fn the_browser_hears_signed_in_only_after_the_exchange() {
        let (listener, addr) = listener().await;
        let waiting = tokio::spawn(async move {
            listener
                .wait_for_callback(STATE, Duration::from_secs(10), std::future::pending(), None)
                .await
        });
        let browser =
            tokio::spawn(
                async move { get(addr, &format!("/callback?code=c&state={STATE}")).await },
            );
        let (_, reply) = waiting.await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !browser.is_finished(),
            "no page before the exchange is decided"
        );
        reply.failed().await;
        let (status, page) = browser.await.unwrap();
        assert_eq!(status, 200);
        assert!(page.contains("Sign-in failed"), "{page}");
        assert!(!page.contains("Signed in"), "{page}");
    }

    #[tokio::test]
    async fn the_real_callback_gets_through_64_trickling_sockets() {
        let (listener, addr) = listener().await;
        let waiting = wait(listener);
        // 64 local sockets that send a byte a second and never finish a request.
        let mut junk = Vec::new();
        for _ in 0..64 {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            junk.push(tokio::spawn(async move {
                for byte in b"GET /callback?code=junk".iter().cycle() {
                    if stream.write_all(&[*byte]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Every slot is held by junk now; refusing the newest connection would close this one.
        let (status, page) = get(addr, &format!("/callback?code=real&state={STATE}")).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(waiting.await.unwrap().unwrap().code.secret(), "real");
        for task in junk {
            task.abort();
        }
    }
}

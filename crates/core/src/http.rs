//! The one HTTP set-up every Snowlink request uses, for the REST APIs and the OAuth endpoints
//! alike: rustls with the operating system's trust store, no redirects followed (credentials
//! are attached to every request, RFC 9700 §4.11), a timeout on every call, the
//! `snowlink/<version>` user agent, bodies read up to a cap. Failures below HTTP are classified
//! by their types, not their message text: DNS through our own resolver's error type, refused
//! connections by `io::ErrorKind`, certificates by `rustls::Error`.

use std::error::Error as _;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;

/// `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("snowlink/", env!("CARGO_PKG_VERSION"));
/// Longest wait for a TCP connection, whatever the request's own timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong below HTTP. `Display` is the message, [`hint`](Self::hint) the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("the host name {host} could not be resolved")]
    Dns { host: String },
    #[error("nothing accepted the connection to {host}")]
    ConnectRefused { host: String },
    #[error("the instance's TLS certificate is not trusted ({problem})")]
    TlsUntrusted { problem: CertificateProblem },
    #[error("the instance did not answer within {} s", .0.as_secs().max(1))]
    Timeout(Duration),
    #[error("the connection to the instance failed ({detail})")]
    Network { detail: String },
    #[error("the HTTP client could not be set up ({detail})")]
    Setup { detail: String },
}

/// Why a certificate was refused, from rustls's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateProblem {
    /// Signed by an authority the trust store does not hold (also self-signed certificates,
    /// and what a TLS-inspecting proxy presents).
    UnknownIssuer,
    Expired,
    WrongHost,
    Revoked,
    Other,
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownIssuer => "issued by an unknown certificate authority",
            Self::Expired => "expired",
            Self::WrongHost => "issued for another host name",
            Self::Revoked => "revoked",
            Self::Other => "not trusted",
        })
    }
}

impl TransportError {
    pub fn hint(&self) -> String {
        match self {
            Self::Dns { .. } => "Check the instance address and your network or VPN.".into(),
            Self::ConnectRefused { .. } => "Check the address and port, and that a firewall or \
                                           proxy lets the connection through."
                .into(),
            Self::TlsUntrusted {
                problem: CertificateProblem::UnknownIssuer,
            } => "A corporate proxy is probably intercepting TLS: install its CA certificate in \
                  the operating system's trust store."
                .into(),
            Self::TlsUntrusted { .. } => {
                "Check the instance address and the computer's clock; if a proxy intercepts \
                 TLS, install its CA certificate in the operating system's trust store."
                    .into()
            }
            Self::Timeout(_) | Self::Network { .. } => {
                "Check your network or VPN, then retry.".into()
            }
            Self::Setup { .. } => "Report this to Snowlink's maintainers.".into(),
        }
    }

    /// Whether the same request may succeed later without any change.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Timeout(_) | Self::Network { .. } | Self::ConnectRefused { .. }
        )
    }
}

/// How a client is built: its timeout, CA certificates to trust beside the OS store (a
/// proxy's CA given on the command line), and where its exchanges are recorded, if anywhere.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub timeout: Duration,
    pub extra_roots: Vec<reqwest::Certificate>,
    pub log: Option<HttpLog>,
}

impl ClientOptions {
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            extra_roots: Vec::new(),
            log: None,
        }
    }
}

/// One request as a support bundle shows it: no header, no body, no secret in the URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub status: Option<u16>,
    pub content_type: Option<String>,
    pub elapsed_ms: u64,
    pub error: Option<String>,
}

/// The exchanges of a run (a doctor run, a sign-in), shared by every client of the run.
#[derive(Debug, Clone, Default)]
pub struct HttpLog(Arc<Mutex<Vec<Exchange>>>);

/// Exchanges kept at most; a run makes a few dozen.
const MAX_EXCHANGES: usize = 2000;

/// Query parameters whose values are never recorded.
const SECRET_PARAMETERS: [&str; 10] = [
    "token",
    "code",
    "state",
    "password",
    "client_secret",
    "refresh_token",
    "access_token",
    "code_verifier",
    "code_challenge",
    "user_password",
];

impl HttpLog {
    /// Records one exchange: `outcome` is the status and content type, or the failure.
    pub fn record(
        &self,
        method: &str,
        url: &reqwest::Url,
        outcome: Result<(u16, Option<&str>), &TransportError>,
        elapsed: Duration,
    ) {
        let (status, content_type, error) = match outcome {
            Ok((status, content_type)) => (
                Some(status),
                content_type.map(|ct| crate::text::untrusted(ct, 100)),
                None,
            ),
            Err(err) => (None, None, Some(err.to_string())),
        };
        let exchange = Exchange {
            method: method.to_owned(),
            url: redact_url(url),
            status,
            content_type,
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            error,
        };
        let mut exchanges = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if exchanges.len() < MAX_EXCHANGES {
            exchanges.push(exchange);
        }
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The URL without user info, fragment or the value of any parameter that can carry a
/// credential (`token`, `code`, `password`…).
pub fn redact_url(url: &reqwest::Url) -> String {
    let mut clean = url.clone();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.set_fragment(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let secret = SECRET_PARAMETERS.contains(&key.to_ascii_lowercase().as_str());
                let value = if secret {
                    "[redacted]".to_owned()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        clean.query_pairs_mut().clear().extend_pairs(pairs);
    }
    crate::text::untrusted(clean.as_str(), 2000)
}

/// The HTTP client every Snowlink request uses.
pub fn client(timeout: Duration) -> Result<reqwest::Client, TransportError> {
    client_with(&ClientOptions::new(timeout))
}

/// The HTTP client with `options`.
pub fn client_with(options: &ClientOptions) -> Result<reqwest::Client, TransportError> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(redirect::Policy::none())
        .timeout(options.timeout)
        .connect_timeout(options.timeout.min(CONNECT_TIMEOUT))
        .dns_resolver(Arc::new(SystemResolver))
        .tls_certs_merge(options.extra_roots.iter().cloned())
        .build()
        .map_err(|err| TransportError::Setup {
            detail: chain_text(&err),
        })
}

/// A failed name lookup, as our resolver reports it: a type the classifier can find in the
/// error chain.
#[derive(Debug, thiserror::Error)]
#[error("could not resolve {host}")]
struct DnsFailure {
    host: String,
}

/// The operating system's resolver (getaddrinfo through tokio), failing with [`DnsFailure`].
struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            match tokio::net::lookup_host((host.clone(), 0)).await {
                Ok(found) => {
                    let addrs: Vec<SocketAddr> = found.collect();
                    if addrs.is_empty() {
                        return Err(Box::new(DnsFailure { host }) as _);
                    }
                    Ok(Box::new(addrs.into_iter()) as Addrs)
                }
                Err(_) => Err(Box::new(DnsFailure { host }) as _),
            }
        })
    }
}

/// Classifies a request failure against `host` (for the message) and `timeout` (the limit
/// that was hit, when it was).
pub fn classify(err: &reqwest::Error, host: &str, timeout: Duration) -> TransportError {
    if err.is_timeout() {
        return TransportError::Timeout(timeout);
    }
    let mut source = err.source();
    while let Some(cause) = source {
        if cause.downcast_ref::<DnsFailure>().is_some() {
            return TransportError::Dns {
                host: host.to_owned(),
            };
        }
        if let Some(problem) = certificate_problem(cause) {
            return TransportError::TlsUntrusted { problem };
        }
        // io::Error hides what it wraps from `source()`, and rustls's verdict sits inside
        // two of them: look through every layer.
        let mut io = cause.downcast_ref::<std::io::Error>();
        while let Some(layer) = io {
            match layer.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    return TransportError::ConnectRefused {
                        host: host.to_owned(),
                    };
                }
                std::io::ErrorKind::TimedOut => return TransportError::Timeout(timeout),
                _ => {}
            }
            let inner = layer
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static));
            if let Some(problem) = inner.and_then(certificate_problem) {
                return TransportError::TlsUntrusted { problem };
            }
            io = inner.and_then(|inner| inner.downcast_ref::<std::io::Error>());
        }
        source = cause.source();
    }
    TransportError::Network {
        detail: chain_text(err),
    }
}

fn certificate_problem(err: &(dyn std::error::Error + 'static)) -> Option<CertificateProblem> {
    match err.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(cert) => Some(certificate_problem_of(cert)),
        rustls::Error::InvalidCertRevocationList(_) => Some(CertificateProblem::Other),
        _ => None,
    }
}

/// rustls's verdict on a certificate, as Snowlink explains it.
pub fn certificate_problem_of(cert: &rustls::CertificateError) -> CertificateProblem {
    use rustls::CertificateError as C;
    match cert {
        C::UnknownIssuer | C::BadSignature => CertificateProblem::UnknownIssuer,
        C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. } => {
            CertificateProblem::Expired
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => CertificateProblem::WrongHost,
        C::Revoked => CertificateProblem::Revoked,
        _ => CertificateProblem::Other,
    }
}

/// The error and its causes in one line, without the request URL (which may carry a query),
/// bounded and stripped of control characters.
fn chain_text(err: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = err.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    if parts.is_empty() {
        parts.push(if err.is_connect() {
            "connect error".into()
        } else {
            "request error".into()
        });
    }
    crate::text::untrusted(&parts.join(": "), crate::text::MAX_MESSAGE_CHARS)
}

/// Reads at most `max` bytes of a body, so a hostile server cannot exhaust memory; the flag
/// says whether more was sent (the rest is not read).
pub async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = max - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn failure(url: &str) -> TransportError {
        let client = client(Duration::from_secs(5)).unwrap();
        let err = client.get(url).send().await.unwrap_err();
        let host = reqwest::Url::parse(url)
            .unwrap()
            .host_str()
            .unwrap()
            .to_owned();
        classify(&err, &host, Duration::from_secs(5))
    }

    #[tokio::test]
    async fn an_unknown_host_is_a_dns_failure() {
        let err = failure("https://no-such-instance.invalid/api/now/table/incident").await;
        assert_eq!(
            err,
            TransportError::Dns {
                host: "no-such-instance.invalid".into()
            }
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_refused() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = failure(&format!("http://127.0.0.1:{port}/")).await;
        assert!(
            matches!(err, TransportError::ConnectRefused { .. }),
            "{err:?}"
        );
        assert!(err.is_retryable());
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                open.push(stream);
            }
        });
        let client = client(Duration::from_millis(300)).unwrap();
        let err = client
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            classify(&err, "127.0.0.1", Duration::from_millis(300)),
            TransportError::Timeout(Duration::from_millis(300))
        );
    }

    #[test]
    fn recorded_urls_lose_their_secrets() {
        let url = reqwest::Url::parse(
            "https://bob:pw@acme.service-now.com/oauth_revoke_token.do?token=rt-SECRET&x=1&Code=c-SECRET#frag",
        )
        .unwrap();
        let log = HttpLog::default();
        log.record(
            "POST",
            &url,
            Ok((200, Some("application/json"))),
            Duration::from_millis(5),
        );
        let shown = serde_json::to_string(&log.exchanges()).unwrap();
        assert!(
            !shown.contains("SECRET") && !shown.contains("pw@"),
            "{shown}"
        );
        assert!(shown.contains("x=1"), "{shown}");
        assert!(shown.contains("token=%5Bredacted%5D"), "{shown}");
    }

    #[tokio::test]
    async fn body_reads_stop_at_the_cap() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            if let Ok((mut stream, _)) = listener.accept().await {
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request).await;
                let body = vec![b'x'; 100_000];
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
            }
        });
        let response = client(Duration::from_secs(5))
            .unwrap()
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap();
        let (body, cut) = read_capped(response, 1000).await.unwrap();
        assert_eq!(body.len(), 1000);
        assert!(cut);
    }
}

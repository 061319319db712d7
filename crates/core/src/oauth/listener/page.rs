//! The page the browser shows at the end of a sign-in, and writing it with its status.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[derive(Clone, Copy)]
pub(super) enum Page {
    Success,
    Failed,
    ExchangeFailed,
    WrongState,
    Rejected,
}

impl Page {
    fn text(self) -> (&'static str, &'static str) {
        match self {
            Self::Success => (
                "Signed in",
                "Snowlink is connected. You can close this tab and return to Snowlink.",
            ),
            Self::Failed => (
                "Sign-in not completed",
                "No access was granted. Return to Snowlink to see why and try again.",
            ),
            Self::ExchangeFailed => (
                "Sign-in failed",
                "The instance did not accept the sign-in. Return to Snowlink to see why and \
                 try again.",
            ),
            Self::WrongState => (
                "Unexpected sign-in link",
                "This link does not belong to the sign-in Snowlink is waiting for. Start the \
                 sign-in from Snowlink again if you meant to connect.",
            ),
            Self::Rejected => ("Not found", "Nothing to see here."),
        }
    }
}

/// Writes a small self-contained page (no scripts, no external resources) and closes.
pub(super) async fn respond(stream: &mut TcpStream, status: u16, reason: &str, page: Page) {
    let (title, message) = page.text();
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} - \
         Snowlink</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;\
         margin:4rem auto;padding:0 1rem;color:#1b1f24}}h1{{font-size:1.4rem}}</style></head>\
         <body><h1>{title}</h1><p>{message}</p></body></html>"
    );
    let allow = if status == 405 { "Allow: GET\r\n" } else { "" };
    // no-referrer: the callback URL carries the code; no-store: keep it out of caches.
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\n{allow}Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    // The browser may already be gone; the outcome does not depend on it hearing back.
    let write = async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), write).await;
}

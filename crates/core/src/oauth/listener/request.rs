//! Reading one request on the loopback port: its head, capped and read as it arrives, and the
//! judgement of it (only `GET /callback` with the bound `Host` and the sign-in's `state`).

use oauth2::AuthorizationCode;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use url::Url;

use super::page::Page;
use super::{CALLBACK_PATH, Callback, ListenerError, MAX_REQUEST_BYTES};

pub(super) enum HeadError {
    TooLarge,
    Closed,
}

/// Reads up to the blank line that ends the request head, looking for it only in what just
/// arrived; a GET callback has no body.
pub(super) async fn read_head(stream: &mut TcpStream) -> Result<String, HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|_| HeadError::Closed)?;
        if n == 0 {
            return Err(HeadError::Closed);
        }
        // The terminator may straddle two reads: look from three bytes back.
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf[from..].windows(4).position(|w| w == b"\r\n\r\n") {
            buf.truncate(from + end);
            return String::from_utf8(buf).map_err(|_| HeadError::Closed);
        }
        if buf.len() > MAX_REQUEST_BYTES {
            return Err(HeadError::TooLarge);
        }
    }
}

/// What to do with one request head.
pub(super) enum Judgement {
    /// Answer and keep waiting.
    Answer(u16, &'static str, Page),
    /// Answer, and end the sign-in with this failure.
    Ended(u16, &'static str, Page, ListenerError),
    /// The callback: answered once the code exchange is decided.
    Callback(Callback),
}

/// Decides the answer to one request head.
pub(super) fn judge(head: &str, expected_state: &str, expected_host: &str) -> Judgement {
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or("/"),
    );
    // RFC 8252 §8.3 and DNS rebinding: a page on another origin whose name was made to resolve
    // to 127.0.0.1 sends its own Host; only the address we bound is ours.
    let hosts: Vec<&str> = lines
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("host"))
        .map(|(_, value)| value.trim())
        .collect();
    if hosts.as_slice() != [expected_host] {
        return Judgement::Answer(400, "Bad Request", Page::Rejected);
    }
    let Ok(url) = Url::parse("http://127.0.0.1").and_then(|base| base.join(target)) else {
        return Judgement::Answer(400, "Bad Request", Page::Rejected);
    };
    if url.path() != CALLBACK_PATH {
        return Judgement::Answer(404, "Not Found", Page::Rejected);
    }
    if method != "GET" {
        return Judgement::Answer(405, "Method Not Allowed", Page::Rejected);
    }
    match read_query(&url, expected_state) {
        QueryVerdict::WrongState => Judgement::Answer(400, "Bad Request", Page::WrongState),
        QueryVerdict::Failure(failure) => Judgement::Ended(200, "OK", Page::Failed, failure),
        QueryVerdict::Callback(callback) => Judgement::Callback(callback),
        QueryVerdict::NoCode => Judgement::Answer(400, "Bad Request", Page::Rejected),
    }
}

/// What a callback URL's query says.
pub(super) enum QueryVerdict {
    WrongState,
    NoCode,
    Failure(ListenerError),
    Callback(Callback),
}

pub(super) fn read_query(url: &Url, expected_state: &str) -> QueryVerdict {
    let single = |name: &str| {
        let mut values = url.query_pairs().filter(|(key, _)| key == name);
        match (values.next(), values.next()) {
            (Some((_, value)), None) => Some(value.into_owned()),
            _ => None,
        }
    };
    // Without the state we sent, the request is not the answer to our sign-in: a forged or a
    // stale redirect. Refuse it and keep waiting for the real one.
    if !single("state").is_some_and(|state| same_secret(&state, expected_state)) {
        return QueryVerdict::WrongState;
    }
    if let Some(error) = single("error") {
        return QueryVerdict::Failure(if error == "access_denied" {
            ListenerError::Denied
        } else {
            ListenerError::AuthorizationFailed {
                error: error_code(&error),
            }
        });
    }
    match single("code").filter(|code| !code.is_empty()) {
        Some(code) => QueryVerdict::Callback(Callback {
            code: AuthorizationCode::new(code),
            iss: single("iss"),
        }),
        None => QueryVerdict::NoCode,
    }
}

/// An error code from the query, reduced to the characters RFC 6749 §4.1.2.1 allows and a sane
/// length, so a crafted URL cannot put arbitrary text into our messages.
fn error_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

/// Compares without stopping at the first difference, so response timing says nothing about
/// how much of a guessed state was right.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

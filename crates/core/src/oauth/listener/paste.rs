//! Paste-back: the address a person pastes when their browser cannot reach the loopback port,
//! judged like the browser's own request.

use std::sync::Arc;

use url::Url;

use super::request::{QueryVerdict, read_query};
use super::{CALLBACK_PATH, Callback, ListenerError};

/// The address a person pasted because their browser could not reach the loopback port
/// (a remote desktop, WSL, a locked-down browser), and where the verdict on it goes: `Ok`
/// when it finishes the sign-in, the reason otherwise (the wait goes on).
#[derive(Debug)]
pub struct Pasted {
    pub text: String,
    pub verdict: tokio::sync::oneshot::Sender<Result<(), ListenerError>>,
}

/// Where a sign-in hears pasted addresses from.
pub type PasteBack = Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Pasted>>>;

/// A pasted address judged against the sign-in's `state`: the callback, a terminal failure
/// (Deny, an authorization error), or why it cannot be the answer ([`ListenerError::BadPaste`]).
pub fn judge_pasted(text: &str, expected_state: &str) -> Result<Callback, ListenerError> {
    let bad = |reason| ListenerError::BadPaste { reason };
    let url = Url::parse(text.trim()).map_err(|_| bad("it is not a web address"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost"));
    if url.scheme() != "http" || !loopback || url.path() != CALLBACK_PATH {
        return Err(bad("it is not Snowlink's callback address"));
    }
    match read_query(&url, expected_state) {
        QueryVerdict::Callback(callback) => Ok(callback),
        QueryVerdict::Failure(failure) => Err(failure),
        QueryVerdict::WrongState => Err(bad("it belongs to another sign-in")),
        QueryVerdict::NoCode => Err(bad("it carries no authorization code")),
    }
}

/// The next pasted address, or never when there is no paste-back (or it was closed).
pub(super) async fn next_paste(
    pasted: &mut Option<tokio::sync::MutexGuard<'_, tokio::sync::mpsc::Receiver<Pasted>>>,
) -> Option<Pasted> {
    match pasted.as_mut() {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

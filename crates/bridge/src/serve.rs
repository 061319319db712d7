//! `snowlink serve`: the [`Bridge`] over JSON lines, for the desktop app that starts it. Each
//! line in is a request `{"id", "method", "params"}`; each line out is one of its events
//! `{"id", "event": {"channel", "data"}}` or its answer `{"id", "ok"}` / `{"id", "error"}`.
//! Requests run at once (a sign-in waits while its paste or cancel comes in), and the events
//! of a request always come before its answer. The end of the input (the app closed) ends it.
//! At most [`IN_FLIGHT`] requests are taken at a time, each until its answer is written: a
//! window that floods requests, or stops reading answers, is slowed down (its writes wait)
//! instead of making the engine grow.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};
use snowlink_core::errors::FrontEndError;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::{Bridge, Events, Request};

/// The longest request line read; the app's largest is a pasted address or a typed secret.
const MAX_LINE: usize = 1 << 20;
/// How long answers under way may still be written once the input has ended.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(2);
/// Requests taken at once. The window sends a few at a time; a sign-in waiting holds one.
pub const IN_FLIGHT: usize = 64;

/// A line to write, and the request's place, given back once its answer is out.
struct Outgoing {
    line: String,
    done: Option<OwnedSemaphorePermit>,
}

/// A request line as read, before its method and parameters are checked.
#[derive(Deserialize)]
struct Line {
    id: u64,
    method: String,
    #[serde(default)]
    params: Value,
}

/// Answers the requests read from `input` on `output` until `input` ends.
pub async fn serve(
    bridge: Bridge,
    input: impl AsyncRead + Unpin,
    output: impl AsyncWrite + Unpin + Send + 'static,
) -> std::io::Result<()> {
    let bridge = Arc::new(bridge);
    let places = Arc::new(Semaphore::new(IN_FLIGHT));
    let (lines_out, mut outgoing) = mpsc::unbounded_channel::<Outgoing>();
    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(Outgoing { line, done }) = outgoing.recv().await {
            output.write_all(line.as_bytes()).await?;
            output.write_all(b"\n").await?;
            output.flush().await?;
            drop(done);
        }
        Ok::<_, std::io::Error>(())
    });
    let mut input = BufReader::new(input);
    loop {
        // A place first: with every place taken, nothing more is read until an answer is out.
        let Ok(place) = places.clone().acquire_owned().await else {
            break;
        };
        let mut line = Vec::new();
        let read = (&mut input)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .await?;
        if read == 0 {
            break;
        }
        let refuse = |why: &str, place| {
            let _ = lines_out.send(Outgoing {
                line: unreadable(why).to_string(),
                done: Some(place),
            });
        };
        if line.len() > MAX_LINE && !line.ends_with(b"\n") {
            // Skip the rest of the overlong line, a buffer at a time: nothing in it can be
            // trusted to be whole, and none of it is kept.
            skip_line(&mut input).await?;
            refuse("the request is too long", place);
            continue;
        }
        let request: Line = match serde_json::from_slice(&line) {
            Ok(request) => request,
            Err(err) => {
                refuse(&err.to_string(), place);
                continue;
            }
        };
        let bridge = bridge.clone();
        let lines_out = lines_out.clone();
        tokio::spawn(async move {
            let id = request.id;
            let event_lines = lines_out.clone();
            let events: Events = Arc::new(move |channel, data| {
                let event = json!({ "id": id, "event": { "channel": channel, "data": data } });
                let _ = event_lines.send(Outgoing {
                    line: event.to_string(),
                    done: None,
                });
            });
            let answer = match Request::read(&request.method, request.params) {
                Ok(typed) => bridge.call(typed, events).await,
                Err(err) => Err(err.view()),
            };
            let answer = match answer {
                Ok(value) => json!({ "id": id, "ok": value }),
                Err(error) => json!({ "id": id, "error": error }),
            };
            let _ = lines_out.send(Outgoing {
                line: answer.to_string(),
                done: Some(place),
            });
        });
    }
    // Answers already under way get a moment to be written; a sign-in still waiting does not
    // keep the engine alive once the app is gone.
    drop(lines_out);
    let _ = tokio::time::timeout(DRAIN, writer).await;
    Ok(())
}

/// Reads up to and including the next newline (or the end), keeping nothing.
async fn skip_line(input: &mut (impl AsyncBufRead + Unpin)) -> std::io::Result<()> {
    loop {
        let buffer = input.fill_buf().await?;
        if buffer.is_empty() {
            return Ok(());
        }
        match buffer.iter().position(|&b| b == b'\n') {
            Some(end) => {
                input.consume(end + 1);
                return Ok(());
            }
            None => {
                let read = buffer.len();
                input.consume(read);
            }
        }
    }
}

/// The answer to a line that is not a request (it has no id to answer to).
fn unreadable(why: &str) -> Value {
    let error = FrontEndError::BadRequest(why.to_owned()).view();
    json!({ "id": null, "error": error })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    /// A bridge over a fresh config folder, served over in-memory pipes; returns the app's
    /// ends: where to write requests and the answers read back.
    fn served() -> (
        tempfile::TempDir,
        tokio::io::DuplexStream,
        tokio::io::Lines<BufReader<tokio::io::DuplexStream>>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store =
            snowlink_core::connections::ConnectionStore::at(dir.path().join("connections.json"));
        let bridge = Bridge::over(store);
        let (app_out, engine_in) = tokio::io::duplex(1 << 16);
        let (engine_out, app_in) = tokio::io::duplex(1 << 16);
        tokio::spawn(serve(bridge, engine_in, engine_out));
        (dir, app_out, BufReader::new(app_in).lines())
    }

    async fn next(lines: &mut tokio::io::Lines<BufReader<tokio::io::DuplexStream>>) -> Value {
        let line = lines.next_line().await.unwrap().expect("an answer");
        serde_json::from_str(&line).unwrap()
    }

    #[tokio::test]
    async fn each_request_gets_its_answer_by_id_and_bad_lines_get_an_error() {
        let (_dir, mut requests, mut answers) = served();
        requests
            .write_all(b"{\"id\":7,\"method\":\"parse_instance\",\"params\":{\"text\":\"acme\"}}\n")
            .await
            .unwrap();
        let answer = next(&mut answers).await;
        assert_eq!(answer["id"], 7);
        assert_eq!(answer["ok"]["url"], "https://acme.service-now.com");

        requests
            .write_all(b"{\"id\":8,\"method\":\"parse_instance\",\"params\":{\"text\":\"http://acme.example.com\"}}\n")
            .await
            .unwrap();
        let answer = next(&mut answers).await;
        assert_eq!(answer["id"], 8);
        assert_eq!(answer["error"]["code"], "invalid_input");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("http://")
        );

        requests.write_all(b"not json\n").await.unwrap();
        let answer = next(&mut answers).await;
        assert!(answer["id"].is_null());
        assert_eq!(answer["error"]["code"], "internal");

        requests
            .write_all(b"{\"id\":9,\"method\":\"rm -rf\",\"params\":{}}\n")
            .await
            .unwrap();
        let answer = next(&mut answers).await;
        assert_eq!(answer["id"], 9);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("does not know")
        );

        requests
            .write_all(b"{\"id\":10,\"method\":\"check_connection\",\"params\":{}}\n")
            .await
            .unwrap();
        let answer = next(&mut answers).await;
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("cannot read"),
            "{answer}"
        );
    }

    #[tokio::test]
    async fn only_web_pages_are_handed_to_the_browser() {
        let (_dir, mut requests, mut answers) = served();
        for (id, url) in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "smb://host/share",
            "not a url",
        ]
        .into_iter()
        .enumerate()
        {
            let request =
                json!({ "id": id, "method": "open_in_browser", "params": { "url": url } });
            requests
                .write_all(format!("{request}\n").as_bytes())
                .await
                .unwrap();
            let answer = next(&mut answers).await;
            assert_eq!(answer["id"], id, "{answer}");
            assert_eq!(answer["error"]["code"], "invalid_input", "{url}: {answer}");
        }
    }

    #[tokio::test]
    async fn an_overlong_line_is_refused_and_the_next_request_still_answered() {
        let (_dir, mut requests, mut answers) = served();
        let mut long = vec![b'x'; MAX_LINE + 10];
        long.push(b'\n');
        requests.write_all(&long).await.unwrap();
        requests
            .write_all(b"{\"id\":1,\"method\":\"list_connections\"}\n")
            .await
            .unwrap();
        let refused = next(&mut answers).await;
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains("too long")
        );
        let answer = next(&mut answers).await;
        assert_eq!(answer, serde_json::json!({ "id": 1, "ok": [] }));
    }

    /// Input that counts the bytes taken from it.
    struct Counted {
        bytes: std::io::Cursor<Vec<u8>>,
        taken: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl AsyncRead for Counted {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            let before = buf.filled().len();
            let polled = std::pin::Pin::new(&mut self.bytes).poll_read(cx, buf);
            let added = buf.filled().len() - before;
            self.taken
                .fetch_add(added, std::sync::atomic::Ordering::SeqCst);
            polled
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_window_that_floods_and_never_reads_holds_the_engine_to_a_bounded_intake() {
        use std::sync::atomic::Ordering;
        const SENT: usize = 20_000;
        let dir = tempfile::tempdir().unwrap();
        let store =
            snowlink_core::connections::ConnectionStore::at(dir.path().join("connections.json"));
        let line = |id: usize| {
            format!(
                "{{\"id\":{id},\"method\":\"parse_instance\",\"params\":{{\"text\":\"acme\"}}}}\n"
            )
        };
        let all: String = (0..SENT).map(line).collect();
        let line_bytes = line(SENT).len();
        let taken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let input = Counted {
            bytes: std::io::Cursor::new(all.into_bytes()),
            taken: taken.clone(),
        };
        // A small pipe the window never reads: it fills after a few answers.
        let (engine_out, app_in) = tokio::io::duplex(4096);
        let served = tokio::spawn(serve(Bridge::over(store), input, engine_out));
        // Let the engine take all it will; it never needs more than this to stall.
        let mut last = usize::MAX;
        while taken.load(Ordering::SeqCst) != last {
            last = taken.load(Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        // Requests taken: the places, what the pipe and the read buffer hold.
        let bound = (IN_FLIGHT + 4096 / 40 + 1) * line_bytes + 8192;
        assert!(
            last <= bound,
            "took {last} bytes of {} with nothing read back (bound {bound})",
            SENT * line_bytes
        );
        // Once the window reads again, every request is answered.
        let mut answers = BufReader::new(app_in).lines();
        let mut seen = 0;
        while seen < SENT {
            let answer: Value =
                serde_json::from_str(&answers.next_line().await.unwrap().unwrap()).unwrap();
            assert!(answer["ok"]["url"].is_string(), "{answer}");
            seen += 1;
        }
        served.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn cancelling_or_pasting_with_no_sign_in_waiting_answers_at_once() {
        let (_dir, mut requests, mut answers) = served();
        // (The real wait, a link that hears a paste while it waits, is the desktop
        // paste-back test's.)
        requests
            .write_all(b"{\"id\":1,\"method\":\"cancel_sign_in\"}\n{\"id\":2,\"method\":\"paste_sign_in\",\"params\":{\"address\":\"http://127.0.0.1:8765/callback?code=x&state=y\"}}\n")
            .await
            .unwrap();
        let mut seen = [next(&mut answers).await, next(&mut answers).await];
        seen.sort_by_key(|a| a["id"].as_u64());
        assert_eq!(seen[0], serde_json::json!({ "id": 1, "ok": null }));
        assert!(
            seen[1]["error"]["message"]
                .as_str()
                .unwrap()
                .contains("No sign-in is waiting"),
            "{}",
            seen[1]
        );
    }
}

//! How the CLI reports results and failures: plain text for people, one JSON document with
//! `--json` for scripts. Failures always carry the reason and the fix.

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

/// A failure as the CLI shows it: a stable code for scripts, the reason and the fix.
#[derive(Debug, Serialize)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
    pub hint: String,
}

/// Prints `value` as one line of JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> ExitCode {
    match serde_json::to_string(value) {
        Ok(text) => print_line(&text),
        Err(err) => {
            eprintln!("error: could not encode the result as JSON: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Prints one line on stdout; a closed pipe is not an error worth a panic.
pub fn print_line(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}") {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// Reports a failure (as JSON on stdout with `--json`, else on stderr) and returns exit code 1.
pub fn fail(failure: &Failure, json: bool) -> ExitCode {
    if json {
        print_json(&serde_json::json!({ "error": failure }));
    } else {
        eprintln!("error: {}\n  fix: {}", failure.message, failure.hint);
    }
    ExitCode::FAILURE
}

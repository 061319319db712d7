//! How the CLI reports results and failures: plain text for people, one JSON document with
//! `--json` for scripts. Everything printed goes through `text::for_terminal`, so nothing an
//! instance sent can drive the terminal. Failures are the core's [`ErrorView`]: the code from
//! the closed set, the reason, the fix, and the next step phrased as this CLI's flag or command.

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;
use snowlink_core::errors::InputField;
use snowlink_core::errors::{ErrorCode, ErrorView, NextStep};
use snowlink_core::text::for_terminal;

/// Exit code for bad usage (a missing flag, a refused confirmation), as clap uses.
pub const USAGE: u8 = 2;

/// Prints `value` as one line of JSON on stdout. JSON escapes every control character itself.
pub fn print_json<T: Serialize>(value: &T) -> ExitCode {
    match serde_json::to_string(value) {
        Ok(text) => print_line(&text),
        Err(err) => {
            eprint_line(&format!(
                "error: could not encode the result as JSON: {err}"
            ));
            ExitCode::FAILURE
        }
    }
}

/// Prints one line on stdout; a closed pipe is not an error worth a panic.
pub fn print_line(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{}", for_terminal(text)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// Prints text whose every untrusted part already went through `for_terminal` (so it may carry
/// our own color sequences).
pub fn print_prepared(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}") {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// Prints one line on stderr.
pub fn eprint_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}", for_terminal(text));
}

/// Reports a failure (as JSON on stdout with `--json`, else on stderr) and returns its exit
/// code: 2 for input problems (bad usage), 1 for the rest.
pub fn fail(view: &ErrorView, json: bool) -> ExitCode {
    if json {
        print_json(&serde_json::json!({ "error": view }));
    } else {
        let mut text = format!("error: {}\n  fix: {}", view.message, view.hint);
        if let Some(next) = view.next.and_then(next_step) {
            text.push_str(&format!("\n  next: {next}"));
        }
        eprint_line(&text);
    }
    if view.code == ErrorCode::InvalidInput {
        ExitCode::from(USAGE)
    } else {
        ExitCode::FAILURE
    }
}

/// The core's next step in this CLI's words.
pub fn next_step(next: NextStep) -> Option<String> {
    Some(match next {
        NextStep::Provide { field } => provide(field)?,
        NextStep::ChooseConnection => {
            "pass --connection NAME (`snowlink status --offline` lists them)".into()
        }
        NextStep::CreateConnection => {
            "run `snowlink connect --instance URL --name NAME --grant GRANT`".into()
        }
        NextStep::Relink => "run `snowlink link --connection NAME`".into(),
        NextStep::Retry => "run the command again".into(),
        NextStep::GiveAdminCredentials => {
            "set SNOWLINK_ADMIN_USERNAME and SNOWLINK_ADMIN_PASSWORD to an admin account and run \
             `snowlink doctor` again to name the cause"
                .into()
        }
        NextStep::TrustCa => "pass --ca-file PEM with the proxy's CA certificate".into(),
        NextStep::Confirm => "pass --yes to go ahead without asking".into(),
    })
}

fn provide(field: InputField) -> Option<String> {
    let flag = match field {
        InputField::Instance => "--instance",
        InputField::ConnectionName => "--name",
        InputField::Connection => "--connection",
        InputField::Grant => "--grant",
        InputField::ClientId => "--client-id",
        InputField::Username => "--username",
        secret => {
            return secret
                .env_var()
                .map(|var| format!("type it when asked, or set {var}"));
        }
    };
    Some(format!("pass {flag}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_steps_name_this_cli_s_flags() {
        assert_eq!(
            next_step(NextStep::Provide {
                field: InputField::ClientId
            })
            .unwrap(),
            "pass --client-id"
        );
        assert!(
            next_step(NextStep::Provide {
                field: InputField::Password
            })
            .unwrap()
            .contains("SNOWLINK_PASSWORD")
        );
    }
}

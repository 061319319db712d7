//! Asking the person at the terminal: a line, a secret without echo, a yes or no. Every
//! question goes to standard error, so `--json` output on standard output stays clean; with no
//! terminal on standard input nothing is asked.

use std::io::{BufRead, IsTerminal, Write};

use snowlink_core::errors::{ErrorView, FrontEndError};

/// Whether there is a person to ask: standard input is a terminal.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

/// The environment variable `name`, when it is set to something.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Reads one line from the terminal (`None` at end of input).
pub fn ask(prompt: &str) -> Option<String> {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_owned()),
    }
}

/// Whether the person answers yes to `question`.
pub fn agrees(question: &str) -> bool {
    matches!(
        ask(question).as_deref().map(str::trim),
        Some("y" | "Y" | "yes")
    )
}

/// A secret typed without echo, asked for as `label`; when the terminal cannot be read, the
/// error names `variable` to set instead.
pub fn secret(prompt: &str, label: &str, variable: &str) -> Result<String, ErrorView> {
    rpassword::prompt_password(prompt).map_err(|err| {
        FrontEndError::TerminalRead {
            label: label.to_owned(),
            variable: variable.to_owned(),
            detail: err.to_string(),
        }
        .view()
    })
}

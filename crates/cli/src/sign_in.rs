//! How the CLI signs in and takes secrets: the browser hand-off with the URL always printed
//! for manual copy, the paste-back fallback, Ctrl-C to cancel, and secrets typed at a prompt
//! without echo or read from the environment variables the core names, never from arguments.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use snowlink_core::BrowserUrl;
use snowlink_core::errors::ErrorView;
use snowlink_core::flows::{BrowserSignIn, ProvidedSecrets};
use snowlink_core::grants::GrantInput;
use snowlink_core::grants::GrantKind;
use snowlink_core::oauth::{
    Browser, BrowserError, CALLBACK_PORTS, DEFAULT_SIGN_IN_WAIT, SystemBrowser,
};

use crate::output::eprint_line;
use crate::prompt::{interactive, secret};

#[derive(Args)]
pub struct SignInArgs {
    /// Print the sign-in URL without opening a browser.
    #[arg(long)]
    no_browser: bool,
    /// The loopback callback port registered in ServiceNow (default: the first free of 8765-8767).
    #[arg(long)]
    port: Option<u16>,
    /// How long to wait for the browser sign-in, in seconds.
    #[arg(long, default_value_t = DEFAULT_SIGN_IN_WAIT.as_secs())]
    wait: u64,
    /// Also accept the address the browser ended on, pasted here (for a browser that cannot
    /// reach this computer's 127.0.0.1: a remote desktop, WSL, a locked-down browser).
    #[arg(long)]
    paste: bool,
}

impl Default for SignInArgs {
    /// The system browser, the registered ports, the usual wait: a sign-in the command has no
    /// flags for (the doctor's admin).
    fn default() -> Self {
        Self {
            no_browser: false,
            port: None,
            wait: DEFAULT_SIGN_IN_WAIT.as_secs(),
            paste: false,
        }
    }
}

pub fn sign_in(args: &SignInArgs) -> BrowserSignIn {
    BrowserSignIn {
        ports: match args.port {
            Some(port) => vec![port],
            None => CALLBACK_PORTS.to_vec(),
        },
        browser: (!args.no_browser)
            .then(|| Arc::new(SystemBrowser::from_env()) as Arc<dyn Browser>),
        wait: Duration::from_secs(args.wait),
        show_url: Arc::new(if args.paste {
            show_url_and_paste
        } else {
            show_url
        }),
        paste: args.paste.then(read_pasted),
    }
}

fn show_url_and_paste(url: &BrowserUrl, browser_error: Option<&BrowserError>) {
    show_url(url, browser_error);
    eprint_line(
        "If the browser cannot come back to this computer, copy the address it ended on \
         (http://127.0.0.1:…/callback?…) and paste it here, then press Enter:",
    );
}

/// Pasted addresses from standard input, one a line; each verdict is printed.
fn read_pasted() -> snowlink_core::oauth::PasteBack {
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(text) = line else { break };
            if text.trim().is_empty() {
                continue;
            }
            let (verdict, heard) = tokio::sync::oneshot::channel();
            if sender
                .blocking_send(snowlink_core::oauth::Pasted { text, verdict })
                .is_err()
            {
                break;
            }
            match heard.blocking_recv() {
                Ok(Ok(())) => break,
                Ok(Err(err)) => eprint_line(&format!("{err} {}", err.hint())),
                Err(_) => break,
            }
        }
    });
    Arc::new(tokio::sync::Mutex::new(receiver))
}

fn show_url(url: &BrowserUrl, browser_error: Option<&BrowserError>) {
    eprint_line(&format!(
        "Sign in to ServiceNow in your browser. If it did not open, open this URL:\n  {}",
        url.as_str()
    ));
    if let Some(err) = browser_error {
        eprint_line(&format!(
            "  (the browser could not be started: {err}; {})",
            err.hint()
        ));
    }
    eprint_line("Waiting for the sign-in to finish (Ctrl-C to cancel)…");
}

pub async fn ctrl_c() {
    // If the handler cannot be installed, never cancel: the wait's own timeout still applies.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The secrets the grant takes (the core's table): from the environment, else a prompt without
/// echo when there is a terminal. A missing required one is reported by the engine by name.
pub fn read_secrets(grant: GrantKind) -> Result<ProvidedSecrets, ErrorView> {
    read_inputs(grant.inputs().iter().copied())
}

/// The secrets among `inputs`, as [`read_secrets`] reads them.
pub fn read_inputs(
    inputs: impl IntoIterator<Item = GrantInput>,
) -> Result<ProvidedSecrets, ErrorView> {
    let mut provided = ProvidedSecrets::default();
    for input in inputs {
        let Some(env) = input.field.env_var() else {
            continue;
        };
        if let Ok(value) = std::env::var(env)
            && !value.is_empty()
        {
            provided.set(input.field, value);
            continue;
        }
        if !interactive() {
            continue;
        }
        let label = input.field.label().trim_start_matches("the ");
        let prompt = if input.required {
            format!("{label}: ")
        } else {
            format!("{label} (empty if there is none): ")
        };
        let typed =
            secret(&prompt, input.field.label(), env).map_err(|view| view.field(input.field))?;
        if !typed.is_empty() {
            provided.set(input.field, typed);
        }
    }
    Ok(provided)
}

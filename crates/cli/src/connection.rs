//! `snowlink connect`, `link`, `unlink` and `status`: the connection engine of
//! `snowlink-core` in a terminal. Secrets are typed at a prompt without echo or read from
//! `SNOWLINK_CLIENT_SECRET`, `SNOWLINK_PASSWORD` and `SNOWLINK_API_KEY`, never from arguments.
//! The sign-in URL is always printed for manual copy, and Ctrl-C cancels a browser sign-in.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde::Serialize;
use snowlink_core::connections::{Connection, ConnectionState, ConnectionStore, GrantKind};
use snowlink_core::engine::{BrowserSignIn, ConnectRequest, Engine, EngineError, ProvidedSecrets};
use snowlink_core::oauth::{
    Browser, BrowserError, CALLBACK_PORTS, DEFAULT_SIGN_IN_WAIT, SystemBrowser,
};
use snowlink_core::secrets::{ApiKey, ClientSecret, KeyringStore, Password};
use snowlink_core::{BrowserUrl, InstanceUrl};

use crate::output::{Failure, fail, print_json, print_line};

/// Exit code for bad usage (a missing flag, a refused confirmation), as clap uses.
const USAGE: u8 = 2;

#[derive(Clone, Copy, ValueEnum)]
pub enum GrantArg {
    AuthCode,
    Password,
    ClientCredentials,
    Basic,
    ApiKey,
}

impl From<GrantArg> for GrantKind {
    fn from(grant: GrantArg) -> Self {
        match grant {
            GrantArg::AuthCode => GrantKind::AuthCode,
            GrantArg::Password => GrantKind::Password,
            GrantArg::ClientCredentials => GrantKind::ClientCredentials,
            GrantArg::Basic => GrantKind::Basic,
            GrantArg::ApiKey => GrantKind::ApiKey,
        }
    }
}

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
}

#[derive(Args)]
pub struct ConnectArgs {
    /// The instance: `acme`, `acme.service-now.com` or its full address.
    #[arg(long)]
    instance: String,
    /// A name for the connection; connecting again with it updates the connection.
    #[arg(long)]
    name: String,
    #[arg(long, value_enum)]
    grant: GrantArg,
    /// The Client ID of the Application Registry record (OAuth grants).
    #[arg(long)]
    client_id: Option<String>,
    /// The ServiceNow user name (password, basic and api-key grants).
    #[arg(long)]
    username: Option<String>,
    /// Save a browser sign-in (auth-code) connection without signing in: end users link their
    /// own accounts later with `snowlink link` or in the app.
    #[arg(long)]
    link_later: bool,
    #[command(flatten)]
    sign_in: SignInArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct LinkArgs {
    /// The connection to link (needed when there are several).
    #[arg(long)]
    connection: Option<String>,
    #[command(flatten)]
    sign_in: SignInArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct UnlinkArgs {
    #[arg(long)]
    connection: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct StatusArgs {
    /// Show the last saved status without contacting the instances.
    #[arg(long)]
    offline: bool,
    #[arg(long)]
    json: bool,
}

pub fn connect(args: ConnectArgs) -> ExitCode {
    let instance = match InstanceUrl::parse(&args.instance) {
        Ok(instance) => instance,
        Err(err) => {
            let failure = Failure {
                code: "invalid_input",
                message: format!("--instance: {err}"),
                hint: err.hint(),
            };
            fail(&failure, args.json);
            return ExitCode::from(USAGE);
        }
    };
    let grant = GrantKind::from(args.grant);
    let provided = match read_secrets(grant) {
        Ok(provided) => provided,
        Err(failure) => return fail(&failure, args.json),
    };
    let request = ConnectRequest {
        name: args.name,
        instance,
        grant,
        client_id: args.client_id,
        username: args.username,
        profile_id: "custom".into(),
    };
    if args.link_later {
        return run(
            args.json,
            |engine| async move { engine.register(request, provided).await },
            |connection| {
                format!(
                    "Saved {} for {}: each user links their own account with `snowlink link`.",
                    connection.display_name, connection.instance
                )
            },
        );
    }
    run(
        args.json,
        |engine| async move {
            let browser = browser(&args.sign_in);
            let sign_in = sign_in(&args.sign_in, browser.as_ref().map(|b| b as &dyn Browser));
            engine.connect(request, provided, &sign_in, ctrl_c()).await
        },
        |connection| describe(connection, "Connected"),
    )
}

pub fn link(args: LinkArgs) -> ExitCode {
    run(
        args.json,
        |engine| async move {
            let browser = browser(&args.sign_in);
            let sign_in = sign_in(&args.sign_in, browser.as_ref().map(|b| b as &dyn Browser));
            engine
                .link(args.connection.as_deref(), &sign_in, ctrl_c())
                .await
        },
        |connection| describe(connection, "Linked"),
    )
}

pub fn unlink(args: UnlinkArgs) -> ExitCode {
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            let failure = Failure {
                code: "invalid_input",
                message: "unlink needs a confirmation and there is no terminal to ask on".into(),
                hint: "Pass --yes to unlink without asking.".into(),
            };
            fail(&failure, args.json);
            return ExitCode::from(USAGE);
        }
        let which = args.connection.as_deref().unwrap_or("the connection");
        if !confirm(&format!(
            "Unlink your ServiceNow account from {which}? Its tokens are revoked and deleted. [y/N] "
        )) {
            eprintln!("Nothing changed.");
            return ExitCode::SUCCESS;
        }
    }
    run(
        args.json,
        |engine| async move {
            let (connection, revoke_error) = engine.unlink(args.connection.as_deref()).await?;
            if let Some(err) = revoke_error {
                eprintln!(
                    "warning: the instance did not confirm the revocation ({err}); the tokens were \
                 deleted from this machine anyway. {}",
                    err.hint()
                );
            }
            Ok(connection)
        },
        |connection| {
            format!(
                "Unlinked {}: its tokens are deleted from the keyring.",
                connection.display_name
            )
        },
    )
}

#[derive(Serialize)]
struct StatusReport {
    connections: Vec<Connection>,
}

pub fn status(args: StatusArgs) -> ExitCode {
    let json = args.json;
    let result = with_engine(|engine| async move {
        let connections = engine.list()?;
        if args.offline {
            return Ok(connections);
        }
        let mut checked = Vec::with_capacity(connections.len());
        for connection in &connections {
            checked.push(engine.check(connection).await?);
        }
        Ok(checked)
    });
    match result {
        Ok(connections) if json => print_json(&StatusReport { connections }),
        Ok(connections) if connections.is_empty() => print_line(
            "No connections yet. Create one with: snowlink connect --instance URL --name NAME --grant …",
        ),
        Ok(connections) => {
            let lines: Vec<String> = connections.iter().map(status_line).collect();
            let code = print_line(&lines.join("\n"));
            let healthy = connections
                .iter()
                .all(|c| c.status.state == ConnectionState::Connected);
            if healthy { code } else { ExitCode::FAILURE }
        }
        Err(err) => report(&err, json),
    }
}

fn status_line(connection: &Connection) -> String {
    let state = match connection.status.state {
        ConnectionState::Connected => "connected",
        ConnectionState::Degraded => "degraded",
        ConnectionState::Disconnected => "disconnected",
        ConnectionState::RelinkNeeded => "re-link needed",
    };
    let mut line = format!(
        "{} ({}): {state}",
        connection.display_name, connection.instance
    );
    if let Some(identity) = &connection.linked_identity {
        line.push_str(&format!(
            "\n  signed in as {} ({})",
            identity.user_name, identity.sys_id
        ));
    }
    if let Some(expires) = connection.status.token_expires_at {
        line.push_str(&format!(
            "\n  token expires {}",
            expires.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if let Some(reason) = &connection.status.reason {
        line.push_str(&format!("\n  {reason}"));
    }
    line
}

fn describe(connection: &Connection, verb: &str) -> String {
    let who = connection
        .linked_identity
        .as_ref()
        .map(|i| format!(" as {} ({})", i.user_name, i.sys_id))
        .unwrap_or_default();
    format!(
        "{verb} {} to {}{who}.",
        connection.display_name, connection.instance
    )
}

/// Runs one engine flow and prints its connection (JSON or `text`) or its failure.
fn run<F, Fut>(json: bool, flow: F, text: impl Fn(&Connection) -> String) -> ExitCode
where
    F: FnOnce(Engine) -> Fut,
    Fut: Future<Output = Result<Connection, EngineError>>,
{
    match with_engine(flow) {
        Ok(connection) if json => print_json(&connection),
        Ok(connection) => print_line(&text(&connection)),
        Err(err) => report(&err, json),
    }
}

fn with_engine<T, F, Fut>(flow: F) -> Result<T, EngineError>
where
    F: FnOnce(Engine) -> Fut,
    Fut: Future<Output = Result<T, EngineError>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            EngineError::Api(snowlink_core::api::ApiError::Network {
                detail: format!("could not start: {err}"),
            })
        })?;
    let store = ConnectionStore::in_config_dir()?;
    runtime.block_on(flow(Engine::new(store, Arc::new(KeyringStore::new()))))
}

fn report(err: &EngineError, json: bool) -> ExitCode {
    let code = match err {
        EngineError::MissingInput { .. } | EngineError::AmbiguousConnection => "invalid_input",
        EngineError::UnknownConnection(_) | EngineError::NoConnections => "not_found",
        EngineError::Secrets(_) => "keyring",
        EngineError::OAuth(_) => "sign_in",
        _ => "instance",
    };
    let failure = Failure {
        code,
        message: err.to_string(),
        hint: err.hint(),
    };
    fail(&failure, json);
    match err {
        EngineError::MissingInput { .. } | EngineError::AmbiguousConnection => {
            ExitCode::from(USAGE)
        }
        _ => ExitCode::FAILURE,
    }
}

fn browser(args: &SignInArgs) -> Option<SystemBrowser> {
    (!args.no_browser).then(SystemBrowser::from_env)
}

fn sign_in<'a>(args: &'a SignInArgs, browser: Option<&'a dyn Browser>) -> BrowserSignIn<'a> {
    BrowserSignIn {
        ports: match &args.port {
            Some(port) => std::slice::from_ref(port),
            None => &CALLBACK_PORTS,
        },
        browser,
        wait: Duration::from_secs(args.wait),
        show_url: &show_url,
    }
}

fn show_url(url: &BrowserUrl, browser_error: Option<&BrowserError>) {
    eprintln!(
        "Sign in to ServiceNow in your browser. If it did not open, open this URL:\n  {}",
        url.as_str()
    );
    if let Some(err) = browser_error {
        eprintln!(
            "  (the browser could not be started: {err}; {})",
            err.hint()
        );
    }
    eprintln!("Waiting for the sign-in to finish (Ctrl-C to cancel)…");
}

async fn ctrl_c() {
    // If the handler cannot be installed, never cancel: the wait's own timeout still applies.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The secrets the grant needs: from the environment, else a prompt without echo when there
/// is a terminal. A missing one is reported by the engine with the field's name.
fn read_secrets(grant: GrantKind) -> Result<ProvidedSecrets, Failure> {
    let mut provided = ProvidedSecrets::default();
    match grant {
        GrantKind::AuthCode => {
            provided.client_secret = secret(
                "SNOWLINK_CLIENT_SECRET",
                "Client secret (empty for a public client with PKCE): ",
            )?
            .map(ClientSecret::new);
        }
        GrantKind::Password => {
            provided.client_secret =
                secret("SNOWLINK_CLIENT_SECRET", "Client secret: ")?.map(ClientSecret::new);
            provided.password =
                secret("SNOWLINK_PASSWORD", "ServiceNow password: ")?.map(Password::new);
        }
        GrantKind::ClientCredentials => {
            provided.client_secret =
                secret("SNOWLINK_CLIENT_SECRET", "Client secret: ")?.map(ClientSecret::new);
        }
        GrantKind::Basic => {
            provided.password =
                secret("SNOWLINK_PASSWORD", "ServiceNow password: ")?.map(Password::new);
        }
        GrantKind::ApiKey => {
            provided.api_key = secret("SNOWLINK_API_KEY", "API key: ")?.map(ApiKey::new);
        }
    }
    Ok(provided)
}

fn secret(env: &str, prompt: &str) -> Result<Option<String>, Failure> {
    if let Ok(value) = std::env::var(env)
        && !value.is_empty()
    {
        return Ok(Some(value));
    }
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let typed = rpassword::prompt_password(prompt).map_err(|err| Failure {
        code: "invalid_input",
        message: format!("could not read the secret from the terminal: {err}"),
        hint: format!("Set {env} instead."),
    })?;
    Ok((!typed.is_empty()).then_some(typed))
}

fn confirm(question: &str) -> bool {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok() && matches!(answer.trim(), "y" | "Y" | "yes")
}

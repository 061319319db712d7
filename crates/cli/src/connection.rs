//! `snowlink connect`, `link`, `unlink`, `remove` and `status`: the connection engine of
//! `snowlink-core` in a terminal. Secrets are typed at a prompt without echo or read from the
//! environment variables the core names, never from arguments. The sign-in URL is always
//! printed for manual copy, and Ctrl-C cancels a browser sign-in.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use clap::builder::PossibleValue;
use clap::{Args, ValueEnum};
use serde::Serialize;
use snowlink_core::connections::{Connection, ConnectionStore, GrantKind, InputField};
use snowlink_core::engine::{
    BrowserSignIn, Changes, ConnectRequest, Engine, EngineError, ProvidedSecrets, TestEvent,
    TestStatus,
};
use snowlink_core::grants::GrantInput;
use snowlink_core::oauth::{
    Browser, BrowserError, CALLBACK_PORTS, DEFAULT_SIGN_IN_WAIT, SystemBrowser,
};
use snowlink_core::secrets::KeyringStore;
use snowlink_core::views::{ConnectionAction, ConnectionView, ErrorView};
use snowlink_core::{BrowserUrl, InstanceUrl};

use crate::output::{USAGE, eprint_line, fail, print_json, print_line};

/// A grant as a flag value; the names and labels come from the core.
#[derive(Clone, Copy)]
pub struct GrantChoice(GrantKind);

static GRANT_CHOICES: LazyLock<Vec<GrantChoice>> =
    LazyLock::new(|| GrantKind::ALL.into_iter().map(GrantChoice).collect());

impl ValueEnum for GrantChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &GRANT_CHOICES
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.as_str()).help(self.0.label()))
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
    /// Also accept the address the browser ended on, pasted here (for a browser that cannot
    /// reach this computer's 127.0.0.1: a remote desktop, WSL, a locked-down browser).
    #[arg(long)]
    paste: bool,
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
    grant: GrantChoice,
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
pub struct RemoveArgs {
    /// The connection to remove.
    #[arg(long)]
    connection: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct EditArgs {
    /// The connection to change.
    #[arg(long)]
    connection: String,
    /// A new name for it.
    #[arg(long)]
    name: Option<String>,
    /// A new Client ID (a browser sign-in connection is unlinked by it).
    #[arg(long)]
    client_id: Option<String>,
    /// A new ServiceNow user name.
    #[arg(long)]
    username: Option<String>,
    /// Replace the stored client secret (typed at a prompt, or from SNOWLINK_CLIENT_SECRET).
    #[arg(long)]
    new_client_secret: bool,
    /// Replace the stored password (typed at a prompt, or from SNOWLINK_PASSWORD).
    #[arg(long)]
    new_password: bool,
    /// Replace the stored API key (typed at a prompt, or from SNOWLINK_API_KEY).
    #[arg(long)]
    new_api_key: bool,
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
        Err(err) => return fail(&EngineError::from(err).view(), args.json),
    };
    let grant = args.grant.0;
    let provided = match read_secrets(grant) {
        Ok(provided) => provided,
        Err(view) => return fail(&view, args.json),
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
    let sign_in = sign_in(&args.sign_in);
    run(
        args.json,
        |engine| async move { engine.connect(request, provided, &sign_in, ctrl_c()).await },
        |connection| describe(connection, "Connected"),
    )
}

/// Changes a connection and tests it live: nothing is kept unless the new settings sign in.
pub fn edit(args: EditArgs) -> ExitCode {
    let rotated = [
        (args.new_client_secret, InputField::ClientSecret),
        (args.new_password, InputField::Password),
        (args.new_api_key, InputField::ApiKey),
    ]
    .into_iter()
    .filter(|(asked, _)| *asked)
    .map(|(_, field)| GrantInput {
        field,
        required: true,
    })
    .collect::<Vec<_>>();
    let fresh = match read_inputs(rotated.iter().copied()) {
        Ok(fresh) => fresh,
        Err(view) => return fail(&view, args.json),
    };
    if let Some(missing) = rotated.iter().find(|input| !fresh.has(input.field)) {
        let field = missing.field;
        let view = ErrorView::new(
            snowlink_core::views::ErrorCode::InvalidInput,
            format!("No new value for {} was given.", field.label()),
            format!(
                "Type it when asked in a terminal, or set {}.",
                field.env_var().unwrap_or_default()
            ),
        )
        .field(field);
        return fail(&view, args.json);
    }
    let changes = Changes {
        name: args.name,
        client_id: args.client_id,
        username: args.username,
    };
    let json = args.json;
    let progress = move |event: TestEvent| {
        let mark = match event.status {
            TestStatus::Done => "✓",
            TestStatus::Failed => "✗",
            TestStatus::Skipped => "–",
            TestStatus::Pending | TestStatus::Running => return,
        };
        if !json {
            let detail = event.detail.map(|d| format!(": {d}")).unwrap_or_default();
            eprint_line(&format!("  {mark} {}{detail}", event.label));
        }
    };
    run(
        json,
        |engine| async move {
            engine
                .edit(&args.connection, changes, fresh, &progress)
                .await
        },
        snowlink_core::views::edited_message,
    )
}

pub fn link(args: LinkArgs) -> ExitCode {
    let sign_in = sign_in(&args.sign_in);
    run(
        args.json,
        |engine| async move {
            engine
                .link(args.connection.as_deref(), &sign_in, ctrl_c())
                .await
        },
        |connection| describe(connection, "Linked"),
    )
}

pub fn unlink(args: UnlinkArgs) -> ExitCode {
    let which = args.connection.as_deref().unwrap_or("the connection");
    if let Some(code) = confirmed(
        args.yes,
        args.json,
        &format!(
            "Unlink your ServiceNow account from {which}? Its tokens are revoked and deleted. [y/N] "
        ),
    ) {
        return code;
    }
    run(
        args.json,
        |engine| async move {
            let (connection, revoke_error) = engine.unlink(args.connection.as_deref()).await?;
            warn_unrevoked(revoke_error);
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

pub fn remove(args: RemoveArgs) -> ExitCode {
    if let Some(code) = confirmed(
        args.yes,
        args.json,
        &format!(
            "Remove the connection {}? Its tokens are revoked and every secret it has is \
             deleted. [y/N] ",
            args.connection
        ),
    ) {
        return code;
    }
    run(
        args.json,
        |engine| async move {
            let (connection, revoke_error) = engine.remove(&args.connection).await?;
            warn_unrevoked(revoke_error);
            Ok(connection)
        },
        snowlink_core::views::removed_message,
    )
}

fn warn_unrevoked(revoke_error: Option<snowlink_core::oauth::OAuthError>) {
    if let Some(err) = revoke_error {
        eprint_line(&format!(
            "warning: {}",
            snowlink_core::views::unrevoked_warning(&err)
        ));
    }
}

/// `None` to go on; otherwise the exit code: a refusal is no failure, no terminal to ask on is
/// bad usage.
fn confirmed(yes: bool, json: bool, question: &str) -> Option<ExitCode> {
    if yes {
        return None;
    }
    if !std::io::stdin().is_terminal() {
        let view = ErrorView::new(
            snowlink_core::views::ErrorCode::InvalidInput,
            "This needs a confirmation and there is no terminal to ask on.",
            "Pass --yes to go ahead without asking.",
        );
        fail(&view, json);
        return Some(ExitCode::from(USAGE));
    }
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let agreed = std::io::stdin().read_line(&mut answer).is_ok()
        && matches!(answer.trim(), "y" | "Y" | "yes");
    if agreed {
        None
    } else {
        eprint_line("Nothing changed.");
        Some(ExitCode::SUCCESS)
    }
}

#[derive(Serialize)]
struct StatusReport {
    connections: Vec<ConnectionView>,
}

pub fn status(args: StatusArgs) -> ExitCode {
    let json = args.json;
    let result = with_engine(|engine| async move {
        if args.offline {
            return engine.views();
        }
        let mut checked = Vec::new();
        for connection in engine.list()? {
            checked.push(ConnectionView::of(&engine.check(&connection).await?));
        }
        Ok(checked)
    });
    let connections = match result {
        Ok(connections) => connections,
        Err(err) => return fail(&err.view(), json),
    };
    let healthy = connections.iter().all(|c| !c.problem);
    let printed = if json {
        print_json(&StatusReport { connections })
    } else if connections.is_empty() {
        print_line(
            "No connections yet. Create one with: snowlink connect --instance URL --name NAME --grant GRANT",
        )
    } else {
        let lines: Vec<String> = connections.iter().map(status_lines).collect();
        print_line(&lines.join("\n"))
    };
    if printed != ExitCode::SUCCESS || healthy {
        printed
    } else {
        ExitCode::FAILURE
    }
}

fn status_lines(view: &ConnectionView) -> String {
    let mut lines = vec![
        format!("{} ({}): {}", view.name, view.instance, view.badge.label),
        format!("  {}", view.summary),
    ];
    if let Some(identity) = &view.identity {
        lines.push(format!(
            "  account {} (sys_id {})",
            identity.user_name, identity.sys_id
        ));
    }
    if let Some(linked) = &view.linked {
        lines.push(format!("  {} {}", linked.total, linked.label));
    }
    if view.actions.contains(&ConnectionAction::Diagnose) {
        lines.push(format!(
            "  to find out why: snowlink doctor --connection \"{}\"",
            view.name
        ));
    }
    if let Some(expires) = view.token_expires_at {
        lines.push(format!(
            "  token expires {}",
            expires.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if let Some(ends) = view.refresh_token_ends_at {
        lines.push(format!(
            "  refresh token ends {}{}",
            ends.format("%Y-%m-%d %H:%M UTC"),
            view.refresh_token_note
                .as_ref()
                .map(|note| format!(" ({note})"))
                .unwrap_or_default()
        ));
    }
    lines.join("\n")
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
        Ok(connection) if json => print_json(&ConnectionView::of(&connection)),
        Ok(connection) => print_line(&text(&connection)),
        Err(err) => fail(&err.view(), json),
    }
}

fn with_engine<T, F, Fut>(flow: F) -> Result<T, EngineError>
where
    F: FnOnce(Engine) -> Fut,
    Fut: Future<Output = Result<T, EngineError>>,
{
    let store = ConnectionStore::in_config_dir()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            EngineError::Api(
                snowlink_core::http::TransportError::Setup {
                    detail: format!("could not start the async runtime: {err}"),
                }
                .into(),
            )
        })?;
    runtime.block_on(flow(Engine::new(store, Arc::new(KeyringStore::new()))))
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

async fn ctrl_c() {
    // If the handler cannot be installed, never cancel: the wait's own timeout still applies.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The secrets the grant takes (the core's table): from the environment, else a prompt without
/// echo when there is a terminal. A missing required one is reported by the engine by name.
fn read_secrets(grant: GrantKind) -> Result<ProvidedSecrets, ErrorView> {
    read_inputs(grant.inputs().iter().copied())
}

/// The secrets among `inputs`, as [`read_secrets`] reads them.
fn read_inputs(inputs: impl IntoIterator<Item = GrantInput>) -> Result<ProvidedSecrets, ErrorView> {
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
        if !std::io::stdin().is_terminal() {
            continue;
        }
        let label = input.field.label().trim_start_matches("the ");
        let prompt = if input.required {
            format!("{label}: ")
        } else {
            format!("{label} (empty if there is none): ")
        };
        let typed = rpassword::prompt_password(prompt).map_err(|err| {
            ErrorView::new(
                snowlink_core::views::ErrorCode::InvalidInput,
                format!(
                    "Could not read {} from the terminal: {err}",
                    input.field.label()
                ),
                format!("Set {env} instead."),
            )
            .field(input.field)
        })?;
        if !typed.is_empty() {
            provided.set(input.field, typed);
        }
    }
    Ok(provided)
}

//! `snowlink connect`, `edit`, `link`, `unlink`, `remove` and `status`: the connection engine
//! of `snowlink-core` in a terminal; how they sign in and take secrets is [`crate::sign_in`].

use std::process::ExitCode;
use std::sync::{Arc, LazyLock};

use clap::builder::PossibleValue;
use clap::{Args, ValueEnum};
use serde::Serialize;
use snowlink_core::InstanceUrl;
use snowlink_core::connections::{Connection, ConnectionStore};
use snowlink_core::errors::FrontEndError;
use snowlink_core::errors::InputField;
use snowlink_core::flows::{Changes, ConnectRequest, FlowError, Flows, TestEvent, TestStatus};
use snowlink_core::grants::GrantInput;
use snowlink_core::grants::GrantKind;
use snowlink_core::secrets::KeyringStore;
use snowlink_core::views::{ConnectionAction, ConnectionView, signed_in_message, unlinked_message};

use crate::output::{USAGE, eprint_line, fail, print_json, print_line};
use crate::prompt::{agrees, interactive};
use crate::sign_in::{SignInArgs, ctrl_c, read_inputs, read_secrets, sign_in};

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
        Err(err) => return fail(&FlowError::from(err).view(), args.json),
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
            |flows| async move { flows.register(request, provided).await },
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
        |flows| async move { flows.connect(request, provided, &sign_in, ctrl_c()).await },
        |connection| signed_in_message(connection, false),
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
        let view = FrontEndError::NoNewValue {
            label: field.label().to_owned(),
            variable: field.env_var().unwrap_or_default().to_owned(),
        }
        .view()
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
            // A failure's reason is printed once, as the error that follows.
            let detail = event
                .detail
                .filter(|_| event.status != TestStatus::Failed)
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            eprint_line(&format!("  {mark} {}{detail}", event.label));
        }
    };
    run(
        json,
        |flows| async move {
            flows
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
        |flows| async move {
            flows
                .link(args.connection.as_deref(), &sign_in, ctrl_c())
                .await
        },
        |connection| signed_in_message(connection, true),
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
        |flows| async move {
            let (connection, revoke_error) = flows.unlink(args.connection.as_deref()).await?;
            warn_unrevoked(revoke_error);
            Ok(connection)
        },
        unlinked_message,
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
        |flows| async move {
            let (connection, revoke_error) = flows.remove(&args.connection).await?;
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
    if !interactive() {
        fail(&FrontEndError::NoTerminal.view(), json);
        return Some(ExitCode::from(USAGE));
    }
    if agrees(question) {
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
    let result = with_engine(|flows| async move {
        if args.offline {
            return flows.views();
        }
        let mut checked = Vec::new();
        for connection in flows.list()? {
            checked.push(ConnectionView::of(&flows.check(&connection).await?));
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

/// Runs one engine flow and prints its connection (JSON or `text`) or its failure.
fn run<F, Fut>(json: bool, flow: F, text: impl Fn(&Connection) -> String) -> ExitCode
where
    F: FnOnce(Flows) -> Fut,
    Fut: Future<Output = Result<Connection, FlowError>>,
{
    match with_engine(flow) {
        Ok(connection) if json => print_json(&ConnectionView::of(&connection)),
        Ok(connection) => print_line(&text(&connection)),
        Err(err) => fail(&err.view(), json),
    }
}

pub(crate) fn with_engine<T, F, Fut>(flow: F) -> Result<T, FlowError>
where
    F: FnOnce(Flows) -> Fut,
    Fut: Future<Output = Result<T, FlowError>>,
{
    let store = ConnectionStore::in_config_dir()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            FlowError::Api(
                snowlink_core::http::TransportError::Setup {
                    detail: format!("could not start the async runtime: {err}"),
                }
                .into(),
            )
        })?;
    runtime.block_on(flow(Flows::new(store, Arc::new(KeyringStore::new()))))
}

//! `snowlink profiles`, `snowlink setup` and `snowlink update-set`: the setup wizard in a
//! terminal. `setup` walks the integration's steps in the core's order, prints each step's
//! instructions, values and links, takes the inputs (`--input ID=VALUE`, a prompt, or for
//! secrets the environment variable the core names), and verifies each step on the instance
//! before the next. With `--auto` it does what it can for the admin, showing the plan first
//! (`--yes` applies it without asking). The setup is saved after every step: `--resume` goes on
//! where it stopped. Exit 0 when connected, 1 when a step failed, 2 on bad usage.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use snowlink_core::checks::{AdminCredentials, CheckStatus, ENV_ADMIN_USERNAME};
use snowlink_core::connections::ConnectionStore;
use snowlink_core::engine::{BrowserSignIn, Engine, EngineError};
use snowlink_core::profiles::{self, Profile};
use snowlink_core::secrets::{ENV_ADMIN_PASSWORD, KeyringStore, Password, SecretStore};
use snowlink_core::views::{ErrorCode, ErrorView};
use snowlink_core::wizard::run::{Setup, SetupError};
use snowlink_core::wizard::{
    PersonEvent, Plan, PlannedAction, SetupStore, StepView, WizardAction, WizardView,
};

use crate::output::{USAGE, eprint_line, fail, print_json, print_line};
use crate::sign_in::{SignInArgs, sign_in};

#[derive(Args)]
pub struct ProfilesArgs {
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct SetupArgs {
    /// The integration to set up (`snowlink profiles` lists them).
    #[arg(long)]
    profile: String,
    /// The instance: `acme`, `acme.service-now.com` or its full address.
    #[arg(long, required_unless_present = "resume")]
    instance: Option<String>,
    /// Go on with the last unfinished setup of this profile.
    #[arg(long, conflicts_with = "instance")]
    resume: bool,
    /// The connection's name (default: the integration's).
    #[arg(long)]
    name: Option<String>,
    /// A step's input, `ID=VALUE` (repeatable); secrets come from the environment instead.
    #[arg(long = "input", value_name = "ID=VALUE")]
    inputs: Vec<String>,
    /// Do the steps Snowlink can do for you over the REST API, after showing what changes.
    #[arg(long)]
    auto: bool,
    /// Apply `--auto`'s changes without asking.
    #[arg(long, requires = "auto")]
    yes: bool,
    #[command(flatten)]
    sign_in: SignInArgs,
    /// Print the final state of the setup as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct UpdateSetArgs {
    /// The integration whose update set to write.
    #[arg(long)]
    profile: String,
    /// The instance the update set is for (fills its templates).
    #[arg(long)]
    instance: String,
    /// A template input, `ID=VALUE` (repeatable), such as `webhook_url=https://…`.
    #[arg(long = "input", value_name = "ID=VALUE")]
    inputs: Vec<String>,
    /// Where to write the XML.
    #[arg(long, short = 'o', value_name = "FILE.xml")]
    output: PathBuf,
}

fn config_file() -> Result<PathBuf, ErrorView> {
    Ok(ConnectionStore::in_config_dir()
        .map_err(|err| EngineError::from(err).view())?
        .path()
        .to_owned())
}

fn all_profiles() -> Result<Vec<profiles::Loaded>, ErrorView> {
    let folder = profiles::folder(&config_file()?);
    profiles::load_all(Some(&folder))
        .map_err(|err| ErrorView::new(ErrorCode::ConfigError, err.to_string(), err.hint()))
}

fn find_profile(id: &str) -> Result<Profile, ErrorView> {
    all_profiles()?
        .into_iter()
        .map(|l| l.profile)
        .find(|p| p.id == id)
        .ok_or_else(|| SetupError::UnknownProfile(id.to_owned()).view())
}

pub fn list(args: ProfilesArgs) -> ExitCode {
    let loaded = match all_profiles() {
        Ok(loaded) => loaded,
        Err(view) => return fail(&view, args.json),
    };
    let listed: Vec<profiles::ProfileSummary> =
        loaded.iter().map(profiles::ProfileSummary::of).collect();
    if args.json {
        return print_json(&listed);
    }
    let lines: Vec<String> = listed
        .iter()
        .map(|p| {
            format!(
                "{:<24} {} ({}): {}\n{:<24} {} steps, {} of them Snowlink can do; {}; from {}",
                p.id,
                p.name,
                p.vendor,
                p.summary,
                "",
                p.steps,
                p.automated_steps,
                p.grant_label,
                p.origin
            )
        })
        .collect();
    print_line(&lines.join("\n"))
}

/// `ID=VALUE` pairs.
fn parse_inputs(pairs: &[String]) -> Result<Vec<(String, String)>, ErrorView> {
    pairs
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(id, value)| (id.trim().to_owned(), value.to_owned()))
                .ok_or_else(|| {
                    ErrorView::new(
                        ErrorCode::InvalidInput,
                        format!("--input {pair} is not ID=VALUE."),
                        "Write it as --input service_user=integration.bot.",
                    )
                })
        })
        .collect()
}

pub fn update_set(args: UpdateSetArgs) -> ExitCode {
    let result = (|| {
        let profile = find_profile(&args.profile)?;
        let mut state = snowlink_core::wizard::WizardState::new(
            &profile,
            &args.instance,
            snowlink_core::connections::ConnectionId::random_with_prefix("c")
                .map_err(ErrorView::internal)?,
        );
        for (id, value) in parse_inputs(&args.inputs)? {
            state = snowlink_core::wizard::apply(
                &profile,
                &state,
                snowlink_core::wizard::Event::SetInput { id, value },
            )
            .map_err(|err| SetupError::from(err).view())?;
        }
        let xml =
            snowlink_core::wizard::update_set_xml(&profile, &state).map_err(|err| err.view())?;
        snowlink_core::files::atomic_write(&args.output, xml.as_bytes()).map_err(|f| {
            ErrorView::new(
                ErrorCode::ConfigError,
                format!("Could not {} {}: {}", f.action, f.path.display(), f.error),
                "Choose a folder you may write to.",
            )
        })?;
        Ok::<_, ErrorView>(profile)
    })();
    match result {
        Ok(profile) => print_line(&format!(
            "Wrote the update set \"{}\" to {}: import it in System Update Sets > Retrieved \
             Update Sets > Import Update Set from XML, then Preview and Commit it.",
            profile.update_set.as_ref().map_or("", |s| s.name.as_str()),
            args.output.display()
        )),
        Err(view) => fail(&view, false),
    }
}

pub fn run(args: SetupArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(&ErrorView::internal(err), args.json),
    };
    let json = args.json;
    match runtime.block_on(walk(args)) {
        Ok((view, code)) => {
            if json {
                print_json(&view);
            }
            code
        }
        Err(view) => fail(&view, json),
    }
}

fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

/// Reads one line from the terminal (`None` at end of input).
fn ask(prompt: &str) -> Option<String> {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_owned()),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn walk(args: SetupArgs) -> Result<(WizardView, ExitCode), ErrorView> {
    let profile = find_profile(&args.profile)?;
    let store = ConnectionStore::in_config_dir().map_err(|err| EngineError::from(err).view())?;
    let setups = SetupStore::beside(store.path());
    let secrets: Arc<dyn SecretStore> = Arc::new(KeyringStore::new());
    let engine = Engine::new(store, secrets.clone());
    let mut setup = match &args.instance {
        Some(instance) => Setup::start(profile, instance, setups, engine, secrets),
        None => Setup::resume(profile, setups, engine, secrets).await,
    }
    .map_err(|err| err.view())?;
    if let Some(name) = &args.name {
        setup
            .event(PersonEvent::SetConnectionName {
                value: name.clone(),
            })
            .map_err(|err| err.view())?;
    }
    for (id, value) in parse_inputs(&args.inputs)? {
        setup
            .event(PersonEvent::SetInput { id, value })
            .map_err(|err| err.view())?;
    }
    if let Some(admin) = env(ENV_ADMIN_USERNAME)
        .zip(env(ENV_ADMIN_PASSWORD))
        .and_then(|(username, password)| AdminCredentials::given(&username, password))
    {
        setup.set_admin(Some(admin));
    }
    let browser = sign_in(&args.sign_in);
    let view = setup.view();
    print_line(&format!(
        "Setting up {} ({}) on {}: {} steps. The setup is saved after each one; `snowlink setup \
         --profile {} --resume` goes on from where it stops.",
        view.profile_name, view.vendor, view.instance, view.total, view.profile
    ));
    // Each step is tried at most this many times in one run (a person may retry a failed one).
    for _ in 0..200 {
        let view = setup.view();
        if view.done == view.total {
            let summary = match &view.finished {
                Some(_) => {
                    "Set up: the connection is saved and checked; `snowlink status` shows it."
                }
                None => "Every step is done.",
            };
            print_line(summary);
            return Ok((view, ExitCode::SUCCESS));
        }
        let step = view.current.clone();
        if let Some(needed) = &step.locked_by {
            setup
                .event(PersonEvent::Goto {
                    step: needed.clone(),
                })
                .map_err(|err| err.view())?;
            continue;
        }
        let for_me = args.auto && step.actions.contains(&WizardAction::DoItForMe);
        print_step(&view, &step, !for_me);
        if step.actions.contains(&WizardAction::Acknowledge) {
            if interactive() && ask("Press Enter to go on… ").is_none() {
                return Ok((view, ExitCode::from(USAGE)));
            }
            setup
                .event(PersonEvent::Acknowledge)
                .map_err(|err| err.view())?;
            continue;
        }
        if step.asks_admin {
            setup.set_admin(Some(admin_account()?));
        }
        let outcome = if for_me {
            do_it(&mut setup, &browser, args.yes).await?
        } else {
            fill_inputs(&mut setup, &step).await?;
            if interactive() && needs_hands(&step) && ask("Press Enter when it is done… ").is_none()
            {
                return Ok((setup.view(), ExitCode::from(USAGE)));
            }
            setup.verify(&browser, None).await.map(|_| ())
        };
        let after = setup.view();
        report(&after, &step.id, outcome.as_ref().err());
        let passed = after
            .steps
            .iter()
            .any(|s| s.id == step.id && s.status == snowlink_core::wizard::StepStatus::Verified);
        if !passed {
            if interactive() && ask("Press Enter to check again (Ctrl-C stops)… ").is_some() {
                continue;
            }
            eprint_line(&format!(
                "Stopped at \"{}\". Fix it, then run `snowlink setup --profile {} --resume`.",
                step.title, after.profile
            ));
            return Ok((after, ExitCode::FAILURE));
        }
    }
    Err(ErrorView::new(
        ErrorCode::Internal,
        "The setup did not finish.",
        "Run it again with --resume.",
    ))
}

/// Whether the admin does something on the instance before this step is checked.
fn needs_hands(step: &StepView) -> bool {
    !matches!(
        step.kind,
        snowlink_core::profiles::StepKind::Instance
            | snowlink_core::profiles::StepKind::Prerequisites
            | snowlink_core::profiles::StepKind::Connect
    )
}

/// The step's heading and, when the admin does it (`instructions`), what to do.
fn print_step(view: &WizardView, step: &StepView, instructions: bool) {
    let mut lines = vec![
        String::new(),
        format!("[{}/{}] {}", step.number, view.total, step.title),
    ];
    if !instructions {
        print_line(&lines.join("\n"));
        return;
    }
    if let Some(menu) = &step.menu {
        lines.push(format!("  Where: {menu}"));
    }
    lines.extend(step.instructions.lines().map(|l| format!("  {l}")));
    for value in &step.values {
        lines.push(format!("  {}: {}", value.label, value.value));
    }
    for link in &step.links {
        lines.push(format!("  {}: {}", link.label, link.url));
    }
    print_line(&lines.join("\n"));
}

/// The admin account: from the environment, else asked for.
fn admin_account() -> Result<AdminCredentials, ErrorView> {
    let missing = || SetupError::NeedsAdmin("This step".into()).view();
    let username = match env(ENV_ADMIN_USERNAME) {
        Some(name) => name,
        None if interactive() => ask("Admin user name: ")
            .filter(|n| !n.is_empty())
            .ok_or_else(missing)?,
        None => return Err(missing()),
    };
    let password = match env(ENV_ADMIN_PASSWORD) {
        Some(password) => password,
        None if interactive() => rpassword::prompt_password("Admin password: ")
            .ok()
            .filter(|p| !p.is_empty())
            .ok_or_else(missing)?,
        None => return Err(missing()),
    };
    Ok(AdminCredentials {
        username,
        password: Password::new(password),
    })
}

/// Asks for the step's inputs not given yet: a typed value (the default kept on Enter), a
/// secret from its environment variable or a prompt without echo.
async fn fill_inputs(setup: &mut Setup, step: &StepView) -> Result<(), ErrorView> {
    for input in step.inputs.iter().filter(|i| !i.given || !i.secret) {
        if input.secret {
            let var = input.env_var.clone().unwrap_or_default();
            let value = match env(&var) {
                Some(value) => value,
                None if interactive() => rpassword::prompt_password(format!("{}: ", input.label))
                    .map_err(|err| {
                    ErrorView::new(
                        ErrorCode::InvalidInput,
                        format!("Could not read {} from the terminal: {err}", input.label),
                        format!("Set {var} instead."),
                    )
                })?,
                None if !input.required => continue,
                None => {
                    return Err(ErrorView::new(
                        ErrorCode::InvalidInput,
                        format!("{} is needed on \"{}\".", input.label, step.title),
                        format!("Set {var}, or run the setup in a terminal to type it."),
                    ));
                }
            };
            if value.is_empty() {
                continue;
            }
            setup
                .give_secret(&input.id, value)
                .await
                .map_err(|err| err.view())?;
        } else if interactive() && !input.given {
            let shown = input.value.clone().unwrap_or_default();
            let typed = ask(&format!("{} [{shown}]: ", input.label)).unwrap_or_default();
            if !typed.is_empty() {
                setup
                    .event(PersonEvent::SetInput {
                        id: input.id.clone(),
                        value: typed,
                    })
                    .map_err(|err| err.view())?;
            }
        }
    }
    Ok(())
}

async fn do_it(
    setup: &mut Setup,
    browser: &BrowserSignIn,
    yes: bool,
) -> Result<Result<(), SetupError>, ErrorView> {
    let plan = setup.plan().await.map_err(|err| err.view())?;
    print_line(&plan_text(&plan));
    if !plan.is_empty() && !yes {
        if !interactive() {
            return Err(ErrorView::new(
                ErrorCode::InvalidInput,
                "Applying these changes needs your confirmation.",
                "Pass --yes to apply them, or run the setup in a terminal.",
            ));
        }
        let answer = ask("Apply these changes? [y/N] ").unwrap_or_default();
        if !answer.trim().eq_ignore_ascii_case("y") {
            return Err(ErrorView::new(
                ErrorCode::InvalidInput,
                "Nothing was changed.",
                "Do the step by hand (run without --auto), or answer y.",
            ));
        }
    }
    Ok(setup.do_it(browser, None).await.map(|_| ()))
}

fn plan_text(plan: &Plan) -> String {
    let lines: Vec<String> = plan
        .changes
        .iter()
        .map(|c| {
            let verb = match c.action {
                PlannedAction::Create => "create",
                PlannedAction::Update => "update",
                PlannedAction::Keep => "keep  ",
            };
            format!("  {verb} {} ({})", c.what, c.table)
        })
        .collect();
    format!("  Snowlink will:\n{}", lines.join("\n"))
}

/// The step's verification: ✓ or ✗ and the message, and under a failure what to do.
fn report(view: &WizardView, step_id: &str, error: Option<&SetupError>) {
    let step = (view.current.id == step_id)
        .then_some(&view.current)
        .and_then(|s| s.last.as_ref());
    let record = view.steps.iter().find(|s| s.id == step_id);
    let passed = record.is_some_and(|s| s.status == snowlink_core::wizard::StepStatus::Verified);
    let mut lines = Vec::new();
    if passed {
        lines.push(format!(
            "  ✓ {}",
            record.map(|s| s.title.as_str()).unwrap_or_default()
        ));
    } else if let Some(last) = step {
        lines.push(format!("  ✗ {}", last.message));
        for check in last.checks.iter().filter(|c| c.status == CheckStatus::Fail) {
            if let Some(fix) = check.remedy_admin.as_ref().or(check.remedy_user.as_ref()) {
                lines.push(format!("    fix: {fix}"));
            }
            for link in &check.links {
                lines.push(format!("    {}: {}", link.label, link.url));
            }
        }
    }
    if let Some(err) = error {
        let view = err.view();
        lines.push(format!("    fix: {}", view.hint));
    }
    print_line(&lines.join("\n"));
}

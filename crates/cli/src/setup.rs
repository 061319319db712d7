//! `snowlink setup`: the setup wizard in a terminal. `setup` walks the integration's steps in the core's order, prints each step's
//! instructions, values and links, takes the inputs (`--input ID=VALUE`, a prompt, or for
//! secrets the environment variable the core names), and verifies each step on the instance
//! before the next. With `--auto` it does what it can for the admin, showing the plan first
//! (`--yes` applies it without asking). The setup is saved after every step: `--resume` goes on
//! where it stopped. Exit 0 when connected, 1 when a step failed, 2 on bad usage.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use snowlink_core::checks::{AdminSignIn, RunOptions, read_ca_file};
use snowlink_core::connections::ConnectionStore;
use snowlink_core::errors::{ErrorView, FrontEndError};
use snowlink_core::flows::{BrowserSignIn, FlowError, Flows};
use snowlink_core::profiles::Catalog;
use snowlink_core::profiles::StepKind;
use snowlink_core::profiles::admin_access::{CLIENT_ID_INPUT, CLIENT_SECRET_INPUT};
use snowlink_core::secrets::{KeyringStore, SecretStore};
use snowlink_core::wizard::run::{Opening, Setup, SetupError};
use snowlink_core::wizard::{
    PersonEvent, Plan, SetupStore, StepView, Watch, WizardAction, WizardView,
};

use crate::admin::{AdminArgs, basic_account};
use crate::output::{USAGE, eprint_line, fail, print_json, print_line};
use crate::profiles::warn_problems;
use crate::prompt::{agrees, ask, env, interactive, secret};
use crate::sign_in::{SignInArgs, sign_in};
use crate::update_set::parse_inputs;

#[derive(Args)]
#[command(group(clap::ArgGroup::new("doing").args(["auto", "undo"])))]
pub struct SetupArgs {
    /// The integration to set up (`snowlink profiles` lists them).
    #[arg(long)]
    profile: String,
    /// The instance: `acme`, `acme.service-now.com` or its full address.
    #[arg(long, required_unless_present_any = ["resume", "undo"])]
    instance: Option<String>,
    /// Go on with the last unfinished setup of this profile.
    #[arg(long, conflicts_with = "instance")]
    resume: bool,
    /// Undo what Snowlink did on the instance in the last setup of this profile: delete what
    /// it created and put back what it changed, after showing the plan.
    #[arg(long, conflicts_with_all = ["instance", "resume"])]
    undo: bool,
    /// The connection's name (default: the integration's).
    #[arg(long)]
    name: Option<String>,
    /// A step's input, `ID=VALUE` (repeatable); secrets come from the environment instead.
    #[arg(long = "input", value_name = "ID=VALUE")]
    inputs: Vec<String>,
    /// Do the steps Snowlink can do for you over the REST API, after showing what changes.
    #[arg(long)]
    auto: bool,
    /// Apply `--auto`'s or `--undo`'s changes without asking.
    #[arg(long, requires = "doing")]
    yes: bool,
    /// Trust this CA certificate (PEM) too when checking the steps, such as a TLS-inspecting
    /// proxy's.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    #[command(flatten)]
    sign_in: SignInArgs,
    #[command(flatten)]
    admin: AdminArgs,
    /// Print the final state of the setup as JSON.
    #[arg(long)]
    json: bool,
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

async fn walk(args: SetupArgs) -> Result<(WizardView, ExitCode), ErrorView> {
    let store = ConnectionStore::in_config_dir().map_err(|err| FlowError::from(err).view())?;
    let catalog = Catalog::beside(store.path());
    warn_problems(&catalog);
    let setups = SetupStore::beside(store.path());
    let secrets: Arc<dyn SecretStore> = Arc::new(KeyringStore::new());
    let flows = Flows::new(store, secrets.clone());
    let opening = Opening {
        profile: args.profile.clone(),
        instance: args.instance.clone(),
        name: args.name.clone(),
        inputs: parse_inputs(&args.inputs)?,
    };
    let mut setup = Setup::open(&catalog, opening, setups, flows, secrets)
        .await
        .map_err(|err| err.view())?;
    if let Some(path) = &args.ca_file {
        let ca_pem = read_ca_file(path).map_err(|err| err.view())?;
        setup.set_options(RunOptions {
            ca_pem: Some(ca_pem),
            ..RunOptions::default()
        });
    }
    setup.set_watch(watch_on_stderr());
    let browser = sign_in(&args.sign_in);
    match args.admin.sign_in()? {
        AdminSignIn::Basic(admin) => setup.set_admin(Some(admin)),
        // Kept on "Let Snowlink in"; the browser opens when a step first needs the admin.
        AdminSignIn::Browser {
            client_id,
            client_secret,
        } => {
            setup
                .event(PersonEvent::SetInput {
                    id: CLIENT_ID_INPUT.into(),
                    value: client_id,
                })
                .map_err(|err| err.view())?;
            if let Some(secret) = client_secret {
                setup
                    .give_secret(CLIENT_SECRET_INPUT, secret.expose().to_owned())
                    .await
                    .map_err(|err| err.view())?;
            }
        }
        AdminSignIn::None => {}
    }
    let view = setup.view();
    if let Some(notice) = &view.notice {
        eprint_line(&format!("warning: {notice}"));
    }
    if args.undo {
        return undo(&mut setup, &browser, &args).await;
    }
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
            if step.kind == StepKind::AdminAccess && !setup.knows_admin_app() {
                fill_inputs(&mut setup, &step).await?;
            }
            sign_in_admin(&mut setup, &browser, args.admin.remember_admin).await?;
        }
        let outcome = if for_me {
            do_it(&mut setup, &browser, args.yes).await?
        } else {
            fill_inputs(&mut setup, &step).await?;
            if interactive() && step.by_hand && ask("Press Enter when it is done… ").is_none() {
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
    Err(FrontEndError::Unfinished.view())
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

/// Asks for the step's inputs not given yet: a typed value (the default kept on Enter), a
/// secret from its environment variable or a prompt without echo; the core takes them all.
async fn fill_inputs(setup: &mut Setup, step: &StepView) -> Result<(), ErrorView> {
    let mut typed = std::collections::BTreeMap::new();
    for input in step.inputs.iter().filter(|i| !i.given || !i.secret) {
        if input.secret {
            let variable = input.env_var.clone().unwrap_or_default();
            let value = match env(&variable) {
                Some(value) => value,
                None if interactive() => {
                    secret(&format!("{}: ", input.label), &input.label, &variable)?
                }
                None if !input.required => continue,
                None => {
                    return Err(FrontEndError::InputNeeded {
                        label: input.label.clone(),
                        step: step.title.clone(),
                        variable,
                    }
                    .view());
                }
            };
            typed.insert(input.id.clone(), value);
        } else if interactive() && !input.given {
            let shown = input.value.clone().unwrap_or_default();
            let answer = ask(&format!("{} [{shown}]: ", input.label)).unwrap_or_default();
            if !answer.is_empty() {
                typed.insert(input.id.clone(), answer);
            }
        }
    }
    setup.give(typed).await.map_err(|err| err.view())?;
    Ok(())
}

/// What "Do it for me" waits for on the instance, on standard error: each new wait, then a
/// line every half minute while it lasts (Ctrl-C stops waiting; the instance goes on).
fn watch_on_stderr() -> Watch {
    let last = std::sync::Mutex::new((String::new(), std::time::Instant::now()));
    Watch {
        activity: Some(Arc::new(move |text: &str| {
            let Ok(mut last) = last.lock() else {
                return;
            };
            let what = text.split(':').next().unwrap_or(text).to_owned();
            if what != last.0 || last.1.elapsed() >= std::time::Duration::from_secs(30) {
                eprint_line(&format!("  {text}"));
                *last = (what, std::time::Instant::now());
            }
        })),
        ..Watch::default()
    }
}

/// Signs the admin in: through the browser with Snowlink's application when its Client ID is
/// known, else with a user name and password.
async fn sign_in_admin(
    setup: &mut Setup,
    browser: &BrowserSignIn,
    remember: bool,
) -> Result<(), ErrorView> {
    if setup.knows_admin_app() {
        print_line(if setup.remembers_admin() {
            "  Signing you in with the remembered admin sign-in…"
        } else {
            "  Signing you in through the browser with Snowlink's application…"
        });
        setup
            .sign_in_admin(browser, remember)
            .await
            .map_err(|err| err.view())?;
        if let Some(notice) = setup.view().notice {
            print_line(&format!("  {notice}"));
        }
        Ok(())
    } else {
        setup.set_admin(Some(basic_account()?));
        Ok(())
    }
}

async fn do_it(
    setup: &mut Setup,
    browser: &BrowserSignIn,
    yes: bool,
) -> Result<Result<(), SetupError>, ErrorView> {
    let plan = setup.plan().await.map_err(|err| err.view())?;
    print_line(&plan_text(&plan));
    agreed(&plan, yes)?;
    Ok(setup.do_it(browser, None).await.map(|_| ()))
}

/// Whether the plan may be applied: it changes nothing, `--yes` was given, or the person
/// agrees at the terminal.
fn agreed(plan: &Plan, yes: bool) -> Result<(), ErrorView> {
    if plan.changes_anything && !yes {
        if !interactive() {
            return Err(FrontEndError::NoTerminal.view());
        }
        if !agrees("Apply these changes? [y/N] ") {
            return Err(FrontEndError::Declined.view());
        }
    }
    Ok(())
}

/// `--undo`: the plan, then what Snowlink did taken back and read back.
async fn undo(
    setup: &mut Setup,
    browser: &BrowserSignIn,
    args: &SetupArgs,
) -> Result<(WizardView, ExitCode), ErrorView> {
    let yes = args.yes;
    sign_in_admin(setup, browser, args.admin.remember_admin).await?;
    let plan = setup.plan_undo().await.map_err(|err| err.view())?;
    if plan.is_empty() {
        print_line("Nothing Snowlink did is left on the instance to undo.");
        return Ok((setup.view(), ExitCode::SUCCESS));
    }
    print_line(&plan_text(&plan));
    agreed(&plan, yes)?;
    setup.undo().await.map_err(|err| err.view())?;
    let view = setup.view();
    print_line(&format!(
        "Undone, and read back: what Snowlink created is deleted and what it changed is as it \
         was. `snowlink setup --profile {} --resume` sets it up again.",
        view.profile
    ));
    Ok((view, ExitCode::SUCCESS))
}

fn plan_text(plan: &Plan) -> String {
    let lines: Vec<String> = plan
        .changes
        .iter()
        .map(|c| format!("  {:<6} {} ({})", c.label, c.what, c.table))
        .collect();
    let mut text = format!("  Snowlink will:\n{}", lines.join("\n"));
    if let Some(hand) = &plan.hand {
        text.push_str(&format!("\n  Needs your hand in the browser: {hand}"));
    }
    if let Some(lands) = &plan.lands {
        text.push_str(&format!("\n  {lands}"));
    }
    text
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
        for check in last.checks.iter().filter(|c| c.expanded) {
            if let Some(fix) = check.remedy_admin.as_ref().or(check.remedy_user.as_ref()) {
                lines.push(format!("    fix: {fix}"));
            }
            for link in &check.links {
                lines.push(format!("    {}: {}", link.label, link.url));
            }
        }
    }
    // A failure the step recorded carries its fix already.
    if let (Some(err), None) = (error, step) {
        let view = err.view();
        lines.push(format!("  ✗ {}", view.message));
        lines.push(format!("    fix: {}", view.hint));
    }
    print_line(&lines.join("\n"));
}

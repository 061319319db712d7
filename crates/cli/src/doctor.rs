//! `snowlink doctor`: the layered diagnosis of a connection for a support engineer in a
//! terminal — a saved connection (its secrets from the keyring), or an instance with the
//! sign-in given in the environment (`SNOWLINK_GRANT` and its variables, optionally
//! `SNOWLINK_ADMIN_USERNAME` / `SNOWLINK_ADMIN_PASSWORD`). One line per check with ✓ ! ✗ –, the
//! fixes under each failure, a closing summary; `--json` for scripts; `--bundle` writes the
//! redacted support bundle. Exit 0 when nothing failed, 1 when something did, 2 on bad usage.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde::Serialize;
use snowlink_core::InstanceUrl;
use snowlink_core::bundle::{self, BundleContents};
use snowlink_core::checks::{
    AdminCredentials, AdminSignIn, CheckId, CheckStatus, Report, RunOptions, Target,
};
use snowlink_core::connections::ConnectionStore;
use snowlink_core::errors::ErrorView;
use snowlink_core::flows::{AdminApp, FlowError, Flows};
use snowlink_core::http::HttpLog;
use snowlink_core::profiles::Catalog;
use snowlink_core::secrets::{KeyringStore, SecretStore};

use crate::admin::AdminArgs;
use crate::output::{eprint_line, fail, next_step, print_json, print_line, print_prepared};
use crate::sign_in::{SignInArgs, ctrl_c, sign_in};

#[derive(Args)]
pub struct DoctorArgs {
    /// The saved connection to diagnose (needed when there are several).
    #[arg(long, conflicts_with_all = ["instance", "all"])]
    connection: Option<String>,
    /// An instance to diagnose with the sign-in given in the environment.
    #[arg(long, conflicts_with = "all")]
    instance: Option<String>,
    /// Every saved connection.
    #[arg(long)]
    all: bool,
    /// The integration profile whose expectations to check.
    #[arg(long)]
    profile: Option<String>,
    /// Run only this check (and what it needs); repeatable. See --list-checks.
    #[arg(long = "check", value_name = "ID")]
    checks: Vec<String>,
    /// List the checks and exit.
    #[arg(long)]
    list_checks: bool,
    /// Each check's timeout, in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Trust this CA certificate (PEM) too, such as a TLS-inspecting proxy's.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Write a redacted support bundle (zip) to FILE.
    #[arg(long, value_name = "FILE.zip")]
    bundle: Option<PathBuf>,
    #[command(flatten)]
    admin: AdminArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Listed {
    id: &'static str,
    title: &'static str,
    needs: Vec<&'static str>,
}

pub fn run(args: DoctorArgs) -> ExitCode {
    if args.list_checks {
        return list_checks(args.json);
    }
    let only = match parse_checks(&args.checks) {
        Ok(only) => only,
        Err(view) => return fail(&view, args.json),
    };
    let ca_pem = match &args.ca_file {
        Some(path) => match snowlink_core::checks::read_ca_file(path) {
            Ok(pem) => Some(pem),
            Err(err) => return fail(&err.view(), args.json),
        },
        None => None,
    };
    let check_timeout = Duration::from_secs(args.timeout.max(1));
    let options = RunOptions {
        only,
        check_timeout,
        // A run may wait on a few chained checks; never on every one in turn.
        deadline: (check_timeout * 4).max(Duration::from_secs(30)),
        ca_pem,
        ..RunOptions::default()
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(&ErrorView::internal(err), args.json),
    };
    runtime.block_on(diagnose(args, options))
}

async fn diagnose(args: DoctorArgs, options: RunOptions) -> ExitCode {
    let json = args.json;
    let vars = |name: &str| std::env::var(name).ok();
    let secrets: Arc<dyn SecretStore> = Arc::new(KeyringStore::new());
    let targets = match targets(&args, &vars, secrets.clone()).await {
        Ok(targets) => targets,
        Err(view) => return fail(&view, json),
    };
    let targets = match with_admin(targets, &args.admin, secrets).await {
        Ok(targets) => targets,
        Err(view) => return fail(&view, json),
    };
    let many = targets.len() > 1 || args.all;
    let runs = snowlink_core::checks::run_all(targets.clone(), &options).await;
    let reports: Vec<(Report, Target, HttpLog)> = runs
        .into_iter()
        .zip(targets)
        .map(|((report, log), target)| (report, target, log))
        .collect();
    if let Some(path) = &args.bundle
        && let Some((report, target, log)) = reports.first()
    {
        let contents = BundleContents {
            report,
            connection: target.connection.as_ref(),
            exchanges: &log.exchanges(),
            made_by: "snowlink",
        };
        if let Err(err) = bundle::write(path, &contents) {
            let view = err.view();
            return fail(&view, json);
        }
    }
    let failed = reports.iter().any(|(report, ..)| report.has_failures());
    let printed = if json && many {
        let reports: Vec<&Report> = reports.iter().map(|(r, ..)| r).collect();
        print_json(&serde_json::json!({ "connections": reports }))
    } else if json {
        print_json(&reports[0].0)
    } else {
        let color = std::io::stdout().is_terminal();
        let text: Vec<String> = reports
            .iter()
            .map(|(report, target, _)| render(report, target, color))
            .collect();
        let mut code = print_prepared(&text.join("\n\n"));
        if let Some(path) = &args.bundle {
            code = print_line(&format!("Support bundle written to {}.", path.display()));
        }
        code
    };
    if printed != ExitCode::SUCCESS {
        return printed;
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// What to diagnose: `--instance`, `--all`, `--connection`, or the only saved connection.
async fn targets(
    args: &DoctorArgs,
    vars: &dyn Fn(&str) -> Option<String>,
    secrets: Arc<dyn SecretStore>,
) -> Result<Vec<Target>, ErrorView> {
    let store = ConnectionStore::in_config_dir().map_err(|err| FlowError::from(err).view())?;
    let catalog = Catalog::beside(store.path());
    let profile = args.profile.clone();
    if let Some(id) = &profile
        && let Err(err) = catalog.get(id)
    {
        return Err(err.view());
    }
    let finish = |target: Target| match &profile {
        Some(profile) => target.expect_profile(&catalog, profile),
        None => target,
    };
    if let Some(instance) = &args.instance {
        let target = Target::of_instance(instance, vars).map_err(|err| err.view())?;
        return Ok(vec![finish(target)]);
    }
    let flows = Flows::new(store, secrets.clone());
    let connections = if args.all {
        flows.list().map_err(|err| err.view())?
    } else {
        vec![
            flows
                .find(args.connection.as_deref())
                .map_err(|err| err.view())?,
        ]
    };
    if connections.is_empty() {
        return Err(FlowError::NoConnections.view());
    }
    let mut targets = Vec::new();
    for connection in &connections {
        let target = flows
            .diagnosis_target(connection)
            .await
            .map_err(|err| err.view())?;
        targets.push(finish(target));
    }
    Ok(targets)
}

/// The targets with the admin the flag and the environment give: Basic auth as given, or
/// signed in once per instance (through the browser, or with the sign-in remembered there).
async fn with_admin(
    mut targets: Vec<Target>,
    admin: &AdminArgs,
    secrets: Arc<dyn SecretStore>,
) -> Result<Vec<Target>, ErrorView> {
    match admin.sign_in()? {
        AdminSignIn::None => {}
        AdminSignIn::Basic(account) => {
            for target in &mut targets {
                target.admin = Some(account.clone());
            }
        }
        AdminSignIn::Browser {
            client_id,
            client_secret,
        } => {
            let browser = sign_in(&SignInArgs::default());
            let store =
                ConnectionStore::in_config_dir().map_err(|err| FlowError::from(err).view())?;
            let flows = Flows::new(store, secrets);
            let mut signed_in: Vec<(InstanceUrl, AdminCredentials)> = Vec::new();
            for target in &mut targets {
                let instance =
                    InstanceUrl::parse(&target.typed).map_err(|err| FlowError::from(err).view())?;
                if let Some((_, account)) = signed_in.iter().find(|(i, _)| *i == instance) {
                    target.admin = Some(account.clone());
                    continue;
                }
                let session = flows
                    .admin_sign_in(
                        &instance,
                        AdminApp {
                            client_id: client_id.clone(),
                            client_secret: client_secret.clone(),
                        },
                        admin.remember_admin,
                        &browser,
                        ctrl_c(),
                    )
                    .await
                    .map_err(|err| err.view())?;
                if let Some(notice) = session.notice() {
                    eprint_line(&notice);
                }
                let account = session.credentials;
                target.admin = Some(account.clone());
                signed_in.push((instance, account));
            }
        }
    }
    Ok(targets)
}

fn parse_checks(names: &[String]) -> Result<Vec<CheckId>, ErrorView> {
    names
        .iter()
        .map(|name| CheckId::named(name).map_err(|err| err.view()))
        .collect()
}

fn list_checks(json: bool) -> ExitCode {
    let listed: Vec<Listed> = CheckId::ALL
        .iter()
        .map(|id| Listed {
            id: id.as_str(),
            title: id.title(),
            needs: id.prerequisites().iter().map(|p| p.as_str()).collect(),
        })
        .collect();
    if json {
        return print_json(&listed);
    }
    let lines: Vec<String> = listed
        .iter()
        .map(|c| {
            let needs = if c.needs.is_empty() {
                String::new()
            } else {
                format!("  (after {})", c.needs.join(", "))
            };
            format!("{:<20} {}{needs}", c.id, c.title)
        })
        .collect();
    print_line(&lines.join("\n"))
}

/// The tree a person reads (the core's text, with colored marks on a terminal).
fn render(report: &Report, target: &Target, color: bool) -> String {
    let what = match &target.connection {
        Some(connection) => format!(" (connection \"{}\")", connection.display_name),
        None => String::new(),
    };
    let heading = format!(
        "Diagnosing {}{what}, profile {}",
        report.instance, report.profile
    );
    if color {
        report.to_text(&heading, &colored_mark, &next_step)
    } else {
        report.to_text(&heading, &snowlink_core::checks::plain_mark, &next_step)
    }
}

/// The status mark in color. The escape sequences are ours, around the mark only; everything
/// from the instance was made terminal-safe by the core.
fn colored_mark(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "\u{1b}[32m✓\u{1b}[0m",
        CheckStatus::Warn => "\u{1b}[33m!\u{1b}[0m",
        CheckStatus::Fail => "\u{1b}[31m✗\u{1b}[0m",
        CheckStatus::Skip => "\u{1b}[2m–\u{1b}[0m",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_check_names_list_the_known_ones() {
        let err = parse_checks(&["dns".into()]).unwrap_err();
        assert!(err.hint.contains("dns.resolve"), "{}", err.hint);
        assert_eq!(
            parse_checks(&["tls.handshake".into()]).unwrap(),
            vec![CheckId::TlsHandshake]
        );
    }
}

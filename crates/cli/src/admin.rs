//! How the admin signs in for `setup` and `doctor`: `--admin browser` (or
//! `SNOWLINK_ADMIN_GRANT=auth-code`) through the browser with Snowlink's own OAuth application
//! (`SNOWLINK_ADMIN_CLIENT_ID`, and `SNOWLINK_ADMIN_CLIENT_SECRET` for one with a secret), or
//! Basic auth (`SNOWLINK_ADMIN_USERNAME` / `SNOWLINK_ADMIN_PASSWORD`, or asked with the
//! one-time code of an MFA account). The core reads the environment; this only asks.

use clap::{Args, ValueEnum};
use snowlink_core::checks::{AdminCredentials, AdminSignIn};
use snowlink_core::env::{ADMIN_PASSWORD, ADMIN_USERNAME};
use snowlink_core::errors::ErrorView;
use snowlink_core::grants::GrantKind;
use snowlink_core::wizard::run::SetupError;

use crate::prompt::{ask, env, interactive, secret};

#[derive(Args, Default)]
pub struct AdminArgs {
    /// How the admin signs in: `browser` (Snowlink's own OAuth application; SSO and MFA work)
    /// or `basic` (a user name and password).
    #[arg(long, value_enum, value_name = "HOW")]
    admin: Option<AdminWay>,
    /// Remember the admin's browser sign-in in the OS keyring for the next time (only for
    /// Snowlink's application with a client secret; a public client gets no refresh token).
    /// Listed and forgotten with `snowlink admin`.
    #[arg(long)]
    pub remember_admin: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum AdminWay {
    Browser,
    Basic,
}

impl AdminArgs {
    /// The sign-in the flag and the environment ask for.
    pub fn sign_in(&self) -> Result<AdminSignIn, ErrorView> {
        let chosen = self.admin.map(|way| match way {
            AdminWay::Browser => GrantKind::AuthCode,
            AdminWay::Basic => GrantKind::Basic,
        });
        AdminSignIn::from_env(&|name| env(name), chosen).map_err(|err| err.view())
    }
}

/// The admin's Basic auth account, from the environment, else asked for (with the one-time
/// code of an MFA account, appended to the password as ServiceNow takes it).
pub fn basic_account() -> Result<AdminCredentials, ErrorView> {
    let missing = || SetupError::NeedsAdmin("This step".into()).view();
    let username = match env(ADMIN_USERNAME) {
        Some(name) => name,
        None if interactive() => ask("Admin user name: ")
            .filter(|n| !n.is_empty())
            .ok_or_else(missing)?,
        None => return Err(missing()),
    };
    let (password, code) = match env(ADMIN_PASSWORD) {
        Some(password) => (password, String::new()),
        None if interactive() => (
            secret("Admin password: ", "the admin password", ADMIN_PASSWORD)
                .ok()
                .filter(|p| !p.is_empty())
                .ok_or_else(missing)?,
            ask("One-time code, if your account uses MFA (Enter if not): ").unwrap_or_default(),
        ),
        None => return Err(missing()),
    };
    AdminCredentials::with_code(&username, password, &code).ok_or_else(missing)
}

/// `snowlink admin`: the admin sign-ins remembered on this computer.
#[derive(clap::Subcommand)]
pub enum AdminCommand {
    /// List the remembered admin sign-ins (no secret is shown).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Forget the admin sign-in remembered for an instance: the instance is asked to revoke its
    /// token, and its keyring entries are deleted.
    Forget {
        /// The instance, as typed or as listed.
        instance: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: AdminCommand) -> std::process::ExitCode {
    use crate::connection::with_engine;
    use crate::output::{fail, print_json, print_line};
    match command {
        AdminCommand::List { json } => {
            match with_engine(|flows| async move { flows.remembered_admins() }) {
                Ok(known) if json => print_json(&serde_json::json!({ "admin_sign_ins": known })),
                Ok(known) if known.is_empty() => print_line(
                    "No admin sign-in is remembered. setup and doctor remember one with \
                 --remember-admin.",
                ),
                Ok(known) => print_line(
                    &known
                        .iter()
                        .map(|k| k.summary.clone())
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                Err(err) => fail(&err.view(), json),
            }
        }
        AdminCommand::Forget { instance, json } => {
            match with_engine(|flows| async move { flows.forget_admin(&instance).await }) {
                Ok(forgotten) if json => print_json(&forgotten),
                Ok(forgotten) => print_line(&forgotten.message),
                Err(err) => fail(&err.view(), json),
            }
        }
    }
}

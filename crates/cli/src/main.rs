//! `snowlink`: the terminal face of Snowlink for support engineers and scripts. Every command
//! is a thin layer over `snowlink-core`; exit code 0 on success, 1 on a failure, 2 on bad usage.

mod admin;
mod connection;
mod doctor;
mod instance;
mod output;
mod profiles;
mod prompt;
mod setup;
mod sign_in;
mod sim;
mod update_set;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "snowlink",
    version,
    about = "Connect tools to ServiceNow, prove it works, keep it diagnosable"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with instance addresses.
    #[command(subcommand)]
    Instance(instance::InstanceCommand),
    /// Run the local ServiceNow simulator until Ctrl-C.
    Sim(sim::SimArgs),
    /// Create or update a connection and sign in with its grant.
    Connect(connection::ConnectArgs),
    /// Change a connection or rotate a secret, then test it (nothing is kept if it fails).
    Edit(connection::EditArgs),
    /// Link your own ServiceNow account to a connection (browser sign-in).
    Link(connection::LinkArgs),
    /// Unlink your account: revoke and delete its tokens.
    Unlink(connection::UnlinkArgs),
    /// Remove a connection: revoke its tokens and delete its secrets.
    Remove(connection::RemoveArgs),
    /// Connections, their state, token expiry and linked identity.
    Status(connection::StatusArgs),
    /// Diagnose a connection layer by layer, with the fix for each problem.
    Doctor(doctor::DoctorArgs),
    /// The integrations Snowlink can set up, step by step.
    Profiles(profiles::ProfilesArgs),
    /// Set up an integration on an instance, verifying each step (--auto does what it can).
    Setup(setup::SetupArgs),
    /// The admin sign-ins remembered on this computer: list or forget them.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Write an integration's update set (XML) to import by hand.
    UpdateSet(update_set::UpdateSetArgs),
    /// The desktop app's engine: answers the app's requests on standard input and output
    /// (JSON lines) until standard input closes. Started by the app; not for people.
    #[command(hide = true)]
    Serve,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Instance(command) => instance::run(command),
        Command::Sim(args) => sim::run(args),
        Command::Connect(args) => connection::connect(args),
        Command::Edit(args) => connection::edit(args),
        Command::Link(args) => connection::link(args),
        Command::Unlink(args) => connection::unlink(args),
        Command::Remove(args) => connection::remove(args),
        Command::Status(args) => connection::status(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Profiles(args) => profiles::list(args),
        Command::Setup(args) => setup::run(args),
        Command::UpdateSet(args) => update_set::write(args),
        Command::Admin(command) => admin::run(command),
        Command::Serve => serve(),
    }
}

fn serve() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            output::eprint_line(&format!("error: could not start the async runtime: {err}"));
            return ExitCode::FAILURE;
        }
    };
    let bridge = snowlink_bridge::Bridge::from_environment();
    let served = runtime.block_on(snowlink_bridge::serve(
        bridge,
        tokio::io::stdin(),
        tokio::io::stdout(),
    ));
    // In-flight requests (a sign-in waiting) end with the app that asked for them.
    runtime.shutdown_background();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            output::eprint_line(&format!(
                "error: the app's requests could not be read: {err}"
            ));
            ExitCode::FAILURE
        }
    }
}

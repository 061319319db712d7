//! `snowlink`: the terminal face of Snowlink for support engineers and scripts. Every command
//! is a thin layer over `snowlink-core`; exit code 0 on success, 1 on a failure, 2 on bad usage.

mod instance;
mod output;
mod sim;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Instance(command) => instance::run(command),
        Command::Sim(args) => sim::run(args),
    }
}

//! `snowlink instance parse TEXT`: shows how Snowlink reads an instance address, exactly as the
//! desktop app's first wizard screen does.

use std::process::ExitCode;

use clap::Subcommand;
use snowlink_core::InstanceUrlView;
use snowlink_core::flows::FlowError;

use crate::output::{fail, print_json, print_line};

#[derive(Subcommand)]
pub enum InstanceCommand {
    /// Normalize what a person typed (acme, acme.service-now.com, a deep link, a custom domain).
    Parse {
        /// The instance name or address.
        text: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: InstanceCommand) -> ExitCode {
    match command {
        InstanceCommand::Parse { text, json } => match InstanceUrlView::parse(&text) {
            Ok(view) if json => print_json(&view),
            Ok(view) => print_line(&view.url),
            Err(err) => fail(&FlowError::from(err).view(), json),
        },
    }
}

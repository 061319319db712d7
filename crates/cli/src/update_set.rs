//! `snowlink update-set`: an integration's update set written as XML, for an admin to import
//! by hand (System Update Sets → Retrieved Update Sets → Import Update Set from XML).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use snowlink_core::errors::ErrorView;
use snowlink_core::wizard::run::{export_update_set, input_pair};

use crate::output::{fail, print_line};
use crate::profiles::{catalog, warn_problems};

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

/// `ID=VALUE` pairs.
pub fn parse_inputs(pairs: &[String]) -> Result<Vec<(String, String)>, ErrorView> {
    pairs
        .iter()
        .map(|pair| input_pair(pair).map_err(|err| err.view()))
        .collect()
}

pub fn write(args: UpdateSetArgs) -> ExitCode {
    let written = catalog().and_then(|catalog| {
        warn_problems(&catalog);
        export_update_set(
            &catalog,
            &args.profile,
            &args.instance,
            parse_inputs(&args.inputs)?,
            &args.output,
        )
        .map_err(|err| err.view())
    });
    match written {
        Ok(message) => print_line(&message),
        Err(view) => fail(&view, false),
    }
}

//! `snowlink profiles`: the integrations Snowlink can set up, built in and from the config
//! folder, and each profile file that cannot be used with the field and the fix.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use snowlink_core::connections::ConnectionStore;
use snowlink_core::errors::ErrorView;
use snowlink_core::flows::FlowError;
use snowlink_core::profiles::Catalog;

use crate::output::{eprint_line, fail, print_json, print_line};

#[derive(Args)]
pub struct ProfilesArgs {
    #[arg(long)]
    json: bool,
}

/// The connections file, beside which the profiles and setups live.
pub fn config_file() -> Result<PathBuf, ErrorView> {
    Ok(ConnectionStore::in_config_dir()
        .map_err(|err| FlowError::from(err).view())?
        .path()
        .to_owned())
}

/// The built-in profiles and the config folder's own.
pub fn catalog() -> Result<Catalog, ErrorView> {
    Ok(Catalog::beside(&config_file()?))
}

/// Each profile file that cannot be used, on standard error; the others still work.
pub fn warn_problems(catalog: &Catalog) {
    for problem in catalog.problems() {
        eprint_line(&format!(
            "warning: {problem}\n  fix: {} (the other profiles work)",
            problem.hint()
        ));
    }
}

pub fn list(args: ProfilesArgs) -> ExitCode {
    let catalog = match catalog() {
        Ok(catalog) => catalog,
        Err(view) => return fail(&view, args.json),
    };
    let listed = catalog.list();
    if args.json {
        return print_json(&listed);
    }
    warn_problems(&catalog);
    let lines: Vec<String> = listed
        .profiles
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

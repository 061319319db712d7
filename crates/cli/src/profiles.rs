//! `snowlink profiles`: the integrations Snowlink can set up, built in and from the config
//! folder, and each profile file that cannot be used with the field and the fix;
//! `snowlink profiles show ID`: one integration's every step, to read before starting.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use snowlink_core::connections::ConnectionStore;
use snowlink_core::errors::ErrorView;
use snowlink_core::flows::FlowError;
use snowlink_core::instance::InstanceUrl;
use snowlink_core::profiles::Catalog;
use snowlink_core::wizard::recipe;

use crate::output::{eprint_line, fail, print_json, print_line};
use crate::update_set::parse_inputs;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ProfilesArgs {
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    show: Option<Show>,
}

#[derive(Subcommand)]
enum Show {
    /// Every step of one integration, rendered for an instance: instructions, values, links,
    /// the roles and ACLs Snowlink checks, what it can do itself. Markdown (a change request to
    /// paste) unless `--json`; no secret is ever in it.
    Show(ShowArgs),
}

#[derive(Args)]
struct ShowArgs {
    /// The integration (`snowlink profiles` lists them).
    id: String,
    /// The instance: `acme`, `acme.service-now.com` or its full address (links need it).
    #[arg(long)]
    instance: Option<String>,
    /// A value known already, `ID=VALUE` (repeatable); secrets are never shown.
    #[arg(long = "input", value_name = "ID=VALUE")]
    inputs: Vec<String>,
    /// Markdown (the default).
    #[arg(long, conflicts_with = "json")]
    markdown: bool,
    #[arg(long)]
    json: bool,
}

/// `profiles show ID`: the recipe, in Markdown or JSON.
fn show(args: ShowArgs) -> ExitCode {
    let shown = || -> Result<snowlink_core::wizard::Recipe, ErrorView> {
        let catalog = catalog()?;
        let profile = catalog.get(&args.id).map_err(|err| err.view())?;
        let instance = args
            .instance
            .as_deref()
            .map(InstanceUrl::parse)
            .transpose()
            .map_err(|err| FlowError::from(err).view())?;
        let inputs = parse_inputs(&args.inputs)?.into_iter().collect();
        Ok(recipe(profile, instance.as_ref(), &inputs))
    };
    match shown() {
        Ok(recipe) if args.json => print_json(&recipe),
        Ok(recipe) => print_line(&recipe.markdown()),
        Err(view) => fail(&view, args.json),
    }
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
    if let Some(Show::Show(shown)) = args.show {
        return show(shown);
    }
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

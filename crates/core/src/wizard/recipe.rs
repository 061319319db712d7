//! The whole setup before it starts ("Read all steps"): every step of a profile rendered for an
//! instance and the values known so far, with what Snowlink checks and what it can do itself —
//! the text of a change request an admin gets approved before touching production. No secret
//! is in it; a value not known yet reads as the vendor pages write it (`<atlan_instance_name>`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::WizardState;
use super::view::{StepView, view};
use crate::ids::ConnectionId;
use crate::instance::InstanceUrl;
use crate::profiles::{Profile, StepKind};

/// One step of the recipe: the step as the wizard shows it, and what Snowlink checks.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecipeStep {
    pub step: StepView,
    /// Snowlink can do the step for the admin ("Do it for me").
    pub automated: bool,
    /// The roles the step's account must have (any one of `rolesSufficient` instead).
    pub roles: Vec<String>,
    pub roles_sufficient: Vec<String>,
    /// The tables the step's ACLs open, with their operations: "task: read, write".
    pub acls: Vec<String>,
}

/// Every step of a profile, rendered.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipe {
    pub profile: String,
    pub profile_name: String,
    pub vendor: String,
    pub summary: String,
    pub source: String,
    /// The instance it was rendered for, when one was given.
    pub instance: Option<String>,
    pub steps: Vec<RecipeStep>,
}

/// `profile`'s steps rendered for `instance` (links need one) and the typed `inputs`.
pub fn recipe(
    profile: &Profile,
    instance: Option<&InstanceUrl>,
    inputs: &BTreeMap<String, String>,
) -> Recipe {
    // The state's instance and draft are only for rendering: nothing is saved.
    let fallback = InstanceUrl::parse("instance").ok();
    let (Some(url), Ok(draft)) = (
        instance.or(fallback.as_ref()),
        ConnectionId::parse("recipe"),
    ) else {
        return empty(profile);
    };
    let mut state = WizardState::new(profile, url, draft);
    if instance.is_none() {
        state.instance = String::new();
    }
    for (id, value) in inputs {
        if profile.input(id).is_some_and(|i| !i.secret) {
            state.inputs.insert(id.clone(), value.clone());
        }
    }
    let steps = profile
        .steps
        .iter()
        .map(|step| {
            state.current = step.id.clone();
            let mut shown = view(profile, &state).current;
            shown.instructions = vendor_form(&shown.instructions);
            for value in &mut shown.values {
                value.value = vendor_form(&value.value);
            }
            RecipeStep {
                step: shown,
                automated: step.automation,
                roles: step.verify.roles.clone(),
                roles_sufficient: step.verify.roles_sufficient.clone(),
                acls: step
                    .verify
                    .tables
                    .iter()
                    .map(|t| format!("{}: {}", t.table, t.operations.join(", ")))
                    .collect(),
            }
        })
        .collect();
    Recipe {
        instance: instance.map(ToString::to_string),
        steps,
        ..empty(profile)
    }
}

fn empty(profile: &Profile) -> Recipe {
    Recipe {
        profile: profile.id.clone(),
        profile_name: profile.name.clone(),
        vendor: profile.vendor.clone(),
        summary: profile.summary.clone(),
        source: profile.source.clone(),
        instance: None,
        steps: Vec::new(),
    }
}

/// A value not known yet, as vendor pages write one: `<name>`, not the wizard's `‹name›`.
fn vendor_form(text: &str) -> String {
    text.replace('‹', "<").replace('›', ">")
}

impl Recipe {
    /// The recipe as Markdown: a change request to paste.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let on = self
            .instance
            .as_deref()
            .map(|i| format!(" on {i}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "# Set up {} ({}){on}\n\n{}\n\nFollows: {}\n",
            self.profile_name, self.vendor, self.summary, self.source
        );
        for recipe_step in &self.steps {
            let step = &recipe_step.step;
            let _ = writeln!(out, "## {}. {}\n", step.number, step.title);
            if let Some(menu) = &step.menu {
                let _ = writeln!(out, "Where: {menu}\n");
            }
            let _ = writeln!(out, "{}\n", step.instructions);
            for value in &step.values {
                let _ = writeln!(out, "- {}: `{}`", value.label, value.value);
            }
            for link in &step.links {
                let _ = writeln!(out, "- {}: <{}>", link.label, link.url);
            }
            if !recipe_step.roles.is_empty() {
                let instead = if recipe_step.roles_sufficient.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (or {} instead)",
                        recipe_step.roles_sufficient.join(" or ")
                    )
                };
                let _ = writeln!(
                    out,
                    "- Roles checked: {}{instead}",
                    recipe_step.roles.join(", ")
                );
            }
            for acl in &recipe_step.acls {
                let _ = writeln!(out, "- ACL checked: {acl}");
            }
            if let Some(set) = &step.update_set_name {
                let _ = writeln!(out, "- Update set: {set}");
            }
            let who = if recipe_step.automated {
                "Snowlink can do this step for you after showing its plan; it checks it either way."
            } else if step.by_hand {
                "Done by an admin on the instance; Snowlink checks it."
            } else if step.kind == StepKind::Info {
                "Nothing to check on the instance: you read it, or do it outside ServiceNow."
            } else {
                "Snowlink checks it."
            };
            let _ = writeln!(out, "\n{who}\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_of_every_built_in_profile_renders_with_no_placeholder_left_once_its_inputs_are_typed()
     {
        let catalog = crate::profiles::Catalog::load(None);
        let instance = InstanceUrl::parse("acme").unwrap();
        for profile in catalog.profiles() {
            let mut state = WizardState::new(
                profile,
                &instance,
                ConnectionId::random_with_prefix("c").unwrap(),
            );
            for input in profile.steps.iter().flat_map(|s| &s.inputs) {
                state
                    .inputs
                    .entry(input.id.clone())
                    .or_insert_with(|| format!("typed-{}", input.id));
            }
            let context = state.template_context(profile, &crate::oauth::callback_urls());
            for step in &profile.steps {
                let texts = std::iter::once(&step.instructions)
                    .chain(step.values.iter().map(|v| &v.value))
                    .chain(step.links.iter().map(|l| &l.target));
                for text in texts {
                    let shown = crate::profiles::render(text, &context);
                    assert!(
                        !shown.contains('‹') && !shown.contains('{'),
                        "{} / {}: {shown}",
                        profile.id,
                        step.id
                    );
                }
            }
        }
    }
}

//! "Hand this step to another admin": the current step as a ready request — what to do, the
//! values to paste, the records it needs — with nothing secret in it. The setup resumes when
//! the other admin is done: the step is verified as if it had been done here.

use super::WizardState;
use crate::profiles::{Profile, StepKind, render};

/// The request text for `step_id`.
pub fn handoff_text(profile: &Profile, state: &WizardState, step_id: &str) -> Option<String> {
    let step = profile.step(step_id)?;
    let context = state.template_context(profile, &crate::oauth::callback_urls());
    let instance = context.values.get("instance").cloned().unwrap_or_default();
    let mut lines = vec![
        format!(
            "Hello, could you do this on {instance} for the {} integration ({})?",
            profile.name, profile.vendor
        ),
        String::new(),
        format!("{}", step.title),
    ];
    if let Some(menu) = &step.menu {
        lines.push(format!("Where: {}", render(menu, &context)));
    }
    lines.push(String::new());
    lines.push(render(&step.instructions, &context));
    if !step.values.is_empty() {
        lines.push(String::new());
        lines.push("Values:".into());
        for value in &step.values {
            lines.push(format!(
                "  {}: {}",
                value.label,
                render(&value.value, &context)
            ));
        }
    }
    let v = &step.verify;
    match step.kind {
        StepKind::Roles if !v.roles.is_empty() => {
            lines.push(String::new());
            lines.push(format!("Roles needed: {}", v.roles.join(", ")));
            if !v.roles_sufficient.is_empty() {
                lines.push(format!("(or instead: {})", v.roles_sufficient.join(", ")));
            }
        }
        StepKind::Acls => {
            lines.push(String::new());
            lines.push("ACLs needed (type record, decision Allow If, admin overrides):".into());
            for table in &v.tables {
                for operation in &table.operations {
                    let role = step.acl_role.as_deref().unwrap_or("the integration's role");
                    lines.push(format!(
                        "  {} / {operation}, requires role {role}",
                        table.table
                    ));
                }
            }
        }
        StepKind::UpdateSet => {
            if let Some(set) = &profile.update_set {
                lines.push(String::new());
                lines.push(format!(
                    "Update set: {} (Snowlink can give you the XML file).",
                    set.name
                ));
            }
        }
        _ => {}
    }
    let asked: Vec<&str> = step
        .inputs
        .iter()
        .filter(|i| !i.secret)
        .map(|i| i.label.as_str())
        .collect();
    let secret: Vec<&str> = step
        .inputs
        .iter()
        .filter(|i| i.secret)
        .map(|i| i.label.as_str())
        .collect();
    if !asked.is_empty() || !secret.is_empty() {
        lines.push(String::new());
        let mut back = asked.join(", ");
        if !secret.is_empty() {
            if !back.is_empty() {
                back.push_str("; ");
            }
            back.push_str(&format!(
                "and, through a secure channel, {}",
                secret.join(", ")
            ));
        }
        lines.push(format!("Please send me back: {back}."));
    }
    lines.push(String::new());
    lines.push("Snowlink will check it on the instance as soon as you are done.".into());
    Some(lines.join("\n"))
}

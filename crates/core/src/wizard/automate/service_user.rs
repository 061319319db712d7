//! The integration's service user, created or set right.

use super::{AutomateError, Context, Learned, Plan, PlannedAction, change, find, step_value};
use crate::api::{EncodedQuery, field};
use crate::grants::GrantKind;
use crate::profiles::Step;

/// The user-name and password inputs of the service-user step.
pub fn service_inputs(
    step: &Step,
) -> (
    Option<&crate::profiles::Input>,
    Option<&crate::profiles::Input>,
) {
    (
        step.inputs.iter().find(|i| !i.secret),
        step.inputs.iter().find(|i| i.secret),
    )
}

pub(super) async fn work(
    ctx: &Context<'_>,
    step: &Step,
    apply: bool,
    plan: &mut Plan,
    learned: &mut Learned,
) -> Result<(), AutomateError> {
    let user = ctx
        .service_user
        .clone()
        .ok_or_else(|| AutomateError::NoUser("(no name yet)".into()))?;
    let (_, password_input) = service_inputs(step);
    // An account that signs in in the browser (an authorization-code integration) must be
    // allowed the UI; any other is kept to web services.
    let web_only = if ctx.profile.grant == GrantKind::AuthCode {
        "false"
    } else {
        "true"
    };
    let wanted = [
        ("active", "true"),
        ("locked_out", "false"),
        ("password_needs_reset", "false"),
        ("web_service_access_only", web_only),
    ];
    let existing = find(
        ctx.admin,
        "sys_user",
        EncodedQuery::default().eq("user_name", &user)?,
        &[
            "sys_id",
            "active",
            "locked_out",
            "password_needs_reset",
            "web_service_access_only",
        ],
    )
    .await?;
    let new_password = ctx.service_password.is_none();
    match existing {
        Some(record) => {
            let wrong: Vec<(&str, String)> = wanted
                .iter()
                .filter(|(f, v)| field(&record, f) != Some(*v))
                .map(|(f, v)| (*f, (*v).to_owned()))
                .collect();
            let fields = wrong.clone();
            let mut what: Vec<String> = wrong.iter().map(|(f, v)| format!("{f} = {v}")).collect();
            if new_password {
                what.push("a new generated password".into());
            }
            if what.is_empty() {
                change(
                    plan,
                    PlannedAction::Keep,
                    "sys_user",
                    format!("User {user}"),
                );
                return Ok(());
            }
            change(
                plan,
                PlannedAction::Update,
                "sys_user",
                format!("User {user}: {}", what.join(", ")),
            );
            if apply {
                let id = field(&record, "sys_id").unwrap_or_default().to_owned();
                if !fields.is_empty() {
                    ctx.update("sys_user", &record, format!("User {user}"), &fields)
                        .await?;
                }
                if new_password {
                    let password = super::generated_secret(24)?;
                    set_password(ctx, (&id, &user), &password).await?;
                    if let Some(input) = password_input {
                        learned.secrets.insert(input.id.clone(), password);
                    }
                }
            }
        }
        None => {
            change(
                plan,
                PlannedAction::Create,
                "sys_user",
                format!(
                    "User {user}: {}, {}",
                    if web_only == "true" {
                        "web service access only, identity type Machine"
                    } else {
                        "identity type Human (it signs in in the browser)"
                    },
                    if new_password {
                        "a generated password"
                    } else {
                        "the password you typed"
                    }
                ),
            );
            if apply {
                let password = match &ctx.service_password {
                    Some(typed) => typed.clone(),
                    None => super::generated_secret(24)?,
                };
                let mut fields: Vec<(&str, String)> =
                    wanted.iter().map(|(f, v)| (*f, (*v).to_owned())).collect();
                // The names the step gives ("Atlan", "Service"), else the connection's.
                let first = step_value(ctx, step, "First name")?
                    .unwrap_or_else(|| ctx.connection_name.to_owned());
                let last =
                    step_value(ctx, step, "Last name")?.unwrap_or_else(|| "Integration".into());
                if let Some(email) = step_value(ctx, step, "Email")? {
                    fields.push(("email", email));
                }
                fields.extend([
                    ("user_name", user.clone()),
                    ("first_name", first),
                    ("last_name", last),
                    (
                        "identity_type",
                        if web_only == "true" {
                            "Machine"
                        } else {
                            "Human"
                        }
                        .to_owned(),
                    ),
                ]);
                let created = ctx
                    .create("sys_user", format!("User {user}"), &fields)
                    .await?;
                let id = field(&created, "sys_id").unwrap_or_default().to_owned();
                set_password(ctx, (&id, &user), &password).await?;
                if let Some(input) = password_input {
                    learned.secrets.insert(input.id.clone(), password);
                }
            }
        }
    }
    Ok(())
}

/// Sets the user's password as the instance hashes it (with `sysparm_input_display_value`;
/// without it the text is stored as it is and no sign-in matches, servicenow.md item 31), and
/// clears "password needs reset" in the same write. The step's verification then signs in as
/// the user, which proves it.
async fn set_password(
    ctx: &Context<'_>,
    (user_id, user): (&str, &str),
    password: &str,
) -> Result<(), AutomateError> {
    ctx.set_secrets(
        "sys_user",
        user_id,
        format!("User {user}"),
        &[
            ("user_password", password.to_owned()),
            ("password_needs_reset", "false".to_owned()),
        ],
        &["user_password"],
    )
    .await
}

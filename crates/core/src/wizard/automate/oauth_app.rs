//! The OAuth application of the integration, created or set right in the Application Registry.

use super::{AutomateError, Context, Learned, Plan, PlannedAction, change, find, object};
use crate::api::{EncodedQuery, field};
use crate::grants::GrantKind;
use crate::profiles::Step;

pub(super) async fn work(
    ctx: &Context<'_>,
    step: &Step,
    apply: bool,
    plan: &mut Plan,
    learned: &mut Learned,
) -> Result<(), AutomateError> {
    let name = ctx.connection_name;
    let wanted_redirects = if ctx.profile.grant == GrantKind::AuthCode {
        crate::oauth::callback_urls().join(",")
    } else {
        String::new()
    };
    let existing = find(
        ctx.admin,
        "oauth_entity",
        EncodedQuery::default().eq("name", name)?,
        &[
            "sys_id",
            "client_id",
            "client_secret",
            "redirect_url",
            "active",
        ],
    )
    .await?;
    let record = match existing {
        Some(record) => {
            let registered = field(&record, "redirect_url").unwrap_or_default();
            let missing = !wanted_redirects.is_empty()
                && wanted_redirects.split(',').any(|u| !registered.contains(u));
            let inactive = field(&record, "active") == Some("false");
            if missing || inactive {
                change(
                    plan,
                    PlannedAction::Update,
                    "oauth_entity",
                    format!(
                        "OAuth application {name}: {}",
                        if missing {
                            format!("Redirect URL {wanted_redirects}")
                        } else {
                            "Active".into()
                        }
                    ),
                );
                if apply {
                    let id = field(&record, "sys_id").unwrap_or_default().to_owned();
                    let mut fields = vec![("active", "true".to_owned())];
                    if missing {
                        fields.push(("redirect_url", wanted_redirects.clone()));
                    }
                    ctx.admin
                        .update("oauth_entity", &id, &object(&fields))
                        .await?;
                }
            } else {
                change(
                    plan,
                    PlannedAction::Keep,
                    "oauth_entity",
                    format!("OAuth application {name}"),
                );
            }
            record
        }
        None => {
            change(
                plan,
                PlannedAction::Create,
                "oauth_entity",
                format!(
                    "OAuth application {name}{}",
                    if wanted_redirects.is_empty() {
                        String::new()
                    } else {
                        format!(" with Redirect URL {wanted_redirects}")
                    }
                ),
            );
            if !apply {
                return Ok(());
            }
            let fields = [
                ("name", name.to_owned()),
                ("redirect_url", wanted_redirects.clone()),
                ("active", "true".to_owned()),
                ("access_token_lifespan", "1800".to_owned()),
                ("refresh_token_lifespan", "8640000".to_owned()),
            ];
            ctx.admin.create("oauth_entity", &object(&fields)).await?
        }
    };
    // The registry generates both; the secret is readable by an admin over the Table API
    // (unverified on every release: if it is empty, the step asks for it).
    for input in &step.inputs {
        let source = match input.field {
            Some(crate::errors::InputField::ClientId) => "client_id",
            Some(crate::errors::InputField::ClientSecret) => "client_secret",
            _ => continue,
        };
        if let Some(value) = field(&record, source).filter(|v| !v.is_empty()) {
            if input.secret {
                learned.secrets.insert(input.id.clone(), value.to_owned());
            } else {
                learned.inputs.insert(input.id.clone(), value.to_owned());
            }
        }
    }
    Ok(())
}

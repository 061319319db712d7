//! The OAuth application of the integration, created or set right in the Application Registry.

use super::{AutomateError, Context, Learned, Plan, PlannedAction, change, find};
use crate::api::{EncodedQuery, field};
use crate::errors::InputField;
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
    let secret_input = step
        .inputs
        .iter()
        .find(|i| i.field == Some(InputField::ClientSecret));
    // A secret can never be read back (servicenow.md item 32): one Snowlink does not hold
    // yet is generated and set.
    let new_secret = secret_input.is_some() && !ctx.client_secret_known;
    let existing = find(
        ctx.admin,
        "oauth_entity",
        EncodedQuery::default().eq("name", name)?,
        &["sys_id", "client_id", "redirect_url", "active"],
    )
    .await?;
    let record = match existing {
        Some(record) => {
            let registered = field(&record, "redirect_url").unwrap_or_default();
            let missing = !wanted_redirects.is_empty()
                && wanted_redirects.split(',').any(|u| !registered.contains(u));
            let inactive = field(&record, "active") == Some("false");
            let mut what = Vec::new();
            if missing {
                what.push(format!("Redirect URL {wanted_redirects}"));
            }
            if inactive {
                what.push("Active".to_owned());
            }
            if new_secret {
                what.push(
                    "a new client secret (anything using the old one must be given it)".to_owned(),
                );
            }
            if what.is_empty() {
                change(
                    plan,
                    PlannedAction::Keep,
                    "oauth_entity",
                    format!("OAuth application {name}"),
                );
            } else {
                change(
                    plan,
                    PlannedAction::Update,
                    "oauth_entity",
                    format!("OAuth application {name}: {}", what.join(", ")),
                );
            }
            if apply && (missing || inactive) {
                let mut fields = vec![("active", "true".to_owned())];
                if missing {
                    fields.push(("redirect_url", wanted_redirects.clone()));
                }
                ctx.update(
                    "oauth_entity",
                    &record,
                    format!("OAuth application {name}"),
                    &fields,
                )
                .await?;
            }
            record
        }
        None => {
            change(
                plan,
                PlannedAction::Create,
                "oauth_entity",
                format!(
                    "OAuth application {name}{}, with a client secret Snowlink generates",
                    if wanted_redirects.is_empty() {
                        String::new()
                    } else {
                        format!(" and Redirect URL {wanted_redirects}")
                    }
                ),
            );
            if !apply {
                return Ok(());
            }
            let fields = [
                ("name", name.to_owned()),
                ("type", "client".to_owned()),
                ("redirect_url", wanted_redirects.clone()),
                ("active", "true".to_owned()),
                ("access_token_lifespan", "1800".to_owned()),
                ("refresh_token_lifespan", "8640000".to_owned()),
            ];
            ctx.create("oauth_entity", format!("OAuth application {name}"), &fields)
                .await?
        }
    };
    if !apply {
        return Ok(());
    }
    // The registry generates the client ID on insert; it is read-only and readable.
    if let (Some(input), Some(client_id)) = (
        step.inputs
            .iter()
            .find(|i| i.field == Some(InputField::ClientId)),
        field(&record, "client_id").filter(|v| !v.is_empty()),
    ) {
        learned
            .inputs
            .insert(input.id.clone(), client_id.to_owned());
    }
    if let Some(input) = secret_input.filter(|_| new_secret) {
        let secret = super::generated_secret(40)?;
        let id = field(&record, "sys_id").unwrap_or_default().to_owned();
        ctx.set_secrets(
            "oauth_entity",
            &id,
            format!("OAuth application {name}"),
            &[("client_secret", secret.clone())],
            &["client_secret"],
        )
        .await?;
        learned.secrets.insert(input.id.clone(), secret);
    }
    Ok(())
}
